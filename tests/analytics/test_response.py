"""ORR and DCR with exact Clopper-Pearson intervals, against tabulated bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from opensirt.analytics.cohort import from_records
from opensirt.analytics.response import clopper_pearson, response_rates
from opensirt.errors import InputError

# Exact (Clopper-Pearson) 95 % binomial limits for n = 10 and n = 20 to 4 decimals, as printed
# in tables of exact binomial confidence limits (e.g. Lentner (ed.), Geigy Scientific Tables,
# vol. 2, 8th ed., Ciba-Geigy 1982); scipy's binomtest(...).proportion_ci("exact") agrees.
TABULATED = [
    (0, 10, 0.0, 0.3085),
    (1, 10, 0.0025, 0.4450),
    (2, 10, 0.0252, 0.5561),
    (5, 10, 0.1871, 0.8129),
    (10, 10, 0.6915, 1.0),
    (0, 20, 0.0, 0.1684),
    (10, 20, 0.2720, 0.7280),
]


@pytest.mark.parametrize(("k", "n", "lower", "upper"), TABULATED)
def test_clopper_pearson_matches_tables(k: int, n: int, lower: float, upper: float) -> None:
    got = clopper_pearson(k, n)
    assert got == pytest.approx((lower, upper), abs=5e-5)


def test_zero_events_upper_bound_is_closed_form() -> None:
    """With no events the upper bound solves (1 - p)^n = alpha/2."""
    assert clopper_pearson(0, 25)[1] == pytest.approx(1 - 0.025 ** (1 / 25), rel=1e-12)


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10), (0, 0)])
def test_bad_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(InputError, match="expected n > 0"):
        clopper_pearson(k, n)


def _cohort() -> object:
    best = ["CR", "PR", "PR", "SD", "PD", "NE", "", "PR", "SD", "PD"]
    rows = [
        {"patient_id": f"P{i}", "group": "A" if i < 5 else "B", "os_months": 10, "death": 0,
         "best_response": r, "response_criteria": "mrecist" if r else ""}
        for i, r in enumerate(best)
    ]  # fmt: skip
    rows.append({"patient_id": "R1", "os_months": 3, "death": 1, "best_response": "PR",
                 "response_criteria": "recist1.1", "group": "A"})  # fmt: skip
    return from_records(rows, source="test")


def test_rates_per_criterion_and_group() -> None:
    summary = response_rates(_cohort())  # type: ignore[arg-type]
    rows = {(r.criteria, r.group): r for r in summary.rows}
    overall = rows[("mrecist", "all")]
    assert overall.counts == {"CR": 1, "PR": 3, "SD": 2, "PD": 2, "NE": 1}
    assert (overall.orr.events, overall.orr.n) == (4, 9)  # NE counts in the denominator
    assert (overall.dcr.events, overall.dcr.n) == (6, 9)
    assert (rows[("mrecist", "A")].orr.events, rows[("mrecist", "A")].orr.n) == (3, 5)
    assert (rows[("mrecist", "B")].orr.events, rows[("mrecist", "B")].orr.n) == (1, 4)
    assert rows[("recist1.1", "all")].orr.n == 1
    assert summary.not_assessed == 1
    assert overall.orr.lower == pytest.approx(clopper_pearson(4, 9)[0])


def test_no_response_column_is_refused() -> None:
    cohort = from_records([{"patient_id": "A", "os_months": 1, "death": 1}], source="x.csv")
    with pytest.raises(InputError, match=r"x\.csv: no patient has a best_response"):
        response_rates(cohort)


@given(n=st.integers(1, 200), data=st.data())
def test_interval_holds_the_proportion_and_its_tails(n: int, data: st.DataObject) -> None:
    """The bounds are where the binomial tails equal 2.5 % (the definition of the interval)."""
    k = data.draw(st.integers(0, n))
    lower, upper = clopper_pearson(k, n)
    assert 0.0 <= lower <= k / n <= upper <= 1.0
    if k > 0:
        assert stats.binom.sf(k - 1, n, lower) == pytest.approx(0.025, abs=1e-6)
    if k < n:
        assert stats.binom.cdf(k, n, upper) == pytest.approx(0.025, abs=1e-6)
