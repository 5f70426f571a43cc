"""The lung shunt of a plan from images is recorded with its true origin (the SPECT/CT, or the
case file) in every method's JSON, in the PDF tables and on the terminal.

The synthetic patient at 0.4 size (a few seconds to build and write once for the module).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.demo.case import demo_case
from opensirt.demo.dicom import write_phantom_dicom
from opensirt.demo.phantom import make_phantom
from opensirt.planning import load_case
from opensirt.report.document import ReportDocument, Table
from opensirt.report.plan_report import build_plan_document
from opensirt.workflow.pretreatment import PreTreatmentResult, plan_from_images

runner = CliRunner()
SPECT = "SPECT/CT"
CASE_FILE = "lung.shunt_fraction of the case file"


@pytest.fixture(scope="module")
def voxel_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The small synthetic patient's folder and its voxel case (lung shunt not typed)."""
    folder = tmp_path_factory.mktemp("shunt_source")
    patient = make_phantom(seed=1, size=0.4)
    paths = write_phantom_dicom(patient, folder / "dicom")
    data = demo_case(patient, paths, folder)
    data.pop("treatment")
    data["images"].pop("post_treatment")
    assert data["method"] == "voxel"
    assert "shunt_fraction" not in data["lung"]
    return folder, data


def _write(folder: Path, data: dict[str, Any], name: str) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _table_rows(doc: ReportDocument) -> dict[str, str]:
    """First column -> second column of every two-or-more-column table of the document."""
    return {
        row[0]: row[1]
        for section in doc.sections
        for block in section.blocks
        if isinstance(block, Table)
        for row in block.rows
        if len(row) > 1
    }


def _check_source(pre: PreTreatmentResult, expected: str) -> None:
    assert expected in pre.lung_shunt_source
    for name, plan in pre.plans.items():
        assert plan.constants.lung_shunt_fraction_source == pre.lung_shunt_source, name
    out = pre.to_dict()
    assert out["constants"]["lung_shunt_fraction_source"] == pre.lung_shunt_source
    for name, plan in out["methods"].items():
        assert plan["constants"]["lung_shunt_fraction_source"] == pre.lung_shunt_source, name
    doc = build_plan_document(
        pre.case,
        pre.prescribed,
        case_path="c.yaml",
        created=datetime.now(UTC),
        provenance=None,
        pre=pre,
    )
    rows = _table_rows(doc)
    assert rows["Lung shunt fraction"].endswith(f"({pre.lung_shunt_source})")
    assert rows["Lung shunt fraction from"] == pre.lung_shunt_source


def test_a_shunt_measured_on_spect_ct_is_recorded_as_such(
    voxel_case: tuple[Path, dict[str, Any]],
) -> None:
    folder, data = voxel_case
    path = _write(folder, data, "voxel.yaml")
    pre = plan_from_images(load_case(path))
    assert pre.prescribed.method.value == "voxel"
    _check_source(pre, SPECT)
    assert CASE_FILE not in json.dumps(pre.to_dict())
    shown = runner.invoke(app, ["plan", str(path)])
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.stdout.splitlines() if x.startswith("Lung shunt fraction:"))
    assert SPECT in line


def test_a_typed_shunt_is_recorded_as_the_case_files(
    voxel_case: tuple[Path, dict[str, Any]],
) -> None:
    folder, data = voxel_case
    typed = {**data, "lung": {**data["lung"], "shunt_fraction": 0.05}}
    pre = plan_from_images(load_case(_write(folder, typed, "typed.yaml")))
    assert pre.lung_shunt_fraction == 0.05
    _check_source(pre, CASE_FILE)
