"""``opensirt analytics redose``: recompute the voxel dose of recorded plans on Dask.

Reads the plan versions on this machine (the client), sends each case to a Dask worker
(:mod:`opensirt.analytics.redosimetry_dask`), and stores every outcome as a new row of the
registry's ``redose_results``, in batches of one transaction each; the plan versions are never
changed. Exit codes: 0 every case recomputed, 1 some cases failed (each named, the others
stored) or the registry cannot be opened, 2 bad input.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import (
    EXIT_ERROR,
    DoseMethodOption,
    console,
    emit_json,
    err_console,
)
from opensirt.commands.registry import DbOption, registry_errors
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD

if TYPE_CHECKING:
    from opensirt.analytics.redosimetry import RedoseCase, RedoseSettings
    from opensirt.analytics.redosimetry_dask import CohortRun, Outcome
    from opensirt.registry.database import Registry

_LIST = list[str] | None


def _dose(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    from opensirt.analytics.redosimetry import CaseFailure

    case = outcome.case
    out: dict[str, Any] = {
        "patient": case.pseudonym,
        "plan": case.label,
        "version": case.version,
        "plan_version_id": case.plan_version_id,
        "activity_gbq": case.activity_gbq,
        "attempts": outcome.attempts,
    }
    if isinstance(outcome, CaseFailure):
        return {**out, "status": "failed", "error": outcome.error}
    return {
        **out,
        "status": "done",
        "tumour_dose_gy": outcome.tumour_dose_gy,
        "normal_liver_dose_gy": outcome.normal_liver_dose_gy,
        "lung_dose_gy": outcome.lung_dose_gy,
        "limits_exceeded": [
            f"{lim.name} ({lim.structure})" for lim in outcome.limits if lim.exceeded
        ],
        "structures": outcome.structures,
    }


def _show(
    rows: list[dict[str, Any]], run: CohortRun, run_id: str, settings: RedoseSettings
) -> None:
    table = Table(title=f"Re-dosimetry {settings.label} (run {run_id})")
    for column in ("Patient", "Plan", "Version", "Status", "Tumour Gy", "Normal liver Gy",
                   "Lung Gy", "Limits exceeded"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        done = r["status"] == "done"
        table.add_row(
            escape(r["patient"]),
            escape(r["plan"]),
            str(r["version"]),
            r["status"] if done else "[red]failed[/]",
            _dose(r.get("tumour_dose_gy")),
            _dose(r.get("normal_liver_dose_gy")),
            _dose(r.get("lung_dose_gy")),
            escape(", ".join(r["limits_exceeded"]) or "none") if done else "",
        )
    console.print(table)
    for r in rows:
        if r["status"] == "failed":
            err_console.print(
                f"[bold red]Failed[/] after {r['attempts']} attempt(s): {escape(r['error'])}"
            )
    rate = 60.0 * len(rows) / run.seconds if run.seconds > 0 else 0.0
    console.print(
        f"{run.done} recomputed, {run.failed} failed, on {run.workers} worker(s) in "
        f"{run.seconds:.1f} s ({rate:.1f} cases/min); stored as run {run_id} in redose_results."
    )


def _run(
    registry: Registry,
    cases: list[RedoseCase],
    settings: RedoseSettings,
    *,
    cluster: dict[str, Any],
    retries: int,
    batch: int,
    actor: str,
) -> tuple[CohortRun, list[Outcome], str]:
    """Run the cohort with a progress bar, storing the outcomes in batches."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from opensirt.analytics.redosimetry_dask import dask_client, run_cohort
    from opensirt.analytics.redosimetry_registry import store_outcomes

    run_id = uuid.uuid4().hex
    outcomes: list[Outcome] = []
    waiting: list[Outcome] = []

    def store() -> None:
        with registry.transaction(actor=actor) as session:
            store_outcomes(session, waiting, run_id=run_id, settings=settings, created_by=actor)
        waiting.clear()

    columns = (TextColumn("re-dosimetry"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("redose", total=len(cases))

        def on_outcome(outcome: Outcome) -> None:
            outcomes.append(outcome)
            waiting.append(outcome)
            if len(waiting) >= batch:
                store()
            progress.advance(task)

        with dask_client(**cluster) as client:
            run = run_cohort(client, cases, settings, retries=retries, on_outcome=on_outcome)
        if waiting:
            store()
    return run, outcomes, run_id


def redose(
    db: DbOption = None,
    # plain strings, checked by RedoseSettings: the enums' modules load numpy, which
    # `opensirt --help` must not
    method: Annotated[
        str | None,
        typer.Option(
            help=f"Dose method (default {DEFAULT_DOSE_METHOD.value}), as --dose-method, or the "
            "older names: kernel (with --correction) or ldm."
        ),
    ] = None,
    correction: Annotated[
        str | None,
        typer.Option(
            help="Density correction of the kernel method: none, mass (its default) or range; "
            "alone, it selects the kernel method."
        ),
    ] = None,
    dose_constant: Annotated[
        str,
        typer.Option(
            help="Energy per decay: the device's constant (device), or the decay data (decay-data)."
        ),
    ] = "device",
    lung_max_gy: Annotated[
        float | None, typer.Option(help="Lung limit instead of the case's (Gy).")
    ] = None,
    lung_cumulative_max_gy: Annotated[
        float | None, typer.Option(help="Cumulative lung limit instead of the case's (Gy).")
    ] = None,
    normal_liver_max_gy: Annotated[
        float | None, typer.Option(help="Normal-liver limit instead of the case's (Gy).")
    ] = None,
    patient: Annotated[_LIST, typer.Option("--patient", help="Only this patient (repeat).")] = None,
    state: Annotated[
        _LIST,
        typer.Option("--state", help="Only versions in this state: draft, approved, superseded."),
    ] = None,
    path_map: Annotated[
        _LIST,
        typer.Option(
            "--path-map", help="OLD=NEW: the recorded output folders now lie under NEW (repeat)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler (tcp://host:8786).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes of the local cluster.")] = 2,
    retries: Annotated[int, typer.Option(help="Retries of a case after an unexpected error.")] = 2,
    batch: Annotated[int, typer.Option(min=1, help="Results stored per transaction.")] = 50,
    user: Annotated[
        str | None, typer.Option(help="Who runs it (default: the system user).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    dose_method: DoseMethodOption = None,
) -> None:
    """Recompute the voxel dose of every recorded plan version (with an activity) by another
    method, kernel or set of limits, on a local Dask cluster or an existing one; store each
    result as a new record beside the plan (never overwriting it).

    \b
    Examples:
      opensirt analytics redose --db clinic.sqlite3 --method ldm
      opensirt analytics redose --db clinic.sqlite3 --dose-method kernel-range
      opensirt analytics redose --correction range --normal-liver-max-gy 35 --workers 8
      opensirt analytics redose --db postgresql://opensirt@dbhost/opensirt \\
          --scheduler tcp://scheduler:8786 --path-map /home/plans=/shared/plans
    """
    from opensirt.analytics.redosimetry import RedoseSettings
    from opensirt.analytics.redosimetry_registry import parse_path_map, select_cases
    from opensirt.registry.database import default_actor, open_registry

    with registry_errors():
        settings = RedoseSettings.from_names(
            method, correction, dose_constant, lung_max_gy=lung_max_gy,
            lung_cumulative_max_gy=lung_cumulative_max_gy, normal_liver_max_gy=normal_liver_max_gy,
            dose_method=dose_method,
        )  # fmt: skip
        pairs = parse_path_map(path_map or [])
        actor = (user or "").strip() or default_actor()
        registry = open_registry(db)
        try:
            with registry.transaction(readonly=True) as session:
                cases = select_cases(
                    session, patients=patient or [], states=state or [], path_map=pairs
                )
            if not cases:
                console.print("No recorded plan version with an activity matches; nothing to do.")
                return
            cluster = {"scheduler": scheduler, "n_workers": workers}
            run, outcomes, run_id = _run(
                registry,
                cases,
                settings,
                cluster=cluster,
                retries=retries,
                batch=batch,
                actor=actor,
            )
        finally:
            registry.dispose()
    order = {c.plan_version_id: i for i, c in enumerate(cases)}
    rows = [_outcome_dict(o) for o in sorted(outcomes, key=lambda o: order[o.case.plan_version_id])]
    if as_json:
        emit_json({"run_id": run_id, "settings": settings.to_dict(), "done": run.done,
                   "failed": run.failed, "seconds": run.seconds, "cases": rows})  # fmt: skip
    else:
        _show(rows, run, run_id, settings)
    if run.failed:
        raise typer.Exit(EXIT_ERROR)


def register(analytics_app: typer.Typer) -> None:
    """Add ``redose`` to ``opensirt analytics``.

    Parameters
    ----------
    analytics_app : typer.Typer
        The ``opensirt analytics`` command group.
    """
    analytics_app.command("redose")(redose)
