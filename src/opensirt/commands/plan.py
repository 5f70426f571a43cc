"""The ``opensirt plan CASE.yaml`` command: activity and doses of a case, or its refusal.

Exit codes: 0 a plan, 3 a plan refused for safety (the JSON is still printed with ``refused``
set), 2 a bad case file (message on stderr naming the key and the fix).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import (
    EXIT_REFUSED,
    DicomObjectsOption,
    DoseMethodOption,
    console,
    emit_json,
    err_console,
    exit_codes,
    print_rendered,
    progress_display,
    render,
)
from opensirt.commands.pacs import NodesOption
from opensirt.commands.registry import DbOption, registry_errors
from opensirt.commands.registry_record import RecordOption, UserOption
from opensirt.physics.devices import NormalLiverScope
from opensirt.physics.units import gbq_to_mci
from opensirt.workflow.definitions import (
    VOXEL_MEAN_LUNG_DOSE,
    as_planned_label,
    lung_dose_definitions,
)
from opensirt.workflow.staging import staged_output

if TYPE_CHECKING:
    from opensirt.planning import PlanResult
    from opensirt.planning.result import LimitCheck, ScheduleResult
    from opensirt.workflow.pretreatment import PreTreatmentResult

_HELP = """Plan the activity of a case file and show the doses it implies.

\b
Examples:
  opensirt plan examples/partition_resin.yaml
  opensirt plan examples/mird_glass.yaml --json > plan.json
  opensirt plan demo-output/case.yaml --out my-plan   (planned from the case's images)
  opensirt plan case.yaml --out plan-v1 --record      (a draft plan in the registry)
  opensirt plan case.yaml --nodes pacs.yaml           (images: name series on a PACS)
  opensirt plan case.yaml --dose-method kernel-range  (another voxel dose method)

\b
Exit codes: 0 plan, 3 refused for safety (no activity keeps every limit),
2 bad case file (the message names the key and the fix), 4 with --record: a
conflict with another user's change of the same draft.
"""


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _check_cells(check: LimitCheck | None) -> tuple[str, str]:
    """The limit and status cells of a dose row: "binds" only for the limit that binds."""
    if check is None:
        return "", ""
    status = "exceeded" if check.exceeded else ("binds" if check.binding else "ok")
    status += "" if check.enforced else " (not enforced)"
    return _fmt(check.limit_gy), status


def _dose_table(result: PlanResult) -> Table:
    caption = lung_dose_definitions(result.constants.lung_mass_kg, voxel=False, verified=False)
    table = Table(
        title="Mean absorbed doses", title_justify="left", caption=caption, caption_justify="left"
    )
    for column in ("compartment", "dose (Gy)", "limit (Gy)", "status"):
        table.add_column(
            column,
            justify="left" if column in ("compartment", "status") else "right",
            overflow="fold",
        )
    checks = {c.name.value: c for c in result.limits}
    rows = [
        ("lung, this session (partition)", result.lung_gy, "lung_max_gy"),
        ("lung, cumulative (partition)", result.lung_cumulative_gy, "lung_cumulative_max_gy"),
        ("normal liver (treated)", result.normal_liver_gy, None),
        ("normal liver (whole)", result.whole_normal_liver_gy, None),
        ("perfused volume", result.perfused_gy, None),
        ("whole liver (Ho-166 convention)", result.whole_liver_gy, None),
    ]
    scope_row = (
        "normal liver (whole)"
        if result.constants.normal_liver_limit_scope is NormalLiverScope.WHOLE
        else "normal liver (treated)"
    )
    per_territory = result.territory_normal_liver_checks()
    if per_territory:  # the limit holds in each territory: one row each, the plan's row plain
        scope_row = ""
    for label, dose, name in rows:
        check = checks.get(name or ("normal_liver_max_gy" if label == scope_row else ""))
        if dose is None and check is None:
            continue
        table.add_row(label, _fmt(dose), *_check_cells(check))
        if label == "normal liver (treated)":
            for territory, territory_check in per_territory:
                table.add_row(
                    f"  normal liver, {escape(territory)}",
                    _fmt(territory_check.dose_gy),
                    *_check_cells(territory_check),
                )
    for name, dose in result.tumours_gy.items():
        table.add_row(f"tumour {escape(name)}", _fmt(dose), "", "")
    return table


def _territory_table(result: PlanResult) -> Table:
    table = Table(title="Territories", title_justify="left")
    for column in ("territory", "activity (GBq)", "perfused (Gy)", "normal liver (Gy)", "limit"):
        table.add_column(column, overflow="fold")
    for t in result.territories:
        table.add_row(
            escape(t.name),
            _fmt(t.activity_gbq, 3),
            _fmt(t.perfused_gy),
            _fmt(t.normal_liver_gy),
            t.binding_limit or "",
        )
    return table


def _print_plan(path: Path, result: PlanResult) -> None:
    console.print(
        f"[bold]{escape(path.name)}[/]: {result.device.value}, method {result.method.value}"
    )
    console.print(
        f"Lung shunt fraction: {result.lung_shunt_fraction:.2%} "
        f"({escape(result.constants.lung_shunt_fraction_source)})"
    )
    if result.refused is not None:
        console.print(f"[bold red]Refused:[/] {escape(result.refused)}")
        return
    assert result.activity_gbq is not None
    delivered = result.activity_gbq * (1.0 - result.residual_fraction)
    console.print(
        f"[bold]Activity to inject: {result.activity_gbq:.3f} GBq[/] "
        f"({gbq_to_mci(result.activity_gbq):.1f} mCi); expected delivered {delivered:.3f} GBq "
        f"(residual {result.residual_fraction:.1%})"
    )
    if result.target is not None:
        t = result.target
        state = "reached" if t.reached else "[bold red]NOT reached[/]"
        console.print(
            f"Target {escape(t.name)} {t.value_gy:g} Gy: {state} ({_fmt(t.achieved_gy)} Gy)"
        )
    console.print(f"Binding limit: {result.binding_limit or 'none'}")
    console.print(_dose_table(result))
    if len(result.territories) > 1:
        console.print(_territory_table(result))
    if result.schedule is not None:
        console.print(f"Schedule: treatment {result.schedule.treatment.isoformat()}; ")
        console.print(f"  {escape(result.schedule.note)}")
        _print_vial_comparison(result.schedule)
    for warning in result.warnings:
        console.print(f"[bold yellow]Warning:[/] {escape(warning)}")
    c = result.constants
    console.print(
        f"Constants: k = {c.dose_constant_gy_kg_per_gbq} Gy kg/GBq "
        f"({c.dose_constant_source}); density {c.density_g_per_ml} g/mL; "
        f"T1/2 {c.half_life_h} h; lung mass {c.lung_mass_kg:.3g} kg"
    )


def _print_vial_comparison(schedule: ScheduleResult) -> None:
    """The vial's activity at the treatment time beside the planned activity."""
    diff = schedule.vial_difference_percent
    if diff is None or schedule.tolerance_fraction is None:
        return
    console.print(
        f"  Vial at treatment {schedule.vial_activity_at_treatment_gbq:.3f} GBq vs planned "
        f"{schedule.planned_activity_gbq:.3f} GBq: {diff:+.1f} % "
        f"(tolerance ±{100.0 * schedule.tolerance_fraction:g} %, "
        f"{'within' if schedule.within_tolerance else 'OUTSIDE'})"
    )


def plan(
    case_file: Annotated[Path, typer.Argument(help="Case file (YAML, opensirt_case: 1).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the JSON plan object.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write plan.pdf, plan.json (and dose files) here."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Write into a non-empty --out folder.")] = False,
    record: RecordOption = False,
    db: DbOption = None,
    plan_label: Annotated[
        str | None,
        typer.Option(
            "--plan-label", help="With --record: the plan's name (default: the territories)."
        ),
    ] = None,
    user: UserOption = None,
    dicom_objects: DicomObjectsOption = True,
    nodes: NodesOption = None,
    dose_method: DoseMethodOption = None,
) -> None:
    """Plan the activity of a case file and show the doses it implies."""
    from opensirt.commands.outputs import write_plan_outputs
    from opensirt.pacs.case_images import load_case_with_pacs
    from opensirt.planning import plan_case
    from opensirt.planning.case_dosimetry import with_dose_method
    from opensirt.workflow.pretreatment import plan_from_images

    pre = None
    with exit_codes():
        with progress_display(enabled=not as_json) as step:  # PACS series fetched first
            case = with_dose_method(load_case_with_pacs(case_file, nodes, step), dose_method)
        if record:  # before the computation: a registry without the patient fails fast
            from opensirt.registry.pathway import check_patient

            with registry_errors():
                check_patient(db, case.patient.id)
        if case.images is not None:  # every method: volumes, T/N, lung shunt from the images
            with progress_display(enabled=not as_json) as step:
                pre = plan_from_images(case, step)
            result = pre.prescribed
        else:
            result = plan_case(case)
        shown = "" if as_json else render(lambda: _print_all(case_file, result, pre))

        def record_it() -> str:
            from opensirt.registry.pathway import record_plan_result

            with registry_errors():
                return record_plan_result(
                    db, case_file, case, result, pre=pre, out=out, label=plan_label, user=user
                )

        recorded = ""
        if out is not None:
            with staged_output(out, overwrite=overwrite) as stage:
                write_plan_outputs(
                    stage,
                    case,
                    case_file.resolve(),
                    result,
                    created=datetime.now(UTC),
                    pre=pre,
                    dicom_objects=dicom_objects,
                )
                if record:  # last in the stage: a recording that fails leaves no files
                    recorded = record_it()
        elif record:
            recorded = record_it()
    if recorded:  # beside the JSON on stdout, the confirmation goes to stderr
        if as_json:
            err_console.print(recorded, markup=False)
        else:
            shown += recorded + "\n"
    if as_json:
        emit_json(pre.to_dict() if pre is not None else result.to_dict())
    else:
        print_rendered(shown)
        if out is not None:
            console.print(f"Written to [bold]{escape(str(out))}[/]")
    if result.refused is not None:
        raise typer.Exit(EXIT_REFUSED)


def _print_all(path: Path, result: PlanResult, pre: PreTreatmentResult | None) -> None:
    _print_plan(path, result)
    if pre is not None:
        _print_images(pre)


def _print_images(pre: PreTreatmentResult) -> None:
    caption = (
        f"Voxel doses {as_planned_label(pre.prescribed.activity_gbq)}; the row of "
        f"{pre.images.roles.lungs} is the {VOXEL_MEAN_LUNG_DOSE}. {pre.dose_method.label}"
    )
    table = Table(
        title="From the images", title_justify="left", caption=caption, caption_justify="left"
    )
    sigma = pre.dose_method.uncertainty_percent  # Monte Carlo only
    columns = ("structure", "volume (mL)", "T/N", "mean (Gy)", "D70 (Gy)")
    for column in (*columns, *(["mean 1 sigma (%)"] if sigma else [])):
        table.add_column(
            column, justify="left" if column == "structure" else "right", overflow="fold"
        )
    tn = {u.name: u.tn_ratio for t in pre.measures.territories for u in t.tumours}
    for name, dvh in pre.dvhs.items():
        ratio = tn.get(name)
        table.add_row(
            escape(name),
            f"{dvh.volume_ml:.1f}",
            "" if ratio is None else f"{ratio:.2f}",
            _fmt(dvh.mean_gy),
            _fmt(dvh.d_percent_gy(70.0)),
            *([_fmt(sigma.get(name), 2)] if sigma else []),
        )
    console.print(table)
    others = ", ".join(
        f"{name} {p.activity_gbq:.3f} GBq" if p.activity_gbq is not None else f"{name} refused"
        for name, p in pre.plans.items()
    )
    console.print(f"Activity by method: {escape(others)}")
    for warning in pre.warnings:
        console.print(f"[bold yellow]Warning:[/] {escape(warning)}")


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The ``opensirt`` command-line application.
    """
    app.command("plan", help=_HELP)(plan)
