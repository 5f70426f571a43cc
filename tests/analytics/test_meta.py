"""Random-effects estimators: a published meta-analysis reproduced, statsmodels, properties.

The published example is the BCG vaccine meta-analysis of Colditz et al. (1994), JAMA 271:698
(13 trials, tuberculosis in vaccinated and control groups), as analysed in Viechtbauer (2010),
J Stat Softw 36(3), doi:10.18637/jss.v036.i03, whose package checks its results against
Stata's ``metan``: log risk ratio, DerSimonian-Laird -0.7141 [-1.0644, -0.3638], Q = 152.2330;
REML tau^2 = 0.3132 and I^2 = 92.22 %. The study table below is the one printed there
(columns tpos, tneg, cpos, cneg).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.analytics.meta import (
    Tau2Method,
    cochran_q,
    random_effects,
    tau2_dersimonian_laird,
    tau2_reml,
)
from opensirt.errors import InputError

# trial: (TB+ vaccinated, TB- vaccinated, TB+ control, TB- control), Colditz et al. 1994
BCG = {
    "Aronson 1948": (4, 119, 11, 128),
    "Ferguson & Simes 1949": (6, 300, 29, 274),
    "Rosenthal et al 1960": (3, 228, 11, 209),
    "Hart & Sutherland 1977": (62, 13536, 248, 12619),
    "Frimodt-Moller et al 1973": (33, 5036, 47, 5761),
    "Stein & Aronson 1953": (180, 1361, 372, 1079),
    "Vandiviere et al 1973": (8, 2537, 10, 619),
    "TPT Madras 1980": (505, 87886, 499, 87892),
    "Coetzee & Berjak 1968": (29, 7470, 45, 7232),
    "Rosenthal et al 1961": (17, 1699, 65, 1600),
    "Comstock et al 1974": (186, 50448, 141, 27197),
    "Comstock & Webster 1969": (5, 2493, 3, 2338),
    "Comstock et al 1976": (27, 16886, 29, 17825),
}


def _log_risk_ratios() -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d = (np.array(col, dtype=float) for col in zip(*BCG.values(), strict=True))
    y = np.log((a / (a + b)) / (c / (c + d)))
    v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return y, v


def test_bcg_dersimonian_laird_as_published() -> None:
    y, v = _log_risk_ratios()
    r = random_effects(y, v, "dl")
    assert r.k == 13
    assert r.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert r.ci_low == pytest.approx(-1.0644, abs=5e-5)
    assert r.ci_high == pytest.approx(-0.3638, abs=5e-5)
    assert r.q == pytest.approx(152.2330, abs=5e-4)
    assert r.q_p < 1e-20


def test_bcg_reml_as_published() -> None:
    y, v = _log_risk_ratios()
    r = random_effects(y, v, Tau2Method.REML)
    assert r.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert 100 * r.i2 == pytest.approx(92.22, abs=5e-3)


def test_dersimonian_laird_matches_statsmodels() -> None:
    meta = pytest.importorskip("statsmodels.stats.meta_analysis")
    y, v = _log_risk_ratios()
    ours = random_effects(y, v, "dl")
    theirs = meta.combine_effects(y, v, method_re="chi2")  # chi2 = DerSimonian-Laird
    assert ours.estimate == pytest.approx(theirs.mean_effect_re, rel=1e-10)
    assert ours.tau2 == pytest.approx(theirs.tau2, rel=1e-10)
    assert ours.se == pytest.approx(theirs.sd_eff_w_re, rel=1e-10)
    assert ours.q == pytest.approx(theirs.q, rel=1e-10)
    low, high = theirs.conf_int()[1]
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert ours.weights == pytest.approx(tuple(theirs.weights_rel_re), rel=1e-9)


def test_reml_solves_its_score_equation() -> None:
    # at the REML estimate (> 0): sum w^2 (y - mu)^2 = sum w - sum w^2 / sum w
    y, v = _log_risk_ratios()
    tau2 = tau2_reml(y, v)
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w**2 * (y - mu) ** 2) == pytest.approx(np.sum(w) - np.sum(w**2) / np.sum(w))


def test_homogeneous_studies_have_no_heterogeneity() -> None:
    r = random_effects([0.2, 0.2, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4], "reml")
    assert (r.tau2, r.i2) == (0.0, 0.0)
    assert r.q == pytest.approx(0.0, abs=1e-12)
    assert r.estimate == pytest.approx(0.2)


def test_prediction_interval_needs_three_studies_and_is_wider() -> None:
    two = random_effects([0.0, 1.0], [0.1, 0.1])
    assert two.pi_low is None
    assert two.pi_high is None
    three = random_effects([0.0, 1.0, 2.0], [0.1, 0.1, 0.1])
    assert three.pi_low is not None
    assert three.pi_high is not None
    assert three.pi_low < three.ci_low
    assert three.pi_high > three.ci_high
    half = 12.706204736174698 * math.sqrt(three.tau2 + three.se**2)  # t(0.975, df 1)
    assert three.pi_high - three.estimate == pytest.approx(half)


@pytest.mark.parametrize(
    ("effects", "variances", "match"),
    [
        ([0.1], [0.1], "at least 2 studies"),
        ([0.1, 0.2], [0.1], "one variance per study"),
        ([0.1, 0.2], [0.1, 0.0], "variances must be > 0"),
        ([0.1, float("nan")], [0.1, 0.1], "finite"),
    ],
)
def test_bad_input_is_named(effects: list[float], variances: list[float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        random_effects(effects, variances)


def test_unknown_method_is_named() -> None:
    with pytest.raises(InputError, match="method is 'pm', expected one of: dl, reml"):
        random_effects([0.1, 0.2], [0.1, 0.1], "pm")


studies = st.lists(
    st.tuples(st.floats(-3, 3, allow_nan=False), st.floats(0.01, 2.0, allow_nan=False)),
    min_size=2,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(studies)
def test_properties(pairs: list[tuple[float, float]]) -> None:
    y, v = (np.array(col) for col in zip(*pairs, strict=True))
    for method in Tau2Method:
        r = random_effects(y, v, method)
        assert r.tau2 >= 0.0
        assert 0.0 <= r.i2 <= 1.0
        assert y.min() - 1e-9 <= r.estimate <= y.max() + 1e-9
        assert sum(r.weights) == pytest.approx(1.0)
        shifted = random_effects(y + 1.5, v, method)  # location equivariance
        assert shifted.estimate == pytest.approx(r.estimate + 1.5, abs=1e-7)
        assert shifted.tau2 == pytest.approx(r.tau2, abs=1e-7)
    assert tau2_dersimonian_laird(y, v) == pytest.approx(
        max(
            0.0,
            (cochran_q(y, v) - (y.size - 1)) / (np.sum(1 / v) - np.sum(1 / v**2) / np.sum(1 / v)),
        )
    )
