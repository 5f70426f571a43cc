"""The forest plot, the report section and ``opensirt analytics pooled``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate
from typer.testing import CliRunner

from opensirt.analytics.pooled_plot import forest_figure, save_forest
from opensirt.analytics.pooled_report import pooled_flowables, pooled_rows, pooled_section
from opensirt.analytics.published import cohort_response, pool_published
from opensirt.commands.analytics_pooled import register
from opensirt.errors import InputError
from opensirt.report.document import ReportFigure, Table

COHORT = "patient_id,diagnosis,os_months,death,best_response\n" + "".join(
    f"p{i},hcc,10,1,{'PR' if i < 9 else 'SD'}\n" for i in range(20)
)


@pytest.fixture(scope="module")
def hcc() -> object:
    return pool_published("hcc", "orr")


def test_forest_plot_rows_and_text(hcc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    figure = forest_figure(hcc, cohort_response(9, 20, "Centre"), title="HCC")
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("Salem 2021 (LEGACY)")
    assert "Pooled, random effects (k = 4)" in labels
    assert labels[-1] == "Centre  (n = 20)"
    svg = save_forest(figure, tmp_path / "forest.svg").read_text(encoding="utf-8")
    assert "I²" in svg
    assert "τ²" in svg
    assert save_forest(figure, tmp_path / "forest.png").stat().st_size > 10_000
    with pytest.raises(InputError, match=r"expected \.png or \.svg"):
        save_forest(figure, tmp_path / "forest.pdf")


def test_forest_plot_of_survival_refuses_a_response_cohort() -> None:
    os_result = pool_published("all", "os")
    assert forest_figure(os_result).axes[0].get_xscale() == "log"
    with pytest.raises(InputError, match="beside a pooled ORR"):
        forest_figure(os_result, cohort_response(3, 10))


def test_report_section_and_flowables(hcc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    own = cohort_response(9, 20, "Centre")
    rows = pooled_rows(hcc, own)
    assert rows[-1] == ("Centre", "20", "45.0 % [23.1, 68.5]", "")
    assert rows[len(hcc.studies)][0] == "Pooled, random effects (DL)"
    section = pooled_section(hcc, own)
    kinds = [type(b) for b in section.blocks]
    assert Table in kinds
    assert ReportFigure in kinds
    pdf = tmp_path / "pooled.pdf"
    doc = SimpleDocTemplate(str(pdf), pagesize=A4)
    doc.build(pooled_flowables(hcc, own, doc.width, doc.height))
    assert pdf.read_bytes().startswith(b"%PDF")


def _app() -> typer.Typer:
    app = typer.Typer()
    analytics = typer.Typer()
    register(analytics)
    app.add_typer(analytics, name="analytics")
    return app


def test_command_prints_the_table(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(COHORT, encoding="utf-8")
    plot = tmp_path / "forest.png"
    args = ["analytics", "pooled", "--cohort", str(cohort), "--plot", str(plot)]
    done = CliRunner().invoke(_app(), args)
    assert done.exit_code == 0, done.output
    assert "Salem 2021 (LEGACY)" in done.output
    assert "Pooled, random effects (DL)" in done.output
    assert "cohort (this centre)" in done.output
    assert "I² = " in done.output
    assert plot.stat().st_size > 10_000


def test_command_json(tmp_path: Path) -> None:
    args = ["analytics", "pooled", "--indication", "all", "--method", "reml", "--json"]
    done = CliRunner().invoke(_app(), [*args, "--transform", "ft"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["method"] == "reml"
    assert result["transform"] == "ft"
    assert result["k"] == len(result["studies"]) == 19
    assert 0 < result["ci95"][0] < result["estimate"] < result["ci95"][1] < 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--indication", "liver"], "indication is 'liver'"),
        (["--method", "pm"], "method is 'pm'"),
        (["--transform", "probit"], "transform is 'probit'"),
        (["--outcome", "os"], "only 1 published series"),
        (["--plot", "forest.pdf"], "must end in .png or .svg"),
        (
            ["--outcome", "os", "--indication", "all", "--cohort", "x.csv"],
            "use it with --outcome orr",
        ),
    ],
)
def test_command_bad_input_exits_2(args: list[str], message: str) -> None:
    done = CliRunner().invoke(_app(), ["analytics", "pooled", *args])
    assert done.exit_code == 2
    assert message in " ".join(done.output.split())
