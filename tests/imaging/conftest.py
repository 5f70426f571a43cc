"""Shared fixtures: one small phantom and its DICOM, written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensirt.imaging.dicom_write import PhantomDicomPaths, write_phantom_dicom
from opensirt.imaging.phantom import SyntheticPatient, make_phantom

SMALL = 0.4


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
