"""Objective response and disease control rates with exact Clopper-Pearson intervals.

ORR is the share of patients whose best overall response is CR or PR; DCR the share with CR,
PR or SD (Eisenhauer et al. 2009, RECIST 1.1, doi:10.1016/j.ejca.2008.10.026; the same
categories under mRECIST, Lencioni & Llovet 2010, doi:10.1055/s-0030-1247132, and EASL,
Bruix et al. 2001, doi:10.1016/s0168-8278(01)00130-1). The denominator is every patient with
a best response recorded, NE included (an inevaluable patient counts as a non-responder, as
RECIST 1.1 section 4.4 asks); patients without a recorded response are counted apart. Rates
are given per response criterion, since the criteria differ (an mRECIST ORR is not a RECIST
1.1 ORR).

The interval is the exact binomial interval of Clopper & Pearson (1934, Biometrika 26:404,
doi:10.1093/biomet/26.4.404), from quantiles of the beta distribution:

>>> lower, upper = clopper_pearson(1, 10)
>>> round(lower, 4), round(upper, 4)
(0.0025, 0.445)
>>> abs(clopper_pearson(0, 10)[1] - (1 - 0.025 ** (1 / 10))) < 1e-12
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

from opensirt.analytics.cohort import CRITERIA, Cohort
from opensirt.errors import InputError

#: How each criteria code is written.
CRITERIA_TEXT = {"recist1.1": "RECIST 1.1", "mrecist": "mRECIST", "easl": "EASL", "": "unspecified"}

#: The best responses counted by each rate.
RATE_RESPONSES = {"ORR": ("CR", "PR"), "DCR": ("CR", "PR", "SD")}


def clopper_pearson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion.

    Parameters
    ----------
    events : int
        Successes, 0 <= events <= n.
    n : int
        Trials, > 0.
    level : float
        Confidence level in (0, 1) (default 0.95).

    Returns
    -------
    tuple of float
        (lower, upper) bounds of the proportion; 0 for the lower bound when ``events`` is 0,
        1 for the upper bound when ``events`` is ``n``.

    Raises
    ------
    InputError
        If the counts or the level are out of range.
    """
    if n <= 0 or not 0 <= events <= n:
        raise InputError(f"events {events} of n {n}: expected n > 0 and 0 <= events <= n")
    if not 0.0 < level < 1.0:
        raise InputError(f"level is {level}, expected a confidence level in (0, 1), e.g. 0.95")
    alpha = 1.0 - level
    lower = 0.0 if events == 0 else float(stats.beta.ppf(alpha / 2, events, n - events + 1))
    upper = 1.0 if events == n else float(stats.beta.ppf(1 - alpha / 2, events + 1, n - events))
    return lower, upper


@dataclass(frozen=True)
class Rate:
    """A proportion with its exact interval.

    Parameters
    ----------
    events : int
        Patients counted (responders).
    n : int
        Patients in the denominator.
    lower, upper : float
        The 95 % Clopper-Pearson bounds (fractions).
    """

    events: int
    n: int
    lower: float
    upper: float

    @property
    def proportion(self) -> float:
        """The observed proportion ``events / n``.

        Returns
        -------
        float
            A fraction in [0, 1].
        """
        return self.events / self.n

    def to_dict(self) -> dict[str, Any]:
        """The rate as JSON-ready data.

        Returns
        -------
        dict
            events, n, proportion, ci_lower, ci_upper (fractions).
        """
        return {
            "events": self.events,
            "n": self.n,
            "proportion": self.proportion,
            "ci_lower": self.lower,
            "ci_upper": self.upper,
        }


def rate(events: int, n: int) -> Rate:
    """A :class:`Rate` with its 95 % Clopper-Pearson interval.

    Parameters
    ----------
    events : int
        Successes.
    n : int
        Trials (> 0).

    Returns
    -------
    Rate
        The proportion and its interval.
    """
    lower, upper = clopper_pearson(events, n)
    return Rate(events, n, lower, upper)


@dataclass(frozen=True)
class ResponseRow:
    """The response of one criterion in one group.

    Parameters
    ----------
    criteria : str
        The criteria code (``""`` when the table gives none).
    group : str
        The group label, ``"all"`` for the whole cohort.
    counts : dict of str to int
        Patients per best response (CR, PR, SD, PD, NE).
    orr, dcr : Rate
        Objective response and disease control rates.
    """

    criteria: str
    group: str
    counts: dict[str, int]
    orr: Rate
    dcr: Rate

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data.

        Returns
        -------
        dict
            criteria, group, counts, orr, dcr.
        """
        return {
            "criteria": self.criteria or None,
            "group": self.group,
            "counts": self.counts,
            "orr": self.orr.to_dict(),
            "dcr": self.dcr.to_dict(),
        }


@dataclass(frozen=True)
class ResponseSummary:
    """ORR and DCR per criterion, overall and per group.

    Parameters
    ----------
    rows : tuple of ResponseRow
        Per criterion: the whole cohort first, then each group.
    not_assessed : int
        Patients without a recorded best response (left out of every denominator).
    group_by : str or None
        The column the groups come from.
    """

    rows: tuple[ResponseRow, ...]
    not_assessed: int
    group_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data.

        Returns
        -------
        dict
            rows, not_assessed, group_by and the method.
        """
        return {
            "method": "exact Clopper-Pearson 95 % interval (Clopper & Pearson 1934)",
            "group_by": self.group_by,
            "not_assessed": self.not_assessed,
            "rows": [row.to_dict() for row in self.rows],
        }


def _row(criteria: str, group: str, responses: pd.Series) -> ResponseRow:
    counts = {code: int((responses == code).sum()) for code in ("CR", "PR", "SD", "PD", "NE")}
    n = sum(counts.values())
    orr, dcr = (rate(sum(counts[c] for c in RATE_RESPONSES[k]), n) for k in ("ORR", "DCR"))
    return ResponseRow(criteria, group, counts, orr, dcr)


def response_rates(cohort: Cohort, *, group_by: str | None = "group") -> ResponseSummary:
    """ORR and DCR per response criterion, for the cohort and for each group.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    group_by : str or None
        The column whose values form the groups (default ``"group"``); ``None`` or an empty
        column: the whole cohort only.

    Returns
    -------
    ResponseSummary
        One row per criterion and group that has patients.

    Raises
    ------
    InputError
        If no patient has a best response, or ``group_by`` is not a column.
    """
    frame = cohort.frame
    assessed = frame["best_response"] != ""
    if not assessed.any():
        raise InputError(
            f"{cohort.source}: no patient has a best_response; the response rates need the "
            "columns best_response (CR, PR, SD, PD, NE) and response_criteria"
        )
    labels = cohort.group_labels(group_by)
    rows: list[ResponseRow] = []
    order = [c for c in (*CRITERIA, "") if (frame.loc[assessed, "response_criteria"] == c).any()]
    for criteria in order:
        chosen = assessed & (frame["response_criteria"] == criteria)
        rows.append(_row(criteria, "all", frame.loc[chosen, "best_response"]))
        if labels is None:
            continue
        for label in sorted(labels[chosen].unique()):
            members = chosen & (labels == label)
            rows.append(_row(criteria, str(label), frame.loc[members, "best_response"]))
    return ResponseSummary(
        rows=tuple(rows),
        not_assessed=int((~assessed).sum()),
        group_by=group_by if labels is not None else None,
    )
