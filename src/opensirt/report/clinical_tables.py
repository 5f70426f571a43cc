"""Tables and figures shared by the plan and verification reports.

Each function turns a result of :mod:`opensirt.planning` or :mod:`opensirt.workflow` into
report blocks; the numbers are formatted, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.imaging import Volume
from opensirt.physics.units import gbq_to_mci
from opensirt.planning import PlanResult
from opensirt.report.document import Cell, Highlight, ReportFigure, Table, format_value
from opensirt.report.figures import DoseMarker, DvhCurve, dvh_figure
from opensirt.report.slices import slice_overlay_figure
from opensirt.workflow.dose_record import DoseMethodRecord
from opensirt.workflow.inputs import StructureRoles
from opensirt.workflow.voxel import NORMAL_LIVER

#: DVH metrics shown in tables (percent of the volume receiving at least the dose).
D_PERCENTS = (98.0, 95.0, 90.0, 70.0, 50.0, 2.0)


def make_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    caption: str = "",
    highlight_rows: Mapping[int, Highlight] | None = None,
) -> Table:
    """A :class:`Table` from rows of numbers and text (numbers by :func:`format_value`).

    Parameters
    ----------
    columns : sequence of str
        Column headings, with their units (e.g. "Dose (Gy)").
    rows : iterable of sequences of Cell
        One sequence per row, as long as ``columns``: text as shown, numbers formatted with
        three significant digits, None as a dash.
    caption : str
        Shown above the table (empty: none).
    highlight_rows : mapping int -> Highlight, optional
        Rows (0-based) that stand out, and why.

    Returns
    -------
    Table
        The table of formatted cells.
    """
    return Table(
        tuple(columns),
        tuple(tuple(format_value(cell) for cell in row) for row in rows),
        caption=caption,
        highlight_rows=dict(highlight_rows or {}),
    )


_LIMIT_LABELS = {
    "lung_max_gy": "Lung, this session (partition lung dose)",
    "lung_cumulative_max_gy": "Lung, cumulative (partition lung dose)",
    "normal_liver_max_gy": "Normal liver",
}


def key_structures(roles: StructureRoles) -> tuple[str, ...]:
    """The structures shown in figures: tumours, the normal liver and the lungs.

    Tables show every structure; figures only these, to stay readable.

    Parameters
    ----------
    roles : StructureRoles
        Which structures are the tumours and the lungs.

    Returns
    -------
    tuple of str
        Tumour names, :data:`~opensirt.workflow.voxel.NORMAL_LIVER`, then the lungs' name.
    """
    return (*roles.tumours, NORMAL_LIVER, *([roles.lungs] if roles.lungs else []))


def activity_text(activity_gbq: float | None) -> str:
    """An activity in GBq and mCi, e.g. ``"1.944 GBq (52.6 mCi)"``.

    Parameters
    ----------
    activity_gbq : float or None
        Activity (GBq); None when there is none (a refused plan).

    Returns
    -------
    str
        The text, or an em dash for None.
    """
    if activity_gbq is None:
        return "—"
    return f"{activity_gbq:.3f} GBq ({gbq_to_mci(activity_gbq):.1f} mCi)"


def limits_table(plan: PlanResult) -> Table:
    """Each limit: dose, limit, whether enforced, binding or exceeded, and its source.

    A normal-liver limit held in each territory is one row per territory, marked binding
    only where it binds.

    Parameters
    ----------
    plan : PlanResult
        The plan and the limits it was checked against.

    Returns
    -------
    Table
        Mean doses against limits (Gy), binding rows amber, exceeded rows red.
    """
    rows: list[tuple[Cell, ...]] = []
    highlights: dict[int, Highlight] = {}
    per_territory = plan.territory_normal_liver_checks()
    shown = [
        (_LIMIT_LABELS.get(check.name, check.name), check)
        for check in plan.limits
        if not (per_territory and check.name == "normal_liver_max_gy")
    ]  # a limit held in each territory: one row each, binding only where it binds
    shown += [(f"Normal liver, {name}", check) for name, check in per_territory]
    for i, (label, check) in enumerate(shown):
        status = "binds" if check.binding else ("EXCEEDED" if check.exceeded else "ok")
        if check.limit_gy is None:
            status = "no limit"
        rows.append(
            (
                label,
                check.dose_gy,
                check.limit_gy,
                status if check.enforced else f"{status} (reported only)",
                check.source or "",
            )
        )
        if check.binding:
            highlights[i] = Highlight.BINDING
        elif check.exceeded:
            highlights[i] = Highlight.FAILED
    return make_table(
        ("Limit", "Dose (Gy)", "Limit (Gy)", "Status", "Source"),
        tuple(rows),
        caption="Mean absorbed doses against the limits they were checked against",
        highlight_rows=highlights,
    )


def compartment_table(plan: PlanResult) -> Table:
    """Mean dose per compartment of a plan.

    Parameters
    ----------
    plan : PlanResult
        The plan.

    Returns
    -------
    Table
        Lung (partition lung dose, this session and cumulative), normal liver, perfused
        volume, whole liver and each tumour, mean absorbed dose (Gy).
    """
    rows: list[tuple[str, float | None]] = [
        ("Lung, this session (partition lung dose)", plan.lung_gy),
        ("Lung, cumulative (partition lung dose)", plan.lung_cumulative_gy),
        ("Normal liver (treated territories)", plan.normal_liver_gy),
        ("Normal liver (whole liver)", plan.whole_normal_liver_gy),
        ("Perfused volume", plan.perfused_gy),
    ]
    if plan.whole_liver_gy is not None:
        rows.append(("Whole liver", plan.whole_liver_gy))
    rows += [(f"Tumour {name}", dose) for name, dose in plan.tumours_gy.items()]
    return make_table(
        ("Compartment", "Mean dose (Gy)"),
        tuple(rows),
        caption=f"Mean absorbed doses, {plan.method.value} method",
    )


def territory_table(plan: PlanResult) -> Table:
    """Activity and doses per territory.

    Parameters
    ----------
    plan : PlanResult
        The plan with its perfused territories.

    Returns
    -------
    Table
        Activity to inject (GBq), perfused and normal-liver mean dose (Gy) and the binding
        limit of each territory.
    """
    rows = [
        (t.name, t.activity_gbq, t.perfused_gy, t.normal_liver_gy, t.binding_limit or "")
        for t in plan.territories
    ]
    return make_table(
        ("Territory", "Activity (GBq)", "Perfused (Gy)", "Normal liver (Gy)", "Binding limit"),
        tuple(rows),
        caption="Activity to inject and mean doses per perfused territory",
    )


def methods_table(plans: Mapping[str, PlanResult], selected: str) -> Table:
    """Every planning method side by side.

    Parameters
    ----------
    plans : mapping str -> PlanResult
        The plan of each method that applies to the device, by method name.
    selected : str
        The prescribed method's name (its row is highlighted).

    Returns
    -------
    Table
        Activity (GBq), normal-liver, partition lung and tumour mean doses (Gy) and the
        binding limit of each method.
    """
    rows: list[tuple[Cell, ...]] = []
    highlights: dict[int, Highlight] = {}
    for i, (name, plan) in enumerate(plans.items()):
        tumours = ", ".join(f"{t} {d:.0f}" for t, d in plan.tumours_gy.items()) or "—"
        rows.append(
            (
                name + (" (prescribed)" if name == selected else ""),
                "refused" if plan.refused else plan.activity_gbq,
                plan.normal_liver_gy,
                plan.lung_gy,
                tumours,
                plan.binding_limit or ("refused" if plan.refused else "none"),
            )
        )
        if name == selected:
            highlights[i] = Highlight.BINDING
    return make_table(
        (
            "Method",
            "Activity (GBq)",
            "Normal liver (Gy)",
            "Partition lung dose (Gy)",
            "Tumours (Gy)",
            "Binding limit",
        ),
        tuple(rows),
        caption="Activity and mean doses by every method that applies to the device",
        highlight_rows=highlights,
    )


def dvh_metrics_table(dvhs: Mapping[str, DoseVolumeHistogram], caption: str) -> Table:
    """Volume, mean, max and D-percent values of each structure.

    Parameters
    ----------
    dvhs : mapping str -> DoseVolumeHistogram
        Each structure's dose-volume histogram, in reading order.
    caption : str
        Shown above the table.

    Returns
    -------
    Table
        Volume (mL), mean, D98 ... D2 and max dose (Gy) per structure; Dx is the dose
        received by at least x % of the volume.
    """
    columns = (
        "Structure",
        "Volume (mL)",
        "Mean (Gy)",
        *(f"D{p:g} (Gy)" for p in D_PERCENTS),
        "Max (Gy)",
    )
    rows: list[tuple[Cell, ...]] = [
        (name, h.volume_ml, h.mean_gy, *(h.d_percent_gy(p) for p in D_PERCENTS), h.max_gy)
        for name, h in dvhs.items()
    ]
    return make_table(columns, rows, caption=caption)


def formulas_block(plan: PlanResult) -> Table:
    """The formulas and constants a plan used.

    Parameters
    ----------
    plan : PlanResult
        The plan.

    Returns
    -------
    Table
        One row per formula, then one per named constant with its value as recorded.
    """
    rows = [("formula", f) for f in plan.formulas]
    rows += list(plan.constants.labelled())
    return make_table(("Item", "Value"), rows, caption="Formulas and constants used")


def slice_figure(
    ct: Volume, dose: Volume, structures: Mapping[str, Volume], centre_on: str, caption: str
) -> ReportFigure:
    """Axial and coronal CT slices with the dose wash, through the centre of a structure.

    Parameters
    ----------
    ct : Volume
        The CT (HU).
    dose : Volume
        Absorbed dose (Gy) in the CT's frame, on any grid.
    structures : mapping str -> Volume
        Masks to outline.
    centre_on : str
        The structure (a key of ``structures``) whose centroid the slices cross.
    caption : str
        The figure's caption.

    Returns
    -------
    ReportFigure
        The figure, drawn when the report is rendered.
    """
    return ReportFigure(
        lambda: slice_overlay_figure(
            ct, dose=dose, structures=structures, centre_on=centre_on, planes=("axial", "coronal")
        ),
        caption,
    )


def _curve(h: DoseVolumeHistogram) -> DvhCurve:
    """A DVH as the figure wants it: doses increasing from 0, volume fraction decreasing."""
    doses = np.concatenate(([0.0], np.maximum(h.doses_gy[::-1], 0.0)))
    fractions = np.concatenate(([1.0], h.cumulative_fraction[::-1]))
    return DvhCurve(doses, np.minimum(fractions, 1.0))


def dvh_plot(
    dvhs: Mapping[str, DoseVolumeHistogram],
    *,
    compare: Mapping[str, DoseVolumeHistogram] | None = None,
    markers: Sequence[DoseMarker] = (),
    caption: str,
) -> ReportFigure:
    """Cumulative DVHs (and a dashed second set, when given).

    Parameters
    ----------
    dvhs : mapping str -> DoseVolumeHistogram
        Solid curves, one per structure.
    compare : mapping str -> DoseVolumeHistogram, optional
        Dashed curves in the same colours (e.g. delivered against predicted).
    markers : sequence of DoseMarker
        Limits and targets to mark.
    caption : str
        The figure's caption.

    Returns
    -------
    ReportFigure
        The figure, drawn when the report is rendered.
    """
    curves = {n: _curve(h) for n, h in dvhs.items()}
    other = None if compare is None else {n: _curve(h) for n, h in compare.items()}
    return ReportFigure(lambda: dvh_figure(curves, compare=other, markers=tuple(markers)), caption)


def dose_method_blocks(record: DoseMethodRecord) -> tuple[str | Table, ...]:
    """The paragraph naming the dose method and, for Monte Carlo, the uncertainty table.

    Parameters
    ----------
    record : DoseMethodRecord
        The method of the voxel dose shown.

    Returns
    -------
    tuple of str or Table
        One sentence; with Monte Carlo also a table of each structure's mean-dose
        uncertainty (percent, one sigma).
    """
    if not record.uncertainty_percent:
        return (record.label,)
    rows = [(name, value) for name, value in record.uncertainty_percent.items()]
    table = make_table(
        ("Structure", "Mean dose uncertainty (%, 1 sigma)"),
        rows,
        caption="Statistical uncertainty of each structure's mean dose (Monte Carlo, batch method)",
    )
    return (record.label, table)
