"""The files a plan or a verification leaves: PDF report, JSON, RTDOSE, NIfTI dose, DVH CSV,
and from a DICOM CT the structures (RTSTRUCT, SEG), the dose SR and the Encapsulated PDF.

Every file is written atomically; callers that write several put them in a staging folder
(:func:`opensirt.workflow.staging.staged_output`) so that a failure leaves no partial set.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pydicom

from opensirt.commands._common import to_json
from opensirt.commands.saved_plan import (
    SavedPlanRef,
    planning_provenance,
    provenance_record,
)
from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.exports import write_dvh_csv, write_nifti, write_rtdose
from opensirt.exports.dicom_study import slices_in_volume_order
from opensirt.exports.dose_sr import ActivityRecord
from opensirt.exports.structures import StructureKind
from opensirt.exports.study_objects import StudyExport, write_study_objects
from opensirt.fileio import write_atomically
from opensirt.imaging import Volume
from opensirt.imaging.dicom_file import read_dataset
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_series import choose_series, dicom_source, list_series
from opensirt.planning import PlanResult
from opensirt.planning.case import Case
from opensirt.report import collect_provenance, write_pdf
from opensirt.report.plan_report import build_plan_document
from opensirt.report.provenance import Provenance, display_path
from opensirt.report.verification_report import build_verification_document
from opensirt.workflow.inputs import CaseImages, StructureRoles
from opensirt.workflow.plan_state import PLAN_STATE_FILE, write_plan_state
from opensirt.workflow.posttreatment import VerificationResult
from opensirt.workflow.pretreatment import PreTreatmentResult


def _write_json(path: Path, data: Any) -> Path:
    text = to_json(data) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomically(path, write)


def _provenance(
    case: Case, case_path: Path, sources: Mapping[str, Path], saved_plan: Path | None = None
) -> Provenance:
    inputs: dict[str, str | Path] = {"case file": case_path}
    inputs.update({f"image: {role}": path for role, path in sources.items()})
    if saved_plan is not None:  # the reused plan state is an input of the verification
        inputs["saved plan state"] = saved_plan
    return collect_provenance(
        inputs, settings=case.model_dump(mode="json"), relative_to=case_path.parent
    )


def _ct_slices(images: CaseImages) -> list[pydicom.Dataset] | None:
    """The headers of the CT that was read, ordered as its slices (None for NIfTI). An export
    folder or zip is searched for that CT's series, not its first file."""
    uid = images.ct.metadata.get(MetaKey.SERIES_UID)
    if not uid:
        return None
    ct_path = images.sources["ct"]
    # The CT was read already: its reader warnings are in the results, not repeated here.
    with dicom_source(ct_path) as root, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = choose_series(ct_path, list_series(root), series_uid=str(uid))
        return [read_dataset(p, header_only=True) for p in chosen.paths]


def structure_kinds(roles: StructureRoles) -> dict[str, StructureKind]:
    """The kind of each structure a case names: liver, lungs, tumours, perfused territories.

    Parameters
    ----------
    roles : StructureRoles
        The case's structure roles.

    Returns
    -------
    dict of str to StructureKind
        Structure name -> kind (a territory that is the whole liver stays ``liver``).
    """
    kinds = dict.fromkeys(roles.territories.values(), StructureKind.TERRITORY)
    kinds.update(dict.fromkeys(roles.tumours, StructureKind.TUMOUR))
    if roles.lungs:
        kinds[roles.lungs] = StructureKind.LUNG
    kinds[roles.liver] = StructureKind.LIVER
    return kinds


@dataclass(frozen=True)
class _DoseOutput:
    """One dose and what its files say about it."""

    stem: str
    dose: Volume
    images: CaseImages
    dvhs: Mapping[str, DoseVolumeHistogram]
    activity: ActivityRecord
    pdf: Path
    description: str


def _dose_files(folder: Path, out: _DoseOutput, *, created: datetime, dicom: bool) -> list[Path]:
    """RT Dose, NIfTI dose and DVH CSV; with ``dicom`` and a DICOM CT, also the structures,
    the dose SR and the report in the CT's study (:mod:`opensirt.exports.study_objects`)."""
    positive = out.dose.with_array(out.dose.array.clip(min=0.0))
    headers = _ct_slices(out.images)
    rest = [
        write_nifti(positive, folder / f"{out.stem}_dose.nii.gz"),
        write_dvh_csv(list(out.dvhs.values()), folder / f"{out.stem}_dvh.csv"),
    ]
    if headers is not None and dicom:
        export = StudyExport(
            slices_in_volume_order(headers, out.images.ct),
            out.images.segmentation,
            structure_kinds(out.images.roles),
            positive,
            out.dvhs,
            out.activity,
            out.pdf,
            out.description,
        )
        return write_study_objects(folder, out.stem, export, created=created) + rest
    rtdose = write_rtdose(
        positive,
        folder / f"{out.stem}_rtdose.dcm",
        reference=None if headers is None else headers[0],
        series_description=out.description,
        density_corrected=True,
    )
    return [rtdose, *rest]


def write_plan_outputs(
    folder: Path,
    case: Case,
    case_path: Path,
    plan: PlanResult,
    *,
    created: datetime,
    pre: PreTreatmentResult | None = None,
    dicom_objects: bool = True,
) -> list[Path]:
    """Write ``plan.json`` and ``plan.pdf`` (and, from images, the predicted dose files and
    the saved plan state that ``opensirt verify`` and ``opensirt assess`` reuse).

    From a DICOM CT, the dose files include the structures (RTSTRUCT, SEG), the dose report
    (SR) and the PDF as Encapsulated PDF, all in the CT's study, unless ``dicom_objects`` is
    False.

    Parameters
    ----------
    folder : Path
        The output folder (a staging folder: :func:`opensirt.workflow.staging.staged_output`).
    case : Case
        The case file as read.
    case_path : Path
        Its path (absolute); input paths are recorded relative to its folder.
    plan : PlanResult
        The plan of the case's method.
    created : datetime
        When the plan was made (timezone-aware), printed in the report.
    pre : PreTreatmentResult, optional
        The plan from images, when the case has images.
    dicom_objects : bool, optional
        Write the DICOM objects beside the RT Dose (default True).

    Returns
    -------
    list of Path
        The files written.
    """
    sources = pre.images.sources if pre is not None else {}
    provenance = _provenance(case, case_path, sources)
    data = pre.to_dict() if pre is not None else plan.to_dict()
    data["provenance"] = {
        "fingerprint": provenance.combined_fingerprint,
        "software": provenance.software,
    }
    document = build_plan_document(
        case,
        plan,
        case_path=display_path(case_path, case_path.parent),
        created=created,
        provenance=provenance,
        pre=pre,
        base_dir=case_path.parent,
    )
    written = [_write_json(folder / "plan.json", data), write_pdf(document, folder / "plan.pdf")]
    if pre is not None and pre.images.registration is not None:
        written.append(pre.images.registration.write(folder / "spect_registration.tfm"))
    if pre is not None:
        record = provenance_record(planning_provenance(case, case_path))
        written.append(write_plan_state(folder / PLAN_STATE_FILE, pre, record))
    if pre is not None and plan.activity_gbq is not None:
        out = _DoseOutput(
            "plan",
            pre.dose,
            pre.images,
            pre.dvhs,
            ActivityRecord(plan.activity_gbq, "planned activity"),
            folder / "plan.pdf",
            "OpenSIRT predicted dose",
        )
        written += _dose_files(folder, out, created=created, dicom=dicom_objects)
    return written


def write_verification_outputs(
    folder: Path,
    result: VerificationResult,
    case_path: Path,
    *,
    created: datetime,
    reused: SavedPlanRef | None = None,
    dicom_objects: bool = True,
) -> list[Path]:
    """Write ``verification.json``, ``verification.pdf`` and the delivered dose files (from a
    DICOM CT with the structures, dose SR and Encapsulated PDF, as for a plan).

    Parameters
    ----------
    folder : Path
        The output folder (a staging folder: :func:`opensirt.workflow.staging.staged_output`).
    result : VerificationResult
        The verification.
    case_path : Path
        The case file's path (absolute); input paths are recorded relative to its folder.
    created : datetime
        When the verification was made (timezone-aware), printed in the report.
    reused : SavedPlanRef, optional
        The saved plan the prediction was restored from; recorded in the JSON's provenance.
    dicom_objects : bool, optional
        Write the DICOM objects beside the RT Dose (default True).

    Returns
    -------
    list of Path
        The files written.
    """
    saved = None if reused is None else reused.path
    provenance = _provenance(result.case, case_path, result.images.sources, saved)
    data = result.to_dict()
    data["provenance"] = {
        "fingerprint": provenance.combined_fingerprint,
        "software": provenance.software,
        "saved_plan": None if reused is None else reused.to_dict(),
    }
    document = build_verification_document(result, created=created, provenance=provenance)
    registration = result.images.registration
    written = [
        *([] if registration is None else [registration.write(folder / "registration.tfm")]),
        _write_json(folder / "verification.json", data),
        write_pdf(document, folder / "verification.pdf"),
    ]
    out = _DoseOutput(
        "delivered",
        result.dose,
        result.images,
        result.dvhs,
        ActivityRecord(result.delivered.delivered_gbq, "delivered activity"),
        folder / "verification.pdf",
        "OpenSIRT delivered dose",
    )
    return written + _dose_files(folder, out, created=created, dicom=dicom_objects)
