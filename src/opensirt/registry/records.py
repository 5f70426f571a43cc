"""What may be written into the registry: one validated model per kind of record.

These models are the formats of ``opensirt registry add KIND FILE`` (a YAML list of records,
or a CSV file for the flat kinds) and of the JSON exchange bundle. Each names its fields with
their units, forbids unknown keys (a misspelt ``activity_mbq`` is an error that names it), and
checks ranges and the order of its own dates; the dates against the patient's history are
checked when written (:mod:`opensirt.registry.store`).

>>> PatientIn(patient="SIRT-0042", sex="female", birth_year=1957, diagnosis="hcc",
...           diagnosis_date="2025-03-04").diagnosis
<Diagnosis.HCC: 'hcc'>
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from opensirt.clinical.measurements import LesionStatus, Role
from opensirt.patient.inputs import ClinicalFindings, Labs
from opensirt.planning.case_file import format_location
from opensirt.registry.sites import SITE_PATTERN
from opensirt.registry.vocabulary import (
    QOL_MAX_SCORE,
    Attribution,
    Diagnosis,
    Intent,
    OutcomeKind,
    PlanState,
    ProgressionSite,
    QolInstrument,
    ResponseCriteria,
    Sex,
    SignatureRole,
    StudyRole,
    Therapy,
)

#: A pseudonymised patient id: letters, digits, ``.``, ``_`` and ``-``; no spaces, no names.
PSEUDONYM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

#: A DICOM UID (PS3.5 section 9.1): digits in dot-separated components, at most 64 characters.
UID_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def _uid(value: str) -> str:
    if len(value) > 64 or not UID_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not a DICOM UID (digits and dots, at most 64 characters, no leading "
            "zeros); copy it from the DICOM header (StudyInstanceUID / SeriesInstanceUID)"
        )
    return value


Uid = Annotated[str, AfterValidator(_uid)]
Pseudonym = Annotated[str, Field(pattern=PSEUDONYM_PATTERN)]
Text = Annotated[str, Field(max_length=4000)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class _Record(BaseModel):
    """Strict records: unknown keys are errors, strings are stripped, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _PatientRecord(_Record):
    patient: Pseudonym
    date: dt.date


class PatientIn(_Record):
    """A new patient: pseudonym, sex, birth year, the diagnosis with its date, and the site
    (optional; a code, used when the service scopes data by site)."""

    patient: Pseudonym
    sex: Sex
    birth_year: int = Field(ge=1890, le=2200)
    diagnosis: Diagnosis
    diagnosis_date: dt.date
    site: Annotated[str, Field(pattern=SITE_PATTERN)] | None = None

    @model_validator(mode="after")
    def _born_before_diagnosis(self) -> PatientIn:
        if self.diagnosis_date.year < self.birth_year:
            raise ValueError(
                f"diagnosis_date {self.diagnosis_date.isoformat()} is before birth_year "
                f"{self.birth_year}; check both"
            )
        return self


class LabsIn(_PatientRecord):
    """A lab panel: the case file's ``patient.labs`` keys, and tumour markers (ng/mL)."""

    labs: Labs = Field(default_factory=Labs)
    afp_ng_ml: float | None = Field(default=None, ge=0, le=1e7)
    cea_ng_ml: float | None = Field(default=None, ge=0, le=1e6)


class FindingsIn(_PatientRecord):
    """Clinical findings of a date: the case file's ``clinical:`` keys."""

    findings: ClinicalFindings


class QualityOfLifeIn(_PatientRecord):
    """A scored questionnaire: the instrument, the scale's name and its score."""

    instrument: QolInstrument
    scale: Name = "total"
    score: float = Field(ge=0)

    @model_validator(mode="after")
    def _in_range(self) -> QualityOfLifeIn:
        top = QOL_MAX_SCORE[self.instrument]
        if self.score > top:
            raise ValueError(
                f"score {self.score} is above the {self.instrument.value} maximum {top:g}; give "
                "the scored scale (0-100 for EORTC scales, 0-180 for the FACT-Hep total)"
            )
        return self


class MdtDecisionIn(_PatientRecord):
    """A multidisciplinary board decision."""

    roles_present: tuple[Name, ...] = Field(min_length=1)
    options_considered: tuple[Therapy, ...] = Field(min_length=1)
    chosen: Therapy
    intent: Intent
    line: int | None = Field(default=None, ge=1, le=20)
    rationale: Text = ""
    assessment: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _chosen_was_considered(self) -> MdtDecisionIn:
        if self.chosen not in self.options_considered:
            raise ValueError(
                f"chosen {self.chosen.value!r} is not among options_considered "
                f"{[o.value for o in self.options_considered]}; add it there"
            )
        return self


class ImagingStudyIn(_PatientRecord):
    """An imaging study by its DICOM UIDs (never the pixels)."""

    study_uid: Uid
    series_uid: Uid | None = None
    modality: Literal["CT", "MR", "NM", "PT"]
    role: StudyRole


class WorkupIn(_PatientRecord):
    """The MAA work-up results."""

    lung_shunt_fraction: float | None = Field(default=None, ge=0, le=1)
    lung_shunt_source: Name | None = None
    tumour_to_normal: dict[Name, Annotated[float, Field(gt=0, le=1000)]] = Field(
        default_factory=dict
    )
    extrahepatic_uptake: bool | None = None
    perfused_territories: tuple[Name, ...] = ()


class VialAssay(_Record):
    """A vial as assayed: activity (GBq) at the assay time (with its time zone)."""

    activity_gbq: float = Field(gt=0, le=50)
    assayed_at: dt.datetime

    @model_validator(mode="after")
    def _aware(self) -> VialAssay:
        if self.assayed_at.tzinfo is None:
            raise ValueError(
                f"assayed_at {self.assayed_at.isoformat()} has no time zone; write it as "
                "2025-03-04T09:30:00+01:00"
            )
        return self


class SirtDetails(_Record):
    """What a SIRT session records beyond the therapy, date and territory."""

    device: Name
    vials: tuple[VialAssay, ...] = ()
    residual_fraction: float | None = Field(default=None, ge=0, le=1)
    catheter_position: Text = ""
    injected_at: AwareDatetime | None = None


def _times_as_text(value: Any) -> Any:
    """``value`` with every date and time (at any depth) as ISO 8601 text, the rest as given."""
    if isinstance(value, dict):
        return {k: _times_as_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_times_as_text(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _sirt_problem(error: ErrorDetails) -> str:
    """One problem of a SIRT session's ``details``: the key path, the value, what is wrong."""
    where = "details." + format_location(tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key (SIRT details: {', '.join(SirtDetails.model_fields)})"
    if isinstance(value, dict | list | tuple):
        return f"{where}: {message}"
    return f"{where} is {value!r}: {message}"


class SessionIn(_PatientRecord):
    """A treatment session: SIRT or another therapy, on one date.

    ``details`` for SIRT follow :class:`SirtDetails` (device, vials with their assays,
    residual fraction, catheter position, injection time); other therapies give free keys that
    say what was given (TACE: ``drug``, ``dose_mg``, ``beads``; HAIC: ``drug``, ``regimen``;
    systemic: ``agent``, ``line``; external beam: ``dose_gy``, ``fractions`` ...), each value
    a number, a string or a boolean. ``plan`` names the plan (its label) the session
    delivers and ``plan_version`` its version number; without a number the plan's current
    approved version is meant.
    """

    therapy: Therapy
    territory: Name | None = None
    delivered_activity_gbq: float | None = Field(default=None, ge=0, le=50)
    plan: Name | None = None
    plan_version: int | None = Field(default=None, ge=1)
    details: dict[Name, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _sirt_details(cls, data: Any) -> Any:
        """SIRT details checked by :class:`SirtDetails`, each problem named by its key path;
        times read from YAML kept as ISO 8601 text, so they need no quotes."""
        if isinstance(data, dict) and data.get("therapy") == Therapy.SIRT.value:
            details = data.get("details")
            if isinstance(details, dict):
                try:
                    SirtDetails.model_validate(details)
                except ValidationError as exc:
                    raise ValueError(
                        "; ".join(_sirt_problem(e) for e in exc.errors(include_url=False))
                    ) from None
                data = {**data, "details": _times_as_text(details)}
        return data

    @model_validator(mode="after")
    def _fields_of_therapy(self) -> SessionIn:
        if self.plan_version is not None and self.plan is None:
            raise ValueError("plan_version is given without plan; name the plan's label too")
        if self.therapy is Therapy.SIRT:
            SirtDetails.model_validate(self.details)
            return self
        if self.delivered_activity_gbq is not None:
            raise ValueError(
                f"delivered_activity_gbq is given for a {self.therapy.value} session; it "
                "belongs to SIRT sessions only"
            )
        nested = [k for k, v in self.details.items() if isinstance(v, dict | list)]
        if nested:
            raise ValueError(
                f"details {nested} of a {self.therapy.value} session hold lists or mappings; "
                "give each detail as one number, text or true/false"
            )
        return self


class MonitoringIn(_PatientRecord):
    """The 4-6 h observation after a session (``date`` is the session's date)."""

    start: AwareDatetime
    end: AwareDatetime
    observations: tuple[dict[Name, str | float | bool | None], ...] = ()
    discharged: bool
    notes: Text = ""

    @model_validator(mode="after")
    def _ordered(self) -> MonitoringIn:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        return self


class AdverseEventIn(_PatientRecord):
    """An adverse event: ``date`` is the onset; CTCAE v5.0 term and grade."""

    term: Annotated[str, Field(min_length=2, max_length=128)]
    grade: int = Field(ge=1, le=5)
    resolved: dt.date | None = None
    attribution: Attribution
    session_date: dt.date | None = None  # the treatment it followed, if any

    @model_validator(mode="after")
    def _ordered(self) -> AdverseEventIn:
        if self.resolved is not None and self.resolved < self.date:
            raise ValueError(
                f"resolved {self.resolved.isoformat()} is before the onset {self.date.isoformat()}"
            )
        return self


class OutcomeIn(_PatientRecord):
    """Progression (with its site), death (with its cause) or the last contact."""

    kind: OutcomeKind
    site: ProgressionSite | None = None
    cause: Annotated[str, Field(max_length=128)] | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> OutcomeIn:
        if self.kind is OutcomeKind.PROGRESSION and self.site is None:
            raise ValueError("a progression needs its site: in-field, out-of-field or extrahepatic")
        if self.kind is not OutcomeKind.PROGRESSION and self.site is not None:
            raise ValueError(f"site is given for {self.kind.value}; only a progression has one")
        if self.kind is not OutcomeKind.DEATH and self.cause is not None:
            raise ValueError(f"cause is given for {self.kind.value}; only a death has one")
        return self


class ResponseIn(_PatientRecord):
    """A time-point response as :mod:`opensirt.clinical.response` computed it."""

    criteria: ResponseCriteria
    criteria_version: Name
    target: Name
    non_target: Name
    new_lesions: bool
    overall: Name
    target_change_pct: float | None = None


class LesionMeasurementIn(_PatientRecord):
    """One lesion on one date: the columns of ``measurements.csv`` (lengths mm, areas mm2)."""

    lesion_id: Name
    role: Role
    organ: Name = "liver"
    is_node: bool = False
    longest_diameter_mm: float | None = Field(default=None, ge=0, le=500)
    short_axis_mm: float | None = Field(default=None, ge=0, le=500)
    viable_diameter_mm: float | None = Field(default=None, ge=0, le=500)
    enhancing_area_mm2: float | None = Field(default=None, ge=0, le=250_000)
    status: LesionStatus = LesionStatus.PRESENT


class SignatureIn(_Record):
    """A signature on a plan version: role, user and time (with its time zone)."""

    role: SignatureRole
    user_name: Name
    signed_at: AwareDatetime


class PlanVersionIn(_PatientRecord):
    """A version of a patient's plan ``label``, with what it rests on and its signatures.

    ``date`` is the planning date; activity in GBq and mean doses in Gy as the plan's result
    JSON gives them; ``input_fingerprint`` is the SHA-256 of its inputs.
    """

    label: Name
    version: int = Field(ge=1)
    state: PlanState = PlanState.DRAFT
    case_yaml: Annotated[str, Field(max_length=1_000_000)]
    result_json: Annotated[str, Field(max_length=10_000_000)]
    method: Name
    device: Name
    activity_gbq: float | None = Field(default=None, ge=0, le=50)
    tumour_dose_gy: float | None = Field(default=None, ge=0, le=10_000)
    normal_liver_dose_gy: float | None = Field(default=None, ge=0, le=10_000)
    lung_dose_gy: float | None = Field(default=None, ge=0, le=10_000)
    limits: tuple[dict[str, Any], ...] = ()
    input_fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    report_path: Annotated[str, Field(max_length=4096)] | None = None
    rtdose_path: Annotated[str, Field(max_length=4096)] | None = None
    created_by: Name
    signatures: tuple[SignatureIn, ...] = ()

    @model_validator(mode="after")
    def _signed_as_stated(self) -> PlanVersionIn:
        roles = [s.role for s in self.signatures]
        if len(set(roles)) != len(roles):
            raise ValueError("a plan version has at most one signature per role")
        users = {s.user_name for s in self.signatures}
        if len(self.signatures) == 2 and len(users) < 2:
            raise ValueError("the two signatures of a plan version must be by different users")
        approved = len(self.signatures) == len(SignatureRole)
        if approved != (self.state is not PlanState.DRAFT):
            raise ValueError(
                f"state {self.state.value!r} does not match {len(self.signatures)} signature(s): "
                "a draft has fewer than two, an approved or superseded version has both"
            )
        return self


class VerifiedStructureIn(_Record):
    """Predicted and delivered mean dose (Gy) of one structure."""

    structure: Name
    predicted_gy: float | None = Field(default=None, ge=0)
    predicted_scaled_gy: float | None = Field(default=None, ge=0)
    delivered_gy: float | None = Field(default=None, ge=0)
    difference_pct: float | None = None
    flagged: bool = False


class VerificationIn(_PatientRecord):
    """A post-treatment verification: modality, delivered activity, per-structure doses."""

    modality: Name
    delivered_activity_gbq: float | None = Field(default=None, ge=0, le=50)
    session_date: dt.date | None = None  # the treatment session it verifies
    result_json: Annotated[str, Field(max_length=10_000_000)] = "{}"
    structures: tuple[VerifiedStructureIn, ...] = ()
