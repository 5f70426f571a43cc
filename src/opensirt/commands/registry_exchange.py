"""``opensirt registry export | export-fhir | import``: one patient's pathway as a JSON bundle
(or a FHIR R4 Bundle), and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from opensirt.commands._common import console, err_console
from opensirt.commands.registry import DbOption, registry_errors


def export(
    patient: Annotated[str, typer.Argument(help="The patient's pseudonymised id.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the bundle to this file (default: standard output)."),
    ] = None,
    deidentify: Annotated[
        bool,
        typer.Option(
            "--deidentify",
            help="Shift every date by one random offset, give a new id, drop free text, "
            "names and DICOM UIDs (DICOM PS3.15 Annex E; see docs/registry_bundle.md).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Write one patient's whole pathway as a JSON bundle (docs/registry_bundle.md).

    \b
    Examples:
      opensirt registry export SIRT-0042 --out SIRT-0042.json
      opensirt registry export SIRT-0042 --deidentify --out shared.json
    """
    from opensirt import __version__
    from opensirt.fileio import write_atomically
    from opensirt.registry.bundle import export_bundle
    from opensirt.registry.database import open_registry
    from opensirt.registry.deidentify import deidentify as deidentified

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction() as session:  # the export is recorded in the audit log
                bundle = export_bundle(session, patient, software=__version__)
        finally:
            registry.dispose()
        if deidentify:
            bundle = deidentified(bundle)
        text = bundle.to_json()
        if out is None:
            typer.echo(text, nl=False)
            return

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        write_atomically(out, write)
        shown = bundle.patient.patient
        err_console.print(f"Wrote {escape(shown)} to {escape(str(out))}")


def import_(
    files: Annotated[
        list[Path], typer.Argument(help="Bundle files (JSON), imported in one transaction.")
    ],
    db: DbOption = None,
) -> None:
    """Add the patients of one or more bundles, all in one transaction: every patient and
    record is written, or (on any error) nothing. A patient already in the registry is refused.

    \b
    Examples:
      opensirt registry import SIRT-0042.json
      opensirt registry import bundles/*.json --db ./clinic.sqlite3
    """
    from opensirt.errors import InputError
    from opensirt.registry.bundle import import_bundle, read_bundle
    from opensirt.registry.database import open_registry

    with registry_errors():
        bundles = [read_bundle(path) for path in files]
        first: dict[str, Path] = {}
        for path, bundle in zip(files, bundles, strict=True):
            pseudonym = bundle.patient.patient
            if pseudonym in first:
                raise InputError(
                    f"{path}: patient {pseudonym!r} is in {first[pseudonym]} too; import each "
                    "patient once"
                )
            first[pseudonym] = path
        registry = open_registry(db)
        try:
            records = 0
            with registry.transaction() as session:
                for path, bundle in zip(files, bundles, strict=True):
                    try:
                        records += import_bundle(session, bundle)
                    except InputError as exc:
                        raise InputError(f"{path}: {exc}") from None
        finally:
            registry.dispose()
        console.print(f"Imported {len(bundles)} patient(s) with {records} record(s).")


def export_fhir(
    patient: Annotated[str, typer.Argument(help="The patient's pseudonymised id.")],
    out: Annotated[Path, typer.Argument(help="The FHIR Bundle to write (JSON).")],
    db: DbOption = None,
) -> None:
    """Write one patient's pathway as a FHIR R4 Bundle with mCODE STU 4 profiles
    (docs/fhir_export.md), checked against the FHIR R4 models before it is written.

    \b
    Examples:
      opensirt registry export-fhir SIRT-0042 SIRT-0042.fhir.json
    """
    import json
    from datetime import UTC, datetime

    from opensirt import __version__
    from opensirt.exports.fhir import build_fhir_bundle, validate_r4
    from opensirt.fileio import write_atomically
    from opensirt.registry.bundle import export_bundle
    from opensirt.registry.database import open_registry
    from opensirt.registry.fhir_data import pathway_data

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction() as session:  # the export is recorded in the audit log
                bundle = export_bundle(session, patient, software=__version__)
        finally:
            registry.dispose()
        fhir = build_fhir_bundle(pathway_data(bundle), timestamp=datetime.now(UTC))
        validate_r4(fhir)
        text = json.dumps(fhir, indent=2, ensure_ascii=False) + "\n"

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        write_atomically(out, write)
        err_console.print(
            f"Wrote {escape(patient)} as FHIR ({len(fhir['entry'])} resources) to "
            f"{escape(str(out))}"
        )


def register(registry_app: typer.Typer) -> None:
    """Add ``export``, ``export-fhir`` and ``import`` to ``opensirt registry``.

    Parameters
    ----------
    registry_app : typer.Typer
        The ``opensirt registry`` command group.
    """
    registry_app.command("export")(export)
    registry_app.command("export-fhir")(export_fhir)
    registry_app.command("import")(import_)
