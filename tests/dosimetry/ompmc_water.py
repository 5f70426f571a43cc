"""ompMC (EGSnrc physics) in homogeneous water: point-source radii and the planar kernel.

Test helpers for the independent Monte Carlo check (see :mod:`ompmc_beta`, whose source and
transport they use): the radii holding 50 % and 90 % of the energy around a point source,
compared with the shipped kernel voxelised the same way, and ompMC's own planar kernel, which
makes the laminar reference of :mod:`dosimetry.laminar_reference` with ompMC's water physics
in place of the shipped kernel (separating transport differences from geometry).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dosimetry.laminar_reference import PlanarKernel
from dosimetry.ompmc_beta import sample_decays, transport, water_cube
from opensirt.dosimetry.kernels import PointKernel
from opensirt.physics.nuclides import JOULE_PER_MEV


def radial_radii_mm(
    energy: npt.NDArray[np.float64], voxel_mm: float, fractions: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """Radii (mm) holding ``fractions`` of the energy of a cube centred on a point source.

    The energy of each voxel is placed at its centre's distance from the cube's centre (the
    source), the cumulative sum taken in that order, and interpolated; applied to ompMC and to
    the voxelised water kernel alike, the binning bias cancels.

    Parameters
    ----------
    energy : numpy.ndarray
        (n, n, n) energy (any unit) of an odd cube of voxels.
    voxel_mm : float
        Voxel size (mm).
    fractions : tuple of float
        E.g. ``(0.5, 0.9)`` for X50 and X90.

    Returns
    -------
    numpy.ndarray
        One radius (mm) per fraction.
    """
    n = energy.shape[0]
    centre = (np.arange(n) - n // 2) * voxel_mm
    z, y, x = np.meshgrid(centre, centre, centre, indexing="ij")
    radius = np.sqrt(x * x + y * y + z * z).ravel()
    order = np.argsort(radius, kind="stable")
    cumulative = np.cumsum(energy.ravel()[order])
    return np.interp(np.asarray(fractions) * cumulative[-1], cumulative, radius[order])


def voxelised_kernel(
    kernel: PointKernel, n: int, voxel_mm: float, samples: int, seed: int
) -> npt.NDArray[np.float64]:
    """The water point kernel of a source at the centre of an odd ``n^3`` cube, per voxel.

    Distances drawn from the kernel's cumulative energy distribution (linear inside each
    shell), isotropic directions, tallied where they land: the same voxelisation as the ompMC
    tally.

    Parameters
    ----------
    kernel : PointKernel
        Water dose point kernel.
    n : int
        Odd voxels per axis.
    voxel_mm : float
        Voxel size (mm).
    samples : int
        Energy samples.
    seed : int
        Generator seed.

    Returns
    -------
    numpy.ndarray
        (n, n, n) fraction of the emitted energy absorbed in each voxel.
    """
    rng = np.random.default_rng(seed)
    u = rng.random(samples) * kernel.absorbed_fraction
    r = np.interp(u, np.r_[0.0, kernel.cumulative_fraction], np.r_[0.0, kernel.r_mm])
    cos_t = 2.0 * rng.random(samples) - 1.0
    phi = 2.0 * np.pi * rng.random(samples)
    sin_t = np.sqrt(1.0 - cos_t**2)
    points = np.column_stack((cos_t, sin_t * np.sin(phi), sin_t * np.cos(phi))) * r[:, None]
    index = np.floor(points / voxel_mm + n / 2.0).astype(np.int64)
    inside = np.all((index >= 0) & (index < n), axis=1)
    flat = np.ravel_multi_index(tuple(index[inside].T), (n, n, n))
    counts = np.bincount(flat, minlength=n**3).reshape(n, n, n)
    return counts * (kernel.absorbed_fraction / samples)


def point_source_energy(
    n: int, voxel_mm: float, histories: int, seed: int
) -> tuple[npt.NDArray[np.float64], float]:
    """ompMC: Y-90 point source at the centre of an odd ``n^3`` water cube, energy per voxel.

    Parameters
    ----------
    n : int
        Odd voxels per axis.
    voxel_mm : float
        Voxel size (mm).
    histories : int
        Decays.
    seed : int
        Seed (decays and ompMC).

    Returns
    -------
    tuple
        (n, n, n) fraction of the emitted energy absorbed per voxel; ompMC's deposited
        fraction.
    """
    from dosimetry.ompmc_beta import make_geometry

    cube = water_cube(n, voxel_mm, 0)
    centre = [n * voxel_mm / 20.0] * 3
    position, direction, kinetic = sample_decays(
        np.random.default_rng(seed), cube, histories, centre
    )
    dose, fraction = transport(make_geometry(cube), position, direction, kinetic, (seed, 1))
    mass_kg = (voxel_mm / 10.0) ** 3 * 1.0e-3
    return dose.T * mass_kg / JOULE_PER_MEV / kinetic.mean(), fraction


def ompmc_planar_kernel(histories: int, seed: int, step_mm: float = 0.1) -> PlanarKernel:
    """ompMC's Y-90 planar kernel in water: a point source in thin water layers.

    The energy a point source deposits per depth layer (all lateral positions together) is
    the planar kernel (lateral translation invariance). Layers of ``step_mm`` out to 12.05 mm
    on both sides, the source in the middle of the central one, folded onto ``|u|``.

    Parameters
    ----------
    histories : int
        Decays.
    seed : int
        Seed (decays and ompMC).
    step_mm : float, optional
        Layer thickness (mm).

    Returns
    -------
    PlanarKernel
    """
    import ompmc

    half = round(12.0 / step_mm)
    z = (np.arange(-half, half + 2) - 0.5) * step_mm / 10.0  # cm, source at z = 0
    lateral = np.array([-2.0, 2.0])  # cm, beyond the 1.12 cm range of 2.28 MeV electrons
    shape = (1, 1, z.size - 1)
    geometry = ompmc.Geometry(
        lateral, lateral, z, ["H2O521ICRU"], np.ones(shape, order="F"),
        np.ones(shape, dtype=np.int32, order="F"),
    )  # fmt: skip
    cube = water_cube(1, 1.0, 0)
    position, direction, kinetic = sample_decays(
        np.random.default_rng(seed), cube, histories, [0.0, 0.0, 0.0]
    )
    dose, _ = transport(geometry, position, direction, kinetic, (seed, 7))
    mass_kg = 4.0 * 4.0 * step_mm / 10.0 * 1.0e-3
    layers = dose[0, 0, :] * mass_kg / JOULE_PER_MEV / kinetic.mean()
    folded = layers[half:].copy()
    folded[1:] += layers[:half][::-1]
    edges = np.concatenate(([0.0], (np.arange(half + 1) + 0.5) * step_mm))
    return PlanarKernel(edges, folded)


#: ompMC's Y-90 planar kernel in water, tallied by ``benchmarks/independent_mc.py
#: --write-planar-kernel`` (regenerate with it; the file's header names the run).
PLANAR_KERNEL_CSV = "ompmc_y90_planar_kernel_water.csv"


def write_planar_kernel_csv(kernel: PlanarKernel, path: str, histories: int, seed: int) -> None:
    """Write ``kernel`` (folded bins, fraction per decay) as CSV with a provenance header.

    Parameters
    ----------
    kernel : PlanarKernel
    path : str
        Output file.
    histories, seed : int
        The run that tallied it (for the header).
    """
    lines = [
        "# Y-90 planar kernel in water (1 g/mL) from ompMC (EGSnrc physics, PEGS4 521icru,",
        "# ECUT 10 keV kinetic, PCUT 10 keV): point source in thin layers, folded onto |u|.",
        f"# Decays: {histories} (seed {seed}). Written by benchmarks/independent_mc.py.",
        "# Columns: u_lo_mm, u_hi_mm = |depth| bin (water mm); fraction = energy per decay",
        "# (fraction of the emitted beta energy).",
        "u_lo_mm,u_hi_mm,fraction",
    ]
    edges = kernel.edges_mm
    lines += [
        f"{lo:.4f},{hi:.4f},{f:.8e}"
        for lo, hi, f in zip(edges[:-1], edges[1:], kernel.fraction, strict=True)
    ]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def read_planar_kernel_csv(path: str) -> PlanarKernel:
    """Read a planar kernel written by :func:`write_planar_kernel_csv`.

    Parameters
    ----------
    path : str
        CSV file.

    Returns
    -------
    PlanarKernel
    """
    with open(path, encoding="utf-8") as source:
        rows = [line for line in source if line.strip() and not line.startswith(("#", "u_lo"))]
    table = np.loadtxt(rows, delimiter=",", ndmin=2)
    return PlanarKernel(np.concatenate(([table[0, 0]], table[:, 1])), table[:, 2])
