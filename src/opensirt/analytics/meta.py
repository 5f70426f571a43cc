"""Random-effects meta-analysis by inverse variance: the estimators, written from their papers.

Every study ``i`` gives an effect ``y_i`` (a transformed proportion, a log median, a log risk
ratio) and its within-study variance ``v_i``. The random-effects model is
``y_i = mu + u_i + e_i`` with ``u_i ~ N(0, tau^2)`` and ``e_i ~ N(0, v_i)``.

* ``tau^2`` by the moment estimator of DerSimonian & Laird (1986),
  doi:10.1016/0197-2456(86)90046-2, or by restricted maximum likelihood (the root of the
  REML score equation of Viechtbauer 2005, doi:10.3102/10769986030003261).
* ``mu`` by inverse-variance weights ``1 / (v_i + tau^2)``; its 95 % interval from the normal
  distribution (as both papers, and metafor and Stata's ``metan`` by default).
* Cochran's ``Q`` and its chi-squared p value; ``I^2 = tau^2 / (tau^2 + s^2)`` with ``s^2`` the
  typical within-study variance, Higgins & Thompson (2002), doi:10.1002/sim.1186 (equal
  to ``(Q - df) / Q`` under DerSimonian-Laird).
* The 95 % prediction interval for the effect in a new study,
  ``mu +/- t_{k-2} sqrt(tau^2 + se(mu)^2)``, Higgins, Thompson & Spiegelhalter (2009),
  doi:10.1111/j.1467-985X.2008.00552.x (needs three studies or more).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from opensirt.errors import InputError

#: Two-sided 95 % normal quantile.
Z_95 = float(stats.norm.ppf(0.975))
#: REML: absolute tolerance on tau^2, and the most doublings of the bracket's upper end.
REML_TOLERANCE = 1e-10
REML_MAX_ITERATIONS = 100


class Tau2Method(enum.StrEnum):
    """Estimator of the between-study variance ``tau^2``."""

    DL = "dl"  # DerSimonian & Laird 1986
    REML = "reml"  # Viechtbauer 2005


@dataclass(frozen=True)
class RandomEffects:
    """A pooled random-effects estimate, on the scale of the effects given.

    Attributes
    ----------
    estimate, se : float
        Pooled effect ``mu`` and its standard error.
    ci_low, ci_high : float
        95 % confidence interval of ``mu``.
    pi_low, pi_high : float or None
        95 % prediction interval for a new study (None with fewer than 3 studies).
    tau2 : float
        Between-study variance.
    i2 : float
        Share of the total variability due to heterogeneity, a fraction in [0, 1].
    q, q_p : float
        Cochran's Q and its chi-squared p value on ``k - 1`` degrees of freedom.
    k : int
        Number of studies.
    weights : tuple of float
        Relative random-effects weights of the studies (sum 1), in input order.
    method : Tau2Method
        The ``tau^2`` estimator.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    tau2: float
    i2: float
    q: float
    q_p: float
    k: int
    weights: tuple[float, ...]
    method: Tau2Method


def _checked(effects: ArrayLike, variances: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    y = np.asarray(effects, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    if y.shape != v.shape:
        raise InputError(
            f"effects has {y.size} values but variances has {v.size}; give one variance per study"
        )
    if y.size < 2:
        raise InputError(f"a meta-analysis needs at least 2 studies, got {y.size}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise InputError("effects and variances must be finite numbers (a study has NaN or inf)")
    if np.any(v <= 0):
        raise InputError(f"variances must be > 0, got {v.min()} (a study with no uncertainty?)")
    return y, v


def cochran_q(effects: ArrayLike, variances: ArrayLike) -> float:
    """Cochran's heterogeneity statistic ``Q = sum w_i (y_i - y_FE)^2`` with ``w_i = 1 / v_i``.

    Parameters
    ----------
    effects, variances : array_like
        Study effects and their within-study variances.

    Returns
    -------
    float
        Q (chi-squared with ``k - 1`` degrees of freedom under homogeneity).

    >>> round(cochran_q([0.0, 1.0], [1.0, 1.0]), 6)
    0.5
    """
    y, v = _checked(effects, variances)
    w = 1.0 / v
    mean = float(np.sum(w * y) / np.sum(w))
    return float(np.sum(w * (y - mean) ** 2))


def tau2_dersimonian_laird(effects: ArrayLike, variances: ArrayLike) -> float:
    """``tau^2`` by the method of moments, DerSimonian & Laird (1986), truncated at 0.

    ``tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))``.

    Parameters
    ----------
    effects, variances : array_like
        Study effects and their within-study variances.

    Returns
    -------
    float
        The estimate, >= 0.

    >>> tau2_dersimonian_laird([0.0, 0.0], [1.0, 1.0])
    0.0
    """
    y, v = _checked(effects, variances)
    w = 1.0 / v
    q = cochran_q(y, v)
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (y.size - 1)) / c)


def _reml_score(y: NDArray[np.float64], v: NDArray[np.float64], tau2: float) -> float:
    """Twice the derivative of the restricted log-likelihood: ``y'PPy - tr P``."""
    w = 1.0 / (v + tau2)
    sw = float(np.sum(w))
    mu = float(np.sum(w * y) / sw)
    return float(np.sum(w**2 * (y - mu) ** 2)) - (sw - float(np.sum(w**2)) / sw)


def tau2_reml(effects: ArrayLike, variances: ArrayLike) -> float:
    """``tau^2`` by restricted maximum likelihood (Viechtbauer 2005).

    The REML estimate solves the score equation ``y'PPy = tr P`` with
    ``P = W - W 1 1' W / 1'W1`` and ``W = diag(1/(v + tau^2))`` (Viechtbauer 2005);
    it is 0 when the score is not positive at 0. The root is bracketed by doubling and found
    by Brent's method, which, unlike Fisher scoring, cannot oscillate.

    Parameters
    ----------
    effects, variances : array_like
        Study effects and their within-study variances.

    Returns
    -------
    float
        The estimate, >= 0.

    Raises
    ------
    InputError
        If no upper bracket is found (effects that are not finite numbers).
    """
    y, v = _checked(effects, variances)
    if _reml_score(y, v, 0.0) <= 0.0:
        return 0.0
    high = max(float(np.var(y)), float(np.max(v)), 1e-8)
    for _ in range(REML_MAX_ITERATIONS):
        if _reml_score(y, v, high) < 0.0:
            return float(
                optimize.brentq(lambda t: _reml_score(y, v, t), 0.0, high, xtol=REML_TOLERANCE)
            )
        high *= 2.0
    raise InputError("the REML estimate of tau^2 has no upper bound; use --method dl")


def typical_variance(variances: ArrayLike) -> float:
    """The typical within-study variance ``s^2`` of Higgins & Thompson (2002).

    ``s^2 = (k - 1) sum w / ((sum w)^2 - sum w^2)`` with ``w = 1 / v``.

    Parameters
    ----------
    variances : array_like
        Within-study variances (> 0), two or more.

    Returns
    -------
    float
        ``s^2``.

    >>> typical_variance([0.5, 0.5, 0.5])
    0.5
    """
    w = 1.0 / np.asarray(variances, dtype=float)
    k = w.size
    return float((k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)))


def random_effects(
    effects: ArrayLike, variances: ArrayLike, method: Tau2Method | str = Tau2Method.DL
) -> RandomEffects:
    """Pool study effects under the random-effects model.

    Parameters
    ----------
    effects, variances : array_like
        Study effects and their within-study variances (> 0), at least two studies.
    method : Tau2Method or str
        ``"dl"`` (DerSimonian-Laird) or ``"reml"``.

    Returns
    -------
    RandomEffects
        Estimate, intervals, heterogeneity and weights.

    Raises
    ------
    InputError
        Fewer than two studies, mismatched lengths, non-positive variances or an unknown method.

    >>> r = random_effects([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    >>> r.estimate, r.tau2, r.i2, round(r.se, 6)
    (0.0, 0.0, 0.0, 0.57735)
    """
    try:
        method = Tau2Method(method)
    except ValueError:
        raise InputError(f"method is {method!r}, expected one of: dl, reml") from None
    y, v = _checked(effects, variances)
    tau2 = tau2_dersimonian_laird(y, v) if method is Tau2Method.DL else tau2_reml(y, v)
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = math.sqrt(1.0 / float(np.sum(w)))
    k = y.size
    q = cochran_q(y, v)
    pi_low = pi_high = None
    if k >= 3:
        half = float(stats.t.ppf(0.975, k - 2)) * math.sqrt(tau2 + se**2)
        pi_low, pi_high = mu - half, mu + half
    return RandomEffects(
        estimate=mu,
        se=se,
        ci_low=mu - Z_95 * se,
        ci_high=mu + Z_95 * se,
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=tau2,
        i2=tau2 / (tau2 + typical_variance(v)),
        q=q,
        q_p=float(stats.chi2.sf(q, k - 1)),
        k=k,
        weights=tuple(float(x) for x in w / np.sum(w)),
        method=method,
    )
