"""The registry under stress: imports killed with SIGKILL, two writers at once, bad input.

Every command is one transaction: whatever happens, the database is intact and holds all of a
command's writes or none of them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import opensirt
from opensirt.cli import app
from opensirt.registry.database import Registry
from opensirt.registry.models import LabPanel, Patient
from registry_pathway import pathway, row_counts

runner = CliRunner()
SRC = Path(opensirt.__file__).parents[1]


def _big_bundles(folder: Path, prefix: str, patients: int, labs: int) -> list[Path]:
    """``patients`` bundle files, each a patient with ``labs`` lab panels."""
    paths = []
    for n in range(patients):
        pseudonym = f"{prefix}-{n:03d}"
        data: dict[str, Any] = {
            "format": "opensirt-registry-bundle",
            "version": 1,
            "exported_at": "2025-06-01T00:00:00+00:00",
            "software": "test",
            "patient": {
                "patient": pseudonym,
                "sex": "male",
                "birth_year": 1950,
                "diagnosis": "crc",
                "diagnosis_date": "2020-01-01",
            },
            "labs": [
                {
                    "patient": pseudonym,
                    "date": f"{2020 + k % 5}-{1 + k % 12:02d}-{1 + k % 28:02d}",
                    "labs": {"bilirubin_umol_l": 10.0 + k % 7, "albumin_g_l": 40.0},
                    "cea_ng_ml": 5.0 + k,
                }
                for k in range(labs)
            ],
        }
        path = folder / f"{pseudonym}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        paths.append(path)
    return paths


def _cli(files: list[Path], url: str) -> list[str]:
    return [sys.executable, "-m", "opensirt", "registry", "import", *map(str, files), "--db", url]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def _url(registry: Registry) -> str:
    return registry.url.render_as_string(hide_password=False)


def _check_intact(registry: Registry) -> None:
    """The database is consistent: SQLite's integrity and foreign-key checks pass."""
    if registry.url.get_backend_name() != "sqlite":
        return  # PostgreSQL checks its own constraints on every commit
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def _imported(registry: Registry, prefix: str) -> tuple[int, int]:
    """Patients and lab panels of the patients whose pseudonyms start with ``prefix``."""
    with registry.transaction(readonly=True) as session:
        ids = session.scalars(sa.select(Patient.id).where(Patient.pseudonym.like(f"{prefix}-%")))
        ids = list(ids)
        labs = session.scalar(
            sa.select(sa.func.count()).select_from(LabPanel).where(LabPanel.patient_id.in_(ids))
        )
    return len(ids), labs or 0


def _writing(registry: Registry) -> bool:
    """Whether another connection holds an open write transaction on the registry."""
    if registry.url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(registry.url.database), timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # "database is locked": a writer is inside
            return True
        finally:
            connection.close()
    with registry.engine.connect() as connection:
        busy = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND pid <> pg_backend_pid() AND datname = current_database()"
        ).scalar()
    return bool(busy)


def _kill_while_writing(
    process: subprocess.Popen[bytes], registry: Registry, delay_s: float
) -> bool:
    """SIGKILL the process ``delay_s`` after it began writing; whether it was writing then."""
    deadline = time.monotonic() + 60
    while not _writing(registry):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    time.sleep(delay_s)
    inside = _writing(registry)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return inside


@pytest.mark.slow
def test_an_import_killed_at_random_points_leaves_all_or_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    patients, labs = 8, 500
    rng = random.Random(20251201)
    killed_inside = 0
    for attempt in range(4):
        prefix = f"K{attempt}"
        files = _big_bundles(tmp_path, prefix, patients, labs)
        process = subprocess.Popen(
            _cli(files, _url(registry)),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        inside = _kill_while_writing(process, registry, rng.uniform(0.0, 1.5))
        _check_intact(registry)
        found = _imported(registry, prefix)
        assert found in {(0, 0), (patients, patients * labs)}, found
        if inside:
            assert found == (0, 0)
            killed_inside += 1
    assert killed_inside >= 2  # the kills landed inside the import's transaction
    # the registry still takes a whole import afterwards
    files = _big_bundles(tmp_path, "after", 2, 10)
    done = subprocess.run(_cli(files, _url(registry)), env=_env(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _imported(registry, "after") == (2, 20)


@pytest.mark.slow
def test_two_processes_importing_at_once_lose_nothing(registry: Registry, tmp_path: Path) -> None:
    first = _big_bundles(tmp_path, "A", 3, 60)
    second = _big_bundles(tmp_path, "B", 3, 60)
    processes = [
        subprocess.Popen(
            _cli(files, _url(registry)), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for files in (first, second)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    _check_intact(registry)
    assert _imported(registry, "A") == (3, 180)
    assert _imported(registry, "B") == (3, 180)


def _bad(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def _delivered_in_mbq() -> dict[str, Any]:
    data = pathway()
    data["sessions"][1]["delivered_activity_mbq"] = data["sessions"][1].pop(
        "delivered_activity_gbq"
    )
    return data


BAD_INPUT = [
    pytest.param(
        _delivered_in_mbq(), r"sessions\[1\]\.delivered_activity_mbq: unknown key", id="unit-key"
    ),
    pytest.param(
        _bad(pathway(), ("sessions", 1, "delivered_activity_gbq"), 1750.0),
        r"sessions\[1\]\.delivered_activity_gbq = 1750\.0: Input should be less than or equal "
        r"to 50",
        id="mbq-as-gbq",
    ),
    pytest.param(
        _bad(pathway(), ("outcomes", 1, "date"), "2099-01-01"),
        r"outcomes\[1\]: outcome_events of P-100: date is 2099-01-01, in the future",
        id="future",
    ),
    pytest.param(
        _bad(pathway(), ("adverse_events", 0, "resolved"), "2025-01-10"),
        r"adverse_events\[0\] = .*resolved 2025-01-10 is before the onset 2025-01-22",
        id="out-of-order",
    ),
    pytest.param(
        _bad(pathway(), ("mdt_decisions", 0, "date"), "2024-12-01"),
        r"mdt_decisions\[0\]: .*date is 2024-12-01, before the diagnosis on 2025-01-05",
        id="before-diagnosis",
    ),
    pytest.param(
        _bad(pathway(), ("labs", 0, "patient"), "P-999"),
        r"labs\[0\] names patient 'P-999', but the bundle is of 'P-100'",
        id="unknown-patient",
    ),
    pytest.param(
        _bad(pathway(), ("sessions", 1, "plan"), "left lobe"),
        r"sessions\[1\]: plan 'left lobe' of P-100 has no approved version",
        id="unapproved-plan",
    ),
    pytest.param(
        _bad(pathway(), ("monitoring", 0, "end"), "2025-01-20T10:00:00+00:00"),
        r"monitoring\[0\] = .*end 2025-01-20T10:00:00\+00:00 is not after start",
        id="end-before-start",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUT)
def test_bad_input_exits_2_and_writes_nothing(
    registry: Registry, tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(pathway("P-1")), encoding="utf-8")
    assert (
        runner.invoke(app, ["registry", "import", str(good), "--db", _url(registry)]).exit_code == 0
    )
    before = row_counts(registry)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    other = tmp_path / "other.json"  # a good bundle in the same command is not written either
    other.write_text(json.dumps(pathway("P-2")), encoding="utf-8")
    result = runner.invoke(
        app, ["registry", "import", str(other), str(bad), "--db", _url(registry)]
    )
    assert result.exit_code == 2, result.output
    assert "bad.json" in result.output
    assert re.search(message, " ".join(result.output.split())), result.output
    assert row_counts(registry) == before
    _check_intact(registry)


def test_files_that_are_not_bundles_are_refused_unread(registry: Registry, tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(65 * 2**20)  # sparse: nothing is written, nothing must be read
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(
        json.dumps(pathway()).replace("IDENT-notes", "Bericht Ärztin").encode("latin-1")
    )
    again = tmp_path / "twice.json"
    again.write_text(json.dumps(pathway()), encoding="utf-8")
    before = row_counts(registry)
    for files, message in (
        ([huge], "larger than the 64 MiB"),
        ([latin1], "is not valid UTF-8 text"),
        ([again, again], "is in .*twice.json too"),
        ([tmp_path / "missing.json"], "cannot read the registry bundle"),
    ):
        result = runner.invoke(
            app, ["registry", "import", *map(str, files), "--db", _url(registry)]
        )
        assert result.exit_code == 2, result.output
        assert re.search(message, " ".join(result.output.split())), result.output
    assert row_counts(registry) == before
