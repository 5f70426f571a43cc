"""Write CT, NM (SPECT) and PET volumes as DICOM series that other tools can read.

* CT: CT Image Storage, one file per slice, int16 HU (slope 1, intercept 0).
* NM: NM Image Storage, one multi-frame file, reconstructed tomography (RECON TOMO), frames
  stacked along the slice normal from the Detector Information Sequence's Image Position.
* PT: PET Image Storage, one file per slice, Units BQML, per-slice Rescale Slope, decay
  corrected to the acquisition start (DecayCorrection START, the Series Time).

Every series shares the study and frame of reference of its :class:`DicomContext`.

References
----------
.. [PS3.3] DICOM PS3.3: A.3 CT Image IOD, A.5 NM Image IOD, A.21 PET Image IOD and their
   modules (C.8.2.1 CT Image, C.8.4 NM modules, C.8.9 PET modules).
.. [CID] DICOM PS3.16 CID 18 Isotopes in Radiopharmaceuticals, CID 4020 PET Radionuclide,
   CID 25 Radiopharmaceuticals (codes below).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import (
    CTImageStorage,
    NuclearMedicineImageStorage,
    PositronEmissionTomographyImageStorage,
)

from opensirt.errors import GeometryError, InputError
from opensirt.imaging.dicom_common import (
    DicomContext,
    dicom_date,
    dicom_time,
    new_dataset,
    save_dataset,
)
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import NuclideName, get_nuclide

__all__ = [
    "Radiopharmaceutical",
    "ct_datasets",
    "nm_dataset",
    "pet_datasets",
    "write_series",
]

#: Radionuclide codes: SNOMED CT for Y-90 (CID 4020), the SNOMED-RT code of CID 18 for
#: Tc-99m, and the NCI Thesaurus code for Ho-166 (no DICOM context group lists it).
_NUCLIDE_CODES = {
    NuclideName.Y90: ("14691008", "SCT", "^90^Yttrium"),
    NuclideName.TC99M: ("C-163A8", "SRT", "^99m^Technetium"),
    NuclideName.HO166: ("C1943", "NCIt", "^166^Holmium"),
}


@dataclass(frozen=True)
class Radiopharmaceutical:
    """What was administered, and when: the PET/NM Isotope module.

    Attributes
    ----------
    nuclide : NuclideName
    name : str
        E.g. ``"Tc-99m MAA"`` or ``"Y-90 resin microspheres"``.
    administered_activity_mbq : float
        Activity at ``administration_datetime`` (written as Radionuclide Total Dose, Bq).
    administration_datetime : datetime
        Aware datetime of the injection.
    """

    nuclide: NuclideName
    name: str
    administered_activity_mbq: float
    administration_datetime: datetime

    def item(self) -> Dataset:
        """The Radiopharmaceutical Information Sequence item.

        Returns
        -------
        pydicom.dataset.Dataset
            The item: radionuclide code, name, route, start date-time, Radionuclide Total
            Dose (Bq), Radionuclide Half Life (s) and, for Y-90, the positron fraction.
        """
        nuclide = get_nuclide(self.nuclide)
        item = Dataset()
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = _NUCLIDE_CODES[nuclide.name]
        item.RadionuclideCodeSequence = DicomSequence([code])
        item.Radiopharmaceutical = self.name
        item.RadiopharmaceuticalRoute = "intra-arterial"
        item.RadiopharmaceuticalStartDateTime = self.administration_datetime.strftime(
            "%Y%m%d%H%M%S.%f%z"
        )
        item.RadiopharmaceuticalStartTime = dicom_time(self.administration_datetime)
        item.RadionuclideTotalDose = f"{self.administered_activity_mbq * 1e6:.6g}"
        item.RadionuclideHalfLife = f"{nuclide.half_life_h * 3600.0:.6g}"
        if nuclide.name == NuclideName.Y90:
            item.RadionuclidePositronFraction = f"{nuclide.imaging_photon_yield:.6g}"
        return item


def _check_axial_ijk(volume: Volume, what: str) -> tuple[npt.NDArray[np.float64], ...]:
    d = volume.direction_matrix
    if np.linalg.det(d) < 0:
        raise GeometryError(
            f"{what} has a left-handed direction matrix; DICOM slices stack along row x column, "
            "flip the k axis first"
        )
    return d[:, 0], d[:, 1], d[:, 2]


def _plane_modules(ds: Dataset, volume: Volume, k: int) -> None:
    row, col, _normal = _check_axial_ijk(volume, "volume")
    ds.ImageOrientationPatient = [f"{v:.6f}" for v in (*row, *col)]
    ds.ImagePositionPatient = [f"{v:.4f}" for v in volume.index_to_physical([0, 0, k])]
    ds.PixelSpacing = [f"{volume.spacing_mm[1]:.6g}", f"{volume.spacing_mm[0]:.6g}"]
    ds.SliceThickness = f"{volume.spacing_mm[2]:.6g}"
    ds.SliceLocation = f"{float(volume.index_to_physical([0, 0, k]) @ _normal):.4f}"


def _pixel_modules(ds: Dataset, stored: npt.NDArray[np.integer], signed: bool) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(stored.shape[-2]), int(stored.shape[-1])
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = np.ascontiguousarray(stored.astype("<i2" if signed else "<u2")).tobytes()


def _image_dataset(
    context: DicomContext,
    *,
    sop_class_uid: str,
    modality: str,
    series_key: str,
    series_number: int,
    series_description: str,
    acquired: datetime,
    image_type: list[str],
    instance_number: int = 1,
) -> Dataset:
    """:func:`new_dataset` with the image modules' Image Type, acquisition and content times."""
    ds = new_dataset(
        context,
        sop_class_uid=sop_class_uid,
        modality=modality,
        series_key=series_key,
        series_number=series_number,
        series_description=series_description,
        series_datetime=acquired,
        instance_number=instance_number,
    )
    ds.ImageType = image_type
    ds.AcquisitionDate, ds.AcquisitionTime = dicom_date(acquired), dicom_time(acquired)
    ds.ContentDate, ds.ContentTime = ds.AcquisitionDate, ds.AcquisitionTime
    return ds


def ct_datasets(
    volume: Volume, context: DicomContext, *, acquired: datetime, series_number: int = 1
) -> list[Dataset]:
    """One CT Image dataset per slice of ``volume`` (HU), slice ``k`` first to last.

    Parameters
    ----------
    volume : Volume
        CT in HU (rounded to int16 with slope 1, intercept 0), a right-handed grid whose
        ``k`` axis is the slice normal.
    context : DicomContext
        Patient, study and frame of reference of the examination.
    acquired : datetime
        Acquisition (and series) date and time.
    series_number : int, optional
        Series Number (default 1).

    Returns
    -------
    list of pydicom.dataset.Dataset
        One dataset per slice, Instance Number ``k + 1``.

    Raises
    ------
    InputError
        If a value lies outside the int16 range.
    GeometryError
        If the direction matrix is left-handed.
    """
    hu = np.rint(np.asarray(volume.array, dtype=np.float64))
    if hu.min() < -32768 or hu.max() > 32767:
        raise InputError(f"CT values span {hu.min()}..{hu.max()} HU, beyond the int16 range")
    out = []
    for k in range(volume.shape[0]):
        ds = _image_dataset(
            context,
            sop_class_uid=CTImageStorage,
            modality="CT",
            series_key="ct",
            series_number=series_number,
            series_description="CT abdomen (synthetic)",
            acquired=acquired,
            image_type=["ORIGINAL", "PRIMARY", "AXIAL"],
            instance_number=k + 1,
        )
        ds.AcquisitionNumber = 1
        ds.PatientPosition = "FFS"
        ds.KVP = "120"
        ds.PatientOrientation = ""
        ds.FrameOfReferenceUID = context.frame_of_reference_uid
        _plane_modules(ds, volume, k)
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "HU"
        ds.WindowCenter, ds.WindowWidth = "40", "400"
        _pixel_modules(ds, hu[k].astype(np.int16), signed=True)
        out.append(ds)
    return out


def _patient_orientation(ds: Dataset) -> None:
    """NM/PET Patient Orientation module: recumbent, feet first (SNOMED codes, CID 19/21)."""
    orientation = Dataset()
    orientation.CodeValue, orientation.CodingSchemeDesignator = "F-10450", "SRT"
    orientation.CodeMeaning = "recumbent"
    modifier = Dataset()
    modifier.CodeValue, modifier.CodingSchemeDesignator = "F-10340", "SRT"
    modifier.CodeMeaning = "supine"
    orientation.PatientOrientationModifierCodeSequence = DicomSequence([modifier])
    ds.PatientOrientationCodeSequence = DicomSequence([orientation])
    gantry = Dataset()
    gantry.CodeValue, gantry.CodingSchemeDesignator = "F-10480", "SRT"
    gantry.CodeMeaning = "feet-first"
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([gantry])


def nm_dataset(
    volume: Volume,
    context: DicomContext,
    radiopharmaceutical: Radiopharmaceutical,
    *,
    acquired: datetime,
    duration_s: float,
    views: int = 120,
    series_number: int = 2,
    series_key: str = "nm",
    energy_window_kev: tuple[float, float] | None = None,
    collimator: str = "LEHR",
) -> Dataset:
    """A reconstructed SPECT (NM Image, RECON TOMO) from a volume of counts.

    Non-negative integer counts up to 65535 are stored as they are; other values raise.
    ``duration_s`` is the acquisition time, written as ``views`` frames of equal duration in
    the Rotation Information Sequence. ``energy_window_kev`` (lower, upper) defaults to a
    20 % window on the nuclide's photopeak; ``series_key`` keeps the UIDs of several NM
    series of one context apart.

    Parameters
    ----------
    volume : Volume
        Reconstructed counts per voxel, a right-handed grid; frames are its ``k`` slices.
        ``metadata["series_description"]``, if set, becomes the Series Description.
    context : DicomContext
        Patient, study and frame of reference of the examination.
    radiopharmaceutical : Radiopharmaceutical
        What was administered and when (its nuclide sets the default energy window).
    acquired : datetime
        Acquisition start (and series) date and time.
    duration_s : float
        Total acquisition duration (s), shared equally among ``views``.
    views : int, optional
        Number of projections over 360 degrees (default 120).
    series_number : int, optional
        Series Number (default 2).
    series_key : str, optional
        Short name that keeps the UIDs of this series apart (default ``"nm"``).
    energy_window_kev : tuple of 2 float or None, optional
        Lower and upper energy window limits (keV); None for 90-110 % of the photopeak.
    collimator : str, optional
        Collimator Grid Name (default ``"LEHR"``, low-energy high-resolution).

    Returns
    -------
    pydicom.dataset.Dataset
        One multi-frame NM Image dataset, uint16 pixel data.

    Raises
    ------
    InputError
        If the counts are not integers in 0..65535.
    GeometryError
        If the direction matrix is left-handed.
    """
    counts = np.asarray(volume.array, dtype=np.float64)
    if counts.min() < 0 or counts.max() > 65535 or not np.allclose(counts, np.rint(counts)):
        raise InputError(
            f"NM counts span {counts.min():.4g}..{counts.max():.4g}, expected integers in "
            "0..65535 (store counts, not activity, in an NM reconstruction)"
        )
    row, col, _normal = _check_axial_ijk(volume, "SPECT volume")
    ds = _image_dataset(
        context,
        sop_class_uid=NuclearMedicineImageStorage,
        modality="NM",
        series_key=series_key,
        series_number=series_number,
        series_description=str(
            volume.metadata.get("series_description")
            or f"{radiopharmaceutical.name} SPECT (synthetic)"
        ),
        acquired=acquired,
        image_type=["ORIGINAL", "PRIMARY", "RECON TOMO", "EMISSION"],
    )
    ds.PatientOrientation = ""
    ds.AcquisitionContextSequence = DicomSequence([])
    _patient_orientation(ds)
    n = volume.shape[0]
    ds.NumberOfFrames = n
    ds.FrameIncrementPointer = Tag("SliceVector")  # RECON TOMO: frames are slices
    ds.NumberOfEnergyWindows, ds.NumberOfDetectors, ds.NumberOfRotations = 1, 1, 1
    ds.NumberOfSlices, ds.SliceVector = n, list(range(1, n + 1))
    ds.PixelSpacing = [f"{volume.spacing_mm[1]:.6g}", f"{volume.spacing_mm[0]:.6g}"]
    ds.SliceThickness = f"{volume.spacing_mm[2]:.6g}"
    ds.SpacingBetweenSlices = f"{volume.spacing_mm[2]:.6g}"
    ds.CountsAccumulated = int(counts.sum())
    window = Dataset()
    bounds = Dataset()
    if energy_window_kev is None:
        window.EnergyWindowName = "photopeak"
        nominal = get_nuclide(radiopharmaceutical.nuclide).imaging_photon_kev
        energy_window_kev = (nominal * 0.9, nominal * 1.1)  # a 20 % window, usual for Tc-99m
    else:
        window.EnergyWindowName = "acquisition"
    bounds.EnergyWindowLowerLimit = f"{energy_window_kev[0]:.2f}"
    bounds.EnergyWindowUpperLimit = f"{energy_window_kev[1]:.2f}"
    window.EnergyWindowRangeSequence = DicomSequence([bounds])
    ds.EnergyWindowInformationSequence = DicomSequence([window])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([radiopharmaceutical.item()])
    detector = Dataset()
    detector.CollimatorType = "PARA"
    detector.CollimatorGridName = collimator
    detector.ImagePositionPatient = [f"{v:.4f}" for v in volume.origin_mm]
    detector.ImageOrientationPatient = [f"{v:.6f}" for v in (*row, *col)]
    ds.DetectorInformationSequence = DicomSequence([detector])
    rotation = Dataset()
    rotation.StartAngle, rotation.AngularStep, rotation.ScanArc = "0", f"{360.0 / views:.4g}", "360"
    rotation.RotationDirection = "CW"
    rotation.NumberOfFramesInRotation = views
    rotation.ActualFrameDuration = round(duration_s * 1000.0 / views)
    ds.RotationInformationSequence = DicomSequence([rotation])
    ds.TypeOfDetectorMotion = "STEP AND SHOOT"
    ds.CorrectedImage = ["ATTN", "SCAT"]
    _pixel_modules(ds, counts.astype(np.uint16), signed=False)
    return ds


def pet_datasets(
    volume: Volume,
    context: DicomContext,
    radiopharmaceutical: Radiopharmaceutical,
    *,
    acquired: datetime,
    duration_s: float,
    series_number: int = 3,
) -> list[Dataset]:
    """PET Image datasets (Bq/mL, decay corrected to ``acquired``), one per slice.

    Each slice is stored as int16 with its own Rescale Slope (its largest magnitude maps to
    32767), Units BQML.

    Parameters
    ----------
    volume : Volume
        Activity concentration (``units == "Bq/mL"``) decay corrected to ``acquired``, on a
        right-handed grid.
    context : DicomContext
        Patient, study and frame of reference of the examination.
    radiopharmaceutical : Radiopharmaceutical
        What was administered and when.
    acquired : datetime
        Acquisition start (and series) date and time, the decay-correction reference.
    duration_s : float
        Frame duration (s).
    series_number : int, optional
        Series Number (default 3).

    Returns
    -------
    list of pydicom.dataset.Dataset
        One dataset per slice, Instance Number ``k + 1``.

    Raises
    ------
    InputError
        If the volume is not in Bq/mL.
    GeometryError
        If the direction matrix is left-handed.
    """
    if volume.units != "Bq/mL":
        raise InputError(f"PET volume units are {volume.units!r}, expected 'Bq/mL'")
    values = np.asarray(volume.array, dtype=np.float64)
    out = []
    for k in range(volume.shape[0]):
        ds = _image_dataset(
            context,
            sop_class_uid=PositronEmissionTomographyImageStorage,
            modality="PT",
            series_key="pet",
            series_number=series_number,
            series_description=f"{radiopharmaceutical.name} PET (synthetic)",
            acquired=acquired,
            image_type=["ORIGINAL", "PRIMARY"],
            instance_number=k + 1,
        )
        ds.PatientOrientation = ""
        ds.AcquisitionContextSequence = DicomSequence([])
        _patient_orientation(ds)
        ds.Units, ds.CountsSource, ds.SeriesType = "BQML", "EMISSION", ["STATIC", "IMAGE"]
        ds.NumberOfSlices, ds.ImageIndex = volume.shape[0], k + 1
        ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
        ds.DecayCorrection, ds.DecayFactor = "START", "1"
        ds.RandomsCorrectionMethod = "DLYD"
        ds.AttenuationCorrectionMethod = "CT"
        ds.ReconstructionMethod = "OSEM"
        ds.CollimatorType = "NONE"
        ds.FrameReferenceTime = "0"
        ds.ActualFrameDuration = round(duration_s * 1000.0)
        ds.RadiopharmaceuticalInformationSequence = DicomSequence([radiopharmaceutical.item()])
        _plane_modules(ds, volume, k)
        peak = float(np.max(np.abs(values[k])))
        slope = peak / 32767.0 if peak > 0 else 1.0
        ds.RescaleIntercept, ds.RescaleSlope = "0", f"{slope:.10g}"
        stored = np.rint(values[k] / float(ds.RescaleSlope)).astype(np.int16)
        _pixel_modules(ds, stored, signed=True)
        out.append(ds)
    return out


def write_series(
    datasets: Sequence[Dataset], folder: str | os.PathLike[str], prefix: str
) -> list[Path]:
    """Save datasets as ``folder/prefix_0001.dcm`` ... (atomically, one by one).

    Parameters
    ----------
    datasets : sequence of pydicom.dataset.Dataset
        The series' datasets, in the order they are numbered.
    folder : str or os.PathLike
        Destination folder.
    prefix : str
        File name prefix, e.g. ``"CT"``.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.
    """
    target = Path(folder)
    return [save_dataset(ds, target / f"{prefix}_{i + 1:04d}.dcm") for i, ds in enumerate(datasets)]
