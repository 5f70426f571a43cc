"""The DICOM objects of a plan in the patient's study: RTSTRUCT, SEG, RT Dose with its links,
TID 1500 dose SR and Encapsulated PDF; validated with dciodvfy, read back with highdicom,
and their references checked as a viewer follows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from dicom_chain import check_reference_chain
from opensirt.dosimetry.dvh import dose_volume_histogram
from opensirt.errors import GeometryError, InputError
from opensirt.exports.dicom_study import slices_in_volume_order
from opensirt.exports.dose_sr import ActivityRecord
from opensirt.exports.encapsulated_pdf import build_encapsulated_pdf
from opensirt.exports.rtdose_links import DoseLinks
from opensirt.exports.structures import StructureKind
from opensirt.exports.study_objects import StudyExport, write_study_objects
from opensirt.imaging import Segmentation, Volume
from opensirt.imaging.dicom_common import DicomContext
from opensirt.imaging.dicom_file import read_dataset
from opensirt.imaging.dicom_write import ct_datasets, write_series
from opensirt.imaging.rtstruct import read_rtstruct

WHEN = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
KINDS = {
    "Liver": StructureKind.LIVER,
    "Tumour 1": StructureKind.TUMOUR,
    "Lungs": StructureKind.LUNG,
    "Right lobe": StructureKind.TERRITORY,
}


@dataclass(frozen=True)
class Written:
    folder: Path
    ct_headers: list[Dataset]
    export: StudyExport
    paths: list[Path]


def _structures(ct: Volume) -> Segmentation:
    liver = np.zeros(ct.shape, dtype=bool)
    liver[1:5, 2:8, 2:7] = True
    tumour = np.zeros(ct.shape, dtype=bool)
    tumour[2:4, 3:5, 3:5] = True
    lungs = np.zeros(ct.shape, dtype=bool)
    lungs[0:2, 0:2, 0:3] = True
    right = liver.copy()
    right[:, :, 5:] = False
    masks = {"Liver": liver, "Tumour 1": tumour, "Lungs": lungs, "Right lobe": right}
    return Segmentation(ct, {name: ct.with_array(m) for name, m in masks.items()})


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    folder = tmp_path_factory.mktemp("study")
    context = DicomContext("SIRT-7", WHEN, "study-objects", patient_name="Test^Patient")
    rng = np.random.default_rng(1)
    ct = Volume(
        rng.integers(-200, 300, size=(6, 10, 9)).astype(np.float32),
        spacing_mm=(2.0, 2.0, 3.0),
        origin_mm=(-7.0, -8.0, 10.0),
        frame_of_reference_uid=context.frame_of_reference_uid,
    )
    files = write_series(ct_datasets(ct, context, acquired=WHEN), folder / "ct", "CT")
    headers = [read_dataset(f, header_only=True) for f in reversed(files)]  # any order
    segmentation = _structures(ct)
    dose = ct.with_array(rng.random(ct.shape) * 100.0, units="Gy")
    dvhs = {n: dose_volume_histogram(dose, segmentation.get(n), name=n) for n in KINDS}
    pdf = folder / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% OpenSIRT test\n%%EOF\n")
    export = StudyExport(
        slices_in_volume_order(headers, ct),
        segmentation,
        KINDS,
        dose,
        dvhs,
        ActivityRecord(2.1, "planned activity"),
        pdf,
        "OpenSIRT predicted dose",
    )
    out = folder / "out"
    out.mkdir()
    paths = write_study_objects(out, "plan", export, created=WHEN)
    return Written(out, headers, export, paths)


def test_every_object_validates(written: Written, dciodvfy: Callable[[Path], str]) -> None:
    names = sorted(p.name for p in written.paths)
    assert names == [
        "plan_dose_sr.dcm",
        "plan_report.dcm",
        "plan_rtdose.dcm",
        "plan_rtstruct.dcm",
        "plan_seg.dcm",
    ]
    for path in written.paths:
        report = dciodvfy(path)
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert not errors, f"{path.name}:\n{report}"


def test_references_resolve_as_a_viewer_follows_them(written: Written) -> None:
    check_reference_chain(written.folder, "plan", written.ct_headers)


def test_seg_reads_back_with_its_coded_segments(written: Written) -> None:
    seg = hd.seg.segread(written.folder / "plan_seg.dcm")
    described = {
        seg.get_segment_description(n).segment_label: seg.get_segment_description(n)
        for n in seg.segment_numbers
    }
    assert set(described) == set(KINDS)
    tumour = described["Tumour 1"]
    assert tumour.segmented_property_type == codes.SCT.Neoplasm
    assert tumour.segmented_property_category == codes.SCT.MorphologicallyAbnormalStructure
    territory = described["Right lobe"]
    assert territory.segmented_property_category == codes.DCM.RTTarget
    assert territory.segmented_property_type == codes.SCT.PlanningTargetVolume
    assert described["Liver"].segmented_property_type == codes.SCT.Liver
    volume = seg.get_volume(segment_numbers=[described["Liver"].segment_number])
    assert int(np.asarray(volume.array).sum()) == int(
        written.export.segmentation.get("Liver").array.sum()
    )


def test_rtstruct_contours_give_back_the_masks(written: Written) -> None:
    ct = written.export.segmentation.reference
    read = read_rtstruct(written.folder / "plan_rtstruct.dcm", ct)
    for name in KINDS:
        np.testing.assert_array_equal(
            read.get(name).array, written.export.segmentation.get(name).array
        )
    rs = pydicom.dcmread(written.folder / "plan_rtstruct.dcm")
    types = {
        int(o.ReferencedROINumber): o.RTROIInterpretedType for o in rs.RTROIObservationsSequence
    }
    names = {int(r.ROINumber): r.ROIName for r in rs.StructureSetROISequence}
    assert {names[n]: t for n, t in types.items()} == {
        "Liver": "ORGAN",
        "Tumour 1": "GTV",
        "Lungs": "AVOIDANCE",
        "Right lobe": "PTV",
    }


def test_sr_reads_back_activity_and_doses(written: Written) -> None:
    sr = hd.sr.srread(written.folder / "plan_dose_sr.dcm")
    assert sr.ConceptNameCodeSequence[0].CodeValue == "126000"  # TID 1500
    activity = sr.content.get_image_measurement_groups()[0].get_measurements()[0]
    assert activity.name == codes.DCM.AdministeredActivity
    assert activity.unit == codes.UCUM.Megabecquerel
    assert activity.value == pytest.approx(2100.0)
    doses = {}
    for group in sr.content.get_volumetric_roi_measurement_groups():
        for m in group.get_measurements(name=codes.DCM.AbsorbedDose):
            assert m.unit == codes.UCUM.Gy
            if m.derivation == codes.SCT.Mean:
                doses[group.tracking_identifier] = m.value
    expected = {n: d.mean_gy for n, d in written.export.dvhs.items()}
    assert doses == pytest.approx(expected)


def test_rtdose_carries_the_dvhs_of_the_structure_set(written: Written) -> None:
    dose = pydicom.dcmread(written.folder / "plan_rtdose.dcm")
    rs = pydicom.dcmread(written.folder / "plan_rtstruct.dcm")
    names = {int(r.ROINumber): str(r.ROIName) for r in rs.StructureSetROISequence}
    for item in dose.DVHSequence:
        name = names[int(item.DVHReferencedROISequence[0].ReferencedROINumber)]
        dvh = written.export.dvhs[name]
        data = np.asarray(item.DVHData, dtype=float).reshape(-1, 2)
        assert data[0, 1] == pytest.approx(dvh.volume_ml / 1.0, rel=1e-5)  # all of it >= 0 Gy
        assert float(item.DVHMeanDose) == pytest.approx(dvh.mean_gy, rel=1e-5)
        assert data[:, 0].sum() == pytest.approx(dvh.max_gy, rel=1e-4)


def test_encapsulated_pdf_holds_the_report(written: Written) -> None:
    ds = pydicom.dcmread(written.folder / "plan_report.dcm")
    pdf = written.export.pdf
    assert pdf is not None
    data = pdf.read_bytes()
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert bytes(ds.EncapsulatedDocument)[: int(ds.EncapsulatedDocumentLength)] == data


def test_not_a_pdf_is_refused(written: Written, tmp_path: Path) -> None:
    fake = tmp_path / "r.pdf"
    fake.write_text("hello")
    with pytest.raises(InputError, match="expected a PDF"):
        build_encapsulated_pdf(fake, written.ct_headers[0], title="x", created=WHEN)


def test_a_ct_with_a_missing_slice_is_named(written: Written) -> None:
    ct = written.export.segmentation.reference
    headers = [h for h in written.ct_headers if h is not written.export.ct_slices[2]]
    with pytest.raises(GeometryError, match="slice 2 of the CT has no file"):
        slices_in_volume_order(headers, ct)


def test_activity_must_be_positive() -> None:
    with pytest.raises(InputError, match="activity_gbq is -1"):
        ActivityRecord(-1.0, "planned activity")


def test_dose_links_need_a_structure_set(written: Written) -> None:
    with pytest.raises(InputError, match="expected RTSTRUCT"):
        DoseLinks(written.ct_headers, written.ct_headers[0], {})
