"""What every planning method shares, derived once from a case: the lung shunt, the dose
constant, the masses, the compartments and the limits, and the limits as linear constraints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensirt.errors import InputError
from opensirt.physics.devices import Device, NormalLiverScope, get_device
from opensirt.planning.case import Case, Method, Territory, untyped_volumes
from opensirt.planning.limits import (
    AppliedLimits,
    LimitName,
    LinearLimit,
    applied_limits,
    compromised_liver,
)
from opensirt.planning.lung import lung_dose_gy, lung_shunt_fraction_from_counts
from opensirt.planning.partition import TerritoryCompartments, normal_dose_per_gbq
from opensirt.planning.result import LungShuntSource, Target, TargetName


@dataclass(frozen=True)
class PlanContext:
    """A case with its derived quantities.

    Attributes
    ----------
    case : Case
    device : Device
    lsf : float
        Lung shunt fraction used.
    lsf_source : LungShuntSource
        Where it comes from (given, or planar counts).
    residual : float
        Residual fraction R.
    k : float
        Dose constant of the device (Gy kg/GBq).
    kg_per_ml : float
        Tissue density in kg/mL.
    limits : AppliedLimits
    compartments : tuple[TerritoryCompartments | None, ...]
        Partition compartments per territory; None where a tumour has no T/N.
    """

    case: Case
    device: Device
    lsf: float
    lsf_source: LungShuntSource
    residual: float
    k: float
    kg_per_ml: float
    limits: AppliedLimits
    compartments: tuple[TerritoryCompartments | None, ...]

    @property
    def liver_volume_ml(self) -> float:
        """Whole-liver volume (mL), tumours included."""
        return typed_ml(self.case.liver.volume_ml)

    @property
    def territory_volumes_ml(self) -> tuple[float, ...]:
        """Volume of each territory (mL), tumours included."""
        return tuple(typed_ml(t.volume_ml) for t in self.case.territories)

    @property
    def tumour_volume_ml(self) -> float:
        """Total volume of the tumours of the case (mL)."""
        return sum(typed_ml(t.volume_ml) for terr in self.case.territories for t in terr.tumours)

    @property
    def perfused_masses_kg(self) -> tuple[float, ...]:
        """Mass of each territory (kg), tumours included."""
        return tuple(v * self.kg_per_ml for v in self.territory_volumes_ml)

    @property
    def whole_normal_mass_kg(self) -> float:
        """Non-tumoural mass of the whole liver (kg): liver minus the tumours of the case."""
        return (self.liver_volume_ml - self.tumour_volume_ml) * self.kg_per_ml

    @property
    def lung_gy_per_gbq(self) -> float:
        """Partition lung dose per GBq injected (Gy/GBq), by :func:`lung_dose_gy`."""
        return lung_dose_gy(
            1.0,
            self.lsf,
            self.k,
            lung_mass_kg=self.case.lung.mass_kg,
            residual_fraction=self.residual,
        )


@dataclass(frozen=True)
class MethodRequest:
    """What a method asks for before the limits: activities per territory (GBq, to inject)."""

    activities_gbq: tuple[float, ...]
    target: Target | None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def case_lung_shunt(case: Case) -> tuple[float, LungShuntSource] | None:
    """The lung shunt fraction the case file gives (directly or by planar counts).

    Parameters
    ----------
    case : Case
        The validated case.

    Returns
    -------
    tuple of (float, LungShuntSource) or None
        The lung shunt fraction in [0, 1] and where it comes from; None when the case file
        gives neither (a voxel case measures it on SPECT/CT).
    """
    if case.lung.shunt_fraction is not None:
        return case.lung.shunt_fraction, LungShuntSource.CASE_FILE
    counts = case.lung.planar_counts
    if counts is None:
        return None
    lsf = lung_shunt_fraction_from_counts(counts.lung, counts.liver)
    return lsf, LungShuntSource.PLANAR_COUNTS


def typed_ml(volume_ml: float | None) -> float:
    """A case-file volume that :func:`plan_context` has checked is typed.

    Parameters
    ----------
    volume_ml : float or None
        A volume of the case file (mL).

    Returns
    -------
    float
        The same volume (mL).

    Raises
    ------
    InputError
        When the volume is not typed (left to the images).
    """
    if volume_ml is None:
        raise InputError("a volume of the case is not typed; plan the case from its images")
    return volume_ml


def _compartments(territory: Territory, density_g_per_ml: float) -> TerritoryCompartments | None:
    tumours = []
    for t in territory.tumours:
        if t.tn_ratio is None:
            return None
        tumours.append((t.name, typed_ml(t.volume_ml), t.tn_ratio))
    return TerritoryCompartments.from_volumes(
        territory.name, typed_ml(territory.volume_ml), tuple(tumours), density_g_per_ml
    )


def plan_context(case: Case, *, lung_shunt_source: LungShuntSource | None = None) -> PlanContext:
    """Derive the shared quantities of a case.

    Parameters
    ----------
    case : Case
        The validated case, every volume typed (or measured and written in).
    lung_shunt_source : LungShuntSource, optional
        Where ``lung.shunt_fraction`` was measured when the case holds a value measured
        elsewhere (e.g. on the SPECT/CT by
        :func:`opensirt.workflow.pretreatment.plan_from_images`); by default the case file's
        key is named.

    Returns
    -------
    PlanContext
        Device, lung shunt and its source, residual, dose constant, density (kg/mL), the
        applied limits and the partition compartments of every territory.

    Raises
    ------
    InputError
        When the case leaves a volume to its images (planned by
        :func:`opensirt.workflow.pretreatment.plan_from_images`), or gives no lung shunt.
    """
    untyped = untyped_volumes(case)
    if case.method is Method.PARTITION:
        untyped += [
            f"the tn_ratio of tumour {t.name!r}"
            for terr in case.territories
            for t in terr.tumours
            if t.tn_ratio is None
        ]
    if untyped:
        raise InputError(
            f"{untyped[0]} is not in the case file: it is measured from the images, so plan "
            "this case from them (opensirt plan, or opensirt.workflow.pretreatment."
            "plan_from_images), or type it"
        )
    device = get_device(case.device)
    given = case_lung_shunt(case)
    if given is None:
        raise InputError(
            "the case file gives no lung shunt (lung.shunt_fraction or lung.planar_counts); "
            "plan it from the images (method voxel) or give one"
        )
    lsf, lsf_source = given
    p = case.prescription
    if lung_shunt_source is not None:
        lsf_source = lung_shunt_source
    overrides: dict[str, float | None] = {name.value: getattr(p, name.value) for name in LimitName}
    compromised = compromised_liver(case.patient.labs, case.liver.compromised)
    density_g_per_ml = case.liver.density_g_ml  # the case-file key keeps its contract spelling
    return PlanContext(
        case=case,
        device=device,
        lsf=lsf,
        lsf_source=lsf_source,
        residual=p.residual_fraction,
        k=device.dose_constant_gy_kg_per_gbq,
        kg_per_ml=density_g_per_ml / 1000.0,
        limits=applied_limits(device, overrides=overrides, compromised=compromised),
        compartments=tuple(_compartments(t, density_g_per_ml) for t in case.territories),
    )


def lung_limits(ctx: PlanContext) -> list[LinearLimit]:
    """The lung limits as linear constraints on the territory activities.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (lung dose per GBq, limits, previous lung dose).

    Returns
    -------
    list of LinearLimit
        Lung per session, and cumulative with what is left after ``lung.previous_dose_gy``
        (Gy); both shared by all territories.
    """
    n = len(ctx.case.territories)
    remaining = ctx.limits.lung_cumulative_max_gy - ctx.case.lung.previous_dose_gy
    return [
        LinearLimit(LimitName.LUNG_MAX, ctx.limits.lung_max_gy, (ctx.lung_gy_per_gbq,) * n),
        LinearLimit(LimitName.LUNG_CUMULATIVE_MAX, remaining, (ctx.lung_gy_per_gbq,) * n),
    ]


def normal_liver_limits(ctx: PlanContext) -> list[LinearLimit]:
    """The normal-liver limit as linear constraints on the territory activities.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (compartments, limits and their scope).

    Returns
    -------
    list of LinearLimit
        One limit per territory (scope ``perfused``) or one shared limit on the mean dose of
        the whole non-tumoural liver (scope ``whole``); empty when the limit is not set or a
        tumour has no T/N.
    """
    limit = ctx.limits.normal_liver_max_gy
    comps = [c for c in ctx.compartments if c is not None]
    if limit is None or len(comps) != len(ctx.compartments):
        return []
    per_gbq = [
        normal_dose_per_gbq(c, ctx.k, lung_shunt_fraction=ctx.lsf, residual_fraction=ctx.residual)
        for c in comps
    ]
    if ctx.limits.normal_liver_scope is NormalLiverScope.WHOLE:
        whole = ctx.whole_normal_mass_kg
        shared = tuple(d * c.normal_mass_kg / whole for d, c in zip(per_gbq, comps, strict=True))
        return [LinearLimit(LimitName.NORMAL_LIVER_MAX, limit, shared)]
    n = len(per_gbq)
    return [
        LinearLimit(
            LimitName.NORMAL_LIVER_MAX,
            limit,
            tuple(d if i == j else 0.0 for i in range(n)),
            territory=j,
        )
        for j, d in enumerate(per_gbq)
    ]


def prescribed_target(ctx: PlanContext, name: TargetName) -> Target:
    """The target dose of a plan: the case file's prescription, or the device's default.

    Parameters
    ----------
    ctx : PlanContext
        The planning context (case prescription, device defaults and their sources).
    name : TargetName
        Which target: ``prescription.<name>`` of the case file, else the device default.

    Returns
    -------
    Target
        The target dose (Gy) and its source, not yet achieved.

    Raises
    ------
    InputError
        When the case file gives no value and the device has no default for it.
    """
    given = getattr(ctx.case.prescription, name.value)
    default = getattr(ctx.device.limits, name.default_field)
    value = given if given is not None else default
    if value is None:
        raise InputError(
            f"prescription.{name.value} is not given and device {ctx.device.name.value!r} has "
            f"no default for it; add prescription.{name.value} (Gy) to the case file"
        )
    source = (
        "case file" if given is not None else ctx.device.limits.sources.get(name.default_field, "")
    )
    return Target(name=name, value_gy=float(value), achieved_gy=None, source=source or "")
