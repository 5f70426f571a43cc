"""The pre-treatment plan report: what a clinician reads and signs before ordering activity."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from opensirt.physics.devices import get_device
from opensirt.planning import PlanResult
from opensirt.planning.case import Case
from opensirt.report.clinical_tables import (
    activity_text,
    compartment_table,
    dose_method_blocks,
    dvh_metrics_table,
    dvh_plot,
    formulas_block,
    key_structures,
    limits_table,
    make_table,
    methods_table,
    slice_figure,
    territory_table,
)
from opensirt.report.document import (
    Cell,
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Severity,
    Table,
)
from opensirt.report.figures import DoseMarker, MarkerKind, activity_methods_figure
from opensirt.report.image_figures import emission_blocks
from opensirt.report.provenance import Provenance, display_path
from opensirt.report.registration_section import registration_sections
from opensirt.workflow.definitions import lung_dose_definitions
from opensirt.workflow.pretreatment import PreTreatmentResult


def _prescription_section(case: Case, plan: PlanResult) -> Section:
    device = get_device(case.device)
    rows: list[tuple[str, str]] = [
        ("Device", device.label),
        ("Method", plan.method.value),
        ("Activity to inject", activity_text(plan.activity_gbq)),
    ]
    if plan.activity_gbq is not None:
        delivered = plan.activity_gbq * (1.0 - plan.residual_fraction)
        rows.append(
            (
                f"Expected delivered (after residual {plan.residual_fraction:.1%})",
                activity_text(delivered),
            )
        )
    if plan.target is not None:
        achieved = "—" if plan.target.achieved_gy is None else f"{plan.target.achieved_gy:.1f}"
        rows.append(
            (
                f"Target {plan.target.name}",
                f"{plan.target.value_gy:g} Gy; achieved {achieved} Gy "
                f"({'reached' if plan.target.reached else 'NOT reached'})",
            )
        )
    rows.append(("Binding limit", plan.binding_limit or "none"))
    shunt_source = plan.constants.lung_shunt_fraction_source
    rows.append(("Lung shunt fraction", f"{plan.lung_shunt_fraction:.2%} ({shunt_source})"))
    if plan.schedule is not None:
        rows.append(("Treatment time", plan.schedule.treatment.isoformat()))
        if plan.schedule.vial_activity_gbq is not None:
            calibrated = plan.schedule.vial_calibration
            rows.append(
                (
                    "Vial to order",
                    f"{plan.schedule.vial_activity_gbq:g} GBq at "
                    f"{calibrated.isoformat() if calibrated else '—'}",
                )
            )
        if plan.schedule.vial_activity_at_treatment_gbq is not None:
            rows.append(
                (
                    "Vial activity at treatment",
                    activity_text(plan.schedule.vial_activity_at_treatment_gbq),
                )
            )
        diff = plan.schedule.vial_difference_percent
        if diff is not None and plan.schedule.tolerance_fraction is not None:
            within = "within" if plan.schedule.within_tolerance else "OUTSIDE"
            rows.append(
                (
                    "Vial vs planned activity",
                    f"{diff:+.1f} % of {plan.schedule.planned_activity_gbq:.3f} GBq planned "
                    f"({within} the ±{100.0 * plan.schedule.tolerance_fraction:g} % "
                    "tolerance, schedule.vial_tolerance_fraction)",
                )
            )
        rows.append(("Vial note", plan.schedule.note))
    blocks: list[str | Table | Notice | ReportFigure] = [
        make_table(("Item", "Value"), rows, caption="Prescription")
    ]
    if plan.refused:
        blocks.insert(0, Notice(f"PLAN REFUSED: {plan.refused}", Severity.CRITICAL))
    return Section("Prescription", tuple(blocks))


def _inputs_section(
    case: Case, pre: PreTreatmentResult | None, case_path: str, base_dir: Path | None
) -> Section:
    p = case.patient
    rows: list[tuple[str, str]] = [
        ("Case file", case_path),
        ("Patient (pseudonym)", p.id),
        ("Height / weight", f"{p.height_m:g} m / {p.weight_kg:g} kg"),
        ("Previous lung dose", f"{case.lung.previous_dose_gy:g} Gy"),
    ]
    if p.labs is not None:
        labs = ", ".join(f"{k} {v:g}" for k, v in p.labs.model_dump().items() if v is not None)
        rows.append(("Laboratory values", labs or "—"))
    if pre is not None:
        for role, path in pre.images.sources.items():
            rows.append((f"Image: {role}", display_path(path, base_dir)))
        roles = pre.images.roles
        rows.append(
            (
                "Structures",
                f"liver {roles.liver}, lungs {roles.lungs}, tumours "
                f"{', '.join(roles.tumours) or '—'}, territories "
                + ", ".join(f"{t} = {s}" for t, s in roles.territories.items()),
            )
        )
    return Section("Inputs and their origin", (make_table(("Input", "Value"), rows),))


def _measurements_section(pre: PreTreatmentResult) -> Section:
    m = pre.measures
    rows: list[tuple[Cell, ...]] = [
        ("Liver volume (mL)", m.liver_volume_ml),
        ("Lung volume (mL)", m.lung_volume_ml),
        ("Lung mass (kg)", pre.lung_mass_kg),
        ("Lung mass from", pre.lung_mass_source),
        ("Lung shunt fraction, SPECT/CT", f"{m.lung_shunt.fraction:.2%}"),
        ("Lung shunt fraction used", f"{pre.lung_shunt_fraction:.2%} ({pre.lung_shunt_source})"),
    ]
    tumour_rows: list[tuple[Cell, ...]] = [
        (t.name, u.name, u.volume_ml, u.tn_ratio, t.volume_ml, t.counts_fraction)
        for t in m.territories
        for u in t.tumours
    ]
    tumour_rows = tumour_rows or [
        (t.name, "—", None, None, t.volume_ml, t.counts_fraction) for t in m.territories
    ]
    return Section(
        "Image measurements",
        (
            make_table(("Quantity", "Value"), rows, caption="Measured on the CT and the SPECT"),
            make_table(
                (
                    "Territory",
                    "Tumour",
                    "Tumour (mL)",
                    "T/N",
                    "Territory (mL)",
                    "Share of liver counts",
                ),
                tumour_rows,
                caption="Tumour-to-normal ratios (not corrected for partial volume) and "
                "perfused volumes",
            ),
        ),
    )


def _voxel_section(pre: PreTreatmentResult) -> Section:
    plan = pre.prescribed
    structures = {name: pre.images.segmentation.get(name) for name in pre.images.roles.all_names}
    largest = max(pre.images.roles.tumours, key=pre.images.segmentation.volume_ml, default=None)
    markers = [
        DoseMarker(f"lung limit {c.limit_gy:g} Gy", c.limit_gy)
        for c in plan.limits
        if c.name == "lung_max_gy" and c.limit_gy is not None
    ]
    if plan.target is not None:
        markers.append(
            DoseMarker(
                f"target {plan.target.value_gy:g} Gy", plan.target.value_gy, kind=MarkerKind.TARGET
            )
        )
    return Section(
        "Predicted voxel dose",
        (
            f"Voxel dose of {activity_text(plan.activity_gbq)} injected: the SPECT scaled to the "
            "activity, tissue density from the CT.",
            *dose_method_blocks(pre.dose_method),
            dvh_metrics_table(
                pre.dvhs,
                "Dose-volume metrics per structure (D98 ... D2: the dose "
                "received by at least that percentage of the volume)",
            ),
            slice_figure(
                pre.images.ct,
                pre.dose,
                structures,
                largest or pre.images.roles.liver,
                f"Predicted dose through the centre of {largest or 'the liver'}",
            ),
            dvh_plot(
                {n: h for n, h in pre.dvhs.items() if n in key_structures(pre.images.roles)},
                markers=markers,
                caption="Predicted cumulative DVHs (all structures: table above)",
            ),
        ),
    )


def build_plan_document(
    case: Case,
    plan: PlanResult,
    *,
    case_path: str,
    created: datetime,
    provenance: Provenance | None,
    pre: PreTreatmentResult | None = None,
    base_dir: Path | None = None,
) -> ReportDocument:
    """The plan report of ``plan`` (with the image measurements and voxel dose of ``pre``).

    With ``pre``, the report also shows the work-up image fused on the CT through each tumour
    and the lung base (:func:`opensirt.report.image_figures.emission_blocks`) and, when the
    SPECT was registered, the checkerboard of the two CTs.

    Parameters
    ----------
    case : Case
        The case file's content.
    plan : PlanResult
        The prescribed plan.
    case_path : str
        The case file's path as shown in the report.
    created : datetime
        When the report was made (timezone-aware), printed in the header.
    provenance : Provenance or None
        Software versions and input fingerprints; None leaves the section out.
    pre : PreTreatmentResult, optional
        The image pipeline's result (voxel plans); None for a plan from numbers alone.
    base_dir : Path, optional
        The case file's folder: image paths inside it are shown relative to it.

    Returns
    -------
    ReportDocument
        The document, ready for the PDF writer.
    """
    warnings = [*(pre.warnings if pre else ()), *plan.warnings]
    sections = [_prescription_section(case, plan), _inputs_section(case, pre, case_path, base_dir)]
    if pre is not None:
        sections += registration_sections(pre.images.registration, "SPECT", pre.images)
        sections.append(_measurements_section(pre))
        sections.append(
            Section(
                "The work-up image on the CT", tuple(emission_blocks(pre.images, "work-up image"))
            )
        )
    dose_blocks: list[str | Table | Notice | ReportFigure] = [limits_table(plan)]
    if plan.refused is None:
        dose_blocks += [compartment_table(plan), territory_table(plan)]
    voxel = pre is not None and plan.refused is None
    lung_mass_kg = plan.constants.lung_mass_kg
    dose_blocks.append(lung_dose_definitions(lung_mass_kg, voxel=voxel, verified=False))
    sections.append(Section("Doses and limits", tuple(dose_blocks)))
    if pre is not None:
        activities = {n: p.activity_gbq for n, p in pre.plans.items() if p.activity_gbq}
        sections.append(
            Section(
                "Activity by method",
                (
                    methods_table(pre.plans, plan.method.value),
                    ReportFigure(
                        lambda: activity_methods_figure(activities, selected=plan.method.value),
                        "Activity to inject by method",
                    ),
                ),
            )
        )
        if plan.refused is None:
            sections.append(_voxel_section(pre))
    sections.append(Section("Method and constants", (formulas_block(plan),)))
    device = get_device(case.device)
    return ReportDocument(
        title="SIRT pre-treatment plan",
        subtitle=f"{device.label}, {plan.method.value} method",
        patient_id=case.patient.id,
        created=created,
        sections=tuple(sections),
        warnings=tuple(Notice(w) for w in dict.fromkeys(warnings)),
        provenance=provenance,
    )
