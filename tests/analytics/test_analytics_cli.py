"""``opensirt analytics``: tables, JSON, figures and the cohort report on a synthetic table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opensirt.analytics.cohort import from_records, write_cohort
from opensirt.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 patients in two groups with a dose-response (seeded)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(80):
        group = "A" if i % 2 else "B"
        dose = float(rng.uniform(40, 300))
        os_months = float(rng.exponential(12 if group == "A" else 20))
        follow = float(rng.uniform(6, 36))
        pfs = min(os_months, float(rng.exponential(5)))
        respond = rng.random() < 1 / (1 + np.exp(-(dose - 150) / 40))
        rows.append({
            "patient_id": f"S{i:03d}", "group": group, "diagnosis": "hcc",
            "os_months": round(min(os_months, follow), 2), "death": int(os_months <= follow),
            "pfs_months": round(min(pfs, follow), 2), "progression": int(pfs <= follow),
            "best_response": "PR" if respond else ("SD" if i % 3 else "PD"),
            "response_criteria": "mrecist", "tumour_dose_gy": round(dose, 1),
            "normal_liver_dose_gy": round(dose / 4, 1), "liver_toxicity_grade": 0,
            "age_years": int(rng.integers(45, 85)),
        })  # fmt: skip
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    write_cohort(from_records(rows, source="synthetic"), path)
    return path


def test_response_json(cohort_csv: Path) -> None:
    result = runner.invoke(app, ["analytics", "response", "--cohort", str(cohort_csv), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [(r["criteria"], r["group"]) for r in rows] == [
        ("mrecist", "all"),
        ("mrecist", "A"),
        ("mrecist", "B"),
    ]
    assert rows[0]["orr"]["n"] == 80


def test_survival_table_figures_and_cox(cohort_csv: Path, tmp_path: Path) -> None:
    args = ["analytics", "survival", "--cohort", str(cohort_csv), "--cox", "age_years,group",
            "--plot", str(tmp_path / "km")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "log-rank chi-square" in text
    assert "group=A (vs B)" in text or "group=B (vs A)" in text
    for name in ("km-os.svg", "km-os.png", "km-pfs.svg", "km-pfs.png"):
        assert (tmp_path / name).stat().st_size > 1000
    as_json = runner.invoke(app, ["analytics", "survival", "--cohort", str(cohort_csv),
                                  "--by", "none", "--json", "--times", "3,6"])  # fmt: skip
    data = json.loads(as_json.stdout)
    assert data["os"]["log_rank"] is None
    assert [s["months"] for s in data["os"]["curves"][0]["survival"]] == [3.0, 6.0]


def test_dose_response_refuses_the_toxicity_fit(cohort_csv: Path) -> None:
    result = runner.invoke(app, ["analytics", "dose-response", "--cohort", str(cohort_csv)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "too few toxicity events for a fit: n=80, with event=0" in text
    as_json = runner.invoke(
        app, ["analytics", "dose-response", "--cohort", str(cohort_csv), "--json"]
    )
    fits = json.loads(as_json.stdout)["fits"]
    assert fits[0]["outcome"] == "response"
    assert fits[0]["d50_gy"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the cohort as --cohort FILE.csv or as --db REGISTRY"),
        (["--times", "six"], "--times 'six': expected months"),
        (["--cox", "ecog"], "covariate 'ecog' is not a column"),
    ],
)
def test_bad_input_exits_2(cohort_csv: Path, args: list[str], message: str) -> None:
    source = [] if not args else ["--cohort", str(cohort_csv)]
    result = runner.invoke(app, ["analytics", "survival", *source, *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.slow
def test_report_pdf_and_pages(cohort_csv: Path, tmp_path: Path) -> None:
    pdf, pages = tmp_path / "cohort.pdf", tmp_path / "pages"
    result = runner.invoke(app, ["analytics", "report", str(pdf), "--cohort", str(cohort_csv),
                                 "--cox", "age_years", "--png", str(pages)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert len(list(pages.glob("*.png"))) >= 4
