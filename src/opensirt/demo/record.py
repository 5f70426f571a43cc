"""The demo patient's pathway in the registry: MDT decision, studies, signed plan, session,
verification.

``opensirt demo`` plans and verifies the synthetic patient; :func:`record_demo` writes what a
clinic would have recorded along the way, so that ``opensirt registry timeline DEMO-001``
shows the pathway from the board's decision to the verification. The dates are set back
from the treatment (the injection time of the case's treatment record) by the usual steps of
a SIRT work-up: diagnosis, MDT decision, MAA work-up (labs and findings), planning, then the
treatment and its verification on the same day.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from opensirt.errors import InputError
from opensirt.fileio import read_text_file
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
from opensirt.registry import store
from opensirt.registry.database import open_registry, resolve_url, shown
from opensirt.registry.models import Patient
from opensirt.registry.recording import (
    default_plan_label,
    input_fingerprint,
    record_assessment,
    record_plan,
    record_verification,
    tumour_volumes_ml,
)
from opensirt.registry.records import ImagingStudyIn, MdtDecisionIn, PatientIn
from opensirt.registry.vocabulary import Intent, SignatureRole, StudyRole, Therapy
from opensirt.registry.writer import add_patient, write_record

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from opensirt.planning.case import Case
    from opensirt.workflow.posttreatment import VerificationResult

#: The two demo users who sign the demo plan (a plan needs two different people).
DEMO_PHYSICIST = "demo-physicist"
DEMO_PHYSICIAN = "demo-physician"
#: The demo patient's birth year (the synthetic DICOM gives no birth date).
DEMO_BIRTH_YEAR = 1958
#: Days before the treatment of each earlier step of the demo pathway.
DAYS_BEFORE_TREATMENT = {"diagnosis": 70, "mdt": 21, "workup": 7, "plan": 5}


def _imaging_studies(result: VerificationResult) -> list[ImagingStudyIn]:
    """The demo's DICOM series by their UIDs: planning CT, MAA SPECT, post-treatment image."""
    from opensirt.imaging.dicom_meta import MetaKey

    pre_images = result.pre.images
    post = result.images.emission
    post_role = (
        StudyRole.POST_PET
        if post.metadata.get(MetaKey.MODALITY) == "PT"
        else (StudyRole.POST_SPECT)
    )
    studies = []
    for volume, role in (
        (pre_images.ct, StudyRole.PLANNING_CT),
        (pre_images.emission, StudyRole.MAA_SPECT),
        (post, post_role),
    ):
        meta = volume.metadata
        when = meta.get(MetaKey.ACQUISITION_DATETIME) or meta.get(MetaKey.SERIES_DATETIME)
        study = meta.get(MetaKey.STUDY_UID)
        modality = meta.get(MetaKey.MODALITY)
        if not isinstance(when, dt.datetime) or not study or modality not in ("CT", "NM", "PT"):
            continue  # not read from DICOM (NIfTI): no UIDs to record
        studies.append(
            ImagingStudyIn(
                patient=result.case.patient.id,
                date=when.date(),
                study_uid=str(study),
                series_uid=str(meta.get(MetaKey.SERIES_UID) or "") or None,
                modality=modality,
                role=role,
            )
        )
    return studies


def record_demo(
    session: Session,
    case: Case,
    result: VerificationResult,
    *,
    case_yaml: str,
    assessment: dict[str, Any],
    input_fingerprint: str,
    report_path: str | None,
    rtdose_path: str | None,
) -> str:
    """Record the demo patient's pathway in one transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    case : Case
        The demo case (``patient.id`` is the pseudonym, ``treatment:`` the session).
    result : VerificationResult
        The demo's verification (its ``pre`` is the plan).
    case_yaml : str
        The case file's text.
    assessment : dict
        ``opensirt assess`` of the case (scores, BCLC, eligibility), kept with the MDT
        decision.
    input_fingerprint : str
        SHA-256 of the plan's inputs.
    report_path, rtdose_path : str or None
        Where the plan's PDF report and RT Dose file are.

    Returns
    -------
    str
        The patient's pseudonym.

    Raises
    ------
    InputError
        If the registry holds the demo patient already, or the case has no treatment record.
    """
    if case.treatment is None:
        raise InputError("the demo case has no treatment: record")
    treated = case.treatment.injection.date()

    def before(step: str) -> dt.date:
        return treated - dt.timedelta(days=DAYS_BEFORE_TREATMENT[step])

    pseudonym = case.patient.id
    if session.scalar(sa.select(Patient.id).where(Patient.pseudonym == pseudonym)) is not None:
        raise InputError(
            f"the registry holds {pseudonym} already (an earlier demo?); give the demo another "
            "--db, or none (it then writes registry.sqlite3 in its output folder)"
        )
    patient = add_patient(
        session,
        PatientIn(
            patient=pseudonym,
            sex="other",  # as the synthetic DICOM (PatientSex O): the phantom has no sex
            birth_year=DEMO_BIRTH_YEAR,
            diagnosis="hcc",
            diagnosis_date=before("diagnosis"),
        ),
    )
    snapshot = json.loads(json.dumps(assessment, default=str))
    write_record(
        session,
        MdtDecisionIn(
            patient=pseudonym,
            date=before("mdt"),
            roles_present=(
                "hepatologist",
                "interventional radiologist",
                "nuclear medicine physician",
                "medical physicist",
                "hepatobiliary surgeon",
            ),
            options_considered=(Therapy.SIRT, Therapy.TACE, Therapy.SYSTEMIC),
            chosen=Therapy.SIRT,
            intent=Intent.PALLIATIVE,
            line=1,
            rationale="Synthetic demo patient: bilobar HCC, preserved liver function; SIRT.",
            assessment=snapshot,
        ),
        patient=patient,
    )
    record_assessment(session, case, before("workup"))
    for study in _imaging_studies(result):
        write_record(session, study, patient=patient)
    pre = result.pre
    label = default_plan_label(case)
    version = record_plan(
        session,
        case,
        case_yaml=case_yaml,
        result=pre.prescribed,
        result_json=pre.to_dict(),
        input_fingerprint=input_fingerprint,
        label=label,
        created_by=DEMO_PHYSICIST,
        day=before("plan"),
        report_path=report_path,
        rtdose_path=rtdose_path,
        tumour_volumes=tumour_volumes_ml(pre.image_case),
    )
    store.sign_plan_version(session, version, SignatureRole.PHYSICIST, DEMO_PHYSICIST)
    store.sign_plan_version(session, version, SignatureRole.PHYSICIAN, DEMO_PHYSICIAN)
    record_verification(session, result, result_json=result.to_dict(), plan_label=label)
    return pseudonym


#: The demo's registry inside its output folder (used unless ``--db`` names another).
DEMO_REGISTRY_NAME = "registry.sqlite3"


def record_demo_pathway(
    db: str | None,
    stage: Path,
    outdir: Path,
    case_path: Path,
    result: VerificationResult,
    assessment: dict[str, Any],
) -> str:
    """``opensirt demo``: record the demo patient's pathway.

    Without ``--db`` the demo writes a registry of its own, ``registry.sqlite3`` in the output
    folder: the demo never writes into the user's registry (``OPENSIRT_DB`` is not read)
    unless ``--db`` asks for it.

    Parameters
    ----------
    db : str or None
        The demo's ``--db`` value.
    stage : Path
        The staging folder the demo writes into (moved to ``outdir`` at the end).
    outdir : Path
        The output folder, whose final paths are recorded.
    case_path : Path
        The demo case file (in ``stage``).
    result : VerificationResult
        The demo's verification (its ``pre`` is the plan).
    assessment : dict
        ``opensirt assess`` of the demo case, kept with the MDT decision.

    Returns
    -------
    str
        The sentence that tells the user where the pathway was recorded and how to see it.
    """
    pre = result.pre
    case = result.case
    text = read_text_file(case_path, what="case file", max_bytes=MAX_CASE_FILE_BYTES)
    fingerprint = input_fingerprint(case, case_path, pre.images.sources)
    plan_folder = (outdir / "plan").resolve()
    registry = open_registry(stage / DEMO_REGISTRY_NAME if db is None else db, create=db is None)
    try:
        with registry.transaction() as session:
            pseudonym = record_demo(
                session,
                case,
                result,
                case_yaml=text,
                assessment=assessment,
                input_fingerprint=fingerprint,
                report_path=str(plan_folder / "plan.pdf"),
                rtdose_path=str(plan_folder / "plan_rtdose.dcm"),
            )
    finally:
        registry.dispose()
    url = shown(resolve_url(outdir / DEMO_REGISTRY_NAME if db is None else db))
    where = str(outdir / DEMO_REGISTRY_NAME) if db is None else url
    return (
        f"Recorded {pseudonym}'s pathway (MDT decision, signed plan, session, verification) in "
        f"{url}; show it with: opensirt registry timeline {pseudonym} --db {where}"
    )
