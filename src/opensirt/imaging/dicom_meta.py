"""What a DICOM image header says beyond the pixels: units, times, radiopharmaceutical.

The readers store these in :attr:`Volume.metadata` under the keys of :class:`MetaKey`.
Times are :class:`datetime.datetime`, aware when the file gives a time zone (Timezone Offset
From UTC (0008,0201) or an offset in a DT value), naive (scanner local time) otherwise.

References
----------
.. [PS3.3] DICOM PS3.3 Information Object Definitions: C.8.9.1 PET Series module (Units,
   Decay Correction, Series Time as decay reference), C.8.9.2 PET Isotope module,
   C.8.4.10 NM Isotope module, C.7.6.16.2.11 Real World Value Mapping.
   https://dicom.nema.org/medical/dicom/current/output/html/part03.html
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from pydicom.dataset import Dataset

from opensirt.errors import ImageReadError
from opensirt.physics.nuclides import NuclideName

__all__ = [
    "MetaKey",
    "parse_dicom_datetime",
    "pixel_value_mapping",
    "series_metadata",
    "volume_units",
]


class MetaKey(StrEnum):
    """Keys of :attr:`Volume.metadata` filled by the DICOM readers."""

    MODALITY = "modality"
    PATIENT_ID = "patient_id"
    STUDY_UID = "study_instance_uid"
    SERIES_UID = "series_instance_uid"
    SERIES_DESCRIPTION = "series_description"
    SERIES_DATETIME = "series_datetime"
    ACQUISITION_DATETIME = "acquisition_datetime"
    ACQUISITION_DURATION_S = "acquisition_duration_s"
    DICOM_UNITS = "dicom_units"
    DECAY_CORRECTION = "decay_correction"
    ACTIVITY_REFERENCE_DATETIME = "activity_reference_datetime"
    RADIOPHARMACEUTICAL = "radiopharmaceutical"
    RADIONUCLIDE = "radionuclide"
    RADIONUCLIDE_TOTAL_DOSE_BQ = "radionuclide_total_dose_bq"
    RADIONUCLIDE_HALF_LIFE_S = "radionuclide_half_life_s"
    RADIOPHARMACEUTICAL_START_DATETIME = "radiopharmaceutical_start_datetime"
    ENERGY_WINDOW = "energy_window"
    SOURCE = "source"
    READER_WARNINGS = "reader_warnings"


#: Radionuclide code meanings (DICOM CID 18 and CID 4020) and code values, to nuclide names.
_NUCLIDE_BY_CODE = {
    "^90^yttrium": NuclideName.Y90,
    "14691008": NuclideName.Y90,
    "c-162a7": NuclideName.Y90,
    "^99m^technetium": NuclideName.TC99M,
    "c-163a8": NuclideName.TC99M,
    "^166^holmium": NuclideName.HO166,
}


def _tz(ds: Dataset) -> timezone | None:
    offset = str(ds.get("TimezoneOffsetFromUTC", "") or "").strip()
    if len(offset) == 5 and offset[0] in "+-" and offset[1:].isdigit():
        return _parse_offset(offset)
    return None


def parse_dicom_datetime(
    date: Any, time: Any = None, *, tz: timezone | None = None
) -> datetime | None:
    """A datetime from DICOM DA + TM values, or one DT value (``date`` alone).

    Returns None when the values are absent or empty; raises :class:`ImageReadError` when they
    are malformed.

    Parameters
    ----------
    date : Any
        A DA value (``YYYYMMDD``), or a whole DT value (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``, the
        offset optional) when ``time`` is None.
    time : Any, optional
        A TM value (``HHMMSS.FFFFFF``, colons tolerated); None when ``date`` is a DT.
    tz : datetime.timezone or None, optional
        Time zone to attach (the dataset's Timezone Offset From UTC); an offset inside a DT
        value wins. None leaves the result naive (scanner clock).

    Returns
    -------
    datetime or None
        The date and time, aware if an offset is known; None if a value is absent or empty.

    Raises
    ------
    ImageReadError
        If the values are malformed.

    Examples
    --------
    >>> parse_dicom_datetime("20261125", "101530.25")
    datetime.datetime(2026, 11, 25, 10, 15, 30, 250000)
    >>> parse_dicom_datetime("20261125101530+0100").isoformat()
    '2026-11-25T10:15:30+01:00'
    """
    text = str(date or "").strip()
    if not text:
        return None
    if time is not None:
        clock = str(time or "").strip()
        if not clock:
            return None
        text = text + clock.replace(":", "")
    offset_tz = tz
    if len(text) > 13 and text[-5] in "+-" and text[-4:].isdigit():  # DT with &ZZXX offset
        offset_tz = _parse_offset(text[-5:])
        text = text[:-5]
    whole, _, frac = text.partition(".")
    try:
        base = datetime.strptime(whole.ljust(14, "0")[:14], "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise ImageReadError(
            f"date/time {date!r} {time!r} is not a DICOM DA/TM/DT value (YYYYMMDDHHMMSS.FFFFFF)"
        ) from exc
    micro = int((frac + "000000")[:6]) if frac.isdigit() else 0
    return base.replace(microsecond=micro, tzinfo=offset_tz)


def _parse_offset(text: str) -> timezone:
    minutes = int(text[1:3]) * 60 + int(text[3:5])
    return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))


def _series_times(ds: Dataset, tz: timezone | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    series = parse_dicom_datetime(ds.get("SeriesDate"), ds.get("SeriesTime"), tz=tz)
    acquisition = parse_dicom_datetime(ds.get("AcquisitionDateTime"), tz=tz)
    if acquisition is None:
        acquisition = parse_dicom_datetime(
            ds.get("AcquisitionDate", ds.get("SeriesDate")), ds.get("AcquisitionTime"), tz=tz
        )
    out[MetaKey.SERIES_DATETIME] = series
    out[MetaKey.ACQUISITION_DATETIME] = acquisition or series
    return out


def _duration_s(ds: Dataset) -> float | None:
    """Acquisition duration: NM tomo rotations (frames x frame time), else Actual Frame Duration."""
    rotations = ds.get("RotationInformationSequence")
    if rotations:
        total_ms = 0.0
        for rot in rotations:
            if "ActualFrameDuration" in rot and "NumberOfFramesInRotation" in rot:
                total_ms += float(rot.ActualFrameDuration) * int(rot.NumberOfFramesInRotation)
        if total_ms > 0:
            return total_ms / 1000.0
    if "ActualFrameDuration" in ds:
        return float(ds.ActualFrameDuration) / 1000.0
    return None


def _radiopharmaceutical(ds: Dataset, tz: timezone | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    if not seq:
        return out
    item = seq[0]
    out[MetaKey.RADIOPHARMACEUTICAL] = str(item.get("Radiopharmaceutical", "") or "") or None
    codes = item.get("RadionuclideCodeSequence") or []
    if codes:
        code = codes[0]
        for key in (str(code.get("CodeMeaning", "")), str(code.get("CodeValue", ""))):
            if key.strip().lower() in _NUCLIDE_BY_CODE:
                out[MetaKey.RADIONUCLIDE] = _NUCLIDE_BY_CODE[key.strip().lower()].value
                break
        else:
            out[MetaKey.RADIONUCLIDE] = str(code.get("CodeMeaning", "")) or None
    if item.get("RadionuclideTotalDose") not in (None, ""):
        out[MetaKey.RADIONUCLIDE_TOTAL_DOSE_BQ] = float(item.RadionuclideTotalDose)
    if item.get("RadionuclideHalfLife") not in (None, ""):
        out[MetaKey.RADIONUCLIDE_HALF_LIFE_S] = float(item.RadionuclideHalfLife)
    start = parse_dicom_datetime(item.get("RadiopharmaceuticalStartDateTime"), tz=tz)
    if start is None and item.get("RadiopharmaceuticalStartTime"):
        start = parse_dicom_datetime(ds.get("SeriesDate"), item.RadiopharmaceuticalStartTime, tz=tz)
        warnings.warn(
            "RadiopharmaceuticalStartDateTime absent: the injection date was taken as the "
            "SeriesDate with RadiopharmaceuticalStartTime; check it if the scan was on another day",
            stacklevel=3,
        )
    out[MetaKey.RADIOPHARMACEUTICAL_START_DATETIME] = start
    return out


def volume_units(ds: Dataset, rwv_units: str | None = None) -> str:
    """The meaning of the voxel values: ``"HU"``, ``"Bq/mL"``, ``"counts"``, or the raw unit.

    PET Units (0054,1001): BQML is Bq/mL, CNTS counts; NM reconstructions hold counts unless a
    real-world value mapping gives a unit.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        An image dataset (its Modality and Units are read).
    rwv_units : str or None, optional
        The unit code of a Real World Value Mapping, if the pixels are mapped by one.

    Returns
    -------
    str
        ``"HU"`` for CT, ``"Bq/mL"``, ``"counts"``, another unit as the header spells it
        (lower case for PET Units), or ``""`` when unknown.
    """
    modality = str(ds.get("Modality", ""))
    if modality == "CT":
        return "HU"
    if rwv_units:
        return "Bq/mL" if rwv_units.lower() in {"bq/ml", "bqml"} else rwv_units
    units = str(ds.get("Units", "") or "").upper()
    if units == "BQML":
        return "Bq/mL"
    if units == "CNTS" or (modality == "NM" and not units):
        return "counts"
    return units.lower() if units else ""


def _number(item: Dataset, keyword: str, default: float, source: str) -> float:
    """A finite DS value of ``item`` (``default`` when absent or empty)."""
    where = f"{source}: " if source else ""
    try:
        raw = item.get(keyword, default)
        value = default if raw in (None, "") else float(raw)
    except (TypeError, ValueError) as exc:
        raise ImageReadError(f"{where}{keyword} is not a decimal number ({exc})") from exc
    if not math.isfinite(value):
        raise ImageReadError(f"{where}{keyword} is {value}, expected a finite number")
    return value


def _slope(item: Dataset, keyword: str, source: str) -> float:
    slope = _number(item, keyword, 1.0, source)
    if slope == 0.0:
        where = f"{source}: " if source else ""
        raise ImageReadError(
            f"{where}{keyword} is 0, which maps every pixel to the same value; the header is "
            "corrupt (a slope of 0 is not 1): export the series again"
        )
    return slope


def pixel_value_mapping(item: Dataset, source: str = "") -> tuple[float, float, str | None] | None:
    """``(slope, intercept, units)`` from Rescale Slope/Intercept or a Real World Value Mapping.

    Rescale (the Modality LUT) wins when both are present; None when none is. A slope of 0 or
    a value that is not a finite number is refused (:class:`ImageReadError`, naming ``source``).

    Parameters
    ----------
    item : pydicom.dataset.Dataset
        The dataset, or a per-frame functional group item, holding the mapping.
    source : str, optional
        The file it was read from, for messages.

    Returns
    -------
    tuple of (float, float, str or None) or None
        ``(slope, intercept, units)`` with ``value = slope x stored + intercept``; ``units`` is
        the Real World Value Mapping's unit code, None for a rescale; None if no mapping.

    Raises
    ------
    ImageReadError
        If the slope is 0, a value is not a finite number, or the mapping is a lookup table.
    """
    if "RescaleSlope" in item or "RescaleIntercept" in item:
        slope = _slope(item, "RescaleSlope", source)
        return slope, _number(item, "RescaleIntercept", 0.0, source), None
    for group in (item, *(item.get("PixelValueTransformationSequence") or [])):
        rwvm = group.get("RealWorldValueMappingSequence")
        if rwvm:
            m = rwvm[0]
            if "RealWorldValueLUTData" in m and "RealWorldValueSlope" not in m:
                raise ImageReadError(
                    "Real World Value Mapping uses a lookup table, which OpenSIRT does not "
                    "apply; export the series with a linear mapping (slope and intercept)"
                )
            unit_seq = m.get("MeasurementUnitsCodeSequence") or []
            units = str(unit_seq[0].get("CodeValue", "")) or None if unit_seq else None
            return (
                _slope(m, "RealWorldValueSlope", source),
                _number(m, "RealWorldValueIntercept", 0.0, source),
                units,
            )
    return None


def _decay_reference(ds: Dataset, meta: dict[str, Any]) -> dict[str, Any]:
    correction = str(ds.get("DecayCorrection", "") or "").upper() or None
    out: dict[str, Any] = {MetaKey.DECAY_CORRECTION: correction}
    if correction == "START":  # PS3.3 C.8.9.1.1.5: decay corrected to the Series Date/Time
        out[MetaKey.ACTIVITY_REFERENCE_DATETIME] = (
            meta[MetaKey.SERIES_DATETIME] or meta[MetaKey.ACQUISITION_DATETIME]
        )
    elif correction == "ADMIN":
        out[MetaKey.ACTIVITY_REFERENCE_DATETIME] = meta.get(
            MetaKey.RADIOPHARMACEUTICAL_START_DATETIME
        )
    else:
        # no decay correction: the values average the activity over the acquisition
        out[MetaKey.ACTIVITY_REFERENCE_DATETIME] = meta[MetaKey.ACQUISITION_DATETIME]
    return out


def series_metadata(ds: Dataset, source: str) -> dict[str, Any]:
    """The :class:`MetaKey` entries of one image header (the first slice or frame).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The header of the series' first slice (or its multi-frame object).
    source : str
        The file it was read from, recorded under ``MetaKey.SOURCE`` and named in warnings.

    Returns
    -------
    dict of str to Any
        Modality, patient, study and series identifiers, DICOM Units, series and acquisition
        datetimes, acquisition duration (s), radiopharmaceutical (nuclide, injected activity,
        injection time) and, for PT and NM, the decay correction and the activity reference
        datetime. A PT or NM header without radiopharmaceutical gives a warning.

    Raises
    ------
    ImageReadError
        If a date or time in the header is malformed (other malformed values raise the
        parser's own errors, which the readers turn into ImageReadError).
    """
    tz = _tz(ds)
    meta: dict[str, Any] = {
        MetaKey.MODALITY: str(ds.get("Modality", "")),
        MetaKey.PATIENT_ID: str(ds.get("PatientID", "")),
        MetaKey.STUDY_UID: str(ds.get("StudyInstanceUID", "")),
        MetaKey.SERIES_UID: str(ds.get("SeriesInstanceUID", "")),
        MetaKey.SERIES_DESCRIPTION: str(ds.get("SeriesDescription", "")),
        MetaKey.DICOM_UNITS: str(ds.get("Units", "")) or None,
        MetaKey.SOURCE: source,
    }
    meta.update(_series_times(ds, tz))
    meta[MetaKey.ACQUISITION_DURATION_S] = _duration_s(ds)
    meta.update(_radiopharmaceutical(ds, tz))
    if meta[MetaKey.MODALITY] in {"PT", "NM"}:
        meta.update(_decay_reference(ds, meta))
        if MetaKey.RADIONUCLIDE not in meta:
            warnings.warn(
                f"{source}: no RadiopharmaceuticalInformationSequence; the radionuclide and "
                "injection time are unknown and must be given for quantification",
                stacklevel=3,
            )
    return {str(k): v for k, v in meta.items()}
