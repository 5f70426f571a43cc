"""``opensirt verify`` and ``opensirt assess`` reuse the plan that ``opensirt plan --out`` saved
when every input fingerprint matches, and recompute (saying why) when one does not.

The small synthetic study is planned once per module; each test verifies or assesses it.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.commands.saved_plan import (
    planning_provenance,
    provenance_difference,
    provenance_record,
)
from opensirt.errors import InputError
from opensirt.planning import load_case
from opensirt.workflow import plan_state
from opensirt.workflow.plan_state import PLAN_STATE_FILE, read_plan_state

runner = CliRunner()


@pytest.fixture(scope="module")
def planned(small_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small study with ``opensirt plan case.yaml --out plan`` run on it."""
    root = tmp_path_factory.mktemp("planned") / "study"
    shutil.copytree(small_study, root)
    result = runner.invoke(app, ["plan", str(root / "case.yaml"), "--out", str(root / "plan")])
    assert result.exit_code == 0, result.output
    assert (root / "plan" / PLAN_STATE_FILE).is_file()
    return root


def _verify(case: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["verify", str(case), "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _copy(planned: Path, tmp_path: Path) -> Path:
    """A copy of the planned study (the saved plan included), to change an input of."""
    root = tmp_path / "study"
    shutil.copytree(planned, root)
    return root


@pytest.mark.slow
def test_verify_reuses_the_saved_plan_with_the_same_numbers(planned: Path, tmp_path: Path) -> None:
    reused = _verify(planned / "case.yaml", tmp_path / "reused")
    recomputed = _verify(planned / "case.yaml", tmp_path / "recomputed", "--recompute")
    state = planned / "plan" / PLAN_STATE_FILE
    assert reused.pop("saved_plan")["path"] == str(state)
    assert recomputed.pop("saved_plan") is None
    assert reused == recomputed
    written = json.loads((tmp_path / "reused" / "verification.json").read_text())
    saved = written["provenance"]["saved_plan"]
    case = load_case(planned / "case.yaml")
    fingerprint = planning_provenance(case, planned / "case.yaml").combined_fingerprint
    assert saved == {"path": str(state), "fingerprint": fingerprint}


@pytest.mark.slow
def test_the_terminal_names_the_reused_plan(planned: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["verify", str(planned / "case.yaml"), "--out", str(tmp_path / "v")]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"Plan: reused the saved plan {planned / 'plan' / PLAN_STATE_FILE}" in text
    assert "(fingerprint " in text


def test_a_changed_structure_set_is_named_and_the_plan_recomputed(
    planned: Path, tmp_path: Path
) -> None:
    root = _copy(planned, tmp_path)
    case = yaml.safe_load((root / "case.yaml").read_text())
    segmentation = root / case["images"]["segmentation"]
    dataset = pydicom.dcmread(segmentation)
    dataset.StructureSetLabel = "edited"
    dataset.save_as(segmentation)
    result = runner.invoke(
        app, ["verify", str(root / "case.yaml"), "--out", str(tmp_path / "v"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["saved_plan"] is None
    assert "not reused: image: segmentation" in " ".join(result.stderr.split())


@pytest.mark.slow
def test_a_changed_prescription_is_not_reused_a_treatment_record_is(
    planned: Path, tmp_path: Path
) -> None:
    root = _copy(planned, tmp_path)
    path = root / "case.yaml"
    data = yaml.safe_load(path.read_text())
    data["treatment"]["residual_activity_gbq"] *= 1.01  # not an input of the plan
    path.write_text(yaml.safe_dump(data))
    assert _verify(path, tmp_path / "a")["saved_plan"] is not None
    data["prescription"]["tumour_dose_gy"] += 10.0
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["verify", str(path), "--out", str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["saved_plan"] is None
    assert "the case file differs from the one planned" in " ".join(result.stderr.split())


def test_another_software_version_is_never_reused(planned: Path) -> None:
    case = load_case(planned / "case.yaml")
    current = planning_provenance(case, planned / "case.yaml")
    record = provenance_record(current)
    assert provenance_difference(record, current) is None
    record["software"]["opensirt"] = "0.0.1"
    why = provenance_difference(record, current)
    assert why is not None
    assert why.startswith("it was made with opensirt 0.0.1")


def test_assess_reuses_the_saved_plan(planned: Path) -> None:
    args = ["assess", str(planned / "case.yaml"), "--json"]
    reused = runner.invoke(app, args)
    recomputed = runner.invoke(app, [*args, "--recompute"])
    assert reused.exit_code == 0, reused.output
    assert recomputed.exit_code == 0, recomputed.output
    a, b = json.loads(reused.stdout), json.loads(recomputed.stdout)
    assert a.pop("saved_plan")["path"] == str(planned / "plan" / PLAN_STATE_FILE)
    assert b.pop("saved_plan") is None
    assert a == b


def test_a_plan_folder_without_a_saved_state_is_refused(planned: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "verify",
            str(planned / "case.yaml"),
            "--out",
            str(tmp_path / "v"),
            "--plan",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert f"holds no {PLAN_STATE_FILE}" in " ".join(result.stderr.split())


def _rewrite(source: Path, target: Path, change: dict[str, Any]) -> None:
    """A copy of a saved state with some arrays replaced (written as NumPy writes them)."""
    with np.load(source, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays.update(change)
    with target.open("wb") as handle:
        np.savez(handle, allow_pickle=True, **arrays)


def test_a_damaged_state_is_refused_by_the_reader(planned: Path, tmp_path: Path) -> None:
    state = planned / "plan" / PLAN_STATE_FILE
    read_plan_state(state)  # the real one reads
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an archive")
    with pytest.raises(InputError, match="is not a NumPy archive"):
        read_plan_state(bad)
    _rewrite(state, bad, {"density": np.zeros((2, 2, 2), dtype=np.float32)})
    with pytest.raises(InputError, match=r"array 'density' is float32 \[2, 2, 2\], expected"):
        read_plan_state(bad)
    _rewrite(state, bad, {"density": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(InputError, match="damaged or of another layout"):
        read_plan_state(bad)
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("manifest.npy", b"")
    with pytest.raises(InputError, match="damaged or of another layout"):
        read_plan_state(bad)


def test_the_reader_bounds_the_inflated_size(
    planned: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_state, "MAX_STATE_BYTES", 1000)
    with pytest.raises(InputError, match=r"would inflate to .* more than the 1000 allowed"):
        read_plan_state(planned / "plan" / PLAN_STATE_FILE)
