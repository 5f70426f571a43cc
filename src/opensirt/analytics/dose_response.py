"""Dose-response: logistic models of response and of liver toxicity against absorbed dose.

The probability of an outcome at mean absorbed dose ``D`` is the logistic model
``p(D) = 1 / (1 + exp(-(b0 + b1 D)))``, fitted by maximum likelihood (statsmodels ``Logit``),
one point per patient. Response is CR or PR (best overall response; NE patients are left
out); liver toxicity is a CTCAE grade >= 3 (or REILD), whose curve against the normal-liver
dose is the NTCP. The logistic form is the one of the SIRT dose-response literature (e.g.
Strigari et al. 2010, J Nucl Med 51:1377, doi:10.2967/jnumed.110.075861; Chiesa et al. 2015,
Eur J Nucl Med Mol Imaging 42:1718, doi:10.1007/s00259-015-3068-8).

The dose of 50 % probability is ``D50 = -b0 / b1`` (TCD50/TD50). Its 95 % interval is the
delta method (Wald) interval: ``Var(D50) = g' V g`` with ``g = (-1/b1, b0/b1^2)`` and ``V``
the covariance of (b0, b1) (Finney 1971, Probit Analysis, 3rd ed., Cambridge University
Press, ch. 4; Oehlert 1992, Am Stat 46:27, doi:10.1080/00031305.1992.10475842). The curve's
band is the Wald band of the linear predictor, mapped through the logistic function. With
the BED (Gy) in place of the dose, the tumour and normal-liver BED of the mean dose come from
:func:`opensirt.dosimetry.radiobiology.bed_permanent_implant` for Y-90 (an approximation:
the BED of the mean dose is not the mean BED of a non-uniform dose).

A fit is refused, with a message saying so, when the cohort is too small: fewer than
:data:`MIN_PATIENTS` patients, fewer than :data:`MIN_PER_CLASS` patients in either outcome
class (Vittinghoff & McCulloch 2007, Am J Epidemiol 165:710, doi:10.1093/aje/kwk052: about
5-10 events per variable), or outcome classes completely separated by dose (no finite
maximum-likelihood slope; Albert & Anderson 1984, Biometrika 71:1, doi:10.1093/biomet/71.1.1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from opensirt.analytics.cohort import Cohort
from opensirt.errors import InputError

#: Fewest patients of a fit.
MIN_PATIENTS = 10
#: Fewest patients in each outcome class (see the module notes).
MIN_PER_CLASS = 5
#: CTCAE grade from which liver toxicity counts as an event.
TOXICITY_GRADE = 3
#: The z value of a two-sided 95 % interval.
Z95 = float(stats.norm.ppf(0.975))


class DoseMeasure(StrEnum):
    """The dose axis of a fit."""

    DOSE = "dose"  # mean absorbed dose, Gy
    BED = "bed"  # biologically effective dose of the mean dose, Gy (Y-90)


class Outcome(StrEnum):
    """What is modelled against the dose."""

    RESPONSE = "response"  # CR or PR, against the tumour dose
    TOXICITY = "toxicity"  # liver toxicity grade >= 3, against the normal-liver dose (NTCP)


@dataclass(frozen=True, eq=False)
class LogisticFit:
    """A fitted logistic dose-response model.

    Parameters
    ----------
    outcome : Outcome
        Response or toxicity.
    measure : DoseMeasure
        Mean dose or BED.
    dose_gy, events : numpy.ndarray
        The data: one dose (Gy) and one 0/1 outcome per patient.
    intercept, slope_per_gy : float
        b0 and b1 of the model.
    covariance : numpy.ndarray
        2 x 2 covariance of (b0, b1).
    p_value : float
        Wald test of a zero slope.
    """

    outcome: Outcome
    measure: DoseMeasure
    dose_gy: npt.NDArray[np.float64]
    events: npt.NDArray[np.int64]
    intercept: float
    slope_per_gy: float
    covariance: npt.NDArray[np.float64]
    p_value: float

    @property
    def d50_gy(self) -> tuple[float | None, float | None, float | None]:
        """The dose of 50 % probability and its delta-method 95 % interval.

        Returns
        -------
        tuple of float or None
            (D50, lower, upper) in Gy; all ``None`` when the slope is not positive (no
            dose-response to read a D50 from).
        """
        b0, b1 = self.intercept, self.slope_per_gy
        if b1 <= 0:
            return None, None, None
        d50 = -b0 / b1
        gradient = np.array([-1.0 / b1, b0 / b1**2])
        se = math.sqrt(float(gradient @ self.covariance @ gradient))
        return d50, d50 - Z95 * se, d50 + Z95 * se

    def probability(
        self, dose_gy: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The fitted probability at doses, with its pointwise 95 % band.

        Parameters
        ----------
        dose_gy : array_like
            Doses (Gy, or BED in Gy for a BED fit).

        Returns
        -------
        tuple of numpy.ndarray
            Probability, lower and upper bound, each the shape of ``dose_gy``.
        """
        d = np.asarray(dose_gy, dtype=float)
        eta = self.intercept + self.slope_per_gy * d
        v = self.covariance
        se = np.sqrt(v[0, 0] + 2 * d * v[0, 1] + d * d * v[1, 1])
        curve = stats.logistic.cdf
        return curve(eta), curve(eta - Z95 * se), curve(eta + Z95 * se)

    def to_dict(self) -> dict[str, Any]:
        """The fit as JSON-ready data.

        Returns
        -------
        dict
            outcome, measure, n, events, coefficients, odds ratio per 10 Gy, p-value, D50
            with its interval and the method.
        """
        d50, lower, upper = self.d50_gy
        se = math.sqrt(float(self.covariance[1, 1]))
        return {
            "outcome": self.outcome.value,
            "measure": self.measure.value,
            "n": len(self.events),
            "events": int(self.events.sum()),
            "intercept": self.intercept,
            "slope_per_gy": self.slope_per_gy,
            "odds_ratio_per_10_gy": math.exp(10 * self.slope_per_gy),
            "odds_ratio_per_10_gy_ci": [
                math.exp(10 * (self.slope_per_gy - Z95 * se)),
                math.exp(10 * (self.slope_per_gy + Z95 * se)),
            ],
            "p_value": self.p_value,
            "d50_gy": d50,
            "d50_ci_gy": [lower, upper],
            "d50_ci_method": "delta method (Wald)",
        }


def _check_size(dose: npt.NDArray[np.float64], events: npt.NDArray[np.int64], what: str) -> None:
    n, k = len(events), int(events.sum())
    if n < MIN_PATIENTS or min(k, n - k) < MIN_PER_CLASS:
        raise InputError(
            f"too few {what} for a fit: n={n}, with event={k}, without={n - k}; need "
            f"n >= {MIN_PATIENTS} and at least {MIN_PER_CLASS} patients with and "
            f"{MIN_PER_CLASS} without the event"
        )
    low, high = dose[events == 1], dose[events == 0]
    if low.min() > high.max() or low.max() < high.min():
        raise InputError(
            f"the {what} are completely separated by dose (every patient with the event on "
            "one side of every patient without it): no finite slope can be fitted"
        )


def fit_logistic(
    dose_gy: npt.ArrayLike, events: npt.ArrayLike, outcome: Outcome, measure: DoseMeasure
) -> LogisticFit:
    """Fit ``p(D) = 1 / (1 + exp(-(b0 + b1 D)))`` by maximum likelihood.

    Parameters
    ----------
    dose_gy : array_like
        One dose (Gy) per patient.
    events : array_like
        One 0/1 outcome per patient.
    outcome : Outcome
        What the events are (for messages and reports).
    measure : DoseMeasure
        What the dose is.

    Returns
    -------
    LogisticFit
        The coefficients, their covariance and the slope's p-value.

    Raises
    ------
    InputError
        If the data are too few or separated (see the module notes).
    """
    import statsmodels.api as sm

    dose = np.asarray(dose_gy, dtype=float)
    y = np.asarray(events, dtype=np.int64)
    what = "responders" if Outcome(outcome) is Outcome.RESPONSE else "toxicity events"
    _check_size(dose, y, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.Logit(y, sm.add_constant(dose, has_constant="add")).fit(disp=0)
    params = np.asarray(result.params, dtype=float)
    return LogisticFit(
        outcome=Outcome(outcome),
        measure=DoseMeasure(measure),
        dose_gy=dose,
        events=y,
        intercept=float(params[0]),
        slope_per_gy=float(params[1]),
        covariance=np.asarray(result.cov_params(), dtype=float),
        p_value=float(np.asarray(result.pvalues)[1]),
    )


def outcome_data(cohort: Cohort, outcome: Outcome | str) -> tuple[pd.Series, pd.Series]:
    """The dose and the 0/1 outcome of every patient who has both.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    outcome : Outcome or str
        ``"response"`` (CR/PR against ``tumour_dose_gy``; NE left out) or ``"toxicity"``
        (grade >= 3 against ``normal_liver_dose_gy``).

    Returns
    -------
    tuple of pandas.Series
        Dose (Gy) and outcome (0/1), on the same index.
    """
    frame = cohort.frame
    if Outcome(outcome) is Outcome.RESPONSE:
        known = frame["best_response"].isin(["CR", "PR", "SD", "PD"])
        known &= frame["tumour_dose_gy"].notna()
        events = frame.loc[known, "best_response"].isin(["CR", "PR"]).astype(int)
        return frame.loc[known, "tumour_dose_gy"].astype(float), events
    known = frame["liver_toxicity_grade"].notna() & frame["normal_liver_dose_gy"].notna()
    grade = frame.loc[known, "liver_toxicity_grade"].astype(int)
    return frame.loc[known, "normal_liver_dose_gy"].astype(float), (grade >= TOXICITY_GRADE).astype(
        int
    )


def bed_of_mean_dose(dose_gy: npt.ArrayLike, outcome: Outcome | str) -> npt.NDArray[np.float64]:
    """The Y-90 BED (Gy) of mean doses: tumour for response, normal liver for toxicity.

    Parameters
    ----------
    dose_gy : array_like
        Mean absorbed doses, Gy.
    outcome : Outcome or str
        Response (tumour parameters) or toxicity (normal-liver parameters).

    Returns
    -------
    numpy.ndarray
        BED in Gy (:func:`opensirt.dosimetry.radiobiology.bed_permanent_implant`).

    Examples
    --------
    >>> round(float(bed_of_mean_dose([100.0], "response")[0]), 2)
    122.87
    """
    from opensirt.dosimetry.radiobiology import bed_permanent_implant

    tissue = "tumour" if Outcome(outcome) is Outcome.RESPONSE else "normal_liver"
    return bed_permanent_implant(np.asarray(dose_gy, dtype=float), "Y-90", tissue)


@dataclass(frozen=True)
class DoseResponseSummary:
    """Every dose-response fit of a cohort, or why it was refused.

    Parameters
    ----------
    fits : tuple of LogisticFit
        The fits made.
    refused : tuple of (Outcome, DoseMeasure, str)
        The fits refused, with the reason.
    """

    fits: tuple[LogisticFit, ...]
    refused: tuple[tuple[Outcome, DoseMeasure, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data.

        Returns
        -------
        dict
            fits and refused (outcome, measure, reason).
        """
        return {
            "model": "logistic, maximum likelihood; D50 interval by the delta method",
            "fits": [f.to_dict() for f in self.fits],
            "refused": [
                {"outcome": o.value, "measure": m.value, "reason": why}
                for o, m, why in self.refused
            ],
        }


def dose_response(cohort: Cohort) -> DoseResponseSummary:
    """Fit response against tumour dose and BED, and toxicity (NTCP) against normal-liver dose
    and BED; a fit the data cannot support is listed as refused, with the reason.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.

    Returns
    -------
    DoseResponseSummary
        The fits and the refusals.
    """
    fits: list[LogisticFit] = []
    refused: list[tuple[Outcome, DoseMeasure, str]] = []
    for outcome in Outcome:
        dose, events = outcome_data(cohort, outcome)
        for measure in DoseMeasure:
            x = dose.to_numpy() if measure is DoseMeasure.DOSE else bed_of_mean_dose(dose, outcome)
            try:
                fits.append(fit_logistic(x, events.to_numpy(), outcome, measure))
            except InputError as exc:
                refused.append((outcome, measure, str(exc)))
    return DoseResponseSummary(fits=tuple(fits), refused=tuple(refused))
