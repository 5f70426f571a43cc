"""Time ``timeline`` of one patient in a large SQLite registry (goal: p95 under 50 ms).

Run: ``.venv/bin/python benchmarks/registry_timeline.py [N] [--samples 300] [--seed 1]``

It creates a registry in a temporary folder (``--db FILE`` to keep it) and fills it with ``N``
patients (default 10,000) of about 22 dated records each: findings, two lab panels, a quality
of life score, an MDT decision, two imaging studies, a work-up, an approved plan version with
two signatures, a SIRT session with its monitoring and verification (two structures), two
adverse events, four lesion measurements on two dates, a response and two outcomes. The rows
are written with bulk inserts (SQLAlchemy Core ``executemany``), not through the validating
writer: a simple generator of its own for the timing. ``--synth`` fills the registry with the
synthetic cohort of ``opensirt registry synth`` instead (about 30 records per patient, values
drawn from published distributions, every record through the writer; slower to fill).

Then, for ``--samples`` patients drawn at random, each in its own read-only transaction as a
command runs it, it times

* ``lookup``: the patient row by its pseudonym (one indexed query): the baseline;
* ``timeline``: :func:`opensirt.registry.timeline.timeline`;
* ``list page``: :func:`opensirt.registry.timeline.list_patients`, 50 patients at a random
  offset;

and prints p50 and p95 (ms) of each, and each as a ratio to the baseline's p50 measured in the
same run. The fill rate (patients per second) is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from opensirt.registry.database import Registry, open_registry
from opensirt.registry.models import (
    AdverseEventRecord,
    ClinicalFindingsRecord,
    ImagingStudy,
    LabPanel,
    LesionMeasurement,
    MdtDecision,
    Monitoring,
    OutcomeEvent,
    Patient,
    Plan,
    PlanSignature,
    PlanVersion,
    QualityOfLife,
    ResponseAssessment,
    TreatmentSession,
    Verification,
    VerifiedStructure,
    Workup,
)
from opensirt.registry.timeline import list_patients, timeline

GOAL_P95_MS = 50.0
BATCH = 1000  # patients per bulk insert
UTC = dt.UTC


def _patient_rows(index: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """The rows of one patient (ids given here, so that links need no round trip)."""
    pid = index + 1
    day0 = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(0, 2000))

    def day(offset: int) -> dt.date:
        return day0 + dt.timedelta(days=offset)

    sirt = day(35)
    at = dt.datetime.combine(sirt, dt.time(11), tzinfo=UTC)
    base = {"patient_id": pid}
    return {
        "patients": [
            {
                "id": pid,
                "pseudonym": f"BENCH-{pid:06d}",
                "sex": rng.choice(("female", "male")),
                "birth_year": rng.randrange(1935, 1975),
                "diagnosis": rng.choice(("hcc", "crc", "icc", "net")),
                "diagnosis_date": day0,
            }
        ],
        "clinical_findings": [{**base, "date": day(7), "findings": {"ecog": rng.randrange(0, 2)}}],
        "lab_panels": [
            {
                **base,
                "date": day(d),
                "labs": {"bilirubin_umol_l": rng.uniform(5, 30)},
                "afp_ng_ml": rng.uniform(2, 900),
                "cea_ng_ml": None,
            }
            for d in (7, 120)
        ],
        "quality_of_life": [
            {
                **base,
                "date": day(7),
                "instrument": "eortc-qlq-c30",
                "scale": "global health",
                "score": rng.uniform(30, 90),
            }
        ],
        "mdt_decisions": [
            {
                **base,
                "date": day(10),
                "roles_present": ["hepatologist", "radiologist"],
                "options_considered": ["sirt", "tace"],
                "chosen": "sirt",
                "intent": "palliative",
                "line": 1,
                "rationale": "",
                "assessment": None,
            }
        ],
        "imaging_studies": [
            {
                **base,
                "date": day(d),
                "study_uid": f"1.2.826.0.1.3680043.9.{pid}.{d}",
                "series_uid": None,
                "modality": m,
                "role": r,
            }
            for d, m, r in ((20, "CT", "planning-ct"), (21, "NM", "maa-spect"))
        ],
        "workups": [
            {
                **base,
                "date": day(21),
                "lung_shunt_fraction": rng.uniform(0.02, 0.15),
                "lung_shunt_source": "planar",
                "tumour_to_normal": {"T1": 3.0},
                "extrahepatic_uptake": False,
                "perfused_territories": ["right lobe"],
            }
        ],
        "plans": [{"id": pid, "patient_id": pid, "label": "right lobe"}],
        "plan_versions": [
            {
                "id": pid,
                "plan_id": pid,
                "version": 1,
                "state": "approved",
                "date": day(28),
                "case_yaml": "opensirt_case: 1\n",
                "result_json": "{}",
                "method": "partition",
                "device": "sir-spheres",
                "activity_gbq": rng.uniform(0.8, 3.0),
                "tumour_dose_gy": rng.uniform(80, 250),
                "normal_liver_dose_gy": rng.uniform(15, 45),
                "lung_dose_gy": rng.uniform(2, 15),
                "limits": [],
                "input_fingerprint": "0" * 64,
                "report_path": None,
                "rtdose_path": None,
                "created_by": "ann",
                "updated_at": None,
            }
        ],
        "plan_signatures": [
            {"plan_version_id": pid, "role": role, "user_name": user}
            for role, user in (("physicist", "ann"), ("physician", "bob"))
        ],
        "treatment_sessions": [
            {
                "id": pid,
                **base,
                "date": sirt,
                "therapy": "sirt",
                "plan_version_id": pid,
                "territory": "right lobe",
                "delivered_activity_gbq": rng.uniform(0.8, 3.0),
                "details": {"device": "sir-spheres"},
            }
        ],
        "monitoring": [
            {
                **base,
                "session_id": pid,
                "date": sirt,
                "start": at,
                "end": at + dt.timedelta(hours=5),
                "observations": [],
                "discharged": True,
                "notes": "",
            }
        ],
        "verifications": [
            {
                "id": pid,
                **base,
                "session_id": pid,
                "date": day(36),
                "modality": "Y-90 PET",
                "delivered_activity_gbq": rng.uniform(0.8, 3.0),
                "result_json": "{}",
            }
        ],
        "verified_structures": [
            {
                "verification_id": pid,
                "structure": name,
                "predicted_gy": p,
                "delivered_gy": p * 0.9,
                "predicted_scaled_gy": None,
                "difference_pct": -10.0,
                "flagged": False,
            }
            for name, p in (("Tumour", 150.0), ("Normal liver", 35.0))
        ],
        "adverse_events": [
            {
                **base,
                "session_id": pid,
                "date": day(d),
                "term": t,
                "grade": g,
                "resolved": None,
                "attribution": "possible",
            }
            for d, t, g in ((37, "Fatigue", 1), (60, "Abdominal pain", 2))
        ],
        "lesion_measurements": [
            {
                **base,
                "date": day(d),
                "lesion_id": lesion,
                "role": "target",
                "organ": "liver",
                "is_node": False,
                "longest_diameter_mm": rng.uniform(20, 80),
                "short_axis_mm": None,
                "viable_diameter_mm": None,
                "enhancing_area_mm2": None,
                "status": "present",
            }
            for d in (20, 120)
            for lesion in ("L1", "L2")
        ],
        "response_assessments": [
            {
                **base,
                "date": day(120),
                "criteria": "recist1.1",
                "criteria_version": "1.1",
                "target": "PR",
                "non_target": "non-CR/non-PD",
                "new_lesions": False,
                "overall": "PR",
                "target_change_pct": -35.0,
            }
        ],
        "outcome_events": [
            {**base, "date": day(d), "kind": k, "site": s, "cause": None}
            for d, k, s in ((300, "progression", "in-field"), (400, "last-contact", None))
        ],
    }


#: Tables in the order their rows are inserted (parents first).
_TABLES = (
    Patient,
    ClinicalFindingsRecord,
    LabPanel,
    QualityOfLife,
    MdtDecision,
    ImagingStudy,
    Workup,
    Plan,
    PlanVersion,
    PlanSignature,
    TreatmentSession,
    Monitoring,
    Verification,
    VerifiedStructure,
    AdverseEventRecord,
    LesionMeasurement,
    ResponseAssessment,
    OutcomeEvent,
)


def fill(registry: Registry, n_patients: int, seed: int) -> int:
    """Write ``n_patients`` patients in bulk; returns the number of dated rows."""
    rng = random.Random(seed)
    events = 0
    for start in range(0, n_patients, BATCH):
        batch: dict[str, list[dict[str, Any]]] = {}
        for index in range(start, min(start + BATCH, n_patients)):
            for table, rows in _patient_rows(index, rng).items():
                batch.setdefault(table, []).extend(rows)
        with registry.transaction() as session:
            for model in _TABLES:
                rows = batch[model.__tablename__]
                session.execute(sa.insert(model), rows)
                if "date" in model.__table__.columns and model is not Patient:
                    events += len(rows)
    return events


def fill_synthetic(registry: Registry, n_patients: int, seed: int) -> int:
    """Write the synthetic cohort (``opensirt registry synth``); returns the number of records."""
    from opensirt.demo.cohort import synthetic_cohort
    from opensirt.demo.cohort_writer import write_cohort

    people = synthetic_cohort(n_patients, seed, until=dt.date(2026, 6, 30))
    with registry.transaction() as session:
        return sum(records for _, records in write_cohort(session, people))


def _percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = sorted(1000.0 * s for s in samples_s)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def _time(registry: Registry, work: Callable[[Any], object]) -> float:
    begin = time.perf_counter()
    with registry.transaction(readonly=True) as session:
        work(session)
    return time.perf_counter() - begin


def main() -> None:
    """Fill the registry, time the reads and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", nargs="?", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="keep the registry in this SQLite file")
    parser.add_argument(
        "--synth", action="store_true", help="fill with the synthetic cohort (registry synth)"
    )
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.sqlite3"
        path.unlink(missing_ok=True)
        registry = open_registry(path, create=True)
        try:
            begin = time.perf_counter()
            events = (fill_synthetic if args.synth else fill)(registry, args.patients, args.seed)
            prefix = f"SYN-{args.seed}" if args.synth else "BENCH"
            fill_s = time.perf_counter() - begin
            console.print(
                f"Filled {args.patients} patients ({events} dated records, "
                f"{events / args.patients:.1f} per patient) in {fill_s:.1f} s: "
                f"{args.patients / fill_s:.0f} patients/s"
            )
            rng = random.Random(args.seed + 1)
            names = [
                f"{prefix}-{rng.randrange(1, args.patients + 1):06d}" for _ in range(args.samples)
            ]
            offsets = [rng.randrange(0, max(1, args.patients - 50)) for _ in range(args.samples)]
            lookup = sa.select(Patient).where(Patient.pseudonym == sa.bindparam("p"))
            cases: dict[str, Callable[[int], Callable[[Any], object]]] = {
                "lookup (baseline)": lambda i: lambda s: s.scalars(lookup, {"p": names[i]}).one(),
                "timeline": lambda i: lambda s: timeline(s, names[i]),
                "list page (50)": lambda i: lambda s: list_patients(s, offset=offsets[i]),
            }
            for work in cases.values():  # warm the caches and the statement cache
                for i in range(min(20, args.samples)):
                    _time(registry, work(i))
            results = {
                name: _percentiles([_time(registry, work(i)) for i in range(args.samples)])
                for name, work in cases.items()
            }
        finally:
            registry.dispose()
    base_p50 = results["lookup (baseline)"][0]
    table = Table(title=f"Reads in a registry of {args.patients} patients ({args.samples} samples)")
    for column in ("read", "p50 (ms)", "p95 (ms)", "p50 / baseline p50", "p95 / baseline p50"):
        table.add_column(column, justify="left" if column == "read" else "right")
    for name, (p50, p95) in results.items():
        table.add_row(
            name, f"{p50:.2f}", f"{p95:.2f}", f"{p50 / base_p50:.1f}", f"{p95 / base_p50:.1f}"
        )
    console.print(table)
    p95 = results["timeline"][1]
    verdict = "meets" if p95 < GOAL_P95_MS else "MISSES"
    console.print(f"timeline p95 {p95:.1f} ms {verdict} the goal of {GOAL_P95_MS:.0f} ms")


if __name__ == "__main__":
    main()
