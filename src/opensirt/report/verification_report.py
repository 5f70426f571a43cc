"""The post-treatment verification report: delivered dose, and predicted against delivered."""

from __future__ import annotations

from datetime import datetime

from opensirt.physics.devices import get_device
from opensirt.report.clinical_tables import (
    activity_text,
    dose_method_blocks,
    dvh_metrics_table,
    dvh_plot,
    key_structures,
    make_table,
)
from opensirt.report.document import (
    Cell,
    Highlight,
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
)
from opensirt.report.figures import DoseComparison, predicted_vs_delivered_figure
from opensirt.report.image_figures import emission_blocks, flagged_dose_blocks
from opensirt.report.provenance import Provenance
from opensirt.report.registration_section import registration_sections
from opensirt.workflow.definitions import (
    DELIVERED_LABEL,
    as_planned_label,
    lung_dose_definitions,
    scaled_label,
)
from opensirt.workflow.posttreatment import VerificationResult


def _delivery_section(result: VerificationResult) -> Section:
    d = result.delivered
    record = result.case.treatment
    assert record is not None
    planned_lung = result.pre.prescribed.lung_gy
    rows = [
        ("Injection", record.injection.isoformat()),
        ("Vial assay", f"{record.vial_activity_gbq:g} GBq at {record.vial_measured.isoformat()}"),
        ("Vial at injection", activity_text(d.pre_at_injection_gbq)),
        (
            "Residual at injection",
            f"{activity_text(d.residual_at_injection_gbq)} ({d.residual_fraction:.1%})",
        ),
        ("Delivered activity", activity_text(d.delivered_gbq)),
        ("Planned activity to inject", activity_text(result.pre.prescribed.activity_gbq)),
        (
            "Post-treatment image total at injection",
            activity_text(result.image_total_at_injection_gbq)
            if result.image_total_at_injection_gbq is not None
            else "not calibrated (counts)",
        ),
        (
            "Lung shunt fraction, planned / delivered",
            f"{result.pre.lung_shunt_fraction:.2%} / {result.lung_shunt_fraction:.2%}",
        ),
        (
            "Partition lung dose, " + as_planned_label(result.pre.prescribed.activity_gbq),
            "—" if planned_lung is None else f"{planned_lung:.1f} Gy",
        ),
        (
            "Partition lung dose, " + scaled_label(d.delivered_gbq),
            f"{result.predicted_lung_dose_gy:.1f} Gy",
        ),
        ("Verified lung dose", f"{result.lung_dose_gy:.1f} Gy"),
    ]
    return Section(
        "Delivered activity",
        (
            "The delivered activity is the vial activity at injection minus the residual in the "
            "vial, tubing and catheter at injection. The post-treatment image is scaled so that "
            "the liver and the lungs hold it.",
            make_table(("Item", "Value"), rows),
            lung_dose_definitions(result.pre.lung_mass_kg, voxel=True, verified=True),
        ),
    )


def _image_section(result: VerificationResult) -> Section:
    """The post-treatment image: modality, calibration, and where its counts are."""
    image, counts = result.image_check, result.counts
    rows = [
        ("Modality", image.modality.value),
        ("DICOM modality, units", f"{image.dicom_modality or 'not DICOM'}, {image.units}"),
        ("Radionuclide in the header", image.radionuclide_label or "not given"),
        ("Total in the field of view", f"{counts.total:.4g} {counts.units}"),
        ("In the liver VOI", f"{counts.liver_fraction:.1%}"),
        ("In the lung VOI", f"{counts.lungs_fraction:.1%}"),
        ("Outside the liver and lung VOIs", f"{counts.outside_fraction:.1%}"),
    ]
    return Section(
        "Post-treatment image",
        (
            image.physics_note + " The counts outside the liver and lung VOIs (scatter, "
            "blur, extrahepatic deposition) are not given dose.",
            make_table(("Item", "Value"), rows),
        ),
    )


def _comparison_section(result: VerificationResult) -> Section:
    rows: list[tuple[Cell, ...]] = []
    highlights: dict[int, Highlight] = {}
    for i, c in enumerate(result.comparisons):
        planned = result.pre.dvhs.get(c.name)
        rows.append(
            (
                c.name,
                None if planned is None else planned.mean_gy,
                c.predicted_mean_gy,
                c.delivered_mean_gy,
                f"{c.mean_difference_fraction:+.0%}",
                c.predicted_d70_gy,
                c.delivered_d70_gy,
                "differs" if c.flagged else "agrees",
            )
        )
        highlights[i] = Highlight.FAILED if c.flagged else Highlight.PASSED
    key = key_structures(result.images.roles)
    comparisons = [
        DoseComparison(
            c.name, c.predicted_mean_gy, c.delivered_mean_gy, c.predicted_d70_gy, c.delivered_d70_gy
        )
        for c in result.comparisons
        if c.name in key
    ]
    return Section(
        "Predicted against delivered",
        (
            "Three doses per structure: "
            f"{as_planned_label(result.pre.prescribed.activity_gbq)}, the plan's voxel dose; "
            f"{scaled_label(result.delivered.delivered_gbq)}, the plan's voxel dose per GBq "
            f"times the activity delivered; and {DELIVERED_LABEL}. The difference and the "
            "result compare the delivered dose with the scaled prediction, so differences show "
            "where the microspheres went otherwise than the MAA predicted, not that another "
            "activity was injected. "
            f"A structure differs when its mean dose or D70 is off by more than "
            f"{result.tolerance_fraction:.0%} and by more than {result.tolerance_floor_gy:g} Gy.",
            make_table(
                (
                    "Structure",
                    "Mean as planned (Gy)",
                    "Mean scaled to delivered (Gy)",
                    "Mean delivered (Gy)",
                    "Delivered vs scaled",
                    "D70 scaled to delivered (Gy)",
                    "D70 delivered (Gy)",
                    "Result",
                ),
                rows,
                caption="Mean dose and D70 per structure: predicted as planned, predicted "
                "scaled to the delivered activity, delivered (post-treatment image); the lung "
                "row is the voxel mean lung dose",
                highlight_rows=highlights,
            ),
            ReportFigure(
                lambda: predicted_vs_delivered_figure(
                    comparisons, tolerance_fraction=result.tolerance_fraction
                ),
                "Predicted (scaled to the delivered activity) against delivered mean dose and "
                "D70, with the tolerance band",
            ),
            dvh_plot(
                {n: h for n, h in result.predicted_dvhs.items() if n in key},
                compare={n: h for n, h in result.dvhs.items() if n in key},
                caption="Cumulative DVHs: predicted scaled to the delivered activity (solid) and "
                "delivered (dashed)",
            ),
        ),
    )


def _dose_section(result: VerificationResult) -> Section:
    return Section(
        "Delivered voxel dose",
        (
            *dose_method_blocks(result.dose_method),
            dvh_metrics_table(result.dvhs, "Delivered dose-volume metrics per structure"),
            *flagged_dose_blocks(
                result.images, result.grid, result.dose, result.flagged_structures
            ),
        ),
    )


def build_verification_document(
    result: VerificationResult, *, created: datetime, provenance: Provenance | None
) -> ReportDocument:
    """The verification report of ``result``.

    It shows the post-treatment image fused on the CT through each tumour and the lung base,
    and the delivered dose through every flagged structure
    (:attr:`VerificationResult.flagged_structures`; the tumours when none is flagged).

    Parameters
    ----------
    result : VerificationResult
        The delivered dose and its comparison with the prediction.
    created : datetime
        When the report was made (timezone-aware), printed in the header.
    provenance : Provenance or None
        Software versions and input fingerprints; None leaves the section out.

    Returns
    -------
    ReportDocument
        The document, ready for the PDF writer.
    """
    device = get_device(result.case.device)
    return ReportDocument(
        title="SIRT post-treatment verification",
        subtitle=f"{device.label}: delivered dose from the post-treatment image",
        patient_id=result.case.patient.id,
        created=created,
        sections=(
            _delivery_section(result),
            _image_section(result),
            *registration_sections(
                result.images.registration, "post-treatment image", result.images
            ),
            Section(
                "The post-treatment image on the CT",
                tuple(
                    emission_blocks(
                        result.images, "post-treatment image", result.image_check.modality.value
                    )
                ),
            ),
            _comparison_section(result),
            _dose_section(result),
        ),
        warnings=tuple(Notice(w) for w in result.warnings),
        provenance=provenance,
    )
