"""The vial and timing of a plan: the vial's activity at the treatment time against the
planned activity, and the advice whether to inject the whole vial.

A vial given in the case file (``schedule.vial_activity_gbq`` with ``vial_calibration``) is
decayed to the treatment time (:mod:`opensirt.planning.schedule`); for TheraSphere without
one, the smallest standard vial that holds the planned activity at the treatment time is
chosen. The whole vial is advised when its activity at the treatment time is within
``schedule.vial_tolerance_fraction`` of the planned activity (default and its source:
:data:`opensirt.planning.schedule.VIAL_TOLERANCE_FRACTION_DEFAULT`); a glass vial is injected
whole (TheraSphere IFU), a resin dose is drawn from its vial (SIR-Spheres IFU).
"""

from __future__ import annotations

from dataclasses import replace

from opensirt.physics.devices import Device, DeviceName
from opensirt.planning.context import PlanContext
from opensirt.planning.result import ScheduleResult
from opensirt.planning.schedule import activity_at_treatment_gbq, choose_vial, vial_window


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


def plan_schedule(ctx: PlanContext, activity_gbq: float) -> tuple[ScheduleResult | None, list[str]]:
    """The vial and timing of a plan, and the warnings about them.

    A vial given in the case file is decayed to the treatment time and compared with the
    planned activity; for TheraSphere without one, the smallest standard vial that holds the
    activity at the treatment time is chosen; for other devices the note says what to give.

    Parameters
    ----------
    ctx : PlanContext
        The planning context; its case's ``schedule`` section is used.
    activity_gbq : float
        The planned activity to inject (GBq).

    Returns
    -------
    tuple of (ScheduleResult or None, list of str)
        The schedule (None when the case has no ``schedule``) and its warnings.
    """
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
