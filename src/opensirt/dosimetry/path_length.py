"""Fast heterogeneous voxel dosimetry: the straight-line path-length scaled point kernel.

The dose at ``x`` from a decay at ``x'`` is ``E K_w(d) d^2 / r^2`` with ``r = |x - x'|``,
``d`` the unit-density distance (the integral of density along the segment) and
``K_w`` the soft-tissue dose point kernel (:func:`~opensirt.dosimetry.kernels.point_kernel`).
With every voxel modelled as the kernel's medium at its density, this is exact in a uniform medium
(O'Connor's scaling theorem: O'Connor 1957, Phys Med Biol 1:352) and for laterally uniform
sources in any laminar (slab) geometry, where the exact dose depends only on mass depth;
elsewhere it neglects the lateral transport of electrons across an interface (the
approximation of every path-length kernel method).

Computation (see docs/dosimetry.md, "Fast heterogeneous method (path-length)"):

1. The active voxels are sorted into a few *density classes* (densities within 10 % of
   each other, at most :data:`MAX_CLASSES`; densities below 0.2 g/mL use the 0.2 g/mL
   kernel) and each class's decays are convolved (FFT, on the bounding box of the
   activity) with the voxel energy kernel range-scaled to the class density
   (:func:`~opensirt.dosimetry.kernels.energy_kernel`). For a source whose electrons meet
   only its own density this *is* the path-length answer. In voxels
   :data:`LIGHT_TARGET_RATIO` times lighter than a class (air), that class's convolution is
   left out.
2. Source voxels with a voxel of a density more than 20 % different within the radius
   holding 99 % of their energy (or air within 99.9 %) cast rays
   (:mod:`opensirt.dosimetry._path_rays`; :data:`DEFAULT_RAYS_PER_VOXEL` for the hottest
   voxels close to an interface, fewer farther away and for colder voxels): along each,
   the path-length energy minus the energy the convolution gave (none in light voxels).
   This makes the dose of those sources the path-length dose, air included, up to the
   rays' sampling noise. The grid's edge counts as an interface (vacuum, as in the Monte
   Carlo).
3. Rays that leave dense medium for vacuum (the grid's edge, or air to the end of the ray)
   lose the backscatter of the medium that is not there: the energy they deposit is scaled
   by a factor fitted to the project's Monte Carlo
   (:mod:`opensirt.dosimetry._backscatter`).
4. Dose = absorbed energy / actual voxel mass (``rho V``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from opensirt.dosimetry._backscatter import SURFACE_DEFICITS, SurfaceDeficit
from opensirt.dosimetry._path_rays import (
    MAX_RAY_LENGTH_MM,
    CumulativeKernel,
    RayGrid,
    ray_corrections,
)
from opensirt.dosimetry.convolution import fft_convolve_sum
from opensirt.dosimetry.density import density_array
from opensirt.dosimetry.kernels import SOFT_TISSUE_DENSITY_G_PER_ML, energy_kernel, point_kernel
from opensirt.dosimetry.ldm import absorbed_energy_dose, decays_per_voxel, energy_per_decay_j
from opensirt.dosimetry.photon_kernel import photon_density_factor, photon_energy_kernel
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import JOULE_PER_MEV, Nuclide, NuclideName, get_nuclide

#: At most this many density classes (FFT convolutions); more are merged by widening them.
MAX_CLASSES = 4
#: Width of a density class: densities within this ratio share one range-scaled kernel.
CLASS_RATIO = 1.1
#: Lowest kernel density (g/mL): sources in air use this kernel, and rays for the rest.
MIN_KERNEL_DENSITY_G_PER_ML = 0.2
#: A voxel whose density differs from a source's class by more than this ratio is an
#: interface: the source gets rays.
INTERFACE_RATIO = 1.2
#: Rays by distance to an interface: (part of the absorbed energy inside the radius
#: searched, divisor of ``rays_per_voxel``), for the hottest 5 % of the active voxels;
#: colder ones get fewer, in proportion to their decays (at least
#: :data:`MIN_RAYS_PER_VOXEL`). Sources farther away than the last radius get no rays: at
#: most 1 % of their energy could cross an interface.
RAY_BANDS: tuple[tuple[float, int], ...] = ((0.5, 1), (0.9, 4), (0.99, 8))
#: Sources with a light voxel (:data:`LIGHT_TARGET_RATIO`) inside the radius holding this
#: part of their energy get rays (``rays_per_voxel`` over the divisor): there the dose
#: comes from the rays alone.
LIGHT_BAND = (0.999, 8)
#: Fewest rays from a ray-traced source voxel.
MIN_RAYS_PER_VOXEL = 8
#: In voxels this many times lighter than a class (air next to tissue), the class's
#: convolution is left out and its rays give all the energy: the difference of two large
#: energies would be noisy in such light voxels.
LIGHT_TARGET_RATIO = 8.0
#: Rays per source voxel near an interface.
DEFAULT_RAYS_PER_VOXEL = 128


def cumulative_kernel(nuclide: Nuclide | NuclideName | str) -> CumulativeKernel:
    """The soft-tissue point kernel of ``nuclide`` as a uniform table of absorbed-energy fraction.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.

    Returns
    -------
    CumulativeKernel
        ``F(d)``, the fraction of the emitted beta energy absorbed within the unit-density distance
        ``d`` (mm), 0 at 0.

    Raises
    ------
    InputError
        If the nuclide has no kernel.

    Examples
    --------
    >>> f = cumulative_kernel("Y-90")
    >>> round(float(f(np.array([5.38]))[0] / f.values[-1]), 2)
    0.9
    """
    dpk = point_kernel(nuclide)
    step = float(np.min(np.diff(dpk.r_mm, prepend=0.0)))
    grid = np.arange(0.0, dpk.r_mm[-1] + step / 2, step)
    values = np.interp(
        grid, np.concatenate([[0.0], dpk.r_mm]), np.concatenate([[0.0], dpk.cumulative_fraction])
    )
    n = int(np.searchsorted(values, values[-1])) + 2
    return CumulativeKernel(step, values[: min(n, values.size)])


def _density_classes(
    rho_active: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Class of each active voxel and the class densities (g/mL, 3 significant digits)."""
    logs = np.log(np.maximum(rho_active.astype(np.float64), MIN_KERNEL_DENSITY_G_PER_ML))
    width = math.log(CLASS_RATIO)
    while True:
        labels = np.rint(logs / width).astype(np.int64)
        unique, cls = np.unique(labels, return_inverse=True)
        if unique.size <= MAX_CLASSES:
            break
        width *= 2.0
    mean_log = np.bincount(cls, logs) / np.bincount(cls)
    densities = np.array([float(f"{v:.3g}") for v in np.exp(mean_log)])
    return cls.astype(np.int64), densities


def _box(active: npt.NDArray[np.bool_], margin: tuple[int, ...]) -> tuple[slice, slice, slice]:
    """Bounding box of ``active`` grown by ``margin`` voxels per axis, inside the grid."""
    out = []
    for axis, m in enumerate(margin):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(np.any(active, axis=other))
        out.append(slice(max(0, int(hit[0]) - m), min(active.shape[axis], int(hit[-1]) + 1 + m)))
    return out[0], out[1], out[2]


def _radius_voxels(radius_mm: float, spacing: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(math.ceil(radius_mm / h + 0.5) for h in spacing)


def _sources_near(
    other: npt.NDArray[np.bool_], sources: npt.NDArray[np.bool_], radius: tuple[int, ...]
) -> npt.NDArray[np.bool_]:
    """The ``sources`` with an ``other`` voxel within ``radius`` voxels (a box)."""
    if not np.any(sources):
        return sources
    box = _box(sources, radius)
    size = tuple(2 * r + 1 for r in radius)
    near = ndimage.maximum_filter(other[box].view(np.uint8), size=size, mode="constant") > 0
    out = np.zeros_like(sources)
    out[box] = near & sources[box]
    return out


def _convolved_energy(
    decays: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    classes: list[tuple[float, npt.NDArray[np.bool_]]],
    nuc: Nuclide,
    spacing: tuple[float, float, float],
    workers: int | None,
) -> npt.NDArray[np.float32]:
    """Decays x absorbed fraction per voxel: each class convolved with its kernel, kept in
    the voxels not much lighter than the class (:data:`LIGHT_TARGET_RATIO`)."""
    kernels = [energy_kernel(nuc, spacing, density_g_per_ml=c) for c, _ in classes]
    margin = tuple(max(k.shape[a] // 2 for k in kernels) for a in range(3))
    box = _box(decays != 0, margin)
    out = np.zeros(decays.shape, dtype=np.float32)
    light = rho[box]
    for (c, mask), kernel in zip(classes, kernels, strict=True):
        part = fft_convolve_sum(
            [(np.where(mask[box], decays[box], np.float32(0.0)), kernel)], workers=workers
        )
        part *= light * np.float32(LIGHT_TARGET_RATIO) >= np.float32(c)
        out[box] += part
    return out


def path_length_dose(
    activity: Volume,
    nuclide: Nuclide | NuclideName | str,
    *,
    density: Volume | float | None = None,
    dose_constant_gy_kg_per_gbq: float | None = None,
    workers: int | None = None,
    rays_per_voxel: int = DEFAULT_RAYS_PER_VOXEL,
    vacuum_deficit: bool = True,
    decay_photons: bool = True,
) -> Volume:
    """Absorbed dose (Gy) by the straight-line path-length scaled point kernel.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity (see :func:`~opensirt.dosimetry.ldm.decays_per_voxel`),
        indexed ``[k, j, i]``, any voxel size.
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.
    density : Volume or float, optional
        Mass density (g/mL) on the activity grid (``density_from_ct``), or one value;
        default soft tissue, 1.04 g/mL.
    dose_constant_gy_kg_per_gbq : float, optional
        Conventional dose constant instead of the decay-data energy per decay.
    workers : int, optional
        FFT threads; default the thread policy's (:func:`opensirt._threads.fft_workers`).
    rays_per_voxel : int
        Rays cast from each source voxel near an interface (noise falls as its square root).
    vacuum_deficit : bool
        Correct for the backscatter missing where rays leave dense medium for vacuum (the
        grid's edge, or air to the end of a ray; docs/dosimetry.md, "Backscatter deficit at
        vacuum"). ``False`` gives the plain path-length dose, with the medium continuing
        beyond the grid's edge.
    decay_photons : bool
        Add the dose of the nuclide's gamma and x-ray lines (Ho-166;
        :mod:`~opensirt.dosimetry.photon_kernel`), which the beta kernel lacks. ``False``
        gives the betas alone, as the other kernel methods.

    Returns
    -------
    Volume
        Dose in Gy (float32) on the activity grid; ``metadata["method"]`` names the method.

    Raises
    ------
    InputError
        If the activity's units are not an activity, a value is not finite, a density is not
        > 0 g/mL, the nuclide has no kernel, the dose constant is not positive, or
        ``rays_per_voxel`` is below 8.
    GeometryError
        If a density map is not on the activity grid.
    """
    nuc = get_nuclide(nuclide)
    if not isinstance(rays_per_voxel, int) or rays_per_voxel < 8:
        raise InputError(
            f"rays_per_voxel is {rays_per_voxel!r}, expected an integer >= 8 (default "
            f"{DEFAULT_RAYS_PER_VOXEL})"
        )
    point_kernel(nuc)
    decays = decays_per_voxel(activity, nuc)
    rho = density_array(density, activity, SOFT_TISSUE_DENSITY_G_PER_ML)
    energy_j = energy_per_decay_j(nuc, dose_constant_gy_kg_per_gbq)
    surface = SURFACE_DEFICITS.get(str(nuc.name)) if vacuum_deficit else None
    absorbed, n_rays = _absorbed_in_reach(
        decays, rho, nuc, activity.spacing_zyx_mm, workers, (rays_per_voxel, surface)
    )
    photons = photon_energy_kernel(nuc.name, activity.spacing_zyx_mm) if decay_photons else None
    if photons is not None and np.any(decays):
        _add_photon_energy(
            absorbed, decays, rho, photons, np.float32(JOULE_PER_MEV / energy_j), workers,
            activity.spacing_zyx_mm, nuc.name,
        )  # fmt: skip
    return absorbed_energy_dose(
        activity,
        absorbed,
        rho,
        nuc,
        energy_j,
        method="path-length scaled point kernel",
        ray_traced_source_voxels=n_rays,
        decay_photons=photons is not None,
    )


def _add_photon_energy(
    absorbed: npt.NDArray[np.float32],
    decays: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    kernel: npt.NDArray[np.float64],
    beta_units_per_mev: np.float32,
    workers: int | None,
    spacing: tuple[float, float, float],
    nuclide: NuclideName,
) -> None:
    """Add the decay photons' energy (water's, charged to each voxel's mass ``rho / 1 g/mL``,
    times the path-length density factor of :func:`photon_density_factor`) to ``absorbed``,
    in units of the beta energy per decay, on the box the kernel reaches."""
    box = _box(decays != 0, tuple(n // 2 for n in kernel.shape))
    mev = fft_convolve_sum([(decays[box], kernel)], workers=workers)
    mev *= photon_density_factor(decays[box], rho[box], spacing, nuclide)
    absorbed[box] += mev * rho[box] * beta_units_per_mev


def _absorbed_in_reach(
    decays: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    nuc: Nuclide,
    spacing: tuple[float, float, float],
    workers: int | None,
    rays: tuple[int, SurfaceDeficit | None],
) -> tuple[npt.NDArray[np.float32], int]:
    """:func:`_absorbed` on the box that rays and kernels from the activity can reach."""
    active = decays != 0
    absorbed = np.zeros(decays.shape, dtype=np.float32)
    if not np.any(active):
        return absorbed, 0
    box = _box(active, _radius_voxels(MAX_RAY_LENGTH_MM, spacing))
    part, traced = _absorbed(
        np.ascontiguousarray(decays[box]),
        np.ascontiguousarray(rho[box]),
        nuc,
        spacing,
        workers,
        rays,
    )
    absorbed[box] = part
    return absorbed, traced


def _absorbed(
    decays: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    nuc: Nuclide,
    spacing: tuple[float, float, float],
    workers: int | None,
    rays: tuple[int, SurfaceDeficit | None],
) -> tuple[npt.NDArray[np.float32], int]:
    """Decays x absorbed fraction per voxel (float32), and the number of ray-traced sources
    (``rays``: rays per source voxel, the vacuum's backscatter-deficit model or None)."""
    active = decays != 0
    if not np.any(active):
        return np.zeros(decays.shape, dtype=np.float32), 0
    cls, densities = _density_classes(rho[active])
    labels = np.full(decays.shape, -1, dtype=np.int64)
    labels[active] = cls
    absorbed = _convolved_energy(
        decays,
        rho,
        [(float(c), labels == n) for n, c in enumerate(densities)],
        nuc,
        spacing,
        workers,
    )
    # rays in proportion to activity (rays of about equal weight), the hottest 5 % full
    hot = float(np.percentile(np.abs(decays[active]), 95))
    share = np.clip(np.abs(decays) / np.float32(hot), 0.0, 1.0).astype(np.float32)
    traced = 0
    for n, c in enumerate(densities):
        traced += _class_rays(
            decays, rho, labels == n, float(c), share, nuc, spacing, rays, absorbed
        )
    return absorbed, traced


def _class_rays(
    decays: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    c: float,
    share: npt.NDArray[np.float32],
    nuc: Nuclide,
    spacing: tuple[float, float, float],
    rays: tuple[int, SurfaceDeficit | None],
    absorbed: npt.NDArray[np.float32],
) -> int:
    """Add the ray corrections of the sources of the class of density ``c`` (``mask``) to
    ``absorbed``; return how many source voxels cast rays."""
    dpk = point_kernel(nuc)
    rays_per_voxel, surface = rays
    ratio = rho / np.float32(c)
    other = (ratio > INTERFACE_RATIO) | (ratio < 1.0 / INTERFACE_RATIO)
    bands = [(LIGHT_BAND, ratio < 1.0 / LIGHT_TARGET_RATIO)]
    bands += [(band, other) for band in reversed(RAY_BANDS)]
    n_rays = np.zeros(decays.shape, dtype=np.int64)
    for (fraction, divisor), near in bands:
        radius = _radius_voxels(dpk.radius_containing_mm(fraction) / c, spacing)
        band = _sources_near(near, mask, radius)
        if near is other and surface is not None:  # the grid's edge is vacuum: an interface
            band |= mask & _near_edge(mask.shape, radius)
        wanted = np.rint(share[band] * (rays_per_voxel / divisor)).astype(np.int64)
        n_rays[band] = np.maximum(MIN_RAYS_PER_VOXEL, wanted)
    sources = np.flatnonzero(n_rays)
    if sources.size:
        reach = _radius_voxels(dpk.max_radius_mm / c, spacing)
        correction = ray_corrections(
            RayGrid(rho, spacing, _clear_mm(other, mask, reach, spacing, surface is not None)),
            cumulative_kernel(nuc),
            sources,
            decays.ravel()[sources].astype(np.float64),
            c,
            n_rays.ravel()[sources],
            light_ratio=LIGHT_TARGET_RATIO,
            surface=surface,
        )
        absorbed += correction.astype(np.float32)
    return int(sources.size)


def _clear_mm(
    other: npt.NDArray[np.bool_],
    sources: npt.NDArray[np.bool_],
    reach: tuple[int, ...],
    spacing: tuple[float, float, float],
    edge: bool,
) -> npt.NDArray[np.float32]:
    """Lower bound of the distance (mm) to the nearest ``other`` voxel (and, if ``edge``, to
    the grid's edge), near the sources (chessboard distance times the smallest voxel side;
    0 elsewhere)."""
    box = _box(sources, reach)
    inside = ~other[box]
    clear = np.zeros(other.shape, dtype=np.float32)
    if np.any(inside):
        steps = ndimage.distance_transform_cdt(inside, metric="chessboard")
        if edge:  # the grid's edge (vacuum) bounds the clear stretches too
            axes = [
                np.minimum(np.arange(s.start, s.stop) + 1, n - np.arange(s.start, s.stop))
                for s, n in zip(box, other.shape, strict=True)
            ]
            to_edge = np.minimum(
                np.minimum(axes[0][:, None, None], axes[1][None, :, None]), axes[2][None, None, :]
            )
            steps = np.minimum(steps, to_edge)
        clear[box] = steps.astype(np.float32) * np.float32(min(spacing))
    return clear


def _near_edge(shape: tuple[int, ...], radius: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Voxels within ``radius`` voxels (a box) of the outside of the grid."""
    near = np.zeros(shape, dtype=bool)
    for axis, (n, r) in enumerate(zip(shape, radius, strict=True)):
        i = np.arange(n)
        hit = (i < r) | (i >= n - r)
        near |= hit.reshape([-1 if a == axis else 1 for a in range(3)])
    return near
