"""FHIR export: a registry pathway as an R4 Bundle with mCODE profiles, parsed back with the
R4 models, with the codes and references checked."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fhirclient.models.bundle import Bundle as R4Bundle

from opensirt.errors import InputError
from opensirt.exports.fhir import (
    FhirPatient,
    PathwayData,
    build_fhir_bundle,
    validate_r4,
)
from opensirt.exports.fhir_codes import PROFILES
from opensirt.registry.fhir_data import pathway_data
from registry_pathway import pathway_bundle

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return build_fhir_bundle(pathway_data(pathway_bundle()), timestamp=WHEN)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _codes(resource: dict[str, Any], element: str = "code") -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource[element].get("coding", [])}


def test_bundle_parses_with_the_r4_models(bundle: dict[str, Any]) -> None:
    validate_r4(bundle)
    parsed = R4Bundle(bundle, strict=True)
    assert parsed.type == "collection"
    assert len(parsed.entry) == len(bundle["entry"])
    assert parsed.as_json()["entry"][0]["resource"]["resourceType"] == "Patient"


def test_invalid_resources_are_refused(bundle: dict[str, Any]) -> None:
    broken = copy.deepcopy(bundle)
    del _resources(broken, "Observation")[0]["status"]  # 1..1 in R4
    with pytest.raises(InputError, match="not valid FHIR R4"):
        validate_r4(broken)
    typo = copy.deepcopy(bundle)
    _resources(typo, "Patient")[0]["gendre"] = "female"
    with pytest.raises(InputError, match="gendre"):
        validate_r4(typo)


def test_patient_and_condition_carry_mcode_profiles_and_codes(bundle: dict[str, Any]) -> None:
    (patient,) = _resources(bundle, "Patient")
    assert patient["meta"]["profile"] == [PROFILES["patient"]]
    assert patient["identifier"][0]["value"] == "P-100"
    assert patient["birthDate"] == "1957"
    (condition,) = _resources(bundle, "Condition")
    assert condition["meta"]["profile"] == [PROFILES["primary"]]
    assert ("http://snomed.info/sct", "109841003") in _codes(condition)  # liver cell carcinoma
    assert ("http://hl7.org/fhir/sid/icd-10", "C22.0") in _codes(condition)
    assert condition["subject"]["reference"] == bundle["entry"][0]["fullUrl"]


def test_metastases_are_secondary_cancer_conditions() -> None:
    patient = FhirPatient("P-2", "male", 1950, "crc", dt.date(2024, 5, 1))
    fhir = build_fhir_bundle(PathwayData(patient), timestamp=WHEN)
    (condition,) = _resources(fhir, "Condition")
    assert condition["meta"]["profile"] == [PROFILES["secondary"]]
    assert ("http://snomed.info/sct", "94381002") in _codes(condition)


def test_sirt_session_with_its_administered_activity(bundle: dict[str, Any]) -> None:
    sirt = [p for p in _resources(bundle, "Procedure") if p["code"].get("coding")]
    (procedure,) = sirt
    assert ("http://snomed.info/sct", "440252007") in _codes(procedure)
    url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is procedure)
    (activity,) = [
        o for o in _resources(bundle, "Observation") if o.get("partOf") == [{"reference": url}]
    ]
    assert ("http://dicom.nema.org/resources/ontology/DCM", "113507") in _codes(activity)
    quantity = activity["valueQuantity"]
    assert quantity == {
        "value": 1.75,
        "unit": "GBq",
        "system": "http://unitsofmeasure.org",
        "code": "GBq",
    }


def test_labs_markers_ecog_and_response(bundle: dict[str, Any]) -> None:
    observations = _resources(bundle, "Observation")
    by_code = {code: o for o in observations for (_, code) in _codes(o)}
    assert by_code["14631-6"]["valueQuantity"]["code"] == "umol/L"  # bilirubin
    assert by_code["1834-1"]["meta"]["profile"] == [PROFILES["tumour_marker"]]  # AFP
    assert by_code["89247-1"]["valueInteger"] == 1  # ECOG
    status = by_code["97509-4"]
    assert status["meta"]["profile"] == [PROFILES["disease_status"]]
    assert ("http://snomed.info/sct", "268910001") in _codes(status, "valueCodeableConcept")


def test_the_same_pathway_gives_the_same_ids(bundle: dict[str, Any]) -> None:
    again = build_fhir_bundle(pathway_data(pathway_bundle()), timestamp=WHEN)
    assert again == bundle


def test_unknown_diagnosis_and_naive_timestamp_are_named() -> None:
    patient = FhirPatient("P-3", "female", 1960, "lymphoma", dt.date(2024, 1, 1))
    with pytest.raises(InputError, match="diagnosis is 'lymphoma'"):
        build_fhir_bundle(PathwayData(patient), timestamp=WHEN)
    ok = FhirPatient("P-3", "female", 1960, "hcc", dt.date(2024, 1, 1))
    with pytest.raises(InputError, match="no time zone"):
        build_fhir_bundle(PathwayData(ok), timestamp=dt.datetime(2026, 1, 1))
