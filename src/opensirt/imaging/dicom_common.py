"""The parts every DICOM object that OpenSIRT writes shares: patient, study, series,
equipment and SOP common modules, deterministic UIDs, atomic saving.

Patients are pseudonymised: an identifier such as ``DEMO-001`` and a placeholder name, never
a real name.

References
----------
.. [PS3.3] DICOM PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.3.1 General Series,
   C.7.4.1 Frame of Reference, C.7.5.1 General Equipment, C.12.1 SOP Common modules.
.. [PS3.10] DICOM PS3.10 File Meta Information.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

import opensirt
from opensirt.errors import InputError
from opensirt.fileio import write_atomically

__all__ = [
    "DicomContext",
    "dicom_date",
    "dicom_time",
    "new_dataset",
    "save_dataset",
    "software_version",
]

MANUFACTURER = "OpenSIRT"


def software_version() -> str:
    """Software Versions (0018,1020) of every DICOM object OpenSIRT writes.

    The installed package's version (``opensirt.__version__``, read from the package metadata
    with :mod:`importlib.metadata`; ``0+unknown`` in a source tree that was never installed),
    cut to the 64 characters of the LO value representation.

    Returns
    -------
    str
        The version string, at most 64 characters.
    """
    return opensirt.__version__[:64]


def dicom_date(when: datetime) -> str:
    """DA value ``YYYYMMDD``.

    Parameters
    ----------
    when : datetime
        The date to write, in its own (local) time; the time zone is not converted.

    Returns
    -------
    str
        The date as 8 digits, e.g. ``"20261118"``.
    """
    return when.strftime("%Y%m%d")


def dicom_time(when: datetime) -> str:
    """TM value ``HHMMSS.ffffff``.

    Parameters
    ----------
    when : datetime
        The time to write, in its own (local) time; its UTC offset is written separately
        (Timezone Offset From UTC).

    Returns
    -------
    str
        The time with microseconds, e.g. ``"090000.000000"``.
    """
    return when.strftime("%H%M%S.%f")


@dataclass(frozen=True)
class DicomContext:
    """Patient, study and frame of reference shared by the series of one examination.

    Parameters
    ----------
    patient_id : str
        Pseudonymised identifier (``DEMO-001``); never a real name or hospital number.
    study_datetime : datetime
        Study date and time, aware (its UTC offset is written as Timezone Offset From UTC).
    uid_seed : str
        Seed of the deterministic UIDs: the same seed gives the same UIDs.
    patient_name : str
        A placeholder, ``DEMO^PATIENT`` by default.
    """

    patient_id: str
    study_datetime: datetime
    uid_seed: str
    patient_name: str = "DEMO^PATIENT"
    patient_sex: str = "O"
    study_description: str = "OpenSIRT synthetic radioembolization work-up"

    def __post_init__(self) -> None:
        if self.study_datetime.utcoffset() is None:
            raise InputError(
                f"study_datetime {self.study_datetime.isoformat()} has no time zone, expected "
                "an aware datetime such as 2026-11-18T09:00:00+01:00"
            )

    def uid(self, *parts: object) -> str:
        """A UID derived from the seed and ``parts`` (deterministic, under pydicom's UID root).

        Parameters
        ----------
        *parts : object
            What the UID identifies (e.g. ``"ct", "series"``), each turned into text; the same
            seed and parts always give the same UID.

        Returns
        -------
        str
            A DICOM UID of at most 64 characters.
        """
        return str(generate_uid(entropy_srcs=[self.uid_seed, *map(str, parts)]))

    @property
    def study_instance_uid(self) -> str:
        """The study's UID."""
        return self.uid("study")

    @property
    def frame_of_reference_uid(self) -> str:
        """The frame of reference shared by every series (one hybrid scanner)."""
        return self.uid("frame-of-reference")

    @property
    def timezone_offset(self) -> str:
        """Timezone Offset From UTC, ``+HHMM``."""
        return self.study_datetime.strftime("%z")


def new_dataset(
    context: DicomContext,
    *,
    sop_class_uid: str,
    modality: str,
    series_key: str,
    series_number: int,
    series_description: str,
    series_datetime: datetime,
    instance_number: int = 1,
) -> Dataset:
    """A dataset with File Meta, SOP Common, Patient, General Study and General Series,
    General Equipment and Frame of Reference modules filled in.

    Parameters
    ----------
    context : DicomContext
        Patient, study and frame of reference shared by the examination's series.
    sop_class_uid : str
        SOP Class UID of the object (e.g. CT Image Storage).
    modality : str
        DICOM Modality (``"CT"``, ``"NM"``, ``"PT"``, ``"RTSTRUCT"``, ``"SEG"``, ...).
    series_key : str
        Short name that keeps the UIDs of this series apart from the context's others.
    series_number : int
        Series Number (0020,0011).
    series_description : str
        Series Description (0008,103E).
    series_datetime : datetime
        Series and instance creation date and time (local time of the context's time zone).
    instance_number : int, optional
        Instance Number (0020,0013), 1 for a single-file series; also part of the SOP
        Instance UID.

    Returns
    -------
    pydicom.dataset.Dataset
        The dataset, explicit VR little endian, ready for the modality's own modules.
    """
    ds = Dataset()
    sop_instance_uid = context.uid(series_key, "instance", instance_number)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"OPENSIRT_{software_version()}"[:16]
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    ds.InstanceCreationDate = dicom_date(series_datetime)
    ds.InstanceCreationTime = dicom_time(series_datetime)
    ds.TimezoneOffsetFromUTC = context.timezone_offset
    ds.PatientName = context.patient_name
    ds.PatientID = context.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = context.patient_sex
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "OpenSIRT synthetic patient: no real person"
    ds.StudyInstanceUID = context.study_instance_uid
    ds.StudyDate = dicom_date(context.study_datetime)
    ds.StudyTime = dicom_time(context.study_datetime)
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = context.study_description
    ds.Modality = modality
    ds.SeriesInstanceUID = context.uid(series_key, "series")
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description
    ds.SeriesDate = dicom_date(series_datetime)
    ds.SeriesTime = dicom_time(series_datetime)
    ds.InstanceNumber = instance_number
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = "synthetic phantom"
    ds.SoftwareVersions = software_version()
    ds.DeviceSerialNumber = "0"
    if modality != "RTSTRUCT":
        ds.BodyPartExamined = "ABDOMEN"
    ds.FrameOfReferenceUID = context.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    return ds


def save_dataset(ds: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` as a DICOM Part-10 file, atomically.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with its File Meta Information (as :func:`new_dataset` makes it).
    path : str or os.PathLike
        Destination file; an existing file is replaced.

    Returns
    -------
    pathlib.Path
        The path written.
    """

    def write(tmp: Path) -> None:
        pydicom.dcmwrite(tmp, ds, enforce_file_format=True)

    return write_atomically(path, write)
