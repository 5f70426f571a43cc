"""Turn safe activities into a :class:`PlanResult`: doses, limit checks, warnings, schedule.

The one plan builder of every method: :func:`assemble_plan` for the methods planned from the
case file (BSA, MIRD, partition, Ho-166 whole-liver, :mod:`opensirt.planning.planner`), and its
parts :func:`limit_checks`, :func:`lowered_warning`, :func:`unchecked_normal_liver_warning` and
:func:`finished_plan` (which adds the lung dose, :func:`plan_constants` and the schedule of
:mod:`opensirt.planning.vial_plan`) for the voxel method (:mod:`opensirt.planning.voxel`);
:func:`refused_plan` for a plan that no activity makes safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opensirt.planning.case import Method
from opensirt.planning.context import MethodRequest, PlanContext
from opensirt.planning.formulas import FORMULAS
from opensirt.planning.holmium import whole_liver_dose_gy
from opensirt.planning.limits import LimitName, LinearLimit, SafeActivities
from opensirt.planning.mird import mird_dose_gy
from opensirt.planning.partition import partition_doses
from opensirt.planning.result import (
    LimitCheck,
    PlanConstants,
    PlanResult,
    Target,
    TerritoryResult,
)
from opensirt.planning.vial_plan import plan_schedule


def plan_constants(ctx: PlanContext) -> PlanConstants:
    """The constants and conventions of a plan, each with its source.

    Parameters
    ----------
    ctx : PlanContext
        The planning context of the case (device, case file, lung shunt, limits).

    Returns
    -------
    PlanConstants
        Dose constant, density, half-life, nuclide, lung mass, the source of the lung shunt
        and the scope of the normal-liver limit.
    """
    return PlanConstants(
        dose_constant_gy_kg_per_gbq=ctx.k,
        dose_constant_source=ctx.device.dose_constant_source,
        density_g_per_ml=ctx.case.liver.density_g_ml,
        density_source="liver.density_g_ml of the case file (1.03 g/mL by default)",
        half_life_h=ctx.device.half_life_h,
        nuclide=ctx.device.nuclide.name,
        lung_mass_kg=ctx.case.lung.mass_kg,
        lung_shunt_fraction_source=ctx.lsf_source,
        normal_liver_limit_scope=ctx.limits.normal_liver_scope,
    )


def _territories(
    ctx: PlanContext, activities: Sequence[float], binding: Sequence[LimitName | None]
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
        perfused = mird_dose_gy(
            a, mass, ctx.k, lung_shunt_fraction=ctx.lsf, residual_fraction=ctx.residual
        )
        normal, tumours = None, {}
        if comp is not None:
            d = partition_doses(
                comp, a, ctx.k, lung_shunt_fraction=ctx.lsf, residual_fraction=ctx.residual
            )
            normal, tumours = d.normal_liver_gy, dict(d.tumours_gy)
        out.append(TerritoryResult(terr.name, a, mass, perfused, normal, tumours, bind))
    return tuple(out)


def _normal_liver_gy(
    ctx: PlanContext, terrs: Sequence[TerritoryResult]
) -> tuple[float | None, float | None]:
    """Mean dose of the treated non-tumoural liver, and of the whole non-tumoural liver."""
    comps = [c for c in ctx.compartments if c is not None]
    if len(comps) != len(terrs):
        return None, None
    energy = sum(
        (t.normal_liver_gy or 0.0) * c.normal_mass_kg for t, c in zip(terrs, comps, strict=True)
    )
    treated = sum(c.normal_mass_kg for c in comps)
    return energy / treated, energy / ctx.whole_normal_mass_kg


def _achieved(method: Method, doses: LiverDoses, terrs: Sequence[TerritoryResult]) -> float | None:
    if method is Method.PARTITION:
        return min(d for t in terrs for d in t.tumours_gy.values())
    if method is Method.MIRD:
        return min(t.perfused_gy for t in terrs)
    if method is Method.WHOLE_LIVER:
        return doses.whole_liver_gy
    return None


def limit_checks(
    ctx: PlanContext,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
    activities_gbq: Sequence[float] | None,
    binding: set[LimitName],
) -> tuple[LimitCheck, ...]:
    """Every limit of the plan with the dose it gets, in the order of :class:`LimitName`.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (applied limits, their sources, the previous lung dose).
    all_limits : sequence of LinearLimit
        The limits the plan is checked against, as linear constraints on the activities.
    enforced : sequence of LinearLimit
        Those of ``all_limits`` that lower the activity; the others are only reported.
    activities_gbq : sequence of float or None
        Activity of each territory (GBq, to inject); None for a refused plan (no doses).
    binding : set of LimitName
        The limits that lowered an activity.

    Returns
    -------
    tuple of LimitCheck
        One check per limit name: its value (Gy), the highest dose it constrains (Gy; the
        cumulative lung dose includes ``lung.previous_dose_gy``), source, enforced, binding.
    """
    enforced_names = {lim.name for lim in enforced}
    checks = []
    for name in LimitName:
        group = [lim for lim in all_limits if lim.name is name]
        dose = None
        if group and activities_gbq is not None:
            dose = max(lim.dose_gy(activities_gbq) for lim in group)
            if name is LimitName.LUNG_CUMULATIVE_MAX:
                dose += ctx.case.lung.previous_dose_gy
        checks.append(
            LimitCheck(
                name=name,
                limit_gy=getattr(ctx.limits, name.value),
                dose_gy=dose,
                source=ctx.limits.sources.get(name.value),
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
        lowered = lowered_warning(ctx, asked, t.activity_gbq, t.binding_limit, target, what)
        out.append(f"territory {t.name!r}: {lowered}")
    return out


def lowered_warning(
    ctx: PlanContext,
    asked_gbq: float,
    activity_gbq: float,
    limit: LimitName,
    target: Target | None,
    doses: str,
) -> str:
    """The warning for an activity that a limit lowered: a lowered activity never passes
    silently.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (the applied limits, for the limit's value).
    asked_gbq : float
        The activity the method asked for (GBq).
    activity_gbq : float
        The activity after the limit (GBq).
    limit : LimitName
        The limit that lowered it.
    target : Target or None
        The target that is then not reached; None for the BSA method.
    doses : str
        The doses the lowered activity gives, in words (e.g. ``"T1 98.0 Gy"``).

    Returns
    -------
    str
        A sentence naming both activities, the limit with its value (Gy), the target missed
        and the doses.
    """
    goal = f"the {target.name} of {target.value_gy:g} Gy is not reached" if target else ""
    return (
        f"activity lowered from {asked_gbq:.3f} to {activity_gbq:.3f} GBq by {limit} "
        f"({getattr(ctx.limits, limit.value):g} Gy); {goal}{': ' if goal else ''}{doses}"
    )


def unchecked_normal_liver_warning(ctx: PlanContext, normal_liver_gy: float | None) -> str:
    """The warning for a plan whose device sets no normal-liver limit.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (its device names the label).
    normal_liver_gy : float or None
        Mean dose of the treated normal liver (Gy); None when it was not computed.

    Returns
    -------
    str
        A sentence giving the unchecked dose and the case-file key that sets a limit.
    """
    dose = normal_liver_gy if normal_liver_gy is not None else float("nan")
    return (
        f"no normal-liver limit is set for {ctx.device.label}: the normal liver gets "
        f"{dose:.1f} Gy unchecked; set prescription.normal_liver_max_gy"
    )


@dataclass(frozen=True)
class LiverDoses:
    """The mean liver doses of a plan (Gy); None where the method cannot give one.

    Attributes
    ----------
    perfused_gy : float
        Mean dose over all treated territories.
    normal_liver_gy : float or None
        Mean dose of the non-tumoural liver of the treated territories.
    whole_normal_liver_gy : float or None
        Mean dose of the whole non-tumoural liver (untreated parts get 0 Gy).
    whole_liver_gy : float or None
        Whole-liver dose of the Ho-166 convention (whole-liver method only).
    tumours_gy : Mapping[str, float]
        Mean dose of each tumour, by name.
    """

    perfused_gy: float
    normal_liver_gy: float | None
    whole_normal_liver_gy: float | None
    whole_liver_gy: float | None
    tumours_gy: Mapping[str, float]


def finished_plan(
    ctx: PlanContext,
    method: Method,
    activity_gbq: float,
    *,
    doses: LiverDoses,
    territories: tuple[TerritoryResult, ...],
    checks: tuple[LimitCheck, ...],
    target: Target | None,
    warnings: Sequence[str],
    details: Mapping[str, Any],
) -> PlanResult:
    """The :class:`PlanResult` of a planned activity, shared by every planning method.

    Adds what all methods compute the same way: the partition lung dose of this session and
    cumulative (:func:`opensirt.planning.lung.lung_dose_gy`), the constants, the formulas of
    the method, the binding limits and the schedule with its warnings.

    Parameters
    ----------
    ctx : PlanContext
        The planning context of the case.
    method : Method
        The method the plan is reported under.
    activity_gbq : float
        Total activity to inject (GBq, before residual loss).
    doses : LiverDoses
        The method's liver doses (Gy).
    territories : tuple of TerritoryResult
        Each territory's activity and doses.
    checks : tuple of LimitCheck
        The limits with their doses (:func:`limit_checks`).
    target : Target or None
        The target and the dose achieved; None for the empirical BSA method.
    warnings : sequence of str
        The method's warnings; the schedule's are appended.
    details : mapping
        Method-specific intermediate values for the JSON ``details``.

    Returns
    -------
    PlanResult
        The plan, not refused.
    """
    lung = ctx.lung_gy_per_gbq * activity_gbq
    schedule, schedule_warnings = plan_schedule(ctx, activity_gbq)
    binding = sorted(c.name.value for c in checks if c.binding)
    return PlanResult(
        method=method,
        device=ctx.device.name,
        activity_gbq=activity_gbq,
        lung_shunt_fraction=ctx.lsf,
        residual_fraction=ctx.residual,
        lung_gy=lung,
        lung_cumulative_gy=lung + ctx.case.lung.previous_dose_gy,
        perfused_gy=doses.perfused_gy,
        normal_liver_gy=doses.normal_liver_gy,
        whole_normal_liver_gy=doses.whole_normal_liver_gy,
        whole_liver_gy=doses.whole_liver_gy,
        tumours_gy=dict(doses.tumours_gy),
        territories=territories,
        constants=plan_constants(ctx),
        limits=checks,
        binding_limit=", ".join(binding) or None,
        target=target,
        formulas=FORMULAS[method],
        warnings=(*warnings, *schedule_warnings),
        schedule=schedule,
        details=dict(details),
    )


def assemble_plan(
    ctx: PlanContext,
    request: MethodRequest,
    safe: SafeActivities,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
) -> PlanResult:
    """The plan for the safe activities: doses, limit checks, warnings and schedule.

    Parameters
    ----------
    ctx : PlanContext
        The planning context of the case (method BSA, MIRD, partition or whole-liver).
    request : MethodRequest
        What the method asked for before the limits (activities, target, warnings).
    safe : SafeActivities
        The activities after the limits (GBq per territory) and the limit binding each.
    all_limits : sequence of LinearLimit
        Every limit the plan is checked against.
    enforced : sequence of LinearLimit
        The limits that lowered the activity.

    Returns
    -------
    PlanResult
        The plan with its doses, checks, warnings and schedule.
    """
    activities = safe.activities_gbq
    total = sum(activities)
    terrs = _territories(ctx, activities, safe.binding)
    normal, whole_normal = _normal_liver_gy(ctx, terrs)
    whole_liver = None
    if ctx.case.method is Method.WHOLE_LIVER:
        liver_kg = ctx.liver_volume_ml * ctx.kg_per_ml
        whole_liver = whole_liver_dose_gy(total, liver_kg, ctx.k, residual_fraction=ctx.residual)
    doses = LiverDoses(
        perfused_gy=mird_dose_gy(
            total,
            sum(ctx.perfused_masses_kg),
            ctx.k,
            lung_shunt_fraction=ctx.lsf,
            residual_fraction=ctx.residual,
        ),
        normal_liver_gy=normal,
        whole_normal_liver_gy=whole_normal,
        whole_liver_gy=whole_liver,
        tumours_gy={n: d for t in terrs for n, d in t.tumours_gy.items()},
    )
    target = request.target
    if target is not None:
        achieved = _achieved(ctx.case.method, doses, terrs)
        target = Target(target.name, target.value_gy, achieved, target.source)
    binding = {b for b in safe.binding if b is not None}
    checks = limit_checks(ctx, all_limits, enforced, activities, binding)
    warnings = list(request.warnings) + _lowered_warnings(ctx, request, terrs, target)
    warnings += [
        f"{c.name}: the dose {c.dose_gy:.1f} Gy is above the limit {c.limit_gy:g} Gy; the "
        f"{ctx.case.method.value} method does not lower the activity for it: review the plan "
        "(e.g. by the partition model)"
        for c in checks
        if c.exceeded and not c.enforced
    ]
    if ctx.case.method is Method.PARTITION and ctx.limits.normal_liver_max_gy is None:
        warnings.append(unchecked_normal_liver_warning(ctx, normal))
    if normal is None and ctx.limits.normal_liver_max_gy is not None:
        warnings.append(
            "normal-liver dose not computed: a tumour has no tn_ratio, so the normal-liver "
            "limit could not be checked"
        )
    return finished_plan(
        ctx,
        ctx.case.method,
        total,
        doses=doses,
        territories=terrs,
        checks=checks,
        target=target,
        warnings=warnings,
        details=request.details,
    )


def refused_plan(
    ctx: PlanContext,
    reason: str,
    all_limits: Sequence[LinearLimit],
    enforced: Sequence[LinearLimit],
    *,
    method: Method | None = None,
) -> PlanResult:
    """A refused plan: no activity, no doses, the limits and the reason.

    Parameters
    ----------
    ctx : PlanContext
        The planning context of the case.
    reason : str
        Why no activity is safe.
    all_limits : sequence of LinearLimit
        Every limit the plan is checked against.
    enforced : sequence of LinearLimit
        The limits that would lower the activity.
    method : Method, optional
        The method the plan is reported under; the case's method by default.

    Returns
    -------
    PlanResult
        A result with ``refused`` set and no activity or doses.
    """
    method = ctx.case.method if method is None else method
    return PlanResult(
        method=method,
        device=ctx.device.name,
        lung_shunt_fraction=ctx.lsf,
        residual_fraction=ctx.residual,
        constants=plan_constants(ctx),
        limits=limit_checks(ctx, all_limits, enforced, None, set()),
        formulas=FORMULAS[method],
        refused=reason,
    )
