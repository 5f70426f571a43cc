"""The analyses as tables of formatted cells, shared by the command line and the PDF report.

Percentages carry one decimal, times in months one decimal; an interval is written
``low-high``; a median not reached is ``NR``.

>>> percent_interval(0.512, 0.421, 0.602)
'51.2 % (42.1-60.2)'
>>> months_interval(12.5, 9.75, None)
'12.5 (9.8-NR)'
"""

from __future__ import annotations

import numpy as np

from opensirt.analytics.cohort import Cohort
from opensirt.analytics.cox import CoxModel
from opensirt.analytics.dose_response import DoseMeasure, DoseResponseSummary, Outcome
from opensirt.analytics.response import CRITERIA_TEXT, ResponseSummary
from opensirt.analytics.survival import SurvivalSummary
from opensirt.report import Table

#: How a time not reached (or a bound not estimable) is written.
NOT_REACHED = "NR"


def percent_interval(
    value: float | None, lower: float | None, upper: float | None, *, sign: str = " %"
) -> str:
    """A fraction and its interval as percentages, ``"51.2 % (42.1-60.2)"``.

    Parameters
    ----------
    value, lower, upper : float or None
        Fractions in [0, 1]; ``None`` is written as an em dash.
    sign : str
        Written after the value (default ``" %"``; ``""`` where the heading says %).

    Returns
    -------
    str
        The text.
    """
    if value is None or lower is None or upper is None:
        return "—"
    return f"{100 * value:.1f}{sign} ({100 * lower:.1f}-{100 * upper:.1f})"


def _months(value: float | None) -> str:
    return NOT_REACHED if value is None else f"{value:.1f}"


def months_interval(value: float | None, lower: float | None, upper: float | None) -> str:
    """A time in months with its interval, ``NR`` where not reached.

    Parameters
    ----------
    value, lower, upper : float or None
        Months; ``None`` means not reached.

    Returns
    -------
    str
        ``"12.5 (9.8-15.1)"``.
    """
    return f"{_months(value)} ({_months(lower)}-{_months(upper)})"


def _text(rows: list[tuple[object, ...]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(cell) for cell in row) for row in rows)


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def response_table(summary: ResponseSummary) -> Table:
    """ORR and DCR per criterion and group.

    Parameters
    ----------
    summary : ResponseSummary
        From :func:`opensirt.analytics.response.response_rates`.

    Returns
    -------
    opensirt.report.Table
        Criteria, group, n, the counts per category, ORR and DCR with 95 % intervals.
    """
    rows = [
        (
            CRITERIA_TEXT.get(r.criteria, r.criteria), r.group, r.orr.n,
            *(r.counts[c] for c in ("CR", "PR", "SD", "PD", "NE")),
            percent_interval(r.orr.proportion, r.orr.lower, r.orr.upper),
            percent_interval(r.dcr.proportion, r.dcr.lower, r.dcr.upper),
        )
        for r in summary.rows
    ]  # fmt: skip
    return Table(
        ("Criteria", "Group", "n", "CR", "PR", "SD", "PD", "NE", "ORR (95 % CI)", "DCR (95 % CI)"),
        _text(rows),
        caption="Best overall response; exact Clopper-Pearson 95 % intervals",
    )


def survival_table(summary: SurvivalSummary) -> Table:
    """Median and landmark survival of every curve of an endpoint.

    Parameters
    ----------
    summary : SurvivalSummary
        From :func:`opensirt.analytics.survival.survival_summary`.

    Returns
    -------
    opensirt.report.Table
        Group, n, events, median (95 % CI) and survival at each landmark (95 % CI).
    """
    landmarks = [m.months for m in summary.curves[0].landmarks]
    rows = [
        (
            c.group, c.n, c.events,
            months_interval(c.median_months, c.median_lower, c.median_upper),
            *(percent_interval(m.survival, m.lower, m.upper, sign="") for m in c.landmarks),
        )
        for c in summary.curves
    ]  # fmt: skip
    test = summary.log_rank
    caption = f"{summary.endpoint.label}, Kaplan-Meier"
    if test is not None:
        caption += f"; log-rank chi-square {test.statistic:.2f}, {test.df} df, p {_p(test.p_value)}"
    return Table(
        ("Group", "n", "Events", "Median, months (95 % CI)",
         *(f"{m:g} months, % (95 % CI)" for m in landmarks)),
        _text(rows),
        caption=caption,
    )  # fmt: skip


def cox_table(model: CoxModel) -> Table:
    """Hazard ratios of a Cox model with the proportional-hazards test of each term.

    Parameters
    ----------
    model : CoxModel
        From :func:`opensirt.analytics.cox.cox_model`.

    Returns
    -------
    opensirt.report.Table
        Term, hazard ratio (95 % CI), p-value, PH test p-value.
    """
    rows = [
        (t.term, f"{t.hazard_ratio:.2f} ({t.lower:.2f}-{t.upper:.2f})", _p(t.p_value),
         _p(t.ph_p_value))
        for t in model.terms
    ]  # fmt: skip
    left = f", {model.left_out} left out for a missing covariate" if model.left_out else ""
    if model.concordance is not None:
        left += f"; concordance {model.concordance:.2f}"
    return Table(
        ("Term", "Hazard ratio (95 % CI)", "p", "PH test p"),
        tuple(rows),
        caption=f"Cox model of {model.endpoint.label.lower()}: n={model.n}, "
        f"events={model.events}{left}",
    )


def dose_response_table(summary: DoseResponseSummary) -> Table:
    """The logistic dose-response fits, and the refused ones with the reason.

    Parameters
    ----------
    summary : DoseResponseSummary
        From :func:`opensirt.analytics.dose_response.dose_response`.

    Returns
    -------
    opensirt.report.Table
        Outcome, dose axis, n, events, odds ratio per 10 Gy (95 % CI), p, D50 (95 % CI).
    """
    rows = []
    for fit in summary.fits:
        d = fit.to_dict()
        d50, low, high = fit.d50_gy
        shown = "no positive slope" if d50 is None else f"{d50:.0f} ({low:.0f}-{high:.0f})"
        rows.append((
            _outcome_text(fit.outcome), _measure_text(fit.outcome, fit.measure), d["n"],
            d["events"], f"{d['odds_ratio_per_10_gy']:.2f} "
            f"({d['odds_ratio_per_10_gy_ci'][0]:.2f}-{d['odds_ratio_per_10_gy_ci'][1]:.2f})",
            _p(fit.p_value), shown,
        ))  # fmt: skip
    for outcome, measure, _ in summary.refused:
        rows.append((_outcome_text(outcome), _measure_text(outcome, measure), "—", "—",
                     "refused: too few data", "—", "—"))  # fmt: skip
    return Table(
        ("Outcome", "Dose", "n", "Events", "OR per 10 Gy (95 % CI)", "p", "D50, Gy (95 % CI)"),
        tuple(rows),
        caption="Logistic dose-response; D50 interval by the delta method",
    )


def _outcome_text(outcome: Outcome) -> str:
    return "Response (CR/PR)" if outcome is Outcome.RESPONSE else "Liver toxicity (grade >= 3)"


def _measure_text(outcome: Outcome, measure: DoseMeasure) -> str:
    tissue = "tumour" if outcome is Outcome.RESPONSE else "normal liver"
    return f"{tissue} {'mean dose' if measure is DoseMeasure.DOSE else 'BED'}"


def fit_title(outcome: Outcome, measure: DoseMeasure) -> str:
    """What a dose-response fit models, in words.

    Parameters
    ----------
    outcome : Outcome
        Response or toxicity.
    measure : DoseMeasure
        Mean dose or BED.

    Returns
    -------
    str
        E.g. ``"Response (CR/PR) against the tumour mean dose"``.

    Examples
    --------
    >>> fit_title(Outcome.TOXICITY, DoseMeasure.BED)
    'Liver toxicity (grade >= 3) against the normal liver BED'
    """
    return f"{_outcome_text(outcome)} against the {_measure_text(outcome, measure)}"


def _median_iqr(values: np.ndarray) -> str:
    if len(values) == 0:
        return "—"
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return f"{q2:.0f} ({q1:.0f}-{q3:.0f}), n={len(values)}"


def cohort_table(cohort: Cohort, os_summary: SurvivalSummary | None) -> Table:
    """The description of the cohort: patients, diagnoses, groups, follow-up, doses.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    os_summary : SurvivalSummary or None
        Overall survival (for deaths and the median follow-up), if computed.

    Returns
    -------
    opensirt.report.Table
        Two columns: what, value.
    """
    frame = cohort.frame
    n = cohort.n

    def share(count: int) -> str:
        return f"{count} ({100 * count / n:.1f} %)"

    diagnoses = frame["diagnosis"].replace("", "not given").value_counts()
    rows: list[tuple[str, str]] = [("Patients", str(n))]
    rows += [(f"Diagnosis: {name}", share(int(count))) for name, count in diagnoses.items()]
    labels = cohort.group_labels()
    if labels is not None:
        rows += [(f"Group: {name}", share(int(c))) for name, c in labels.value_counts().items()]
    rows.append(("Deaths", share(int(frame["death"].sum()))))
    if os_summary is not None:
        rows.append(("Median follow-up, months (reverse Kaplan-Meier)",
                     _months(os_summary.median_follow_up_months)))  # fmt: skip
    for column, name in (("tumour_dose_gy", "Tumour"), ("normal_liver_dose_gy", "Normal-liver")):
        values = frame[column].dropna().to_numpy(dtype=float)
        rows.append((f"{name} mean dose, Gy: median (IQR)", _median_iqr(values)))
    grades = frame["liver_toxicity_grade"].dropna()
    rows.append(("Liver toxicity grade >= 3", share(int((grades >= 3).sum()))))
    rows.append(("Best response recorded", share(int((frame["best_response"] != "").sum()))))
    return Table(("Cohort", "Value"), tuple(rows), caption=f"The cohort ({cohort.source})")
