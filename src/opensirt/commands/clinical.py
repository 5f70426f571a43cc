"""The clinical commands: ``opensirt assess CASE.yaml`` and ``opensirt response TABLE.csv``.

Exit codes: 0 success, 2 bad input (the message names the key or the row and the fix).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.clinical.response import CRITERIA, PatientResponse, ResponseOptions
from opensirt.clinical.response import assess_measurements as assess_table
from opensirt.commands._common import (
    PLAN_OPTION_HELP,
    RECOMPUTE_HELP,
    SAVED_PLAN_HELP,
    DoseMethodOption,
    console,
    emit_json,
    err_console,
    exit_codes,
    print_note,
    progress_display,
)
from opensirt.commands.registry import DbOption, registry_errors

if TYPE_CHECKING:
    from opensirt.clinical.assess import Assessment, PlanFacts
    from opensirt.workflow.pretreatment import PreTreatmentResult

_ASSESS_HELP = (
    """Liver function scores, BCLC stage and SIRT eligibility of a case file.

\b
Child-Pugh, ALBI, MELD/MELD-Na and ECOG from patient.labs and the clinical: section;
BCLC 2022 stage; eligibility (eligible / caution / not eligible) with every rule and its
source, the lung dose taken from the plan of the case, the extrahepatic uptake from
clinical.extrahepatic_maa_uptake or else from the SPECT analysis of a case planned from
its images. A score that lacks inputs is shown as missing, with the keys to add.

\b
Examples:
  opensirt assess case.yaml
  opensirt assess case.yaml --json > assessment.json
  opensirt assess demo-output/case.yaml   (reuses demo-output/plan)
  opensirt assess case.yaml --record --date 2025-02-03   (labs and findings in the registry)

"""
    + SAVED_PLAN_HELP
    + """
\b
Exit codes: 0 assessed, 2 bad case file (the message names the key and the fix).
"""
)

_RESPONSE_HELP = """Tumour response per time point and best overall response.

\b
RECIST 1.1, mRECIST and EASL from a lesion measurement table (CSV, one row per
lesion per date; the first date of a patient is the baseline). Cells are separated by
commas, semicolons or tabs (sniffed from the header); with semicolons or tabs a number
may use a decimal comma (12,5), one decimal mark per table.

\b
Examples:
  opensirt response measurements.csv
  opensirt response measurements.csv --confirm --json > response.json
  opensirt response measurements.csv --record   (measurements and responses in the registry)

\b
Exit codes: 0 assessed, 2 bad table (the message names the row, the column and the fix).
"""

#: Style of each ``RuleStatus`` (by member name).
_STATUS_STYLE = {
    "PASS": "green",
    "CAUTION": "yellow",
    "NOT_ELIGIBLE": "bold red",
    "NOT_CHECKED": "dim",
}


def _score_table(a: Assessment) -> Table:
    table = Table(title="Liver function and staging", title_justify="left")
    for column in ("score", "value", "source or missing inputs"):
        table.add_column(column, overflow="fold")
    rows = [
        ("Child-Pugh", a.child_pugh and a.child_pugh.label(), "child_pugh",
         a.child_pugh and a.child_pugh.source),
        ("ALBI", a.albi and f"{a.albi.score:.2f} (grade {a.albi.grade})", "albi",
         a.albi and a.albi.source),
        ("MELD / MELD-Na", a.meld and f"{a.meld.meld} / {a.meld.meld_na or '-'}", "meld",
         a.meld and a.meld.source),
        ("ECOG", a.ecog is not None and f"{int(a.ecog)}: {a.ecog.description}", "ecog", ""),
        ("BCLC (2022)", a.bclc and f"{a.bclc.stage.value}: {a.bclc.treatment}", "bclc",
         a.bclc and a.bclc.source),
    ]  # fmt: skip
    for label, value, key, source in rows:
        missing = a.missing.get(key)
        note = ("missing: " + ", ".join(missing)) if missing else (source or "")
        table.add_row(label, escape(str(value)) if value else "-", escape(note))
    return table


def _eligibility_table(a: Assessment) -> tuple[Table, list[str]]:
    verdict = a.eligibility.verdict.value
    table = Table(title=f"SIRT eligibility: {verdict}", title_justify="left")
    for column in ("rule", "status", "finding", "ref"):
        table.add_column(column, overflow="fold")
    sources: list[str] = []
    for r in a.eligibility.reasons:
        if r.source not in sources:
            sources.append(r.source)
        style = _STATUS_STYLE[r.status.name]
        ref = f"[{sources.index(r.source) + 1}]"
        table.add_row(
            escape(r.rule), f"[{style}]{r.status.value}[/]", escape(r.message), escape(ref)
        )
    return table, sources


def _print_assessment(path: Path, a: Assessment) -> None:
    console.print(f"[bold]{escape(path.name)}[/]")
    console.print(_score_table(a))
    if a.bclc is not None:
        for reason in a.bclc.reasons:
            console.print(f"  BCLC: {escape(reason)}")
    table, sources = _eligibility_table(a)
    console.print(table)
    for number, source in enumerate(sources, start=1):
        console.print(f"  [{number}] {source}", highlight=False, markup=False)
    for note in a.notes:
        console.print(f"[yellow]Note:[/] {escape(note)}")


def image_plan_facts(pre: PreTreatmentResult) -> PlanFacts:
    """Lung shunt, lung dose, volumes and extrahepatic uptake of a plan from the images.

    Parameters
    ----------
    pre : PreTreatmentResult
        The plan from the case's images.

    Returns
    -------
    PlanFacts
        What the eligibility rules read from a plan.
    """
    from opensirt.clinical.assess import PlanFacts

    m = pre.measures
    return PlanFacts(
        lung_shunt_fraction=pre.lung_shunt_fraction,
        lung_dose_gy=pre.prescribed.lung_gy,
        previous_lung_dose_gy=pre.case.lung.previous_dose_gy,
        liver_volume_ml=m.liver_volume_ml,
        treated_volume_ml=sum(t.volume_ml for t in m.territories),
        tumour_volume_ml=sum(u.volume_ml for t in m.territories for u in t.tumours),
        plan_refused=pre.prescribed.refused,
        extrahepatic_uptake_fractions=tuple(e.counts_fraction for e in m.extrahepatic),
    )


def assess(
    case_file: Annotated[Path, typer.Argument(help="Case file (YAML, opensirt_case: 1).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
    plan_dir: Annotated[Path | None, typer.Option("--plan", help=PLAN_OPTION_HELP)] = None,
    recompute: Annotated[bool, typer.Option("--recompute", help=RECOMPUTE_HELP)] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Also record the case's labs and clinical findings in the registry, dated "
            "--date; the patient (patient.id) must be in it.",
        ),
    ] = False,
    db: DbOption = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="With --record: the date of the labs and findings (default: today)."
        ),
    ] = None,
    dose_method: DoseMethodOption = None,
) -> None:
    """Liver function scores, BCLC stage and SIRT eligibility of a case file."""
    from opensirt.clinical.assess import assess_case
    from opensirt.commands.saved_plan import SavedPlanRef, predict
    from opensirt.planning import load_case
    from opensirt.planning.case_dosimetry import with_dose_method
    from opensirt.workflow.pretreatment import needs_images

    reused: SavedPlanRef | None = None
    with exit_codes():
        case = with_dose_method(load_case(case_file), dose_method)
        facts = None
        if needs_images(case):
            with progress_display(enabled=not as_json) as step:
                prediction = predict(
                    case, case_file.resolve(), plan_dir, reuse=not recompute, progress=step
                )
            print_note(prediction.note, as_json=as_json)
            reused = prediction.reused
            facts = image_plan_facts(prediction.pre)
        result = assess_case(case, facts)
        if record:
            from opensirt.registry.pathway import record_assessment_of_case

            with registry_errors():
                recorded = record_assessment_of_case(db, case, on)
    if as_json:
        saved = None if reused is None else reused.to_dict()
        emit_json({"patient_id": case.patient.id, **result.to_dict(), "saved_plan": saved})
    else:
        _print_assessment(case_file, result)
        if record:
            console.print(recorded, markup=False)


def _response_table(p: PatientResponse) -> Table:
    title = f"Patient {escape(p.patient_id)} (baseline {p.baseline.isoformat()})"
    table = Table(title=title, title_justify="left")
    table.add_column("date", overflow="fold")
    for c in CRITERIA:
        table.add_column(c.label, overflow="fold")
    for i, day in enumerate(p.dates):
        cells = []
        for c in CRITERIA:
            r = p.results[c.name][i]
            change = r.as_dict(c.unit)["change_from_baseline_pct"]
            cells.append(r.overall.value + ("" if change is None else f" ({change:+.1f} %)"))
        table.add_row(day.isoformat(), *cells)
    best = "best (confirmed)" if p.options.confirm else "best"
    table.add_row(f"[bold]{best}[/]", *(f"[bold]{p.best[c.name].value}[/]" for c in CRITERIA))
    return table


def response(
    table: Annotated[Path, typer.Argument(help="Lesion measurement table (CSV).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON list.")] = False,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm", help="Count CR and PR for the best response only when confirmed."
        ),
    ] = False,
    confirmation_days: Annotated[
        int,
        typer.Option(
            "--confirmation-days", min=1, help="Smallest interval of a confirmation (days)."
        ),
    ] = 28,
    sd_min_days: Annotated[
        int,
        typer.Option("--sd-min-days", min=0, help="Smallest interval from baseline for SD (days)."),
    ] = 42,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Also record every measurement and the response per date and criterion in "
            "the registry; the patients must be in it.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Tumour response per time point and best overall response (RECIST 1.1, mRECIST, EASL)."""
    options = ResponseOptions(confirm, confirmation_days, sd_min_days)
    with exit_codes():
        patients, warnings = assess_table(table, options)
        if record:
            from opensirt.registry.pathway import record_response_table

            with registry_errors():
                recorded = record_response_table(db, table, patients)
                err_console.print(recorded, markup=False)
    for warning in warnings:
        err_console.print(f"[yellow]Warning:[/] {escape(warning)}")
    if as_json:
        emit_json([p.as_dict() for p in patients])
        return
    for p in patients:
        console.print(_response_table(p))
        for warning in p.warnings:
            console.print(f"[yellow]Warning:[/] {escape(warning)}")


def register(app: typer.Typer) -> None:
    """Add the ``assess`` and ``response`` commands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The ``opensirt`` command-line application.
    """
    app.command("assess", help=_ASSESS_HELP)(assess)
    app.command("response", help=_RESPONSE_HELP)(response)
