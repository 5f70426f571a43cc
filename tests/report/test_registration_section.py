"""The report section of a registration, in the document model and rendered to PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import SimpleITK as sitk

from opensirt.imaging.registration import Registration, RegistrationQuality
from opensirt.report import write_pdf
from opensirt.report.document import ReportDocument, Table
from opensirt.report.registration_section import registration_sections


def _registration() -> Registration:
    transform = sitk.Euler3DTransform()
    transform.SetRotation(0.05, -0.03, 0.07)
    transform.SetTranslation((12.0, -10.0, 15.0))
    matrix = [[*transform.GetMatrix()[3 * r : 3 * r + 3], t] for r, t in enumerate((12, -10, 15))]
    return Registration(
        method="rigid",
        source="computed",
        matrix=(*(tuple(map(float, row)) for row in matrix), (0.0, 0.0, 0.0, 1.0)),
        rotation_deg=(2.86, -1.72, 4.01),
        translation_mm=(12.0, -10.0, 15.0),
        metric=-0.55,
        iterations=117,
        stop_condition="step too small",
        quality=RegistrationQuality(0.45, 0.987, 1.0, 5.3),
        margin_mm=25.0,
        resampling_scale=0.99999,
        transform=transform,
    )


def test_no_registration_no_section() -> None:
    assert registration_sections(None, "SPECT") == []


def test_registration_section_lists_the_transform_and_the_check(tmp_path: Path) -> None:
    (section,) = registration_sections(_registration(), "post-treatment image")
    assert section.title == "Registration of the post-treatment image"
    tables = [block for block in section.blocks if isinstance(block, Table)]
    assert len(tables) == 2
    cells = {row[0]: row[1] for row in tables[0].rows}
    assert cells["Rotation about x, y, z"] == "+2.86, -1.72, +4.01 degrees"
    assert cells["Translation x, y, z (LPS)"] == "+12.0, -10.0, +15.0 mm"
    assert cells["CT correlation in region, before / after"] == "0.450 / 0.987"
    assert tables[1].rows[0][3] == "12.0000"
    document = ReportDocument(
        title="Registration",
        patient_id="TEST-REG",
        created=datetime(2026, 12, 1, tzinfo=UTC),
        sections=(section,),
    )
    assert write_pdf(document, tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
