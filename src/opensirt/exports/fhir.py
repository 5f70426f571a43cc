"""A patient's pathway as a FHIR R4 Bundle with mCODE STU 4 profiles.

Built from plain data (:class:`PathwayData`; the registry fills it in
:mod:`opensirt.registry.fhir_data`), never from the registry itself. One ``collection``
Bundle whose entries reference each other by ``urn:uuid`` full URLs; the ids are UUID 5 of the
pseudonym and the record, so that exporting the same pathway twice gives the same Bundle.

Resources and profiles (:data:`opensirt.exports.fhir_codes.PROFILES`):

* Patient (mCODE CancerPatient): pseudonym identifier, gender, birth year.
* Condition: mCODE PrimaryCancerCondition (HCC, intrahepatic cholangiocarcinoma) or
  SecondaryCancerCondition (liver metastases), body site liver, SNOMED CT and ICD-10 codes.
  TNM staging is not exported: the registry does not record it.
* Observation: laboratory values (LOINC), tumour markers (mCODE TumorMarkerTest), ECOG
  (mCODE ECOGPerformanceStatus), and each response assessment as mCODE CancerDiseaseStatus.
* Procedure per SIRT session (SCT 440252007), with an Observation of the administered
  activity (DICOM DCM 113507, GBq) that is ``partOf`` it; other local therapies as Procedures
  (resection, ablation, transplant: mCODE CancerRelatedSurgicalProcedure) and systemic
  therapy as mCODE CancerRelatedMedicationAdministration.

:func:`validate_r4` parses the Bundle with the R4 (4.0.1) models of ``fhirclient`` (SMART on
FHIR), which check every element name, type and required element of the base resources.
It does not check conformance to the mCODE profiles (that needs the IG's validator).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opensirt.errors import InputError
from opensirt.exports import fhir_codes as fc

_NAMESPACE = uuid.UUID("6f1d0c3e-4b53-5a7e-9c1e-0a5e5157a1f0")  # OpenSIRT FHIR ids
_SURGICAL = frozenset({"resection", "ablation", "transplant"})
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


@dataclass(frozen=True)
class FhirPatient:
    """The patient: pseudonym, registry sex code, birth year, diagnosis code and date."""

    pseudonym: str
    sex: str
    birth_year: int
    diagnosis: str
    diagnosis_date: dt.date


@dataclass(frozen=True)
class FhirLabs:
    """One date's lab values (field name -> value, units in the names)."""

    date: dt.date
    values: Mapping[str, float]


@dataclass(frozen=True)
class FhirTherapy:
    """One treatment: registry therapy code, territory, activity (SIRT) and what was given."""

    date: dt.date
    therapy: str
    territory: str | None = None
    activity_gbq: float | None = None
    agent: str | None = None


@dataclass(frozen=True)
class FhirResponse:
    """One response assessment: criteria, overall response (CR, PR, SD, PD, NE)."""

    date: dt.date
    criteria: str
    overall: str


@dataclass(frozen=True)
class PathwayData:
    """What the FHIR export says about one patient, as plain data."""

    patient: FhirPatient
    labs: tuple[FhirLabs, ...] = ()
    ecog: tuple[tuple[dt.date, int], ...] = ()
    therapies: tuple[FhirTherapy, ...] = ()
    responses: tuple[FhirResponse, ...] = ()


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)], "text": display}


class _Builder:
    """Collects the entries of one patient's Bundle."""

    def __init__(self, pseudonym: str) -> None:
        self.pseudonym = pseudonym
        self.entries: list[dict[str, Any]] = []
        self.patient_url = ""

    def add(self, key: str, resource: dict[str, Any], profile: str | None = None) -> str:
        uid = str(uuid.uuid5(_NAMESPACE, f"{self.pseudonym}/{key}"))
        resource["id"] = uid
        if profile is not None:
            resource["meta"] = {"profile": [profile]}
        url = f"urn:uuid:{uid}"
        self.entries.append({"fullUrl": url, "resource": resource})
        return url

    def observation(
        self, key: str, date: dt.date, code: dict[str, Any], profile: str | None, **value: Any
    ) -> str:
        resource = {
            "resourceType": "Observation",
            "status": "final",
            "code": code,
            "subject": {"reference": self.patient_url},
            "effectiveDateTime": date.isoformat(),
            **value,
        }
        return self.add(key, resource, profile)


def _patient(b: _Builder, p: FhirPatient) -> None:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": fc.PSEUDONYM_SYSTEM, "value": p.pseudonym}],
        "gender": _GENDER.get(p.sex, "unknown"),
        "birthDate": f"{p.birth_year:04d}",
    }
    b.patient_url = b.add("patient", resource, fc.PROFILES["patient"])


def _condition(b: _Builder, p: FhirPatient) -> None:
    if p.diagnosis not in fc.DIAGNOSES:
        raise InputError(
            f"diagnosis is {p.diagnosis!r}, expected one of {sorted(fc.DIAGNOSES)} "
            "(the registry's diagnosis codes)"
        )
    primary, sct, icd, display = fc.DIAGNOSES[p.diagnosis]
    resource = {
        "resourceType": "Condition",
        "clinicalStatus": _concept(fc.CONDITION_CLINICAL, "active", "Active"),
        "verificationStatus": _concept(fc.CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        "category": [_concept(fc.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": {
            "coding": [_coding(fc.SNOMED, sct, display), _coding(fc.ICD10, icd, display)],
            "text": display,
        },
        "bodySite": [_concept(fc.SNOMED, *fc.LIVER)],
        "subject": {"reference": b.patient_url},
        "onsetDateTime": p.diagnosis_date.isoformat(),
    }
    b.add("condition", resource, fc.PROFILES["primary" if primary else "secondary"])


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": fc.UCUM, "code": unit}


def _labs(b: _Builder, panel: FhirLabs, index: int) -> None:
    laboratory = [_concept(fc.OBSERVATION_CATEGORY, "laboratory", "Laboratory")]
    for name, value in sorted(panel.values.items()):
        if name in fc.LABS:
            code, display, unit = fc.LABS[name]
            profile = None
        elif name in fc.TUMOUR_MARKERS:
            code, display, unit = fc.TUMOUR_MARKERS[name]
            profile = fc.PROFILES["tumour_marker"]
        else:
            continue
        b.observation(
            f"labs/{index}/{name}",
            panel.date,
            _concept(fc.LOINC, code, display),
            profile,
            category=laboratory,
            valueQuantity=_quantity(value, unit),
        )


def _therapy(b: _Builder, t: FhirTherapy, index: int) -> None:
    key = f"therapy/{index}"
    if t.therapy == "systemic":
        resource: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": t.agent or "systemic therapy"},
            "subject": {"reference": b.patient_url},
            "effectiveDateTime": t.date.isoformat(),
        }
        b.add(key, resource, fc.PROFILES["medication"])
        return
    code = (
        _concept(fc.SNOMED, *fc.SIRT_PROCEDURE)
        if t.therapy == "sirt"
        else {"text": t.therapy.replace("-", " ")}
    )
    if t.therapy == "sirt":
        code["text"] = "Selective internal radiation therapy (radioembolization)"
    resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": code,
        "subject": {"reference": b.patient_url},
        "performedDateTime": t.date.isoformat(),
        "bodySite": [_concept(fc.SNOMED, *fc.LIVER)],
    }
    if t.territory:
        resource["note"] = [{"text": f"territory: {t.territory}"}]
    profile = fc.PROFILES["surgery"] if t.therapy in _SURGICAL else None
    url = b.add(key, resource, profile)
    if t.activity_gbq is not None:
        b.observation(
            f"{key}/activity",
            t.date,
            _concept(fc.DICOM_DCM, *fc.ADMINISTERED_ACTIVITY),
            None,
            partOf=[{"reference": url}],
            valueQuantity=_quantity(t.activity_gbq, "GBq"),
        )


def _response(b: _Builder, r: FhirResponse, index: int, condition_url: str) -> None:
    status = fc.RESPONSE_STATUS.get(r.overall.upper())
    value = _concept(fc.SNOMED, *status) if status is not None else {"text": r.overall}
    b.observation(
        f"response/{index}",
        r.date,
        _concept(fc.LOINC, *fc.DISEASE_STATUS),
        fc.PROFILES["disease_status"],
        focus=[{"reference": condition_url}],
        valueCodeableConcept=value,
        method={"text": r.criteria},
        note=[{"text": f"{r.criteria} overall response {r.overall}"}],
        extension=[
            {
                "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-evidence-type",
                "valueCodeableConcept": _concept(fc.SNOMED, *fc.IMAGING_EVIDENCE),
            }
        ],
    )


def build_fhir_bundle(data: PathwayData, *, timestamp: dt.datetime) -> dict[str, Any]:
    """The FHIR R4 ``collection`` Bundle of one patient's pathway, as JSON-ready data.

    Parameters
    ----------
    data : PathwayData
        The patient, labs, ECOG scores, therapies and response assessments.
    timestamp : datetime.datetime
        Bundle.timestamp (timezone-aware).

    Returns
    -------
    dict
        The Bundle (``resourceType`` ``Bundle``, ``type`` ``collection``).

    Raises
    ------
    InputError
        If the timestamp has no time zone or the diagnosis code is unknown.
    """
    if timestamp.utcoffset() is None:
        raise InputError(f"timestamp {timestamp.isoformat()} has no time zone; give UTC")
    b = _Builder(data.patient.pseudonym)
    _patient(b, data.patient)
    _condition(b, data.patient)
    condition_url = b.entries[-1]["fullUrl"]
    for index, panel in enumerate(data.labs):
        _labs(b, panel, index)
    for index, (date, score) in enumerate(data.ecog):
        b.observation(
            f"ecog/{index}",
            date,
            _concept(fc.LOINC, *fc.ECOG),
            fc.PROFILES["ecog"],
            valueInteger=score,
        )
    for index, therapy in enumerate(data.therapies):
        _therapy(b, therapy, index)
    for index, response in enumerate(data.responses):
        _response(b, response, index, condition_url)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, data.patient.pseudonym)),
        "type": "collection",
        "timestamp": timestamp.isoformat(timespec="seconds"),
        "entry": b.entries,
    }


def validate_r4(bundle: Mapping[str, Any]) -> None:
    """Parse ``bundle`` with fhirclient's FHIR R4 (4.0.1) models; raise if it is not valid.

    Parameters
    ----------
    bundle : mapping
        A Bundle as JSON data.

    Raises
    ------
    InputError
        If an element is unknown, of the wrong type, or a required element is missing (the
        message is fhirclient's, naming the resource and element).
    """
    from fhirclient.models.bundle import Bundle
    from fhirclient.models.fhirabstractbase import FHIRValidationError

    try:
        Bundle(dict(bundle), strict=True)
    except FHIRValidationError as exc:
        raise InputError(f"the FHIR Bundle is not valid FHIR R4: {exc}") from exc
