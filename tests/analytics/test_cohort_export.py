"""``opensirt registry export-cohort``: the cohort table of the registry's SIRT patients."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensirt.analytics.cohort import read_cohort
from opensirt.analytics.cohort_export import CohortFilter, export_cohort, parse_where
from opensirt.cli import app
from opensirt.errors import InputError
from opensirt.registry.database import Registry
from opensirt.registry.timeline import list_patients
from opensirt.registry.vocabulary import Diagnosis

UNTIL = dt.date(2026, 6, 30)


@pytest.fixture
def synthetic(registry: Registry) -> Registry:
    """A registry holding 24 synthetic patients (seed 3)."""
    from opensirt.demo.cohort import synthetic_cohort
    from opensirt.demo.cohort_writer import write_cohort

    with registry.transaction(actor="test") as session:
        list(write_cohort(session, synthetic_cohort(24, 3, until=UNTIL)))
    return registry


def test_export_matches_the_registry(synthetic: Registry) -> None:
    with synthetic.transaction() as session:
        cohort = export_cohort(session, criteria="recist1.1", group_by="device")
        listed = list_patients(session, therapy="sirt", limit=None).rows
    frame = cohort.frame.set_index("patient_id")
    assert sorted(frame.index) == sorted(p.pseudonym for p in listed)
    for person in listed:
        row = frame.loc[person.pseudonym]
        assert row["death"] == int(person.died is not None)
        assert person.first_sirt is not None
        end = person.died or person.last_record
        assert row["os_months"] == pytest.approx((end - person.first_sirt).days / 30.4375, abs=1e-4)
        assert row["diagnosis"] == person.diagnosis.value
    assert set(frame["group"]) <= {"sir-spheres", "therasphere"}
    assert (
        frame["pfs_months"].dropna() <= frame.loc[frame["pfs_months"].notna(), "os_months"] + 1e-9
    ).all()
    assert set(frame["best_response"]) <= {"CR", "PR", "SD", "PD", "NE", ""}
    assert set(frame.loc[frame["best_response"] != "", "response_criteria"]) == {"recist1.1"}
    assert set(frame["dose_source"]) <= {"verification", "plan", ""}
    assert frame["tumour_dose_gy"].notna().all()


def test_where_filters(synthetic: Registry) -> None:
    with synthetic.transaction() as session:
        hcc = export_cohort(session, parse_where(["diagnosis=hcc", "alive=no"]))
    assert set(hcc.frame["diagnosis"]) == {"hcc"}
    assert hcc.frame["death"].eq(1).all()


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("stage=B", "expected KEY=VALUE with KEY one of"),
        ("diagnosis=liver", r"--where diagnosis='liver': expected a diagnosis code"),
        ("diagnosed-from=2024-13-01", r"expected a date YYYY-MM-DD"),
        ("alive=maybe", r"expected yes \(no recorded death\) or no"),
    ],
)
def test_bad_where_is_named(clause: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_where([clause])


def test_parse_where_reads_every_key() -> None:
    where = parse_where(["diagnosis=HCC", "alive=yes", "diagnosed-from=2024-01-01",
                         "diagnosed_to=2025-12-31", "pseudonym=SYN"])  # fmt: skip
    assert where == CohortFilter(
        Diagnosis.HCC, True, dt.date(2024, 1, 1), dt.date(2025, 12, 31), "SYN"
    )


def test_command_writes_the_table(synthetic: Registry, tmp_path: Path) -> None:
    out = tmp_path / "cohort.csv"
    url = synthetic.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(app, ["registry", "export-cohort", str(out), "--db", url,
                                 "--where", "diagnosis=hcc", "--criteria", "mrecist"])  # fmt: skip
    assert result.exit_code == 0, result.output
    cohort = read_cohort(out)
    assert cohort.n > 0
    assert set(cohort.frame["diagnosis"]) == {"hcc"}
    bad = runner.invoke(app, ["registry", "export-cohort", str(out), "--db", url,
                              "--where", "stage=B"])  # fmt: skip
    assert bad.exit_code == 2


def test_analytics_read_the_registry(synthetic: Registry) -> None:
    url = synthetic.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["analytics", "response", "--db", url, "--by", "diagnosis", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert rows[0]["group"] == "all"
    assert rows[0]["criteria"] == "recist1.1"
