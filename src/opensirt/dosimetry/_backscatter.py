"""Backscatter deficit of the path-length kernel where rays leave dense medium for vacuum.

The soft-tissue point kernel is that of an infinite medium: the energy it gives a point
includes electrons that went past the point and were scattered back by the medium beyond
it. Where a ray reaches vacuum (the grid's edge: the Monte Carlo's outside is vacuum; or
air out to the end of the ray, a few mg/cm^2, which scatters nothing back) that medium is
missing. The model scales the path-length energy a ray deposits at the mass distance
``Delta`` (mm at 1 g/mL) before its exit by

    c(Delta, mu) = 1 - (1 - a - b mu) exp(-Delta / lambda)

with ``mu`` the cosine between the ray and the outward normal of the surface it leaves
through: ``a + b mu`` the surface's share of the infinite-medium dose in the direction
``mu`` (grazing directions lose most: electrons leaving at a grazing angle were mostly
scattered into it, and half of their scatterers are missing; a form linear in ``mu`` as
the emergent intensity of a scattering half-space, Chandrasekhar 1960, Radiative Transfer,
ch. IV), ``lambda`` the mass depth over which the deficit fades. ``mu`` is an effective
cosine: the larger of the cosine to the normal and ``T / L`` (:meth:`ExitLog.chord_cosines`),
``L`` the length of the ray's last stretch through the surface layer (the voxels within one
voxel of vacuum) and ``T`` the depth where that stretch began. Under a plane the two agree;
a grazing ray leaving a convex surface crossed the layer on a short chord, so it ran only
briefly along a surface that misses its scatterers, and it loses less (fitted: a cosine
alone leaves the air next to a plane too high once a sphere's air is right). ``a``, ``b`` and
``lambda`` are fitted to this project's Monte Carlo per nuclide (:data:`SURFACE_DEFICITS`,
the command in its comment). The surface is where the ray leaves its last voxel denser than
:data:`VACUUM_LIKE_G_PER_ML` before the grid's edge or its maximum length; its normal is
that of the density gradient there (:func:`outward_normals`). Rays that end by exhausting
the kernel's range, or that never cross a dense voxel, are left as they are.

The opposite case, a ray from a source in vacuum-like voxels (activity in air) that enters
dense medium, is given the medium's backscatter out of it (:class:`SurfaceAlbedo`): the
kernel would keep all the ray's energy inside, though part of it comes back out into the
air, where it is the air's dose next to the surface.

The deficit of a deposit between the mass distances ``d1 < d2`` of a ray that exits at
``d_exit`` is ``(1 - a - b mu) exp(-d_exit / lambda) (G(d2) - G(d1))`` with
``G(d) = integral_0^d exp(s / lambda) F'(s) ds`` (``F`` the kernel's cumulative absorbed
fraction), tabulated once per kernel and ``lambda``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import InputError

FloatArray = npt.NDArray[np.float64]

#: A ray leaves dense medium for good after its last voxel at least this dense (g/mL):
#: lighter voxels (air, 0.0012 g/mL) scatter back nothing over a few centimetres. Below the
#: lightest lung in CT (about 0.1 g/mL).
VACUUM_LIKE_G_PER_ML = 0.05


@dataclass(frozen=True)
class SurfaceAlbedo:
    """Backscatter out of dense medium where rays from vacuum-like voxels enter it.

    The kernel gives a ray that enters dense medium from vacuum (activity in air, over skin)
    all its energy in that medium; in fact part of it comes back out, scattered by the first
    millimetres. The model takes the part ``eta(mu) = normal + grazing (1 - mu)`` (``mu``
    the cosine between the ray and the inward normal: grazing electrons come back more often)
    of the energy the ray deposits at the mass depth ``Delta`` after its entry, weighted by
    ``exp(-Delta / lambda)``, out of the dense medium, and gives it to a reflected ray (the
    mirror image of the incoming one in the surface) that deposits the part
    ``loss_per_mm`` of it per mm at 1 g/mL of the vacuum-like voxels it crosses, until it
    meets dense medium again or leaves the grid (the rest escapes).

    Attributes
    ----------
    normal : float
        ``eta`` at normal incidence.
    grazing : float
        Its growth to grazing incidence.
    depth_mm : float
        ``lambda``, mass depth (mm at 1 g/mL).
    loss_per_mm : float
        Part of the reflected energy deposited per mm at 1 g/mL of vacuum-like medium.
    """

    normal: float
    grazing: float
    depth_mm: float
    loss_per_mm: float

    def __post_init__(self) -> None:
        """Validate the parameters.

        Raises
        ------
        InputError
            If a parameter is negative, ``depth_mm`` is not positive or ``eta`` exceeds 1.
        """
        if not self.depth_mm > 0.0:
            raise InputError(f"depth_mm is {self.depth_mm}, expected > 0 mm")
        for name in ("normal", "grazing", "loss_per_mm"):
            if not getattr(self, name) >= 0.0:
                raise InputError(f"{name} is {getattr(self, name)}, expected >= 0")
        if self.normal + self.grazing > 1.0:
            raise InputError(
                f"normal + grazing is {self.normal + self.grazing}, expected <= 1 (the part "
                "of the energy reflected; fitted by benchmarks/backscatter_fit.py --entry)"
            )

    def eta(self, mu: FloatArray) -> FloatArray:
        """The reflected part ``normal + grazing (1 - mu)`` at the entry cosine ``mu``.

        Parameters
        ----------
        mu : numpy.ndarray
            Cosine of the ray to the inward normal, clipped to [0, 1].

        Returns
        -------
        numpy.ndarray
            ``eta``.

        Examples
        --------
        >>> SurfaceAlbedo(0.1, 0.2, 1.0, 0.5).eta(np.array([1.0, 0.0])).tolist()
        [0.1, 0.30000000000000004]
        """
        return self.normal + self.grazing * (1.0 - np.clip(mu, 0.0, 1.0))


@dataclass(frozen=True)
class SurfaceDeficit:
    """Parameters of the backscatter-deficit factor ``c(Delta, mu)`` (module docstring).

    Attributes
    ----------
    a : float
        Surface factor at grazing exit (``mu = 0``).
    b : float
        Its growth with ``mu``; ``a + b`` is the factor at normal exit.
    depth_mm : float
        ``lambda``, the mass depth (mm at 1 g/mL) over which the deficit fades.
    layer_mm : float
        ``t``: the surface layer whose chord gives the effective cosine is the voxels whose
        centre lies within one voxel (the largest spacing) plus ``t`` mm of vacuum.
    albedo : SurfaceAlbedo or None
        The backscatter out of dense medium of rays that enter it from vacuum-like voxels
        (activity in air); None leaves them as the kernel has them.
    """

    a: float
    b: float
    depth_mm: float
    layer_mm: float = 0.0
    albedo: SurfaceAlbedo | None = None

    def __post_init__(self) -> None:
        """Validate the parameters.

        Raises
        ------
        InputError
            If ``depth_mm`` is not positive or the surface factor leaves [0, 1].
        """
        if not self.depth_mm > 0.0:
            raise InputError(f"depth_mm is {self.depth_mm}, expected > 0 mm")
        if not self.layer_mm >= 0.0:
            raise InputError(f"layer_mm is {self.layer_mm}, expected >= 0 mm")
        for mu in (0.0, 1.0):
            if not 0.0 <= self.a + self.b * mu <= 1.0:
                raise InputError(
                    f"surface factor a + b mu is {self.a + self.b * mu} at mu = {mu}; expected "
                    "0 to 1 (a, b fitted by benchmarks/backscatter_fit.py)"
                )

    def factor(self, delta_mm: FloatArray, mu: FloatArray) -> FloatArray:
        """``c(Delta, mu)``, the part of the infinite-medium energy deposited.

        Parameters
        ----------
        delta_mm : numpy.ndarray
            Mass distance (mm at 1 g/mL) from the deposit to the exit, >= 0.
        mu : numpy.ndarray
            Cosine of the ray to the surface's outward normal (clipped to [0, 1]).

        Returns
        -------
        numpy.ndarray
            The factor, between ``a`` and 1.

        Examples
        --------
        >>> m = SurfaceDeficit(0.5, 0.3, 1.0)
        >>> [round(float(x), 3) for x in m.factor(np.array([0.0, 0.0, 50.0]),
        ...                                        np.array([1.0, 0.0, 1.0]))]
        [0.8, 0.5, 1.0]
        """
        return 1.0 - self.deficit(np.clip(mu, 0.0, 1.0)) * np.exp(-delta_mm / self.depth_mm)

    def deficit(self, mu: FloatArray) -> FloatArray:
        """``1 - a - b mu``: the part missing at the surface in the direction ``mu``.

        Parameters
        ----------
        mu : numpy.ndarray
            Cosine of the ray to the surface's outward normal, in [0, 1].

        Returns
        -------
        numpy.ndarray
            The deficit.
        """
        return 1.0 - self.a - self.b * mu


#: Fitted to this project's Monte Carlo (:func:`~opensirt.dosimetry.monte_carlo.monte_carlo`:
#: every voxel ICRU soft tissue at its density, the grid's outside vacuum) in the two
#: geometries of ``benchmarks/backscatter_fit.py`` (a loaded tissue column under air, a
#: loaded tissue sphere in air; 19 regions) by ``PYTHONPATH=src .venv/bin/python
#: benchmarks/backscatter_fit.py --nuclide <nuclide> --histories <column> <sphere>``; the
#: entry albedo in two others (a loaded air column over tissue, a tissue sphere in loaded
#: air; the regions above 2 % of the maximum dose) by the same with ``--entry``. The albedo
#: is physical: at normal incidence 4-8 % of the energy comes back out of soft tissue, at
#: grazing incidence 15-21 %; the reflected electrons deposit about their energy per mm at
#: 1 g/mL (1.0-1.2 per mm: the collision stopping power of 0.2-0.3 MeV electrons, about
#: 2.5 MeV cm^2/g, over their energy). ``lambda`` is the largest of the grid searched
#: (4.5 mm, the mean beta range); the chi-square hardly changes beyond (3.9 -> 3.6 at 9 mm).
SURFACE_DEFICITS: dict[str, SurfaceDeficit] = {
    # --histories 200000 100000 --layer 0: chi-square 12.3 over 19 regions; albedo:
    # --entry --histories 300000 200000: chi-square 3.9 over 15 regions
    "Y-90": SurfaceDeficit(
        a=0.530,
        b=0.356,
        depth_mm=1.5,
        layer_mm=0.0,
        albedo=SurfaceAlbedo(normal=0.038, grazing=0.171, depth_mm=4.5, loss_per_mm=1.0),
    ),
    # --histories 450000 300000 --layer 0: chi-square 14.2 over 19 regions; albedo:
    # --entry --histories 300000 200000: chi-square 3.2 over 14 regions
    "Ho-166": SurfaceDeficit(
        a=0.469,
        b=0.425,
        depth_mm=1.0,
        layer_mm=0.0,
        albedo=SurfaceAlbedo(normal=0.079, grazing=0.068, depth_mm=4.5, loss_per_mm=1.2),
    ),
}


@functools.lru_cache(maxsize=16)
def _growth_table(values: bytes, step_mm: float, depth_mm: float) -> FloatArray:
    f = np.frombuffer(values, dtype=np.float64)
    d = np.arange(f.size) * step_mm
    mid = np.exp((d[:-1] + 0.5 * step_mm) / depth_mm)
    return np.concatenate([[0.0], np.cumsum(np.diff(f) * mid)])


def weighted_growth(
    values: FloatArray, step_mm: float, depth_mm: float, d_mm: npt.NDArray[np.floating]
) -> FloatArray:
    """``G(d) = integral_0^d exp(s / lambda) F'(s) ds`` of a tabulated ``F``.

    Parameters
    ----------
    values : numpy.ndarray
        ``F(k * step_mm)``, k = 0, 1, ... (the kernel's cumulative absorbed fraction).
    step_mm : float
        Spacing of the table, mm at 1 g/mL.
    depth_mm : float
        ``lambda``, mm at 1 g/mL.
    d_mm : numpy.ndarray
        Mass distances, mm at 1 g/mL (>= 0); beyond the table ``G`` is constant.

    Returns
    -------
    numpy.ndarray
        ``G(d)`` (float64, linear between the table's points).

    Examples
    --------
    >>> g = weighted_growth(np.array([0.0, 1.0]), 1.0, 1e6, np.array([0.5, 3.0]))
    >>> [round(float(x), 4) for x in g]
    [0.5, 1.0]
    """
    table = _growth_table(
        np.ascontiguousarray(values, dtype=np.float64).tobytes(), step_mm, depth_mm
    )
    grid = np.arange(table.size) * step_mm
    return np.interp(np.asarray(d_mm, dtype=np.float64), grid, table)


def outward_normals(
    density: npt.NDArray[np.float32], flat: npt.NDArray[np.int64], spacing_mm: tuple[float, ...]
) -> FloatArray:
    """Unit outward normals (toward lower density) at the voxels ``flat``, (n, 3) z, y, x.

    The density gradient of the 3 x 3 x 3 neighbourhood (the difference of the two
    neighbouring planes of 3 x 3 voxels along each axis, over their distance); outside the
    grid is vacuum (density 0), so at the grid's edge the normal is the face's. Zero
    where the neighbourhood is uniform.

    Parameters
    ----------
    density : numpy.ndarray
        Density (g/mL), 3-D.
    flat : numpy.ndarray
        Flat (C order) voxel indices.
    spacing_mm : tuple of 3 floats
        Voxel size (z, y, x), mm.

    Returns
    -------
    numpy.ndarray
        Normals, float64, (n, 3).

    Examples
    --------
    >>> rho = np.zeros((3, 3, 3), dtype=np.float32); rho[:2] = 1.0
    >>> (outward_normals(rho, np.array([13]), (1.0, 1.0, 1.0)).round(3) + 0.0).tolist()
    [[1.0, 0.0, 0.0]]
    """
    idx = np.stack(np.unravel_index(flat, density.shape), axis=1)
    grad = np.zeros((flat.size, 3))
    offsets = np.stack(np.meshgrid(*([np.arange(-1, 2)] * 3), indexing="ij"), -1).reshape(-1, 3)
    for off in offsets:
        if not np.any(off):
            continue
        value, inside = _neighbours(density, idx, off)
        grad += np.where(inside, value, 0.0)[:, None] * off[None, :]
    grad /= 2.0 * np.asarray(spacing_mm, dtype=np.float64)
    norm = np.linalg.norm(grad, axis=1)
    return np.where(norm[:, None] > 0, -grad / np.where(norm > 0, norm, 1.0)[:, None], 0.0)


def vacuum_distance_mm(
    density: npt.NDArray[np.float32],
    flat: npt.NDArray[np.int64],
    spacing_mm: tuple[float, ...],
    reach_mm: float,
) -> FloatArray:
    """Distance (mm) from the centres of the voxels ``flat`` to the nearest vacuum-like one.

    The Euclidean distance transform of the dense voxels (Danielsson 1980, Comput Graph
    Image Process 14:227, doi:10.1016/0146-664X(80)90054-4), evaluated only at the voxels
    asked for, by a search of the neighbours within ``reach_mm``: voxels lighter than
    :data:`VACUUM_LIKE_G_PER_ML` and the outside of the grid are vacuum.

    Parameters
    ----------
    density : numpy.ndarray
        Density (g/mL), 3-D.
    flat : numpy.ndarray
        Flat (C order) voxel indices.
    spacing_mm : tuple of 3 floats
        Voxel size (z, y, x), mm.
    reach_mm : float
        Search radius, mm; farther voxels get ``inf``.

    Returns
    -------
    numpy.ndarray
        Distances, mm (0 at a vacuum-like voxel).

    Examples
    --------
    >>> rho = np.zeros((4, 1, 1), dtype=np.float32); rho[:3] = 1.0
    >>> vacuum_distance_mm(rho, np.array([0, 1, 2, 3]), (2.0, 1.0, 1.0), 5.0).tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    h = np.asarray(spacing_mm, dtype=np.float64)
    span = np.minimum(np.floor(reach_mm / h + 1e-9), np.asarray(density.shape)).astype(np.int64)
    grid = np.meshgrid(*[np.arange(-k, k + 1) for k in span], indexing="ij")
    offsets = np.stack(grid, -1).reshape(-1, 3)
    dist = np.linalg.norm(offsets * h, axis=1)
    order = np.argsort(dist, kind="stable")
    offsets, dist = offsets[order], dist[order]
    near = dist <= reach_mm * (1 + 1e-9)
    idx = np.stack(np.unravel_index(flat, density.shape), axis=1)
    out = np.full(flat.size, np.inf)
    for off, r in zip(offsets[near], dist[near], strict=True):
        value, inside = _neighbours(density, idx, off)
        light = ~inside | (value < VACUUM_LIKE_G_PER_ML)
        out = np.where(light & (out > r), r, out)
    return out


def _neighbours(
    density: npt.NDArray[np.float32], idx: npt.NDArray[np.int64], offset: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Density of the voxels ``idx + offset`` ((n, 3) voxel indices) and whether each lies in
    the grid (the value is that of voxel 0 where it does not)."""
    shape = density.shape
    cell = idx + offset
    inside = np.all((cell >= 0) & (cell < np.asarray(shape)), axis=1)
    flat = np.ravel_multi_index(np.where(inside[:, None], cell, 0).T, shape)
    return density.ravel()[flat], inside


class ExitLog:
    """Where the rays of one trace leave dense medium for vacuum, and their deposits.

    Used by the ray tracer: :meth:`step` at each voxel crossing (before the rays move on),
    :meth:`finish` when rays stop, :meth:`keep` when the finished ones are dropped, and
    :meth:`deficits` at the end.

    Parameters
    ----------
    n_rays : int
        Rays of the trace.
    r_max_mm : float
        Mass distance (mm at 1 g/mL) beyond which the kernel deposits nothing.
    starts : numpy.ndarray
        Start point of each ray, voxel units (z, y, x), (n_rays, 3).
    """

    def __init__(self, n_rays: int, r_max_mm: float, starts: FloatArray) -> None:
        self.starts = starts
        self.ray = np.arange(n_rays)
        self.last = np.full(n_rays, -1, dtype=np.int64)
        self.running = np.ones(n_rays, dtype=bool)
        self.exit_d = np.zeros(n_rays, dtype=np.float64)
        self.exit_voxel = np.full(n_rays, -1, dtype=np.int64)
        self.r_max = np.float32(r_max_mm)
        self.records: list[tuple[npt.NDArray[np.int64], ...]] = []
        self.spans: list[tuple[npt.NDArray[np.floating[Any]], ...]] = []
        # entries into dense medium of rays that started in vacuum-like voxels
        self.started = False  # every ray of a trace takes its first step together
        self.seen_dense = np.zeros(n_rays, dtype=bool)
        self.entry_d = np.zeros(n_rays, dtype=np.float64)
        self.entry_t = np.zeros(n_rays, dtype=np.float64)
        self.entry_voxel = np.full(n_rays, -1, dtype=np.int64)

    def step(
        self,
        flat: npt.NDArray[np.int64],
        rho_here: npt.NDArray[np.float32],
        d_old: npt.NDArray[np.floating[Any]],
        d_new: npt.NDArray[np.floating[Any]],
        t_old: npt.NDArray[np.floating[Any]] | None = None,
    ) -> None:
        """Note a voxel crossing of every ray: voxel, its density, mass distances before and after.

        Parameters
        ----------
        flat : numpy.ndarray
            Voxel crossed by each (compacted) ray.
        rho_here : numpy.ndarray
            Its density, g/mL.
        d_old, d_new : numpy.ndarray
            Mass distance (mm at 1 g/mL) at entry and exit of the voxel.
        t_old : numpy.ndarray, optional
            Geometric distance (mm from the source) at entry of the voxel: given, the first
            dense voxel of a ray that started in vacuum-like voxels is noted (its entry).
        """
        dense = rho_here >= VACUUM_LIKE_G_PER_ML
        if t_old is not None:
            entry = np.flatnonzero(dense & ~self.seen_dense & self.running & self.started)
            if entry.size:
                ids = self.ray[entry]
                self.entry_d[ids] = d_old[entry]
                self.entry_t[ids] = t_old[entry]
                self.entry_voxel[ids] = flat[entry]
            self.seen_dense |= dense
            self.started = True
        self.last = np.where(dense, flat, self.last)
        sel = np.flatnonzero(self.running & (d_old < self.r_max))
        if sel.size:
            self.records.append((self.ray[sel], flat[sel]))
            self.spans.append((d_old[sel], d_new[sel]))

    def finish(
        self,
        alive: npt.NDArray[np.bool_],
        at_exit: npt.NDArray[np.bool_],
        d: npt.NDArray[np.floating[Any]],
    ) -> None:
        """Note the rays that stop now: those stopped by the grid's edge or their length
        (``at_exit``) after a dense voxel left dense medium at the mass distance ``d``.

        Parameters
        ----------
        alive : numpy.ndarray
            Whether each (compacted) ray goes on.
        at_exit : numpy.ndarray
            Whether it reached the grid's edge or its maximum length.
        d : numpy.ndarray
            Its mass distance now, mm at 1 g/mL.
        """
        done = self.running & ~alive
        out = done & at_exit & (self.last >= 0)
        ids = self.ray[out]
        self.exit_d[ids] = d[out]
        self.exit_voxel[ids] = self.last[out]
        self.running &= alive

    def keep(self, keep: npt.NDArray[np.int64]) -> None:
        """Drop all rays but ``keep`` (indices into the compacted rays).

        Parameters
        ----------
        keep : numpy.ndarray
            The rays that go on.
        """
        self.ray, self.last, self.running = self.ray[keep], self.last[keep], self.running[keep]
        self.seen_dense = self.seen_dense[keep]

    def chord_cosines(
        self,
        ids: npt.NDArray[np.int64],
        density: npt.NDArray[np.float32],
        spacing_mm: tuple[float, float, float],
        layer_mm: float,
        normals: FloatArray,
    ) -> FloatArray:
        """``min(1, T / L)`` of the exiting rays ``ids``: the cosine a plane would give.

        ``L`` is the geometric length of a ray's last stretch in the surface layer (the dense
        voxels whose centre is within one voxel plus ``layer_mm`` of vacuum) up to its exit,
        ``T`` the layer's depth where the stretch began (the distance of that voxel's centre
        to vacuum). Under a plane ``T / L`` is the cosine; a convex surface gives a grazing
        ray a shorter chord, so a larger value. 0 where the stretch was not recorded.

        Parameters
        ----------
        ids : numpy.ndarray
            Rays that left dense medium for vacuum.
        density : numpy.ndarray
            Density (g/mL) of the grid, 3-D.
        spacing_mm : tuple of 3 floats
            Voxel size (z, y, x), mm.
        layer_mm : float
            ``t``, mm (:class:`SurfaceDeficit`).
        normals : numpy.ndarray
            Outward normal at each exit, (n, 3): a stretch that began at the ray's start
            began at the depth of the start point, that of its voxel's centre minus the
            projection of the offset from it on the normal.

        Returns
        -------
        numpy.ndarray
            One value per ray of ``ids``, in [0, 1].
        """
        out = np.zeros(ids.size)
        exits = np.zeros(self.exit_voxel.size, dtype=bool)
        exits[ids] = True
        ray = np.concatenate([r for r, _ in self.records])
        sel = np.flatnonzero(exits[ray])
        if not sel.size:
            return out
        order = sel[np.argsort(ray[sel], kind="stable")]
        ray, voxel = ray[order], np.concatenate([v for _, v in self.records])[order]
        d1 = np.concatenate([a for a, _ in self.spans])[order].astype(np.float64)
        d2 = np.concatenate([b for _, b in self.spans])[order].astype(np.float64)
        rho = density.ravel()[voxel].astype(np.float64)
        dense = rho >= VACUUM_LIKE_G_PER_ML
        cells, inverse = np.unique(voxel[dense], return_inverse=True)
        reach = max(spacing_mm) + layer_mm
        depth = np.full(voxel.size, np.inf)
        depth[dense] = vacuum_distance_mm(density, cells, spacing_mm, reach)[inverse]
        layer = depth <= reach * (1 + 1e-9)
        pos = np.arange(voxel.size)
        first = np.r_[True, ray[1:] != ray[:-1]]
        start = np.maximum.accumulate(np.where(~layer, pos + 1, np.where(first, pos, -1)))
        last = np.full(self.exit_voxel.size, -1, dtype=np.int64)
        np.maximum.at(last, ray[dense], pos[dense])
        e = last[ids]
        ok = e >= 0
        ok[ok] = (voxel[e[ok]] == self.exit_voxel[ids[ok]]) & layer[e[ok]]
        e = e[ok]
        cum = np.cumsum(np.where(dense, (d2 - d1) / np.where(dense, rho, 1.0), 0.0))
        s0 = start[e]
        length = cum[e] - cum[s0] + (d2[s0] - d1[s0]) / rho[s0]
        n = normals[ok]
        h = np.asarray(spacing_mm)
        offset = self.starts[ray[s0]] - np.stack(np.unravel_index(voxel[s0], density.shape), 1)
        inner = depth[s0] - 0.5 * np.abs(n) @ h - np.einsum("ij,ij->i", (offset - 0.5) * h, n)
        top = np.where(first[s0], np.clip(inner, 0.0, depth[s0]), depth[s0])
        out[ok] = np.clip(top / np.maximum(length, 1e-12), 0.0, 1.0)
        return out

    def deficits(
        self,
        model: SurfaceDeficit,
        kernel_values: FloatArray,
        kernel_step_mm: float,
        density: npt.NDArray[np.float32],
        spacing_mm: tuple[float, float, float],
        directions: FloatArray,
        weights: FloatArray,
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Voxel and (negative) energy of the backscatter deficit of every deposit of the
        rays that left dense medium for vacuum.

        Parameters
        ----------
        model : SurfaceDeficit
            The nuclide's parameters.
        kernel_values : numpy.ndarray
            The kernel's cumulative absorbed fraction on its table.
        kernel_step_mm : float
            The table's spacing, mm at 1 g/mL.
        density : numpy.ndarray
            Density (g/mL) of the grid, 3-D.
        spacing_mm : tuple of 3 floats
            Voxel size (z, y, x), mm.
        directions : numpy.ndarray
            Unit direction (z, y, x) of each ray, (n, 3).
        weights : numpy.ndarray
            Decays carried by each ray.

        Returns
        -------
        tuple of numpy.ndarray
            Flat voxel indices and energies (decays x absorbed fraction, <= 0).
        """
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
        ids = np.flatnonzero(self.exit_voxel >= 0)
        if not ids.size or not self.records:
            return empty
        normals = outward_normals(density, self.exit_voxel[ids], spacing_mm)
        mu = np.einsum("ij,ij->i", normals, directions[ids])
        mu = np.where(np.any(normals != 0, axis=1), np.clip(mu, 0.0, 1.0), 1.0)
        mu = np.maximum(mu, self.chord_cosines(ids, density, spacing_mm, model.layer_mm, normals))
        per_ray = np.zeros(self.exit_voxel.size)
        per_ray[ids] = weights[ids] * model.deficit(mu) * np.exp(-self.exit_d[ids] / model.depth_mm)
        ray = np.concatenate([r for r, _ in self.records])
        sel = np.flatnonzero(per_ray[ray])
        if not sel.size:
            return empty
        voxel = np.concatenate([v for _, v in self.records])[sel]
        d1 = np.concatenate([a for a, _ in self.spans])[sel]
        d2 = np.concatenate([b for _, b in self.spans])[sel]
        grow = [weighted_growth(kernel_values, kernel_step_mm, model.depth_mm, x) for x in (d1, d2)]
        return voxel, -per_ray[ray[sel]] * (grow[1] - grow[0])

    def reflections(
        self,
        model: SurfaceAlbedo,
        kernel_values: FloatArray,
        kernel_step_mm: float,
        density: npt.NDArray[np.float32],
        spacing_mm: tuple[float, float, float],
        directions: FloatArray,
        weights: FloatArray,
        starts_mm: FloatArray,
    ) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray, FloatArray, FloatArray]:
        """The energy that rays entering dense medium from vacuum-like voxels send back out.

        Parameters
        ----------
        model : SurfaceAlbedo
            The nuclide's parameters.
        kernel_values : numpy.ndarray
            The kernel's cumulative absorbed fraction on its table.
        kernel_step_mm : float
            The table's spacing, mm at 1 g/mL.
        density : numpy.ndarray
            Density (g/mL) of the grid, 3-D.
        spacing_mm : tuple of 3 floats
            Voxel size (z, y, x), mm.
        directions : numpy.ndarray
            Unit direction (z, y, x) of each ray, (n, 3).
        weights : numpy.ndarray
            Decays carried by each ray.
        starts_mm : numpy.ndarray
            Geometric distance (mm from its source) of each ray at its start point.

        Returns
        -------
        tuple of numpy.ndarray
            Flat voxels and energies (decays x absorbed fraction, <= 0) taken out of the
            dense medium; and for each reflected ray its start point (voxel units, in the
            vacuum-like voxel before the entry, (m, 3)), unit direction (m, 3) and energy.
        """
        ids = np.flatnonzero(self.entry_voxel >= 0)
        none = np.zeros((0, 3))
        if not ids.size or not self.records:
            return np.zeros(0, dtype=np.int64), np.zeros(0), none, none, np.zeros(0)
        normals = outward_normals(density, self.entry_voxel[ids], spacing_mm)
        u = directions[ids]
        has_normal = np.any(normals != 0, axis=1)
        mu = np.where(has_normal, np.clip(-np.einsum("ij,ij->i", normals, u), 0.0, 1.0), 1.0)
        per_ray = np.zeros(self.entry_voxel.size)
        lam = model.depth_mm
        per_ray[ids] = weights[ids] * model.eta(mu) * np.exp(self.entry_d[ids] / lam)
        ray = np.concatenate([r for r, _ in self.records])
        d1 = np.concatenate([a for a, _ in self.spans]).astype(np.float64)
        sel = np.flatnonzero((per_ray[ray] > 0) & (d1 >= self.entry_d[ray] - 1e-6))
        voxel = np.concatenate([v for _, v in self.records])[sel]
        d2 = np.concatenate([b for _, b in self.spans])[sel].astype(np.float64)
        # integral of exp(-s / lambda) F'(s) ds: the growth table with a negative depth
        grow = [weighted_growth(kernel_values, kernel_step_mm, -lam, x) for x in (d1[sel], d2)]
        taken = per_ray[ray[sel]] * (grow[1] - grow[0])
        reflected = np.asarray(np.bincount(ray[sel], taken, minlength=per_ray.size), np.float64)[
            ids
        ]
        mirror = u - 2.0 * np.einsum("ij,ij->i", u, normals)[:, None] * normals
        mirror = np.where(has_normal[:, None], mirror, -u)
        mirror /= np.linalg.norm(mirror, axis=1)[:, None]
        h = np.asarray(spacing_mm, dtype=np.float64)
        at = self.starts[ids] + (self.entry_t[ids] - starts_mm[ids])[:, None] * u / h
        at -= (1e-3 * float(h.min())) * u / h  # a micrometre back: in the light voxel
        return voxel.astype(np.int64), -taken, at, mirror, reflected
