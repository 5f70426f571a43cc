"""Recording from the pathway: files of records, plans, verifications, assessments, responses.

Each function works inside the caller's transaction
(:meth:`opensirt.registry.database.Registry.transaction`) and writes through
:mod:`opensirt.registry.writer`, so the rules of :mod:`opensirt.registry.store` hold. An
error names the record it stopped at; the caller's transaction then rolls back whole.

Choices (documented in the README, section "Registry"):

* a plan is recorded as a draft version of the plan ``label`` (by default the case's
  territory names); recording the same label again replaces the newest draft, and after an
  approved version makes a new one. A plan refused for safety is recorded too, as a draft
  without activity (the record shows that it was tried and why it was refused); it cannot be
  signed.
* a verification is linked to the SIRT session on the injection date of the case's
  ``treatment:`` record; that session is created from the record (device, vial assay,
  residual, delivered activity) when the registry has none on that date.
* ``assess`` records the case's labs and clinical findings of the assessment date; the
  assessment itself (scores, BCLC, eligibility) is kept with an MDT decision
  (``assessment:`` of an ``mdt`` record).
* ``response`` records every lesion measurement and the response per follow-up date and
  criterion, with the criterion's version and source.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.registry import store, writer
from opensirt.registry.files import RecordSource, describe_error
from opensirt.registry.models import (
    ClinicalFindingsRecord,
    LabPanel,
    LesionMeasurement,
    PlanVersion,
    ResponseAssessment,
    TreatmentSession,
)
from opensirt.registry.records import (
    FindingsIn,
    LabsIn,
    LesionMeasurementIn,
    PatientIn,
    ResponseIn,
    SessionIn,
    VerificationIn,
    VerifiedStructureIn,
)
from opensirt.registry.vocabulary import ResponseCriteria, Therapy

if TYPE_CHECKING:
    from opensirt.clinical.measurements import Measurement
    from opensirt.clinical.response import PatientResponse
    from opensirt.planning.case import Case
    from opensirt.planning.result import PlanResult
    from opensirt.workflow.posttreatment import VerificationResult

#: The registry code of each criterion of :data:`opensirt.clinical.response.CRITERIA`.
CRITERIA_CODES = {
    "recist": ResponseCriteria.RECIST_1_1,
    "mrecist": ResponseCriteria.MRECIST,
    "easl": ResponseCriteria.EASL,
}


def add_records(session: Session, records: list[tuple[RecordSource, BaseModel]]) -> Counter[str]:
    """Write validated records of a file (:func:`opensirt.registry.files.read_record_file`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction (the caller commits all or, on an error, nothing).
    records : list of (RecordSource, pydantic.BaseModel)
        The records with their places in the file.

    Returns
    -------
    collections.Counter
        How many rows were added, by table name.

    Raises
    ------
    InputError
        At the first record that cannot be written (its patient missing, a date not plausible,
        a linked session or plan missing); the message names the file and the record.
    """
    added: Counter[str] = Counter()
    for where, record in records:
        try:
            if isinstance(record, PatientIn):
                row: Any = writer.add_patient(session, record)
            else:
                row = writer.write_record(session, record)
        except InputError as exc:
            raise InputError(f"{where}: {exc}; nothing was added") from None
        added[row.__tablename__] += 1
    return added


def default_plan_label(case: Case) -> str:
    """The plan's label when none is given: the case's territory names.

    Parameters
    ----------
    case : Case
        The case planned.

    Returns
    -------
    str
        The territory names joined by ``" + "`` (at most 64 characters).
    """
    return " + ".join(t.name for t in case.territories)[:64]


def input_fingerprint(case: Case, case_path: Path, sources: Mapping[str, Path]) -> str:
    """The combined SHA-256 of a result's inputs, as its report and JSON give it.

    Parameters
    ----------
    case : Case
        The case (its settings are part of the fingerprint).
    case_path : Path
        The case file.
    sources : mapping of str to Path
        The image files and folders read, by role (empty for a plan without images).

    Returns
    -------
    str
        :attr:`opensirt.report.provenance.Provenance.combined_fingerprint`.
    """
    from opensirt.report import collect_provenance

    inputs: dict[str, str | Path] = {"case file": case_path}
    inputs.update({f"image: {role}": path for role, path in sources.items()})
    provenance = collect_provenance(
        inputs, settings=case.model_dump(mode="json"), relative_to=case_path.parent
    )
    return provenance.combined_fingerprint


def tumour_volumes_ml(case: Case) -> dict[str, float]:
    """The tumour volumes a case gives (mL), by tumour name; tumours without one left out.

    Parameters
    ----------
    case : Case
        A case; for a plan from images, the case holding the image measurements
        (``PreTreatmentResult.image_case``).

    Returns
    -------
    dict of str to float
        Volume (mL) of each tumour whose ``volume_ml`` is known.
    """
    return {
        tumour.name: float(tumour.volume_ml)
        for territory in case.territories
        for tumour in territory.tumours
        if tumour.volume_ml is not None
    }


def mean_tumour_dose_gy(
    tumours_gy: Mapping[str, float | None], volumes_ml: Mapping[str, float]
) -> float | None:
    """The mean absorbed dose over all tumour tissue (Gy): the volume-weighted mean of the
    tumours' mean doses (equal density assumed, so it is the mass-weighted mean dose of the
    tumours taken as one structure), as the cohort table's ``tumour_dose_gy`` defines it.

    Parameters
    ----------
    tumours_gy : mapping of str to float or None
        Mean dose of each tumour (Gy).
    volumes_ml : mapping of str to float
        Volume of each tumour (mL); a tumour without a volume makes the mean unknown.

    Returns
    -------
    float or None
        The mean dose (Gy), or ``None`` without tumours or without every tumour's volume.

    Examples
    --------
    >>> mean_tumour_dose_gy({"T1": 100.0, "T2": 200.0}, {"T1": 30.0, "T2": 10.0})
    125.0
    """
    doses = {name: dose for name, dose in tumours_gy.items() if dose is not None}
    if not doses or any(name not in volumes_ml for name in doses):
        return None
    total_ml = sum(volumes_ml[name] for name in doses)
    return sum(dose * volumes_ml[name] for name, dose in doses.items()) / total_ml


def record_plan(
    session: Session,
    case: Case,
    *,
    case_yaml: str,
    result: PlanResult,
    result_json: dict[str, Any],
    input_fingerprint: str,
    label: str,
    created_by: str,
    day: dt.date,
    report_path: str | None = None,
    rtdose_path: str | None = None,
    tumour_volumes: Mapping[str, float] | None = None,
) -> PlanVersion:
    """Record a plan of a case as a draft version of the patient's plan ``label``.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    case : Case
        The case planned; ``patient.id`` names the registry's patient.
    case_yaml : str
        The case file's text, as read.
    result : PlanResult
        The prescribed plan (refused plans are recorded with no activity).
    result_json : dict
        The plan's JSON object (as ``opensirt plan --json`` prints it).
    input_fingerprint : str
        SHA-256 (64 hexadecimal digits) of the inputs (case, images, software).
    label : str
        The plan's name within the patient.
    created_by : str
        Who planned it.
    day : datetime.date
        The planning date.
    report_path, rtdose_path : str, optional
        Where the PDF report and the RT Dose file were written.
    tumour_volumes : mapping of str to float, optional
        Tumour volumes (mL) for the mean tumour dose; default: those the case gives. A plan
        from images passes the measured ones (``PreTreatmentResult.image_case``).

    Returns
    -------
    PlanVersion
        The draft version written.

    Raises
    ------
    InputError
        If the patient is not in the registry (the message says how to add it), or the
        date is not plausible.
    ConflictError
        If someone changed the same draft meanwhile.
    """
    patient = store.get_patient(session, case.patient.id)
    return store.add_plan_version(
        session,
        patient,
        label,
        date=day,
        case_yaml=case_yaml,
        result_json=json.dumps(result_json, sort_keys=True, default=str),
        method=result.method.value,
        device=result.device.value,
        activity_gbq=result.activity_gbq,
        tumour_dose_gy=mean_tumour_dose_gy(
            result.tumours_gy, tumour_volumes_ml(case) if tumour_volumes is None else tumour_volumes
        ),
        normal_liver_dose_gy=result.normal_liver_gy,
        lung_dose_gy=result.lung_gy,
        limits=[{"name": c.name, **c.to_dict()} for c in result.limits],
        input_fingerprint=input_fingerprint,
        report_path=report_path,
        rtdose_path=rtdose_path,
        created_by=created_by,
    )


def _validated(model: type[BaseModel], data: dict[str, Any], what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = "; ".join(describe_error(e) for e in exc.errors(include_url=False))
        raise InputError(f"{what}: {lines}") from None


def _sirt_session(
    session: Session, case: Case, result: VerificationResult, plan_label: str | None
) -> TreatmentSession:
    """The SIRT session of the case's treatment date, created from its treatment record."""
    treatment = case.treatment
    if treatment is None:  # verify_case needs it: a verification always has one
        raise InputError("the case has no treatment: record; it is needed to link the session")
    patient = store.get_patient(session, case.patient.id)
    day = treatment.injection.date()
    found = session.scalar(
        sa.select(TreatmentSession).where(
            TreatmentSession.patient_id == patient.id,
            TreatmentSession.date == day,
            TreatmentSession.therapy == Therapy.SIRT,
        )
    )
    if found is not None:
        return found
    delivered = result.delivered
    record = _validated(
        SessionIn,
        {
            "patient": patient.pseudonym,
            "date": day,
            "therapy": Therapy.SIRT,
            "territory": default_plan_label(case),
            "delivered_activity_gbq": delivered.delivered_gbq,
            "plan": plan_label,
            "details": {
                "device": case.device.value,
                "vials": [
                    {
                        "activity_gbq": treatment.vial_activity_gbq,
                        "assayed_at": treatment.vial_measured,
                    }
                ],
                "residual_fraction": delivered.residual_fraction,
                "injected_at": treatment.injection,
            },
        },
        f"the session of {day.isoformat()} from the case's treatment record",
    )
    row: TreatmentSession = writer.write_record(session, record, patient=patient)  # type: ignore[assignment]
    return row


def _scan_date(result: VerificationResult, injected: dt.date) -> dt.date:
    """The post-treatment image's acquisition date (from its DICOM), else the injection date."""
    from opensirt.imaging.dicom_meta import MetaKey

    meta = result.images.emission.metadata
    acquired = meta.get(MetaKey.ACQUISITION_DATETIME) or meta.get(MetaKey.SERIES_DATETIME)
    if isinstance(acquired, dt.datetime) and acquired.date() >= injected:
        return acquired.date()
    return injected


def record_verification(
    session: Session,
    result: VerificationResult,
    *,
    result_json: dict[str, Any],
    day: dt.date | None = None,
    plan_label: str | None = None,
) -> Any:
    """Record a verification, linked to the SIRT session of the treatment date.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    result : VerificationResult
        The verification of the case (its ``case`` names the patient and holds the
        treatment record).
    result_json : dict
        The verification's JSON object (as ``opensirt verify --json`` prints it).
    day : datetime.date, optional
        The date of the verification (default: the acquisition date of the post-treatment
        image when its DICOM gives one, else the injection date).
    plan_label : str, optional
        The plan whose approved version the session delivered, when the session is created
        here (an existing session keeps its link).

    Returns
    -------
    Verification
        The row written, with one structure row per compared structure: the mean dose
        predicted at the planned activity, predicted scaled to the delivered activity,
        delivered, their difference (percent of the scaled prediction) and the flag.

    Raises
    ------
    InputError
        If the patient is not in the registry, a date is not plausible, or ``plan_label``
        has no approved version.
    """
    case = result.case
    treated = _sirt_session(session, case, result, plan_label)
    structures = []
    for c in result.comparisons:
        planned = result.pre.dvhs.get(c.name)
        structures.append(
            VerifiedStructureIn(
                structure=c.name[:64],
                predicted_gy=None if planned is None else max(planned.mean_gy, 0.0),
                predicted_scaled_gy=max(c.predicted_mean_gy, 0.0),
                delivered_gy=max(c.delivered_mean_gy, 0.0),
                difference_pct=100.0 * c.mean_difference_fraction,
                flagged=c.flagged,
            )
        )
    record = _validated(
        VerificationIn,
        {
            "patient": case.patient.id,
            "date": day or _scan_date(result, treated.date),
            "modality": result.image_check.modality.value[:64],
            "delivered_activity_gbq": result.delivered.delivered_gbq,
            "session_date": treated.date,
            "result_json": json.dumps(result_json, sort_keys=True, default=str),
            "structures": structures,
        },
        "the verification",
    )
    return writer.write_record(session, record)


def record_assessment(session: Session, case: Case, day: dt.date) -> Counter[str]:
    """Record the case's labs and clinical findings of the assessment date.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    case : Case
        The case assessed; ``patient.labs`` and ``clinical:`` are recorded (each if given).
    day : datetime.date
        The date the labs were drawn and the findings made.

    Returns
    -------
    collections.Counter
        Rows added by table name (nothing when the case has neither section).

    Raises
    ------
    InputError
        If the patient is not in the registry or the date is not plausible.
    """
    patient = store.get_patient(session, case.patient.id)
    added: Counter[str] = Counter()
    if case.patient.labs is not None:
        writer.write_record(
            session,
            LabsIn(patient=patient.pseudonym, date=day, labs=case.patient.labs),
            patient=patient,
        )
        added[LabPanel.__tablename__] += 1
    if case.clinical is not None:
        writer.write_record(
            session,
            FindingsIn(patient=patient.pseudonym, date=day, findings=case.clinical),
            patient=patient,
        )
        added[ClinicalFindingsRecord.__tablename__] += 1
    return added


def criteria_version(label: str, source: str) -> str:
    """The criterion as stored: its name and its first reference (at most 64 characters).

    Parameters
    ----------
    label : str
        The criterion's name (``"RECIST 1.1"``).
    source : str
        Its references (``"Eisenhauer et al. 2009 doi:..."``).

    Returns
    -------
    str
        For example ``"RECIST 1.1 (Eisenhauer et al. 2009)"``.

    >>> criteria_version("RECIST 1.1", "Eisenhauer et al. 2009 doi:10.1016/j.ejca.2008.10.026")
    'RECIST 1.1 (Eisenhauer et al. 2009)'
    """
    first = source.split(";")[0].split(" doi:")[0].strip()
    return f"{label} ({first})"[:64]


def record_response(
    session: Session, rows: list[Measurement], patients: list[PatientResponse]
) -> Counter[str]:
    """Record lesion measurements and the response per follow-up date and criterion.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    rows : list of Measurement
        The rows of the measurement table.
    patients : list of PatientResponse
        The responses :func:`opensirt.clinical.response.assess_measurements` computed.

    Returns
    -------
    collections.Counter
        Rows added by table name.

    Raises
    ------
    InputError
        If a patient is not in the registry or a date is not plausible; the message names the
        row.
    """
    from opensirt.clinical.response import CRITERIA

    added: Counter[str] = Counter()
    for m in rows:
        record = _validated(
            LesionMeasurementIn,
            {
                "patient": m.patient_id,
                "date": m.date,
                "lesion_id": m.lesion_id,
                "role": m.role,
                "organ": m.organ,
                "is_node": m.is_node,
                "longest_diameter_mm": m.longest_diameter_mm,
                "short_axis_mm": m.short_axis_mm,
                "viable_diameter_mm": m.viable_diameter_mm,
                "enhancing_area_mm2": m.enhancing_area_mm2,
                "status": m.status,
            },
            f"row {m.row}",
        )
        try:
            writer.write_record(session, record)
        except InputError as exc:
            raise InputError(f"row {m.row}: {exc}") from None
        added[LesionMeasurement.__tablename__] += 1
    for p in patients:
        for c in CRITERIA:
            for day, point in zip(p.dates, p.results[c.name], strict=True):
                details = point.as_dict(c.unit)
                writer.write_record(
                    session,
                    ResponseIn(
                        patient=p.patient_id,
                        date=day,
                        criteria=CRITERIA_CODES[c.name],
                        criteria_version=criteria_version(c.label, c.source),
                        target=point.target.value,
                        non_target=point.non_target.value,
                        new_lesions=point.new_lesions,
                        overall=point.overall.value,
                        target_change_pct=details["change_from_baseline_pct"],
                    ),
                )
                added[ResponseAssessment.__tablename__] += 1
    return added
