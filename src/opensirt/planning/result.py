"""The result of planning: activity, doses, constants, limits, warnings, or a refusal.

:meth:`PlanResult.to_dict` gives the JSON object of ``opensirt plan CASE --json`` (the keys of
the case-file contract, plus the formulas used, the target and the schedule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from opensirt.errors import InputError, PlanRefusedError
from opensirt.physics.devices import DeviceName, NormalLiverScope
from opensirt.physics.nuclides import NuclideName
from opensirt.planning.case import Method
from opensirt.planning.limits import LimitName


@dataclass(frozen=True)
class TerritoryResult:
    """One territory of a plan: its activity (GBq, to inject) and mean doses (Gy).

    ``normal_liver_gy`` and the tumour doses need every tumour's T/N; None / absent otherwise.
    ``binding_limit`` names the limit that lowered this territory's activity, if any.
    """

    name: str
    activity_gbq: float
    perfused_mass_kg: float
    perfused_gy: float
    normal_liver_gy: float | None
    tumours_gy: Mapping[str, float]
    binding_limit: LimitName | None = None

    def to_dict(self) -> dict[str, Any]:
        """The territory's object in the plan's JSON ``territories``.

        Returns
        -------
        dict of str to Any
            Name, activity (GBq), perfused mass (kg), doses (Gy) and the binding limit.
        """
        return {
            "name": self.name,
            "activity_gbq": self.activity_gbq,
            "perfused_mass_kg": self.perfused_mass_kg,
            "doses_gy": {
                "perfused": self.perfused_gy,
                "normal_liver": self.normal_liver_gy,
                "tumours": dict(self.tumours_gy),
            },
            "binding_limit": self.binding_limit,
        }


@dataclass(frozen=True)
class LimitCheck:
    """One limit a plan was checked against.

    ``enforced`` limits lower the activity; the others are reported and warned about.
    """

    name: LimitName
    limit_gy: float | None
    dose_gy: float | None
    source: str | None
    enforced: bool
    binding: bool = False

    @property
    def exceeded(self) -> bool:
        """Whether the plan's dose is above the limit (relative tolerance 1e-9)."""
        if self.limit_gy is None or self.dose_gy is None:
            return False
        return self.dose_gy > self.limit_gy * (1.0 + 1e-9) + 1e-12

    def to_dict(self) -> dict[str, Any]:
        """The limit's object in the plan's JSON ``limits``.

        Returns
        -------
        dict of str to Any
            The limit and the dose (Gy), its source, and whether it is enforced, binds and
            is exceeded.
        """
        return {
            "value": self.limit_gy,
            "dose_gy": self.dose_gy,
            "source": self.source,
            "enforced": self.enforced,
            "binding": self.binding,
            "exceeded": self.exceeded,
        }


class LungShuntSource(StrEnum):
    """Where a plan's lung shunt fraction comes from (the plan's JSON
    ``constants.lung_shunt_fraction_source``)."""

    CASE_FILE = "lung.shunt_fraction of the case file"
    PLANAR_COUNTS = "planar geometric mean of lung.planar_counts"
    SPECT_CT = "SPECT/CT (lung counts beyond the lung base)"


class TargetName(StrEnum):
    """The dose a method aims for; each value is the case-file key ``prescription.<value>``.

    Tumour dose: partition and voxel methods; perfused dose: MIRD (and voxel without
    tumours); whole-liver dose: the Ho-166 whole-liver method. BSA aims at no dose.
    """

    TUMOUR_DOSE = "tumour_dose_gy"
    PERFUSED_DOSE = "perfused_dose_gy"
    WHOLE_LIVER_DOSE = "whole_liver_dose_gy"

    @property
    def default_field(self) -> str:
        """The field of :class:`~opensirt.physics.devices.DoseLimits` that holds the
        device's default for this target.

        Returns
        -------
        str
            ``tumour_target_gy``, ``perfused_target_gy`` or ``whole_liver_target_gy``.
        """
        return self.value.replace("_dose_gy", "_target_gy")


@dataclass(frozen=True)
class Target:
    """The dose the method aims for, and whether the plan reaches it."""

    name: TargetName
    value_gy: float
    achieved_gy: float | None
    source: str

    @property
    def reached(self) -> bool:
        """Whether the achieved dose is at least the target (relative tolerance 1e-9)."""
        return self.achieved_gy is not None and self.achieved_gy >= self.value_gy * (1 - 1e-9)


@dataclass(frozen=True)
class ScheduleResult:
    """Vial and timing: the activity available at the treatment time.

    ``planned_activity_gbq`` is the plan's activity to inject (GBq); the vial's activity at
    the treatment time is compared with it (:attr:`vial_difference_percent`), and the vial
    advice accepts a difference within ``tolerance_fraction`` of it
    (``schedule.vial_tolerance_fraction``).
    """

    treatment: datetime
    vial_activity_gbq: float | None
    vial_calibration: datetime | None
    vial_activity_at_treatment_gbq: float | None
    note: str
    planned_activity_gbq: float | None = None
    tolerance_fraction: float | None = None

    @property
    def vial_difference_percent(self) -> float | None:
        """100 (A_vial(t_treatment) - A_planned) / A_planned; None without both activities."""
        if self.vial_activity_at_treatment_gbq is None or not self.planned_activity_gbq:
            return None
        return 100.0 * (self.vial_activity_at_treatment_gbq / self.planned_activity_gbq - 1.0)

    @property
    def within_tolerance(self) -> bool | None:
        """Whether the vial at the treatment time is within the tolerance of the plan."""
        diff = self.vial_difference_percent
        if diff is None or self.tolerance_fraction is None:
            return None
        return abs(diff) <= 100.0 * self.tolerance_fraction * (1.0 + 1e-12)

    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON ``schedule``.

        Returns
        -------
        dict of str to Any
            Times as ISO 8601 text, activities (GBq), the vial's difference from the planned
            activity (%), the tolerance and whether the vial is within it, and the advice.
        """
        return {
            "treatment": self.treatment.isoformat(),
            "vial_activity_gbq": self.vial_activity_gbq,
            "vial_calibration": (
                self.vial_calibration.isoformat() if self.vial_calibration else None
            ),
            "vial_activity_at_treatment_gbq": self.vial_activity_at_treatment_gbq,
            "planned_activity_gbq": self.planned_activity_gbq,
            "vial_difference_percent": self.vial_difference_percent,
            "vial_tolerance_fraction": self.tolerance_fraction,
            "vial_within_tolerance": self.within_tolerance,
            "note": self.note,
        }


@dataclass(frozen=True)
class PlanConstants:
    """The physical constants and conventions a plan used, each with its source.

    Attributes
    ----------
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq): absorbed dose of 1 GBq decaying fully in
        1 kg of tissue.
    dose_constant_source : str
        Where k comes from (instructions for use, partition-model literature).
    density_g_per_ml : float
        Tissue density used to turn volumes (mL) into masses (g/mL): ``liver.density_g_ml``
        of the case file.
    density_source : str
        Where the density comes from.
    half_life_h : float
        Half-life of the device's decay tables (h).
    nuclide : NuclideName
        The radionuclide of the device.
    lung_mass_kg : float
        Lung mass of the partition lung dose (kg): ``lung.mass_kg``, 1 kg when not measured.
    lung_shunt_fraction_source : LungShuntSource
        Where the lung shunt fraction comes from (case file, planar counts, SPECT/CT).
    normal_liver_limit_scope : NormalLiverScope
        Which normal liver the normal-liver limit applies to (per territory, or whole).
    """

    dose_constant_gy_kg_per_gbq: float
    dose_constant_source: str
    density_g_per_ml: float
    density_source: str
    half_life_h: float
    nuclide: NuclideName
    lung_mass_kg: float
    lung_shunt_fraction_source: LungShuntSource
    normal_liver_limit_scope: NormalLiverScope

    def to_dict(self) -> dict[str, Any]:
        """The ``constants`` object of the plan's JSON.

        Returns
        -------
        dict[str, Any]
            The fields by name, except the density, which keeps the case-file key
            ``density_g_ml``; enumerations as their string values.
        """
        return {
            "dose_constant_gy_kg_per_gbq": self.dose_constant_gy_kg_per_gbq,
            "dose_constant_source": self.dose_constant_source,
            "density_g_ml": self.density_g_per_ml,
            "density_source": self.density_source,
            "half_life_h": self.half_life_h,
            "nuclide": self.nuclide.value,
            "lung_mass_kg": self.lung_mass_kg,
            "lung_shunt_fraction_source": self.lung_shunt_fraction_source.value,
            "normal_liver_limit_scope": self.normal_liver_limit_scope.value,
        }

    def labelled(self) -> tuple[tuple[str, str], ...]:
        """The constants as (label, value with unit and source) rows, for the reports.

        Returns
        -------
        tuple of (str, str)
            One row per constant, e.g. ``("Dose constant k", "49.67 Gy kg/GBq (...)")``.

        Examples
        --------
        >>> c = PlanConstants(49.67, "Ho et al. 1996", 1.03, "case file", 64.1, NuclideName.Y90,
        ...                   1.0, LungShuntSource.CASE_FILE, NormalLiverScope.WHOLE)
        >>> c.labelled()[0]
        ('Dose constant k', '49.67 Gy kg/GBq (Ho et al. 1996)')
        """
        scope = {
            NormalLiverScope.PERFUSED: "the non-tumoural liver of each treated territory",
            NormalLiverScope.WHOLE: "the whole non-tumoural liver, untreated parts included",
        }[self.normal_liver_limit_scope]
        return (
            (
                "Dose constant k",
                f"{self.dose_constant_gy_kg_per_gbq:g} Gy kg/GBq ({self.dose_constant_source})",
            ),
            ("Tissue density", f"{self.density_g_per_ml:g} g/mL ({self.density_source})"),
            ("Half-life", f"{self.half_life_h:g} h ({self.nuclide.value})"),
            ("Lung mass", f"{self.lung_mass_kg:.3g} kg"),
            ("Lung shunt fraction from", self.lung_shunt_fraction_source.value),
            ("Normal-liver limit applies to", scope),
        )


@dataclass(frozen=True)
class PlanResult:
    """A plan: activity to inject and the doses it implies, or the reason it is refused.

    Attributes
    ----------
    method, device
        How it was planned.
    activity_gbq : float | None
        Total activity to inject (GBq, before residual loss); None when refused.
    lung_shunt_fraction, residual_fraction : float
    lung_gy, lung_cumulative_gy : float | None
        Lung dose of this session and with ``lung.previous_dose_gy`` added.
    perfused_gy : float | None
        Mean dose over all treated territories.
    normal_liver_gy : float | None
        Mean dose to the non-tumoural liver of the treated territories.
    whole_normal_liver_gy : float | None
        Mean dose to the whole non-tumoural liver (untreated parts get 0 Gy).
    whole_liver_gy : float | None
        Whole-liver dose of the Ho-166 convention (whole-liver method only).
    tumours_gy : Mapping[str, float]
        Mean dose of each tumour with a T/N.
    territories : tuple[TerritoryResult, ...]
    constants : PlanConstants
        Dose constant, density, half-life, lung mass, each with its source.
    limits : tuple[LimitCheck, ...]
    binding_limit : str | None
        The limit that lowered the activity, if any.
    target : Target | None
        What the method aimed for (None for the empirical BSA method).
    formulas : tuple[str, ...]
        The formulas used, for the report.
    warnings : tuple[str, ...]
    refused : str | None
        Why no safe plan exists; None for a plan.
    schedule : ScheduleResult | None
    details : Mapping[str, Any]
        Method-specific intermediate values (e.g. BSA steps).
    """

    method: Method
    device: DeviceName
    lung_shunt_fraction: float
    residual_fraction: float
    constants: PlanConstants
    limits: tuple[LimitCheck, ...]
    formulas: tuple[str, ...]
    activity_gbq: float | None = None
    lung_gy: float | None = None
    lung_cumulative_gy: float | None = None
    perfused_gy: float | None = None
    normal_liver_gy: float | None = None
    whole_normal_liver_gy: float | None = None
    whole_liver_gy: float | None = None
    tumours_gy: Mapping[str, float] = field(default_factory=dict)
    territories: tuple[TerritoryResult, ...] = ()
    binding_limit: str | None = None
    target: Target | None = None
    warnings: tuple[str, ...] = ()
    refused: str | None = None
    schedule: ScheduleResult | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.activity_gbq is None) == (self.refused is None):
            raise InputError(
                f"a plan has an activity or a refusal, not both or neither: activity_gbq is "
                f"{self.activity_gbq!r} and refused is {self.refused!r}"
            )

    def raise_if_refused(self) -> PlanResult:
        """Return ``self``, or raise :class:`~opensirt.errors.PlanRefusedError` if refused.

        Returns
        -------
        PlanResult
            This plan, when it is not refused.

        Raises
        ------
        PlanRefusedError
            When the plan is refused, with the reason.
        """
        if self.refused is not None:
            raise PlanRefusedError(self.refused)
        return self

    def territory_normal_liver_checks(self) -> tuple[tuple[str, LimitCheck], ...]:
        """The normal-liver limit checked in each territory: (territory name, check).

        Given when the limit applies per territory (scope ``"perfused"``) and the plan has
        several territories; empty otherwise (then the plan's own check is the one). Only a
        territory whose activity that limit lowered is ``binding``: a territory whose normal
        liver stays below the limit is not, even when the plan's check binds elsewhere.

        Returns
        -------
        tuple of (str, LimitCheck)
            Each territory's name and its normal-liver check (dose in Gy).
        """
        check = next((c for c in self.limits if c.name is LimitName.NORMAL_LIVER_MAX), None)
        scope = self.constants.normal_liver_limit_scope
        if check is None or check.limit_gy is None or scope is NormalLiverScope.WHOLE:
            return ()
        if len(self.territories) < 2:
            return ()
        return tuple(
            (
                t.name,
                LimitCheck(
                    name=check.name,
                    limit_gy=check.limit_gy,
                    dose_gy=t.normal_liver_gy,
                    source=check.source,
                    enforced=check.enforced,
                    binding=t.binding_limit == check.name,
                ),
            )
            for t in self.territories
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``opensirt plan --json``.

        Returns
        -------
        dict of str to Any
            The keys of the output contract (method, device, activity_gbq, doses_gy,
            territories, constants, limits, warnings, refused ...), enumerations as their
            string values.
        """
        target = None
        if self.target is not None:
            target = {
                "name": self.target.name.value,
                "value_gy": self.target.value_gy,
                "achieved_gy": self.target.achieved_gy,
                "reached": self.target.reached,
                "source": self.target.source,
            }
        return {
            "method": self.method.value,
            "device": self.device.value,
            "activity_gbq": self.activity_gbq,
            "lung_shunt_fraction": self.lung_shunt_fraction,
            "residual_fraction": self.residual_fraction,
            "doses_gy": {
                "lung": self.lung_gy,
                "lung_cumulative": self.lung_cumulative_gy,
                "normal_liver": self.normal_liver_gy,
                "whole_normal_liver": self.whole_normal_liver_gy,
                "perfused": self.perfused_gy,
                "whole_liver": self.whole_liver_gy,
                "tumours": dict(self.tumours_gy),
            },
            "territories": [t.to_dict() for t in self.territories],
            "constants": self.constants.to_dict(),
            "limits": {lim.name.value: lim.to_dict() for lim in self.limits},
            "binding_limit": self.binding_limit,
            "target": target,
            "formulas": list(self.formulas),
            "schedule": self.schedule.to_dict() if self.schedule else None,
            "details": dict(self.details),
            "warnings": list(self.warnings),
            "refused": self.refused,
        }
