"""The synthetic cohort: reproducible, plausible, accepted by the writer on both backends."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.demo import cohort_sources as src
from opensirt.demo.cohort import DAYS_PER_MONTH, synthetic_cohort
from opensirt.errors import InputError
from opensirt.planning import parse_case, plan_case
from opensirt.registry.database import Registry, open_registry
from opensirt.registry.models import OutcomeEvent, Patient, PlanVersion, TreatmentSession
from opensirt.registry.records import OutcomeIn, PlanVersionIn, ResponseIn, SessionIn, WorkupIn
from opensirt.registry.vocabulary import Diagnosis, OutcomeKind, PlanState, Therapy
from opensirt.registry.writer import add_patient, write_records

UNTIL = dt.date(2026, 6, 30)


def test_same_seed_same_cohort_other_seed_other_cohort() -> None:
    first = list(synthetic_cohort(15, seed=4, until=UNTIL))
    again = list(synthetic_cohort(15, seed=4, until=UNTIL))
    other = list(synthetic_cohort(15, seed=5, until=UNTIL))
    assert first == again
    assert [p.records for p in first] != [p.records for p in other]
    # patient i does not depend on the cohort size
    assert list(synthetic_cohort(3, seed=4, until=UNTIL)) == first[:3]


def test_dates_ordered_and_never_after_until() -> None:
    for person in synthetic_cohort(60, seed=1, until=UNTIL):
        dates = [rec.date for rec in person.records]  # type: ignore[attr-defined]
        assert dates == sorted(dates)
        assert max(dates) <= UNTIL
        last = person.records[-1]
        assert isinstance(last, OutcomeIn)
        assert last.kind in (
            OutcomeKind.DEATH,
            OutcomeKind.LAST_CONTACT,
        )


def test_plans_are_the_planning_codes() -> None:
    """Each plan version's figures are what plan_case gives for its own case file."""
    plans = [
        rec
        for person in synthetic_cohort(20, seed=2, until=UNTIL)
        for rec in person.records
        if isinstance(rec, PlanVersionIn)
    ]
    assert plans
    for version in plans:
        result = plan_case(parse_case(yaml.safe_load(version.case_yaml)))
        assert version.activity_gbq == pytest.approx(result.activity_gbq, rel=1e-4)
        assert version.lung_dose_gy == pytest.approx(result.lung_gy)
        assert version.state is PlanState.APPROVED
        assert len(version.signatures) == 2


def test_plausible_distributions() -> None:
    """Diagnosis mix, lung shunt range and median survival by diagnosis near the cited ones."""
    people = list(synthetic_cohort(1500, seed=11, until=dt.date(2026, 11, 30)))
    shares = Counter(p.patient.diagnosis for p in people)
    for diagnosis, share in src.DIAGNOSIS_SHARES.items():
        assert shares[diagnosis] / len(people) == pytest.approx(share, abs=0.04)
    shunts = [r.lung_shunt_fraction for p in people for r in p.records if isinstance(r, WorkupIn)]
    assert all(s is not None and 0.0 <= s <= 0.3 for s in shunts)
    # exponential survival: the Kaplan-Meier median from the first SIRT, per diagnosis
    times: dict[Diagnosis, list[tuple[float, bool]]] = defaultdict(list)
    for p in people:
        sirt = [r.date for r in p.records if isinstance(r, SessionIn) and r.therapy is Therapy.SIRT]
        last = p.records[-1]
        assert isinstance(last, OutcomeIn)
        vascular = any(
            getattr(r, "findings", None) and r.findings.macrovascular_invasion for r in p.records
        )
        if sirt and not vascular:
            months = (last.date - sirt[0]).days / DAYS_PER_MONTH
            times[p.patient.diagnosis].append((months, last.kind is OutcomeKind.DEATH))
    for diagnosis in (Diagnosis.HCC, Diagnosis.CRC):
        median = _km_median(times[diagnosis])
        assert median == pytest.approx(src.MEDIAN_OS_MONTHS[diagnosis], rel=0.2)


def _km_median(data: list[tuple[float, bool]]) -> float:
    survival, at_risk = 1.0, len(data)
    for months, died in sorted(data):
        if died:
            survival *= 1 - 1 / at_risk
            if survival <= 0.5:
                return months
        at_risk -= 1
    return math.inf


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(InputError, match="prefix 'a b'"):
        next(synthetic_cohort(1, seed=0, prefix="a b"))


def test_every_record_passes_the_writer(registry: Registry) -> None:
    people = list(synthetic_cohort(12, seed=8, until=UNTIL))
    with registry.transaction() as session:
        for person in people:
            row = add_patient(session, person.patient)
            assert write_records(session, person.records, patient=row) == len(person.records)
    with registry.transaction(readonly=True) as session:
        assert session.scalar(sa.select(sa.func.count(Patient.id))) == 12
        linked = session.scalar(
            sa.select(sa.func.count(TreatmentSession.id)).where(
                TreatmentSession.therapy == Therapy.SIRT,
                TreatmentSession.plan_version_id.is_not(None),
            )
        )
        assert linked
        assert linked == session.scalar(sa.select(sa.func.count(PlanVersion.id)))
        ends = session.scalar(
            sa.select(sa.func.count(OutcomeEvent.id)).where(
                OutcomeEvent.kind != OutcomeKind.PROGRESSION
            )
        )
        assert ends == 12


def test_cli_synth_on_both_backends(empty_db_url: str) -> None:
    runner = CliRunner()
    args = ["registry", "synth", "5", "--seed", "2", "--until", "2026-06-30", "--db", empty_db_url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "5 synthetic patients" in result.stdout
    assert "patients/s" in result.stdout
    # the same pseudonyms again: refused (exit 2), nothing more written
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "SYN-2-000001" in again.output
    registry = open_registry(empty_db_url)
    try:
        with registry.transaction(readonly=True) as session:
            assert session.scalar(sa.select(sa.func.count(Patient.id))) == 5
    finally:
        registry.dispose()


def test_cli_refuses_a_future_until(tmp_path: object) -> None:
    result = CliRunner().invoke(
        app, ["registry", "synth", "2", "--until", "2999-01-01", "--db", f"{tmp_path}/r.sqlite3"]
    )
    assert result.exit_code == 2
    assert "in the future" in result.output


def test_progression_scans_show_progression_by_recist() -> None:
    """The response at a progression date, computed by opensirt.clinical, is PD."""
    checked = 0
    for person in synthetic_cohort(80, seed=6, until=UNTIL):
        progressed = {
            r.date
            for r in person.records
            if isinstance(r, OutcomeIn) and r.kind is OutcomeKind.PROGRESSION
        }
        for rec in person.records:
            if isinstance(rec, ResponseIn) and rec.date in progressed:
                assert rec.overall == "PD", rec
                checked += 1
    assert checked > 10
