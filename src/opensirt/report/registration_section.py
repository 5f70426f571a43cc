"""The report section of a registration: method, transform, final metric and quality check."""

from __future__ import annotations

from opensirt.imaging.registration import Registration
from opensirt.report.clinical_tables import make_table
from opensirt.report.document import Section


def _triple(values: tuple[float, float, float], unit: str, digits: int) -> str:
    return ", ".join(f"{v:+.{digits}f}" for v in values) + f" {unit}"


def registration_sections(registration: Registration | None, study: str) -> list[Section]:
    """The registration section of ``study`` (e.g. "post-treatment image"), if it was
    registered: how it was brought into the planning CT's frame."""
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
    section = Section(
        f"Registration of the {study}",
        (
            f"The {study} has its own frame of reference. Its CT was registered to the planning "
            "CT within the liver region, and the image resampled into the planning frame with "
            "its counts conserved. The transform maps planning points to the study's points "
            "(LPS, mm); the quality check passed.",
            make_table(("Item", "Value"), rows, caption="Registration"),
            make_table(("x", "y", "z", "shift (mm)"), matrix, caption="Transform matrix"),
        ),
    )
    return [section]
