"""Property-based fuzzing of the case file and the measurement table.

Mutated versions of the example case files (keys dropped or added, values swapped for
booleans, extreme numbers, markup, unicode, deep nesting; the file re-encoded) go through the
loader and the planner, and some through ``opensirt plan`` in-process. Each must end in a
plan or an :class:`~opensirt.errors.OpenSIRTError` (exit 2 or 3), never another exception.
The measurement table gets the same treatment through its parser and the response criteria.

Deterministic (``derandomize``) and bounded: a few hundred examples in a few seconds.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.clinical.measurements import group_patients, parse_measurements
from opensirt.clinical.response import ResponseOptions, assess_patient
from opensirt.errors import OpenSIRTError
from opensirt.planning import load_case, plan_case

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
TABLE = ROOT / "tests" / "clinical" / "data" / "measurements.csv"
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
runner = CliRunner()

_NUMBERS = st.sampled_from(
    [0, -0.0, -1, 1e-300, 1e308, -1e308, 10**30, 0.999999, 1e-9, 7218.0, float("nan"),
     float("inf"), 2**63]
)  # fmt: skip
_STRINGS = st.sampled_from(
    ["", "[/]", "[/bold]", "[bold]x", "x" * 3000, "Zoë \u202e\u0000", "5_2", "1:30", "0x1f",
     "2100-01-01T00:00:00+00:00", "2026-11-25T10:00:00", "~", "null", "yes", "*a", "%s%n"]
)  # fmt: skip
_NESTED = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _STRINGS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_STRINGS, inner, max_size=3),
    max_leaves=8,
)
_VALUES = st.one_of(st.booleans(), st.none(), _NUMBERS, _STRINGS, _NESTED,
                    st.integers(), st.floats(allow_nan=True))  # fmt: skip


#: Factors for numbers: near the plausible bounds and the planner's edge cases.
_FACTORS = st.sampled_from([0, 0.01, 0.3, 0.5, 0.9, 0.999, 1.001, 1.1, 2, 5, 20, 100, -1])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into the nested data (mappings and lists)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mutate(data: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "drop":
        del parent[last]
    elif op == "add" and isinstance(parent[last], dict):
        parent[last]["unknown_key"] = value
    elif op == "nest":
        deep: Any = value
        for _ in range(60):
            deep = [deep]
        parent[last] = deep
    elif op == "duplicate" and isinstance(parent[last], list) and parent[last]:
        parent[last].append(copy.deepcopy(parent[last][0]))
    elif (
        op == "scale"
        and isinstance(parent[last], int | float)
        and not isinstance(parent[last], bool)
    ):
        parent[last] = parent[last] * value
    else:
        parent[last] = value
    return data


@st.composite
def mutated_case(draw: st.DrawFn) -> tuple[bytes, str]:
    """A mutated example case file as bytes, and a description of what was changed."""
    source = draw(st.sampled_from(EXAMPLES))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    changes = []
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        paths = _paths(data)
        if not paths:
            break
        op = draw(
            st.sampled_from(["scale"] * 4 + ["set"] * 3 + ["drop", "add", "nest", "duplicate"])
        )
        numeric = [p for p in paths if _is_number(_at(data, p))]
        path = draw(st.sampled_from(numeric if op == "scale" and numeric else paths))
        value = draw(_FACTORS if op == "scale" else _VALUES)
        data = _mutate(data, path, op, value)
        changes.append(f"{op} {path} {value!r:.60}")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    raw = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # truncate mid-file
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw, f"{source.name}: {'; '.join(changes)} ({encoding})"


@FUZZ
@given(case=mutated_case(), through_cli=st.integers(0, 4))
def test_mutated_case_files_plan_or_fail_cleanly(case: tuple[bytes, str], through_cli: int) -> None:
    raw, what = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.yaml"
        path.write_bytes(raw)
        try:
            plan = plan_case(load_case(path))
        except OpenSIRTError:
            plan = None
        if plan is not None:
            assert plan.refused is not None or plan.activity_gbq is not None, what
            json.dumps(plan.to_dict(), allow_nan=True)
        if through_cli == 0:  # a fifth through the command line, with rich output
            result = runner.invoke(app, ["plan", str(path)])
            assert result.exit_code in (0, 2, 3), f"{what}: {result.output}"
            assert isinstance(result.exception, SystemExit | None), f"{what}: {result.exception}"


_CELLS = st.one_of(
    _STRINGS,
    st.sampled_from(["52", "-1", "1e308", "nan", "0", "abc", "true", "maybe", "absent",
                     "2026-02-30", "target", "new", "", '"', "a,b", "\u0661\u0662", "1_0"]),
    st.text(max_size=12),
)  # fmt: skip


@FUZZ
@given(data=st.data())
def test_mutated_measurement_tables_assess_or_fail_cleanly(data: st.DataObject) -> None:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines]
    for _ in range(data.draw(st.integers(1, 4))):
        row = data.draw(st.integers(0, len(rows) - 1))
        op = data.draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "drop_cell", "copy"]))
        if op == "cell":
            col = data.draw(st.integers(0, len(rows[row]) - 1))
            rows[row][col] = data.draw(_CELLS)
        elif op == "drop_row" and len(rows) > 1:
            del rows[row]
        elif op == "drop_cell" and rows[row]:
            del rows[row][data.draw(st.integers(0, len(rows[row]) - 1))]
        else:
            rows.append(list(rows[row]))
    text = "\n".join(",".join(r) for r in rows) + "\n"
    try:
        parsed, _ = parse_measurements(text)
        for series in group_patients(parsed):
            for confirm in (False, True):
                result = assess_patient(series, ResponseOptions(confirm, 28, 42))
                json.dumps(result.as_dict(), allow_nan=True)
    except OpenSIRTError:
        pass
