"""Turn safe activities into a :class:`PlanResult`: doses, limit checks, warnings, schedule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from opensirt.physics.devices import Device, DeviceName
from opensirt.planning.case import Method
from opensirt.planning.context import MethodRequest, PlanContext
from opensirt.planning.formulas import FORMULAS
from opensirt.planning.holmium import whole_liver_dose_gy
from opensirt.planning.limits import LinearLimit, SafeActivities
from opensirt.planning.mird import delivered_fraction
from opensirt.planning.partition import partition_doses
from opensirt.planning.result import (
    LimitCheck,
    PlanResult,
    ScheduleResult,
    Target,
    TerritoryResult,
)
from opensirt.planning.schedule import activity_at_treatment_gbq, choose_vial, vial_window


def _constants(ctx: PlanContext) -> dict[str, Any]:
    return {
        "dose_constant_gy_kg_per_gbq": ctx.k,
        "dose_constant_source": ctx.device.dose_constant_source,
        "density_g_ml": ctx.case.liver.density_g_ml,
        "density_source": "liver.density_g_ml of the case file (1.03 g/mL by default)",
        "half_life_h": ctx.device.half_life_h,
        "nuclide": ctx.device.nuclide.name.value,
        "lung_mass_kg": ctx.case.lung.mass_kg,
        "lung_shunt_fraction_source": ctx.lsf_source,
        "normal_liver_limit_scope": ctx.limits.normal_liver_scope,
    }


def _territories(
    ctx: PlanContext, activities: Sequence[float], binding: Sequence[str | None]
) -> tuple[TerritoryResult, ...]:
    out = []
    for terr, comp, mass, a, bind in zip(
        ctx.case.territories,
        ctx.compartments,
        ctx.perfused_masses_kg,
        activities,
        binding,
        strict=True,
    ):
        perfused = ctx.k * a * delivered_fraction(ctx.lsf, ctx.residual) / mass
        normal, tumours = None, {}
        if comp is not None:
            d = partition_doses(
                comp, a, ctx.k, lung_shunt_fraction=ctx.lsf, residual_fraction=ctx.residual
            )
            normal, tumours = d.normal_liver_gy, dict(d.tumours_gy)
        out.append(TerritoryResult(terr.name, a, mass, perfused, normal, tumours, bind))
    return tuple(out)


def _normal_liver_gy(ctx: PlanContext, terrs: Sequence[TerritoryResult]) -> tuple[Any, Any]:
    """Mean dose of the treated non-tumoural liver, and of the whole non-tumoural liver."""
    comps = [c for c in ctx.compartments if c is not None]
    if len(comps) != len(terrs):
        return None, None
    energy = sum(
        (t.normal_liver_gy or 0.0) * c.normal_mass_kg for t, c in zip(terrs, comps, strict=True)
    )
    treated = sum(c.normal_mass_kg for c in comps)
    return energy / treated, energy / ctx.whole_normal_mass_kg


def _achieved(method: Method, result: dict[str, Any], terrs: Sequence[TerritoryResult]) -> Any:
    if method is Method.PARTITION:
        return min(d for t in terrs for d in t.tumours_gy.values())
    if method is Method.MIRD:
        return min(t.perfused_gy for t in terrs)
    if method is Method.WHOLE_LIVER:
        return result["whole_liver_gy"]
    return None


def _limit_checks(
    ctx: PlanContext,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
    activities: Sequence[float] | None,
    binding: set[str],
) -> tuple[LimitCheck, ...]:
    enforced_names = {lim.name for lim in enforced}
    checks = []
    names = ["lung_max_gy", "lung_cumulative_max_gy", "normal_liver_max_gy"]
    for name in names:
        group = [lim for lim in all_limits if lim.name == name]
        value = getattr(ctx.limits, name)
        dose = None
        if group and activities is not None:
            dose = max(lim.dose_gy(activities) for lim in group)
            if name == "lung_cumulative_max_gy":
                dose += ctx.case.lung.previous_dose_gy
        checks.append(
            LimitCheck(
                name=name,
                limit_gy=value,
                dose_gy=dose,
                source=ctx.limits.sources.get(name),
                enforced=name in enforced_names,
                binding=name in binding,
            )
        )
    return tuple(checks)


def _lowered_warnings(
    ctx: PlanContext,
    request: MethodRequest,
    terrs: Sequence[TerritoryResult],
    target: Target | None,
) -> list[str]:
    out = []
    for t, asked in zip(terrs, request.activities_gbq, strict=True):
        if t.binding_limit is None:
            continue
        what = (
            ", ".join(f"{n} {d:.1f} Gy" for n, d in t.tumours_gy.items())
            if ctx.case.method is Method.PARTITION
            else f"perfused {t.perfused_gy:.1f} Gy"
        )
        goal = f"the {target.name} of {target.value_gy:g} Gy is not reached" if target else ""
        out.append(
            f"territory {t.name!r}: activity lowered from {asked:.3f} to {t.activity_gbq:.3f} "
            f"GBq by {t.binding_limit} ({getattr(ctx.limits, t.binding_limit):g} Gy); "
            f"{goal}{': ' if goal else ''}{what}"
        )
    return out


def _tolerance_advice(
    result: ScheduleResult, device: Device, required_gbq: float, tolerance: float
) -> str:
    """Whether the whole vial may be injected: its activity at the treatment time within
    ``tolerance`` of the planned activity, or else the times at which it would be."""
    diff = result.vial_difference_percent
    band = f"{100.0 * tolerance:g} %"
    if diff is None or result.vial_activity_gbq is None or result.vial_calibration is None:
        return ""
    if result.within_tolerance:
        return f"{diff:+.1f} % of the planned activity, within {band}: inject the whole vial"
    if diff < 0 or result.vial_activity_gbq < required_gbq:
        side = "below" if diff < 0 else "above"
        return f"{diff:+.1f} % of the planned activity, more than {band} {side} it"
    start, end = vial_window(
        result.vial_activity_gbq,
        result.vial_calibration,
        required_gbq,
        device,
        tolerance=tolerance,
    )
    zone = result.treatment.tzinfo
    # a glass vial is injected whole (TheraSphere IFU); resin doses are drawn from the vial
    draw = "" if device.name is DeviceName.THERASPHERE else ", or draw the planned activity from it"
    return (
        f"{diff:+.1f} % of the planned activity, more than {band} above it: inject the whole "
        f"vial only between {start.astimezone(zone).isoformat(timespec='minutes')} and "
        f"{end.astimezone(zone).isoformat(timespec='minutes')}{draw}"
    )


def _schedule(ctx: PlanContext, activity_gbq: float) -> tuple[ScheduleResult | None, list[str]]:
    sched = ctx.case.schedule
    if sched is None:
        return None, []
    tol = sched.vial_tolerance_fraction
    if sched.vial_activity_gbq is not None and sched.vial_calibration is not None:
        available = activity_at_treatment_gbq(
            sched.vial_activity_gbq, sched.vial_calibration, sched.treatment, ctx.device
        )
        warn = []
        if available < activity_gbq:
            warn.append(
                f"the vial holds {available:.3f} GBq at the treatment time, less than the "
                f"{activity_gbq:.3f} GBq planned; order more activity or treat earlier"
            )
        result = ScheduleResult(
            sched.treatment,
            sched.vial_activity_gbq,
            sched.vial_calibration,
            available,
            f"vial decayed with T1/2 = {ctx.device.half_life_h} h",
            activity_gbq,
            tol,
        )
        advice = _tolerance_advice(result, ctx.device, activity_gbq, tol)
        return replace(result, note=f"{result.note}; {advice}"), warn
    if ctx.device.name is DeviceName.THERASPHERE:
        choice = choose_vial(activity_gbq, sched.treatment, ctx.device)
        if choice is None:
            return ScheduleResult(
                sched.treatment,
                None,
                None,
                None,
                "no standard vial is large enough at the treatment time",
                activity_gbq,
                tol,
            ), [
                "no standard TheraSphere vial holds the planned activity at the treatment "
                "time; order a custom activity or treat earlier"
            ]
        result = ScheduleResult(
            sched.treatment,
            choice.vial_activity_gbq,
            choice.calibration,
            choice.activity_at_treatment_gbq,
            "",
            activity_gbq,
            tol,
        )
        note = (
            f"order the {choice.vial_activity_gbq:g} GBq vial (calibrated "
            f"{choice.calibration.isoformat()}); it holds "
            f"{choice.activity_at_treatment_gbq:.3f} GBq at the treatment time, "
            + _tolerance_advice(result, ctx.device, activity_gbq, tol)
        )
        return replace(result, note=note), []
    note = (
        f"{ctx.device.calibration}; give schedule.vial_activity_gbq and vial_calibration "
        "to check the activity at the treatment time"
    )
    return ScheduleResult(sched.treatment, None, None, None, note, activity_gbq, tol), []


def assemble_plan(
    ctx: PlanContext,
    request: MethodRequest,
    safe: SafeActivities,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
) -> PlanResult:
    """The plan for the safe activities: doses, limit checks, warnings and schedule."""
    activities = safe.activities_gbq
    total = sum(activities)
    terrs = _territories(ctx, activities, safe.binding)
    normal, whole_normal = _normal_liver_gy(ctx, terrs)
    lung = ctx.lung_gy_per_gbq * total
    doses: dict[str, Any] = {
        "whole_liver_gy": None,
        "perfused_gy": (
            ctx.k * total * delivered_fraction(ctx.lsf, ctx.residual) / sum(ctx.perfused_masses_kg)
        ),
    }
    if ctx.case.method is Method.WHOLE_LIVER:
        liver_kg = ctx.liver_volume_ml * ctx.kg_per_ml
        doses["whole_liver_gy"] = whole_liver_dose_gy(
            total, liver_kg, ctx.k, residual_fraction=ctx.residual
        )
    target = request.target
    if target is not None:
        achieved = _achieved(ctx.case.method, doses, terrs)
        target = Target(target.name, target.value_gy, achieved, target.source)
    binding = {b for b in safe.binding if b is not None}
    checks = _limit_checks(ctx, all_limits, enforced, activities, binding)
    warnings = list(request.warnings) + _lowered_warnings(ctx, request, terrs, target)
    warnings += [
        f"{c.name}: the dose {c.dose_gy:.1f} Gy is above the limit {c.limit_gy:g} Gy; the "
        f"{ctx.case.method.value} method does not lower the activity for it: review the plan "
        "(e.g. by the partition model)"
        for c in checks
        if c.exceeded and not c.enforced
    ]
    if ctx.case.method is Method.PARTITION and ctx.limits.normal_liver_max_gy is None:
        warnings.append(
            f"no normal-liver limit is set for {ctx.device.label}: the normal liver gets "
            f"{normal if normal is not None else float('nan'):.1f} Gy unchecked; set "
            "prescription.normal_liver_max_gy"
        )
    if normal is None and ctx.limits.normal_liver_max_gy is not None:
        warnings.append(
            "normal-liver dose not computed: a tumour has no tn_ratio, so the normal-liver "
            "limit could not be checked"
        )
    schedule, schedule_warnings = _schedule(ctx, total)
    return PlanResult(
        method=ctx.case.method,
        device=ctx.device.name,
        activity_gbq=total,
        lung_shunt_fraction=ctx.lsf,
        residual_fraction=ctx.residual,
        lung_gy=lung,
        lung_cumulative_gy=lung + ctx.case.lung.previous_dose_gy,
        perfused_gy=doses["perfused_gy"],
        normal_liver_gy=normal,
        whole_normal_liver_gy=whole_normal,
        whole_liver_gy=doses["whole_liver_gy"],
        tumours_gy={n: d for t in terrs for n, d in t.tumours_gy.items()},
        territories=terrs,
        constants=_constants(ctx),
        limits=checks,
        binding_limit=", ".join(sorted(binding)) or None,
        target=target,
        formulas=FORMULAS[ctx.case.method],
        warnings=tuple(warnings + schedule_warnings),
        schedule=schedule,
        details=request.details,
    )


def refused_plan(
    ctx: PlanContext,
    reason: str,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
) -> PlanResult:
    """A refused plan: no activity, no doses, the limits and the reason."""
    return PlanResult(
        method=ctx.case.method,
        device=ctx.device.name,
        activity_gbq=None,
        lung_shunt_fraction=ctx.lsf,
        residual_fraction=ctx.residual,
        lung_gy=None,
        lung_cumulative_gy=None,
        perfused_gy=None,
        normal_liver_gy=None,
        whole_normal_liver_gy=None,
        whole_liver_gy=None,
        tumours_gy={},
        territories=(),
        constants=_constants(ctx),
        limits=_limit_checks(ctx, all_limits, enforced, None, set()),
        binding_limit=None,
        target=None,
        formulas=FORMULAS[ctx.case.method],
        warnings=(),
        refused=reason,
    )
