"""SIRT eligibility rules, thresholds as data, overrides and the verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opensirt.clinical.eligibility import (
    EligibilityInputs,
    EligibilityRule,
    EligibilityThresholds,
    RuleStatus,
    Verdict,
    check_eligibility,
)
from opensirt.clinical.liver_function import albi, child_pugh
from opensirt.errors import InputError
from opensirt.patient.inputs import Ascites, PriorTreatment, TreatmentExtent
from opensirt.physics.devices import SIR_SPHERES, THERASPHERE

_CP_A5 = child_pugh(bilirubin_mg_dl=1.0, albumin_g_dl=4.0, ascites="none",
                    encephalopathy_grade=0, inr=1.0)  # fmt: skip
_GOOD = EligibilityInputs(
    bilirubin_mg_dl=1.0,
    ascites=Ascites.NONE,
    child_pugh=_CP_A5,
    albi=albi(bilirubin_umol_l=10.0, albumin_g_l=42.0),
    ecog=0,
    lung_shunt_fraction=0.05,
    lung_dose_gy=5.0,
    extrahepatic_maa_uptake=False,
    treatment_extent=TreatmentExtent.LOBAR,
    liver_volume_ml=1500.0,
    treated_volume_ml=900.0,
    tumour_volume_ml=150.0,
    cirrhosis=False,
    prior_treatments=(),
)
_RESIN = EligibilityThresholds.for_device(SIR_SPHERES)


def _status(rule: str, thresholds: EligibilityThresholds = _RESIN, **changes: object) -> RuleStatus:
    result = check_eligibility(replace(_GOOD, **changes), thresholds)  # type: ignore[arg-type]
    return next(r.status for r in result.reasons if r.rule == rule)


def test_all_good_is_eligible_and_every_reason_has_a_source() -> None:
    result = check_eligibility(_GOOD, _RESIN)
    assert result.verdict is Verdict.ELIGIBLE
    assert all(r.status is RuleStatus.PASS for r in result.reasons)
    assert all(r.source for r in result.reasons)
    assert result.as_dict()["thresholds"]["lung_max_gy"]["value"] == 30.0


@pytest.mark.parametrize(
    ("bilirubin", "extent", "status"),
    [
        (2.0, TreatmentExtent.LOBAR, RuleStatus.PASS),  # 2 mg/dL is allowed (> 2 is not)
        (2.01, TreatmentExtent.LOBAR, RuleStatus.NOT_ELIGIBLE),
        (2.01, TreatmentExtent.SEGMENTAL, RuleStatus.CAUTION),
        (2.5, None, RuleStatus.NOT_ELIGIBLE),
    ],
)
def test_bilirubin_rule(
    bilirubin: float, extent: TreatmentExtent | None, status: RuleStatus
) -> None:
    assert _status("bilirubin", bilirubin_mg_dl=bilirubin, treatment_extent=extent) is status


def test_liver_function_rules() -> None:
    b7 = child_pugh(bilirubin_mg_dl=2.5, albumin_g_dl=4.0, ascites="mild",
                    encephalopathy_grade=0, inr=1.0)  # fmt: skip
    b8 = child_pugh(bilirubin_mg_dl=2.5, albumin_g_dl=3.0, ascites="mild",
                    encephalopathy_grade=0, inr=1.0)  # fmt: skip
    assert (b7.points, b8.points) == (7, 8)
    assert _status("child_pugh", child_pugh=b7) is RuleStatus.CAUTION
    assert _status("child_pugh", child_pugh=b8) is RuleStatus.NOT_ELIGIBLE
    assert _status("ascites", ascites=Ascites.MILD) is RuleStatus.CAUTION
    assert _status("ascites", ascites=Ascites.MODERATE) is RuleStatus.NOT_ELIGIBLE
    grade3 = albi(bilirubin_umol_l=100.0, albumin_g_l=25.0)
    assert _status("albi", albi=grade3) is RuleStatus.CAUTION


@pytest.mark.parametrize(("ecog", "status"), [(1, RuleStatus.PASS), (2, RuleStatus.CAUTION),
                                               (3, RuleStatus.NOT_ELIGIBLE)])  # fmt: skip
def test_ecog_rule(ecog: int, status: RuleStatus) -> None:
    assert _status("ecog", ecog=ecog) is status


def test_lung_rules() -> None:
    assert _status("lung_shunt", lung_shunt_fraction=0.20) is RuleStatus.PASS
    assert _status("lung_shunt", lung_shunt_fraction=0.21) is RuleStatus.NOT_ELIGIBLE
    glass = EligibilityThresholds.for_device(THERASPHERE)
    assert glass.lung_shunt_max_fraction is None
    assert _status("lung_shunt", glass, lung_shunt_fraction=0.21) is RuleStatus.PASS
    assert _status("lung_dose", lung_dose_gy=30.0) is RuleStatus.PASS
    assert _status("lung_dose", lung_dose_gy=30.1) is RuleStatus.NOT_ELIGIBLE
    # 20 Gy now + 30 Gy before = 50 Gy: allowed; 20.1 + 30 = 50.1 Gy: not
    assert _status("lung_dose", lung_dose_gy=20.0, previous_lung_dose_gy=30.0) is RuleStatus.PASS
    assert (
        _status("lung_dose", lung_dose_gy=20.1, previous_lung_dose_gy=30.0)
        is RuleStatus.NOT_ELIGIBLE
    )
    refused = check_eligibility(replace(_GOOD, lung_dose_gy=None, plan_refused="lung shunt 25 %"))
    assert refused.verdict is Verdict.NOT_ELIGIBLE
    assert "no activity keeps every dose limit: lung shunt 25 %" in refused.reasons[6].message


def test_volume_and_history_rules() -> None:
    # 1 - 1300/1500 = 13 % untreated < 20 %: caution; cirrhosis raises the limit to 40 %
    assert _status("hepatic_reserve", treated_volume_ml=1300.0) is RuleStatus.CAUTION
    assert _status("hepatic_reserve", treated_volume_ml=900.0) is RuleStatus.PASS  # 40 %
    assert _status("hepatic_reserve", treated_volume_ml=901.0, cirrhosis=True) is RuleStatus.CAUTION
    pretreated = (PriorTreatment.SYSTEMIC_CHEMOTHERAPY,)
    assert (
        _status("hepatic_reserve", treated_volume_ml=1100.0, prior_treatments=pretreated)
        is RuleStatus.CAUTION  # 26.7 % < 30 %
    )
    assert _status("tumour_burden", tumour_volume_ml=1100.0) is RuleStatus.CAUTION  # 73 %
    assert (
        _status("extrahepatic_maa_uptake", extrahepatic_maa_uptake=True) is RuleStatus.NOT_ELIGIBLE
    )
    ebrt = (PriorTreatment.EXTERNAL_BEAM_LIVER,)
    assert _status("prior_treatments", prior_treatments=ebrt) is RuleStatus.CAUTION
    assert _status("prior_treatments", prior_treatments=(PriorTreatment.TACE,)) is RuleStatus.PASS


def test_missing_inputs_are_not_checked_and_make_caution() -> None:
    result = check_eligibility(EligibilityInputs(bilirubin_mg_dl=1.0))
    assert result.verdict is Verdict.CAUTION
    assert result.reasons[0].status is RuleStatus.PASS
    assert {r.status for r in result.reasons[1:]} == {RuleStatus.NOT_CHECKED}
    assert result.reasons[1].message == "not checked: ascites unknown"


def test_overrides_change_threshold_and_source() -> None:
    strict = _RESIN.with_overrides({"ecog_max": 1, "lung_max_gy": None}, source="local protocol")
    assert strict.ecog_max == 1
    assert strict.sources["ecog_max"] == "local protocol"
    assert strict.lung_max_gy == 30.0  # None leaves a threshold unchanged
    assert _status("ecog", strict, ecog=2) is RuleStatus.NOT_ELIGIBLE
    with pytest.raises(InputError, match="unknown eligibility threshold 'ecog_limit'"):
        _RESIN.with_overrides({"ecog_limit": 1})
    with pytest.raises(InputError, match="lung_max_gy is -1, expected >= 0"):
        _RESIN.with_overrides({"lung_max_gy": -1})


def _uptake_reason(**changes: object) -> tuple[RuleStatus, str]:
    result = check_eligibility(replace(_GOOD, **changes))  # type: ignore[arg-type]
    reason = next(r for r in result.reasons if r.rule == "extrahepatic_maa_uptake")
    return reason.status, reason.message


def test_extrahepatic_uptake_from_the_spect_or_the_case_file() -> None:
    # the SPECT analysis decides when the case file says nothing
    status, text = _uptake_reason(extrahepatic_maa_uptake=None, extrahepatic_uptake_fractions=())
    assert status is RuleStatus.PASS
    assert "finds no extrahepatic uptake (from the SPECT analysis of the plan)" in text
    status, text = _uptake_reason(
        extrahepatic_maa_uptake=None, extrahepatic_uptake_fractions=(0.031, 0.004)
    )
    assert status is RuleStatus.CAUTION
    assert "2 clusters of extrahepatic uptake (3.1%, 0.4% of the counts)" in text
    assert "record clinical.extrahepatic_maa_uptake" in text
    # the reviewed finding of the case file decides when given; the SPECT's is shown beside it
    status, text = _uptake_reason(
        extrahepatic_maa_uptake=False, extrahepatic_uptake_fractions=(0.02,)
    )
    assert status is RuleStatus.PASS
    assert "(from clinical.extrahepatic_maa_uptake of the case file)" in text
    assert "1 cluster of extrahepatic uptake (2.0% of the counts)" in text
    status, text = _uptake_reason(extrahepatic_maa_uptake=True, extrahepatic_uptake_fractions=())
    assert status is RuleStatus.NOT_ELIGIBLE
    assert "the SPECT analysis finds no extrahepatic uptake" in text
    status, text = _uptake_reason(extrahepatic_maa_uptake=None)
    assert status is RuleStatus.NOT_CHECKED


def test_rule_names_are_an_enum_in_the_order_of_the_rules() -> None:
    result = check_eligibility(_GOOD)
    assert [r.rule for r in result.reasons] == list(EligibilityRule)
    assert all(isinstance(r.rule, EligibilityRule) for r in result.reasons)
    out = result.as_dict()["reasons"]
    assert [r["rule"] for r in out] == [rule.value for rule in EligibilityRule]
    assert out[0]["rule"] == "bilirubin"
    assert type(out[0]["rule"]) is str
