"""Ray-traced corrections of the path-length dose near density interfaces.

For a point source, the energy a straight ray of solid angle ``4 pi / n`` deposits between
the geometric distances ``r1 < r2`` along it is ``(F(d(r2)) - F(d(r1))) / n``: ``F`` the
cumulative energy distribution of the soft-tissue point kernel and ``d`` the unit-density
(mass) distance, the integral of density along the ray. This is the energy form of the
path-length scaled kernel ``K_w(d) d^2 / r^2`` (density scaling: O'Connor 1957, Phys Med
Biol 1:352; see :mod:`opensirt.dosimetry.path_length`).

:func:`ray_corrections` casts ``n`` rays from each given source voxel (points spread
uniformly in the voxel, directions a Fibonacci lattice on the sphere turned by a
per-voxel rotation) and deposits, voxel by voxel along each ray (Amanatides & Woo 1987,
Eurographics 87:3, voxel traversal), the path-length energy *minus* the energy of the same
ray in a homogeneous medium of the density whose kernel the convolution used for that
source (nothing is subtracted in voxels much lighter than that density, where the caller
leaves the convolution out). Added to that convolution, the result is the path-length
dose of those sources, up to the sampling noise of the rays. The points and rotations
depend only on the voxel's index (Kronecker sequences), so for given ray counts the
correction is exactly linear in the decays. With a surface model
(:mod:`opensirt.dosimetry._backscatter`), the energy of rays that leave dense medium for
vacuum is scaled by its backscatter-deficit factor, and rays from vacuum-like voxels that
enter dense medium give part of their energy back to a reflected ray (its entry albedo).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry._backscatter import VACUUM_LIKE_G_PER_ML, ExitLog, SurfaceDeficit

#: Kronecker (R3) sequence constants 1/g^k, k = 1..3, g = 1.2207... the root of
#: x^4 = x + 1 (Roberts 2018, "The unreasonable effectiveness of quasirandom sequences").
_R3 = np.array([0.8191725133961645, 0.6710436067037893, 0.5497004779019703])
#: Rays stop after this geometric length (mm), even in air: beyond it they would only
#: reach air far outside the body. Longer than every reference range (Y-90 at 0.2 g/mL:
#: 59 mm).
MAX_RAY_LENGTH_MM = 100.0
#: Sphere-tracing steps through clear voxels before a ray is traced voxel by voxel.
_SKIP_ITERATIONS = 6
#: Rays per chunk: bounds the working memory (about 200 bytes per ray and step).
_CHUNK_RAYS = 1 << 16

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RayGrid:
    """The density grid the rays cross.

    Attributes
    ----------
    density : numpy.ndarray
        Mass density (g/mL) of each voxel, 3-D ``[k, j, i]``.
    spacing_mm : tuple of 3 floats
        Voxel size (z, y, x), mm.
    clear_mm : numpy.ndarray or None
        Optional, same shape: a lower bound of the distance (mm) from each voxel's centre
        to the nearest voxel not of the reference density (0 where unknown). Rays skip
        such clear stretches, where the path-length and homogeneous energies agree.
    """

    density: npt.NDArray[np.float32]
    spacing_mm: tuple[float, float, float]
    clear_mm: npt.NDArray[np.float32] | None = None


@dataclass(frozen=True, eq=False)
class CumulativeKernel:
    """Cumulative absorbed-energy fraction ``F`` of a soft-tissue point kernel, on a uniform grid.

    Attributes
    ----------
    step_mm : float
        Spacing of the table (mm at 1 g/cm^3).
    values : numpy.ndarray
        ``F(k * step_mm)``, k = 0, 1, ...; constant (the absorbed fraction) at the end.
    """

    step_mm: float
    values: FloatArray

    @property
    def max_radius_mm(self) -> float:
        """Distance at 1 g/cm^3 (mm) beyond which ``F`` no longer grows."""
        return self.step_mm * (self.values.size - 1)

    def __call__(self, d_mm: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
        """``F`` at the unit-density distances ``d_mm`` (linear interpolation).

        Parameters
        ----------
        d_mm : numpy.ndarray
            Unit-density distances, mm (>= 0).

        Returns
        -------
        numpy.ndarray
            The absorbed-energy fraction inside each distance.
        """
        x = np.minimum(d_mm * np.float32(1.0 / self.step_mm), np.float32(self.values.size - 1))
        i = x.astype(np.int64)
        table, slope = self._tables
        out: npt.NDArray[np.float32] = np.take(table, i)
        out += (x - i) * np.take(slope, i)
        return out

    @functools.cached_property
    def _tables(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        table = self.values.astype(np.float32)
        return table, np.append(np.diff(table), np.float32(0.0))


def fibonacci_sphere(n: int) -> FloatArray:
    """``n`` near-uniform unit vectors (Gonzalez 2010, Math Geosci 42:49,
    doi:10.1007/s11004-009-9257-x)."""
    k = np.arange(n) + 0.5
    cos_t = 1.0 - 2.0 * k / n
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    phi = np.pi * (1.0 + 5.0**0.5) * k
    return np.stack([cos_t, sin_t * np.sin(phi), sin_t * np.cos(phi)], axis=1)


def _rotations(u: FloatArray) -> FloatArray:
    """Rotation matrices from uniform numbers ``u`` (n, 3) (Shoemake 1992, Graphics Gems III,
    uniform random rotations), shape (n, 3, 3)."""
    a, b = np.sqrt(1.0 - u[:, 0]), np.sqrt(u[:, 0])
    w, x = a * np.sin(2 * np.pi * u[:, 1]), a * np.cos(2 * np.pi * u[:, 1])
    y, z = b * np.sin(2 * np.pi * u[:, 2]), b * np.cos(2 * np.pi * u[:, 2])
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=1,
    )


def _ray_starts(
    flat: npt.NDArray[np.int64], shape: tuple[int, ...], n_rays: int
) -> tuple[FloatArray, FloatArray]:
    """Start points (voxel units, (m, 3)) and unit directions (m, 3) of the rays of the
    source voxels ``flat``, ``n_rays`` each, source by source."""
    idx = np.stack(np.unravel_index(flat, shape), axis=1).astype(np.float64)
    seed = np.mod(flat[:, None].astype(np.float64) * _R3[None, :], 1.0)
    directions = np.matmul(_rotations(seed), fibonacci_sphere(n_rays).T).transpose(0, 2, 1)
    j = np.arange(n_rays, dtype=np.float64)[:, None] * _R3[None, ::-1]
    jitter = np.mod(seed[:, None, ::-1] + j[None, :, :], 1.0)
    points = idx[:, None, :] + jitter
    return points.reshape(-1, 3), directions.reshape(-1, 3)


def _skip_clear(
    grid: RayGrid, points: FloatArray, directions: FloatArray, t_stop: float
) -> FloatArray:
    """Distance (mm) each ray can advance through voxels of the reference density alone
    (sphere tracing on ``grid.clear_mm``); ``t_stop`` where it never leaves them."""
    t = np.zeros(len(points))
    if grid.clear_mm is None:
        return t
    h = np.asarray(grid.spacing_mm)
    shape = np.asarray(grid.density.shape)
    clear = grid.clear_mm.ravel()
    margin = 3.0**0.5 * float(h.max())  # a point anywhere in its voxel, to another's corner
    velocity = directions / h
    with np.errstate(divide="ignore", invalid="ignore"):  # distance to the grid's edge
        edge = np.where(
            velocity > 0,
            (shape - points) / velocity,
            np.where(velocity < 0, -points / velocity, np.inf),
        ).min(axis=1)
    stop = np.minimum(t_stop, edge * (1 - 1e-6))
    # the rays still advancing, compacted each round (no gathers through an index array)
    active = np.arange(len(points))
    p, v, s, ta = points, velocity, stop, t.copy()
    for _ in range(_SKIP_ITERATIONS):
        cell = np.floor(p + ta[:, None] * v).astype(np.int64)
        inside = np.all((cell >= 0) & (cell < shape), axis=1)
        flat = np.ravel_multi_index(np.where(inside[:, None], cell, 0).T, grid.density.shape)
        step = np.where(inside, clear[flat], 0.0) - margin
        go = step > 0
        ta = np.where(go, np.minimum(ta + step, s), ta)
        t[active] = ta
        keep = go & (ta < s)
        active, p, v, s, ta = active[keep], p[keep], v[keep], s[keep], ta[keep]
        if not active.size:
            break
    return np.where(t >= t_stop, t_stop, t)


def _traversal(
    grid: RayGrid, points: FloatArray, directions: FloatArray, start: FloatArray
) -> tuple[
    npt.NDArray[np.int64],
    list[npt.NDArray[np.float32]],
    list[npt.NDArray[np.float32]],
    list[npt.NDArray[np.int64]],
    npt.NDArray[np.float32],
]:
    """Voxel-traversal state of rays at ``points`` (voxel units), ``start`` mm from their
    source: flat voxel, per axis the distance (mm from the source) to the next face, the
    distance between faces and the flat index step, and the distance to the grid's edge."""
    f32 = np.float32
    shape = grid.density.shape
    strides = (shape[1] * shape[2], shape[2], 1)
    cell = np.clip(np.floor(points).astype(np.int64), 0, np.asarray(shape) - 1)
    t_next, t_delta, jump = [], [], []
    t_exit = np.full(len(points), MAX_RAY_LENGTH_MM, dtype=f32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for a in range(3):
            v = directions[:, a] / grid.spacing_mm[a]  # voxels per mm
            forward = v >= 0
            delta = np.where(v != 0, 1.0 / np.abs(v), np.inf)
            frac = np.where(forward, cell[:, a] + 1 - points[:, a], points[:, a] - cell[:, a])
            t_next.append((frac * delta + start).astype(f32))
            t_delta.append(delta.astype(f32))
            jump.append(np.where(forward, strides[a], -strides[a]).astype(np.int64))
            out = np.where(forward, shape[a] - points[:, a], points[:, a]) * delta + start
            t_exit = np.minimum(t_exit, out.astype(f32) * f32(1 - 1e-6))
    flat: npt.NDArray[np.int64] = np.asarray(np.ravel_multi_index(cell.T, shape), dtype=np.int64)
    return flat, t_next, t_delta, jump, t_exit


def _trace(
    grid: RayGrid,
    kernel: CumulativeKernel,
    points: FloatArray,
    directions: FloatArray,
    weights: FloatArray,
    reference_density: float,
    light_ratio: float,
    surface: SurfaceDeficit | None = None,
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Trace rays through the grid; return (flat voxel index, weighted energy correction)
    for every voxel crossing (float32 arithmetic: mm and energy fractions), and, with a
    ``surface`` model, the backscatter deficit of the rays that reach vacuum."""
    f32 = np.float32
    hom_end = kernel.max_radius_mm / reference_density
    start = _skip_clear(grid, points, directions, hom_end)
    # a ray clear all along its homogeneous range adds nothing: dropped
    keep = np.flatnonzero(start < hom_end)
    points = points[keep] + start[keep, None] * directions[keep] / np.asarray(grid.spacing_mm)
    directions = directions[keep]
    flat, t_next, t_delta, jump, t_exit = _traversal(grid, points, directions, start[keep])
    weights = weights[keep].astype(f32)
    ray_weights = weights.astype(np.float64)
    log = None if surface is None else ExitLog(len(weights), kernel.max_radius_mm, points)
    albedo = None if surface is None else surface.albedo
    if albedo is not None and not np.any(grid.density.ravel()[flat] < VACUUM_LIKE_G_PER_ML):
        albedo = None  # no ray starts in a vacuum-like voxel: none can enter from vacuum
    t_start = start[keep].astype(np.float64)
    scale = f32(reference_density)
    light = f32(reference_density / light_ratio)
    t_hom_end, r_max = f32(hom_end), f32(kernel.max_radius_mm)
    rho = grid.density.ravel()
    t = start[keep].astype(f32)
    d = t * scale
    f_het = kernel(d)
    f_hom = f_het.copy()
    voxels: list[npt.NDArray[np.int64]] = []
    energies: list[FloatArray] = []
    while len(t):
        tz, ty, tx = t_next
        t_end = np.minimum(np.minimum(tz, ty), tx)
        rho_here = rho[flat]
        d_old = d
        d = d + rho_here * (t_end - t)
        if log is not None:
            log.step(flat, rho_here, d_old, d, t if albedo is not None else None)
        new_het = kernel(d)
        new_hom = kernel(scale * t_end)
        # the convolution is not used in voxels much lighter than the reference: no subtraction
        energy = weights * ((new_het - f_het) - (new_hom - f_hom) * (rho_here >= light))
        deposit = np.flatnonzero(energy)  # the het and hom paths agree until an interface
        voxels.append(flat[deposit])
        energies.append(energy[deposit])
        f_het, f_hom, t = new_het, new_hom, t_end
        flat = flat.copy()
        for a in range(3):
            hit = t_next[a] == t_end
            t_next[a] += t_delta[a] * hit
            flat += jump[a] * hit
        alive = (t < t_exit) & ((d < r_max) | (t < t_hom_end))
        if log is not None:
            log.finish(alive, t >= t_exit, d)
        n_alive = int(np.count_nonzero(alive))
        if n_alive < 0.75 * len(t):  # drop the finished rays
            keep = np.flatnonzero(alive)
            if log is not None:
                log.keep(keep)
            t_next = [x[keep] for x in t_next]
            t_delta = [x[keep] for x in t_delta]
            jump = [x[keep] for x in jump]
            flat, t, d, f_het, f_hom = flat[keep], t[keep], d[keep], f_het[keep], f_hom[keep]
            weights, t_exit = weights[keep], t_exit[keep]
        elif n_alive < len(t):  # park them: no energy, no move, a valid voxel
            weights *= alive
            flat *= alive
            jump = [x * alive for x in jump]
            t_exit *= alive
    if log is not None and surface is not None:
        lost = log.deficits(
            surface, kernel.values, kernel.step_mm, grid.density, grid.spacing_mm,
            directions, ray_weights,
        )  # fmt: skip
        voxels.append(lost[0])
        energies.append(lost[1])
        if albedo is not None:
            taken, out, at, mirror, reflected = log.reflections(
                albedo, kernel.values, kernel.step_mm, grid.density, grid.spacing_mm,
                directions, ray_weights, t_start,
            )  # fmt: skip
            back = _reflected(grid, at, mirror, reflected, albedo.loss_per_mm)
            voxels += [taken, back[0]]
            energies += [out, back[1]]
    return np.concatenate(voxels), np.concatenate(energies)


def _reflected(
    grid: RayGrid,
    points: FloatArray,
    directions: FloatArray,
    energy: FloatArray,
    loss_per_mm: float,
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Deposits of reflected rays (:class:`~opensirt.dosimetry._backscatter.SurfaceAlbedo`):
    from ``points`` (voxel units) along ``directions``, the part ``loss_per_mm`` of their
    ``energy`` per mm at 1 g/mL of the vacuum-like voxels crossed, until dense medium, the
    grid's edge or :data:`MAX_RAY_LENGTH_MM`."""
    if not energy.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    start = np.zeros(len(points))
    flat, t_next, t_delta, jump, t_exit = _traversal(grid, points, directions, start)
    rho = grid.density.ravel()
    t = np.zeros(len(points), dtype=np.float32)
    spent = np.zeros(len(points))
    alive = np.ones(len(points), dtype=bool)
    voxels: list[npt.NDArray[np.int64]] = []
    energies: list[FloatArray] = []
    while np.any(alive):
        t_end = np.minimum(np.minimum(np.minimum(*t_next[:2]), t_next[2]), t_exit)
        rho_here = rho[flat].astype(np.float64)
        alive &= rho_here < VACUUM_LIKE_G_PER_ML
        part = np.minimum(spent + loss_per_mm * rho_here * (t_end - t), 1.0)
        go = np.flatnonzero(alive)
        voxels.append(flat[go])
        energies.append(energy[go] * (part[go] - spent[go]))
        spent = np.where(alive, part, spent)
        for a in range(3):
            hit = t_next[a] == t_end
            t_next[a] += t_delta[a] * hit
            flat = flat + jump[a] * (hit & alive)
        t = t_end
        alive &= t < t_exit
    return np.concatenate(voxels), np.concatenate(energies)


def ray_corrections(
    grid: RayGrid,
    kernel: CumulativeKernel,
    sources: npt.NDArray[np.int64],
    decays: FloatArray,
    reference_density: float,
    n_rays: npt.NDArray[np.int64],
    *,
    light_ratio: float,
    surface: SurfaceDeficit | None = None,
) -> FloatArray:
    """Path-length minus homogeneous absorbed energy of the given source voxels, per voxel.

    Parameters
    ----------
    grid : RayGrid
        Densities (g/mL) and voxel size of the whole grid.
    kernel : CumulativeKernel
        The soft-tissue point kernel's cumulative absorbed-energy fraction.
    sources : numpy.ndarray
        Flat indices (C order) of the source voxels.
    decays : numpy.ndarray
        Decays in each source voxel.
    reference_density : float
        Density (g/mL) of the homogeneous kernel to subtract (the one the sources'
        convolution used).
    n_rays : numpy.ndarray
        Rays from each source voxel.
    light_ratio : float
        In voxels less dense than the reference density over this ratio, nothing is
        subtracted (the caller leaves the convolution out there: the difference of two
        large energies would be noisy in such light voxels).
    surface : SurfaceDeficit, optional
        Backscatter-deficit model (:mod:`opensirt.dosimetry._backscatter`): the energy of
        rays that leave dense medium for vacuum (the grid's edge, or air to the ray's end)
        is scaled by its factor; none by default (infinite-medium kernel everywhere).

    Returns
    -------
    numpy.ndarray
        float64, the grid's shape: decays x fraction of the energy per decay, to add to the
        energy of the convolution (negative where the convolution put too much).
    """
    total = np.zeros(grid.density.size)
    for n in np.unique(n_rays):
        group = np.flatnonzero(n_rays == n)
        per_chunk = max(1, _CHUNK_RAYS // int(n))
        for lo in range(0, group.size, per_chunk):
            chunk = group[lo : lo + per_chunk]
            points, directions = _ray_starts(sources[chunk], grid.density.shape, int(n))
            weights = np.repeat(decays[chunk] / n, n)
            voxels, energy = _trace(
                grid, kernel, points, directions, weights, reference_density, light_ratio, surface
            )
            if not voxels.size:
                continue
            lo_voxel = int(voxels.min())
            part = np.bincount(voxels - lo_voxel, energy)
            total[lo_voxel : lo_voxel + part.size] += part
    return total.reshape(grid.density.shape)
