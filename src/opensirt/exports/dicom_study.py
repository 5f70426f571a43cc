"""New series in the patient's own study: the modules every exported DICOM object shares.

Each object OpenSIRT sends back (RT Dose, RT Structure Set, SEG, Encapsulated PDF, SR) goes
into a new series of the study the planning CT belongs to: the Patient and General Study
modules are copied from a CT slice, so that a PACS files the object under the same patient
and study, and the Frame of Reference is the CT's, so that viewers overlay it
(DICOM PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.4.1 Frame of Reference modules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

from opensirt.errors import GeometryError
from opensirt.imaging.dicom_common import MANUFACTURER, dicom_date, dicom_time, software_version
from opensirt.imaging.volume import Volume

#: Patient module (PS3.3 C.7.1.1) and patient-identity elements copied from the CT as they are.
PATIENT_TAGS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    "DeidentificationMethodCodeSequence",
)
#: General Study module (PS3.3 C.7.2.1): the Type 2 elements are written empty when missing.
STUDY_TAGS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", *STUDY_TAGS[1:6])


def copy_patient_study(reference: Dataset, ds: Dataset) -> None:
    """Copy the Patient and General Study modules of ``reference`` into ``ds``.

    Parameters
    ----------
    reference : pydicom.dataset.Dataset
        A slice (or header) of the planning CT.
    ds : pydicom.dataset.Dataset
        The new object; changed in place. Type 2 elements missing from ``reference`` are
        written empty.

    Raises
    ------
    GeometryError
        If ``reference`` has no Study Instance UID (it is not an image of a study).
    """
    if not reference.get("StudyInstanceUID"):
        raise GeometryError(
            "the reference CT slice has no StudyInstanceUID; export needs the DICOM CT the "
            "plan was made on"
        )
    for tag in (*PATIENT_TAGS, *STUDY_TAGS):
        if tag in reference:
            ds[tag] = reference[tag]
        elif tag in _TYPE2:
            setattr(ds, tag, "")


def series_dataset(
    reference: Dataset,
    *,
    sop_class_uid: str,
    modality: str,
    series_number: int,
    series_description: str,
    created: datetime,
    frame_of_reference: bool = True,
) -> Dataset:
    """A new object in a new series of ``reference``'s study: File Meta, SOP Common, Patient,
    General Study, General Series, General Equipment and (optionally) Frame of Reference.

    Parameters
    ----------
    reference : pydicom.dataset.Dataset
        A slice of the planning CT.
    sop_class_uid : str
        SOP Class UID of the new object.
    modality : str
        Its Modality (``"RTSTRUCT"``, ``"DOC"``, ...).
    series_number : int
        Series Number.
    series_description : str
        Series Description (cut to 64 characters).
    created : datetime
        Instance creation and series date and time.
    frame_of_reference : bool, optional
        Copy the CT's Frame of Reference UID (default True).

    Returns
    -------
    pydicom.dataset.Dataset
        The dataset with new Series and SOP Instance UIDs, explicit VR little endian.

    Raises
    ------
    GeometryError
        If ``reference`` has no Study Instance UID.
    """
    ds = Dataset()
    uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = uid
    ds.InstanceCreationDate = dicom_date(created)
    ds.InstanceCreationTime = dicom_time(created)
    copy_patient_study(reference, ds)
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description[:64]
    ds.SeriesDate = dicom_date(created)
    ds.SeriesTime = dicom_time(created)
    ds.InstanceNumber = 1
    ds.Manufacturer = MANUFACTURER
    ds.SoftwareVersions = software_version()
    if frame_of_reference:
        ds.FrameOfReferenceUID = reference.FrameOfReferenceUID
        ds.PositionReferenceIndicator = reference.get("PositionReferenceIndicator", "")
    return ds


def slices_in_volume_order(headers: Sequence[Dataset], volume: Volume) -> list[Dataset]:
    """The CT slice headers ordered as the slices ``k`` of ``volume`` (the CT as read).

    Each header is placed by its Image Position (Patient) along ``volume``'s slice axis.

    Parameters
    ----------
    headers : sequence of pydicom.dataset.Dataset
        The headers of every file of the CT series.
    volume : Volume
        The CT as read from those files.

    Returns
    -------
    list of pydicom.dataset.Dataset
        ``result[k]`` is the file of slice ``k``.

    Raises
    ------
    GeometryError
        If a slice of ``volume`` has no file (a gap the reader filled) or a file lies
        between slices.
    """
    kdir = volume.direction_matrix[:, 2]
    origin = np.asarray(volume.origin_mm, dtype=np.float64)
    found: dict[int, Dataset] = {}
    for header in headers:
        position = np.asarray([float(v) for v in header.ImagePositionPatient]) - origin
        index = float(position @ kdir) / volume.spacing_mm[2]
        k = round(index)
        if abs(index - k) > 0.1 or not 0 <= k < volume.shape[0]:
            raise GeometryError(
                f"CT file {header.SOPInstanceUID} lies at slice {index:.2f} of the CT as read; "
                "export the structures on a CT series without gaps or extra slices"
            )
        found[k] = header
    missing = [k for k in range(volume.shape[0]) if k not in found]
    if missing:
        raise GeometryError(
            f"slice {missing[0]} of the CT has no file ({len(missing)} slice(s) were filled "
            "in by the reader); the structures can only be exported on a complete CT series"
        )
    return [found[k] for k in range(volume.shape[0])]
