"""Property: whatever bytes or header values a small CT, NM, RTSTRUCT, SEG or RT Dose file
holds, the readers return a valid object or raise an OpenSIRTError, never anything else.

Bounded and deterministic (derandomized hypothesis, a fixed number of examples), so that CI
catches new crashes without flakiness.
"""

from __future__ import annotations

import struct
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag

from opensirt.errors import OpenSIRTError
from opensirt.imaging import Segmentation, Volume, read_dicom_seg, read_image, read_rtstruct
from opensirt.imaging.contour_fractions import rtstruct_fractions
from opensirt.imaging.rtdose_io import read_rtdose

pytestmark = pytest.mark.filterwarnings("ignore")

KINDS = ("ct", "nm", "rtstruct", "seg", "rtdose", "fractions")
KEYWORDS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "SamplesPerPixel",
    "NumberOfFrames",
    "PixelSpacing",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "RescaleSlope",
    "RescaleIntercept",
    "SliceThickness",
    "SpacingBetweenSlices",
    "SliceVector",
    "EnergyWindowVector",
    "Modality",
    "SegmentationType",
    "MaximumFractionalValue",
    "DoseGridScaling",
    "GridFrameOffsetVector",
)
VALUES = ("0", "-1", "65535", "nan", "inf", "", "1e308", "abc", "1\\2", "1\\0\\0\\0\\1\\0\\9")


def _raw(ds: pydicom.Dataset, keyword: str, text: str) -> None:
    """Store ``text`` as the element's value, unvalidated, as a corrupt file would hold it."""
    tag = Tag(keyword)
    vr = dictionary_VR(tag)
    if vr == "US":
        try:
            value = struct.pack("<H", int(float(text)) % 65536)
        except (ValueError, OverflowError):
            value = b""
    else:
        value = text.encode() + b" " * (len(text) % 2)
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)


def _path(small: Any, kind: str) -> Path:
    return {
        "ct": small.ct_files[2],
        "nm": small.nm_file,
        "rtstruct": small.rtstruct_file,
        "fractions": small.rtstruct_file,
        "seg": small.seg_file,
        "rtdose": small.rtdose_file,
    }[kind]


def _read(kind: str, path: Path, reference: Volume) -> object:
    if kind == "rtstruct":
        return read_rtstruct(path, reference)
    if kind == "fractions":
        return rtstruct_fractions(path, reference)
    if kind == "seg":
        return read_dicom_seg(path, reference)
    if kind == "rtdose":
        return read_rtdose(path)
    return read_image(path)


byte_edits = st.lists(
    st.tuples(st.floats(0.0, 1.0), st.binary(min_size=1, max_size=4)), min_size=1, max_size=4
)
header_edits = st.lists(
    st.tuples(st.sampled_from(KEYWORDS), st.sampled_from(VALUES)), min_size=1, max_size=3
)


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(KINDS),
    edits=byte_edits,
    truncate_at=st.none() | st.floats(0.05, 1.0),
    header=st.none() | header_edits,
    contour_value=st.none() | st.sampled_from(VALUES),
)
def test_readers_never_crash(
    small_dicom: Any,
    kind: str,
    edits: list[tuple[float, bytes]],
    truncate_at: float | None,
    header: list[tuple[str, str]] | None,
    contour_value: str | None,
) -> None:
    source = _path(small_dicom, kind)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / source.name
        if header is not None or (kind in {"rtstruct", "fractions"} and contour_value is not None):
            ds = pydicom.dcmread(source)
            for keyword, text in header or []:
                _raw(ds, keyword, text)
            if kind in {"rtstruct", "fractions"} and contour_value is not None:
                contour = ds.ROIContourSequence[0].ContourSequence[0]
                _raw(contour, "ContourData", contour_value)
            ds.save_as(path, enforce_file_format=False)
            data = bytearray(path.read_bytes())
        else:
            data = bytearray(source.read_bytes())
            for where, patch in edits:
                start = int(where * (len(data) - len(patch)))
                data[start : start + len(patch)] = patch
        if truncate_at is not None:
            data = data[: int(truncate_at * len(data))]
        path.write_bytes(bytes(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = _read(kind, path, small_dicom.ct)
            except OpenSIRTError:
                return
    assert isinstance(result, Volume | Segmentation | dict)
