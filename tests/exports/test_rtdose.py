"""DICOM RT Dose export: round trip, study linkage and validation with dciodvfy."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from opensirt.errors import GeometryError, InputError
from opensirt.exports import read_rtdose, write_rtdose
from opensirt.imaging.volume import Volume

FRAME = "1.2.826.0.1.3680043.8.498.11"


def _ct_reference() -> Dataset:
    ds = Dataset()
    ds.PatientName = "Test^Patient"
    ds.PatientID = "SIRT-001"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.12"
    ds.StudyDate, ds.StudyTime = "20240102", "101500"
    ds.ReferringPhysicianName = ""
    ds.StudyID = "42"
    ds.AccessionNumber = "A1"
    ds.FrameOfReferenceUID = FRAME
    ds.PositionReferenceIndicator = ""
    return ds


def _dose() -> Volume:
    rng = np.random.default_rng(11)
    return Volume(
        rng.random((6, 7, 8)) * 150.0,
        spacing_mm=(4.0, 4.5, 5.0),
        origin_mm=(-100.0, 50.0, -200.0),
        frame_of_reference_uid=FRAME,
        units="Gy",
    )


@pytest.mark.parametrize("bits", [16, 32])
def test_round_trip_within_dose_grid_scaling(tmp_path: Path, bits: int) -> None:
    dose = _dose()
    path = write_rtdose(dose, tmp_path / "dose.dcm", reference=_ct_reference(), bits_allocated=bits)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.2"
    assert (ds.DoseUnits, ds.DoseType, ds.BitsAllocated) == ("GY", "PHYSICAL", bits)
    assert ds.PatientID == "SIRT-001"
    assert ds.StudyInstanceUID == _ct_reference().StudyInstanceUID
    assert ds.FrameOfReferenceUID == FRAME
    assert int(ds.NumberOfFrames) == 6
    assert [float(v) for v in ds.GridFrameOffsetVector] == [0, 5, 10, 15, 20, 25]
    scaling = float(ds.DoseGridScaling)
    pixels = ds.pixel_array.astype(float) * scaling
    assert np.abs(pixels - dose.array).max() <= scaling / 2 + 1e-12
    back = read_rtdose(path)
    assert back.same_grid(dose)
    assert np.abs(back.array - dose.array).max() <= scaling / 2 + 1e-12
    assert not list(tmp_path.glob(".*"))  # atomic write left no temporary file


def test_reversed_slice_axis_keeps_positions(tmp_path: Path) -> None:
    dose = Volume(
        np.arange(24.0).reshape(3, 2, 4),
        spacing_mm=(1.0, 1.0, 2.0),
        origin_mm=(0.0, 0.0, 10.0),
        direction=(1, 0, 0, 0, 1, 0, 0, 0, -1),
        units="Gy",
    )
    back = read_rtdose(write_rtdose(dose, tmp_path / "d.dcm"))
    # voxel [k=2] of the original lies at z = 10 - 4 = 6 mm: the first frame on export
    assert back.origin_mm[2] == pytest.approx(6.0)
    assert np.allclose(back.array[::-1], dose.array, atol=float(back.array.max()) / 6e4)


def test_refuses_what_rtdose_cannot_hold(tmp_path: Path) -> None:
    neg = _dose().with_array(np.full((6, 7, 8), -1.0))
    with pytest.raises(InputError, match="negative values down to -1"):
        write_rtdose(neg, tmp_path / "x.dcm")
    with pytest.raises(InputError, match=r"dose\.units is 'MBq'"):
        write_rtdose(_dose().with_array(_dose().array, units="MBq"), tmp_path / "x.dcm")
    other = _ct_reference()
    other.FrameOfReferenceUID = "1.2.3"
    with pytest.raises(GeometryError, match="differs from the reference"):
        write_rtdose(_dose(), tmp_path / "x.dcm", reference=other)
    assert not (tmp_path / "x.dcm").exists()


@pytest.mark.parametrize("plan_uid", [None, "1.2.826.0.1.3680043.8.498.13"])
def test_dciodvfy_reports_no_errors(
    tmp_path: Path, plan_uid: str | None, dciodvfy: Callable[[Path], str]
) -> None:
    path = write_rtdose(
        _dose(), tmp_path / "dose.dcm", reference=_ct_reference(), rt_plan_uid=plan_uid
    )
    report = dciodvfy(path)
    errors = [line for line in report.splitlines() if line.startswith("Error")]
    assert not errors, report
    assert "RTDose" in report
