"""Export and import of JSON bundles: the round trip of every entity, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.errors import InputError
from opensirt.registry.bundle import (
    MAX_DEPTH,
    Bundle,
    export_bundle,
    import_bundle,
    json_schema,
    parse_bundle,
    read_bundle,
)
from opensirt.registry.database import Registry, open_registry
from opensirt.registry.models import (
    PlanVersion,
    TreatmentSession,
)
from registry_pathway import pathway, pathway_bundle, row_counts

runner = CliRunner()
SCHEMA = Path(__file__).parents[2] / "docs" / "registry_bundle.schema.json"


@pytest.fixture
def second_registry(
    empty_db_url: str, tmp_path: Path, postgres_server_url: str | None
) -> Iterator[Registry]:
    """Another empty registry on the same backend as ``registry``."""
    if empty_db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'second.sqlite3'}"
        opened = open_registry(url, create=True)
        yield opened
        opened.dispose()
        return
    from postgres_server import create_database, drop_database

    assert postgres_server_url is not None
    url = create_database(postgres_server_url)
    opened = open_registry(url, create=True)
    try:
        yield opened
    finally:
        opened.dispose()
        drop_database(postgres_server_url, url)


def _import(registry: Registry, bundle: Bundle) -> int:
    with registry.transaction() as session:
        return import_bundle(session, bundle)


def _export(registry: Registry, pseudonym: str = "P-100") -> Bundle:
    with registry.transaction(readonly=True) as session:
        return export_bundle(session, pseudonym, software="test")


def _content(bundle: Bundle) -> dict[str, object]:
    data = bundle.model_dump(mode="json", exclude_none=True)
    data.pop("exported_at")
    return data


def test_round_trip_of_every_entity(registry: Registry, second_registry: Registry) -> None:
    given = pathway_bundle()
    assert _import(registry, given) == 20
    first = _export(registry)
    # every list of the bundle holds records, and all came back as given (outcomes by date)
    for name, value in given:
        if isinstance(value, tuple):
            assert value, name
            expected = sorted(value, key=lambda r: r.date) if name == "outcomes" else value
            assert getattr(first, name) == tuple(expected), name
    assert first.patient == given.patient
    assert all(n for n in row_counts(registry).values())  # every table has rows
    # import the export into an empty registry, export again: the same JSON
    _import(second_registry, first)
    again = _export(second_registry)
    assert _content(again) == _content(first)
    assert json.loads(again.to_json()) | {"exported_at": 0} == json.loads(first.to_json()) | {
        "exported_at": 0
    }
    # links were rebuilt: the SIRT session delivers the approved version 2
    with second_registry.transaction(readonly=True) as session:
        sirt = session.scalars(
            sa.select(TreatmentSession).where(TreatmentSession.plan_version_id.is_not(None))
        ).one()
        assert session.get(PlanVersion, sirt.plan_version_id).version == 2  # type: ignore[union-attr]


def test_cli_export_import_export(empty_db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps(pathway()), encoding="utf-8")
    second = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    for db in (empty_db_url, second):
        assert runner.invoke(app, ["registry", "init", "--db", db]).exit_code == 0
    done = runner.invoke(app, ["registry", "import", str(source), "--db", empty_db_url])
    assert done.exit_code == 0, done.output
    assert "1 patient(s) with 20 record(s)" in done.output
    first = tmp_path / "first.json"
    out = runner.invoke(app, ["registry", "export", "P-100", "--db", empty_db_url, "--out", first])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app, ["registry", "import", str(first), "--db", second]).exit_code == 0
    again = runner.invoke(app, ["registry", "export", "P-100", "--db", second])  # to stdout
    assert again.exit_code == 0, again.output
    a, b = json.loads(first.read_text(encoding="utf-8")), json.loads(again.stdout)
    del a["exported_at"], b["exported_at"]  # the only field that may differ
    assert a == b


def test_export_of_an_unknown_patient_fails_with_the_fix(registry: Registry) -> None:
    url = registry.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["registry", "export", "NOBODY", "--db", url])
    assert result.exit_code == 2
    assert "'NOBODY' is not in the registry" in result.output


def test_a_patient_already_present_is_refused(registry: Registry) -> None:
    _import(registry, pathway_bundle())
    before = row_counts(registry)
    with registry.transaction() as session, pytest.raises(InputError, match="in the registry"):
        import_bundle(session, pathway_bundle())
    assert row_counts(registry) == before


def test_report_paths_are_stored_as_text_never_opened(registry: Registry) -> None:
    data = pathway()
    data["plan_versions"][0]["report_path"] = "../../../../etc/shadow"
    _import(registry, Bundle.model_validate(data))
    assert _export(registry).plan_versions[0].report_path == "../../../../etc/shadow"


def test_a_record_of_another_patient_is_refused() -> None:
    data = pathway()
    data["labs"][0]["patient"] = "P-999"
    with pytest.raises(InputError, match=r"labs\[0\] names patient 'P-999'"):
        parse_bundle(json.dumps(data), "b.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "deeper than 32 levels"),
        ("[" * 100_000 + "]" * 100_000, "deeper than 32 levels"),
        ('{"format": "opensirt-registry-bundle", "format": "x"}', "appear twice"),
        ('{"a": NaN}', "NaN is not a number JSON allows"),
        ("not json", "is not valid JSON"),
        ("[1, 2]", "format is 'list'"),
        ('{"format": "other"}', "format is 'other'"),
    ],
)
def test_hostile_text_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_bundle(text, "b.json")


def test_newer_and_unknown_versions_are_refused() -> None:
    data = pathway()
    data["version"] = 2
    with pytest.raises(InputError, match="bundle version 2 is newer than this OpenSIRT reads"):
        parse_bundle(json.dumps(data), "b.json")
    data["version"] = "1"
    with pytest.raises(InputError, match="version is '1', expected the integer 1"):
        parse_bundle(json.dumps(data), "b.json")


def test_unknown_keys_and_wrong_units_are_named() -> None:
    data = pathway()
    session = data["sessions"][1]
    session["delivered_activity_mbq"] = session.pop("delivered_activity_gbq") * 1000
    with pytest.raises(InputError, match=r"sessions\[1\]\.delivered_activity_mbq: unknown key"):
        parse_bundle(json.dumps(data), "b.json")
    data = pathway()
    data["sessions"][1]["delivered_activity_gbq"] = 1750.0  # MBq written as GBq
    with pytest.raises(InputError, match=r"sessions\[1\]\.delivered_activity_gbq = 1750\.0"):
        parse_bundle(json.dumps(data), "b.json")


def test_the_json_schema_file_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == json_schema(), (
        "docs/registry_bundle.schema.json is out of date; regenerate it with "
        "`python -c 'from opensirt.registry.bundle import json_schema; "
        'print(json_schema(), end="")\' > docs/registry_bundle.schema.json`'
    )


def test_the_example_bundle_round_trips(registry: Registry) -> None:
    example = Path(__file__).parents[2] / "examples" / "registry" / "bundle.json"
    bundle = read_bundle(example)
    _import(registry, bundle)
    again = json.loads(_export(registry, bundle.patient.patient).to_json())
    given = json.loads(example.read_text(encoding="utf-8"))
    for data in (again, given):
        del data["exported_at"], data["software"]
    assert again == given


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("plan_versions", 0, "signatures", 0, "signed_at"),
            "2025-01-10T09:15:00",
            r"plan_versions\[0\]\.signatures\[0\]\.signed_at = '2025-01-10T09:15:00': Input should "
            "have timezone info",
        ),
        (
            ("monitoring", 0, "start"),
            "2025-01-20T11:30:00",
            r"monitoring\[0\]\.start = '2025-01-20T11:30:00': Input should have timezone info",
        ),
        (("exported_at",), "2025-02-10T12:00:00", "exported_at = .*should have timezone"),
        (("version",), True, "version is 'true', expected the integer 1"),
    ],
)
def test_times_without_zone_and_odd_versions_are_refused(
    path: tuple[str | int, ...], value: object, message: str
) -> None:
    data = pathway()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError, match=message):
        parse_bundle(json.dumps(data), "b.json")


def test_a_number_that_overflows_is_refused() -> None:
    text = json.dumps(pathway()).replace('"target_change_pct": -58.3', '"target_change_pct": 1e999')
    with pytest.raises(InputError, match="1e999 is too large for a number"):
        parse_bundle(text, "b.json")
