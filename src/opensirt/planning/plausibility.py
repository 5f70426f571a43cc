"""Plausible ranges of the case file's numbers and times, with the reasoning behind each.

A value outside its range is refused (never clipped): it is almost always a unit slip (mCi
written as GBq, a percentage as a fraction, a date typed a month off) or a corrupted file,
and planning on it gives an absurd activity. The ranges are wide on purpose: they catch
mistakes, they do not judge a clinical choice.

* Liver volume 200-10,000 mL. The standard adult liver is about 1,000-2,000 mL (Heinemann
  et al. 1999, Liver Transpl 5:366, SLV = 1072.8 BSA - 345.7 mL); a remnant after extended
  hepatectomy keeps 20-30 % of it (more than 200 mL), and the largest tumour-laden livers
  reported hold 6-8 L.
* Territory volume 1-10,000 mL: a perfused territory is at least a subsegment (tens of mL);
  1 mL is about a dozen SPECT voxels of 4.4 mm, below which no perfusion can be measured.
* Tumour volume 0.01-10,000 mL: 0.01 mL is a sphere of 2.7 mm, below CT and SPECT
  resolution, so a smaller value is a unit slip (L or m3 written as mL).
* T/N ratio above 0 and at most 100: MAA tumour-to-normal ratios reported for partition
  planning lie between about 0.5 and 20 (Ho et al. 1996, doi:10.1007/BF01084369; Levillain
  et al. 2021, doi:10.1007/s00259-020-05163-5); 100 leaves a fivefold margin.
* Lung mass 0.3-3 kg: the MIRD reference lung is 1 kg, CT-measured lung masses of adults
  lie within about 0.5-1.5 kg.
* Earlier lung dose 0-100 Gy: twice the cumulative lung limit of 50 Gy (Leung et al. 1995,
  doi:10.1016/0360-3016(95)00039-3); more is a unit slip.
* Residual fraction below 0.5: residuals are a few percent (Weber et al. 2022, EANM,
  doi:10.1007/s00259-021-05600-z); the planned activity is divided by 1 - R, so R = 0.5
  already doubles it and R near 1 asks for an unbounded activity.
* Doses and limits at most 1,000 Gy: the highest recommended targets are the > 400 Gy of
  glass radiation segmentectomy (Salem et al. 2022, doi:10.1007/s00259-022-05956-w).
* Planar counts at most 1e12: a planar MAA scan records 1e5-1e7 counts.
* Vial advice tolerance (``schedule.vial_tolerance_fraction``) above 0 and at most 0.5: a
  vial 50 % off the planned activity is no longer the plan; the default 0.10 and its
  source are in :mod:`opensirt.planning.schedule`.
* A vial holds at most the largest vial of its device plus 10 % (the stated calibration
  tolerance of the SIR-Spheres vial, 3 GBq +/- 10 %); Ho-166 activity is prepared per
  patient, and 60 Gy to the largest liver accepted (10,000 mL, 10.3 kg) needs
  3.781 GBq/kg x 10.3 kg = 39 GBq (Smits et al. 2012), so 40 GBq bounds it.
* Times: a vial is calibrated at most one half-life after the treatment (it then holds
  twice its label activity) and at most 6 half-lives before it (1/64 of it is left: Y-90
  16 days, Ho-166 6.7 days; glass vials are used within the two weeks after calibration).
  The vial assay precedes the injection and the residual assay follows it, each within 6
  half-lives; beyond that the decay correction multiplies the assay by more than 64.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationInfo

from opensirt.physics.devices import Device
from opensirt.physics.units import mci_to_gbq

LIVER_VOLUME_ML = (200.0, 10_000.0)
TERRITORY_VOLUME_ML = (1.0, 10_000.0)
TUMOUR_VOLUME_ML = (0.01, 10_000.0)
TN_RATIO_MAX = 100.0
LUNG_MASS_KG = (0.3, 3.0)
PREVIOUS_LUNG_DOSE_MAX_GY = 100.0
RESIDUAL_FRACTION_MAX = 0.5
DOSE_MAX_GY = 1000.0
PLANAR_COUNTS_MAX = 1e12
VIAL_ADVICE_TOLERANCE_MAX = 0.5
VIAL_TOLERANCE_FRACTION = 0.10
HO166_ACTIVITY_MAX_GBQ = 40.0
CALIBRATION_AFTER_TREATMENT_HALF_LIVES = 1.0
DECAY_HALF_LIVES_MAX = 6.0
#: Longest name (patient id, territory, tumour, structure): the DICOM LO value length.
NAME_MAX_CHARS = 64
TERRITORIES_MAX = 20
TUMOURS_PER_TERRITORY_MAX = 100


def in_range(lo: float, hi: float, unit: str, why: str) -> Callable[[float, ValidationInfo], float]:
    """A validator accepting ``lo <= value <= hi`` and naming the range and ``why``.

    The ranges judge what a person typed. Values measured from the images (validation
    context ``{"measured": True}``) are what the images show and are not held to them: the
    image plausibility checks judge those (a CT that covers only the lung bases measures
    a small lung mass, which then gives a conservative, higher lung dose).

    Parameters
    ----------
    lo : float
        Smallest plausible value, in ``unit``.
    hi : float
        Largest plausible value, in ``unit``.
    unit : str
        Unit written after the range in the message (``"mL"``, ``"kg"``; ``""`` for a ratio).
    why : str
        Why the range, in words, for the message.

    Returns
    -------
    callable
        A pydantic after-validator ``(value, info) -> value`` that raises ``ValueError``
        outside the range.
    """

    def check(value: float, info: ValidationInfo) -> float:
        if isinstance(info.context, dict) and info.context.get("measured"):
            return value
        if not lo <= value <= hi:
            raise ValueError(f"expected {lo:g} to {hi:g}{' ' if unit else ''}{unit} ({why})")
        return value

    return check


def max_vial_gbq(device: Device) -> float:
    """The largest activity (GBq) a vial of ``device`` can hold at its calibration.

    Parameters
    ----------
    device : Device
        The microsphere device.

    Returns
    -------
    float
        The largest standard vial plus the tolerance of its stated activity (GBq), or the
        largest Ho-166 activity prepared per patient.
    """
    if not device.vial_activities_gbq:
        return HO166_ACTIVITY_MAX_GBQ
    return max(device.vial_activities_gbq) * (1.0 + VIAL_TOLERANCE_FRACTION)


#: An assay of the vial used for the treatment may hold up to this multiple of the largest
#: label activity: the vial may be assayed up to one half-life before its calibration (see
#: the times above; SIR-Spheres may be used up to 24 h before calibration, x 1.3), or two
#: vials given in one session may be recorded as one assay.
TREATMENT_ASSAY_VIALS_MAX = 2.0


def check_vial(name: str, activity_gbq: float, device: Device, *, assay: bool = False) -> None:
    """Refuse a vial activity above what a vial of ``device`` holds (e.g. mCi as GBq).

    Parameters
    ----------
    name : str
        Key path of the value, for the message.
    activity_gbq : float
        The vial activity (GBq).
    device : Device
        The device whose vials bound it.
    assay : bool
        The activity was measured on the treatment day, and may be up to
        :data:`TREATMENT_ASSAY_VIALS_MAX` times the label activity (devices with vials only).

    Raises
    ------
    ValueError
        When the activity is above what a vial holds (the message suggests mCi).
    """
    top = max_vial_gbq(device)
    if assay and device.vial_activities_gbq:
        top *= TREATMENT_ASSAY_VIALS_MAX
    if activity_gbq > top:
        sizes = ", ".join(f"{v:g}" for v in device.vial_activities_gbq) or "prepared per patient"
        raise ValueError(
            f"{name} is {activity_gbq:g} GBq, more than {device.name.value} vials hold "
            f"(at most {top:g} GBq; vials: {sizes} GBq); was it given in mCi? "
            f"{activity_gbq:g} mCi is {mci_to_gbq(activity_gbq):.3g} GBq"
        )


def check_interval(
    first_name: str, first: datetime, second_name: str, second: datetime, device: Device,
    *, before_half_lives: float = 0.0,
) -> None:  # fmt: skip
    """Refuse unless ``second`` is at most ``before_half_lives`` before ``first`` and at most
    :data:`DECAY_HALF_LIVES_MAX` half-lives after it (the device's half-life).

    Parameters
    ----------
    first_name : str
        Key path of the earlier time, for the message.
    first : datetime
        The earlier time (time-zone aware).
    second_name : str
        Key path of the later time, for the message.
    second : datetime
        The later time (time-zone aware).
    device : Device
        The device whose half-life (h) scales the interval.
    before_half_lives : float
        How many half-lives ``second`` may lie before ``first``; 0 by default.

    Raises
    ------
    ValueError
        When the interval is outside those bounds; the message gives it in days.
    """
    half_life_h = device.half_life_h
    hours = (second - first).total_seconds() / 3600.0
    latest = DECAY_HALF_LIVES_MAX * half_life_h
    earliest = -before_half_lives * half_life_h
    if earliest <= hours <= latest:
        return
    when = f"{abs(hours) / 24:.3g} days {'after' if hours > 0 else 'before'}"
    if before_half_lives == 0.0:
        expected = f"at or after {first_name}"
    else:
        expected = f"at most {-earliest / 24:.3g} days before {first_name}"
    raise ValueError(
        f"{second_name} ({second.isoformat()}) is {when} {first_name} ({first.isoformat()}); "
        f"expected {expected} and at most {latest / 24:.3g} days after it "
        f"({DECAY_HALF_LIVES_MAX:g} half-lives of {half_life_h:g} h). Check the dates"
    )
