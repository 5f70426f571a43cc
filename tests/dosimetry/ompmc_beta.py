"""Driver for the independent Monte Carlo check: Y-90 beta sources inside ompMC voxel phantoms.

ompMC (Doerner et al., https://github.com/e0404/ompMC; GPL-3, a *test* dependency only, never
imported by ``opensirt``) re-implements the EGSnrc condensed-history electron/photon transport
(Kawrakow 2000, Med Phys 27:485, doi:10.1118/1.598917) with PEGS4 data. Its sources are beams,
plus IAEA phase-space files. An internal isotropic source is an IAEA phase space (Capote et
al. 2006, IAEA INDC(NDS)-0484) whose particles already lie inside the phantom: ompMC's reader
clips each particle's ray to the phantom box from ``t = 0`` ("already inside enters at once",
``enterPhantom`` in ``omc_source_phsp.c``), so it starts where it is, in its own voxel.
:func:`write_iaea_phsp` writes such a file: one electron per history (negative energy, the
format's new-history mark), positions uniform in the source voxels, isotropic directions,
kinetic energies from :func:`opensirt.dosimetry.beta_spectrum.beta_spectrum`.

Transport: PEGS4 ``521icru`` data, ECUT 0.521 MeV total (10 keV kinetic), PCUT 10 keV, no
photon splitting, no range rejection. Statistics: independent batches (own decays, own ompMC
seeds); the 1-sigma of a mean is the standard error of the batch means.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dosimetry.iaea_phsp import write_iaea_phsp
from opensirt.dosimetry.beta_spectrum import beta_spectrum
from opensirt.physics.nuclides import JOULE_PER_MEV

WATER = "H2O521ICRU"
TISSUE = "ICRUTISSUE521ICRU"
LUNG = "LUNG521ICRU"
#: ICRU 44 soft tissue and inflated lung densities of the slab tests (issue 13), g/mL.
TISSUE_DENSITY_G_PER_ML = 1.06
LUNG_DENSITY_G_PER_ML = 0.26
#: Issue 13's voxel size, mm.
VOXEL_MM = 4.42


@dataclass(frozen=True)
class Phantom:
    """A voxel phantom in the project's (k, j, i) = (z, y, x) order, C-contiguous.

    Attributes
    ----------
    voxel_mm : float
    density_g_per_ml : ndarray
        (k, j, i) float64.
    medium : ndarray
        (k, j, i) int32, index into ``media`` from 1.
    media : tuple of str
        PEGS4 medium names.
    source : ndarray
        (k, j, i) bool, where the activity is (uniform per volume).
    central : tuple of slice
        The (j, i) lateral region whose per-layer mean is tallied.
    """

    voxel_mm: float
    density_g_per_ml: npt.NDArray[np.float64]
    medium: npt.NDArray[np.int32]
    media: tuple[str, ...]
    source: npt.NDArray[np.bool_]
    central: tuple[slice, slice]

    @property
    def area_cm2(self) -> float:
        """Lateral area of the phantom (cm^2), over which the decays are spread."""
        _, nj, ni = self.density_g_per_ml.shape
        return nj * ni * (self.voxel_mm / 10.0) ** 2


@dataclass(frozen=True)
class SlabDose:
    """Mean dose per decay in each layer (k) over the central region, with 1-sigma.

    For the comparison with another Monte Carlo code: give it ``phantom.source`` as a uniform
    activity and ``phantom.density_g_per_ml`` on ``phantom.voxel_mm`` voxels, take
    :func:`central_layer_means` of its dose divided by its number of decays, and compare with
    :meth:`rescaled` (its energy per decay) layer by layer, with both sigmas.

    Attributes
    ----------
    phantom : Phantom
        The geometry and source (build the same activity Volume from ``phantom.source``).
    dose_gy : ndarray
        (k,) mean dose per decay (Gy) in the central region of each layer.
    sigma_gy : ndarray
        (k,) 1-sigma of ``dose_gy`` (standard error over the batches).
    batch_dose_gy : ndarray
        (batches, k) the per-batch layer means.
    emitted_mev : float
        Mean beta kinetic energy started per decay (the sampled spectrum's).
    deposited_fraction : float
        Energy deposited in the phantom / energy started (ompMC's tally).
    histories : int
    seed : int
    """

    phantom: Phantom
    dose_gy: npt.NDArray[np.float64]
    sigma_gy: npt.NDArray[np.float64]
    batch_dose_gy: npt.NDArray[np.float64]
    emitted_mev: float
    deposited_fraction: float
    histories: int
    seed: int

    def rescaled(
        self, emitted_mev: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Dose and 1-sigma per decay (Gy) for another mean beta energy per decay.

        For comparing with a code whose energy per decay differs from the sampled spectrum's
        (e.g. ICRP 107's 0.9327 MeV for Y-90): the spectrum shape is the same, so the dose
        scales with the energy.

        Parameters
        ----------
        emitted_mev : float
            Mean beta energy per decay (MeV) of the other code.

        Returns
        -------
        tuple of numpy.ndarray
            ``(dose_gy, sigma_gy)`` per layer.
        """
        scale = emitted_mev / self.emitted_mev
        return self.dose_gy * scale, self.sigma_gy * scale


def central_layer_means(dose: npt.NDArray[np.float64], phantom: Phantom) -> npt.NDArray[np.float64]:
    """Mean of a (k, j, i) dose over ``phantom.central`` in every layer k.

    The tally of :class:`SlabDose`, for another code's dose on the same phantom (divide
    its dose by the number of decays it simulated to get Gy per decay).

    Parameters
    ----------
    dose : numpy.ndarray
        (k, j, i) dose on the phantom's voxels.
    phantom : Phantom

    Returns
    -------
    numpy.ndarray
        (k,) layer means.
    """
    return np.asarray(dose[(slice(None), *phantom.central)].mean(axis=(1, 2)), dtype=np.float64)


def slab_phantom(
    source_medium: str,
    *,
    tissue_layers: int = 8,
    lung_layers: int = 21,
    central: int = 61,
    margin: int = 10,
    water_media: bool = False,
) -> Phantom:
    """Soft tissue (1.06 g/mL, first layers) against lung (0.26 g/mL), activity in one of them.

    The lateral margin (``margin`` voxels each side of the central region) exceeds the CSDA
    range of a 2.28 MeV electron in lung (1.1 g/cm^2 / 0.26 g/mL = 43 mm; ICRU 37), so the
    central region sees a laterally infinite source; the same holds in depth for layers
    farther than that from the outer faces.

    Parameters
    ----------
    source_medium : str
        ``"tissue"`` or ``"lung"``: where the activity is.
    tissue_layers, lung_layers : int, optional
        Voxel layers of each medium along depth (k).
    central : int, optional
        Lateral width of the tallied central region, voxels.
    margin : int, optional
        Lateral voxels on each side of the central region.
    water_media : bool, optional
        Water (``H2O521ICRU``) at the two densities instead of ICRU tissue and lung: the
        model in which the laminar reference is exact (separates composition from geometry).

    Returns
    -------
    Phantom
    """
    n = central + 2 * margin
    nk = tissue_layers + lung_layers
    density = np.full((nk, n, n), LUNG_DENSITY_G_PER_ML)
    density[:tissue_layers] = TISSUE_DENSITY_G_PER_ML
    medium = np.full((nk, n, n), 2, dtype=np.int32)
    medium[:tissue_layers] = 1
    source = medium == (1 if source_medium == "tissue" else 2)
    media = (TISSUE, LUNG)
    if water_media:  # ompMC wants each medium named once
        medium[:], media = 1, (WATER,)
    lateral = slice(margin, margin + central)
    return Phantom(VOXEL_MM, density, medium, media, source, (lateral, lateral))


def water_cube(n: int, voxel_mm: float, margin: int) -> Phantom:
    """A cube of ``n^3`` water voxels (1 g/mL), activity everywhere.

    Parameters
    ----------
    n : int
        Voxels along each axis.
    voxel_mm : float
        Voxel size (mm).
    margin : int
        Voxels left out of the central region at each face (lateral only: the caller slices
        depth itself).

    Returns
    -------
    Phantom
    """
    density = np.ones((n, n, n))
    medium = np.ones((n, n, n), dtype=np.int32)
    lateral = slice(margin, n - margin)
    return Phantom(voxel_mm, density, medium, (WATER,), density > 0.0, (lateral, lateral))


def sample_decays(
    rng: np.random.Generator, phantom: Phantom, n: int, point_cm: npt.ArrayLike | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Y-90 decays: positions (cm, x y z), isotropic directions and kinetic energies (MeV).

    Parameters
    ----------
    rng : numpy.random.Generator
    phantom : Phantom
        Positions uniform in ``phantom.source`` (origin at the phantom's corner).
    n : int
        Decays.
    point_cm : array_like, optional
        A point source here instead.

    Returns
    -------
    tuple of numpy.ndarray
        Positions (n, 3), directions (n, 3), energies (n,).
    """
    energy, probability = beta_spectrum("Y-90")
    width = energy[1] - energy[0]
    kinetic = rng.choice(energy, size=n, p=probability) + (rng.random(n) - 0.5) * width
    cos_t = 2.0 * rng.random(n) - 1.0
    phi = 2.0 * np.pi * rng.random(n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    direction = np.column_stack((sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t))
    if point_cm is not None:
        return np.tile(np.asarray(point_cm, dtype=np.float64), (n, 1)), direction, kinetic
    voxels = np.argwhere(phantom.source)  # (k, j, i), equal volumes: uniform per volume
    pick = voxels[rng.integers(len(voxels), size=n)][:, ::-1]  # -> (i, j, k) = (x, y, z)
    position = (pick + rng.random((n, 3))) * phantom.voxel_mm / 10.0
    return position, direction, kinetic


def make_geometry(
    phantom: Phantom, *, merge_lateral: bool = False, merge_depth: slice | None = None
) -> Any:
    """The ompMC geometry of ``phantom`` (x, y, z in cm from its corner).

    Merged tally bins do not change the geometry where the media do not change across them
    (a laterally uniform slab phantom, a uniform cube), so the central-region tally is the
    same, with three times fewer boundary crossings.

    Parameters
    ----------
    phantom : Phantom
    merge_lateral : bool, optional
        Tally laterally in three bins per axis: margin, ``phantom.central``, margin.
    merge_depth : slice, optional
        Likewise three bins in depth (k): before, this slice, after.

    Returns
    -------
    ompmc.Geometry
    """
    import ompmc  # GPL-3 test-only dependency (dev extra)

    nk, nj, ni = phantom.density_g_per_ml.shape
    cuts = [np.arange(m + 1) for m in (ni, nj, nk)]
    if merge_lateral:
        cuts[0] = np.array([0, phantom.central[1].start, phantom.central[1].stop, ni])
        cuts[1] = np.array([0, phantom.central[0].start, phantom.central[0].stop, nj])
    if merge_depth is not None:
        cuts[2] = np.array([0, merge_depth.start, merge_depth.stop, nk])
    first = tuple(c[:-1] for c in cuts[::-1])  # a voxel of each bin: (k, j, i) index arrays
    density = phantom.density_g_per_ml[np.ix_(*first)]
    medium = phantom.medium[np.ix_(*first)]
    # ompMC wants (x, y, z) Fortran order: the transpose of a C (z, y, x) array is exactly that
    return ompmc.Geometry(
        *(c * phantom.voxel_mm / 10.0 for c in cuts), list(phantom.media),
        np.ascontiguousarray(density).T, np.ascontiguousarray(medium).T,
    )  # fmt: skip


def transport(
    geometry: Any,
    position_cm: npt.NDArray[np.float64],
    direction: npt.NDArray[np.float64],
    kinetic_mev: npt.NDArray[np.float64],
    seeds: tuple[int, int],
) -> tuple[npt.NDArray[np.float64], float]:
    """Transport these electrons (one per history) in an ompMC geometry.

    Parameters
    ----------
    geometry : ompmc.Geometry
        From :func:`make_geometry`, or any ompMC geometry.
    position_cm, direction : numpy.ndarray
        (n, 3) start points (x, y, z in cm) and unit directions.
    kinetic_mev : numpy.ndarray
        (n,) kinetic energies (MeV).
    seeds : tuple of int
        The two seeds of ompMC's Philox generator.

    Returns
    -------
    tuple
        Dose per history (Gy) in ompMC's (x, y, z) order; ompMC's deposited / started energy.
    """
    import ompmc

    root = ompmc.data_path()
    physics = ompmc.Physics(
        pegs_file=root / "pegs4" / "521icru.pegs4dat",
        global_ecut=0.521,
        global_pcut=0.010,
        n_split=1,
        seeds=seeds,
    )
    with tempfile.TemporaryDirectory(prefix="ompmc-beta-") as tmp:
        base = Path(tmp) / "source"
        write_iaea_phsp(base, position_cm, direction, kinetic_mev)
        dose, _, summary = ompmc.calc_forward_phsp(
            geometry, ompmc.PhaseSpaceSource(str(base)), physics,
            n_histories=len(kinetic_mev), n_batches=2,
        )  # fmt: skip
    return np.asarray(dose, dtype=np.float64), float(summary.energy_fraction)


def run_batch(
    phantom: Phantom,
    histories: int,
    seed: int,
    batch: int,
    *,
    point_cm: npt.ArrayLike | None = None,
    geometry: Any = None,
) -> tuple[npt.NDArray[np.float64], float, float]:
    """One independent run of Y-90 decays: dose per decay, mean MeV, deposited fraction.

    Parameters
    ----------
    phantom : Phantom
    histories : int
        Decays (one beta each).
    seed : int
        Seed of the run; ``(seed, batch)`` seeds both the decays and ompMC's generator.
    batch : int
        Batch number.
    point_cm : array_like, optional
        A point source here (x, y, z cm) instead of the phantom's source region.
    geometry : ompmc.Geometry, optional
        Tally geometry (default: the phantom's voxels).

    Returns
    -------
    tuple
        Dose per decay (Gy) in (k, j, i) order of the tally geometry, float64; mean emitted
        MeV; ompMC's deposited fraction.
    """
    rng = np.random.default_rng([seed, batch])
    position, direction, kinetic = sample_decays(rng, phantom, histories, point_cm)
    geometry = make_geometry(phantom) if geometry is None else geometry
    dose, fraction = transport(geometry, position, direction, kinetic, (seed % 2**31, batch + 1))
    return np.ascontiguousarray(dose.T), float(kinetic.mean()), fraction


def slab_dose(
    phantom: Phantom,
    histories: int,
    *,
    batches: int = 8,
    seed: int = 1,
    merge_lateral: bool = True,
) -> SlabDose:
    """Mean dose per decay in the central region of every layer, with its 1-sigma.

    Parameters
    ----------
    phantom : Phantom
    histories : int
        Decays in all (split evenly over the batches).
    batches : int, optional
        Independent runs (at least 2).
    seed : int, optional
        Base seed; the result is reproducible.
    merge_lateral : bool, optional
        Tally the central region as one lateral bin (see :func:`make_geometry`); False
        transports through every 4.42 mm voxel (three times slower, same expectation).

    Returns
    -------
    SlabDose
    """
    per = histories // batches
    geometry = make_geometry(phantom, merge_lateral=merge_lateral)
    rows, emitted, deposited = [], [], []
    for batch in range(batches):
        dose, mev, fraction = run_batch(phantom, per, seed, batch, geometry=geometry)
        rows.append(dose[:, 1, 1] if merge_lateral else central_layer_means(dose, phantom))
        emitted.append(mev)
        deposited.append(fraction)
    table = np.array(rows)
    return SlabDose(
        phantom=phantom,
        dose_gy=table.mean(axis=0),
        sigma_gy=table.std(axis=0, ddof=1) / np.sqrt(batches),
        batch_dose_gy=table,
        emitted_mev=float(np.mean(emitted)),
        deposited_fraction=float(np.mean(deposited)),
        histories=per * batches,
        seed=seed,
    )


def bin_mass_kg(geometry: Any) -> npt.NDArray[np.float64]:
    """Mass (kg) of every tally bin of an ompMC geometry, in (k, j, i) order.

    Parameters
    ----------
    geometry : ompmc.Geometry

    Returns
    -------
    numpy.ndarray
    """
    dx, dy, dz = (np.diff(b) for b in (geometry.x_bounds, geometry.y_bounds, geometry.z_bounds))
    volume_cm3 = dz[:, None, None] * dy[None, :, None] * dx[None, None, :]
    return np.asarray(geometry.density).T * volume_cm3 * 1.0e-3


def energy_per_decay_mev(dose_gy: npt.NDArray[np.float64], geometry: Any) -> float:
    """Energy deposited in the whole phantom per decay (MeV), from a dose-per-decay array.

    Parameters
    ----------
    dose_gy : numpy.ndarray
        (k, j, i) dose per decay (Gy) on the tally bins of ``geometry``.
    geometry : ompmc.Geometry

    Returns
    -------
    float
    """
    return float((dose_gy * bin_mass_kg(geometry)).sum() / JOULE_PER_MEV)
