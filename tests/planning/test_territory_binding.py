"""Only the limit that binds is marked: a territory whose normal liver stays below the limit is
not shown as bound by it (JSON, PDF table, terminal), for partition and voxel plans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.planning import PlanResult, parse_case, plan_case
from opensirt.planning.context import plan_context
from opensirt.planning.voxel import VoxelCoefficients, plan_voxel
from opensirt.report.clinical_tables import limits_table

runner = CliRunner()
K_RESIN = 49.67
LIMIT = "normal_liver_max_gy"

MakeCase = Callable[..., dict[str, Any]]

# The planning tests' base case (conftest) with these two territories:
# R: lowest T/N 2 would give its normal liver 60 Gy > 40: lowered to 40 Gy.
# L: T/N 5 gives its normal liver 120 / 5 = 24 Gy, below 40: not lowered.
TERRITORIES: list[dict[str, Any]] = [
    {
        "name": "R",
        "volume_ml": 1000,
        "tumours": [
            {"name": "T1", "volume_ml": 150, "tn_ratio": 4.0},
            {"name": "T2", "volume_ml": 50, "tn_ratio": 2.0},
        ],
    },
    {
        "name": "L",
        "volume_ml": 400,
        "tumours": [{"name": "T3", "volume_ml": 40, "tn_ratio": 5.0}],
    },
]


@pytest.fixture
def two_territories(case_dict: MakeCase) -> dict[str, Any]:
    return case_dict(territories=TERRITORIES)


def _check_only_r_binds(result: PlanResult) -> None:
    r, left = result.territories
    assert r.binding_limit == LIMIT
    assert left.binding_limit is None
    assert left.normal_liver_gy is not None
    assert left.normal_liver_gy < 40.0 * 0.9
    out = result.to_dict()
    assert [t["binding_limit"] for t in out["territories"]] == [LIMIT, None]
    assert out["limits"][LIMIT]["binding"]
    assert out["limits"][LIMIT]["dose_gy"] == pytest.approx(40.0, rel=1e-9)
    per_territory = dict(result.territory_normal_liver_checks())
    assert per_territory["R"].binding
    assert not per_territory["L"].binding
    assert per_territory["L"].dose_gy == left.normal_liver_gy
    table = limits_table(result)
    statuses = {row[0]: row[3] for row in table.rows}
    assert statuses["Normal liver, R"] == "binds"
    assert statuses["Normal liver, L"] == "ok"
    assert "Normal liver" not in statuses
    bound = {table.rows[i][0] for i in table.highlight_rows}
    assert bound == {"Normal liver, R"}


def test_partition_marks_only_the_territory_whose_limit_binds(
    tmp_path: Path, two_territories: dict[str, Any]
) -> None:
    result = plan_case(parse_case(two_territories))
    _check_only_r_binds(result)
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(two_territories, sort_keys=False))
    shown = runner.invoke(app, ["plan", str(path)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    treated = next(x for x in lines if "normal liver (treated)" in x)
    assert "binds" not in treated  # its mean, 35 Gy, is below 40 Gy
    assert "binds" in next(x for x in lines if "normal liver, R" in x)
    assert "binds" not in next(x for x in lines if "normal liver, L" in x)
    assert sum("binds" in x for x in lines) == 1


def test_one_territory_keeps_the_plan_row(two_territories: dict[str, Any]) -> None:
    result = plan_case(
        parse_case({**two_territories, "territories": [two_territories["territories"][0]]})
    )
    assert result.territory_normal_liver_checks() == ()
    statuses = {row[0]: row[3] for row in limits_table(result).rows}
    assert statuses["Normal liver"] == "binds"


def test_voxel_marks_only_the_territory_whose_limit_binds(
    two_territories: dict[str, Any],
) -> None:
    """A voxel plan of two territories (one injection split 70/30) whose normal liver gets 30
    and 10 Gy per GBq: R's limit caps the activity at 40 / 30 GBq, L stays at 13.3 Gy."""
    # the context of the same case (a voxel case needs images; the context is the same)
    case = parse_case({**two_territories, "prescription": {"tumour_dose_gy": 120.0}})
    ctx = plan_context(case)
    coeffs = VoxelCoefficients(
        tumours={"T1": 100.0, "T2": 60.0, "T3": 80.0},
        normal_liver={"R": 30.0, "L": 10.0},
        perfused={"R": 40.0, "L": 20.0},
        whole_normal_liver=20.0,
        all_perfused=35.0,
        lung_voxel=3.0,
        territory_activity_fractions={"R": 0.7, "L": 0.3},
        perfused_mass_kg={"R": 1.0, "L": 0.4},
        normal_mass_kg={"R": 0.8, "L": 0.36},
    )
    result = plan_voxel(ctx, coeffs)
    assert result.activity_gbq == pytest.approx(40.0 / 30.0, rel=1e-9)
    assert result.binding_limit == LIMIT
    _check_only_r_binds(result)
