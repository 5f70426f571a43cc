"""Exact voxel doses in a laminar (slab) geometry, for testing heterogeneous dose methods.

With every medium modelled as water of its density, the dose in a laminar geometry with
laterally uniform (infinite) sources depends only on the *mass depth* ``t = int rho dz``:
it is the homogeneous-water solution (O'Connor's theorem; the straight-line path-length
kernel reproduces it exactly). In water, a plane source of one decay per mm^2 gives the
planar kernel

    P(u) = int_|u|^inf F'(d) / (2 d) dd        (energy fraction per mm of water depth)

(``F`` the cumulative absorbed-energy fraction of the point kernel, ``d`` the distance),
from ``dA = 2 pi rho drho = 2 pi d dd`` over the plane. Its first and second integrals,

    G(u) = int_0^inf F'(d)/(2d) min(|u|, d) dd sign(u),
    H(u) = int_0^inf F'(d)/(2d) m(|u|, d) dd,  m = u^2/2 (u <= d), d u - d^2/2 (u > d),

give the mean dose of a target slab ``[tau1, tau2]`` from a uniform source slab
``[T1, T2]`` (mass depths) in closed form: ``(H(tau2-T1) - H(tau1-T1) - H(tau2-T2) +
H(tau1-T2)) / (tau2 - tau1)`` per unit decays per mm^2 per mm of mass depth. ``F'`` is the
shipped kernel's shell fractions (piecewise constant, as the dose methods interpolate it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry import energy_per_decay_j, point_kernel

_D_STEP_MM = 0.0005


def _h_function(nuclide: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Midpoints ``d`` and weights ``F'(d)/(2d) dd`` of the distance integral."""
    dpk = point_kernel(nuclide)
    edges = np.concatenate([[0.0], dpk.r_mm])
    d = np.arange(_D_STEP_MM / 2, dpk.r_mm[-1], _D_STEP_MM)
    shell = np.searchsorted(edges, d) - 1
    density = np.diff(np.concatenate([[0.0], dpk.cumulative_fraction])) / np.diff(edges)
    return d, density[shell] * _D_STEP_MM / (2.0 * d)


def _h(u: npt.NDArray[np.float64], d: npt.NDArray[np.float64], w: npt.NDArray[np.float64]):
    u = np.abs(u)[:, None]
    m = np.where(u <= d[None, :], 0.5 * u * u, d[None, :] * u - 0.5 * d[None, :] ** 2)
    return (m * w[None, :]).sum(axis=1)


def laminar_slab_dose_gy(
    nuclide: str,
    density_g_per_ml: npt.ArrayLike,
    decays_per_voxel: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
) -> npt.NDArray[np.float64]:
    """Exact mean dose (Gy) of each voxel layer of a laminar geometry (layers along axis 0).

    Parameters
    ----------
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_per_ml : array_like
        Density of each layer (g/mL).
    decays_per_voxel : array_like
        Decays in each voxel of each layer (laterally uniform, unbounded).
    spacing_mm : tuple of 3 floats
        Voxel size (z, y, x), mm; layers are ``spacing_mm[0]`` thick.

    Returns
    -------
    numpy.ndarray
        Mean dose of each layer (Gy), decay-data energy per decay.
    """
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    n = np.asarray(decays_per_voxel, dtype=np.float64)
    dz = spacing_mm[0]
    volume = float(np.prod(spacing_mm))
    t = np.concatenate([[0.0], np.cumsum(rho * dz)])  # mass depth of the layer faces, mm
    d, w = _h_function(nuclide)
    # H at every face-to-face difference
    diff = t[:, None] - t[None, :]
    h = _h(diff.ravel(), d, w).reshape(diff.shape)
    # mean over target layer i of the field of source layer j (per unit mass-depth density)
    hi = h[1:, :]
    lo = h[:-1, :]
    block = (hi[:, :-1] - lo[:, :-1] - hi[:, 1:] + lo[:, 1:]) / np.diff(t)[:, None]
    source = n / volume / rho  # decays per mm^2 per mm of mass depth (per mm^3 / rho)
    fraction_per_mm3 = block @ source  # energy fraction per mm^3 of water mass
    return energy_per_decay_j(nuclide) * fraction_per_mm3 / 1e-6


#: The issue's interface cases: (name, density of the first medium, of the second, which
#: medium holds the activity: 0 first, 1 second). Densities g/mL.
SLAB_CASES: tuple[tuple[str, float, float, int], ...] = (
    ("tissue -> lung", 1.06, 0.26, 0),
    ("lung -> tissue", 1.06, 0.26, 1),
    ("tissue -> bone", 1.06, 1.92, 0),
    ("bone -> tissue", 1.06, 1.92, 1),
    ("tissue -> air", 1.06, 0.0012, 0),
    ("air -> tissue", 1.06, 0.0012, 1),
)
#: Voxel size of the issue's slab tests, mm.
SLAB_VOXEL_MM = 4.42


def slab_phantom(
    first: float, second: float, active: int, *, layers: tuple[int, int], lateral: int
) -> tuple[np.ndarray, np.ndarray]:
    """Density (g/mL) and activity (1 MBq per active voxel) of a two-medium slab phantom,
    the interface between layers ``layers[0] - 1`` and ``layers[0]`` (axis 0)."""
    nz = layers[0] + layers[1]
    rho = np.full((nz, lateral, lateral), first, dtype=np.float32)
    rho[layers[0] :] = second
    act = np.zeros_like(rho)
    if active == 0:
        act[: layers[0]] = 1.0
    else:
        act[layers[0] :] = 1.0
    return rho, act


def slab_errors(dose_layers: np.ndarray, reference: np.ndarray, interface: int) -> dict[str, float]:
    """Relative errors (fraction) of the mean dose of the two layers on each side of the
    interface (where the reference is > 2 % of its maximum), keyed -2, -1, +1, +2."""
    out = {}
    top = float(reference.max())
    for key, layer in (
        ("-2", interface - 2),
        ("-1", interface - 1),
        ("+1", interface),
        ("+2", interface + 1),
    ):
        if reference[layer] > 0.02 * top:
            out[key] = float(dose_layers[layer] / reference[layer] - 1.0)
    return out


def box_slab_dose_gy(
    nuclide: str,
    density_g_per_ml: npt.ArrayLike,
    decays_per_voxel: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
    lateral: int,
    region: slice,
    layers: list[int],
    *,
    n_mu: int = 200,
    n_phi: int = 48,
    n_points: int = 2,
    n_depth: int = 8,
) -> dict[int, float]:
    """Exact path-length mean dose (Gy) of some layers over a central region, for layers of
    finite lateral size (``lateral`` x ``lateral`` voxels, nothing outside), by quadrature
    around target points: ``D(P) = E <int S F'(d) dr>`` over directions, each layer's part
    ``S / rho (F(d_out) - F(d_in))`` along the ray (``S`` decays per mm^3).

    Where the geometry is effectively laminar this equals :func:`laminar_slab_dose_gy`; with
    air (beta ranges of metres) the lateral size matters, and this is the reference.

    Parameters
    ----------
    nuclide, density_g_per_ml, decays_per_voxel, spacing_mm
        As :func:`laminar_slab_dose_gy`.
    lateral : int
        Voxels along each lateral axis (a square grid).
    region : slice
        Lateral voxels (both axes) of the central region averaged over.
    layers : list of int
        The layers wanted.
    n_mu, n_phi, n_points, n_depth : int
        Gauss-Legendre nodes in cos(theta) per hemisphere, azimuths, target points per
        lateral axis over the region, and Gauss-Legendre nodes in depth per layer.

    Returns
    -------
    dict
        Mean dose (Gy) of each wanted layer over the region.
    """
    from opensirt.dosimetry.path_length import cumulative_kernel

    f = cumulative_kernel(nuclide)
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    s_per_mm3 = np.asarray(decays_per_voxel, dtype=np.float64) / float(np.prod(spacing_mm))
    dz, dy, dx = spacing_mm
    faces = np.arange(rho.size + 1) * dz
    x, w = np.polynomial.legendre.leggauss(n_mu)
    mu = np.concatenate([-(x + 1) / 2, (x + 1) / 2])
    phi = (np.arange(n_phi) + 0.5) * 2 * np.pi / n_phi
    sin = np.sqrt(1 - mu**2)
    vz = np.repeat(mu, n_phi)[None, :]
    vy = np.outer(sin, np.sin(phi)).ravel()[None, :]
    vx = np.outer(sin, np.cos(phi)).ravel()[None, :]
    wdir = np.repeat(np.concatenate([w, w]) / 4.0, n_phi) / n_phi
    frac = (np.arange(n_points) + 0.5) / n_points
    span = region.stop - region.start
    grid = region.start + frac * span
    yp = np.repeat(grid, n_points)[:, None] * dy
    xp = np.tile(grid, n_points)[:, None] * dx
    with np.errstate(divide="ignore", invalid="ignore"):
        r_wall = np.minimum(
            np.where(vy > 0, (lateral * dy - yp) / vy, np.where(vy < 0, -yp / vy, np.inf)),
            np.where(vx > 0, (lateral * dx - xp) / vx, np.where(vx < 0, -xp / vx, np.inf)),
        )
    up = vz > 0
    out = {}
    for layer in layers:
        total = 0.0
        zn, zw = np.polynomial.legendre.leggauss(n_depth)
        for zp, zwt in zip((layer + (zn + 1) / 2) * dz, zw / 2, strict=True):
            energy = np.zeros_like(r_wall)
            for direction, seq in ((True, range(layer, rho.size)), (False, range(layer, -1, -1))):
                sel = up if direction else ~up
                d = np.zeros_like(r_wall)
                r_prev = np.zeros_like(r_wall)
                for lay in seq:
                    face = faces[lay + 1] if direction else faces[lay]
                    r_face = np.minimum(np.abs((face - zp) / vz), r_wall)
                    d_new = d + rho[lay] * (r_face - r_prev)
                    e = (f(d_new) - f(d)) * (s_per_mm3[lay] / rho[lay])
                    energy += np.where(sel, e, 0.0)
                    d, r_prev = d_new, r_face
            total += zwt * float(np.sum(energy * wdir[None, :])) / len(yp)
        out[layer] = energy_per_decay_j(nuclide) * total / 1e-6
    return out


def slab_dose_ratio(
    nuclide: str,
    density_g_per_ml: list[float],
    thickness_mm: float,
    source: list[bool],
) -> npt.NDArray[np.float64]:
    """Mean dose in each slab over the local-deposition dose of the source slabs.

    Parameters
    ----------
    nuclide : str
        "Y-90" or "Ho-166".
    density_g_per_ml : list of float
        Density of each slab, in depth order.
    thickness_mm : float
        Geometric thickness of every slab (mm).
    source : list of bool
        Which slabs hold the activity (uniform per unit volume, all of one density).

    Returns
    -------
    numpy.ndarray
        Dose of each slab divided by ``E_decay n_v / (rho_source V)`` (the local-deposition
        dose in the source medium); laterally infinite slabs, nothing beyond the stack.
    """
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    active = np.asarray(source, dtype=bool)
    rho_source = set(rho[active].tolist())
    assert len(rho_source) == 1, "sources of one density only"
    dose = laminar_slab_dose_gy(nuclide, rho, active.astype(np.float64), (thickness_mm, 1.0, 1.0))
    ldm_gy = energy_per_decay_j(nuclide) / (rho_source.pop() * thickness_mm * 1e-6)
    return dose / ldm_gy
