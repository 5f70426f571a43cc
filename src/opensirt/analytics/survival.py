"""Kaplan-Meier survival, the log-rank test and Cox proportional hazards (lifelines).

- The survival curve is the Kaplan-Meier product-limit estimate (Kaplan & Meier 1958, J Am
  Stat Assoc 53:457, doi:10.1080/01621459.1958.10501452) with pointwise 95 % intervals from
  Greenwood's variance on the log(-log) scale (the "exponential Greenwood" interval of
  Kalbfleisch & Prentice 2002, The Statistical Analysis of Failure Time Data, 2nd ed., Wiley,
  doi:10.1002/9781118032985; lifelines' default).
- The median's 95 % interval is read where the pointwise log(-log) band crosses 0.5: the
  Brookmeyer-Crowley construction (Brookmeyer & Crowley 1982, Biometrics 38:29,
  doi:10.2307/2530286) with the log(-log) transform, as R's ``survfit`` reports it with
  ``conf.type = "log-log"``. A median not reached, or a bound the band never crosses, is
  ``None`` ("not reached").
- Survival at fixed times (6, 12, 24 months) is the curve's value there with its pointwise
  interval; a time beyond the last follow-up is not estimated.
- The log-rank test (Mantel 1966, Cancer Chemother Rep 50:163; Peto & Peto 1972, J R Stat Soc
  A 135:185, doi:10.2307/2344317) compares the groups' curves (k-1 degrees of freedom).
- The median follow-up is the reverse Kaplan-Meier median (Schemper & Smith 1996, Control
  Clin Trials 17:343, doi:10.1016/0197-2456(96)00075-X).

Cox models live in :mod:`opensirt.analytics.cox`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from opensirt.analytics.cohort import Cohort
from opensirt.errors import InputError

#: The times (months) at which survival is reported by default.
LANDMARK_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0)

#: The fewest patients a curve is estimated from.
MIN_PATIENTS = 2


class Endpoint(StrEnum):
    """A time-to-event endpoint of the cohort table."""

    OS = "os"  # overall survival: os_months, death
    PFS = "pfs"  # progression-free survival: pfs_months, progression

    @property
    def columns(self) -> tuple[str, str]:
        """The time and event columns of the endpoint.

        Returns
        -------
        tuple of str
            (time column in months, event flag column).
        """
        return ("os_months", "death") if self is Endpoint.OS else ("pfs_months", "progression")

    @property
    def label(self) -> str:
        """How the endpoint is written.

        Returns
        -------
        str
            "Overall survival" or "Progression-free survival".
        """
        return "Overall survival" if self is Endpoint.OS else "Progression-free survival"


def endpoint_data(cohort: Cohort, endpoint: Endpoint | str) -> pd.DataFrame:
    """The rows of the cohort with the endpoint's time and event.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    endpoint : Endpoint or str
        ``"os"`` or ``"pfs"``.

    Returns
    -------
    pandas.DataFrame
        The cohort's rows where the time is given, with ``time_months`` and ``event`` (0/1)
        added.

    Raises
    ------
    InputError
        If fewer than :data:`MIN_PATIENTS` rows give the endpoint.
    """
    time, event = Endpoint(endpoint).columns
    frame = cohort.frame
    known = frame[time].notna() & frame[event].notna()
    if int(known.sum()) < MIN_PATIENTS:
        raise InputError(
            f"{cohort.source}: too few patients with {time} and {event} for a survival curve: "
            f"n={int(known.sum())}, need at least {MIN_PATIENTS}"
        )
    out = frame.loc[known].copy()
    out["time_months"] = out[time].astype(float)
    out["event"] = out[event].astype(int)
    return out


def fit_km(time_months: Any, event: Any, label: str) -> Any:
    """A fitted lifelines ``KaplanMeierFitter`` (95 % log(-log) intervals).

    Parameters
    ----------
    time_months : array_like
        Follow-up times, months.
    event : array_like
        1 where the event happened, 0 where censored.
    label : str
        The curve's name.

    Returns
    -------
    lifelines.KaplanMeierFitter
        The fitted estimator.
    """
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=0.05).fit(time_months, event, label=label)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _median_interval(km: Any) -> tuple[float | None, float | None]:
    from lifelines.utils import median_survival_times

    bounds = median_survival_times(km.confidence_interval_)
    lower, upper = (float(v) for v in np.asarray(bounds, dtype=float).ravel()[:2])
    return _finite(lower), _finite(upper)


@dataclass(frozen=True)
class Landmark:
    """Survival at one time with its pointwise 95 % interval.

    Parameters
    ----------
    months : float
        The time.
    survival, lower, upper : float or None
        The fraction surviving (event-free) and its bounds; ``None`` beyond the follow-up.
    """

    months: float
    survival: float | None
    lower: float | None
    upper: float | None


def _landmarks(km: Any, months: Sequence[float]) -> tuple[Landmark, ...]:
    timeline = km.survival_function_.index.to_numpy(dtype=float)
    curve = km.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    band = km.confidence_interval_survival_function_.to_numpy(dtype=float)
    last = float(km.durations.max())
    out = []
    for t in months:
        if t > last:
            out.append(Landmark(float(t), None, None, None))
            continue
        row = int(np.searchsorted(timeline, t, side="right")) - 1
        lower, upper = (float(v) for v in band[row])
        out.append(Landmark(float(t), float(curve[row]), lower, upper))
    return tuple(out)


@dataclass(frozen=True)
class KmSummary:
    """One Kaplan-Meier curve in numbers.

    Parameters
    ----------
    group : str
        The group label, ``"all"`` for the whole cohort.
    n, events : int
        Patients and events.
    median_months : float or None
        The median time; ``None`` if not reached.
    median_lower, median_upper : float or None
        Its 95 % interval (see the module notes); ``None`` where not reached.
    landmarks : tuple of Landmark
        Survival at the fixed times.
    """

    group: str
    n: int
    events: int
    median_months: float | None
    median_lower: float | None
    median_upper: float | None
    landmarks: tuple[Landmark, ...]

    def to_dict(self) -> dict[str, Any]:
        """The curve's numbers as JSON-ready data.

        Returns
        -------
        dict
            group, n, events, median and interval (months), survival at each landmark.
        """
        return {
            "group": self.group,
            "n": self.n,
            "events": self.events,
            "median_months": self.median_months,
            "median_ci_months": [self.median_lower, self.median_upper],
            "survival": [
                {"months": m.months, "survival": m.survival, "ci": [m.lower, m.upper]}
                for m in self.landmarks
            ],
        }


def km_summary(data: pd.DataFrame, group: str, months: Sequence[float]) -> KmSummary:
    """The numbers of one Kaplan-Meier curve.

    Parameters
    ----------
    data : pandas.DataFrame
        Rows with ``time_months`` and ``event`` (:func:`endpoint_data`).
    group : str
        The curve's label.
    months : sequence of float
        The landmark times.

    Returns
    -------
    KmSummary
        n, events, the median with its interval and the landmark survival.
    """
    km = fit_km(data["time_months"], data["event"], group)
    lower, upper = _median_interval(km)
    return KmSummary(
        group=group,
        n=len(data),
        events=int(data["event"].sum()),
        median_months=_finite(float(km.median_survival_time_)),
        median_lower=lower,
        median_upper=upper,
        landmarks=_landmarks(km, months),
    )


@dataclass(frozen=True)
class LogRank:
    """The log-rank test between groups.

    Parameters
    ----------
    statistic : float
        The chi-square statistic.
    df : int
        Degrees of freedom (groups - 1).
    p_value : float
        Its p-value.
    """

    statistic: float
    df: int
    p_value: float


def log_rank(data: pd.DataFrame, labels: pd.Series) -> LogRank:
    """The log-rank test of equal survival across the groups.

    Parameters
    ----------
    data : pandas.DataFrame
        Rows with ``time_months`` and ``event``.
    labels : pandas.Series
        The group of each row (same index).

    Returns
    -------
    LogRank
        The chi-square statistic, its degrees of freedom and p-value.
    """
    from lifelines.statistics import multivariate_logrank_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = multivariate_logrank_test(data["time_months"], labels, data["event"])
    return LogRank(
        statistic=float(result.test_statistic),
        df=int(result.degrees_of_freedom),
        p_value=float(result.p_value),
    )


@dataclass(frozen=True)
class SurvivalSummary:
    """An endpoint's curves: the whole cohort, each group, the log-rank test.

    Parameters
    ----------
    endpoint : Endpoint
        OS or PFS.
    curves : tuple of KmSummary
        The whole cohort first, then each group.
    log_rank : LogRank or None
        Between the groups; ``None`` with fewer than two groups.
    median_follow_up_months : float or None
        The reverse Kaplan-Meier median follow-up.
    group_by : str or None
        The column of the groups.
    """

    endpoint: Endpoint
    curves: tuple[KmSummary, ...]
    log_rank: LogRank | None
    median_follow_up_months: float | None
    group_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data.

        Returns
        -------
        dict
            endpoint, curves, log_rank, median follow-up and the methods.
        """
        test = self.log_rank
        return {
            "endpoint": self.endpoint.value,
            "group_by": self.group_by,
            "median_follow_up_months": self.median_follow_up_months,
            "median_ci_method": "Brookmeyer-Crowley, from the pointwise log(-log) "
            "(exponential Greenwood) 95 % band of the Kaplan-Meier curve",
            "curves": [c.to_dict() for c in self.curves],
            "log_rank": None
            if test is None
            else {"chi_square": test.statistic, "df": test.df, "p_value": test.p_value},
        }


def survival_summary(
    cohort: Cohort,
    endpoint: Endpoint | str = Endpoint.OS,
    *,
    group_by: str | None = "group",
    months: Sequence[float] = LANDMARK_MONTHS,
) -> SurvivalSummary:
    """Kaplan-Meier curves, medians, landmark survival and the log-rank test of an endpoint.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    endpoint : Endpoint or str
        ``"os"`` (default) or ``"pfs"``.
    group_by : str or None
        The column of the groups (default ``"group"``); ``None``: the whole cohort only.
    months : sequence of float
        Landmark times (default 6, 12, 24 months).

    Returns
    -------
    SurvivalSummary
        The numbers of every curve and the test.

    Raises
    ------
    InputError
        If too few patients give the endpoint, or ``group_by`` is not a column.
    """
    chosen = Endpoint(endpoint)
    data = endpoint_data(cohort, chosen)
    labels = cohort.group_labels(group_by)
    curves = [km_summary(data, "all", months)]
    test = None
    if labels is not None:
        labels = labels.loc[data.index]
        for label in sorted(labels.unique()):
            curves.append(km_summary(data.loc[labels == label], str(label), months))
        if labels.nunique() >= 2:
            test = log_rank(data, labels)
    reverse = fit_km(data["time_months"], 1 - data["event"], "follow-up")
    return SurvivalSummary(
        endpoint=chosen,
        curves=tuple(curves),
        log_rank=test,
        median_follow_up_months=_finite(float(reverse.median_survival_time_)),
        group_by=group_by if labels is not None else None,
    )
