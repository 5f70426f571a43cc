"""Axial, coronal and sagittal slices of a CT with a dose colour wash and structure outlines.

Every image is sampled on a display plane defined in the patient frame
(:mod:`opensirt.report.planes`), so a dose map or mask on any grid, with any direction
cosines, lands where it belongs. Display convention: radiological, the patient's right on the
image left; axial: anterior at the top; coronal and sagittal: superior at the top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.report.planes import (
    Plane,
    PlaneGrid,
    orientation_letter,
    plane_grid,
    structure_centre_mm,
)

__all__ = [
    "ABDOMEN_WINDOW_HU",
    "DEFAULT_THRESHOLD_FRACTION",
    "OUTLINE_COLOURS",
    "Plane",
    "PlaneGrid",
    "SliceOverlay",
    "decorate_panel",
    "orientation_letter",
    "overlay_figure",
    "plane_grid",
    "slice_overlay_figure",
    "structure_centre_mm",
]

#: Abdominal soft-tissue window: width 400 HU, level 40 HU (common radiology default).
ABDOMEN_WINDOW_HU = (400.0, 40.0)

#: Dose wash below this fraction of the colour-scale maximum is transparent, by default.
DEFAULT_THRESHOLD_FRACTION = 0.05

#: Outline colours, distinct from one another and from the dose wash (Okabe-Ito palette,
#: Okabe & Ito 2008, "Color Universal Design").
OUTLINE_COLOURS = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2")

_HALO: list[patheffects.AbstractPathEffect] = [
    patheffects.withStroke(linewidth=2.8, foreground="black")
]
_AIR_HU = -1000.0


def _wash_colormap(name: str) -> ListedColormap:
    """``turbo`` for dose ("dose"), or the named map without its darkest quarter (emission),
    so that the lowest shown values do not read as dark CT."""
    from matplotlib import colormaps

    if name == "dose":
        return ListedColormap(colormaps["turbo"](np.linspace(0.05, 1.0, 256)), name="dose")
    return ListedColormap(colormaps[name](np.linspace(0.25, 1.0, 256)), name=name)


@dataclass(frozen=True)
class SliceOverlay:
    """What each panel of a slice figure shows: a CT, a colour wash and structure outlines.

    Attributes
    ----------
    ct : Volume
        The CT (HU), grey.
    wash : Volume or None
        The colour wash (dose in Gy, or an emission image) on any grid of the CT's frame.
    structures : mapping str -> Volume
        Named masks, outlined.
    window : (width, level)
        Grey-scale window of the CT (HU).
    wash_range : (low, high)
        Colour-scale range of the wash, in its units; transparent below ``low``.
    wash_alpha : float
        Opacity of the wash (0 to 1).
    wash_label : str
        Colour-bar label with the unit.
    wash_cmap : str
        ``"dose"`` (turbo) or a matplotlib colour map's name (its darkest quarter left out).
    """

    ct: Volume
    wash: Volume | None
    structures: Mapping[str, Volume]
    window: tuple[float, float]
    wash_range: tuple[float, float]
    wash_alpha: float
    wash_label: str = "Absorbed dose (Gy)"
    wash_cmap: str = "dose"


def _draw_panel(ax: Axes, grid: PlaneGrid, overlay: SliceOverlay) -> Any:
    width_hu, level_hu = overlay.window
    ct = grid.sample(overlay.ct, order=1, cval=_AIR_HU)
    ax.imshow(
        ct,
        cmap="gray",
        vmin=level_hu - width_hu / 2,
        vmax=level_hu + width_hu / 2,
        extent=grid.extent,
        origin="upper",
        interpolation="nearest",
    )
    mappable = None
    if overlay.wash is not None:
        wash = grid.sample(overlay.wash, order=1, cval=0.0)
        low, high = overlay.wash_range
        mappable = ax.imshow(
            np.ma.masked_less(wash, low),
            cmap=_wash_colormap(overlay.wash_cmap),
            vmin=low,
            vmax=high,
            alpha=overlay.wash_alpha,
            extent=grid.extent,
            origin="upper",
            interpolation="nearest",
        )
    for colour, (name, mask) in zip(
        _cycle(len(overlay.structures)), overlay.structures.items(), strict=True
    ):
        inside = grid.sample(mask.with_array(np.asarray(mask.array, dtype=bool)))  # 0 or 1
        if inside.max() > 0.5 > inside.min():
            contour = ax.contour(
                grid.a_mm, grid.b_mm, inside, levels=[0.5], colors=[colour], linewidths=1.4
            )
            contour.set_path_effects(_HALO)
        ax.plot([], [], color=colour, label=name)
    decorate_panel(ax, grid)
    return mappable


def _cycle(n: int) -> list[str]:
    return [OUTLINE_COLOURS[i % len(OUTLINE_COLOURS)] for i in range(n)]


def decorate_panel(ax: Axes, grid: PlaneGrid) -> None:
    """Frame a slice panel: limits, title with the slice position, orientation letters, scale bar.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel the slice was drawn in (with ``grid.extent``).
    grid : PlaneGrid
        The display plane of the panel.
    """
    left, right, bottom, top = grid.extent
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        f"{grid.plane.value.capitalize()}, {grid.slice_axis} = {grid.slice_mm:.1f} mm", fontsize=9
    )
    u, v = grid.u, grid.v
    for x, y, vector, ha, va in (
        (0.02, 0.5, -u, "left", "center"),
        (0.98, 0.5, u, "right", "center"),
        (0.5, 0.98, -v, "center", "top"),
        (0.5, 0.02, v, "center", "bottom"),
    ):
        ax.text(
            x,
            y,
            orientation_letter(vector),
            ha=ha,
            va=va,
            color="white",
            fontsize=9,
            fontweight="bold",
            transform=ax.transAxes,
        )
    _scale_bar(ax, right - left, left, bottom, top)


def _scale_bar(ax: Axes, span_mm: float, left: float, bottom: float, top: float) -> None:
    length = next((s for s in (100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0) if s <= span_mm / 4), None)
    if length is None:
        return
    x0 = left + 0.05 * span_mm
    y0 = bottom - 0.05 * (bottom - top)
    ax.add_line(Line2D([x0, x0 + length], [y0, y0], color="white", linewidth=2.0))
    ax.text(
        x0 + length / 2,
        y0 - 0.015 * (bottom - top),
        f"{length:g} mm",
        color="white",
        fontsize=7,
        ha="center",
        va="bottom",
    )


def _position(
    ct: Volume,
    dose: Volume | None,
    structures: Mapping[str, Volume],
    centre_on: str | None,
    position_mm: Sequence[float] | None,
) -> tuple[float, float, float]:
    """Where the slices cross: a structure's centroid, a given point, the dose maximum or the
    CT's centre, in that order of preference."""
    if centre_on is not None and position_mm is not None:
        raise InputError("give centre_on or position_mm, not both")
    if centre_on is not None:
        if centre_on not in structures:
            raise InputError(
                f"centre_on is {centre_on!r}, expected one of the structures {sorted(structures)}"
            )
        return structure_centre_mm(structures[centre_on])
    if position_mm is not None:
        point = tuple(float(c) for c in position_mm)
        if len(point) != 3:
            raise InputError(f"position_mm is {position_mm!r}, expected (x, y, z) in mm")
        return (point[0], point[1], point[2])
    volume, index = (
        (dose, np.unravel_index(int(np.argmax(dose.array)), dose.shape))
        if dose is not None
        else (ct, tuple((n - 1) / 2 for n in ct.shape))
    )
    centre = volume.index_to_physical(np.asarray(index, dtype=np.float64)[::-1])
    return (float(centre[0]), float(centre[1]), float(centre[2]))


def _dose_range(
    dose: Volume, threshold_gy: float | None, max_gy: float | None
) -> tuple[float, float]:
    if dose.units not in ("Gy", ""):
        raise InputError(
            f"dose.units is {dose.units!r}, expected 'Gy' (pass an absorbed-dose map, not "
            "activity or counts)"
        )
    peak = float(np.max(dose.array))
    high = peak if max_gy is None else float(max_gy)
    if not high > 0.0:
        raise InputError(
            f"dose maximum is {high!r} Gy, expected a positive dose to colour (is the dose map "
            "empty, or dose_max_gy wrong?)"
        )
    low = DEFAULT_THRESHOLD_FRACTION * high if threshold_gy is None else float(threshold_gy)
    if not 0.0 <= low < high:
        raise InputError(
            f"dose_threshold_gy is {low!r} Gy, expected a dose in [0, {high:g}) Gy (below the "
            "colour-scale maximum)"
        )
    return low, high


def slice_overlay_figure(
    ct: Volume,
    *,
    dose: Volume | None = None,
    structures: Mapping[str, Volume] | None = None,
    centre_on: str | None = None,
    position_mm: Sequence[float] | None = None,
    planes: Sequence[Plane | str] = (Plane.AXIAL, Plane.CORONAL),
    window_hu: tuple[float, float] = ABDOMEN_WINDOW_HU,
    dose_threshold_gy: float | None = None,
    dose_max_gy: float | None = None,
    dose_alpha: float = 0.55,
    title: str = "",
    width_in: float = 7.0,
) -> Figure:
    """CT slices through one point with a dose colour wash and structure outlines.

    Parameters
    ----------
    ct : Volume
        The CT in HU.
    dose : Volume, optional
        Absorbed dose (Gy) on any grid in the same frame of reference; transparent below
        ``dose_threshold_gy``.
    structures : mapping str -> Volume, optional
        Named masks (non-zero inside) on any grid in the same frame, outlined in distinct
        colours and listed in the legend.
    centre_on : str, optional
        Name of a structure: the slices pass through its centroid.
    position_mm : (x, y, z), optional
        The patient point (mm, LPS) the slices pass through. Without this and ``centre_on``,
        the slices cross at the dose maximum, or at the CT's centre without a dose.
    planes : sequence of Plane
        One panel per plane, left to right.
    window_hu : (width, level)
        Grey-scale window in HU; default abdomen W400 L40.
    dose_threshold_gy, dose_max_gy : float, optional
        Colour-scale range; defaults: 5 % of the maximum, and the dose map's maximum.
    dose_alpha : float
        Opacity of the dose wash.
    title : str
        Figure title.
    width_in : float
        Figure width in inches (7 fits an A4 page at full size).

    Returns
    -------
    matplotlib.figure.Figure
        One row of panels, the dose colour bar (with a dose) and the outlines' legend.

    Raises
    ------
    GeometryError
        If a dose or mask names another frame of reference than the CT.
    InputError
        For a dose not in Gy, an empty structure, or a bad window or range.
    """
    structures = dict(structures or {})
    for name, volume in [("dose", dose), *structures.items()]:
        if volume is not None:
            ct.require_same_frame(volume, f"CT and {name}")
    width_hu, level_hu = (float(w) for w in window_hu)
    if not width_hu > 0.0:
        raise InputError(f"window_hu width is {width_hu!r} HU, expected a positive width")
    dose_range = (0.0, 1.0) if dose is None else _dose_range(dose, dose_threshold_gy, dose_max_gy)
    overlay = SliceOverlay(ct, dose, structures, (width_hu, level_hu), dose_range, dose_alpha)
    point = _position(ct, dose, structures, centre_on, position_mm)
    grids = [plane_grid(ct, plane, point) for plane in planes]
    return overlay_figure(grids, overlay, title, width_in)


def overlay_figure(
    grids: Sequence[PlaneGrid], overlay: SliceOverlay, title: str = "", width_in: float = 7.0
) -> Figure:
    """One row of slice panels, one per display plane, with a colour bar and a legend.

    Parameters
    ----------
    grids : sequence of PlaneGrid
        The display planes, left to right.
    overlay : SliceOverlay
        What every panel shows.
    title : str
        Figure title (empty: none).
    width_in : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The panels, the wash's colour bar (when there is a wash) and the outlines' legend.
    """
    panel_in = (width_in - 1.2) / len(grids)
    aspect = max((g.extent[2] - g.extent[3]) / (g.extent[1] - g.extent[0]) for g in grids)
    height_in = (
        panel_in * aspect + 0.6 + (0.3 if title else 0.0) + (0.4 if overlay.structures else 0.0)
    )
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    axes = figure.subplots(1, len(grids), squeeze=False)[0]
    mappable = None
    for ax, grid in zip(axes, grids, strict=True):
        mappable = _draw_panel(ax, grid, overlay)
    if mappable is not None and overlay.wash is not None:
        extend = "max" if overlay.wash_range[1] < float(np.max(overlay.wash.array)) else "neither"
        bar = figure.colorbar(mappable, ax=list(axes), shrink=0.9, extend=extend)
        bar.set_label(overlay.wash_label, fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if overlay.structures:
        figure.legend(
            *axes[0].get_legend_handles_labels(),
            loc="outside lower center",
            ncols=min(len(overlay.structures), 5),
            fontsize=8,
            frameon=False,
        )
    if title:
        figure.suptitle(title, fontsize=10)
    return figure
