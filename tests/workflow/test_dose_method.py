"""The voxel plan's dose method: chosen by the case file or --dose-method, named in the JSON
and the report, with the Monte Carlo uncertainty of each structure's mean dose."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.imaging import Volume
from opensirt.physics import DEFAULT_DOSE_METHOD, DoseMethod
from opensirt.planning import load_case
from opensirt.planning.case_dosimetry import Dosimetry, with_dose_method
from opensirt.report.document import ReportDocument, Table
from opensirt.report.plan_report import build_plan_document
from opensirt.workflow.dose_record import MonteCarloUncertainty, dose_method_record
from opensirt.workflow.plan_state import read_plan_state, write_plan_state
from opensirt.workflow.pretreatment import (
    ImageMeasurements,
    LungMass,
    PreTreatmentResult,
    plan_from_images,
    plan_from_measurements,
)

runner = CliRunner()


def _case_copy(small_study: Path, folder: Path, dosimetry: Any = None) -> Path:
    """The small study's case file beside its DICOM (linked), with a dosimetry: block."""
    (folder / "dicom").symlink_to(small_study / "dicom")
    data = yaml.safe_load((small_study / "case.yaml").read_text(encoding="utf-8"))
    if dosimetry is not None:
        data["dosimetry"] = dosimetry
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _plan_json(case: Path, *options: str) -> dict[str, Any]:
    result = runner.invoke(app, ["plan", str(case), "--json", *options])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def pre(small_study: Path) -> PreTreatmentResult:
    return plan_from_images(load_case(small_study / "case.yaml"))


def test_case_file_chooses_and_the_command_line_overrides(
    small_study: Path, tmp_path: Path
) -> None:
    case = _case_copy(small_study, tmp_path, {"method": "local-deposition"})
    by_case = _plan_json(case)
    assert by_case["dose_method"] == {
        "name": "local-deposition",
        "abbreviation": "LDM",
        "description": DoseMethod.LOCAL_DEPOSITION.description,
    }
    overridden = _plan_json(case, "--dose-method", "kernel-range")
    assert overridden["dose_method"]["name"] == "kernel-range"
    # local deposition keeps the shunted lung activity's energy in the lung; the
    # range-scaled kernel spreads it over the lung's long beta range and the liver edge
    lung_ldm = by_case["voxel_dose"]["Lungs"]["mean_gy"]
    lung_range = overridden["voxel_dose"]["Lungs"]["mean_gy"]
    assert lung_ldm != pytest.approx(lung_range, rel=1e-4)


def test_default_method_without_a_block(pre: PreTreatmentResult) -> None:
    data = pre.to_dict()
    assert data["dose_method"]["name"] == DEFAULT_DOSE_METHOD.value
    assert "uncertainty_percent" not in data["dose_method"]
    assert pre.dose.metadata["method"] == DEFAULT_DOSE_METHOD.value


@pytest.mark.parametrize(
    ("dosimetry", "words"),
    [
        ({"method": "kernel-lung"}, ["dosimetry.method", "'kernel-lung'", "'path-length'"]),
        ({"methd": "kernel-mass"}, ["dosimetry.methd", "did you mean 'method'"]),
        (
            {"method": "kernel-mass", "monte_carlo": {"histories": 1000}},
            ["dosimetry.monte_carlo applies only to method 'monte-carlo'"],
        ),
        (
            {"method": "monte-carlo", "monte_carlo": {"histories": 0}},
            ["dosimetry.monte_carlo.histories is 0"],
        ),
    ],
)
def test_bad_dosimetry_block_exits_2_naming_the_key(
    small_study: Path, tmp_path: Path, dosimetry: dict[str, Any], words: list[str]
) -> None:
    case = _case_copy(small_study, tmp_path, dosimetry)
    result = runner.invoke(app, ["plan", str(case)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for word in words:
        assert word in text


def test_bad_dose_method_option_exits_2_with_the_names(small_study: Path) -> None:
    result = runner.invoke(app, ["plan", str(small_study / "case.yaml"), "--dose-method", "mc"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--dose-method is 'mc', expected one of local-deposition" in text
    assert "monte-carlo" in text


@dataclass(frozen=True)
class BatchDose:
    """A dose estimated in independent batches (the Monte Carlo batch method): the structure
    mean is the mean of the batches' means, its sigma their standard error."""

    batch_dose_gy: npt.NDArray[np.float32]
    histories: int
    seed: int

    def mean_dose_gy(self, weights: npt.NDArray[Any]) -> tuple[float, float]:
        w = np.asarray(weights, dtype=np.float64)
        per_batch = (self.batch_dose_gy * w).reshape(len(self.batch_dose_gy), -1).sum(1) / w.sum()
        n = len(per_batch)
        return float(per_batch.mean()), float(per_batch.std(ddof=1) / np.sqrt(n))


def _with_batches(pre: PreTreatmentResult) -> tuple[PreTreatmentResult, BatchDose]:
    rng = np.random.default_rng(5)
    dose = np.asarray(pre.dose_per_gbq.array, dtype=np.float32)
    noise = rng.normal(1.0, 0.05, size=(8, *dose.shape)).astype(np.float32)
    batches = BatchDose(dose * noise, histories=80_000, seed=11)
    per_gbq = pre.dose_per_gbq.with_array(
        batches.batch_dose_gy.mean(axis=0),
        method=DoseMethod.MONTE_CARLO.value,
        method_description=DoseMethod.MONTE_CARLO.description,
        monte_carlo=batches,
    )
    scale = np.float32(pre.prescribed.activity_gbq or 0.0)
    dose_volume = per_gbq.with_array(np.asarray(per_gbq.array) * scale)
    return replace(pre, dose_per_gbq=per_gbq, dose=dose_volume), batches


def test_monte_carlo_uncertainty_in_the_json(pre: PreTreatmentResult) -> None:
    mc, batches = _with_batches(pre)
    assert isinstance(batches, MonteCarloUncertainty)
    record = mc.to_dict()["dose_method"]
    assert record["name"] == "monte-carlo"
    assert (record["histories"], record["seed"]) == (80_000, 11)
    assert set(record["uncertainty_percent"]) == set(mc.dvhs)
    lungs = mc.images.roles.lungs
    assert lungs is not None
    mean, sigma = batches.mean_dose_gy(mc.grid.fractions[lungs])
    assert record["uncertainty_percent"][lungs] == pytest.approx(100 * sigma / mean)
    # 5 % per voxel and batch, averaged over 8 batches and many voxels: well below 5 %
    assert 0 < record["uncertainty_percent"][lungs] < 5


def _document(pre: PreTreatmentResult) -> ReportDocument:
    return build_plan_document(
        pre.case, pre.prescribed, case_path="case.yaml", created=datetime.now(UTC),
        provenance=None, pre=pre,
    )  # fmt: skip


def test_monte_carlo_uncertainty_in_the_report(pre: PreTreatmentResult) -> None:
    mc, _ = _with_batches(pre)
    voxel = next(s for s in _document(mc).sections if s.title == "Predicted voxel dose")
    texts = [b for b in voxel.blocks if isinstance(b, str)]
    assert any("Dose method monte-carlo (MC)" in t and "80,000 histories" in t for t in texts)
    tables = [b for b in voxel.blocks if isinstance(b, Table)]
    uncertainty = next(t for t in tables if "Mean dose uncertainty (%, 1 sigma)" in t.columns)
    assert [row[0] for row in uncertainty.rows] == list(mc.dvhs)


def test_deterministic_report_names_the_method(pre: PreTreatmentResult) -> None:
    voxel = next(s for s in _document(pre).sections if s.title == "Predicted voxel dose")
    label = DEFAULT_DOSE_METHOD.label
    assert any(isinstance(b, str) and label in b for b in voxel.blocks)
    assert not any(
        isinstance(b, Table) and "Mean dose uncertainty (%, 1 sigma)" in b.columns
        for b in voxel.blocks
    )


def test_a_saved_dose_of_another_method_is_computed_again(
    pre: PreTreatmentResult, tmp_path: Path
) -> None:
    state = read_plan_state(write_plan_state(tmp_path / "plan_state.npz", pre, {}))
    measured = state.measured
    assert measured.dose_per_gbq is not None
    assert measured.dose_per_gbq.metadata["method"] == DEFAULT_DOSE_METHOD.value
    same = plan_from_measurements(pre.case, pre.images, measured)
    assert same.dose_per_gbq is measured.dose_per_gbq  # reused, not computed
    case = with_dose_method(pre.case, "local-deposition")
    again = plan_from_measurements(case, pre.images, measured)
    assert again.dose_per_gbq.metadata["method"] == "local-deposition"
    assert again.to_dict()["dose_method"]["name"] == "local-deposition"


def test_a_structure_without_dose_has_no_relative_uncertainty() -> None:
    dose = np.zeros((2, 3, 3), dtype=np.float32)
    dose[0] = 2.0
    batches = BatchDose(np.stack([dose * 0.9, dose * 1.1]), histories=1000, seed=1)
    volume = Volume(dose, (4.42, 4.42, 4.42), metadata={"method": "monte-carlo"})
    volume = volume.with_array(dose, monte_carlo=batches)
    near = np.zeros(dose.shape)
    near[0] = 1.0
    record = dose_method_record(volume, {"near": near, "far": 1.0 - near}, ("near", "far"))
    # batch means 1.8 and 2.2 Gy: mean 2, sample sd 0.283, standard error 0.2 Gy -> 10 %
    assert record.uncertainty_percent == {"near": pytest.approx(10.0), "far": None}
    assert json.dumps(record.to_dict())  # no NaN in the JSON


def test_a_saved_batch_dose_keeps_its_record(pre: PreTreatmentResult, tmp_path: Path) -> None:
    """The round trip alone (no transport): the saved record is the computed one."""
    mc, _ = _with_batches(pre)
    state = read_plan_state(write_plan_state(tmp_path / "plan_state.npz", mc, {}))
    restored = replace(mc, dose=state.measured.dose_per_gbq)  # the record is relative
    assert restored.to_dict()["dose_method"] == mc.to_dict()["dose_method"]


@pytest.mark.slow
def test_a_saved_monte_carlo_plan_keeps_its_uncertainty(
    pre: PreTreatmentResult, tmp_path: Path
) -> None:
    """A real (tiny) Monte Carlo plan, saved and reused: the JSON and the report still name
    the method, the histories, the seed and each structure's uncertainty."""
    dosimetry = Dosimetry(method="monte-carlo", monte_carlo={"histories": 500, "seed": 3})
    case = pre.case.model_copy(update={"dosimetry": dosimetry})
    lung_mass = LungMass(pre.lung_mass_kg, pre.lung_mass_source)
    measured = ImageMeasurements(pre.grid, pre.measures, lung_mass, pre.grid_warnings)
    mc = plan_from_measurements(case, pre.images, measured)
    before = mc.to_dict()["dose_method"]
    assert (before["name"], before["histories"], before["seed"]) == ("monte-carlo", 500, 3)
    assert any(v is not None and v > 0 for v in before["uncertainty_percent"].values())
    state = read_plan_state(write_plan_state(tmp_path / "plan_state.npz", mc, {}))
    reused = plan_from_measurements(case, pre.images, state.measured)
    assert reused.dose_per_gbq is state.measured.dose_per_gbq  # not computed again
    assert reused.to_dict()["dose_method"] == before
    voxel = next(s for s in _document(reused).sections if s.title == "Predicted voxel dose")
    texts = [b for b in voxel.blocks if isinstance(b, str)]
    assert any("monte-carlo (MC)" in t and "500 histories, seed 3" in t for t in texts)
    tables = [b for b in voxel.blocks if isinstance(b, Table)]
    uncertainty = next(t for t in tables if "Mean dose uncertainty (%, 1 sigma)" in t.columns)
    assert [row[0] for row in uncertainty.rows] == list(reused.dvhs)
