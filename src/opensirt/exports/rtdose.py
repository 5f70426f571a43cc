"""DICOM RT Dose export of a dose Volume (read it back with :func:`read_rtdose`).

Writes one multi-frame RT Dose instance (SOP Class 1.2.840.10008.5.1.4.1.1.481.2; DICOM PS3.3
section A.18, RT Dose IOD): unsigned 32-bit pixels times Dose Grid Scaling (Gy), frames at the
offsets of Grid Frame Offset Vector along the slice normal, Dose Units GY, Dose Type PHYSICAL.
The patient, study and frame of reference come from a reference dataset (a slice of the CT
or SPECT/CT the dose was computed on), so that viewers overlay the dose on that study; the
dose goes into a new series.

Dose Summation Type is ``PLAN`` with a Referenced RT Plan Sequence when an RT Plan is named,
otherwise :data:`NO_PLAN_SUMMATION_TYPE` (see :func:`write_rtdose`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from opensirt.errors import GeometryError, InputError
from opensirt.exports.rtdose_links import DoseLinks, add_dose_links
from opensirt.fileio import write_atomically
from opensirt.imaging.dicom_common import MANUFACTURER, software_version
from opensirt.imaging.rtdose_io import RT_DOSE_STORAGE
from opensirt.imaging.volume import Volume

#: Dose Summation Type written when no RT Plan is named. Every standard term that fits
#: (PLAN, BRACHY, RECORD) makes a referenced RT Plan or Treatment Record Type 1C-required
#: (PS3.3 C.8.8.3), and a radioembolization has neither object; Dose Summation Type has
#: Defined Terms, which implementations may extend, so this value is an extension
#: (validators report it as an unrecognised term: a warning, not an error).
NO_PLAN_SUMMATION_TYPE = "SIRT"
#: Pixel sizes allowed by the RT Dose module (PS3.3 C.8.8.3.4.1).
_BITS_ALLOWED = (16, 32)
_PATIENT_STUDY_TAGS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def _ds_string(value: float) -> str:
    """A decimal string (DS) of at most 16 characters."""
    for digits in range(12, 3, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    raise InputError(f"value {value!r} cannot be written as a DICOM decimal string")


def _orientation(volume: Volume) -> tuple[npt.NDArray[np.float64], bool]:
    """Row/column cosines, and whether the k axis runs against the slice normal."""
    d = volume.direction_matrix
    row, col, kdir = d[:, 0], d[:, 1], d[:, 2]
    normal = np.cross(row, col)
    cos = float(np.dot(normal, kdir))
    if abs(abs(cos) - 1.0) > 1e-4:
        raise GeometryError(
            "dose grid slices are not perpendicular to the slice axis (sheared grid); "
            "resample the dose onto an orthogonal grid before RT Dose export"
        )
    return np.concatenate([row, col]), cos < 0


def _scaled_pixels(dose_gy: npt.NDArray[Any], bits: int) -> tuple[npt.NDArray[Any], str]:
    dose = np.asarray(dose_gy, dtype=np.float64)
    if not np.all(np.isfinite(dose)):
        raise InputError("dose has NaN or infinite values; fill them before RT Dose export")
    low = float(dose.min())
    if low < 0.0:
        raise InputError(
            f"dose has negative values down to {low:.3g} Gy, but RT Dose pixels are unsigned; "
            "set the negative values (image noise) to 0 explicitly before export"
        )
    high = float(dose.max())
    top = 2**bits - 1
    scaling = _ds_string(high / (top - 1) if high > 0 else 1e-9)
    while np.rint(high / float(scaling)) > top:
        scaling = _ds_string(float(scaling) * (1 + 1e-6))
    dtype = np.uint16 if bits == 16 else np.uint32
    return np.rint(dose / float(scaling)).astype(dtype), scaling


def _base_dataset(reference: Dataset | None, frame_uid: str | None) -> Dataset:
    ds = Dataset()
    for tag in _PATIENT_STUDY_TAGS:
        value = getattr(reference, tag, None) if reference is not None else None
        setattr(ds, tag, value if value is not None else "")
    if not ds.StudyInstanceUID:
        ds.StudyInstanceUID = generate_uid()
    ref_frame = getattr(reference, "FrameOfReferenceUID", None) if reference is not None else None
    if ref_frame and frame_uid and ref_frame != frame_uid:
        raise GeometryError(
            f"dose frame of reference {frame_uid} differs from the reference dataset's "
            f"{ref_frame}; export with the reference of the images the dose was computed on"
        )
    ds.FrameOfReferenceUID = frame_uid or ref_frame or generate_uid()
    ds.PositionReferenceIndicator = (
        getattr(reference, "PositionReferenceIndicator", "") if reference is not None else ""
    )
    return ds


def build_rtdose(
    dose: Volume,
    *,
    reference: Dataset | None = None,
    rt_plan_uid: str | None = None,
    series_description: str = "OpenSIRT absorbed dose",
    dose_comment: str = "",
    density_corrected: bool = False,
    bits_allocated: int = 16,
    links: DoseLinks | None = None,
) -> Dataset:
    """The RT Dose dataset of ``dose`` (units must be ``"Gy"``); see :func:`write_rtdose`.

    The dataset is complete except for its file meta information, which
    :func:`write_rtdose` adds when it saves it.

    Parameters
    ----------
    dose : Volume
        Absorbed dose, ``units == "Gy"``, finite values >= 0; slices perpendicular to the
        k axis (a k axis running against the slice normal is flipped).
    reference : Dataset | None, optional
        A slice of the study the dose belongs to: patient, study and (if the dose has none)
        frame of reference are copied from it. ``None`` (default): new UIDs and empty
        patient data.
    rt_plan_uid : str | None, optional
        SOP Instance UID of an RT Plan the dose belongs to: Dose Summation Type ``PLAN``
        and a Referenced RT Plan Sequence. ``None`` (default):
        :data:`NO_PLAN_SUMMATION_TYPE`.
    series_description : str, optional
        Series Description, cut to 64 characters.
    dose_comment : str, optional
        Dose Comment, cut to 64 characters; ``""`` (default) leaves the element out.
    density_corrected : bool, optional
        True if the dose used CT densities: Tissue Heterogeneity Correction ``IMAGE``;
        False (default): ``WATER``.
    bits_allocated : int, optional
        16 (default) or 32 unsigned bits per pixel; pixel value x Dose Grid Scaling is the
        dose (Gy).
    links : DoseLinks | None, optional
        The planning CT slices, the RT Structure Set and the structures' DVHs to reference
        (:func:`opensirt.exports.rtdose_links.add_dose_links`); ``None`` (default): none.

    Returns
    -------
    Dataset
        The RT Dose instance (Dose Units ``GY``, Dose Type ``PHYSICAL``), in a new series.

    Raises
    ------
    InputError
        If ``bits_allocated`` is not 16 or 32, the dose is not in Gy, or it holds NaN,
        infinite or negative values.
    GeometryError
        If the grid is sheared (slices not perpendicular to the k axis) or its frame of
        reference differs from the reference dataset's.
    """
    if bits_allocated not in _BITS_ALLOWED:
        raise InputError(f"bits_allocated is {bits_allocated!r}, expected 16 or 32")
    if dose.units != "Gy":
        raise InputError(f"dose.units is {dose.units!r}, expected 'Gy' (an absorbed dose map)")
    cosines, flip = _orientation(dose)
    array = np.asarray(dose.array)
    origin = np.asarray(dose.origin_mm, dtype=np.float64)
    kdir = dose.direction_matrix[:, 2]
    if flip:
        array = array[::-1]
        origin = origin + kdir * dose.spacing_mm[2] * (dose.shape[0] - 1)
    pixels, scaling = _scaled_pixels(array, bits_allocated)
    now = dt.datetime.now()
    ds = _base_dataset(reference, dose.frame_of_reference_uid)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = RT_DOSE_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceCreationDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = ds.ContentTime = now.strftime("%H%M%S")
    ds.Modality = "RTDOSE"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = "9001"
    ds.SeriesDescription = series_description[:64]
    ds.OperatorsName = ""
    ds.Manufacturer = MANUFACTURER
    ds.SoftwareVersions = software_version()
    ds.InstanceNumber = "1"
    ds.ImageOrientationPatient = [_ds_string(float(c)) for c in cosines]
    ds.ImagePositionPatient = [_ds_string(float(p)) for p in origin]
    ds.PixelSpacing = [_ds_string(dose.spacing_mm[1]), _ds_string(dose.spacing_mm[0])]
    ds.SliceThickness = _ds_string(dose.spacing_mm[2])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = str(pixels.shape[0])
    ds.FrameIncrementPointer = pydicom.tag.Tag(0x3004, 0x000C)
    ds.Rows, ds.Columns = int(pixels.shape[1]), int(pixels.shape[2])
    ds.BitsAllocated = ds.BitsStored = bits_allocated
    ds.HighBit, ds.PixelRepresentation = bits_allocated - 1, 0
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.GridFrameOffsetVector = [_ds_string(k * dose.spacing_mm[2]) for k in range(pixels.shape[0])]
    ds.DoseGridScaling = scaling
    ds.TissueHeterogeneityCorrection = "IMAGE" if density_corrected else "WATER"
    if dose_comment:
        ds.DoseComment = dose_comment[:64]
    if rt_plan_uid:
        ds.DoseSummationType = "PLAN"
        item = Dataset()
        item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.5"
        item.ReferencedSOPInstanceUID = rt_plan_uid
        ds.ReferencedRTPlanSequence = [item]
    else:
        ds.DoseSummationType = NO_PLAN_SUMMATION_TYPE
    if links is not None:
        add_dose_links(ds, links)
    ds.PixelData = np.ascontiguousarray(pixels).astype(f"<u{bits_allocated // 8}").tobytes()
    return ds


def write_rtdose(
    dose: Volume,
    path: str | os.PathLike[str],
    *,
    reference: Dataset | None = None,
    rt_plan_uid: str | None = None,
    series_description: str = "OpenSIRT absorbed dose",
    dose_comment: str = "",
    density_corrected: bool = False,
    bits_allocated: int = 16,
    links: DoseLinks | None = None,
) -> Path:
    """Write ``dose`` (a Volume in Gy) as a DICOM RT Dose file, atomically.

    Parameters
    ----------
    dose : Volume
        Absorbed dose, ``units == "Gy"``, values >= 0; slices perpendicular to the k axis.
    path : path
        Output file (``.dcm``).
    reference : pydicom Dataset, optional
        A slice of the study the dose belongs to: patient, study and (if the dose has none)
        frame of reference are copied from it. Without it, new UIDs and empty patient data.
    rt_plan_uid : str, optional
        SOP Instance UID of an RT Plan the dose belongs to. Given: Dose Summation Type
        ``PLAN`` and a Referenced RT Plan Sequence (required for PLAN, PS3.3 C.8.8.3).
        Not given (radioembolization has no RT Plan object): :data:`NO_PLAN_SUMMATION_TYPE`,
        because PLAN without the plan reference, and RECORD without a treatment record
        reference, are invalid.
    series_description, dose_comment : str
        Free text (at most 64 characters each).
    density_corrected : bool
        True if the dose used CT densities: Tissue Heterogeneity Correction ``IMAGE``,
        otherwise ``WATER``.
    bits_allocated : int
        16 (default) or 32 unsigned bits per pixel. Pixel value x Dose Grid Scaling is the
        dose, so 16 bits resolve 1/65534 of the maximum dose (0.03 Gy at 2000 Gy), far below
        the uncertainty of any SIRT dose map. 16 is the default because the reference
        validator (dicom3tools ``dciodvfy``, 2022 release) aborts on 32-bit pixel data; both
        are valid RT Dose.
    links : DoseLinks, optional
        CT slices, RT Structure Set and DVHs to reference (see :func:`build_rtdose`).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        If ``bits_allocated`` is not 16 or 32, the dose is not in Gy, or it holds NaN,
        infinite or negative values.
    GeometryError
        If the grid is sheared or its frame of reference differs from the reference
        dataset's.
    """
    ds = build_rtdose(
        dose,
        reference=reference,
        rt_plan_uid=rt_plan_uid,
        series_description=series_description,
        dose_comment=dose_comment,
        density_corrected=density_corrected,
        bits_allocated=bits_allocated,
        links=links,
    )
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return write_atomically(path, lambda tmp: ds.save_as(tmp, enforce_file_format=True))
