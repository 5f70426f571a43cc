"""Which dose limits a plan is held to, and the largest activity that keeps all of them.

The limits are the device's guideline defaults (:mod:`opensirt.physics.devices`) with the
case file's overrides. The normal-liver limit drops to the device's *compromised* value when
``liver.compromised`` is true or, when that key is absent, when the serum bilirubin is above
1.1 mg/dL (18.8 umol/L): the criterion of Salem et al. 2023 for glass microspheres
(doi:10.1007/s00259-022-05956-w), also used here for the "compromised liver" of the resin
recommendations (Levillain et al. 2021, doi:10.1007/s00259-020-05163-5). A
``prescription.normal_liver_max_gy`` in the case file always wins.

Every limit is linear in the activities: a dose ``sum_j c_j A_j`` over the territories j.
:func:`largest_safe_activities` first lowers each territory to its own limits, then scales all
territories by one factor for the limits they share (lung; whole normal liver), so the
relative distribution between territories is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from opensirt.errors import PlanRefusedError
from opensirt.patient.inputs import Labs
from opensirt.patient.units import BILIRUBIN_UMOL_L_PER_MG_DL
from opensirt.physics.devices import Device, DoseLimits, NormalLiverScope


class LimitName(StrEnum):
    """The dose limits a plan is held to; each value is the case-file key that overrides it
    (``prescription.<value>``) and the key of the plan's JSON ``limits`` object."""

    LUNG_MAX = "lung_max_gy"
    LUNG_CUMULATIVE_MAX = "lung_cumulative_max_gy"
    NORMAL_LIVER_MAX = "normal_liver_max_gy"


#: Bilirubin above which the liver counts as compromised (Salem et al. 2023): 1.1 mg/dL.
COMPROMISED_BILIRUBIN_MG_DL = 1.1


def compromised_liver(labs: Labs | None, declared: bool | None) -> tuple[bool, str]:
    """Whether the compromised normal-liver limit applies, and why.

    Parameters
    ----------
    labs : Labs or None
        The patient's labs; the serum bilirubin decides when ``declared`` is None.
    declared : bool or None
        ``liver.compromised`` of the case file; it wins when given.

    Returns
    -------
    tuple of (bool, str)
        Whether the liver counts as compromised (bilirubin above 1.1 mg/dL, Salem et al.
        2023) and the reason in words.

    >>> compromised_liver(Labs(bilirubin_umol_l=25.0), None)[0]
    True
    >>> compromised_liver(Labs(bilirubin_umol_l=25.0), False)
    (False, 'liver.compromised is false in the case file')
    """
    if declared is not None:
        return declared, f"liver.compromised is {str(declared).lower()} in the case file"
    bilirubin_mg_dl = None if labs is None else labs.bilirubin_in_mg_dl()
    if bilirubin_mg_dl is None:
        return False, "no bilirubin in patient.labs: normal-liver limit for a normal liver"
    if bilirubin_mg_dl > COMPROMISED_BILIRUBIN_MG_DL:
        return True, (
            f"bilirubin {bilirubin_mg_dl:.2f} mg/dL > {COMPROMISED_BILIRUBIN_MG_DL} mg/dL "
            f"({COMPROMISED_BILIRUBIN_MG_DL * BILIRUBIN_UMOL_L_PER_MG_DL:.1f} umol/L)"
        )
    return False, f"bilirubin {bilirubin_mg_dl:.2f} mg/dL <= {COMPROMISED_BILIRUBIN_MG_DL} mg/dL"


@dataclass(frozen=True)
class AppliedLimits:
    """The limits of one plan: values (Gy, None where the guideline sets none) and sources."""

    lung_max_gy: float
    lung_cumulative_max_gy: float
    normal_liver_max_gy: float | None
    normal_liver_scope: NormalLiverScope
    defaults: DoseLimits
    sources: dict[str, str]


def applied_limits(
    device: Device,
    *,
    overrides: dict[str, float | None],
    compromised: tuple[bool, str],
) -> AppliedLimits:
    """Device defaults, overridden by the case file, with the compromised-liver rule.

    Parameters
    ----------
    device : Device
        The device whose guideline defaults apply.
    overrides : dict of str to float or None
        Limits (Gy) given in the case file's ``prescription``, by :class:`LimitName` value;
        None where not given.
    compromised : tuple of (bool, str)
        Whether the liver is compromised and why (:func:`compromised_liver`); a compromised
        liver gets the device's lower normal-liver limit unless the case file sets one.

    Returns
    -------
    AppliedLimits
        The limits (Gy), the scope of the normal-liver limit and each limit's source.
    """
    limits = device.limits.with_overrides(**overrides)
    sources = dict(limits.sources)
    normal = limits.normal_liver_max_gy
    is_compromised, why = compromised
    if overrides.get("normal_liver_max_gy") is None and is_compromised:
        normal = limits.normal_liver_max_compromised_gy
        sources["normal_liver_max_gy"] = (
            f"{sources.get('normal_liver_max_compromised_gy')}; compromised liver: {why}"
        )
    return AppliedLimits(
        lung_max_gy=limits.lung_max_gy,
        lung_cumulative_max_gy=limits.lung_cumulative_max_gy,
        normal_liver_max_gy=normal,
        normal_liver_scope=device.normal_liver_limit_scope,
        defaults=limits,
        sources=sources,
    )


@dataclass(frozen=True)
class LinearLimit:
    """A limit ``sum_j coefficients[j] * A_j <= limit_gy`` on the territory activities (GBq).

    ``territory`` is the index of the one territory it concerns, or None when it is shared.
    """

    name: LimitName
    limit_gy: float
    coefficients_gy_per_gbq: tuple[float, ...]
    territory: int | None = None

    def dose_gy(self, activities_gbq: Sequence[float]) -> float:
        """The limited dose for these activities.

        Parameters
        ----------
        activities_gbq : sequence of float
            Activity of each territory (GBq, to inject), in territory order.

        Returns
        -------
        float
            sum_j coefficients[j] * A_j (Gy).
        """
        return sum(c * a for c, a in zip(self.coefficients_gy_per_gbq, activities_gbq, strict=True))


@dataclass(frozen=True)
class SafeActivities:
    """Activities (GBq) per territory after the limits, and the limit binding each one."""

    activities_gbq: tuple[float, ...]
    binding: tuple[LimitName | None, ...]


def largest_safe_activities(
    requested_gbq: Sequence[float], limits: Sequence[LinearLimit]
) -> SafeActivities:
    """The requested activities, lowered to the largest that keep every limit.

    Territory limits lower only their territory; shared limits scale all territories by one
    factor. Nothing is raised.

    Parameters
    ----------
    requested_gbq : sequence of float
        The activity each territory's method asks for (GBq, to inject).
    limits : sequence of LinearLimit
        The limits to keep.

    Returns
    -------
    SafeActivities
        The activities after the limits (GBq) and, per territory, the limit that lowered it
        (None where none did).

    Raises
    ------
    PlanRefusedError
        When a limit allows no positive activity (its limit is <= 0 Gy while the activity
        would give it a dose).

    Examples
    --------
    Two territories asking 2 and 1 GBq; territory 0 may have at most 30 Gy at 20 Gy/GBq
    (1.5 GBq); the lung gets 5 Gy/GBq from both with 10 Gy left: (1.5 + 1) * 5 = 12.5 Gy,
    so both are scaled by 10 / 12.5 = 0.8.

    >>> safe = largest_safe_activities([2.0, 1.0], [
    ...     LinearLimit(LimitName.NORMAL_LIVER_MAX, 30.0, (20.0, 0.0), territory=0),
    ...     LinearLimit(LimitName.LUNG_MAX, 10.0, (5.0, 5.0))])
    >>> [round(a, 9) for a in safe.activities_gbq], [str(b) for b in safe.binding]
    ([1.2, 0.8], ['lung_max_gy', 'lung_max_gy'])
    """
    activities = [float(a) for a in requested_gbq]
    binding: list[LimitName | None] = [None] * len(activities)
    for limit in limits:
        if limit.limit_gy <= 0.0 and limit.dose_gy(activities) > 0.0:
            raise PlanRefusedError(
                f"{limit.name} leaves {limit.limit_gy:g} Gy, so no positive activity is safe"
            )
    for limit in (lim for lim in limits if lim.territory is not None):
        j = limit.territory
        assert j is not None
        dose = limit.coefficients_gy_per_gbq[j] * activities[j]
        if dose > limit.limit_gy:
            activities[j] = limit.limit_gy / limit.coefficients_gy_per_gbq[j]
            binding[j] = limit.name
    scale = 1.0
    shared_name: LimitName | None = None
    for limit in (lim for lim in limits if lim.territory is None):
        dose = limit.dose_gy(activities)
        if dose > limit.limit_gy and limit.limit_gy / dose < scale:
            scale, shared_name = limit.limit_gy / dose, limit.name
    if shared_name is not None:
        activities = [a * scale for a in activities]
        binding = [shared_name] * len(activities)
    return SafeActivities(tuple(activities), tuple(binding))
