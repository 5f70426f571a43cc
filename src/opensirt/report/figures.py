"""Charts of the report, each returned as a :class:`matplotlib.figure.Figure`.

No pyplot and no global state: every function builds its own figure, ready for
:class:`~opensirt.report.document.ReportFigure`. The slice overlays live in
:mod:`opensirt.report.slices` and are re-exported here.

* :func:`dvh_figure`: cumulative dose-volume histograms, optionally a second set dashed
  (predicted vs delivered), with limit and target markers.
* :func:`predicted_vs_delivered_figure`: mean dose and D70 per structure, predicted against
  delivered, with a tolerance band.
* :func:`activity_methods_figure`: the activity each planning method gives, side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from opensirt.errors import InputError, check_fraction, check_non_negative
from opensirt.report.slices import OUTLINE_COLOURS, Plane, slice_overlay_figure

__all__ = [
    "DoseComparison",
    "DoseMarker",
    "DvhCurve",
    "MarkerKind",
    "Plane",
    "activity_methods_figure",
    "dvh_figure",
    "predicted_vs_delivered_figure",
    "slice_overlay_figure",
]

_LIMIT_COLOUR = "#b42318"
_TARGET_COLOUR = "#1b7f3b"


@dataclass(frozen=True, eq=False)
class DvhCurve:
    """A cumulative DVH: the fraction of a structure's volume receiving at least each dose.

    Parameters
    ----------
    dose_gy : array of float
        Dose levels (Gy), non-decreasing, >= 0.
    volume_fraction : array of float
        Fraction of the volume receiving at least ``dose_gy`` (in [0, 1], non-increasing).
    """

    dose_gy: npt.NDArray[np.float64]
    volume_fraction: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        dose = np.asarray(self.dose_gy, dtype=np.float64).reshape(-1)
        volume = np.asarray(self.volume_fraction, dtype=np.float64).reshape(-1)
        if dose.size != volume.size or dose.size < 2:
            raise InputError(
                f"DVH has {dose.size} dose and {volume.size} volume values, expected two arrays "
                "of the same length >= 2"
            )
        if not (np.all(np.isfinite(dose)) and dose.min() >= 0 and np.all(np.diff(dose) >= 0)):
            raise InputError("DVH dose_gy must be finite, >= 0 Gy and non-decreasing")
        if not (np.all(np.isfinite(volume)) and volume.min() >= 0 and volume.max() <= 1):
            hint = " (did you pass percentages?)" if volume.max() <= 100 else ""
            raise InputError(
                f"DVH volume_fraction spans [{volume.min():g}, {volume.max():g}], expected "
                f"fractions in [0, 1]{hint}"
            )
        if np.any(np.diff(volume) > 1e-12):
            raise InputError(
                "DVH volume_fraction increases with dose, expected a cumulative DVH "
                "(non-increasing); pass the cumulative, not the differential, histogram"
            )
        object.__setattr__(self, "dose_gy", dose)
        object.__setattr__(self, "volume_fraction", volume)


class MarkerKind(StrEnum):
    """A limit (not to exceed) or a target (to reach)."""

    LIMIT = "limit"
    TARGET = "target"


@dataclass(frozen=True)
class DoseMarker:
    """A dose limit or target drawn on a DVH.

    Without ``volume_fraction`` it is a vertical line at ``dose_gy`` (e.g. a mean-dose limit);
    with it, a point (e.g. D70 >= 100 Gy is ``DoseMarker("D70 target", 100, 0.7, ...)``).
    """

    label: str
    dose_gy: float
    volume_fraction: float | None = None
    kind: MarkerKind = MarkerKind.LIMIT

    def __post_init__(self) -> None:
        check_non_negative("DoseMarker.dose_gy", self.dose_gy, "Gy")
        if self.volume_fraction is not None:
            check_fraction("DoseMarker.volume_fraction", self.volume_fraction)
        object.__setattr__(self, "kind", MarkerKind(self.kind))


def _curves(
    name: str, curves: Mapping[str, DvhCurve | tuple[npt.ArrayLike, npt.ArrayLike]]
) -> dict[str, DvhCurve]:
    out = {}
    for label, curve in curves.items():
        try:
            out[label] = curve if isinstance(curve, DvhCurve) else DvhCurve(*curve)  # type: ignore[arg-type]
        except InputError as exc:
            raise InputError(f"{name}[{label!r}]: {exc}") from exc
    return out


def _structure_colours(names: Sequence[str]) -> dict[str, str]:
    return {name: OUTLINE_COLOURS[i % len(OUTLINE_COLOURS)] for i, name in enumerate(names)}


def dvh_figure(
    curves: Mapping[str, DvhCurve | tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    compare: Mapping[str, DvhCurve | tuple[npt.ArrayLike, npt.ArrayLike]] | None = None,
    labels: tuple[str, str] = ("predicted", "delivered"),
    markers: Sequence[DoseMarker] = (),
    title: str = "Cumulative dose-volume histograms",
    width_in: float = 7.0,
) -> Figure:
    """Cumulative DVHs, one colour per structure, volume in % of the structure.

    Parameters
    ----------
    curves : mapping name -> DvhCurve or (dose_gy, volume_fraction)
        Solid lines.
    compare : mapping, optional
        A second set drawn dashed in the same colours (same names as ``curves`` share colours).
    labels : (str, str)
        What the solid and dashed sets are, shown in the legend.
    markers : sequence of DoseMarker
        Limits (red) and targets (green).
    title : str
        Title above the axes.
    width_in : float
        Figure width in inches (7 fits an A4 page at full size).

    Returns
    -------
    matplotlib.figure.Figure
        Dose (Gy) against volume (% of each structure), legend on the right.
    """
    solid = _curves("curves", curves)
    dashed = _curves("compare", compare or {})
    colours = _structure_colours(list(dict.fromkeys([*solid, *dashed])))
    figure = Figure(figsize=(width_in, 0.6 * width_in), layout="constrained")
    ax = figure.add_subplot()
    for data, style, which in ((solid, "-", labels[0]), (dashed, "--", labels[1])):
        for name, curve in data.items():
            label = f"{name} ({which})" if dashed else name
            ax.plot(
                curve.dose_gy,
                100.0 * curve.volume_fraction,
                style,
                color=colours[name],
                linewidth=1.6,
                label=label,
            )
    for marker in markers:
        _draw_marker(ax, marker)
    ax.set_xlabel("Absorbed dose (Gy)")
    ax.set_ylabel("Volume (%)")
    ax.set_ylim(0.0, 102.0)
    ax.set_xlim(left=0.0)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_title(title, fontsize=10)
    figure.legend(fontsize=8, frameon=False, loc="outside right upper")
    return figure


def _draw_marker(ax: Axes, marker: DoseMarker) -> None:
    colour = _LIMIT_COLOUR if marker.kind is MarkerKind.LIMIT else _TARGET_COLOUR
    if marker.volume_fraction is None:
        ax.axvline(marker.dose_gy, color=colour, linestyle=":", linewidth=1.3, label=marker.label)
    else:
        ax.plot(
            [marker.dose_gy],
            [100.0 * marker.volume_fraction],
            marker="D",
            color=colour,
            linestyle="none",
            markersize=6,
            label=marker.label,
        )


@dataclass(frozen=True)
class DoseComparison:
    """Predicted and delivered dose of one structure (Gy); D70 optional."""

    structure: str
    predicted_mean_gy: float
    delivered_mean_gy: float
    predicted_d70_gy: float | None = None
    delivered_d70_gy: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "predicted_mean_gy",
            "delivered_mean_gy",
            "predicted_d70_gy",
            "delivered_d70_gy",
        ):
            value = getattr(self, name)
            if value is not None:
                check_non_negative(f"DoseComparison({self.structure!r}).{name}", value, "Gy")
        if (self.predicted_d70_gy is None) != (self.delivered_d70_gy is None):
            raise InputError(
                f"DoseComparison({self.structure!r}) has only one D70, expected both predicted "
                "and delivered D70 or neither"
            )


def predicted_vs_delivered_figure(
    comparisons: Sequence[DoseComparison],
    *,
    tolerance_fraction: float = 0.2,
    labels: tuple[str, str] = ("Predicted", "Delivered"),
    width_in: float = 7.0,
) -> Figure:
    """Bars of mean dose (and D70) per structure, and delivered against predicted.

    Left: grouped bars. Right: delivered against predicted with the identity line and the
    band ``|delivered - predicted| <= tolerance_fraction * predicted``; points outside the band
    are drawn in red.

    Parameters
    ----------
    comparisons : sequence of DoseComparison
        Predicted and delivered mean dose (and D70) per structure (Gy), at least one.
    tolerance_fraction : float
        Half-width of the agreement band, as a fraction of the predicted dose (0 to 1).
    labels : (str, str)
        Names of the two doses, predicted then delivered, in the legend and axis labels.
    width_in : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars on the left, the agreement scatter on the right.

    Raises
    ------
    InputError
        No comparison, or a tolerance outside [0, 1].
    """
    if not comparisons:
        raise InputError("comparisons is empty, expected at least one structure")
    check_fraction("tolerance_fraction", tolerance_fraction)
    figure = Figure(figsize=(width_in, 0.45 * width_in), layout="constrained")
    bars, scatter = figure.subplots(1, 2, width_ratios=(1.4, 1.0))
    _comparison_bars(bars, comparisons, labels)
    _comparison_scatter(scatter, comparisons, tolerance_fraction, labels)
    return figure


def _comparison_bars(ax: Axes, rows: Sequence[DoseComparison], labels: tuple[str, str]) -> None:
    with_d70 = any(r.predicted_d70_gy is not None for r in rows)
    series: list[tuple[str, str, str, str | None]] = [
        ("mean", "predicted_mean_gy", "delivered_mean_gy", None)
    ]
    if with_d70:
        series.append(("D70", "predicted_d70_gy", "delivered_d70_gy", "///"))
    width = 0.8 / (2 * len(series))
    x = np.arange(len(rows), dtype=np.float64)
    offset = -0.4 + width / 2
    for metric, predicted, delivered, hatch in series:
        for attribute, colour, which in (
            (predicted, "#8fa9c6", labels[0]),
            (delivered, "#1f3a5f", labels[1]),
        ):
            values = [getattr(r, attribute) for r in rows]
            heights = [np.nan if v is None else v for v in values]
            ax.bar(
                x + offset,
                heights,
                width,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                label=f"{which} {metric}",
            )
            offset += width
    ax.set_xticks(x, [r.structure for r in rows], fontsize=8)
    ax.set_ylabel("Absorbed dose (Gy)")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.set_title("Dose per structure", fontsize=10)


def _comparison_scatter(
    ax: Axes, rows: Sequence[DoseComparison], tolerance: float, labels: tuple[str, str]
) -> None:
    predicted = np.array([r.predicted_mean_gy for r in rows])
    delivered = np.array([r.delivered_mean_gy for r in rows])
    top = 1.1 * max(float(predicted.max()), float(delivered.max()), 1e-9)
    line = np.array([0.0, top])
    ax.fill_between(
        line,
        line * (1 - tolerance),
        line * (1 + tolerance),
        color="#e3f3e1",
        label=f"±{100 * tolerance:g} %",
    )
    ax.plot(line, line, color="#5f6b76", linewidth=0.8)
    outside = np.abs(delivered - predicted) > tolerance * predicted
    ax.scatter(predicted[~outside], delivered[~outside], color="#1f3a5f", zorder=3)
    ax.scatter(
        predicted[outside],
        delivered[outside],
        color=_LIMIT_COLOUR,
        zorder=3,
        label="outside tolerance" if outside.any() else None,
    )
    for p, d, r in zip(predicted, delivered, rows, strict=True):
        ax.annotate(r.structure, (p, d), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{labels[0]} mean dose (Gy)")
    ax.set_ylabel(f"{labels[1]} mean dose (Gy)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.set_title("Agreement", fontsize=10)


def activity_methods_figure(
    activities_gbq: Mapping[str, float],
    *,
    selected: str | None = None,
    max_safe_gbq: float | None = None,
    width_in: float = 7.0,
) -> Figure:
    """Horizontal bars of the activity (GBq) each method gives.

    ``selected`` (a key of ``activities_gbq``) is drawn in the accent colour; ``max_safe_gbq``
    (the largest activity meeting every limit) as a red dashed line.

    Parameters
    ----------
    activities_gbq : mapping str -> float
        Activity to inject (GBq) by method name, at least one, each >= 0.
    selected : str, optional
        The prescribed method (a key of ``activities_gbq``), drawn in the accent colour.
    max_safe_gbq : float, optional
        The largest activity (GBq) meeting every limit; None: no line.
    width_in : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per method, labelled with its activity.

    Raises
    ------
    InputError
        No method, a negative activity, or ``selected`` not among the methods.
    """
    if not activities_gbq:
        raise InputError("activities_gbq is empty, expected at least one method")
    for name, value in activities_gbq.items():
        check_non_negative(f"activities_gbq[{name!r}]", value, "GBq")
    if selected is not None and selected not in activities_gbq:
        raise InputError(f"selected is {selected!r}, expected one of {sorted(activities_gbq)}")
    names = list(activities_gbq)
    values = [float(activities_gbq[n]) for n in names]
    height_in = 0.9 + 0.35 * len(names)
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    ax = figure.add_subplot()
    colours = ["#1f3a5f" if n == selected else "#9aa5b1" for n in names]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=colours)
    for yi, value in zip(y, values, strict=True):
        ax.text(value, yi, f" {value:.2f} GBq", va="center", fontsize=8)
    if max_safe_gbq is not None:
        check_non_negative("max_safe_gbq", max_safe_gbq, "GBq")
        ax.axvline(
            max_safe_gbq,
            color=_LIMIT_COLOUR,
            linestyle="--",
            linewidth=1.2,
            label=f"maximum within limits {max_safe_gbq:.2f} GBq",
        )
        figure.legend(fontsize=8, frameon=False, loc="outside lower right")
    ax.set_yticks(y, names, fontsize=9)
    right = max([*values, max_safe_gbq or 0.0])
    ax.set_xlim(0.0, 1.25 * right if right > 0 else 1.0)
    ax.set_xlabel("Activity (GBq)")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    return figure
