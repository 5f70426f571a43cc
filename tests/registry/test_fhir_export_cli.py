"""``opensirt registry export-fhir``: a registry patient as a FHIR R4 Bundle, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from fhirclient.models.bundle import Bundle as R4Bundle
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.bundle import import_bundle
from opensirt.registry.database import Registry
from registry_pathway import pathway_bundle

runner = CliRunner()


def test_export_fhir_writes_a_valid_r4_bundle(registry: Registry, tmp_path: Path) -> None:
    with registry.transaction() as session:
        import_bundle(session, pathway_bundle())
    url = registry.url.render_as_string(hide_password=False)
    out = tmp_path / "P-100.fhir.json"
    result = runner.invoke(app, ["registry", "export-fhir", "P-100", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    parsed = R4Bundle(data, strict=True)
    kinds = {e.resource.resource_type for e in parsed.entry}
    assert {"Patient", "Condition", "Observation", "Procedure"} <= kinds
    assert f"{len(data['entry'])} resources" in result.output


def test_export_fhir_of_an_unknown_patient_fails_with_the_fix(
    registry: Registry, tmp_path: Path
) -> None:
    url = registry.url.render_as_string(hide_password=False)
    out = tmp_path / "x.json"
    result = runner.invoke(app, ["registry", "export-fhir", "NOBODY", str(out), "--db", url])
    assert result.exit_code == 2
    assert "'NOBODY' is not in the registry" in result.output
    assert not out.exists()
