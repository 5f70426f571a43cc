"""The pathway commands: ``opensirt demo`` (the main job) and ``opensirt verify``.

Both write their files through a staging folder: either every file lands in the output
folder, or none does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import (
    PLAN_OPTION_HELP,
    RECOMPUTE_HELP,
    SAVED_PLAN_HELP,
    DicomObjectsOption,
    DoseMethodOption,
    console,
    emit_json,
    err_console,
    exit_codes,
    print_note,
    print_rendered,
    progress_display,
    render,
)
from opensirt.commands.pacs import NodesOption
from opensirt.commands.registry import DbOption, registry_errors
from opensirt.commands.registry_record import RecordOption, UserOption
from opensirt.workflow.defaults import DEFAULT_TOLERANCE_FRACTION, PostTreatmentScenario
from opensirt.workflow.staging import staged_output

if TYPE_CHECKING:
    from opensirt.workflow.posttreatment import VerificationResult
    from opensirt.workflow.pretreatment import PreTreatmentResult

_DEMO_HELP = (
    "Run the whole pathway on the synthetic patient.\n\n"
    "It writes the patient's DICOM (CT, MAA SPECT, Y-90 PET, RTSTRUCT, SEG) and a case file, "
    "plans it from the images, verifies the simulated delivery, and writes the reports, "
    "RTDOSE, NIfTI, DVH tables and JSON, and records the pathway (MDT decision, signed plan, "
    "session, verification) in a registry (registry.sqlite3 in the folder, or --db).\n\n"
    "\b\nExamples:\n"
    "  opensirt demo demo-output\n"
    "  opensirt demo results/sirt --seed 7 --overwrite\n"
    "  opensirt demo demo-spect --posttreatment y90-bremsstrahlung-spect\n"
    "  opensirt demo demo-holmium --posttreatment ho166-spect   (QuiremSpheres)\n"
    "  opensirt demo demo-output --db ./clinic.sqlite3   (record the demo patient there)\n"
    "  opensirt demo clinical-size --resolution clinical\n"
)

_VERIFY_HELP = (
    "Verify a treatment: delivered dose against the predicted dose.\n\n"
    "The delivered dose comes from the post-treatment image (Y-90 PET, bremsstrahlung or "
    "Ho-166 SPECT) and the treatment record of the case file, the prediction from its work-up "
    "images. The case file needs images.post_treatment and a treatment: section (injection "
    "time, vial assay, residual assay).\n\n"
    "\b\nExamples:\n"
    "  opensirt verify demo-output/case.yaml --out demo-output/check\n"
    "  opensirt verify case.yaml --out results --tolerance 0.15 --json\n"
    "  opensirt verify case.yaml --out results --plan my-plan\n"
    "  opensirt verify case.yaml --out results --dose-method kernel-range\n"
    "  opensirt verify case.yaml --out check --record --plan-label 'right lobe'\n"
    "  opensirt verify case.yaml --out check --record --user jdoe   (recorded by jdoe)\n"
    "\n" + SAVED_PLAN_HELP
)


def _summary(pre: PreTreatmentResult, verification: VerificationResult | None) -> Table:
    from opensirt.workflow.definitions import (
        DELIVERED_LABEL,
        as_planned_label,
        lung_dose_definitions,
        scaled_label,
    )
    from opensirt.workflow.voxel import NORMAL_LIVER

    plan = pre.prescribed
    caption = lung_dose_definitions(pre.lung_mass_kg, voxel=True, verified=verification is not None)
    if verification is not None:
        caption += (
            " Differences: delivered against the prediction scaled to the delivered activity."
        )
    table = Table(title="Result", title_justify="left", caption=caption, caption_justify="left")
    table.add_column("quantity", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    table.add_row(
        "activity to inject (voxel plan)",
        "refused" if plan.activity_gbq is None else f"{plan.activity_gbq:.3f} GBq",
    )
    table.add_row("binding limit", escape(plan.binding_limit or "none"))
    table.add_row(
        "lung shunt fraction",
        f"{pre.lung_shunt_fraction:.2%} ({escape(pre.lung_shunt_source)})",
    )
    planned = as_planned_label(plan.activity_gbq)
    if plan.lung_gy is not None:
        table.add_row(f"partition lung dose, {planned}", f"{plan.lung_gy:.1f} Gy")
    lungs = pre.images.roles.lungs
    key = {*pre.images.roles.tumours, NORMAL_LIVER, lungs}

    method = pre.dose_method.method
    table.add_row("voxel dose method", f"{method.value} ({method.abbreviation})")

    def what(name: str) -> str:
        if name == lungs:
            return f"voxel mean lung dose ({method.value})"
        return f"mean dose {escape(name)}"

    for name, dvh in pre.dvhs.items():
        if name in key:
            table.add_row(f"{what(name)}, {planned}", f"{dvh.mean_gy:.1f} Gy")
    if verification is None:
        return table
    delivered_gbq = verification.delivered.delivered_gbq
    scaled = scaled_label(delivered_gbq)
    table.add_row("delivered activity", f"{delivered_gbq:.3f} GBq")
    table.add_row(f"partition lung dose, {scaled}", f"{verification.predicted_lung_dose_gy:.1f} Gy")
    table.add_row("verified lung dose", f"{verification.lung_dose_gy:.1f} Gy")
    for c in (c for c in verification.comparisons if c.name in key):
        flag = " [bold red](differs)[/]" if c.flagged else ""
        table.add_row(f"{what(c.name)}, {scaled}", f"{c.predicted_mean_gy:.1f} Gy")
        table.add_row(
            f"{what(c.name)}, {DELIVERED_LABEL}",
            f"{c.delivered_mean_gy:.1f} Gy ({c.mean_difference_fraction:+.0%} vs scaled){flag}",
        )
    return table


def demo(
    outdir: Annotated[Path, typer.Argument(help="Folder to write everything into.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic patient.")] = 1,
    resolution: Annotated[
        str,
        typer.Option(
            help="Matrix sizes of the synthetic patient: 'small' (quick) or 'clinical' "
            "(CT 512 x 512 x 250 of 0.8 x 0.8 x 2 mm, SPECT 128^3, PET 200 x 200 x 110)."
        ),
    ] = "small",
    overwrite: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    posttreatment: Annotated[
        PostTreatmentScenario,
        typer.Option(
            help="Post-treatment image to verify with: the Y-90 PET, a Y-90 bremsstrahlung "
            "SPECT, or a Ho-166 SPECT of a QuiremSpheres treatment."
        ),
    ] = PostTreatmentScenario.Y90_PET,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Record the demo patient's pathway in this registry (a SQLite file path or a "
            "database URL). Default: registry.sqlite3 in the output folder ($OPENSIRT_DB is "
            "not used, so the demo never writes into your registry unless asked).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the whole pathway on the synthetic patient."""
    from opensirt.clinical.assess import assess_case
    from opensirt.commands.clinical import image_plan_facts
    from opensirt.commands.outputs import write_plan_outputs, write_verification_outputs
    from opensirt.demo.dicom import write_phantom_dicom
    from opensirt.demo.phantom import make_phantom
    from opensirt.demo.record import record_demo_pathway
    from opensirt.demo.scenarios import write_scenario
    from opensirt.planning import load_case
    from opensirt.workflow.posttreatment import verify_case
    from opensirt.workflow.pretreatment import plan_from_images

    created = datetime.now(UTC)
    with (
        exit_codes(),
        staged_output(outdir, overwrite=overwrite) as stage,
        progress_display() as step,
    ):
        step("synthetic patient: CT, MAA SPECT, Y-90 PET, structures")
        patient = make_phantom(seed=seed, resolution=resolution)
        step("writing its DICOM (CT, NM, PT, RTSTRUCT, SEG)")
        paths = write_phantom_dicom(patient, stage / "dicom")
        case_path, _scan = write_scenario(patient, paths, posttreatment, stage / "case.yaml")
        del patient  # its arrays (GBs at clinical resolution) are not needed from here on
        case = load_case(case_path)
        pre = plan_from_images(case, step)
        step("writing the plan report, JSON, RTDOSE")
        write_plan_outputs(
            stage / "plan", case, case_path, pre.prescribed, created=created, pre=pre
        )
        result = verify_case(case, pre=pre, progress=step)
        step("writing the verification report, JSON, RTDOSE")
        write_verification_outputs(stage / "verification", result, case_path, created=created)
        step("recording the pathway in the registry")
        assessment = assess_case(case, image_plan_facts(pre)).to_dict()
        with registry_errors():
            recorded = record_demo_pathway(db, stage, outdir, case_path, result, assessment)
        shown = render(lambda: console.print(_summary(pre, result)))
    print_rendered(shown)
    console.print(recorded, markup=False)
    console.print(f"\nWritten to [bold]{escape(str(outdir))}[/]:", highlight=False)
    for path in sorted(p for p in outdir.rglob("*") if p.is_file() and "dicom" not in p.parts):
        console.print(f"  {path}", markup=False)
    console.print(f"  {outdir / 'dicom'}/ (the synthetic patient's DICOM)", markup=False)


def verify(
    case_file: Annotated[
        Path, typer.Argument(help="Case file with images.post_treatment and treatment:.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the report, JSON, RTDOSE.")],
    tolerance: Annotated[
        float, typer.Option(help="Relative difference of mean dose or D70 that is flagged.")
    ] = (DEFAULT_TOLERANCE_FRACTION),
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    plan_dir: Annotated[Path | None, typer.Option("--plan", help=PLAN_OPTION_HELP)] = None,
    recompute: Annotated[bool, typer.Option("--recompute", help=RECOMPUTE_HELP)] = False,
    record: RecordOption = False,
    db: DbOption = None,
    plan_label: Annotated[
        str | None,
        typer.Option(
            "--plan-label",
            help="With --record: the plan whose approved version this treatment delivered.",
        ),
    ] = None,
    user: UserOption = None,
    dicom_objects: DicomObjectsOption = True,
    nodes: NodesOption = None,
    dose_method: DoseMethodOption = None,
) -> None:
    """Verify a treatment: delivered dose against the predicted dose."""
    from opensirt.commands.outputs import write_verification_outputs
    from opensirt.commands.saved_plan import predict
    from opensirt.pacs.case_images import load_case_with_pacs
    from opensirt.planning.case_dosimetry import with_dose_method
    from opensirt.registry.pathway import check_patient, record_verification_result
    from opensirt.workflow.posttreatment import verify_case

    created = datetime.now(UTC)
    with exit_codes(), staged_output(out, overwrite=overwrite) as stage:
        with progress_display(enabled=not as_json) as step:  # PACS series fetched first
            case = with_dose_method(load_case_with_pacs(case_file, nodes, step), dose_method)
        if record:  # before the computation: a registry without the patient fails fast
            with registry_errors():
                check_patient(db, case.patient.id)
        path = case_file.resolve()
        with progress_display(enabled=not as_json) as step:
            prediction = predict(case, path, plan_dir, reuse=not recompute, progress=step)
            pre = prediction.pre
            result = verify_case(case, pre=pre, progress=step, tolerance_fraction=tolerance)
            step("writing the verification report, JSON, RTDOSE")
            write_verification_outputs(
                stage,
                result,
                path,
                created=created,
                reused=prediction.reused,
                dicom_objects=dicom_objects,
            )
        shown = "" if as_json else render(lambda: _print_verification(pre, result))
        recorded = ""
        if record:  # last in the stage: a recording that fails leaves no files
            with registry_errors():
                recorded = (
                    record_verification_result(db, result, plan_label=plan_label, user=user) + "\n"
                )
    print_note(prediction.note, as_json=as_json)
    if as_json:
        reused = prediction.reused
        emit_json({**result.to_dict(), "saved_plan": None if reused is None else reused.to_dict()})
        if recorded:
            err_console.print(recorded, markup=False, end="")
        return
    shown += recorded
    print_rendered(shown)
    console.print(f"Written to [bold]{escape(str(out))}[/]")


def _print_verification(pre: PreTreatmentResult, result: VerificationResult) -> None:
    console.print(_summary(pre, result))
    for warning in result.warnings:
        console.print(f"[bold yellow]Warning:[/] {escape(warning)}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``verify`` to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The ``opensirt`` command-line application.
    """
    app.command("demo", help=_DEMO_HELP)(demo)
    app.command("verify", help=_VERIFY_HELP)(verify)
