"""``opensirt registry list | timeline | summary`` on both backends: tables, JSON, the PDF."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pypdfium2 as pdfium
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import Registry
from opensirt.registry.records import AdverseEventIn, LabsIn
from opensirt.registry.writer import write_record
from registry_read_pathway import DEATH_DAY, add_bare_patient, record_full_pathway

runner = CliRunner()


def _db(registry: Registry) -> str:
    return registry.url.render_as_string(hide_password=False)


def _pdf(path: Path) -> tuple[int, str]:
    """Page count and text of a PDF, whitespace collapsed."""
    document = pdfium.PdfDocument(path)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in document)
        return len(document), " ".join(text.split())
    finally:
        document.close()


def test_list_table_and_json(registry: Registry) -> None:
    long_id = "SIRT-" + "7" * 59  # the longest pseudonym: shown whole
    record_full_pathway(registry, long_id)
    add_bare_patient(registry, "B-2", "crc")
    result = runner.invoke(app, ["registry", "list", "--db", _db(registry)])
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout  # folded onto further lines where too long, never cut
    first_column = "".join(
        line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")
    )
    assert long_id in first_column
    assert "Patients 1-2 of 2" in result.stdout
    assert f"dead ({DEATH_DAY.isoformat()})" in result.stdout
    result = runner.invoke(
        app, ["registry", "list", "--db", _db(registry), "--json", "--diagnosis", "crc"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["total"], data["offset"]) == (1, 0)
    assert [p["pseudonym"] for p in data["patients"]] == ["B-2"]
    bad = runner.invoke(app, ["registry", "list", "--db", _db(registry), "--therapy", "magic"])
    assert bad.exit_code == 2


def test_timeline_table_and_json(registry: Registry) -> None:
    record_full_pathway(registry)
    result = runner.invoke(app, ["registry", "timeline", "SIRT-0042", "--db", _db(registry)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Pathway of SIRT-0042" in out
    assert out.index("2025-01-20") < out.index("2025-02-12") < out.index("2025-11-03")
    assert "1.71 GBq delivered" in out
    assert "1.2.826.0.1.3680043.8.498.3" in out  # a DICOM UID whole
    result = runner.invoke(
        app, ["registry", "timeline", "SIRT-0042", "--db", _db(registry), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["patient"]["pseudonym"] == "SIRT-0042"
    assert [e["date"] for e in data["entries"]] == sorted(e["date"] for e in data["entries"])


def test_an_unknown_patient_exits_2_with_the_fix(registry: Registry, tmp_path: Path) -> None:
    for command in (
        ["timeline", "NOBODY"],
        ["summary", "NOBODY", "--out", str(tmp_path / "x.pdf")],
    ):
        result = runner.invoke(app, ["registry", *command, "--db", _db(registry)])
        assert result.exit_code == 2
        assert "'NOBODY' is not in the registry" in result.stderr
        assert "opensirt registry list" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_summary_pdf_is_one_page_with_the_key_numbers(registry: Registry, tmp_path: Path) -> None:
    record_full_pathway(registry)
    out = tmp_path / "summary.pdf"
    result = runner.invoke(
        app, ["registry", "summary", "SIRT-0042", "--db", _db(registry), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pages, text = _pdf(out)
    assert pages == 1
    for expected in (
        "SIRT-0042",
        "Female, born 1956",
        "hepatocellular carcinoma (HCC) diagnosed 2025-01-10",
        "1.80 / 1.71 (95.0 % of planned)",  # activity planned / delivered (GBq)
        "tumour 152, normal liver 38.5, lung 7.90",  # planned doses (Gy)
        "Normal liver 38.5 -> 44.0 (flagged)",  # verified
        "PR (mRECIST)",  # best response
        "grade 3, Ascites",  # worst adverse event
        "died 2025-11-03 (liver failure), 8.67 months after first SIRT",
        "12 of 22 records (routine ones",  # the long pathway is condensed
    ):
        assert expected in text, expected
    document = pdfium.PdfDocument(out)
    try:
        image = document[0].render(scale=1).to_pil()
    finally:
        document.close()
    assert image.size[0] > 500
    assert image.convert("L").getextrema()[0] < 100  # drawn, not blank


def test_summary_of_several_patients_gives_a_page_each(registry: Registry, tmp_path: Path) -> None:
    record_full_pathway(registry, "A-1")
    add_bare_patient(registry, "B-2")
    with registry.transaction() as session:
        write_record(session, LabsIn(patient="B-2", date=dt.date(2025, 1, 12), afp_ng_ml=9.0))
    out = tmp_path / "cohort.pdf"
    result = runner.invoke(
        app, ["registry", "summary", "A-1", "B-2", "--db", _db(registry), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pages, text = _pdf(out)
    assert pages == 2
    assert "A-1" in text
    assert "B-2" in text
    # a short pathway keeps its routine records and says there was no SIRT
    assert "AFP 9.00 ng/mL" in text
    assert "alive at the last record 2025-01-12, 2 days after diagnosis" in text
    assert "routine ones" not in text.split("A-1")[-1]


def test_a_long_history_is_condensed_then_continued(registry: Registry, tmp_path: Path) -> None:
    """Routine records leave the table first; what stays continues on a second page."""
    record_full_pathway(registry)
    with registry.transaction() as session:
        for day in range(30):
            write_record(
                session,
                AdverseEventIn(
                    patient="SIRT-0042",
                    date=dt.date(2025, 9, 1) + dt.timedelta(days=day),
                    term="Abdominal pain",
                    grade=1,
                    attribution="possible",
                ),
            )
    out = tmp_path / "long" / "summary.pdf"
    result = runner.invoke(
        app, ["registry", "summary", "SIRT-0042", "--db", _db(registry), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pages, text = _pdf(out)
    assert pages == 2
    assert "42 of 52 records (routine ones" in text
    assert "opensirt registry timeline SIRT-0042" in text
    assert text.count("Abdominal pain, grade 1") == 30
