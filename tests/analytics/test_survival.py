"""Kaplan-Meier, log-rank and Cox against the published Freireich (1963) 6-MP analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freireich_data import freireich_cohort
from opensirt.analytics.cox import cox_model, schoenfeld_ph_test
from opensirt.analytics.survival import survival_summary
from opensirt.errors import InputError


def test_kaplan_meier_medians_and_log_rank_as_printed() -> None:
    summary = survival_summary(freireich_cohort(), months=(10.0, 12.99))
    curves = {c.group: c for c in summary.curves}
    assert curves["6-MP"].median_months == 23.0
    assert curves["placebo"].median_months == 8.0
    assert (curves["6-MP"].n, curves["6-MP"].events) == (21, 9)
    assert (curves["placebo"].n, curves["placebo"].events) == (21, 21)
    # S(t) = 0.753 for 10 <= t < 13 weeks (Kleinbaum & Klein, table of chapter 2)
    assert [round(m.survival, 3) for m in curves["6-MP"].landmarks] == [0.753, 0.753]
    assert summary.log_rank is not None
    assert round(summary.log_rank.statistic, 2) == 16.79
    assert summary.log_rank.df == 1
    assert summary.log_rank.p_value < 0.0001


def test_median_interval_is_read_from_the_log_log_band() -> None:
    curves = {c.group: c for c in survival_summary(freireich_cohort()).curves}
    six_mp = curves["6-MP"]
    assert six_mp.median_lower == 13.0
    assert six_mp.median_upper is None  # the band never falls below 50 %: not reached
    assert curves["placebo"].median_lower is not None
    assert curves["placebo"].median_lower <= 8.0 <= curves["placebo"].median_upper


def test_landmark_beyond_follow_up_is_not_estimated() -> None:
    curves = {c.group: c for c in survival_summary(freireich_cohort(), months=(24.0,)).curves}
    assert curves["placebo"].landmarks[0].survival is None  # last placebo time is 23


def test_cox_hazard_ratio_of_placebo() -> None:
    """HR 4.82 (coefficient 1.572, Efron ties), as R's coxph gives for these data."""
    model = cox_model(freireich_cohort(), ["group"])
    (term,) = model.terms
    assert term.term == "group=placebo (vs 6-MP)"
    assert term.hazard_ratio == pytest.approx(4.817, abs=0.01)
    assert term.lower < 4.817 < term.upper
    assert 0.0 <= term.ph_p_value <= 1.0


def test_ph_test_matches_lifelines_on_untied_data() -> None:
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rng = np.random.default_rng(3)
    n = 300
    x1, x2 = rng.normal(size=n), rng.integers(0, 2, n).astype(float)
    t = rng.exponential(np.exp(-0.5 * x1 - 0.3 * x2) * (1 + x2 * rng.uniform(0, 3, n)))
    c = rng.exponential(2.0, n)
    frame = pd.DataFrame({"T": np.minimum(t, c), "E": (t <= c).astype(int), "x1": x1, "x2": x2})
    fitted = CoxPHFitter().fit(frame, "T", "E")
    expected = proportional_hazard_test(fitted, frame, time_transform="rank").summary
    stat, p = schoenfeld_ph_test(
        frame["T"], frame["E"], frame[["x1", "x2"]], fitted.params_.to_numpy(),
        fitted.variance_matrix_.to_numpy(),
    )  # fmt: skip
    np.testing.assert_allclose(stat, expected["test_statistic"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(p, expected["p"].to_numpy(), rtol=1e-6)


def test_cox_refuses_too_few_events() -> None:
    cohort = freireich_cohort()
    small = type(cohort)(cohort.frame.iloc[[0, 1, 2, 25, 26]].reset_index(drop=True), "small")
    with pytest.raises(InputError, match=r"too few events for a Cox fit: n=5, events=5, need 10"):
        cox_model(small, ["group", "os_months"])


def test_unknown_covariate_is_named() -> None:
    with pytest.raises(InputError, match="covariate 'ecog' is not a column"):
        cox_model(freireich_cohort(), ["ecog"])
