"""Sites in the registry: the patient's optional site travels in the bundle, site codes are
checked, a scoped lookup answers another site's patient as unknown, a record's site is found
through its links; ``opensirt users add --site``; on both backends."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.errors import InputError
from opensirt.registry import sites, store
from opensirt.registry.bundle import Bundle, export_bundle, import_bundle
from opensirt.registry.database import Registry
from opensirt.registry.deidentify import deidentify
from opensirt.registry.records import PatientIn
from opensirt.registry.users import add_user, get_user
from opensirt.registry.vocabulary import UserRole
from registry_pathway import pathway

PASSWORD = "a long enough passphrase"


def _bundle(site: str | None) -> Bundle:
    data = pathway("P-100")
    if site is not None:
        data["patient"]["site"] = site
    return Bundle.model_validate(data)


def test_the_bundle_carries_the_site_and_stays_compatible(registry: Registry) -> None:
    with registry.transaction(actor="test") as session:
        import_bundle(session, _bundle("UKB"))
        bundle = export_bundle(session, "P-100", software="test")
        assert store.get_patient(session, "P-100").site == "UKB"
    assert json.loads(bundle.to_json())["patient"]["site"] == "UKB"
    plain = _bundle(None)
    assert "site" not in json.loads(plain.to_json())["patient"]  # as before: no site key
    assert deidentify(_bundle("UKB")).patient.site is None  # the hospital is removed


def test_site_codes_are_checked(registry: Registry) -> None:
    fields = {"patient": "P-1", "sex": "male", "birth_year": 1950, "diagnosis": "hcc",
              "diagnosis_date": dt.date(2025, 1, 1)}  # fmt: skip
    with pytest.raises(ValidationError, match="site"):
        PatientIn(**fields, site="UK B")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="site '-x' is not allowed"):
        sites.check_site("-x")
    with registry.transaction(actor="test") as session:
        with pytest.raises(InputError, match="site 'a/b' is not allowed"):
            add_user(session, "ann", UserRole.NURSE, PASSWORD, "a/b")
        add_user(session, "ben", UserRole.PHYSICIST, PASSWORD, sites.ALL_SITES)
        assert get_user(session, "ben").site == "*"  # type: ignore[union-attr]


def test_scoped_lookups(registry: Registry) -> None:
    with registry.transaction(actor="test") as session:
        import_bundle(session, _bundle("A"))
        version = store.get_patient(session, "P-100").plans[0].versions[0]
        with pytest.raises(store.PatientNotFoundError) as elsewhere:
            store.get_patient(session, "P-100", scope="B")
        with pytest.raises(store.PatientNotFoundError) as nowhere:
            store.get_patient(session, "P-999", scope="B")
        assert str(elsewhere.value).replace("P-100", "X") == str(nowhere.value).replace(
            "P-999", "X"
        )
        assert store.get_patient(session, "P-100", scope="A").site == "A"
        for scope, shown in ((None, True), ("A", True), ("B", False), (sites.NO_SITE, False)):
            assert sites.record_visible(session, "patients", "P-100", scope) is shown
            assert sites.record_visible(session, "plan_versions", str(version.id), scope) is shown
        assert not sites.record_visible(session, "users", "admin", "A")
        assert not sites.record_visible(session, "plan_versions", "x; --", "A")
        assert not sites.record_visible(session, "no_such_table", "1", "A")


def test_users_add_with_a_site(registry: Registry) -> None:
    runner = CliRunner()
    db = registry.url.render_as_string(hide_password=False)
    args = ["users", "add", "carol", "--role", "nurse", "--password-stdin", "--db", db]
    added = runner.invoke(app, [*args, "--site", "UKB"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "site UKB" in added.output
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert "UKB" in listed.output
    bad = runner.invoke(app, [*args[:2], "dan", *args[3:], "--site", "U K B"], input=PASSWORD)
    assert bad.exit_code == 2
    assert "site 'U K B' is not allowed" in bad.output
