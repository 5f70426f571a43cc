"""Monte Carlo reference dose of Y-90 and Ho-166 in voxelised heterogeneous media.

The project's condensed-history electron transport
(:mod:`opensirt.dosimetry.electron_transport`: Class II, Moller knock-ons above 10 keV, Bohr
straggling, mixed elastic scattering; the physics that builds the shipped dose point kernels)
runs through a voxel grid in which every voxel is the kernels' medium, ICRU four-component
soft tissue (:data:`~opensirt.dosimetry.electron_transport.KERNEL_MATERIAL`), at the voxel's
density (:mod:`opensirt.dosimetry.mc_transport`: steps never cross a voxel boundary), with
explicit bremsstrahlung photons and, for Ho-166, its gamma and x-ray lines
(:mod:`opensirt.dosimetry.mc_photons`: Klein-Nishina Compton scattering with transported
Compton electrons, XCOM photoelectric absorption of water, Woodcock tracking).

Source: the decays of each voxel (:func:`~opensirt.dosimetry.ldm.decays_per_voxel`); the
histories of a batch are spread over the voxels by systematic sampling proportional to the
number of decays (Cochran 1977, Sampling Techniques, 3rd ed., ch. 8), each at a uniform
point of its voxel, emitted isotropically; one history is one decay (a beta from the
Fermi spectrum of :mod:`opensirt.dosimetry.beta_spectrum`, plus the photon lines sampled
with their yields).

Normalisation: ``D_v = (E_v / N_hist) N_decays / m_v`` with ``E_v`` the energy deposited in
voxel ``v``. The beta energies carry the weight ``E_decay / <T>_spectrum``, so that the mean
beta energy per decay is exactly :func:`~opensirt.dosimetry.ldm.energy_per_decay_j` (ICRP 107
mean beta energy, or that implied by a dose constant), as in local deposition and the
kernels; the photon lines carry weight 1 (they are not part of that energy). Energy balance
(weighted): deposited + escaped electrons + escaped photons = emitted, exact by construction
up to rounding.

Uncertainty: batch method (the histories split into independent batches, each with its own
random stream from ``numpy.random.SeedSequence(seed).spawn``): the relative standard error of
the mean dose per voxel, ``s_b / sqrt(n_b) / D`` (Walters, Kawrakow & Rogers 2002, Med Phys
29:2745, doi:10.1118/1.1517611, on batch and history-by-history estimators).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt._threads import thread_count
from opensirt.dosimetry.beta_spectrum import beta_spectrum
from opensirt.dosimetry.density import density_array
from opensirt.dosimetry.electron_transport import (
    KERNEL_MATERIAL,
    TransportTables,
    sample_beta_energies,
    transport_tables,
)
from opensirt.dosimetry.kernels import SOFT_TISSUE_DENSITY_G_PER_ML
from opensirt.dosimetry.ldm import decays_per_voxel, dose_volume, energy_per_decay_j
from opensirt.dosimetry.mc_photons import PHOTON_LINES, Particles, decay_photons, isotropic
from opensirt.dosimetry.mc_transport import VoxelGrid, transport
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import JOULE_PER_MEV, Nuclide, NuclideName, get_nuclide

__all__ = ["MonteCarloResult", "monte_carlo"]

#: Histories transported together (one vectorised bank); bounds the memory of a batch.
_CHUNK = 20_000


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Dose, its statistical uncertainty and the energy balance of a Monte Carlo run.

    Attributes
    ----------
    dose : Volume
        Absorbed dose (Gy, float32), the mean of the batch doses.
    relative_uncertainty : Volume
        One standard error of the mean dose over the dose in each voxel (``"fraction"``);
        0 where no energy was deposited.
    batch_dose_gy : numpy.ndarray
        Dose of each batch (Gy), shape ``(n_batches, k, j, i)``, float32.
    histories : int
        Decays simulated.
    seed : int
        Seed of the run.
    emitted_mev, deposited_mev, escaped_electron_mev, escaped_photon_mev : float
        Energy per history (MeV, weighted as the dose): emitted (betas + photons),
        deposited in the grid, carried out of the grid by electrons and by photons.
    """

    dose: Volume
    relative_uncertainty: Volume
    batch_dose_gy: npt.NDArray[np.float32]
    histories: int
    seed: int
    emitted_mev: float
    deposited_mev: float
    escaped_electron_mev: float
    escaped_photon_mev: float

    @property
    def energy_balance(self) -> float:
        """(deposited + escaped) / emitted: 1 up to rounding."""
        out = self.deposited_mev + self.escaped_electron_mev + self.escaped_photon_mev
        return out / self.emitted_mev if self.emitted_mev else 1.0

    def mean_dose_gy(self, weights: npt.ArrayLike | Volume) -> tuple[float, float]:
        """Mean dose over a structure and its one-sigma statistical uncertainty (batches).

        Parameters
        ----------
        weights : array_like or Volume
            A mask or non-negative voxel weights on the dose grid, shape ``(k, j, i)``.

        Returns
        -------
        tuple of (float, float)
            The weighted mean dose (Gy) and its standard error (Gy).

        Raises
        ------
        InputError
            If the weights do not have the grid's shape or sum to 0.
        """
        w = np.asarray(weights.array if isinstance(weights, Volume) else weights, np.float64)
        if w.shape != self.dose.shape or not w.sum() > 0:
            raise InputError(
                f"weights have shape {w.shape} and sum {float(w.sum())}, expected a mask of "
                f"shape {self.dose.shape} with at least one voxel"
            )
        total = float(w.sum())
        per_batch = np.array([float(np.sum(b * w)) / total for b in self.batch_dose_gy])
        n = per_batch.size
        error = float(per_batch.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        return float(per_batch.mean()), error


@dataclass(frozen=True)
class _Run:
    """What every batch needs: the grid, the source and the physics tables."""

    nuclide: NuclideName
    rho: npt.NDArray[np.float64]
    shape: tuple[int, int, int]
    spacing_mm: npt.NDArray[np.float64]
    cdf: npt.NDArray[np.float64]
    sign: npt.NDArray[np.float64]
    beta_weight: float
    tables: TransportTables
    gy_per_mev_history: npt.NDArray[np.float64]
    photon_lines: bool = True
    betas: bool = True


def _source(run: _Run, n: int, rng: np.random.Generator) -> tuple[Particles, Particles, float]:
    """Betas and photons of ``n`` decays sampled from the activity (systematic sampling)."""
    u = (np.arange(n) + rng.random()) / n
    flat = np.minimum(np.searchsorted(run.cdf, u, side="right"), run.cdf.size - 1)
    vox = np.stack(np.unravel_index(flat, run.shape), axis=1)
    pos = (vox + rng.random((n, 3))) * run.spacing_mm
    weight = run.sign[flat] * run.beta_weight
    betas = Particles(sample_beta_energies(run.nuclide, n, rng), pos, isotropic(n, rng), weight)
    if not run.betas:
        betas = betas.take(np.zeros(0, dtype=np.intp))
    decay, energy = decay_photons(run.nuclide, n if run.photon_lines else 0, rng)
    photons = Particles(energy, pos[decay], isotropic(decay.size, rng), run.sign[flat][decay])
    emitted = float(np.sum(betas.energy_mev * betas.weight) + np.sum(energy * photons.weight))
    return betas, photons, emitted


def _batch(
    run: _Run, n: int, seed: np.random.SeedSequence, progress: Callable[[int], None]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """Dose of one batch (Gy per voxel, flat) and its energy balance (MeV: emitted,
    deposited, escaped by electrons, by photons)."""
    rng = np.random.default_rng(seed)
    grid = VoxelGrid(run.shape, run.spacing_mm, run.rho)
    emitted = 0.0
    for start in range(0, n, _CHUNK):
        size = min(_CHUNK, n - start)
        betas, photons, energy = _source(run, size, rng)
        emitted += energy
        transport(betas, photons, grid, run.tables, rng)
        progress(size)
    deposited = float(grid.tally.sum())
    balance = np.array([emitted, deposited, grid.escaped_electron_mev, grid.escaped_photon_mev])
    dose: npt.NDArray[np.float32] = (grid.tally * (run.gy_per_mev_history / n)).astype(np.float32)
    return dose, balance


def _prepare(
    activity: Volume,
    nuc: Nuclide,
    density: Volume | float | None,
    dose_constant_gy_kg_per_gbq: float | None,
) -> _Run:
    """The run's data; the histories stand for the sum of ``|N|`` over the voxels."""
    decays = decays_per_voxel(activity, nuc).astype(np.float64).ravel()
    rho = density_array(density, activity, SOFT_TISSUE_DENSITY_G_PER_ML).astype(np.float64)
    total = float(np.abs(decays).sum())
    if total <= 0.0:
        raise InputError("activity is zero everywhere, expected some decays to simulate")
    cdf = np.cumsum(np.abs(decays)) / total
    energy, probability = beta_spectrum(nuc)
    mean_spectrum_mev = float((energy * probability).sum())
    beta_weight = energy_per_decay_j(nuc, dose_constant_gy_kg_per_gbq) / JOULE_PER_MEV
    mass_kg = rho.ravel() * activity.voxel_volume_ml * 1e-3
    return _Run(
        nuc.name,
        rho.ravel(),
        activity.shape,
        np.asarray(activity.spacing_zyx_mm, dtype=np.float64),
        cdf,
        np.sign(decays),
        beta_weight / mean_spectrum_mev,
        transport_tables(float(energy[-1]) * 1.01, material=KERNEL_MATERIAL),
        total * JOULE_PER_MEV / mass_kg,
    )


def _check_counts(histories: int, batches: int) -> None:
    if batches < 2:
        raise InputError(f"batches is {batches}, expected at least 2 (for the uncertainty)")
    if histories < batches:
        raise InputError(
            f"histories is {histories}, expected at least one per batch ({batches} batches)"
        )


def monte_carlo(
    activity: Volume,
    nuclide: Nuclide | NuclideName | str,
    *,
    density: Volume | float | None = None,
    histories: int = 1_000_000,
    batches: int = 10,
    seed: int = 20261201,
    dose_constant_gy_kg_per_gbq: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    decay_photons: bool = True,
    betas: bool = True,
) -> MonteCarloResult:
    """Absorbed dose of a beta-emitter activity map by Monte Carlo, with uncertainty.

    Batches run one after the other in this process, or in
    :func:`~opensirt._threads.thread_count` worker processes where ``OPENSIRT_THREADS`` allows
    more than one (numpy holds the interpreter lock between its many small array operations,
    so threads would add little); the result depends only on the seed, not on the workers.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity (see :func:`~opensirt.dosimetry.ldm.decays_per_voxel`).
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.
    density : Volume or float or None, optional
        Mass density (g/mL) map on the activity grid, or one value; default soft tissue
        (1.04 g/mL). Air (0.0012 g/mL) is allowed.
    histories : int, optional
        Decays simulated (default 1 000 000); the uncertainty falls as ``1/sqrt``.
    batches : int, optional
        Independent batches for the uncertainty (default 10, at least 2).
    seed : int, optional
        Seed: the same seed gives the same result.
    dose_constant_gy_kg_per_gbq : float or None, optional
        Conventional dose constant (e.g. 49.67 for Y-90) setting the beta energy per decay;
        None for the ICRP 107 mean beta energy.
    progress : callable or None, optional
        Called as ``progress(done, histories)`` as histories complete.
    decay_photons : bool, optional
        Emit the nuclide's gamma and x-ray lines (default True; Ho-166 only). False leaves
        the betas and their bremsstrahlung, which is what the kernel methods model: for
        diagnosing differences between them and the Monte Carlo, not for dosimetry.
    betas : bool, optional
        Emit the betas (default True). False leaves the decay photons alone (Ho-166), to
        check the fast method's photon term; not for dosimetry.

    Returns
    -------
    MonteCarloResult
        Dose, relative uncertainty, batch doses and the energy balance.

    Raises
    ------
    InputError
        If the activity is zero or not an activity, a density is not > 0, the nuclide has no
        beta spectrum, or ``histories``/``batches`` are too small.
    GeometryError
        If the density map is not on the activity grid.

    Examples
    --------
    >>> act = Volume(np.zeros((3, 3, 3)), spacing_mm=(4.0, 4.0, 4.0), units="MBq")
    >>> act.array[1, 1, 1] = 1.0
    >>> result = monte_carlo(act, "Y-90", density=1.0, histories=400, batches=2, seed=1)
    >>> abs(result.energy_balance - 1.0) < 1e-9
    True
    """
    nuc = get_nuclide(nuclide)
    _check_counts(histories, batches)
    if not betas and not (decay_photons and PHOTON_LINES.get(nuc.name)):
        raise InputError(
            f"betas=False with no decay photons to emit ({nuc.name}, decay_photons="
            f"{decay_photons}): nothing to simulate; keep betas=True"
        )
    run = replace(
        _prepare(activity, nuc, density, dose_constant_gy_kg_per_gbq),
        photon_lines=decay_photons,
        betas=betas,
    )
    counts = [histories // batches + (b < histories % batches) for b in range(batches)]
    streams = np.random.SeedSequence(seed).spawn(batches)
    results = _run_batches(run, counts, streams, histories, progress)
    return _result(activity, nuc, results, histories, seed)


def _run_batches(
    run: _Run,
    counts: list[int],
    streams: list[np.random.SeedSequence],
    histories: int,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]]:
    """The batches' doses and energy balances, in batch order.

    One worker (the default thread policy): in this process, with progress per chunk of
    histories. More, on Linux, in a process that runs no other Python thread: a pool of
    that many forked processes, progress per batch. Forked workers share the run's arrays
    and never re-import the caller's ``__main__`` (``spawn`` and ``forkserver`` re-run a
    script without a ``__main__`` guard in each worker); a process that runs threads (the
    web service) is never forked (a fork copies locks other threads may hold), so its
    batches run in turn.
    """
    done = [0]

    def report(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], histories)

    workers = min(thread_count() or multiprocessing.cpu_count(), len(counts))
    if workers <= 1 or not _can_fork():
        return [_batch(run, n, stream, report) for n, stream in zip(counts, streams, strict=True)]
    results: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]] | None]
    results = [None] * len(counts)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(_batch, run, n, stream, _no_progress): b
            for b, (n, stream) in enumerate(zip(counts, streams, strict=True))
        }
        for future in as_completed(futures):
            b = futures[future]
            results[b] = future.result()
            report(counts[b])
    return [r for r in results if r is not None]


def _can_fork() -> bool:
    """Whether worker processes may be forked: Linux, and no other Python thread running."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _no_progress(_n: int) -> None:
    """Progress callback of a batch in a worker process (reported when the batch ends)."""


def _result(
    activity: Volume,
    nuc: Nuclide,
    results: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]],
    histories: int,
    seed: int,
) -> MonteCarloResult:
    """Assemble the batch doses into the mean, its uncertainty and the energy balance."""
    batch_dose = np.stack([dose.reshape(activity.shape) for dose, _ in results])
    n_batches = len(results)
    # one batch at a time in float64: no full-size float64 copy of the stack
    dose = np.zeros(activity.shape)
    for b in batch_dose:
        dose += b
    dose /= n_batches
    variance = np.zeros(activity.shape)
    for b in batch_dose:
        variance += (b - dose) ** 2
    sigma = np.sqrt(variance / (n_batches - 1) / n_batches)
    relative = np.divide(sigma, np.abs(dose), out=np.zeros_like(dose), where=dose != 0)
    balance = np.sum([b for _, b in results], axis=0) / histories
    emitted, deposited, escaped_e, escaped_p = (float(v) for v in balance)
    meta: dict[str, Any] = {"nuclide": str(nuc.name), "histories": histories, "seed": seed}
    return MonteCarloResult(
        dose=dose_volume(activity, dose.astype(np.float32), method="monte-carlo", **meta),
        relative_uncertainty=activity.with_array(
            relative.astype(np.float32), units="fraction", quantity="relative uncertainty"
        ),
        batch_dose_gy=batch_dose,
        histories=histories,
        seed=seed,
        emitted_mev=emitted,
        deposited_mev=deposited,
        escaped_electron_mev=escaped_e,
        escaped_photon_mev=escaped_p,
    )
