"""Radioactive decay: activity at another time and cumulated activity.

A(t) = A0 exp(-lambda t), lambda = ln 2 / T1/2; cumulated activity between t1 and t2 is
the integral of A(t): A0 / lambda (exp(-lambda t1) - exp(-lambda t2)) (MIRD Pamphlet 21,
Bolch et al. 2009, doi:10.2967/jnumed.108.056036).
"""

from __future__ import annotations

import math
from datetime import datetime

from opensirt.errors import InputError
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide


def hours_between(start: datetime, end: datetime) -> float:
    """Hours from ``start`` to ``end`` (negative if ``end`` is earlier).

    Both must carry a time zone: a vial calibrated in one time zone and injected in another
    is common, and a naive time would silently be off by hours.

    Parameters
    ----------
    start : datetime
        Time the interval starts from (time-zone aware).
    end : datetime
        Time the interval ends at (time-zone aware); may be earlier than ``start``.

    Returns
    -------
    float
        Elapsed time ``end - start`` (h); negative when ``end`` is before ``start``.

    Raises
    ------
    InputError
        If either time has no time zone.
    """
    for label, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError(
                f"{label} time {value.isoformat()} has no time zone, expected an aware "
                "datetime (write it as 2026-11-25T10:00:00+01:00)"
            )
    return (end - start).total_seconds() / 3600.0


def decay_factor(
    nuclide: Nuclide | NuclideName | str, elapsed_h: float, *, half_life_h: float | None = None
) -> float:
    """Fraction of activity left after ``elapsed_h`` hours (> 1 for negative times).

    ``half_life_h`` overrides the nuclide's value, for a device whose instructions use
    another.

    Parameters
    ----------
    nuclide : Nuclide | NuclideName | str
        The radionuclide, as a record or a name such as ``"Y-90"`` (case and dash tolerant).
    elapsed_h : float
        Hours from the reference time; negative for a time before it.
    half_life_h : float | None, optional
        Half-life to use instead of the nuclide's evaluated value (h); ``None`` (default)
        uses the nuclide's.

    Returns
    -------
    float
        exp(-ln 2 * elapsed_h / T1/2), dimensionless: < 1 after the reference time, > 1
        before it.

    Raises
    ------
    InputError
        If the nuclide name is unknown.

    Examples
    --------
    >>> round(decay_factor("Y-90", 64.1), 12)
    0.5
    """
    t_half = get_nuclide(nuclide).half_life_h if half_life_h is None else half_life_h
    return math.exp(-math.log(2.0) * elapsed_h / t_half)


def activity_at(
    activity_gbq: float,
    reference: datetime,
    when: datetime,
    nuclide: Nuclide | NuclideName | str,
    *,
    half_life_h: float | None = None,
) -> float:
    """Activity (GBq) at ``when`` of a source holding ``activity_gbq`` at ``reference``.

    Parameters
    ----------
    activity_gbq : float
        Activity at the reference (calibration) time (GBq).
    reference : datetime
        Time at which ``activity_gbq`` holds (time-zone aware).
    when : datetime
        Time at which the activity is wanted (time-zone aware); may be before ``reference``.
    nuclide : Nuclide | NuclideName | str
        The radionuclide, as a record or a name such as ``"Y-90"``.
    half_life_h : float | None, optional
        Half-life to use instead of the nuclide's evaluated value (h), for a device whose
        instructions state another; ``None`` (default) uses the nuclide's.

    Returns
    -------
    float
        Activity at ``when`` (GBq), decayed forward or back from ``reference``.

    Raises
    ------
    InputError
        If a time has no time zone or the nuclide name is unknown.
    """
    elapsed_h = hours_between(reference, when)
    return activity_gbq * decay_factor(nuclide, elapsed_h, half_life_h=half_life_h)


def cumulated_activity_gbq_h(
    activity_gbq: float,
    nuclide: Nuclide | NuclideName | str,
    start_h: float = 0.0,
    end_h: float = math.inf,
) -> float:
    """Number of decays (in GBq h) between ``start_h`` and ``end_h`` after the reference time.

    ``activity_gbq`` is the activity at time 0. With the defaults this is the complete decay,
    A0 * T1/2 / ln 2.

    Parameters
    ----------
    activity_gbq : float
        Activity at the reference time, time 0 (GBq).
    nuclide : Nuclide | NuclideName | str
        The radionuclide, as a record or a name such as ``"Y-90"``.
    start_h : float, optional
        Start of the integration, in hours after the reference time (default 0, the
        reference time itself).
    end_h : float, optional
        End of the integration, in hours after the reference time (default ``inf``, complete
        decay).

    Returns
    -------
    float
        Cumulated activity, the integral of A(t) from ``start_h`` to ``end_h`` (GBq h).

    Raises
    ------
    InputError
        If ``end_h`` is before ``start_h`` or the nuclide name is unknown.

    Examples
    --------
    >>> round(cumulated_activity_gbq_h(1.0, "Y-90"), 4)
    92.4768
    """
    if end_h < start_h:
        raise InputError(f"end_h is {end_h} h, expected >= start_h ({start_h} h)")
    lam = get_nuclide(nuclide).decay_constant_per_h
    tail = 0.0 if math.isinf(end_h) else math.exp(-lam * end_h)
    return activity_gbq / lam * (math.exp(-lam * start_h) - tail)
