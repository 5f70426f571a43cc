"""One line with units, and the structured details, for each kind of dated record.

:data:`SUMMARIES` maps each table of :data:`~opensirt.registry.models.TIMELINE_TABLES` to a
function ``(row, context) -> (summary, details)``: the line a person reads in the timeline
(``"SIRT, right lobe: 1.70 GBq delivered (sir-spheres, 2 vials)"``) and the record as
JSON-ready data. Numbers are written with three significant digits
(:func:`opensirt.report.format_value`); every quantity carries its unit, taken from the
suffix of its field name (``bilirubin_umol_l`` is shown as ``bilirubin 18.0 µmol/L``).

>>> quantity("bilirubin_umol_l", 18.0)
'bilirubin 18.0 µmol/L'
>>> quantity("afp_ng_ml", 1234.5)
'AFP 1234 ng/mL'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensirt.registry.models import (
    AdverseEventRecord,
    Base,
    ClinicalFindingsRecord,
    ImagingStudy,
    LabPanel,
    LesionMeasurement,
    MdtDecision,
    Monitoring,
    OutcomeEvent,
    PlanVersion,
    QualityOfLife,
    ResponseAssessment,
    TreatmentSession,
    Verification,
    Workup,
)
from opensirt.report import format_value

#: Unit suffixes of field names and how the unit is written, longest first.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_umol_l", "µmol/L"),
    ("_mmol_l", "mmol/L"),
    ("_ng_ml", "ng/mL"),
    ("_mg_dl", "mg/dL"),
    ("_g_dl", "g/dL"),
    ("_mm2", "mm²"),
    ("_g_l", "g/L"),
    ("_gbq", "GBq"),
    ("_pct", "%"),
    ("_mm", "mm"),
    ("_mg", "mg"),
    ("_gy", "Gy"),
    ("_ml", "mL"),
    ("_s", "s"),
)

#: Abbreviations written in capitals.
_ACRONYMS = {"afp": "AFP", "cea": "CEA", "inr": "INR", "ecog": "ECOG", "sirt": "SIRT"}

#: How a therapy is written in a summary.
THERAPY_TEXT = {
    "sirt": "SIRT",
    "tace": "TACE",
    "tae": "TAE",
    "haic": "HAIC",
    "ablation": "ablation",
    "resection": "resection",
    "transplant": "transplant",
    "external-beam": "external-beam RT",
    "systemic": "systemic therapy",
    "best-supportive-care": "best supportive care",
}

#: How a quality-of-life instrument is written.
QOL_TEXT = {
    "eortc-qlq-c30": "EORTC QLQ-C30",
    "eortc-qlq-hcc18": "EORTC QLQ-HCC18",
    "fact-hep": "FACT-Hep",
}


#: How response criteria are written.
CRITERIA_TEXT = {"recist1.1": "RECIST 1.1", "mrecist": "mRECIST", "easl": "EASL"}


@dataclass(frozen=True)
class Context:
    """What a summary needs from other tables of the same patient.

    Parameters
    ----------
    plans : mapping int -> (str, int)
        Plan version id -> (plan label, version number).
    sessions : mapping int -> datetime.date
        Treatment session id -> its date.
    """

    plans: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    sessions: Mapping[int, dt.date] = field(default_factory=dict)


Summary = tuple[str, dict[str, Any]]


def _name(key: str) -> str:
    return _ACRONYMS.get(key, key.replace("_", " "))


def quantity(key: str, value: Any) -> str:
    """A field as ``name value unit``, the unit read from the field name's suffix.

    Parameters
    ----------
    key : str
        The field name, with its unit suffix (``albumin_g_l``), or without one (``inr``).
    value : any
        A number, text, boolean (``yes``/``no``), list (joined by commas) or ``None``.

    Returns
    -------
    str
        E.g. ``"albumin 38.0 g/L"``, ``"cirrhosis yes"``.
    """
    unit = ""
    for suffix, written in UNIT_SUFFIXES:
        if key.endswith(suffix):
            key, unit = key[: -len(suffix)], written
            break
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(quantity(str(k), v) for k, v in value.items())
    elif isinstance(value, str):
        text = value
    else:
        text = format_value(value)
    return f"{_name(key)} {text}" + (f" {unit}" if unit and value is not None else "")


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(quantity(k, v) for k, v in values.items() if v is not None) or "none given"


def _gbq(value: float | None) -> str:
    return f"{format_value(value)} GBq"


def _gy(value: float | None) -> str:
    return f"{format_value(value)} Gy"


def _day(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _findings(row: ClinicalFindingsRecord, context: Context) -> Summary:
    """Clinical findings: each finding with its unit."""
    return _pairs(row.findings), {"findings": dict(row.findings)}


def _labs(row: LabPanel, context: Context) -> Summary:
    """A lab panel: the values and tumour markers with their units."""
    markers = {"afp_ng_ml": row.afp_ng_ml, "cea_ng_ml": row.cea_ng_ml}
    return _pairs({**row.labs, **markers}), {"labs": dict(row.labs), **markers}


def _quality_of_life(row: QualityOfLife, context: Context) -> Summary:
    """A scored questionnaire: instrument, scale and score."""
    from opensirt.registry.vocabulary import QOL_MAX_SCORE

    top = QOL_MAX_SCORE[row.instrument]
    text = f"{QOL_TEXT[row.instrument.value]} {row.scale}: {format_value(row.score)} of {top:g}"
    return text, {"instrument": row.instrument.value, "scale": row.scale, "score": row.score}


def _mdt(row: MdtDecision, context: Context) -> Summary:
    """A board decision: the therapy chosen, intent and line, the options considered."""
    line = "" if row.line is None else f", line {row.line}"
    options = ", ".join(THERAPY_TEXT.get(o, o) for o in row.options_considered)
    text = f"{THERAPY_TEXT[row.chosen.value]} ({row.intent.value}{line}); considered {options}"
    details = {
        "chosen": row.chosen.value,
        "intent": row.intent.value,
        "line": row.line,
        "options_considered": list(row.options_considered),
        "roles_present": list(row.roles_present),
        "rationale": row.rationale,
        "assessment": row.assessment,
    }
    return text, details


def _imaging(row: ImagingStudy, context: Context) -> Summary:
    """An imaging study: role, modality and its DICOM UIDs."""
    series = "" if row.series_uid is None else f", series {row.series_uid}"
    text = f"{row.role.value} ({row.modality}), study {row.study_uid}{series}"
    details = {
        "role": row.role.value,
        "modality": row.modality,
        "study_uid": row.study_uid,
        "series_uid": row.series_uid,
    }
    return text, details


def _workup(row: Workup, context: Context) -> Summary:
    """The MAA work-up: lung shunt (%), tumour-to-normal ratios, uptake, territories."""
    parts = []
    if row.lung_shunt_fraction is not None:
        source = "" if row.lung_shunt_source is None else f" ({row.lung_shunt_source})"
        parts.append(f"lung shunt {format_value(100.0 * row.lung_shunt_fraction)} %{source}")
    if row.tumour_to_normal:
        ratios = ", ".join(f"{k} {format_value(v)}" for k, v in row.tumour_to_normal.items())
        parts.append(f"T/N {ratios}")
    if row.extrahepatic_uptake is not None:
        parts.append("extrahepatic uptake" if row.extrahepatic_uptake else "no extrahepatic uptake")
    if row.perfused_territories:
        parts.append(f"territories {', '.join(row.perfused_territories)}")
    details = {
        "lung_shunt_fraction": row.lung_shunt_fraction,
        "lung_shunt_source": row.lung_shunt_source,
        "tumour_to_normal": dict(row.tumour_to_normal),
        "extrahepatic_uptake": row.extrahepatic_uptake,
        "perfused_territories": list(row.perfused_territories),
    }
    return "; ".join(parts) or "no results given", details


def _plan_version(item: tuple[PlanVersion, str], context: Context) -> Summary:
    """A plan version: label, number, state and signatures, method, activity and doses."""
    version, label = item
    signatures = sorted(version.signatures, key=lambda s: s.role.value)
    signed = ", ".join(f"{s.role.value} {s.user_name}" for s in signatures)
    doses = [
        f"{name} {format_value(value)}"
        for name, value in (
            ("tumour", version.tumour_dose_gy),
            ("normal liver", version.normal_liver_dose_gy),
            ("lung", version.lung_dose_gy),
        )
        if value is not None
    ]
    text = (
        f"{label!r} v{version.version} {version.state.value}"
        + (f" (signed {signed})" if signed else "")
        + f": {version.method}, {version.device}"
        + ("" if version.activity_gbq is None else f", {_gbq(version.activity_gbq)}")
        + ("" if not doses else f"; {', '.join(doses)} Gy")
    )
    details = {
        "label": label,
        "version": version.version,
        "state": version.state.value,
        "method": version.method,
        "device": version.device,
        "activity_gbq": version.activity_gbq,
        "tumour_dose_gy": version.tumour_dose_gy,
        "normal_liver_dose_gy": version.normal_liver_dose_gy,
        "lung_dose_gy": version.lung_dose_gy,
        "limits": list(version.limits),
        "input_fingerprint": version.input_fingerprint,
        "report_path": version.report_path,
        "rtdose_path": version.rtdose_path,
        "created_by": version.created_by,
        "signatures": [
            {"role": s.role.value, "user_name": s.user_name, "signed_at": _day(s.signed_at)}
            for s in signatures
        ],
    }
    return text, details


def _treatment_session(row: TreatmentSession, context: Context) -> Summary:
    """A treatment: therapy, territory, delivered activity (SIRT) and what was given."""
    head = THERAPY_TEXT[row.therapy.value] + ("" if row.territory is None else f", {row.territory}")
    given = dict(row.details)
    if row.delivered_activity_gbq is not None:
        head += f": {_gbq(row.delivered_activity_gbq)} delivered"
    extra = []
    if "device" in given:
        extra.append(str(given["device"]))
    vials = given.get("vials")
    if isinstance(vials, list) and vials:
        extra.append(f"{len(vials)} vial" + ("s" if len(vials) > 1 else ""))
    residual = given.get("residual_fraction")
    if isinstance(residual, int | float):
        extra.append(f"residual {format_value(100.0 * residual, digits=2)} %")
    others = {
        k: v
        for k, v in given.items()
        if k not in ("device", "vials", "residual_fraction", "catheter_position", "injected_at")
    }
    if others:
        extra.append(_pairs(others))
    plan = context.plans.get(row.plan_version_id or -1)
    if plan is not None:
        extra.append(f"plan {plan[0]!r} v{plan[1]}")
    details = {
        "therapy": row.therapy.value,
        "territory": row.territory,
        "delivered_activity_gbq": row.delivered_activity_gbq,
        "plan": None if plan is None else {"label": plan[0], "version": plan[1]},
        "details": given,
    }
    return head + ("" if not extra else f" ({'; '.join(extra)})"), details


def _monitoring(row: Monitoring, context: Context) -> Summary:
    """The post-treatment observation: its times (UTC), duration, discharge."""
    hours = (row.end - row.start).total_seconds() / 3600.0
    text = (
        f"monitored {row.start:%H:%M}-{row.end:%H:%M} UTC ({format_value(hours)} h), "
        f"{len(row.observations)} observation(s), "
        + ("discharged" if row.discharged else "not discharged")
    )
    details = {
        "start": _day(row.start),
        "end": _day(row.end),
        "observations": list(row.observations),
        "discharged": row.discharged,
        "notes": row.notes,
    }
    return text, details


def _verification(row: Verification, context: Context) -> Summary:
    """Post-treatment dosimetry: delivered activity and each structure's predicted vs delivered."""
    structures = sorted(row.structures, key=lambda s: s.id)
    shown = []
    for s in structures:
        diff = "" if s.difference_pct is None else f" ({s.difference_pct:+.1f} %)"
        flag = " FLAGGED" if s.flagged else ""
        shown.append(
            f"{s.structure} {format_value(s.predicted_gy)} -> {_gy(s.delivered_gy)}{diff}{flag}"
        )
    text = (
        row.modality
        + ("" if row.delivered_activity_gbq is None else f", {_gbq(row.delivered_activity_gbq)}")
        + ("" if not shown else "; predicted -> delivered: " + "; ".join(shown))
    )
    details = {
        "modality": row.modality,
        "delivered_activity_gbq": row.delivered_activity_gbq,
        "session_date": _day(context.sessions.get(row.session_id or -1)),
        "structures": [
            {
                "structure": s.structure,
                "predicted_gy": s.predicted_gy,
                "predicted_scaled_gy": s.predicted_scaled_gy,
                "delivered_gy": s.delivered_gy,
                "difference_pct": s.difference_pct,
                "flagged": s.flagged,
            }
            for s in structures
        ],
    }
    return text, details


def _adverse_event(row: AdverseEventRecord, context: Context) -> Summary:
    """An adverse event: CTCAE term, grade, attribution and resolution."""
    resolved = "ongoing" if row.resolved is None else f"resolved {row.resolved.isoformat()}"
    after = context.sessions.get(row.session_id or -1)
    text = f"{row.term}, grade {row.grade} ({row.attribution.value}), {resolved}" + (
        "" if after is None else f"; after session {after.isoformat()}"
    )
    details = {
        "term": row.term,
        "grade": row.grade,
        "attribution": row.attribution.value,
        "resolved": _day(row.resolved),
        "session_date": _day(after),
    }
    return text, details


def _lesions(rows: Sequence[LesionMeasurement], context: Context) -> Summary:
    """The lesions measured on one date: counts per role and the target sum (mm)."""
    roles: dict[str, int] = {}
    for r in rows:
        roles[r.role] = roles.get(r.role, 0) + 1
    targets = [r.longest_diameter_mm for r in rows if r.role == "target"]
    counted = ", ".join(f"{n} {role}" for role, n in roles.items())
    text = f"{len(rows)} lesion(s) measured: {counted}"
    if targets and all(t is not None for t in targets):
        text += f"; sum of target longest diameters {format_value(sum(targets))} mm"  # type: ignore[arg-type]
    columns = (
        "lesion_id",
        "role",
        "organ",
        "is_node",
        "longest_diameter_mm",
        "short_axis_mm",
        "viable_diameter_mm",
        "enhancing_area_mm2",
        "status",
    )
    return text, {"lesions": [{c: getattr(r, c) for c in columns} for r in rows]}


def _response(row: ResponseAssessment, context: Context) -> Summary:
    """A time-point response: criteria, overall, target change (%), non-target, new lesions."""
    change = "" if row.target_change_pct is None else f" ({row.target_change_pct:+.1f} %)"
    text = (
        f"{CRITERIA_TEXT[row.criteria.value]} {row.overall}: target {row.target}{change}, "
        f"non-target {row.non_target}, " + ("new lesions" if row.new_lesions else "no new lesions")
    )
    details = {
        "criteria": row.criteria.value,
        "criteria_version": row.criteria_version,
        "overall": row.overall,
        "target": row.target,
        "target_change_pct": row.target_change_pct,
        "non_target": row.non_target,
        "new_lesions": row.new_lesions,
    }
    return text, details


def _outcome(row: OutcomeEvent, context: Context) -> Summary:
    """An outcome: progression with its site, death with its cause, or the last contact."""
    text = row.kind.value.replace("-", " ")
    if row.site is not None:
        text += f" ({row.site.value})"
    if row.cause:
        text += f": {row.cause}"
    site = None if row.site is None else row.site.value
    return text, {"kind": row.kind.value, "site": site, "cause": row.cause}


#: The summary function of each dated table.
SUMMARIES: dict[type[Base], Callable[[Any, Context], Summary]] = {
    ClinicalFindingsRecord: _findings,
    LabPanel: _labs,
    QualityOfLife: _quality_of_life,
    MdtDecision: _mdt,
    ImagingStudy: _imaging,
    Workup: _workup,
    PlanVersion: _plan_version,
    TreatmentSession: _treatment_session,
    Monitoring: _monitoring,
    Verification: _verification,
    AdverseEventRecord: _adverse_event,
    LesionMeasurement: _lesions,
    ResponseAssessment: _response,
    OutcomeEvent: _outcome,
}
