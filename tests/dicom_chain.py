"""Check the references of the DICOM objects a plan writes, as a viewer resolves them.

3D Slicer (SlicerRT's DICOM RT plugin) loads an RT Dose with the RT Structure Set it names in
Referenced Structure Set Sequence, places both on the CT series through the structure set's
Referenced Frame of Reference -> RT Referenced Study -> RT Referenced Series -> Contour Image
Sequence, and highdicom resolves an SR's measurements to SEG segments through the SR's
evidence. Each link is checked here by UID.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import pydicom
from pydicom.dataset import Dataset


def _uids(items: list[Dataset]) -> set[str]:
    return {str(item.ReferencedSOPInstanceUID) for item in items}


def check_reference_chain(folder: Path, stem: str, ct_headers: list[Dataset]) -> None:
    """Assert that ``{stem}_*.dcm`` in ``folder`` reference each other and the CT correctly.

    Parameters
    ----------
    folder : Path
        Where the plan or verification wrote its objects.
    stem : str
        ``plan`` or ``delivered``.
    ct_headers : list of Dataset
        The planning CT's slice headers.
    """
    dose = pydicom.dcmread(folder / f"{stem}_rtdose.dcm", stop_before_pixels=True)
    rs = pydicom.dcmread(folder / f"{stem}_rtstruct.dcm")
    seg = hd.seg.segread(folder / f"{stem}_seg.dcm")
    sr = hd.sr.srread(folder / f"{stem}_dose_sr.dcm")
    pdf = pydicom.dcmread(folder / f"{stem}_report.dcm")
    ct_series = {str(h.SeriesInstanceUID) for h in ct_headers}
    ct_sops = {str(h.SOPInstanceUID) for h in ct_headers}
    assert len(ct_series) == 1
    ct = ct_headers[0]
    for obj in (dose, rs, seg, sr, pdf):  # one patient, one study, each its own series
        assert obj.StudyInstanceUID == ct.StudyInstanceUID
        assert obj.PatientID == ct.PatientID
        assert obj.PatientName == ct.PatientName
        assert obj.SeriesInstanceUID not in ct_series
    assert len({o.SeriesInstanceUID for o in (dose, rs, seg, sr, pdf)}) == 5
    # RT Dose -> RT Structure Set, its ROIs (DVHs) and the CT slices
    assert _uids(dose.ReferencedStructureSetSequence) == {rs.SOPInstanceUID}
    rois = {int(r.ROINumber) for r in rs.StructureSetROISequence}
    dvh_rois = {int(d.DVHReferencedROISequence[0].ReferencedROINumber) for d in dose.DVHSequence}
    assert dvh_rois
    assert dvh_rois <= rois
    assert _uids(dose.ReferencedImageSequence) == ct_sops
    assert dose.FrameOfReferenceUID == rs.FrameOfReferenceUID == ct.FrameOfReferenceUID
    # RT Structure Set -> CT series and slices
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == ct.FrameOfReferenceUID
    study = frame.RTReferencedStudySequence[0]
    series = study.RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID in ct_series
    assert _uids(series.ContourImageSequence) == ct_sops
    for roi in rs.ROIContourSequence:
        for contour in roi.get("ContourSequence", []):
            assert _uids(contour.ContourImageSequence) <= ct_sops
    # SEG -> CT slices
    seg_sources = _uids(seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence)
    assert seg_sources <= ct_sops
    # SR -> SEG segments and CT (its evidence)
    evidence = {
        str(i.ReferencedSOPInstanceUID)
        for s in sr.CurrentRequestedProcedureEvidenceSequence
        for r in s.ReferencedSeriesSequence
        for i in r.ReferencedSOPSequence
    }
    assert {str(seg.SOPInstanceUID)} | seg_sources <= evidence
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert groups
    for group in groups:
        segment = group.referenced_segment
        assert segment.referenced_sop_instance_uid == seg.SOPInstanceUID
        assert segment.referenced_segment_numbers[0] in seg.segment_numbers
