"""De-identified bundles: no original date, id, UID, name or free text survives."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.bundle import Bundle, export_bundle, import_bundle
from opensirt.registry.database import Registry
from opensirt.registry.deidentify import (
    MAX_SHIFT_DAYS,
    MIN_SHIFT_DAYS,
    deidentify,
    draw_shift_days,
)
from registry_pathway import (
    FINGERPRINT,
    IDENTIFYING,
    PET_UID,
    SERIES_UID,
    STUDY_UID,
    pathway_bundle,
)

#: Every date of the pathway lies in these 30 days (see registry_pathway).
WINDOW = [dt.date(2025, 1, 5) + dt.timedelta(days=n) for n in range(30)]


def _exported(registry: Registry) -> Bundle:
    with registry.transaction() as session:
        import_bundle(session, pathway_bundle())
    with registry.transaction(readonly=True) as session:
        return export_bundle(session, "P-100", software="test")


def test_nothing_identifying_survives(registry: Registry) -> None:
    original = _exported(registry)
    text = deidentify(original).to_json()
    raw = text.encode("utf-8")
    for day in WINDOW:
        assert day.isoformat().encode() not in raw, day
        assert day.strftime("%Y%m%d").encode() not in raw, day
    for secret in ("P-100", STUDY_UID, SERIES_UID, PET_UID, FINGERPRINT, *IDENTIFYING):
        assert secret.encode() not in raw, secret
    # every date and time field that remains is shifted out of the window
    found = {dt.date.fromisoformat(d) for d in re.findall(r"\d{4}-\d{2}-\d{2}", text)}
    assert found
    assert not found & set(WINDOW)


def test_intervals_kept_and_the_result_imports(registry: Registry) -> None:
    original = _exported(registry)
    shifted = deidentify(original, shift_days=200, pseudonym="DEID-1")
    offset = dt.timedelta(days=200)
    assert shifted.patient.diagnosis_date == original.patient.diagnosis_date - offset
    assert shifted.outcomes[-1].date - shifted.patient.diagnosis_date == (
        original.outcomes[-1].date - original.patient.diagnosis_date
    )
    before, after = original.plan_versions[1].signatures[0], shifted.plan_versions[1].signatures[0]
    assert after.signed_at == before.signed_at - offset
    assert shifted.monitoring[0].end - shifted.monitoring[0].start == dt.timedelta(hours=5)
    assert shifted.patient.birth_year == 1956  # the birth year moves with the dates (mid-year)
    # two signers stay two people; an original UID maps to one new UID
    users = {s.user_name for s in shifted.plan_versions[1].signatures}
    assert users == {"user-2", "user-3"}
    assert shifted.imaging_studies[0].study_uid.startswith("2.25.")
    assert shifted.imaging_studies[0].study_uid != shifted.imaging_studies[1].study_uid
    # coded values and numbers are kept
    assert shifted.sessions[0].details == {"drug": "doxorubicin", "dose_mg": 50.0}
    assert shifted.labs == tuple(
        r.model_copy(update={"patient": "DEID-1", "date": r.date - offset}) for r in original.labs
    )
    with registry.transaction() as session:
        assert import_bundle(session, shifted) == 20


def test_the_shift_is_drawn_in_its_range() -> None:
    drawn = {draw_shift_days() for _ in range(2000)}
    assert min(drawn) >= MIN_SHIFT_DAYS
    assert max(drawn) <= MAX_SHIFT_DAYS
    assert len(drawn) > 300  # random, not fixed
    with pytest.raises(ValueError, match="outside 30-730"):
        deidentify(pathway_bundle(), shift_days=10)


def test_cli_deidentify_draws_a_new_id_each_time(registry: Registry) -> None:
    _exported(registry)
    url = registry.url.render_as_string(hide_password=False)
    ids = set()
    for _ in range(2):
        result = CliRunner().invoke(
            app, ["registry", "export", "P-100", "--deidentify", "--db", url]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["deidentification"].startswith("DICOM PS3.15 Annex E")
        ids.add(data["patient"]["patient"])
    assert len(ids) == 2
