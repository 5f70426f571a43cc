"""The report section of a registration: method, transform, final metric and quality check."""

from __future__ import annotations

from opensirt.imaging.registration import MIN_CORRELATION, MIN_OVERLAP_FRACTION, Registration
from opensirt.report.clinical_tables import make_table
from opensirt.report.document import Block, ReportFigure, Section
from opensirt.report.registration_figure import (
    EDGE_TOLERANCE_MM,
    TILE_MM,
    registration_overlay_figure,
)
from opensirt.report.slices import structure_centre_mm
from opensirt.workflow.inputs import CaseImages


def _triple(values: tuple[float, float, float], unit: str, digits: int) -> str:
    return ", ".join(f"{v:+.{digits}f}" for v in values) + f" {unit}"


def _verdict(registration: Registration) -> str:
    q = registration.quality
    if q is None:
        return "quality check: rotation bound only (no study CT to compare)"
    before = "n/a" if q.correlation_before is None else f"{q.correlation_before:.3f}"
    return (
        f"quality check passed: CT correlation in the liver region {q.correlation_after:.3f} "
        f"(at least {MIN_CORRELATION:g}; {before} before registration), "
        f"{q.overlap_fraction:.0%} of the region inside the study's CT "
        f"(at least {MIN_OVERLAP_FRACTION:.0%}), rotation {q.rotation_deg:.1f} degrees"
    )


def registration_figure(registration: Registration, images: CaseImages, study: str) -> Block:
    """The checkerboard of the planning CT and the registered study CT through the liver.

    Parameters
    ----------
    registration : Registration
        The transform (planning points to study points) with its metric and quality check.
    images : CaseImages
        The planning CT, the structures (the liver sets the slices) and the study's own CT
        (:attr:`CaseImages.study_ct`).
    study : str
        What was registered, in the caption (e.g. "post-treatment image").

    Returns
    -------
    Block
        The figure with its caption, or a paragraph saying why there is none (a transform
        file applied without the study's CT).
    """
    if images.study_ct is None:
        return (
            f"No checkerboard of the two CTs: the {study} was placed with a transform file "
            "without its own CT to compare."
        )
    centre = structure_centre_mm(images.segmentation.get(images.roles.liver))
    figure, agreement = registration_overlay_figure(
        images.ct, images.study_ct, registration.transform, position_mm=centre
    )
    metric = (
        "no metric (transform file)"
        if registration.metric is None
        else f"final Mattes mutual information {registration.metric:.4f}"
    )
    matched = ", ".join(f"{a:.0%}" for a in agreement)
    return ReportFigure(
        figure,
        f"Registration of the {study}: the planning CT and the study's CT resampled through "
        f"the registration, in alternating {TILE_MM:g} mm tiles, through the liver's centre, "
        f"with the planning CT's edges in yellow; anatomy broken at the tile borders or edges "
        f"off the study's edges show a wrong registration. Planning edges within "
        f"{EDGE_TOLERANCE_MM:g} mm of a study edge (axial, coronal, sagittal): {matched}; "
        f"{metric}; {_verdict(registration)}.",
    )


def registration_sections(
    registration: Registration | None, study: str, images: CaseImages | None = None
) -> list[Section]:
    """The registration section of a study, if it was registered.

    Parameters
    ----------
    registration : Registration or None
        How the study was brought into the planning CT's frame; None: not registered.
    study : str
        What was registered (e.g. "post-treatment image", "SPECT").
    images : CaseImages, optional
        The study's images; with them the section ends with the checkerboard of the two CTs
        (:func:`registration_figure`).

    Returns
    -------
    list of Section
        One section, or none without a registration.
    """
    if registration is None:
        return []
    r = registration
    method = {
        "rigid": "rigid (Euler 3-D), Mattes mutual information",
        "deformable": "rigid, then B-spline deformable, Mattes mutual information",
        "file": f"transform file {r.source}",
    }.get(r.method, r.method)
    rows: list[tuple[str, str]] = [
        ("Method", method),
        ("Region", f"liver + {r.margin_mm:g} mm"),
        ("Rotation about x, y, z", _triple(r.rotation_deg, "degrees", 2)),
        ("Translation x, y, z (LPS)", _triple(r.translation_mm, "mm", 1)),
    ]
    if r.metric is not None:
        rows.append(("Final metric (Mattes MI)", f"{r.metric:.4f}"))
        rows.append(("Iterations", f"{r.iterations}"))
    q = r.quality
    if q is not None:
        before = "n/a" if q.correlation_before is None else f"{q.correlation_before:.3f}"
        rows.append(
            ("CT correlation in region, before / after", f"{before} / {q.correlation_after:.3f}")
        )
        rows.append(("Region inside the study's CT", f"{q.overlap_fraction:.1%}"))
    rows.append(("Counts kept by resampling (scale)", f"{r.resampling_scale:.4f}"))
    matrix = [tuple(f"{x:.4f}" for x in row) for row in r.matrix[:3]]
    extra: list[Block] = [] if images is None else [registration_figure(r, images, study)]
    section = Section(
        f"Registration of the {study}",
        (
            f"The {study} has its own frame of reference. Its CT was registered to the planning "
            "CT within the liver region, and the image resampled into the planning frame with "
            "its counts conserved. The transform maps planning points to the study's points "
            "(LPS, mm); the quality check passed.",
            make_table(("Item", "Value"), rows, caption="Registration"),
            make_table(("x", "y", "z", "shift (mm)"), matrix, caption="Transform matrix"),
            *extra,
        ),
    )
    return [section]
