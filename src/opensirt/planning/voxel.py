"""Voxel-method prescription: the same targets and limits, with doses from voxel dosimetry.

Voxel dosimetry (:mod:`opensirt.workflow.voxel`) gives the mean absorbed dose of each
structure per GBq injected; every dose is linear in the activity, so the prescription follows
the partition rules with those coefficients:

* target: every tumour reaches ``prescription.tumour_dose_gy`` (the tumour with the lowest
  dose per GBq gets exactly it); without tumours, the mean perfused dose reaches
  ``prescription.perfused_dose_gy``;
* limits: lung per session and cumulative (partition-model lung dose, ``k A LSF (1-R) /
  M_lung``, as the guidelines define the lung limits), normal liver mean dose per territory
  (or of the whole normal liver, for devices whose limit has that scope), from the voxel
  doses; the activity is lowered to the largest that keeps every limit, never clipped
  silently.

The MAA distribution is one injection: the activity splits between territories as the image
shows (``territory_activity_fractions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opensirt.errors import InputError, PlanRefusedError
from opensirt.physics.devices import NormalLiverScope
from opensirt.planning.assemble import (
    LiverDoses,
    finished_plan,
    limit_checks,
    lowered_warning,
    refused_plan,
    unchecked_normal_liver_warning,
)
from opensirt.planning.case import Method
from opensirt.planning.context import PlanContext, lung_limits, prescribed_target
from opensirt.planning.limits import LimitName, LinearLimit, largest_safe_activities
from opensirt.planning.result import PlanResult, Target, TargetName, TerritoryResult


@dataclass(frozen=True)
class VoxelCoefficients:
    """Mean absorbed doses (Gy) per GBq injected, from voxel dosimetry.

    Attributes
    ----------
    tumours : mapping
        Tumour name -> mean dose per GBq.
    normal_liver : mapping
        Territory name -> mean dose per GBq of its non-tumoural part.
    perfused : mapping
        Territory name -> mean dose per GBq of the whole territory.
    whole_normal_liver, all_perfused : float
        Mean dose per GBq of the whole non-tumoural liver, and of all territories together.
    lung_voxel : float
        Voxel mean lung dose per GBq (reported; the limits use the partition lung dose).
    territory_activity_fractions : mapping
        Territory name -> fraction of the liver activity in it (sums to 1).
    perfused_mass_kg, normal_mass_kg : mapping
        Territory name -> mass (kg) of the territory, and of its non-tumoural part, from the
        images.
    """

    tumours: Mapping[str, float]
    normal_liver: Mapping[str, float]
    perfused: Mapping[str, float]
    whole_normal_liver: float
    all_perfused: float
    lung_voxel: float
    territory_activity_fractions: Mapping[str, float]
    perfused_mass_kg: Mapping[str, float]
    normal_mass_kg: Mapping[str, float]


def _target(ctx: PlanContext, coeffs: VoxelCoefficients) -> tuple[Target, float]:
    """The target and the activity (GBq) that reaches it."""
    if coeffs.tumours:
        target = prescribed_target(ctx, TargetName.TUMOUR_DOSE)
        per_gbq = min(coeffs.tumours.values())
    else:
        target = prescribed_target(ctx, TargetName.PERFUSED_DOSE)
        per_gbq = coeffs.all_perfused
    if per_gbq <= 0:
        raise InputError(
            f"the voxel dose per GBq for {target.name.value} is {per_gbq!r} Gy; the emission "
            "image shows no uptake where the target is"
        )
    return target, target.value_gy / per_gbq


def _limits(ctx: PlanContext, coeffs: VoxelCoefficients) -> list[LinearLimit]:
    lung = [LinearLimit(lim.name, lim.limit_gy, (ctx.lung_gy_per_gbq,)) for lim in lung_limits(ctx)]
    limit = ctx.limits.normal_liver_max_gy
    if limit is None:
        return lung
    name = LimitName.NORMAL_LIVER_MAX
    if ctx.limits.normal_liver_scope is NormalLiverScope.WHOLE:
        return [*lung, LinearLimit(name, limit, (coeffs.whole_normal_liver,))]
    return [*lung, *(LinearLimit(name, limit, (c,)) for c in coeffs.normal_liver.values())]


def _territory_binding(
    ctx: PlanContext, coeffs: VoxelCoefficients, bind: LimitName | None
) -> dict[str, LimitName | None]:
    """The limit that binds each territory: a lung limit or the whole-liver normal-liver limit
    binds them all; a per-territory normal-liver limit binds only the territory whose normal
    liver reaches it (the highest dose per GBq), not those left below it."""
    names = coeffs.territory_activity_fractions
    whole = ctx.limits.normal_liver_scope is NormalLiverScope.WHOLE
    if bind is not LimitName.NORMAL_LIVER_MAX or whole:
        return dict.fromkeys(names, bind)
    highest = max(coeffs.normal_liver.values())
    return {name: bind if coeffs.normal_liver[name] == highest else None for name in names}


def plan_voxel(ctx: PlanContext, coeffs: VoxelCoefficients) -> PlanResult:
    """The voxel-method plan of a case whose context and voxel dose coefficients are given.

    Parameters
    ----------
    ctx : PlanContext
        The planning context of the case (lung shunt, limits, residual, device); the plan
        is reported under method ``voxel``.
    coeffs : VoxelCoefficients
        Mean doses per GBq injected (Gy/GBq) of every structure, from voxel dosimetry.

    Returns
    -------
    PlanResult
        The plan built by :func:`opensirt.planning.assemble.finished_plan`, or a refused
        plan when no activity keeps the lung limits.
    """
    limits = _limits(ctx, coeffs)
    target, requested = _target(ctx, coeffs)
    try:
        if ctx.lsf > 0 and ctx.case.lung.previous_dose_gy >= ctx.limits.lung_cumulative_max_gy:
            raise PlanRefusedError(
                f"the previous lung dose {ctx.case.lung.previous_dose_gy:g} Gy already reaches "
                f"the cumulative lung limit {ctx.limits.lung_cumulative_max_gy:g} Gy"
            )
        safe = largest_safe_activities([requested], limits)
    except PlanRefusedError as exc:
        return refused_plan(ctx, exc.reason, limits, limits, method=Method.VOXEL)
    activity = safe.activities_gbq[0]
    bind = safe.binding[0]
    territory_binding = _territory_binding(ctx, coeffs, bind)
    terrs = tuple(
        TerritoryResult(
            name=name,
            activity_gbq=activity * fraction,
            perfused_mass_kg=coeffs.perfused_mass_kg[name],
            perfused_gy=coeffs.perfused[name] * activity,
            normal_liver_gy=coeffs.normal_liver[name] * activity,
            tumours_gy={},
            binding_limit=territory_binding[name],
        )
        for name, fraction in coeffs.territory_activity_fractions.items()
    )
    tumours = {n: c * activity for n, c in coeffs.tumours.items()}
    achieved = min(tumours.values()) if tumours else coeffs.all_perfused * activity
    target = Target(target.name, target.value_gy, achieved, target.source)
    checks = limit_checks(ctx, limits, limits, [activity], {bind} if bind else set())
    warnings = []
    if bind is not None:
        reached = ", ".join(f"{n} {d:.1f} Gy" for n, d in tumours.items())
        warnings.append(lowered_warning(ctx, requested, activity, bind, target, reached))
    normal_treated = sum(
        coeffs.normal_liver[name] * mass for name, mass in coeffs.normal_mass_kg.items()
    ) / sum(coeffs.normal_mass_kg.values())
    if ctx.limits.normal_liver_max_gy is None:
        warnings.append(unchecked_normal_liver_warning(ctx, normal_treated * activity))
    doses = LiverDoses(
        perfused_gy=coeffs.all_perfused * activity,
        normal_liver_gy=normal_treated * activity,
        whole_normal_liver_gy=coeffs.whole_normal_liver * activity,
        whole_liver_gy=None,
        tumours_gy=tumours,
    )
    return finished_plan(
        ctx,
        Method.VOXEL,
        activity,
        doses=doses,
        territories=terrs,
        checks=checks,
        target=target,
        warnings=warnings,
        details={
            "lung_voxel_mean_gy": coeffs.lung_voxel * activity,
            "requested_activity_gbq": requested,
        },
    )
