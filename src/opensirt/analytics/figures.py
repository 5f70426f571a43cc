"""The cohort figures: Kaplan-Meier curves with numbers at risk, dose-response curves.

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` (no pyplot state), which
the cohort report draws as a vector figure and :func:`save_figure` writes as SVG (for reports)
and PNG (for review).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from opensirt.analytics.cohort import Cohort
from opensirt.analytics.dose_response import DoseMeasure, LogisticFit, Outcome
from opensirt.analytics.response import clopper_pearson
from opensirt.analytics.survival import Endpoint, endpoint_data, fit_km
from opensirt.fileio import write_atomically

#: Colours of the groups' curves (colour-blind safe; Okabe & Ito 2008, "Color Universal
#: Design", https://jfly.uni-koeln.de/color/).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: Most groups drawn in one figure (more are unreadable).
MAX_CURVES = len(COLOURS)


def _ticks(last_months: float) -> np.ndarray:
    step = next(s for s in (1, 3, 6, 12, 24, 60) if last_months / s <= 10)
    return np.arange(0.0, last_months + step, step)


def km_figure(
    cohort: Cohort, endpoint: Endpoint | str = Endpoint.OS, *, group_by: str | None = "group"
) -> Figure:
    """Kaplan-Meier curves with censoring marks, 95 % bands and the numbers at risk.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    endpoint : Endpoint or str
        ``"os"`` or ``"pfs"``.
    group_by : str or None
        One curve per group of this column (at most :data:`MAX_CURVES`); ``None`` or an
        empty column: one curve for the whole cohort.

    Returns
    -------
    matplotlib.figure.Figure
        Survival (%) against months, the numbers at risk under the time axis.
    """
    chosen = Endpoint(endpoint)
    data = endpoint_data(cohort, chosen)
    labels = cohort.group_labels(group_by)
    if labels is None:
        parts = [("all patients", data)]
    else:
        labels = labels.loc[data.index]
        parts = [(str(g), data.loc[labels == g]) for g in sorted(labels.unique())][:MAX_CURVES]
    ticks = _ticks(float(data["time_months"].max()))
    rows = len(parts)
    figure = Figure(figsize=(7.0, 4.2 + 0.22 * rows), layout="constrained")
    grid = figure.add_gridspec(2, 1, height_ratios=(4.0, 0.35 + 0.22 * rows))
    ax = figure.add_subplot(grid[0])
    table = figure.add_subplot(grid[1], sharex=ax)
    for index, (name, part) in enumerate(parts):
        colour = COLOURS[index % len(COLOURS)]
        km = fit_km(part["time_months"], part["event"], name)
        times = km.survival_function_.index.to_numpy(dtype=float)
        curve = 100.0 * km.survival_function_.iloc[:, 0].to_numpy(dtype=float)
        band = 100.0 * km.confidence_interval_survival_function_.to_numpy(dtype=float)
        ax.step(times, curve, where="post", color=colour, lw=1.6, label=f"{name} (n={len(part)})")
        ax.fill_between(times, band[:, 0], band[:, 1], step="post", color=colour, alpha=0.15, lw=0)
        censored = part.loc[part["event"] == 0, "time_months"].to_numpy(dtype=float)
        at = np.searchsorted(times, censored, side="right") - 1
        ax.plot(censored, curve[at], "|", color=colour, ms=7, mew=1.1)
        at_risk = [int((part["time_months"] >= t).sum()) for t in ticks]
        for t, count in zip(ticks, at_risk, strict=True):
            table.text(t, rows - 1 - index, str(count), ha="center", va="center", fontsize=7,
                       color=colour)  # fmt: skip
    ax.set_ylim(0.0, 102.0)
    ax.set_xlim(0.0, ticks[-1])
    ax.set_xticks(ticks)
    ax.set_ylabel(f"{chosen.label} (%)")
    ax.set_xlabel("Months since the first SIRT")
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.legend(fontsize=8, frameon=False, loc="upper right", title="| censored", title_fontsize=7)
    table.set_ylim(-0.6, rows - 0.4)
    table.set_yticks(range(rows), [name for name, _ in reversed(parts)], fontsize=7)
    table.tick_params(axis="x", labelbottom=False, length=0)
    table.tick_params(axis="y", length=0, pad=16)
    for side in table.spines.values():
        side.set_visible(False)
    table.set_title("Number at risk", fontsize=8, loc="left")
    return figure


def _binned(fit: LogisticFit, bins: int) -> tuple[np.ndarray, ...]:
    """Observed proportions in dose quantile bins, with Clopper-Pearson intervals."""
    edges = np.unique(np.quantile(fit.dose_gy, np.linspace(0.0, 1.0, bins + 1)))
    index = np.clip(np.searchsorted(edges, fit.dose_gy, side="right") - 1, 0, len(edges) - 2)
    centres, shares, lows, highs = [], [], [], []
    for b in range(len(edges) - 1):
        chosen = index == b
        n, k = int(chosen.sum()), int(fit.events[chosen].sum())
        if n == 0:
            continue
        low, high = clopper_pearson(k, n)
        centres.append(float(np.median(fit.dose_gy[chosen])))
        shares += [k / n]
        lows += [low]
        highs += [high]
    return tuple(np.asarray(v) for v in (centres, shares, lows, highs))


def dose_response_figure(fit: LogisticFit, *, bins: int = 5) -> Figure:
    """A fitted dose-response (or NTCP) curve with its band, D50 and the data.

    Parameters
    ----------
    fit : LogisticFit
        The fit (:func:`opensirt.analytics.dose_response.fit_logistic`).
    bins : int
        Dose quantile bins whose observed proportions (with exact 95 % intervals) are drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Probability (%) against dose; each patient as a tick at 0 or 100 %.
    """
    response = fit.outcome is Outcome.RESPONSE
    tissue = "tumour" if response else "normal-liver"
    axis = "mean absorbed dose (Gy)" if fit.measure is DoseMeasure.DOSE else "BED (Gy, Y-90)"
    event = "Response, CR or PR" if response else "Liver toxicity, grade >= 3"
    figure = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = figure.add_subplot()
    grid = np.linspace(0.0, float(fit.dose_gy.max()) * 1.05, 300)
    p, low, high = fit.probability(grid)
    ax.fill_between(grid, 100 * low, 100 * high, color=COLOURS[0], alpha=0.15, lw=0,
                    label="95 % band")  # fmt: skip
    ax.plot(grid, 100 * p, color=COLOURS[0], lw=1.8, label="logistic fit")
    jitter = np.random.default_rng(0).uniform(-1.5, 1.5, len(fit.events))
    ax.plot(fit.dose_gy, 100 * fit.events + jitter, "|", color="#555555", ms=8, alpha=0.6,
            label="patients")  # fmt: skip
    centres, shares, lows, highs = _binned(fit, bins)
    ax.errorbar(centres, 100 * shares, yerr=100 * np.vstack([shares - lows, highs - shares]),
                fmt="o", color=COLOURS[1], ms=4, capsize=2, lw=1,
                label="observed (dose quintiles)")  # fmt: skip
    d50, d50_low, d50_high = fit.d50_gy
    if d50 is not None and 0.0 <= d50 <= grid[-1]:
        ax.axvline(d50, color=COLOURS[2], lw=1, ls="--",
                   label=f"D50 {d50:.0f} Gy ({d50_low:.0f}-{d50_high:.0f})")  # fmt: skip
    ax.set_xlim(0.0, grid[-1])
    ax.set_ylim(-5.0, 105.0)
    ax.set_xlabel(f"{tissue.capitalize()} {axis}")
    ax.set_ylabel(f"{event} (%)")
    ax.grid(True, color="#dddddd", lw=0.6)
    figure.legend(fontsize=7, frameon=False, loc="outside right upper")
    return figure


def save_figure(figure: Figure, stem: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write a figure as SVG (for reports) and PNG (150 dpi, for review), atomically.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    stem : str or path-like
        The path without suffix; ``.svg`` and ``.png`` are added.

    Returns
    -------
    tuple of pathlib.Path
        The SVG and the PNG written.
    """
    stem = Path(stem)
    paths = []
    for suffix, dpi in ((".svg", 72.0), (".png", 150.0)):
        path = stem.with_name(stem.name + suffix)

        def write(temporary: Path, fmt: str = suffix[1:], resolution: float = dpi) -> None:
            figure.savefig(temporary, format=fmt, dpi=resolution)

        paths.append(write_atomically(path, write))
    return paths[0], paths[1]
