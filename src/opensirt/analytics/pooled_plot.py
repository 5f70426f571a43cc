"""Forest plot of a pooled estimate, with a centre's own cohort beside it.

One row per study (square sized by its random-effects weight, line for its 95 % interval),
the pooled diamond (its width the 95 % confidence interval) with the prediction interval as a
thin line through it, then the centre's cohort (circle, Clopper-Pearson interval) in another
colour. The columns of text on the left name the study, its n and its estimate; the fit
(estimator, scale, I², tau², Q) is printed under the axis. No pyplot: the figure is built on
its own (see :mod:`opensirt.report.figures`).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, NullFormatter

from opensirt.analytics.pooled import Outcome, PooledResult, StudyEstimate
from opensirt.analytics.published import CohortResponse
from opensirt.errors import InputError

_STUDY = "#1f3a5f"
_POOLED = "#b42318"
_COHORT = "#d97706"
_ROW_IN = 0.32
_MONTH_TICKS = (1, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)
_TRANSFORM_NAMES = {"logit": "logit", "ft": "Freeman-Tukey double arcsine", "log": "log median"}


def _value_text(outcome: Outcome, value: float, low: float, high: float) -> str:
    if outcome is Outcome.ORR:
        return f"{100 * value:.1f} % [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{value:.1f} [{low:.1f}, {high:.1f}]"


def fit_text(result: PooledResult) -> str:
    """One line describing the fit: estimator, scale, I², tau², Q and its p value.

    Parameters
    ----------
    result : PooledResult
        The pooled estimate.

    Returns
    -------
    str
        E.g. ``"Random effects (DL, logit scale): I² = 93 %, τ² = 1.29, Q = 42.1
        (df 3, p < 0.001)"``.
    """
    m = result.model
    p = "p < 0.001" if m.q_p < 0.001 else f"p = {m.q_p:.3f}"
    scale = _TRANSFORM_NAMES.get(result.transform, result.transform)
    return (
        f"Random effects ({m.method.upper()}, {scale} scale): I² = {100 * m.i2:.0f} %, "
        f"τ² = {m.tau2:.3g}, Q = {m.q:.1f} (df {m.k - 1}, {p})"
    )


def _study_row(ax: Axes, row: float, study: StudyEstimate, max_weight: float) -> None:
    ax.plot([study.ci_low, study.ci_high], [row, row], color=_STUDY, lw=1.2)
    size = 4.0 + 8.0 * (study.weight / max_weight) ** 0.5
    ax.plot([study.value], [row], marker="s", ms=size, color=_STUDY, ls="none")


def _diamond(ax: Axes, row: float, result: PooledResult) -> None:
    if result.pi_low is not None and result.pi_high is not None:
        ax.plot([result.pi_low, result.pi_high], [row, row], color=_POOLED, lw=1.0, ls="--")
    corners = [
        (result.ci_low, row),
        (result.estimate, row + 0.3),
        (result.ci_high, row),
        (result.estimate, row - 0.3),
    ]
    ax.add_patch(Polygon(corners, closed=True, color=_POOLED, zorder=3))
    ax.axvline(result.estimate, color=_POOLED, lw=0.6, ls=":", zorder=1)


def forest_figure(
    result: PooledResult, cohort: CohortResponse | None = None, *, title: str = ""
) -> Figure:
    """The forest plot of ``result``, with ``cohort`` (an ORR) under the pooled diamond.

    Parameters
    ----------
    result : PooledResult
        The pooled estimate and its studies.
    cohort : CohortResponse, optional
        A centre's own response rate (ORR only).
    title : str
        Title above the plot.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (7.5 inches wide, 0.32 inch per row).

    Raises
    ------
    InputError
        A cohort given with a survival (OS) result.
    """
    if cohort is not None and result.outcome is not Outcome.ORR:
        raise InputError("a cohort response rate can only be shown beside a pooled ORR")
    studies = result.studies
    n_rows = len(studies) + 2 + (cohort is not None)
    fig = Figure(figsize=(7.5, 1.5 + _ROW_IN * n_rows), layout="constrained")
    ax = fig.add_subplot()
    rows = list(range(n_rows, 0, -1))
    max_weight = max(s.weight for s in studies)
    labels, texts = [], []
    for row, study in zip(rows, studies, strict=False):
        _study_row(ax, row, study, max_weight)
        labels.append(f"{study.label}  (n = {study.n})")
        texts.append(
            f"{_value_text(result.outcome, study.value, study.ci_low, study.ci_high)}  "
            f"{100 * study.weight:.0f} %"
        )
    pooled_row = rows[len(studies) + 1]
    _diamond(ax, pooled_row, result)
    labels += ["", f"Pooled, random effects (k = {result.model.k})"]
    texts += ["", _value_text(result.outcome, result.estimate, result.ci_low, result.ci_high)]
    if cohort is not None:
        row = rows[-1]
        ax.plot([cohort.ci_low, cohort.ci_high], [row, row], color=_COHORT, lw=1.6)
        ax.plot([cohort.rate], [row], marker="o", ms=8, color=_COHORT, ls="none")
        labels.append(f"{cohort.label}  (n = {cohort.n})")
        texts.append(_value_text(Outcome.ORR, cohort.rate, cohort.ci_low, cohort.ci_high))
    _axes(ax, result, rows, labels, texts)
    note = fit_text(result)
    if result.pi_low is not None and result.pi_high is not None:
        note += "; dashed: 95 % prediction interval"
    fig.supxlabel(note, fontsize=8, x=0.01, ha="left", color="#333333")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _axes(
    ax: Axes, result: PooledResult, rows: list[int], labels: list[str], texts: list[str]
) -> None:
    ax.set_yticks(rows[: len(labels)], labels, fontsize=8.5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(0.4, rows[0] + 0.6)
    right = ax.secondary_yaxis("right")
    right.set_yticks(rows[: len(texts)], texts, fontsize=8.5)
    right.tick_params(axis="y", length=0)
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)
    right.spines["right"].set_visible(False)
    if result.outcome is Outcome.ORR:
        ax.set_xlim(0.0, 1.0)
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{100 * x:.0f}")
        ax.set_xlabel("Objective response rate (%), with 95 % intervals", fontsize=9)
    else:
        ax.set_xscale("log")
        low = min(min(s.ci_low for s in result.studies), result.ci_low) / 1.15
        high = max(max(s.ci_high for s in result.studies), result.ci_high) * 1.15
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator([t for t in _MONTH_TICKS if low <= t <= high]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:g}")
        ax.set_xlabel(
            "Median overall survival (months, log scale), with 95 % intervals", fontsize=9
        )
    unit = "ORR" if result.outcome is Outcome.ORR else "Median OS (months)"
    for text, x, offset, align in (
        ("Study", 0.0, -6.0, "right"),
        (f"{unit} [95 % CI]  weight", 1.0, 6.0, "left"),
    ):
        ax.annotate(
            text, (x, 1.0), xycoords="axes fraction", xytext=(offset, 2.0),
            textcoords="offset points", ha=align, va="bottom", fontsize=8.5, fontweight="bold",
        )  # fmt: skip
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)


def save_forest(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as PNG (150 dpi, for review) or SVG (vector, for the PDF report).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The forest plot.
    path : Path
        Ends in ``.png`` or ``.svg``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        Another file type.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError(f"plot file {path} ends in {suffix or 'nothing'}, expected .png or .svg")
    figure.savefig(path, dpi=150 if suffix == ".png" else None)
    return Path(path)
