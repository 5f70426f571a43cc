"""The assessment of a case: scores, missing inputs, BCLC, eligibility with the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opensirt.clinical.assess import PlanFacts, assess, assess_case
from opensirt.clinical.eligibility import RuleStatus, Verdict
from opensirt.patient.inputs import ClinicalFindings, Labs
from opensirt.planning import load_case, parse_case

DATA = Path(__file__).parent / "data"
FULL_CLINICAL = {
    "ecog": 0, "ascites": "none", "encephalopathy_grade": 0, "diagnosis": "hcc",
    "cirrhosis": True, "tumour_count": 4, "largest_tumour_diameter_mm": 45,
    "macrovascular_invasion": False, "extrahepatic_spread": False,
    "extrahepatic_maa_uptake": False, "treatment_extent": "lobar", "prior_treatments": ["tace"],
}  # fmt: skip


def _case_data(**clinical: Any) -> dict[str, Any]:
    data = yaml.safe_load((DATA / "case.yaml").read_text())
    data.pop("images")
    data["patient"]["labs"].update({"creatinine_umol_l": 88.4, "sodium_mmol_l": 135})
    data["clinical"] = {**FULL_CLINICAL, **clinical}
    return data


def test_spec_case_scores_and_missing_inputs() -> None:
    result = assess_case(load_case(DATA / "case.yaml"))
    out = result.to_dict()
    # ALBI 0.66 log10(18) - 0.085 * 38 = -2.40 -> grade 2
    assert out["albi"] == {"score": -2.40, "grade": 2, "source": result.albi.source}  # type: ignore[union-attr]
    assert out["child_pugh"] is None
    assert out["missing"]["child_pugh"] == ["clinical.ascites", "clinical.encephalopathy_grade"]
    assert out["missing"]["meld"] == ["patient.labs.creatinine_umol_l (or creatinine_mg_dl)"]
    assert "clinical.tumour_count" in out["missing"]["bclc"]
    assert out["eligibility"]["verdict"] == "caution"  # unknown items are never assumed normal
    lung = next(r for r in out["eligibility"]["reasons"] if r["rule"] == "lung_dose")
    assert lung["status"] == "pass"
    assert lung["message"].startswith("lung dose 3.9 Gy")  # from the plan of the case


def test_full_case_child_pugh_meld_bclc_and_eligibility() -> None:
    result = assess_case(parse_case(_case_data()))
    out = result.to_dict()
    # bilirubin 18 umol/L = 1.05 mg/dL (1), albumin 3.8 g/dL (1), INR 1.1 (1), no ascites (1),
    # no encephalopathy (1): 5 points, class A
    assert (out["child_pugh"]["points"], out["child_pugh"]["class"]) == (5, "A")
    # MELD(i) = 0.378 ln 1.0526 + 1.12 ln 1.1 + 0.643 = 0.0194 + 0.1067 + 0.643 = 0.769 -> 8;
    # MELD <= 11: MELD-Na = MELD
    assert (out["meld"]["score"], out["meld"]["meld_na"]) == (8, 8)
    assert out["bclc"]["stage"] == "B"
    assert out["ecog"]["status"] == 0
    assert out["missing"] == {}
    # cirrhosis: untreated 500/1500 = 33 % < 40 % -> caution
    assert out["eligibility"]["verdict"] == "caution"
    statuses = {r["rule"]: r["status"] for r in out["eligibility"]["reasons"]}
    assert statuses["hepatic_reserve"] == "caution"
    assert {s for rule, s in statuses.items() if rule != "hepatic_reserve"} == {"pass"}


def test_refused_plan_is_not_eligible() -> None:
    data = _case_data()
    data["lung"]["shunt_fraction"] = 0.25  # above the 20 % of the resin instructions
    result = assess_case(parse_case(data))
    assert result.eligibility.verdict is Verdict.NOT_ELIGIBLE
    statuses = {r.rule: r.status for r in result.eligibility.reasons}
    assert statuses["lung_shunt"] is RuleStatus.NOT_ELIGIBLE
    assert statuses["lung_dose"] is RuleStatus.NOT_ELIGIBLE


def test_non_hcc_has_no_bclc_stage() -> None:
    result = assess(Labs(), ClinicalFindings(diagnosis="metastases"))
    assert result.bclc is None
    assert result.notes == ("BCLC staging applies to hepatocellular carcinoma, not metastases",)
    assert "bclc" not in result.missing


def test_meld_notes_when_dialysis_is_not_given() -> None:
    labs = Labs(bilirubin_mg_dl=2.0, inr=1.5, creatinine_mg_dl=1.5)
    result = assess(labs, None, plan=PlanFacts(lung_dose_gy=10.0))
    assert result.meld is not None
    assert result.missing["meld"] == ["patient.labs.sodium_mmol_l"]
    assert any("dialysis_twice_past_week not given" in n for n in result.notes)


def test_case_file_rejects_bad_clinical_keys() -> None:
    data = _case_data(ecog=7)
    with pytest.raises(ValueError, match=r"clinical\.ecog"):
        parse_case(data)
    data = _case_data(asites="mild")
    with pytest.raises(ValueError, match="asites"):
        parse_case(data)
