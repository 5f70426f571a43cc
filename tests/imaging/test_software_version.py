"""The software version that OpenSIRT writes into DICOM is the installed package's version."""

from __future__ import annotations

import importlib
import importlib.metadata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydicom
import pytest

import opensirt
from opensirt.imaging.dicom_common import DicomContext, new_dataset

WHEN = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
SmallDicom = Any  # the ``small_dicom`` fixture of conftest.py


def test_version_comes_from_the_package_metadata() -> None:
    assert opensirt.__version__ == importlib.metadata.version("opensirt")


def test_version_falls_back_without_package_metadata() -> None:
    """A source tree that was never installed still imports, with a version that says so."""

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(importlib.metadata, "version", not_installed)
            importlib.reload(opensirt)
            fallback = opensirt.__version__
    finally:
        importlib.reload(opensirt)  # the metadata's version again, for the other tests
    assert fallback == "0+unknown"
    assert opensirt.__version__ == importlib.metadata.version("opensirt")


def test_every_written_dicom_object_carries_the_package_version(small_dicom: SmallDicom) -> None:
    expected = importlib.metadata.version("opensirt")
    files = [small_dicom.ct_files[0], small_dicom.nm_file, small_dicom.rtstruct_file]
    files += [small_dicom.seg_file, small_dicom.rtdose_file]
    for path in files:
        ds = pydicom.dcmread(path)
        assert ds.SoftwareVersions == expected, path.name
        assert ds.Manufacturer == "OpenSIRT", path.name
    ct_meta = pydicom.dcmread(small_dicom.ct_files[0]).file_meta
    assert ct_meta.ImplementationVersionName == f"OPENSIRT_{expected}"[:16]


def test_written_version_follows_the_package_version(
    small_dicom: SmallDicom, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Nothing hard-codes the version: a new release writes its own number."""
    from opensirt.exports import write_rtdose
    from opensirt.imaging import read_image

    monkeypatch.setattr(opensirt, "__version__", "9.8.7")
    context = DicomContext("DEMO-005", WHEN, "version")
    ds = new_dataset(
        context,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        modality="CT",
        series_key="ct",
        series_number=1,
        series_description="CT",
        series_datetime=WHEN,
    )
    assert ds.SoftwareVersions == "9.8.7"
    assert ds.file_meta.ImplementationVersionName == "OPENSIRT_9.8.7"
    dose = read_image(small_dicom.rtdose_file)
    assert pydicom.dcmread(write_rtdose(dose, tmp_path / "d.dcm")).SoftwareVersions == "9.8.7"
