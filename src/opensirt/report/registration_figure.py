"""A registration made visible: the planning CT and the registered study CT as a checkerboard.

Each panel alternates square tiles of the planning CT and of the study's own CT resampled
through the registration into the planning frame, and draws the planning CT's edges on top
(yellow isolines of :data:`EDGE_LEVELS_HU`: air and lung against tissue, bone against soft
tissue). Where the registration is right, anatomy runs on across the tiles and the lines lie
on the study's edges; a shift or rotation breaks the body outline, the lung bases and the
ribs at the tile borders.

Edge agreement, the number in each panel's title: edge pixels are those whose gradient
magnitude, after a Gaussian smoothing of 1 pixel, exceeds :data:`EDGE_HU_PER_MM` (the
boundaries of air, fat, soft tissue and bone, not the CT noise); :func:`edge_agreement` is
the fraction of the planning CT's edge pixels within :data:`EDGE_TOLERANCE_MM` of an edge
of the study CT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from scipy import ndimage

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.report.slices import ABDOMEN_WINDOW_HU, Plane, PlaneGrid, decorate_panel, plane_grid

__all__ = [
    "EDGE_HU_PER_MM",
    "EDGE_LEVELS_HU",
    "EDGE_TOLERANCE_MM",
    "TILE_MM",
    "ct_edges",
    "edge_agreement",
    "registration_overlay_figure",
    "study_ct_on_plane",
]

#: Gradient magnitude (HU per mm) above which a CT pixel is an edge.
EDGE_HU_PER_MM = 40.0
#: Distance (mm) within which a planning edge counts as matched by a study edge.
EDGE_TOLERANCE_MM = 2.0
#: Side of the checkerboard's tiles (mm).
TILE_MM = 20.0
#: CT numbers (HU) whose isolines outline the planning CT on the checkerboard: air or lung
#: against tissue, and bone against soft tissue.
EDGE_LEVELS_HU = (-400.0, 150.0)
_EDGE_COLOUR = "#F0E442"
_AIR_HU = -1000.0
_PLANES = (Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL)


def _pixel_mm(grid: PlaneGrid) -> float:
    return float(grid.a_mm[1] - grid.a_mm[0]) if grid.a_mm.size > 1 else 1.0


def study_ct_on_plane(study_ct: Volume, transform: Any, grid: PlaneGrid) -> npt.NDArray[np.float64]:
    """The study's CT (its own frame) at the pixels of a planning-frame display plane.

    Parameters
    ----------
    study_ct : Volume
        The emission study's own CT (HU), in its own frame of reference.
    transform : SimpleITK.Transform
        Planning (fixed) points to study (moving) points, LPS mm (ITK's convention, as
        :attr:`opensirt.imaging.registration.Registration.transform`).
    grid : PlaneGrid
        The display plane in the planning frame.

    Returns
    -------
    numpy.ndarray
        HU, shape (rows, columns) of the plane, linear interpolation, air outside the CT.
    """
    import SimpleITK as sitk

    u, v = grid.u, grid.v
    w = np.cross(u, v)
    point = np.asarray(grid.position_mm)
    origin = point + (grid.a_mm[0] - point @ u) * u + (grid.b_mm[0] - point @ v) * v
    step_b = float(grid.b_mm[1] - grid.b_mm[0]) if grid.b_mm.size > 1 else 1.0
    reference = sitk.Image([int(grid.a_mm.size), int(grid.b_mm.size), 1], sitk.sitkFloat32)
    reference.SetSpacing([_pixel_mm(grid), step_b, 1.0])
    reference.SetOrigin([float(c) for c in origin])
    reference.SetDirection([float(c) for c in np.column_stack([u, v, w]).reshape(-1)])
    moving = sitk.Cast(study_ct.to_sitk(), sitk.sitkFloat32)
    out = sitk.Resample(moving, reference, transform, sitk.sitkLinear, _AIR_HU, sitk.sitkFloat32)
    return np.asarray(sitk.GetArrayFromImage(out)[0], dtype=np.float64)


def ct_edges(hu: npt.ArrayLike, pixel_mm: float) -> npt.NDArray[np.bool_]:
    """The edge pixels of a CT slice: smoothed gradient magnitude above the threshold.

    Parameters
    ----------
    hu : array_like
        A CT slice (HU), square pixels.
    pixel_mm : float
        Pixel side (mm).

    Returns
    -------
    numpy.ndarray of bool
        True at the pixels whose gradient exceeds :data:`EDGE_HU_PER_MM`.

    Examples
    --------
    >>> step = np.where(np.arange(10) < 5, -1000.0, 40.0)[None, :].repeat(6, axis=0)
    >>> ct_edges(step, 1.0)[0].nonzero()[0].tolist()
    [3, 4, 5, 6]
    """
    image = np.asarray(hu, dtype=np.float64)
    gradient = ndimage.gaussian_gradient_magnitude(image, sigma=1.0, mode="nearest")
    edges: npt.NDArray[np.bool_] = gradient / pixel_mm > EDGE_HU_PER_MM
    return edges


def edge_agreement(planning_hu: npt.ArrayLike, study_hu: npt.ArrayLike, pixel_mm: float) -> float:
    """Fraction of the planning slice's edge pixels within tolerance of the study's edges.

    Parameters
    ----------
    planning_hu, study_hu : array_like
        The same display plane of the planning CT and of the registered study CT (HU).
    pixel_mm : float
        Pixel side (mm).

    Returns
    -------
    float
        In [0, 1]: 1 when every planning edge has a study edge within
        :data:`EDGE_TOLERANCE_MM`; NaN without planning edges.
    """
    fixed = ct_edges(planning_hu, pixel_mm)
    if not fixed.any():
        return float("nan")
    reach = max(1, round(EDGE_TOLERANCE_MM / pixel_mm))
    near = ndimage.binary_dilation(ct_edges(study_hu, pixel_mm), iterations=reach)
    return float(np.count_nonzero(fixed & near) / np.count_nonzero(fixed))


def _checkerboard(grid: PlaneGrid) -> npt.NDArray[np.bool_]:
    """True on the tiles that show the study CT."""
    a = np.floor(grid.a_mm / TILE_MM).astype(int)
    b = np.floor(grid.b_mm / TILE_MM).astype(int)
    tiles: npt.NDArray[np.bool_] = (a[None, :] + b[:, None]) % 2 == 1
    return tiles


def registration_overlay_figure(
    planning_ct: Volume,
    study_ct: Volume,
    transform: Any,
    *,
    position_mm: Sequence[float],
    window_hu: tuple[float, float] = ABDOMEN_WINDOW_HU,
    title: str = "",
    width_in: float = 7.0,
) -> tuple[Figure, tuple[float, ...]]:
    """Checkerboard of the planning CT and the registered study CT, planning edges on top.

    Parameters
    ----------
    planning_ct : Volume
        The planning CT (HU), the frame the slices are drawn in.
    study_ct : Volume
        The study's own CT (HU) in its own frame.
    transform : SimpleITK.Transform
        Planning points to study points (LPS mm), as the registration found it.
    position_mm : (x, y, z)
        The planning-frame point (mm, LPS) the axial, coronal and sagittal slices pass
        through, e.g. the liver's centroid.
    window_hu : (width, level)
        Grey-scale window (HU) of both CTs; default abdomen W400 L40.
    title : str
        Figure title (empty: none).
    width_in : float
        Figure width in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One row of three panels; each title gives the edge agreement.
    agreement : tuple of float
        :func:`edge_agreement` of each panel (axial, coronal, sagittal).

    Raises
    ------
    InputError
        A window without a positive width or a point without three coordinates.
    """
    width_hu, level_hu = (float(w) for w in window_hu)
    if not width_hu > 0.0:
        raise InputError(f"window_hu width is {width_hu!r} HU, expected a positive width")
    grids = [plane_grid(planning_ct, plane, position_mm) for plane in _PLANES]
    panel_in = (width_in - 0.4) / len(grids)
    aspect = max((g.extent[2] - g.extent[3]) / (g.extent[1] - g.extent[0]) for g in grids)
    figure = Figure(
        figsize=(width_in, panel_in * aspect + 0.5 + (0.3 if title else 0.0)),
        layout="constrained",
    )
    axes = figure.subplots(1, len(grids), squeeze=False)[0]
    agreement = []
    for ax, grid in zip(axes, grids, strict=True):
        fixed = grid.sample(planning_ct, order=1, cval=_AIR_HU)
        moving = study_ct_on_plane(study_ct, transform, grid)
        pixel = _pixel_mm(grid)
        agreement.append(edge_agreement(fixed, moving, pixel))
        board = np.where(_checkerboard(grid), moving, fixed)
        style = {"extent": grid.extent, "origin": "upper", "interpolation": "nearest"}
        ax.imshow(
            board, cmap="gray", vmin=level_hu - width_hu / 2, vmax=level_hu + width_hu / 2, **style
        )
        smooth = ndimage.gaussian_filter(fixed, sigma=1.0, mode="nearest")
        if smooth.min() < max(EDGE_LEVELS_HU) and smooth.max() > min(EDGE_LEVELS_HU):
            ax.contour(
                grid.a_mm,
                grid.b_mm,
                smooth,
                levels=list(EDGE_LEVELS_HU),
                colors=[_EDGE_COLOUR],
                linewidths=0.8,
                linestyles="solid",
            )
        decorate_panel(ax, grid)
        ax.set_title(f"{ax.get_title()}\nedges matched {agreement[-1]:.0%}", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure, tuple(agreement)
