"""A registry bundle as the plain data of the FHIR export (:mod:`opensirt.exports.fhir`).

The exports layer never reads the registry: this module turns one patient's
:class:`~opensirt.registry.bundle.Bundle` (what ``opensirt registry export`` writes) into a
:class:`~opensirt.exports.fhir.PathwayData`.
"""

from __future__ import annotations

from opensirt.exports.fhir import (
    FhirLabs,
    FhirPatient,
    FhirResponse,
    FhirTherapy,
    PathwayData,
)
from opensirt.registry.bundle import Bundle
from opensirt.registry.records import LabsIn, SessionIn


def _labs(record: LabsIn) -> FhirLabs:
    values = {k: float(v) for k, v in record.labs.model_dump().items() if v is not None}
    for marker in ("afp_ng_ml", "cea_ng_ml"):
        value = getattr(record, marker)
        if value is not None:
            values[marker] = float(value)
    return FhirLabs(record.date, values)


def _therapy(record: SessionIn) -> FhirTherapy:
    agent = record.details.get("agent") or record.details.get("drug")
    return FhirTherapy(
        record.date,
        record.therapy.value,
        territory=record.territory,
        activity_gbq=record.delivered_activity_gbq,
        agent=None if agent is None else str(agent),
    )


def pathway_data(bundle: Bundle) -> PathwayData:
    """The patient, labs, ECOG scores, treatments and responses of a registry bundle.

    Parameters
    ----------
    bundle : Bundle
        One patient's pathway, as :func:`opensirt.registry.bundle.export_bundle` reads it.

    Returns
    -------
    PathwayData
        The plain data :func:`opensirt.exports.fhir.build_fhir_bundle` turns into FHIR.
    """
    p = bundle.patient
    ecog = tuple((f.date, f.findings.ecog) for f in bundle.findings if f.findings.ecog is not None)
    return PathwayData(
        patient=FhirPatient(
            p.patient, p.sex.value, p.birth_year, p.diagnosis.value, p.diagnosis_date
        ),
        labs=tuple(_labs(record) for record in bundle.labs),
        ecog=ecog,
        therapies=tuple(_therapy(s) for s in bundle.sessions),
        responses=tuple(
            FhirResponse(r.date, f"{r.criteria.value} {r.criteria_version}".strip(), r.overall)
            for r in bundle.responses
        ),
    )
