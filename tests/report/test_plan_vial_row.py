"""The plan report's prescription table: the vial at the treatment time beside the plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from opensirt.planning import parse_case, plan_case
from opensirt.report.document import Table
from opensirt.report.plan_report import build_plan_document

EXAMPLE = Path(__file__).parents[2] / "examples" / "mird_glass.yaml"


def test_prescription_rows_show_vial_and_tolerance() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["schedule"]["vial_tolerance_fraction"] = 0.2
    case = parse_case(data)
    plan = plan_case(case)
    assert plan.schedule is not None
    assert plan.activity_gbq is not None
    doc = build_plan_document(
        case,
        plan,
        case_path="mird_glass.yaml",
        created=datetime(2026, 11, 24, tzinfo=UTC),
        provenance=None,
    )
    section = next(s for s in doc.sections if s.title == "Prescription")
    table = next(b for b in section.blocks if isinstance(b, Table))
    rows = dict(table.rows)
    available = plan.schedule.vial_activity_at_treatment_gbq
    assert available is not None
    diff = 100.0 * (available / plan.activity_gbq - 1.0)
    within = "within" if abs(diff) <= 20.0 else "OUTSIDE"
    assert rows["Vial vs planned activity"] == (
        f"{diff:+.1f} % of {plan.activity_gbq:.3f} GBq planned ({within} the ±20 % "
        "tolerance, schedule.vial_tolerance_fraction)"
    )
    assert "Vial activity at treatment" in rows
