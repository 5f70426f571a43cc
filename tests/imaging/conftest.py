"""Shared fixtures: one small phantom and its DICOM, written once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from opensirt.demo.dicom import PhantomDicomPaths, write_phantom_dicom
from opensirt.demo.phantom import SyntheticPatient, make_phantom
from opensirt.imaging import Segmentation, Volume
from opensirt.imaging.dicom_common import DicomContext, save_dataset
from opensirt.imaging.dicom_write import Radiopharmaceutical, ct_datasets, nm_dataset, write_series
from opensirt.physics.nuclides import NuclideName

SMALL = 0.4
WHEN = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def phantom() -> SyntheticPatient:
    return make_phantom(seed=7, size=SMALL)


@pytest.fixture(scope="session")
def phantom_dicom(
    phantom: SyntheticPatient, tmp_path_factory: pytest.TempPathFactory
) -> PhantomDicomPaths:
    return write_phantom_dicom(phantom, tmp_path_factory.mktemp("phantom"))


@pytest.fixture(scope="session")
def phantom_root(phantom_dicom: PhantomDicomPaths) -> Path:
    return phantom_dicom.ct_dir.parent


@dataclass(frozen=True)
class SmallDicom:
    """A tiny CT series, NM SPECT, RTSTRUCT, binary SEG and RT Dose in one frame of reference."""

    ct_files: tuple[Path, ...]
    nm_file: Path
    rtstruct_file: Path
    seg_file: Path
    rtdose_file: Path
    ct: Volume


@pytest.fixture(scope="session")
def small_dicom(tmp_path_factory: pytest.TempPathFactory) -> SmallDicom:
    """Files written once; tests copy them before mutating."""
    from opensirt.exports import write_rtdose
    from opensirt.imaging.dicom_seg import seg_dataset
    from opensirt.imaging.rtstruct import rtstruct_dataset

    folder = tmp_path_factory.mktemp("small")
    context = DicomContext("DEMO-004", WHEN, "small")
    rng = np.random.default_rng(4)
    ct = Volume(
        rng.integers(-200, 300, size=(6, 8, 7)).astype(np.float32),
        spacing_mm=(2.0, 2.0, 3.0),
        origin_mm=(-7.0, -8.0, 10.0),
        frame_of_reference_uid=context.frame_of_reference_uid,
    )
    slices = ct_datasets(ct, context, acquired=WHEN)
    ct_files = write_series(slices, folder / "ct", "CT")
    mask = np.zeros(ct.shape, dtype=bool)
    mask[1:5, 2:6, 2:5] = True
    structures = Segmentation(ct, {"Liver": ct.with_array(mask)})
    rtstruct = save_dataset(rtstruct_dataset(structures, slices, context), folder / "rs.dcm")
    seg = save_dataset(seg_dataset(structures, slices, context), folder / "seg.dcm")
    counts = Volume(
        rng.integers(0, 500, size=(5, 4, 4)).astype(float),
        spacing_mm=(4.0, 4.0, 4.0),
        origin_mm=(-6.0, -6.0, 9.0),
        frame_of_reference_uid=context.frame_of_reference_uid,
    )
    pharma = Radiopharmaceutical(NuclideName.TC99M, "Tc-99m MAA", 150.0, WHEN)
    nm = nm_dataset(counts, context, pharma, acquired=WHEN, duration_s=600.0)
    nm_file = save_dataset(nm, folder / "nm.dcm")
    dose = write_rtdose(counts.with_array(counts.array / 100.0, units="Gy"), folder / "dose.dcm")
    return SmallDicom(tuple(ct_files), nm_file, rtstruct, seg, dose, ct)
