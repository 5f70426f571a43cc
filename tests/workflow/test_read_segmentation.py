"""The workflow finds the kind of a segmentation file as the readers do: a structure set without
File Meta header is read, a file that is not DICOM is refused by name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest

from opensirt.errors import ImageReadError
from opensirt.imaging import Segmentation, Volume
from opensirt.imaging.dicom_common import DicomContext
from opensirt.imaging.dicom_write import ct_datasets
from opensirt.imaging.rtstruct import rtstruct_dataset
from opensirt.workflow.inputs import read_segmentation


def test_structure_set_without_meta_header_is_read(tmp_path: Path) -> None:
    when = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    context = DicomContext("DEMO-005", when, "ws")
    ct = Volume(
        np.zeros((3, 6, 5), np.float32),
        spacing_mm=(2.0, 2.0, 3.0),
        frame_of_reference_uid=context.frame_of_reference_uid,
    )
    mask = np.zeros(ct.shape, bool)
    mask[:, 1:4, 1:4] = True
    structures = Segmentation(ct, {"Liver": ct.with_array(mask)})
    ds = rtstruct_dataset(structures, ct_datasets(ct, context, acquired=when), context)
    del ds.file_meta
    path = tmp_path / "rs.dcm"
    pydicom.dcmwrite(path, ds, implicit_vr=False, little_endian=True)
    with pytest.warns(UserWarning, match="no DICOM preamble"):
        seg = read_segmentation(path, ct)
    np.testing.assert_array_equal(seg["Liver"].array, mask)
    assert any("no DICOM preamble" in w for w in seg.warnings)


def test_non_dicom_segmentation_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "labels.dcm"
    path.write_bytes(b"\x00\x01 not DICOM at all " * 10)
    with pytest.raises(ImageReadError, match=r"labels\.dcm: not a DICOM file.*RTSTRUCT or SEG"):
        read_segmentation(path, Volume(np.zeros((1, 1, 1)), spacing_mm=(1, 1, 1)))
