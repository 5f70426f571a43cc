"""From emission images to activity per voxel (MBq), and activity to another time.

Three routes, each returning a :class:`Volume` of MBq per voxel (``units == "MBq"``) whose
``metadata["activity_reference_datetime"]`` says when that activity holds:

* SPECT counts and a calibration factor (cps/MBq): the counts of a scan of duration T that
  starts with activity A0 are ``C = k A0 (1 - exp(-lambda T)) / lambda`` (decay during the
  acquisition, MIRD Pamphlet 23, Dewaraja et al. 2012, J Nucl Med 53:1310,
  doi:10.2967/jnumed.111.100123), so ``A0 = C lambda / (k (1 - exp(-lambda T)))``.
* SPECT counts scaled to a known activity in a region ("the liver and the lungs hold all the
  injected activity"): ``A = C x A_region / C_region`` (the relative calibration used for
  MAA and Y-90 SPECT, e.g. EANM 2022 Weber et al., Eur J Nucl Med Mol Imaging 49:1682,
  doi:10.1007/s00259-021-05600-z).
* PET concentrations (Bq/mL): ``A = c x voxel volume``.

Decay uses :mod:`opensirt.physics.decay`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from opensirt.errors import InputError, check_positive
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.regrid import coverage_fraction
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume
from opensirt.physics.decay import decay_factor, hours_between
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

__all__ = [
    "concentration_to_activity_mbq",
    "counts_to_activity_mbq",
    "decay_activity",
    "region_fraction",
    "scale_to_total_activity",
]

_REF = MetaKey.ACTIVITY_REFERENCE_DATETIME.value


def _require_units(volume: Volume, expected: str, what: str) -> None:
    if volume.units != expected:
        raise InputError(
            f"{what} has units {volume.units!r}, expected {expected!r}"
            + (
                " (a PET in counts needs its scanner's calibration first)"
                if expected == "Bq/mL"
                else ""
            )
        )


def _nuclide_of(volume: Volume, nuclide: Nuclide | NuclideName | str | None) -> Nuclide:
    name = nuclide if nuclide is not None else volume.metadata.get(MetaKey.RADIONUCLIDE.value)
    if name is None:
        raise InputError(
            "nuclide is not given and the image metadata names no radionuclide; pass "
            "nuclide='Tc-99m' (or 'Y-90', 'Ho-166')"
        )
    return get_nuclide(name)


def _acquisition_start(volume: Volume) -> datetime | None:
    start = volume.metadata.get(MetaKey.ACQUISITION_DATETIME.value)
    return start if isinstance(start, datetime) else None


def counts_to_activity_mbq(
    image: Volume,
    calibration_cps_per_mbq: float,
    *,
    duration_s: float | None = None,
    nuclide: Nuclide | NuclideName | str | None = None,
) -> Volume:
    """Activity per voxel (MBq at the acquisition start) from counts and a calibration factor.

    Parameters
    ----------
    image : Volume
        Reconstructed counts (``units == "counts"``).
    calibration_cps_per_mbq : float
        Counts per second per MBq of the system for this nuclide and reconstruction.
    duration_s : float, optional
        Acquisition duration (s); default: ``metadata["acquisition_duration_s"]``.
    nuclide : Nuclide or NuclideName or str or None, optional
        Default: ``metadata["radionuclide"]``; used for decay during the acquisition.

    Returns
    -------
    Volume
        float64 activity per voxel (MBq, ``units == "MBq"``) at the acquisition start, which
        its ``metadata["activity_reference_datetime"]`` records (None if the image has no
        acquisition time).

    Raises
    ------
    InputError
        If the image is not in counts, the calibration or duration is not positive, or the
        duration or nuclide is neither given nor in the image metadata.

    Examples
    --------
    >>> v = Volume(np.full((1, 1, 2), 1200.0), spacing_mm=(4, 4, 4), units="counts")
    >>> a = counts_to_activity_mbq(v, 10.0, duration_s=120.0, nuclide="Tc-99m")
    >>> round(float(a.array[0, 0, 0]), 4)  # 1200 / (10 x 120) = 1, plus 0.19 % decay
    1.0019
    """
    _require_units(image, "counts", "image")
    k = check_positive("calibration_cps_per_mbq", calibration_cps_per_mbq, "cps/MBq")
    if duration_s is None:
        duration_s = image.metadata.get(MetaKey.ACQUISITION_DURATION_S.value)
        if duration_s is None:
            raise InputError(
                "duration_s is not given and the image has no acquisition_duration_s; pass the "
                "acquisition duration in seconds"
            )
    duration = check_positive("duration_s", float(duration_s), "s")
    lam_per_s = _nuclide_of(image, nuclide).decay_constant_per_h / 3600.0
    effective_s = -math.expm1(-lam_per_s * duration) / lam_per_s
    activity = np.asarray(image.array, dtype=np.float64) / (k * effective_s)
    return image.with_array(activity, units="MBq", **{_REF: _acquisition_start(image)})


def region_fraction(segmentation: Segmentation, names: list[str], grid: Volume) -> Volume:
    """Fraction of each voxel of ``grid`` inside the union of structures ``names``.

    Parameters
    ----------
    segmentation : Segmentation
        The structures, usually drawn on the CT grid.
    names : list of str
        Structure names whose union is the region (e.g. ``["Liver", "Lungs"]``).
    grid : Volume
        The emission image's grid, in the segmentation's frame of reference.

    Returns
    -------
    Volume
        float64 fractions in [0, 1] on ``grid`` (units ``"fraction"``), for
        :func:`scale_to_total_activity`.

    Raises
    ------
    InputError
        If ``names`` is empty or a structure is missing or empty.
    GeometryError
        If ``grid`` is in another frame of reference.
    """
    return coverage_fraction(segmentation.union(names), grid)


def scale_to_total_activity(
    image: Volume,
    region: Volume,
    total_activity_mbq: float,
    *,
    reference_datetime: datetime | None = None,
) -> Volume:
    """Activity per voxel (MBq) such that ``region`` holds ``total_activity_mbq``.

    Every voxel is scaled by the same factor ``total / (counts in region)``; voxels outside
    the region keep their share (scatter, blur), so the image total may exceed the region's.

    Parameters
    ----------
    image : Volume
        Counts (or any quantity proportional to activity).
    region : Volume
        On the image's grid: a boolean mask, or voxel fractions in [0, 1] (from
        :func:`region_fraction`) for regions drawn on a finer grid.
    total_activity_mbq : float
        Activity in the region at ``reference_datetime`` (default: acquisition start), MBq.
    reference_datetime : datetime or None, optional
        The time at which the region holds ``total_activity_mbq``; ``None`` takes the image's
        acquisition start from its metadata.

    Returns
    -------
    Volume
        float64 activity per voxel (MBq, ``units == "MBq"``), with the reference time in
        ``metadata["activity_reference_datetime"]``.

    Raises
    ------
    GeometryError
        If ``region`` is not on the image's grid.
    InputError
        If the total is not positive, the region holds values outside [0, 1], or the image
        has no signal in the region.

    Examples
    --------
    >>> v = Volume(np.array([[[10.0, 30.0, 60.0]]]), spacing_mm=(4, 4, 4), units="counts")
    >>> liver = v.with_array(np.array([[[0.0, 1.0, 1.0]]]))
    >>> scale_to_total_activity(v, liver, 45.0).array.tolist()  # factor 45/90
    [[[5.0, 15.0, 30.0]]]
    """
    image.require_same_grid(region, "image and region")
    total = check_positive("total_activity_mbq", total_activity_mbq, "MBq")
    weights = np.asarray(region.array, dtype=np.float64)
    if weights.min() < 0 or weights.max() > 1 + 1e-9:
        raise InputError("region has values outside [0, 1], expected a mask or voxel fractions")
    in_region = float(np.sum(np.asarray(image.array, dtype=np.float64) * weights))
    if not in_region > 0:
        raise InputError(
            f"the region holds {in_region} {image.units or 'units'} of signal, so no activity "
            "can be scaled to it; check the region lies on the image (same grid, same patient)"
        )
    activity = np.asarray(image.array, dtype=np.float64) * (total / in_region)
    when = reference_datetime or _acquisition_start(image)
    return image.with_array(activity, units="MBq", **{_REF: when})


def concentration_to_activity_mbq(image: Volume) -> Volume:
    """Activity per voxel (MBq) from a PET in Bq/mL: ``A = c x voxel volume (mL) / 1e6``.

    Parameters
    ----------
    image : Volume
        Activity concentration (``units == "Bq/mL"``), e.g. a decay-corrected Y-90 PET.

    Returns
    -------
    Volume
        float64 activity per voxel (MBq), with the image's activity reference time (or its
        acquisition start) in ``metadata["activity_reference_datetime"]``.

    Raises
    ------
    InputError
        If the image is not in Bq/mL.

    Examples
    --------
    >>> v = Volume(np.full((1, 1, 1), 1.0e6), spacing_mm=(4, 4, 4), units="Bq/mL")
    >>> float(concentration_to_activity_mbq(v).array[0, 0, 0])  # 1 MBq/mL x 0.064 mL
    0.064
    """
    _require_units(image, "Bq/mL", "image")
    activity = np.asarray(image.array, dtype=np.float64) * (image.voxel_volume_ml / 1e6)
    reference = image.metadata.get(_REF, _acquisition_start(image))
    return image.with_array(activity, units="MBq", **{_REF: reference})


def _elapsed_h(start: datetime, end: datetime) -> float:
    aware = [t.utcoffset() is not None for t in (start, end)]
    if all(aware):
        return hours_between(start, end)
    if any(aware):
        raise InputError(
            f"one of {start.isoformat()} and {end.isoformat()} has a time zone and the other "
            "not; give both with their UTC offset"
        )
    return (end - start).total_seconds() / 3600.0  # both on the same (scanner) clock


def decay_activity(
    activity: Volume,
    when: datetime,
    nuclide: Nuclide | NuclideName | str | None = None,
    *,
    reference_datetime: datetime | None = None,
) -> Volume:
    """The activity map decayed (or back-decayed) from its reference time to ``when``.

    The reference time is ``reference_datetime`` or ``metadata["activity_reference_datetime"]``.
    Naive datetimes are accepted only when both are naive (one scanner clock).

    Parameters
    ----------
    activity : Volume
        Activity per voxel (``units == "MBq"``).
    when : datetime
        The time to decay to (earlier than the reference time back-decays).
    nuclide : Nuclide or NuclideName or str or None, optional
        The radionuclide; default ``metadata["radionuclide"]``.
    reference_datetime : datetime or None, optional
        The time at which ``activity`` holds; default
        ``metadata["activity_reference_datetime"]``.

    Returns
    -------
    Volume
        Activity per voxel (MBq) at ``when``, which becomes its reference time.

    Raises
    ------
    InputError
        If the map is not in MBq, has no reference time, names no nuclide, or one datetime
        has a time zone and the other not.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    >>> v = Volume(np.full((1, 1, 1), 2.0), spacing_mm=(4, 4, 4), units="MBq",
    ...            metadata={"activity_reference_datetime": t0, "radionuclide": "Y-90"})
    >>> t1 = datetime(2026, 11, 28, 2, 6, tzinfo=timezone.utc)  # 64.1 h later
    >>> round(float(decay_activity(v, t1).array[0, 0, 0]), 12)
    1.0
    """
    _require_units(activity, "MBq", "activity")
    reference: Any = reference_datetime or activity.metadata.get(_REF)
    if not isinstance(reference, datetime):
        raise InputError(
            "the activity map has no reference time (metadata activity_reference_datetime); "
            "pass reference_datetime"
        )
    factor = decay_factor(_nuclide_of(activity, nuclide), _elapsed_h(reference, when))
    return activity.with_array(np.asarray(activity.array) * factor, units="MBq", **{_REF: when})
