"""Vials, decay to the treatment time and delivered activity."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.errors import InputError
from opensirt.planning import (
    activity_at_treatment_gbq,
    choose_vial,
    delivered_activity,
    therasphere_calibration_time,
    vial_window,
)

REL = 1e-9
CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))


def test_device_half_life_conventions() -> None:
    cal = datetime(2026, 11, 22, 12, tzinfo=UTC)
    later = cal + timedelta(hours=24)
    # TheraSphere and SIR-Spheres 64.1 h (their instructions), QuiremSpheres 26.8 h
    for device, half_life in (
        ("therasphere", 64.1),
        ("sir-spheres", 64.1),
        ("quiremspheres", 26.8),
    ):
        assert activity_at_treatment_gbq(3.0, cal, later, device) == pytest.approx(
            3.0 * 2 ** (-24 / half_life), rel=REL
        )


def test_calibration_sunday_noon_eastern() -> None:
    # Wednesday 25 Nov 2026 10:00 CET = 04:00 EST; the Sunday before is 22 Nov, 12:00 EST
    cal = therasphere_calibration_time(datetime(2026, 11, 25, 10, tzinfo=CET))
    assert cal == datetime(2026, 11, 22, 12, tzinfo=EST)
    # Sunday 11:00 EST is before that Sunday's calibration: the previous Sunday
    cal = therasphere_calibration_time(datetime(2026, 11, 22, 11, tzinfo=EST))
    assert cal == datetime(2026, 11, 15, 12, tzinfo=EST)
    # summer time: 12:00 EDT = 16:00 UTC
    cal = therasphere_calibration_time(datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert cal.astimezone(UTC) == datetime(2026, 6, 28, 16, tzinfo=UTC)
    with pytest.raises(InputError, match=r"has no time zone"):
        therasphere_calibration_time(datetime(2026, 7, 1, 12))


def test_choose_vial_by_hand() -> None:
    treatment = datetime(2026, 11, 25, 10, tzinfo=CET)  # 64 h after calibration
    factor = 2 ** (-64 / 64.1)  # 0.50078
    # 3 GBq needs the 7 GBq vial: 5 * 0.50078 = 2.504 < 3 <= 7 * 0.50078 = 3.505
    choice = choose_vial(3.0, treatment)
    assert choice is not None
    assert choice.vial_activity_gbq == 7.0
    assert choice.activity_at_treatment_gbq == pytest.approx(7 * factor, rel=REL)
    assert choose_vial(2.5, treatment).vial_activity_gbq == 5.0  # type: ignore[union-attr]
    assert choose_vial(20 * factor * 1.01, treatment) is None
    with pytest.raises(InputError, match=r"has no standard vials"):
        choose_vial(3.0, treatment, "quiremspheres")


def test_vial_window_by_hand() -> None:
    cal = datetime(2026, 11, 22, 12, tzinfo=EST)
    start, end = vial_window(10.0, cal, 4.0, "therasphere", tolerance=0.10)
    tau = 64.1 / math.log(2)
    # A = 4.4 GBq at t = tau ln(10 / 4.4), 4 GBq at tau ln(10 / 4)
    assert (start - cal).total_seconds() / 3600 == pytest.approx(tau * math.log(10 / 4.4), rel=1e-9)
    assert (end - cal).total_seconds() / 3600 == pytest.approx(tau * math.log(10 / 4.0), rel=1e-9)
    with pytest.raises(InputError, match=r"never holds enough"):
        vial_window(3.0, cal, 4.0, "therasphere")


def test_delivered_activity_by_hand() -> None:
    t_inj = datetime(2026, 11, 25, 10, tzinfo=CET)
    # vial assayed 2.2 GBq 3 h before injection; residual 0.15 GBq measured 1 h after
    pre = 2.2 * 2 ** (-3 / 64.1)
    residual = 0.15 * 2 ** (1 / 64.1)
    d = delivered_activity(
        pre_activity_gbq=2.2,
        pre_measured=t_inj - timedelta(hours=3),
        residual_activity_gbq=0.15,
        residual_measured=t_inj + timedelta(hours=1),
        injection=t_inj,
        device="sir-spheres",
    )
    assert d.pre_at_injection_gbq == pytest.approx(pre, rel=REL)
    assert d.residual_at_injection_gbq == pytest.approx(residual, rel=REL)
    assert d.delivered_gbq == pytest.approx(pre - residual, rel=REL)
    assert d.residual_fraction == pytest.approx(residual / pre, rel=REL)
    with pytest.raises(InputError, match=r"exceeds the activity before injection"):
        delivered_activity(
            pre_activity_gbq=1.0,
            pre_measured=t_inj,
            residual_activity_gbq=2.0,
            residual_measured=t_inj,
            injection=t_inj,
            device="sir-spheres",
        )


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.floats(0.1, 20.0), st.floats(-100.0, 300.0), st.floats(-100.0, 300.0))
def test_decay_composes(a: float, h1: float, h2: float) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    t1, t2 = t0 + timedelta(hours=h1), t0 + timedelta(hours=h1 + h2)
    direct = activity_at_treatment_gbq(a, t0, t2, "therasphere")
    stepwise = activity_at_treatment_gbq(
        activity_at_treatment_gbq(a, t0, t1, "therasphere"), t1, t2, "therasphere"
    )
    assert stepwise == pytest.approx(direct, rel=1e-9)


def test_assay_decayed_to_nothing_is_named() -> None:
    assay = datetime(2026, 11, 25, 9, tzinfo=UTC)
    late = datetime(2100, 11, 25, 9, tzinfo=UTC)
    with pytest.raises(InputError, match=r"decays to nothing by the injection at 2100"):
        delivered_activity(
            pre_activity_gbq=2.0,
            pre_measured=assay,
            residual_activity_gbq=0.0,
            residual_measured=late,
            injection=late,
            device="sir-spheres",
        )
