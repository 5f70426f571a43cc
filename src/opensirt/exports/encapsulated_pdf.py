"""The PDF report as a DICOM Encapsulated PDF in the patient's study.

Encapsulated PDF IOD (PS3.3 A.45.1; SOP Class 1.2.840.10008.5.1.4.1.1.104.1): Patient and
General Study modules copied from the planning CT, Encapsulated Document Series (Modality
``DOC``), SC Equipment (Conversion Type ``WSD``, workstation) and Encapsulated Document
modules (PS3.3 C.24.1, C.24.2). The document's Concept Name is DCM 128190 "Dosimetric
Result" (PS3.16 Annex D), which is what a radioembolization dosimetry report holds.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import EncapsulatedPDFStorage

from opensirt.errors import InputError
from opensirt.exports.dicom_study import series_dataset
from opensirt.imaging.dicom_common import dicom_date, dicom_time

#: Series number of the exported report.
PDF_SERIES = 9004
_PDF_MAGIC = b"%PDF-"


def build_encapsulated_pdf(
    pdf: str | os.PathLike[str],
    reference: Dataset,
    *,
    title: str,
    created: datetime,
) -> Dataset:
    """An Encapsulated PDF of the file ``pdf``, in ``reference``'s study.

    Parameters
    ----------
    pdf : str or os.PathLike
        The PDF report.
    reference : pydicom.dataset.Dataset
        A planning CT slice: patient and study are copied from it.
    title : str
        Document Title (cut to 64 characters).
    created : datetime
        Content and acquisition date and time.

    Returns
    -------
    pydicom.dataset.Dataset
        The Encapsulated PDF instance, with its File Meta Information.

    Raises
    ------
    InputError
        If the file is not a PDF.
    GeometryError
        If ``reference`` has no Study Instance UID.
    """
    data = Path(pdf).read_bytes()
    if not data.startswith(_PDF_MAGIC):
        raise InputError(f"{pdf} does not start with {_PDF_MAGIC!r}; expected a PDF report")
    ds = series_dataset(
        reference,
        sop_class_uid=EncapsulatedPDFStorage,
        modality="DOC",
        series_number=PDF_SERIES,
        series_description=title,
        created=created,
        frame_of_reference=False,
    )
    ds.ConversionType = "WSD"
    ds.ContentDate = dicom_date(created)
    ds.ContentTime = dicom_time(created)
    ds.AcquisitionDateTime = ds.ContentDate + ds.ContentTime
    ds.BurnedInAnnotation = "YES"  # the report names the patient
    ds.DocumentTitle = title[:64]
    concept = Dataset()
    concept.CodeValue = "128190"
    concept.CodingSchemeDesignator = "DCM"
    concept.CodeMeaning = "Dosimetric Result"
    ds.ConceptNameCodeSequence = DicomSequence([concept])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(data)
    ds.EncapsulatedDocument = data + b"\0" * (len(data) % 2)  # OB: even length
    return ds
