"""Cohort re-dosimetry on a local Dask cluster: results stored beside the plans, a broken case
reported without stopping the others, unexpected errors retried, every run new records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from distributed import LocalCluster
from typer.testing import CliRunner

from opensirt.analytics import redosimetry
from opensirt.analytics.redosimetry import CaseDose, CaseFailure, RedoseSettings
from opensirt.analytics.redosimetry_dask import Outcome, dask_client, run_cohort
from opensirt.analytics.redosimetry_registry import select_cases, store_outcomes
from opensirt.analytics.redosimetry_synth import record_synthetic_cases, write_synthetic_case
from opensirt.commands.redosimetry import register
from opensirt.errors import InputError
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD
from opensirt.registry import audit
from opensirt.registry.database import Registry
from opensirt.registry.models import PlanVersion
from opensirt.registry.models_redose import RedoseResult

N_CASES = 4


@pytest.fixture
def cohort(registry: Registry, tmp_path: Path) -> list[Path]:
    """Four synthetic voxel plans recorded; the third one's saved state damaged."""
    cases = [
        write_synthetic_case(tmp_path / f"plan{i}", f"SYN-{i}", seed=i, n=16, spacing_mm=20.0)
        for i in range(N_CASES)
    ]
    with registry.transaction(actor="tester") as session:
        record_synthetic_cases(session, cases)
    cases[2].state_path.write_bytes(b"damaged")
    return [c.state_path for c in cases]


def _run(registry: Registry, settings: RedoseSettings, retries: int = 1) -> list[Outcome]:
    with registry.transaction(readonly=True) as session:
        cases = select_cases(session)
    outcomes: list[Outcome] = []
    with dask_client(n_workers=1, processes=False) as client:
        run = run_cohort(client, cases, settings, retries=retries, on_outcome=outcomes.append)
    assert run.done + run.failed == len(cases) == len(outcomes)
    with registry.transaction(actor="physicist1") as session:
        store_outcomes(
            session, outcomes, run_id="a" * 32, settings=settings, created_by="physicist1"
        )
    return outcomes


def test_a_broken_case_is_reported_and_the_others_stored(
    registry: Registry, cohort: list[Path]
) -> None:
    with registry.transaction(readonly=True) as session:
        before = {
            v.id: (v.row_version, v.activity_gbq) for v in session.scalars(sa.select(PlanVersion))
        }
    outcomes = _run(registry, RedoseSettings(method="ldm"))
    failures = [o for o in outcomes if isinstance(o, CaseFailure)]
    assert [f.case.pseudonym for f in failures] == ["SYN-2"]
    assert "patient SYN-2, plan 'whole liver' version 1" not in failures[0].error  # the reader's
    assert "not a NumPy archive" in failures[0].error
    assert failures[0].attempts == 1
    assert sum(isinstance(o, CaseDose) for o in outcomes) == N_CASES - 1
    _run(registry, RedoseSettings())  # again, default method: new records, none overwritten
    with registry.transaction(readonly=True) as session:
        rows = session.scalars(sa.select(RedoseResult).order_by(RedoseResult.id)).all()
        after = {
            v.id: (v.row_version, v.activity_gbq) for v in session.scalars(sa.select(PlanVersion))
        }
        logged = audit.entries(session, entity="redose_results", limit=100)
    assert after == before  # the plans are untouched
    assert len(rows) == 2 * N_CASES
    assert [r.method for r in rows] == ["ldm"] * N_CASES + [DEFAULT_DOSE_METHOD.value] * N_CASES
    assert sorted(r.status for r in rows) == ["done"] * 6 + ["failed"] * 2
    done = next(r for r in rows if r.status == "done")
    assert done.structures is not None
    assert done.structures["Liver"]["mean_gy"] > 0
    assert done.limits is not None
    assert {lim["name"] for lim in done.limits} >= {"lung_max_gy"}
    assert {e.actor for e in logged} == {"physicist1"}
    assert len(logged) == 2 * N_CASES


def test_an_unexpected_error_is_retried_then_reported(
    registry: Registry, cohort: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = redosimetry.redose_case

    def flaky(case: redosimetry.RedoseCase, settings: RedoseSettings) -> CaseDose:
        calls.append(case.pseudonym)
        if case.pseudonym == "SYN-0":
            raise MemoryError("worker out of memory")
        if case.pseudonym == "SYN-1" and calls.count("SYN-1") == 1:
            raise OSError("shared file system hiccup")
        return real(case, settings)

    monkeypatch.setattr(redosimetry, "redose_case", flaky)
    outcomes = _run(registry, RedoseSettings(method="ldm"), retries=2)
    by_patient = {o.case.pseudonym: o for o in outcomes}
    assert isinstance(by_patient["SYN-0"], CaseFailure)
    assert by_patient["SYN-0"].error == "MemoryError: worker out of memory"
    assert by_patient["SYN-0"].attempts == 3
    assert calls.count("SYN-0") == 3
    assert isinstance(by_patient["SYN-1"], CaseDose)
    assert by_patient["SYN-1"].attempts == 2
    assert isinstance(by_patient["SYN-3"], CaseDose)
    assert by_patient["SYN-3"].attempts == 1


def test_select_cases_filters_and_refuses_unknown_patients(
    registry: Registry, cohort: list[Path]
) -> None:
    with registry.transaction(readonly=True) as session:
        assert [c.pseudonym for c in select_cases(session, patients=["SYN-1"])] == ["SYN-1"]
        assert select_cases(session, states=["approved"]) == []
        mapped = select_cases(session, path_map=[(str(cohort[0].parent), "/shared/p0")])
        with pytest.raises(InputError, match="--patient 'NOBODY' is not in the registry"):
            select_cases(session, patients=["NOBODY"])
        with pytest.raises(InputError, match="--state is one of"):
            select_cases(session, states=["signed"])
    assert mapped[0].state_path == "/shared/p0/plan_state.npz"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_the_command_stores_reports_and_exits_1_on_a_failed_case(
    registry: Registry, cohort: list[Path], scheduler: str
) -> None:
    app = typer.Typer()
    register(app)
    app.command("other")(lambda: None)  # two commands: typer keeps the group's name
    url = registry.url.render_as_string(hide_password=False)
    args = ["redose", "--db", url, "--scheduler", scheduler, "--method", "ldm", "--user", "mp1"]
    result = CliRunner().invoke(app, [*args, "--json", "--batch", "2"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["done"], report["failed"]) == (3, 1)
    failed = next(c for c in report["cases"] if c["status"] == "failed")
    assert failed["patient"] == "SYN-2"
    assert "not a NumPy archive" in failed["error"]
    with registry.transaction(readonly=True) as session:
        created = session.scalars(sa.select(RedoseResult.created_by)).all()
    assert created == ["mp1"] * N_CASES
    shown = CliRunner().invoke(app, args)  # again, as a table: new records
    assert shown.exit_code == 1
    assert "Re-dosimetry ldm" in shown.output
    assert "3 recomputed, 1 failed" in shown.output
    assert "Failed after 1 attempt(s)" in shown.output
    bad = CliRunner().invoke(app, [*args, "--path-map", "nonsense"])
    assert bad.exit_code == 2
    assert "expected OLD=NEW" in bad.output
