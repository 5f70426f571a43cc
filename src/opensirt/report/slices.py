"""Axial, coronal and sagittal slices of a CT with a dose colour wash and structure outlines.

Every image is sampled on a display plane defined in the patient frame (DICOM LPS: x to the
patient's left, y posterior, z to the head), so a dose map or mask on any grid, with any
direction cosines, lands where it belongs: each display pixel's patient position is mapped to
continuous voxel indices of each volume (:meth:`Volume.physical_to_index`) and interpolated.

Display convention: radiological, the patient's right on the image left (DICOM PS3.3 C.7.6.2.1.1
patient orientation; ACR-AAPM-SIIM practice). Axial: anterior at the top; coronal and
sagittal: superior at the top; sagittal: anterior on the left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import ndimage

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume

#: Abdominal soft-tissue window: width 400 HU, level 40 HU (common radiology default).
ABDOMEN_WINDOW_HU = (400.0, 40.0)

#: Dose wash below this fraction of the colour-scale maximum is transparent, by default.
DEFAULT_THRESHOLD_FRACTION = 0.05

#: Outline colours, distinct from one another and from the dose wash (Okabe-Ito palette,
#: Okabe & Ito 2008, "Color Universal Design").
OUTLINE_COLOURS = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2")

_MAX_PIXELS = 768
_HALO: list[patheffects.AbstractPathEffect] = [
    patheffects.withStroke(linewidth=2.8, foreground="black")
]
_AIR_HU = -1000.0


class Plane(StrEnum):
    """Display planes."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


#: For each plane: the patient-frame unit vectors of the image's column (rightwards) and row
#: (downwards) directions, in LPS, and the axis held fixed.
_PLANE_AXES: dict[Plane, tuple[tuple[float, float, float], tuple[float, float, float], int]] = {
    Plane.AXIAL: ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), 2),
    Plane.CORONAL: ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), 1),
    Plane.SAGITTAL: ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0), 0),
}
_LPS_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))
_AXIS_NAMES = ("x", "y", "z")


def orientation_letter(vector: npt.ArrayLike) -> str:
    """The patient direction (LPS) a unit vector points to, by its largest component.

    Parameters
    ----------
    vector : array_like of 3 floats
        A direction in the patient frame (LPS: x to the left, y posterior, z to the head).

    Returns
    -------
    str
        One of ``R L A P I S``.

    Examples
    --------
    >>> [orientation_letter(v) for v in ((1, 0, 0), (0, -1, 0), (0, 0, -1))]
    ['L', 'A', 'I']
    """
    v = np.asarray(vector, dtype=np.float64)
    axis = int(np.argmax(np.abs(v)))
    return _LPS_LETTERS[axis][1 if v[axis] > 0 else 0]


@dataclass(frozen=True)
class PlaneGrid:
    """A display plane: pixel centres ``point + a * u + b * v`` for the ``a``, ``b`` below.

    Attributes
    ----------
    plane : Plane
    position_mm : tuple of 3 floats
        A patient point on the plane; its fixed coordinate is the slice position.
    a_mm, b_mm : numpy.ndarray
        Coordinates along ``u`` (image columns) and ``v`` (image rows) of the pixel centres.
    """

    plane: Plane
    position_mm: tuple[float, float, float]
    a_mm: npt.NDArray[np.float64]
    b_mm: npt.NDArray[np.float64]

    @property
    def u(self) -> npt.NDArray[np.float64]:
        """Unit vector of image columns (rightwards), LPS."""
        return np.asarray(_PLANE_AXES[self.plane][0])

    @property
    def v(self) -> npt.NDArray[np.float64]:
        """Unit vector of image rows (downwards), LPS."""
        return np.asarray(_PLANE_AXES[self.plane][1])

    @property
    def slice_mm(self) -> float:
        """The plane's fixed patient coordinate (x, y or z), mm."""
        return self.position_mm[_PLANE_AXES[self.plane][2]]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``imshow`` extent (left, right, bottom, top) in mm, pixel edges included."""
        da = self.a_mm[1] - self.a_mm[0] if self.a_mm.size > 1 else 1.0
        db = self.b_mm[1] - self.b_mm[0] if self.b_mm.size > 1 else 1.0
        return (
            float(self.a_mm[0] - da / 2),
            float(self.a_mm[-1] + da / 2),
            float(self.b_mm[-1] + db / 2),
            float(self.b_mm[0] - db / 2),
        )

    def points_mm(self) -> npt.NDArray[np.float64]:
        """Patient positions of the pixel centres.

        Returns
        -------
        numpy.ndarray
            Shape (rows, columns, 3): x, y, z in mm (LPS) of each pixel centre.
        """
        p = np.asarray(self.position_mm)
        a = self.a_mm - p @ self.u
        b = self.b_mm - p @ self.v
        out: npt.NDArray[np.float64] = p + b[:, None, None] * self.v + a[None, :, None] * self.u
        return out

    def sample(self, volume: Volume, order: int = 1, cval: float = 0.0) -> npt.NDArray[np.float64]:
        """``volume`` interpolated at the pixel centres.

        Parameters
        ----------
        volume : Volume
            Any grid in the plane's frame of reference.
        order : int
            Interpolation order: 0 nearest, 1 linear (default), higher: spline.
        cval : float
            Value outside the volume's grid, in its units (e.g. -1000 HU for a CT).

        Returns
        -------
        numpy.ndarray
            Shape (rows, columns), in the volume's units.
        """
        ijk = volume.physical_to_index(self.points_mm())
        coords = np.moveaxis(ijk[..., ::-1], -1, 0)  # (k, j, i) for the [k, j, i] array
        # nearest or linear: only the box around the plane is converted (a clinical CT has 65 M
        # voxels); a margin of 2 keeps every sample's neighbours, and a box side that is not
        # the grid's edge lies beyond every sample, so edge handling is unchanged (splines of
        # higher order are prefiltered over the whole array: no box)
        shape = np.asarray(volume.shape)
        flat = coords.reshape(3, -1)
        lo = np.clip(np.floor(flat.min(axis=1)).astype(int) - 2, 0, shape - 1)
        hi = np.clip(np.ceil(flat.max(axis=1)).astype(int) + 3, lo + 1, shape)
        if order > 1:
            lo, hi = np.zeros(3, dtype=int), shape
        box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
        data = np.asarray(volume.array[box], dtype=np.float64)
        out: npt.NDArray[np.float64] = ndimage.map_coordinates(
            data, coords - lo[:, None, None], order=order, mode="constant", cval=cval
        )
        return out


def _corners_mm(volume: Volume) -> npt.NDArray[np.float64]:
    """Patient positions of the 8 outer corners of the grid (voxel edges, not centres)."""
    nk, nj, ni = volume.shape
    edges = [(-0.5, n - 0.5) for n in (ni, nj, nk)]
    corners = np.array([[i, j, k] for i in edges[0] for j in edges[1] for k in edges[2]])
    return volume.index_to_physical(corners)


def plane_grid(volume: Volume, plane: Plane | str, position_mm: Sequence[float]) -> PlaneGrid:
    """The display plane through ``position_mm`` covering ``volume``'s extent.

    Pixels are square, as fine as the volume's finest spacing (coarsened to at most
    768 pixels a side).

    Parameters
    ----------
    volume : Volume
        The volume whose grid's extent the plane covers (usually the CT).
    plane : Plane or str
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    position_mm : (x, y, z)
        A patient point (mm, LPS) on the plane: its fixed coordinate is the slice position.

    Returns
    -------
    PlaneGrid
        The plane's pixel centres.

    Raises
    ------
    InputError
        A position without three coordinates.
    """
    plane = Plane(plane)
    u, v, _ = (np.asarray(x) for x in _PLANE_AXES[plane])
    corners = _corners_mm(volume)
    spans = []
    for axis in (u, v):
        coordinate = corners @ axis
        spans.append((float(coordinate.min()), float(coordinate.max())))
    pixel_mm = min(volume.spacing_mm)
    longest = max(high - low for low, high in spans)
    pixel_mm = max(pixel_mm, longest / _MAX_PIXELS)
    axes = []
    for low, high in spans:
        n = max(1, round((high - low) / pixel_mm))
        step = (high - low) / n
        axes.append(low + step * (np.arange(n) + 0.5))
    position = tuple(float(c) for c in position_mm)
    if len(position) != 3:
        raise InputError(f"position_mm is {position_mm!r}, expected three coordinates (x, y, z) mm")
    return PlaneGrid(plane, position, axes[0], axes[1])  # type: ignore[arg-type]


def structure_centre_mm(mask: Volume) -> tuple[float, float, float]:
    """Patient position (mm) of the centroid of a mask's non-zero voxels.

    Parameters
    ----------
    mask : Volume
        A structure (non-zero inside), on any grid.

    Returns
    -------
    tuple of 3 floats
        The centroid (x, y, z) in mm, LPS.

    Raises
    ------
    InputError
        An empty mask.

    Examples
    --------
    >>> m = Volume(np.pad(np.ones((1, 1, 1), bool), ((2, 0), (0, 0), (3, 0))), (2.0, 2.0, 5.0))
    >>> structure_centre_mm(m)
    (6.0, 0.0, 10.0)
    """
    kji = np.argwhere(np.asarray(mask.array) != 0)
    if kji.size == 0:
        raise InputError("the structure mask is empty: no voxel to centre the slices on")
    centre = mask.index_to_physical(kji.mean(axis=0)[::-1])
    return (float(centre[0]), float(centre[1]), float(centre[2]))


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
    axis = _PLANE_AXES[grid.plane][2]
    ax.set_title(
        f"{grid.plane.value.capitalize()}, {_AXIS_NAMES[axis]} = {grid.slice_mm:.1f} mm", fontsize=9
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
