"""Vials, decay to the treatment time, and the activity actually delivered.

Decay uses the device's own half-life convention (:attr:`Device.half_life_h`): SIR-Spheres
64.1 h (SIR-Spheres IFU), TheraSphere 64.1 h (TheraSphere package insert), QuiremSpheres
26.8 h; the
decay law is that of :mod:`opensirt.physics.decay`.

TheraSphere dose vials (3, 5, 7, 10, 15, 20 GBq) are calibrated at 12:00 Eastern Time on the
Sunday of the calibration week and used in the days after (TheraSphere IFU); a resin vial holds
3 GBq at the calibration time on its label, from which the prescribed activity is drawn
(SIR-Spheres IFU).

Delivered activity from the assays before and after the injection, each decayed to the
injection time (Weber et al. 2022, EANM, doi:10.1007/s00259-021-05600-z):

    A_delivered = A_pre(t_inj) - A_residual(t_inj),   R = A_residual(t_inj) / A_pre(t_inj)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opensirt.errors import InputError, check_positive
from opensirt.physics.decay import activity_at, hours_between
from opensirt.physics.devices import Device, DeviceName, get_device

#: TheraSphere calibration: Sunday 12:00 US Eastern Time (TheraSphere IFU).
THERASPHERE_CALIBRATION_ZONE = "America/New_York"

#: Default tolerance of the vial advice (``schedule.vial_tolerance_fraction``): a whole glass
#: vial is accepted when its activity at the treatment time is within 10 % of the planned
#: activity. This is a convention, not a manufacturer's specification: the package inserts
#: state no acceptance band for the dose vial. It is half the 20 % at which a difference
#: between the delivered and the prescribed dose is a reportable medical event
#: (US NRC 10 CFR 35.3045(a)(1), applied to Y-90 microspheres by the NRC Microsphere
#: Brachytherapy Licensing Guidance under 10 CFR 35.1000), and about the +/- 10 % to which a
#: microsphere vial's activity is stated (Selwyn et al. 2008, Med Phys 35:1278,
#: doi:10.1118/1.2889621), so a tighter band would be below the calibration's own accuracy.
VIAL_TOLERANCE_FRACTION_DEFAULT = 0.10


def _decayed_gbq(activity_gbq: float, start: datetime, end: datetime, device: Device) -> float:
    """``activity_gbq`` at ``start`` decayed to ``end`` with the device's half-life (GBq)."""
    return activity_at(activity_gbq, start, end, device.nuclide, half_life_h=device.half_life_h)


def activity_at_treatment_gbq(
    vial_activity_gbq: float,
    calibration: datetime,
    treatment: datetime,
    device: Device | DeviceName | str,
) -> float:
    """Activity (GBq) of a vial at the treatment time, by the device's half-life.

    Parameters
    ----------
    vial_activity_gbq : float
        The vial's activity at ``calibration`` (GBq).
    calibration : datetime
        The time the vial activity is stated for (time-zone aware).
    treatment : datetime
        The treatment time (time-zone aware).
    device : Device, DeviceName or str
        The device, whose own half-life convention (h) decays the activity.

    Returns
    -------
    float
        The vial's activity at ``treatment`` (GBq).

    >>> from datetime import datetime, timedelta, timezone
    >>> cal = datetime(2026, 11, 22, 12, tzinfo=timezone(timedelta(hours=-5)))
    >>> round(activity_at_treatment_gbq(10.0, cal, cal + timedelta(hours=64.1), "therasphere"), 9)
    5.0
    """
    check_positive("vial_activity_gbq", vial_activity_gbq, "GBq")
    return _decayed_gbq(vial_activity_gbq, calibration, treatment, get_device(device))


def therasphere_calibration_time(treatment: datetime) -> datetime:
    """The TheraSphere calibration time for a treatment: the last Sunday 12:00 Eastern Time
    at or before ``treatment``.

    Parameters
    ----------
    treatment : datetime
        The treatment time (time-zone aware).

    Returns
    -------
    datetime
        The calibration time, in the America/New_York zone (TheraSphere IFU).

    >>> from datetime import datetime, timedelta, timezone
    >>> therasphere_calibration_time(
    ...     datetime(2026, 11, 25, 10, tzinfo=timezone(timedelta(hours=1)))).isoformat()
    '2026-11-22T12:00:00-05:00'
    """
    hours_between(treatment, treatment)  # refuses a naive time
    try:
        zone = ZoneInfo(THERASPHERE_CALIBRATION_ZONE)
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the system time-zone data
        raise InputError(
            "time-zone data for America/New_York is missing; install the tzdata package or "
            "give schedule.vial_calibration explicitly"
        ) from None
    local = treatment.astimezone(zone)
    sunday = local.date() - timedelta(days=(local.weekday() + 1) % 7)
    candidate = datetime(sunday.year, sunday.month, sunday.day, 12, tzinfo=zone)
    if candidate > local:
        candidate -= timedelta(days=7)
    return candidate


@dataclass(frozen=True)
class VialChoice:
    """A standard vial and what it holds at the treatment time."""

    vial_activity_gbq: float
    calibration: datetime
    activity_at_treatment_gbq: float


def choose_vial(
    required_gbq: float,
    treatment: datetime,
    device: Device | DeviceName | str = DeviceName.THERASPHERE,
    *,
    calibration: datetime | None = None,
) -> VialChoice | None:
    """The smallest standard vial whose activity at ``treatment`` is >= ``required_gbq``.

    Parameters
    ----------
    required_gbq : float
        The activity needed at the treatment time (GBq).
    treatment : datetime
        The treatment time (time-zone aware).
    device : Device, DeviceName or str
        The device, whose own half-life convention (h) decays the activity.
    calibration : datetime, optional
        The vials' calibration time; the TheraSphere calibration time for the treatment by
        default.

    Returns
    -------
    VialChoice or None
        The vial, its calibration and its activity at the treatment time (GBq); None when
        even the largest vial is too small (order a custom activity, or treat earlier).

    >>> from datetime import datetime, timedelta, timezone
    >>> t = datetime(2026, 11, 25, 10, tzinfo=timezone(timedelta(hours=1)))
    >>> choose_vial(3.0, t).vial_activity_gbq  # 3 GBq decays to 1.48 GBq, 5 to 2.46, 7 to 3.45
    7.0
    """
    check_positive("required_gbq", required_gbq, "GBq")
    dev = get_device(device)
    if not dev.vial_activities_gbq:
        raise InputError(
            f"device {dev.name.value!r} has no standard vials (activity prepared per patient)"
        )
    cal = calibration if calibration is not None else therasphere_calibration_time(treatment)
    for vial in sorted(dev.vial_activities_gbq):
        available = activity_at_treatment_gbq(vial, cal, treatment, dev)
        if available >= required_gbq:
            return VialChoice(vial, cal, available)
    return None


def vial_window(
    vial_activity_gbq: float,
    calibration: datetime,
    required_gbq: float,
    device: Device | DeviceName | str,
    *,
    tolerance: float = VIAL_TOLERANCE_FRACTION_DEFAULT,
) -> tuple[datetime, datetime]:
    """The times at which the vial holds between ``required_gbq`` and
    ``required_gbq * (1 + tolerance)``.

    t = t_cal + T1/2 / ln 2 * ln(A_vial / A), from A = A_req (1 + tol) (start) to A = A_req
    (end). The start is before the calibration time when the vial is smaller than the upper
    bound.

    Parameters
    ----------
    vial_activity_gbq : float
        The vial's activity at ``calibration`` (GBq).
    calibration : datetime
        The time the vial activity is stated for (time-zone aware).
    required_gbq : float
        The planned activity (GBq).
    device : Device, DeviceName or str
        The device, whose own half-life convention (h) decays the activity.
    tolerance : float
        Fraction above the planned activity still accepted, in [0, 1); the default is
        :data:`VIAL_TOLERANCE_FRACTION_DEFAULT`.

    Returns
    -------
    tuple of (datetime, datetime)
        The start (the vial holds ``required_gbq * (1 + tolerance)``) and the end (it holds
        ``required_gbq``) of the window.

    >>> from datetime import datetime, timezone
    >>> cal = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    >>> start, end = vial_window(10.0, cal, 5.0, "therasphere", tolerance=0.0)
    >>> (end - cal).total_seconds() / 3600  # one half-life, 64.1 h
    64.1
    """
    check_positive("vial_activity_gbq", vial_activity_gbq, "GBq")
    check_positive("required_gbq", required_gbq, "GBq")
    if not 0.0 <= tolerance < 1.0:
        raise InputError(f"tolerance is {tolerance!r}, expected a fraction in [0, 1)")
    if vial_activity_gbq < required_gbq:
        raise InputError(
            f"vial_activity_gbq {vial_activity_gbq:g} GBq is below the required "
            f"{required_gbq:g} GBq at calibration, so it never holds enough; order a larger vial"
        )
    tau_h = get_device(device).half_life_h / math.log(2.0)
    start_h = tau_h * math.log(vial_activity_gbq / (required_gbq * (1.0 + tolerance)))
    end_h = tau_h * math.log(vial_activity_gbq / required_gbq)
    return calibration + timedelta(hours=start_h), calibration + timedelta(hours=end_h)


@dataclass(frozen=True)
class DeliveredActivity:
    """Activity delivered to the patient, decayed to the injection time (GBq)."""

    pre_at_injection_gbq: float
    residual_at_injection_gbq: float
    delivered_gbq: float
    residual_fraction: float


def delivered_activity(
    *,
    pre_activity_gbq: float,
    pre_measured: datetime,
    residual_activity_gbq: float,
    residual_measured: datetime,
    injection: datetime,
    device: Device | DeviceName | str,
) -> DeliveredActivity:
    """Delivered activity from the vial assay before and the residual assay after injection.

    Parameters
    ----------
    pre_activity_gbq : float
        The vial assay before the injection (GBq).
    pre_measured : datetime
        When the vial was assayed.
    residual_activity_gbq : float
        The residual assay (vial, catheter, tubing) after the injection (GBq, >= 0).
    residual_measured : datetime
        When the residual was assayed.
    injection : datetime
        The injection time, to which both assays are decayed.
    device : Device, DeviceName or str
        The device, whose own half-life convention (h) decays the activity.

    Returns
    -------
    DeliveredActivity
        Both assays at the injection time, the delivered activity (GBq) and the residual
        fraction.

    >>> from datetime import datetime, timedelta, timezone
    >>> t = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    >>> d = delivered_activity(pre_activity_gbq=2.0, pre_measured=t, residual_activity_gbq=0.1,
    ...                        residual_measured=t, injection=t, device="sir-spheres")
    >>> round(d.delivered_gbq, 12), round(d.residual_fraction, 12)
    (1.9, 0.05)
    """
    check_positive("pre_activity_gbq", pre_activity_gbq, "GBq")
    if residual_activity_gbq < 0.0:
        raise InputError(
            f"residual_activity_gbq is {residual_activity_gbq!r} GBq, expected >= 0 GBq"
        )
    dev = get_device(device)
    pre = _decayed_gbq(pre_activity_gbq, pre_measured, injection, dev)
    residual = _decayed_gbq(residual_activity_gbq, residual_measured, injection, dev)
    if not pre > 0.0:
        raise InputError(
            f"the vial assay of {pre_activity_gbq:g} GBq at {pre_measured.isoformat()} decays to "
            f"nothing by the injection at {injection.isoformat()}; check the dates"
        )
    if residual > pre:
        raise InputError(
            f"residual activity {residual:.4g} GBq at injection exceeds the activity before "
            f"injection {pre:.4g} GBq; check the assays and their times"
        )
    return DeliveredActivity(pre, residual, pre - residual, residual / pre)
