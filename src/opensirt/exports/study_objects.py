"""Every DICOM object of a plan or a verification, in the patient's study, written atomically.

For one dose (predicted or delivered) on the planning CT: the structures as RT Structure Set
and SEG (:mod:`opensirt.exports.structures`), the RT Dose referencing the CT slices and the
structure set with the structures' DVHs (:mod:`opensirt.exports.rtdose_links`), the dose
report as a TID 1500 SR referencing the SEG segments and the CT (:mod:`opensirt.exports.dose_sr`)
and the PDF report as Encapsulated PDF (:mod:`opensirt.exports.encapsulated_pdf`). All share
the CT's Study Instance UID and patient; each is a new series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydicom.dataset import Dataset

from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.exports.dose_sr import ActivityRecord, build_dose_sr
from opensirt.exports.encapsulated_pdf import build_encapsulated_pdf
from opensirt.exports.rtdose import write_rtdose
from opensirt.exports.rtdose_links import DoseLinks
from opensirt.exports.structures import StructureKind, build_rtstruct, build_seg
from opensirt.imaging.dicom_common import save_dataset
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume


@dataclass(frozen=True)
class StudyExport:
    """What one dose's DICOM objects are made of.

    Parameters
    ----------
    ct_slices : sequence of pydicom.dataset.Dataset
        The planning CT's slice headers, ``ct_slices[k]`` the file of slice ``k``.
    segmentation : Segmentation
        The structures, on the CT's grid.
    kinds : mapping of str to StructureKind
        Structure name -> kind (names absent: ``tissue``).
    dose : Volume
        The absorbed dose (Gy, >= 0) in the CT's frame of reference.
    dvhs : mapping of str to DoseVolumeHistogram
        DVH per structure name.
    activity : ActivityRecord
        The planned or delivered activity.
    pdf : Path or None
        The PDF report to encapsulate; None: no Encapsulated PDF.
    description : str
        What the dose is (``"OpenSIRT predicted dose"``), the series descriptions' stem.
    """

    ct_slices: Sequence[Dataset]
    segmentation: Segmentation
    kinds: Mapping[str, StructureKind]
    dose: Volume
    dvhs: Mapping[str, DoseVolumeHistogram]
    activity: ActivityRecord
    pdf: Path | None
    description: str


def write_study_objects(
    folder: Path, stem: str, export: StudyExport, *, created: datetime
) -> list[Path]:
    """Write ``{stem}_rtstruct.dcm``, ``_seg.dcm``, ``_rtdose.dcm``, ``_dose_sr.dcm`` and
    (with a PDF) ``_report.dcm`` into ``folder``, each atomically.

    Parameters
    ----------
    folder : Path
        The output folder (a staging folder for a set that appears whole or not at all).
    stem : str
        File name stem (``"plan"``, ``"delivered"``).
    export : StudyExport
        The CT, structures, dose, DVHs, activity and report.
    created : datetime
        When the objects were made (structure set, content and series dates).

    Returns
    -------
    list of Path
        The files written, RT Dose first.

    Raises
    ------
    GeometryError
        If the CT slices do not match the structures' grid or carry no study.
    InputError
        If the dose is not a valid RT Dose or no DVH structure is a segment.
    """
    rtstruct = build_rtstruct(export.segmentation, export.ct_slices, export.kinds, created=created)
    seg = build_seg(export.segmentation, export.ct_slices, export.kinds)
    sr = build_dose_sr(
        seg,
        export.ct_slices,
        export.dvhs,
        export.activity,
        description=f"{export.description} report (SR)",
    )
    written = [
        write_rtdose(
            export.dose,
            folder / f"{stem}_rtdose.dcm",
            reference=export.ct_slices[0],
            series_description=export.description,
            density_corrected=True,
            links=DoseLinks(export.ct_slices, rtstruct, export.dvhs),
        ),
        save_dataset(rtstruct, folder / f"{stem}_rtstruct.dcm"),
        save_dataset(seg, folder / f"{stem}_seg.dcm"),
        save_dataset(sr, folder / f"{stem}_dose_sr.dcm"),
    ]
    if export.pdf is not None:
        pdf = build_encapsulated_pdf(
            export.pdf,
            export.ct_slices[0],
            title=f"{export.description} report",
            created=created,
        )
        written.append(save_dataset(pdf, folder / f"{stem}_report.dcm"))
    return written
