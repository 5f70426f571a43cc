"""Logistic dose-response: a hand-solvable fit, D50 and its interval, and the refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opensirt.analytics.cohort import from_records
from opensirt.analytics.dose_response import (
    DoseMeasure,
    Outcome,
    dose_response,
    fit_logistic,
)
from opensirt.errors import InputError


def _two_levels() -> tuple[np.ndarray, np.ndarray]:
    """10 patients at 50 Gy (3 respond) and 10 at 150 Gy (7 respond)."""
    dose = np.array([50.0] * 10 + [150.0] * 10)
    events = np.array([1] * 3 + [0] * 7 + [1] * 7 + [0] * 3)
    return dose, events


def test_saturated_two_level_fit_is_solved_by_hand() -> None:
    """With two dose levels the fit passes through both observed logits:
    b1 = (logit 0.7 - logit 0.3) / 100 Gy, D50 = 100 Gy by symmetry, and
    Var(logit p) = 1 / (n p (1 - p)) at each level, so SE(b1) = sqrt(2 / 2.1) / 100."""
    fit = fit_logistic(*_two_levels(), Outcome.RESPONSE, DoseMeasure.DOSE)
    logit = math.log(0.7 / 0.3)
    assert fit.slope_per_gy == pytest.approx(2 * logit / 100.0, rel=1e-6)
    assert fit.intercept == pytest.approx(-logit - 50.0 * 2 * logit / 100.0, rel=1e-6)
    assert math.sqrt(fit.covariance[1, 1]) == pytest.approx(math.sqrt(2 / 2.1) / 100.0, rel=1e-5)
    d50, lower, upper = fit.d50_gy
    assert d50 == pytest.approx(100.0, rel=1e-6)
    assert lower is not None
    assert upper is not None
    assert lower < 100.0 < upper
    assert 100.0 - lower == pytest.approx(upper - 100.0)  # the delta interval is symmetric
    p, low, high = fit.probability([50.0, 100.0, 150.0])
    np.testing.assert_allclose(p, [0.3, 0.5, 0.7], rtol=1e-6)
    assert np.all(low < p)
    assert np.all(p < high)


def test_fit_recovers_a_known_curve() -> None:
    rng = np.random.default_rng(12)
    dose = rng.uniform(20.0, 400.0, 2000)
    events = (rng.random(2000) < 1 / (1 + np.exp(-(dose - 150.0) / 40.0))).astype(int)
    d50, lower, upper = fit_logistic(dose, events, Outcome.RESPONSE, DoseMeasure.DOSE).d50_gy
    assert d50 == pytest.approx(150.0, abs=10.0)
    assert lower is not None
    assert upper is not None
    assert lower < 150.0 < upper


def test_too_few_events_are_refused_with_the_numbers() -> None:
    dose = np.linspace(10.0, 200.0, 30)
    events = np.zeros(30, dtype=int)
    events[[5, 20]] = 1
    with pytest.raises(InputError, match=r"too few responders for a fit: n=30, with event=2"):
        fit_logistic(dose, events, Outcome.RESPONSE, DoseMeasure.DOSE)


def test_separated_classes_are_refused() -> None:
    dose = np.linspace(10.0, 200.0, 20)
    events = (dose > 100.0).astype(int)
    with pytest.raises(InputError, match="completely separated by dose"):
        fit_logistic(dose, events, Outcome.TOXICITY, DoseMeasure.DOSE)


def test_cohort_fits_and_refusals() -> None:
    dose, events = _two_levels()
    rows = [
        {"patient_id": f"P{i}", "os_months": 5, "death": 0, "tumour_dose_gy": d,
         "best_response": "PR" if e else "PD", "response_criteria": "recist1.1",
         "normal_liver_dose_gy": 30, "liver_toxicity_grade": 3 if i == 0 else 1}
        for i, (d, e) in enumerate(zip(dose, events, strict=True))
    ]  # fmt: skip
    summary = dose_response(from_records(rows, source="t"))
    assert [(f.outcome, f.measure) for f in summary.fits] == [
        (Outcome.RESPONSE, DoseMeasure.DOSE),
        (Outcome.RESPONSE, DoseMeasure.BED),
    ]
    assert {(o, m) for o, m, _ in summary.refused} == {
        (Outcome.TOXICITY, DoseMeasure.DOSE),
        (Outcome.TOXICITY, DoseMeasure.BED),
    }
    assert "too few toxicity events for a fit: n=20, with event=1" in summary.refused[0][2]
    assert summary.to_dict()["fits"][0]["d50_gy"] == pytest.approx(100.0, rel=1e-6)
