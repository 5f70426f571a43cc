"""Cox proportional hazards on chosen covariates, with the test of proportional hazards.

The model (Cox 1972, J R Stat Soc B 34:187, doi:10.1111/j.2517-6161.1972.tb00899.x) is fitted
by lifelines with Efron's handling of tied times (Efron 1977, J Am Stat Assoc 72:557,
doi:10.1080/01621459.1977.10480613); hazard ratios come with Wald 95 % intervals.

Covariates are columns of the cohort table, named by the user: a column whose every given cell
is a number enters as it is (per unit: per Gy, per month); any other column is categorical and
enters as indicators against its most frequent value (the reference). Rows missing any chosen
covariate are left out, and the count of them is reported.

The proportional-hazards assumption is checked per covariate with the score test of Grambsch &
Therneau (1994, Biometrika 81:515, doi:10.1093/biomet/81.3.515) on the scaled Schoenfeld
residuals against the rank of the event times (chi-square, 1 degree of freedom), the test
lifelines' ``proportional_hazard_test(..., time_transform="rank")`` computes; it is computed
here from vectorised Schoenfeld residuals (Schoenfeld 1982, Biometrika 69:239,
doi:10.1093/biomet/69.1.239), with the risk-set means of Breslow's form, so that it takes
seconds on a 100,000-patient cohort. A small p-value (< 0.05) says the hazard ratio changes
with time: read that covariate's hazard ratio as an average.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from opensirt.analytics.cohort import Cohort
from opensirt.analytics.survival import Endpoint, endpoint_data
from opensirt.errors import InputError

#: Fewest events per model term: 5 (Vittinghoff & McCulloch 2007, Am J Epidemiol 165:710,
#: doi:10.1093/aje/kwk052, found 5-9 events per variable acceptable; Peduzzi et al. 1995,
#: J Clin Epidemiol 48:1503, doi:10.1016/0895-4356(95)00048-8, asked for 10).
MIN_EVENTS_PER_TERM = 5

#: Largest cohort whose concordance index is computed (lifelines' computation takes seconds
#: beyond it; it is reported as ``None`` there).
CONCORDANCE_MAX_PATIENTS = 20_000


def design_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """The model terms of the chosen covariates, rows with any of them missing left out.

    Parameters
    ----------
    data : pandas.DataFrame
        The cohort rows (:func:`opensirt.analytics.survival.endpoint_data`).
    covariates : sequence of str
        Column names.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        One float column per term (a numeric covariate, or ``column=value`` indicators against
        the most frequent value), indexed as ``data``; and the number of rows left out.

    Raises
    ------
    InputError
        If a covariate is not a column, or has a single value.
    """
    terms: dict[str, pd.Series] = {}
    keep = pd.Series(True, index=data.index)
    for name in covariates:
        if name not in data.columns:
            raise InputError(
                f"covariate {name!r} is not a column of the cohort table; its columns are "
                f"{list(data.columns)}"
            )
        cells = data[name]
        if pd.api.types.is_numeric_dtype(cells):  # a numeric column of the contract
            keep &= cells.notna()
            terms[name] = cells.astype(float)
            continue
        text = cells.astype(str)  # text as read: stripped, "" where missing
        given = text != ""
        keep &= given
        numbers = pd.to_numeric(text.where(given, None), errors="coerce")
        if bool(numbers[given].notna().all()):
            terms[name] = numbers.astype(float)
            continue
        levels = text[given].value_counts()
        if len(levels) < 2:
            raise InputError(f"covariate {name!r} has a single value; it cannot enter a model")
        reference = str(levels.index[0])
        for level in sorted(str(v) for v in levels.index[1:]):
            terms[f"{name}={level} (vs {reference})"] = (text == level).astype(float)
    matrix = pd.DataFrame(terms, index=data.index).loc[keep]
    return matrix, int((~keep).sum())


def schoenfeld_ph_test(
    time: npt.ArrayLike, event: npt.ArrayLike, x: npt.ArrayLike, beta: npt.ArrayLike,
    covariance: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:  # fmt: skip
    """Grambsch-Therneau test of proportional hazards per covariate (rank time transform).

    Parameters
    ----------
    time : array_like
        Follow-up times, shape (n,).
    event : array_like
        1 = event, 0 = censored, shape (n,).
    x : array_like
        Covariates, shape (n, p).
    beta : array_like
        The fitted log hazard ratios, shape (p,).
    covariance : array_like
        Their covariance matrix, shape (p, p).

    Returns
    -------
    tuple of numpy.ndarray
        The chi-square statistics (1 degree of freedom) and their p-values, shape (p,).

    Examples
    --------
    >>> t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    >>> stat, p = schoenfeld_ph_test(t, [1, 1, 1, 1, 1, 1], [[0], [1], [0], [1], [0], [1]],
    ...                              [0.0], [[0.6]])
    >>> stat.shape, bool(0.0 <= p[0] <= 1.0)
    ((1,), True)
    """
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=float)
    z = np.asarray(x, dtype=float).reshape(len(t), -1)
    b = np.asarray(beta, dtype=float)
    v = np.asarray(covariance, dtype=float).reshape(len(b), len(b))
    order = np.argsort(-t, kind="stable")  # latest first: cumulative sums are risk sets
    t, d, z = t[order], d[order], z[order]
    w = np.exp(z @ b)
    s0 = np.cumsum(w)
    s1 = np.cumsum(z * w[:, None], axis=0)
    # a tied time's risk set reaches the last row of its ties in this order
    ends = np.searchsorted(-t, -t, side="right") - 1
    mean = s1[ends] / s0[ends, None]
    events = d == 1
    residuals = (z - mean)[events]
    n_events = residuals.shape[0]
    scaled = n_events * residuals @ v  # + beta, which the centred sum below removes
    g = stats.rankdata(t[events])
    g = g - g.mean()
    statistic = (g @ scaled) ** 2 / (n_events * np.diag(v) * (g @ g))
    return statistic, stats.chi2.sf(statistic, 1)


@dataclass(frozen=True)
class HazardRatio:
    """One term of a Cox model.

    Parameters
    ----------
    term : str
        The covariate (numeric: per unit) or ``column=value (vs reference)``.
    hazard_ratio, lower, upper : float
        exp(coefficient) and its Wald 95 % interval.
    p_value : float
        Wald test of no effect.
    ph_p_value : float
        Grambsch-Therneau test of proportional hazards (small: the assumption fails).
    """

    term: str
    hazard_ratio: float
    lower: float
    upper: float
    p_value: float
    ph_p_value: float


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model.

    Parameters
    ----------
    endpoint : Endpoint
        OS or PFS.
    terms : tuple of HazardRatio
        One per model term.
    n, events : int
        Patients and events in the fit.
    left_out : int
        Patients left out for a missing covariate.
    concordance : float or None
        Harrell's concordance index of the fit (``None`` above
        :data:`CONCORDANCE_MAX_PATIENTS` patients).
    """

    endpoint: Endpoint
    terms: tuple[HazardRatio, ...]
    n: int
    events: int
    left_out: int
    concordance: float | None

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data.

        Returns
        -------
        dict
            endpoint, n, events, left_out, concordance, the terms and the methods.
        """
        return {
            "endpoint": self.endpoint.value,
            "method": "Cox proportional hazards (Efron ties), Wald 95 % intervals; "
            "proportional hazards: Grambsch-Therneau test, rank time transform",
            "n": self.n,
            "events": self.events,
            "left_out": self.left_out,
            "concordance": self.concordance,
            "terms": [t.__dict__ for t in self.terms],
        }


def cox_model(
    cohort: Cohort, covariates: Sequence[str], endpoint: Endpoint | str = Endpoint.OS
) -> CoxModel:
    """Fit a Cox proportional-hazards model and test its proportional-hazards assumption.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    covariates : sequence of str
        Column names (see the module notes for numeric and categorical columns).
    endpoint : Endpoint or str
        ``"os"`` (default) or ``"pfs"``.

    Returns
    -------
    CoxModel
        Hazard ratios with intervals and p-values, and the test of each term.

    Raises
    ------
    InputError
        If no covariate is given, one is unknown, or there are too few events for a fit
        (fewer than :data:`MIN_EVENTS_PER_TERM` per term).
    """
    from lifelines import CoxPHFitter

    if not covariates:
        raise InputError("no covariates given for the Cox model; name columns, e.g. group")
    chosen = Endpoint(endpoint)
    data = endpoint_data(cohort, chosen)
    matrix, left_out = design_matrix(data, covariates)
    time = data.loc[matrix.index, "time_months"].to_numpy(dtype=float)
    event = data.loc[matrix.index, "event"].to_numpy(dtype=int)
    need = MIN_EVENTS_PER_TERM * matrix.shape[1]
    if int(event.sum()) < need:
        raise InputError(
            f"too few events for a Cox fit: n={len(event)}, events={int(event.sum())}, need "
            f"{need} ({MIN_EVENTS_PER_TERM} per model term, {matrix.shape[1]} terms)"
        )
    frame = matrix.assign(_time=time, _event=event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = CoxPHFitter().fit(frame, "_time", "_event")
    summary = fitted.summary
    _, ph_p = schoenfeld_ph_test(
        time, event, matrix.to_numpy(dtype=float), fitted.params_.to_numpy(),
        fitted.variance_matrix_.to_numpy(),
    )  # fmt: skip
    terms = tuple(
        HazardRatio(
            term=str(name),
            hazard_ratio=float(summary.loc[name, "exp(coef)"]),
            lower=float(summary.loc[name, "exp(coef) lower 95%"]),
            upper=float(summary.loc[name, "exp(coef) upper 95%"]),
            p_value=float(summary.loc[name, "p"]),
            ph_p_value=float(ph_p[i]),
        )
        for i, name in enumerate(matrix.columns)
    )
    return CoxModel(
        endpoint=chosen,
        terms=terms,
        n=len(event),
        events=int(event.sum()),
        left_out=left_out,
        concordance=float(fitted.concordance_index_)
        if len(event) <= CONCORDANCE_MAX_PATIENTS
        else None,
    )
