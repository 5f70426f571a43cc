"""Plan a case: the method's activity, lowered to keep every limit, and the doses it implies.

Rules (each documented where it is applied):

* The lung limits (per session, and cumulative with ``lung.previous_dose_gy``) are enforced
  for every method: the activity is lowered until both hold.
* The normal-liver limit is enforced for the dose-targeted multi-compartment methods
  (partition, Ho-166 whole-liver). For MIRD (single compartment, whose perfused target
  deliberately includes the normal tissue, e.g. radiation segmentectomy) and BSA (empirical)
  the normal-liver dose implied by the partition model is reported and a warning is given
  when it is above the limit, but the activity is not lowered for it.
* Partition prescriptions aim at *every* tumour reaching the tumour target, i.e. the tumour
  with the lowest T/N of each territory gets exactly the target.
* A lowered activity never passes silently: a warning says which target is not reached,
  which limit binds and what dose the tumours (or perfused volume) get.
* No positive safe activity (lung shunt above the device maximum, previous lung dose at the
  cumulative limit) gives a result with ``refused`` set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opensirt.errors import InputError, PlanRefusedError
from opensirt.planning.assemble import assemble_plan, refused_plan
from opensirt.planning.bsa import bsa_activity
from opensirt.planning.case import Case, Method
from opensirt.planning.context import (
    MethodRequest,
    PlanContext,
    lung_limits,
    normal_liver_limits,
    plan_context,
    prescribed_target,
)
from opensirt.planning.holmium import whole_liver_activity_gbq
from opensirt.planning.limits import LinearLimit, largest_safe_activities
from opensirt.planning.mird import delivered_fraction, mird_activity_gbq
from opensirt.planning.partition import activity_for_tumour_dose_gbq
from opensirt.planning.result import LungShuntSource, PlanResult, TargetName


def _split(total_gbq: float, weights: Sequence[float]) -> tuple[float, ...]:
    return tuple(total_gbq * w / sum(weights) for w in weights)


def _request_bsa(ctx: PlanContext) -> MethodRequest:
    case = ctx.case
    steps = bsa_activity(
        height_m=case.patient.height_m,
        weight_kg=case.patient.weight_kg,
        tumour_volume_ml=ctx.tumour_volume_ml,
        liver_volume_ml=ctx.liver_volume_ml,
        perfused_volume_ml=sum(ctx.territory_volumes_ml),
        lung_shunt_fraction=ctx.lsf,
    )
    total = steps.activity_gbq / delivered_fraction(0.0, ctx.residual)
    warnings: tuple[str, ...] = ()
    if steps.lung_shunt_factor < 1.0:
        warnings = (
            f"BSA activity reduced by {1 - steps.lung_shunt_factor:.0%} for a lung shunt "
            f"fraction of {ctx.lsf:.1%} (SIR-Spheres IFU)",
        )
    return MethodRequest(
        activities_gbq=_split(total, ctx.territory_volumes_ml),
        target=None,
        details={"bsa": steps.__dict__ | {"activity_to_inject_gbq": total}},
        warnings=warnings,
    )


def _request_mird(ctx: PlanContext) -> MethodRequest:
    target = prescribed_target(ctx, TargetName.PERFUSED_DOSE)
    activities = tuple(
        mird_activity_gbq(
            target.value_gy, m, ctx.k, lung_shunt_fraction=ctx.lsf, residual_fraction=ctx.residual
        )
        for m in ctx.perfused_masses_kg
    )
    return MethodRequest(activities_gbq=activities, target=target)


def _request_partition(ctx: PlanContext) -> MethodRequest:
    target = prescribed_target(ctx, TargetName.TUMOUR_DOSE)
    activities = []
    for comp in ctx.compartments:
        assert comp is not None  # partition cases have every T/N (checked by the case model)
        activities.append(
            activity_for_tumour_dose_gbq(
                comp,
                target.value_gy,
                ctx.k,
                lung_shunt_fraction=ctx.lsf,
                residual_fraction=ctx.residual,
            )
        )
    return MethodRequest(activities_gbq=tuple(activities), target=target)


def _request_whole_liver(ctx: PlanContext) -> MethodRequest:
    target = prescribed_target(ctx, TargetName.WHOLE_LIVER_DOSE)
    liver_kg = ctx.liver_volume_ml * ctx.kg_per_ml
    total = whole_liver_activity_gbq(
        target.value_gy, liver_kg, ctx.k, residual_fraction=ctx.residual
    )
    warnings: tuple[str, ...] = ()
    treated_ml = sum(ctx.territory_volumes_ml)
    if treated_ml < ctx.liver_volume_ml * (1 - 1e-9):
        warnings = (
            f"whole-liver planning assumes the whole liver is treated, but the territories "
            f"hold {treated_ml:g} of {ctx.liver_volume_ml:g} mL; the perfused dose is "
            "higher than the whole-liver dose",
        )
    return MethodRequest(
        activities_gbq=_split(total, ctx.perfused_masses_kg),
        target=target,
        details={"liver_mass_kg": liver_kg},
        warnings=warnings,
    )


_METHODS: dict[Method, Callable[[PlanContext], MethodRequest]] = {
    Method.BSA: _request_bsa,
    Method.MIRD: _request_mird,
    Method.PARTITION: _request_partition,
    Method.WHOLE_LIVER: _request_whole_liver,
}
_NORMAL_LIVER_ENFORCED = frozenset({Method.PARTITION, Method.WHOLE_LIVER})


def _refuse_early(ctx: PlanContext) -> None:
    maximum = ctx.device.limits.max_lung_shunt_fraction
    if maximum is not None and ctx.lsf > maximum:
        raise PlanRefusedError(
            f"lung shunt fraction {ctx.lsf:.1%} is above the {maximum:.0%} that the "
            f"{ctx.device.label} instructions allow: do not treat (or reduce the shunt first)"
        )
    previous = ctx.case.lung.previous_dose_gy
    cumulative = ctx.limits.lung_cumulative_max_gy
    if ctx.lsf > 0.0 and previous >= cumulative:
        raise PlanRefusedError(
            f"the previous lung dose {previous:g} Gy already reaches the cumulative lung limit "
            f"{cumulative:g} Gy and the lung shunt fraction is {ctx.lsf:.1%}: any activity "
            "would exceed it"
        )
    if ctx.lsf >= 1.0:
        raise PlanRefusedError(
            "lung shunt fraction is 100 %: no activity would reach the liver; do not treat"
        )


def plan_case(case: Case, *, lung_shunt_source: LungShuntSource | None = None) -> PlanResult:
    """Plan a case by its method (BSA, MIRD, partition, Ho-166 whole-liver).

    Parameters
    ----------
    case : Case
        The validated case, every volume typed.
    lung_shunt_source : LungShuntSource, optional
        Recorded as the origin of the lung shunt when the case holds one measured elsewhere
        (see :func:`opensirt.planning.context.plan_context`).

    Returns
    -------
    PlanResult
        The plan; a plan that no activity can make safe is returned with ``refused`` set
        (``plan_case(case).raise_if_refused()`` raises ``PlanRefusedError`` instead).

    Raises
    ------
    InputError
        For method ``voxel`` (planned from images by the imaging pipeline), or a prescription
        the device has no default for.
    """
    if case.method is Method.VOXEL:
        raise InputError(
            "method 'voxel' is planned from the images (CT, SPECT, segmentation) by the imaging "
            "pipeline, not by plan_case; run the voxel workflow for this case"
        )
    ctx = plan_context(case, lung_shunt_source=lung_shunt_source)
    lung = lung_limits(ctx)
    normal: list[LinearLimit] = []
    enforced = lung
    try:
        _refuse_early(ctx)
        normal = normal_liver_limits(ctx)
        enforced = lung + (normal if case.method in _NORMAL_LIVER_ENFORCED else [])
        request = _METHODS[case.method](ctx)
        safe = largest_safe_activities(request.activities_gbq, enforced)
    except PlanRefusedError as exc:
        return refused_plan(ctx, exc.reason, lung + normal, enforced)
    return assemble_plan(ctx, request, safe, lung + normal, enforced)
