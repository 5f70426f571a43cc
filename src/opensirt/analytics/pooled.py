"""Pooled evidence: response rates and median survival of published SIRT series, pooled.

Proportions (responders / patients) are pooled on a transformed scale and brought back:

* logit: ``y = ln(x / (n - x))``, ``v = 1/x + 1/(n - x)``; a study with 0 or ``n`` events gets
  0.5 added to both cells (the usual continuity correction, Sweeting, Sutton & Lambert 2004,
  doi:10.1002/sim.1761);
* Freeman-Tukey double arcsine (Freeman & Tukey 1950, doi:10.1214/aoms/1177729756):
  ``y = (asin sqrt(x/(n+1)) + asin sqrt((x+1)/(n+1))) / 2``, ``v = 1 / (4n + 2)``, brought back
  with the inversion of Miller (1978), doi:10.1080/00031305.1978.10479283, at the harmonic mean
  of the study sizes (as metafor's ``transf.ipft.hm``).

Median overall survival is pooled on the log scale, its standard error taken from the
published 95 % interval as ``(ln U - ln L) / (2 * 1.96)`` (Cochrane Handbook for Systematic
Reviews of Interventions, version 6, chapter 6: a standard error from a confidence
interval); studies without an interval are left out and named.

A centre's own cohort is shown beside the pooled estimate with its exact Clopper-Pearson 95 %
interval (Clopper & Pearson 1934, doi:10.1093/biomet/26.4.404).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opensirt.analytics.meta import Z_95, RandomEffects, Tau2Method, random_effects
from opensirt.analytics.response import clopper_pearson
from opensirt.errors import InputError


class Transform(enum.StrEnum):
    """Scale on which proportions are pooled."""

    LOGIT = "logit"
    FREEMAN_TUKEY = "ft"


class Outcome(enum.StrEnum):
    """What is pooled: objective response rate or median overall survival."""

    ORR = "orr"
    OS = "os"


@dataclass(frozen=True)
class StudyEstimate:
    """One study's own estimate, on the natural scale (a proportion or months).

    Attributes
    ----------
    label : str
        Author, year and trial or arm, as printed.
    value, ci_low, ci_high : float
        The estimate and its 95 % interval (Clopper-Pearson for proportions, the published
        interval for medians).
    weight : float
        Relative random-effects weight in the pooled estimate (sum 1 over studies).
    n : int
        Patients.
    """

    label: str
    value: float
    ci_low: float
    ci_high: float
    weight: float
    n: int


@dataclass(frozen=True)
class PooledResult:
    """A pooled estimate on the natural scale with its studies.

    Attributes
    ----------
    outcome : Outcome
        ORR (a proportion) or OS (months).
    estimate, ci_low, ci_high : float
        Pooled value and its 95 % confidence interval.
    pi_low, pi_high : float or None
        95 % prediction interval (None with fewer than 3 studies).
    model : RandomEffects
        The fit on the transformed scale (tau^2, I^2, Q are on that scale).
    transform : str
        ``logit``, ``ft`` or ``log``.
    studies : tuple of StudyEstimate
        The studies, in input order.
    excluded : tuple of str
        Studies of the selection left out, with the reason.
    """

    outcome: Outcome
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    model: RandomEffects
    transform: str
    studies: tuple[StudyEstimate, ...]
    excluded: tuple[str, ...] = ()


def _check_counts(events: Iterable[int], totals: Iterable[int]) -> None:
    for x, n in zip(events, totals, strict=True):
        if n < 1 or x < 0 or x > n:
            raise InputError(
                f"responders {x} of {n} patients is impossible; expected 0 <= responders <= n "
                "and n >= 1"
            )


def transform_proportions(
    events: ArrayLike, totals: ArrayLike, transform: Transform | str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transformed proportions and their variances (see the module's formulas).

    Parameters
    ----------
    events, totals : array_like of int
        Responders and patients per study.
    transform : Transform or str
        ``"logit"`` or ``"ft"``.

    Returns
    -------
    tuple of ndarray
        Effects and variances.

    Raises
    ------
    InputError
        Impossible counts or an unknown transform.

    >>> y, v = transform_proportions([5], [10], "logit")
    >>> float(y[0]), float(v[0])
    (0.0, 0.4)
    """
    x = np.asarray(events, dtype=float).ravel()
    n = np.asarray(totals, dtype=float).ravel()
    _check_counts(x.astype(int).tolist(), n.astype(int).tolist())
    if _transform(transform) is Transform.LOGIT:
        edge = (x == 0) | (x == n)
        a = np.where(edge, x + 0.5, x)
        b = np.where(edge, n - x + 0.5, n - x)
        return np.log(a / b), 1.0 / a + 1.0 / b
    y = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    return y, 1.0 / (4.0 * n + 2.0)


def _transform(transform: Transform | str) -> Transform:
    try:
        return Transform(transform)
    except ValueError:
        raise InputError(f"transform is {transform!r}, expected one of: logit, ft") from None


def back_transform(value: float, transform: Transform | str, n_harmonic: float) -> float:
    """A pooled value brought back to a proportion.

    The inverse logit, or Miller's (1978) inversion of the double arcsine at ``n_harmonic``:
    ``p = (1 - sgn(cos t) sqrt(1 - (sin t + (sin t - 1/sin t)/n)^2)) / 2`` with ``t = 2y``,
    clamped to 0 and 1 outside the range of the transform.

    Parameters
    ----------
    value : float
        Value on the transformed scale.
    transform : Transform or str
        ``"logit"`` or ``"ft"``.
    n_harmonic : float
        Harmonic mean of the study sizes (used by ``"ft"`` only).

    Returns
    -------
    float
        A proportion in [0, 1].

    >>> round(back_transform(0.0, "logit", 10), 6)
    0.5
    >>> y, _ = transform_proportions([3], [10], "ft")
    >>> round(back_transform(float(y[0]), "ft", 10), 3)
    0.3
    """
    if _transform(transform) is Transform.LOGIT:
        return float(1.0 / (1.0 + math.exp(-value)))
    n = n_harmonic
    if value <= 0.5 * math.asin(math.sqrt(1.0 / (n + 1))):  # the transform of 0 events
        return 0.0
    if value >= 0.5 * (math.asin(math.sqrt(n / (n + 1))) + math.pi / 2):  # of n events
        return 1.0
    t = 2.0 * value
    s = math.sin(t)
    inner = 1.0 - (s + (s - 1.0 / s) / n) ** 2
    return float(0.5 * (1.0 - math.copysign(1.0, math.cos(t)) * math.sqrt(max(0.0, inner))))


def pool_proportions(
    labels: Sequence[str],
    events: Sequence[int],
    totals: Sequence[int],
    *,
    transform: Transform | str = Transform.LOGIT,
    method: Tau2Method | str = Tau2Method.DL,
) -> PooledResult:
    """Random-effects pooled proportion (e.g. objective response rate) of several studies.

    Parameters
    ----------
    labels : sequence of str
        Study labels.
    events, totals : sequence of int
        Responders and patients per study.
    transform : Transform or str
        ``"logit"`` or ``"ft"``.
    method : Tau2Method or str
        ``"dl"`` or ``"reml"``.

    Returns
    -------
    PooledResult
        Pooled proportion with its intervals, the fit and each study with its exact interval.

    Raises
    ------
    InputError
        Fewer than two studies, impossible counts, unknown transform or method.
    """
    transform = _transform(transform)
    y, v = transform_proportions(events, totals, transform)
    model = random_effects(y, v, method)
    n_hm = float(len(totals) / np.sum(1.0 / np.asarray(totals, dtype=float)))

    def back(value: float | None) -> float | None:
        return None if value is None else back_transform(value, transform, n_hm)

    studies = tuple(
        StudyEstimate(label, x / n, *clopper_pearson(x, n), weight=w, n=n)
        for label, x, n, w in zip(labels, events, totals, model.weights, strict=True)
    )
    return PooledResult(
        outcome=Outcome.ORR,
        estimate=back_transform(model.estimate, transform, n_hm),
        ci_low=back_transform(model.ci_low, transform, n_hm),
        ci_high=back_transform(model.ci_high, transform, n_hm),
        pi_low=back(model.pi_low),
        pi_high=back(model.pi_high),
        model=model,
        transform=str(transform),
        studies=studies,
    )


def log_median_se(ci_low: float, ci_high: float) -> float:
    """Standard error of ``ln(median)`` from a 95 % interval: ``(ln U - ln L) / (2 * 1.96)``.

    Parameters
    ----------
    ci_low, ci_high : float
        The interval's bounds (> 0, ``ci_low < ci_high``), months.

    Returns
    -------
    float
        The standard error on the log scale.

    Raises
    ------
    InputError
        If the bounds are not positive and increasing.

    >>> round(log_median_se(10.0, 10.0 * math.exp(2 * Z_95)), 6)
    1.0
    """
    if not 0 < ci_low < ci_high:
        raise InputError(
            f"the 95 % interval of a median is {ci_low}-{ci_high} months; expected 0 < low < high"
        )
    return (math.log(ci_high) - math.log(ci_low)) / (2.0 * Z_95)


def pool_medians(
    labels: Sequence[str],
    medians_months: Sequence[float],
    ci_lows_months: Sequence[float],
    ci_highs_months: Sequence[float],
    sizes: Sequence[int],
    *,
    method: Tau2Method | str = Tau2Method.DL,
) -> PooledResult:
    """Random-effects pooled median overall survival (log scale, inverse variance).

    Parameters
    ----------
    labels : sequence of str
        Study labels.
    medians_months, ci_lows_months, ci_highs_months : sequence of float
        Each study's median and its published 95 % interval, months.
    sizes : sequence of int
        Patients per study (shown, not used in the weights).
    method : Tau2Method or str
        ``"dl"`` or ``"reml"``.

    Returns
    -------
    PooledResult
        Pooled median (months) with its intervals.

    Raises
    ------
    InputError
        Fewer than two studies or an impossible interval.
    """
    y = np.log(np.asarray(medians_months, dtype=float))
    se = np.array(
        [log_median_se(lo, hi) for lo, hi in zip(ci_lows_months, ci_highs_months, strict=True)]
    )
    model = random_effects(y, se**2, method)

    def back(value: float | None) -> float | None:
        return None if value is None else math.exp(value)

    studies = tuple(
        StudyEstimate(label, m, lo, hi, weight=w, n=n)
        for label, m, lo, hi, w, n in zip(
            labels,
            medians_months,
            ci_lows_months,
            ci_highs_months,
            model.weights,
            sizes,
            strict=True,
        )
    )
    return PooledResult(
        outcome=Outcome.OS,
        estimate=math.exp(model.estimate),
        ci_low=math.exp(model.ci_low),
        ci_high=math.exp(model.ci_high),
        pi_low=back(model.pi_low),
        pi_high=back(model.pi_high),
        model=model,
        transform="log",
        studies=studies,
    )
