"""Reading one DICOM file defensively: its dataset, its decoded pixels, the reader's warnings.

Everything that can go wrong with a file exported by a PACS (a truncated file, no preamble or
File Meta header, a header value that is not a number, pixel data shorter or longer than its
header says, raw bytes labelled with a compressed transfer syntax, a decoder not installed,
a matrix too large to allocate) becomes an :class:`~opensirt.errors.ImageReadError` that names
the file, what was found and what to do, never a pydicom or numpy traceback.

Compressed transfer syntaxes (JPEG baseline, extended and lossless, JPEG-LS, JPEG 2000, RLE,
Deflate) decode through pydicom's pixel-data plugins; OpenSIRT declares ``pylibjpeg`` with its
``libjpeg``, ``openjpeg`` and ``rle`` plugins as dependencies.

References
----------
.. [PS3.5] DICOM PS3.5 section 8 (native and encapsulated pixel data), Annex A (transfer
   syntaxes).
.. [PS3.10] DICOM PS3.10 section 7.1 (128-byte preamble, ``DICM`` prefix, File Meta
   Information).
.. [pydicom] pydicom 3 pixel-data decoders, https://pydicom.github.io/pydicom/stable/guides/
   user/pixel_data.html
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from opensirt.errors import ImageReadError, OpenSIRTError

__all__ = [
    "MAX_PIXEL_BYTES",
    "NotDicomError",
    "as_read_error",
    "decode_pixels",
    "header_int",
    "read_dataset",
    "recording_warnings",
]

#: Largest decoded pixel data of one file that a reader allocates (4 GiB): a 512 x 512 x 2000
#: enhanced CT at 32 bits is 2 GiB. A larger header (Rows = Columns = 65535) is refused before
#: anything is allocated.
MAX_PIXEL_BYTES = 4 * 2**30

#: The decoders that OpenSIRT installs for each family of compressed transfer syntaxes.
_DECODER_PACKAGES = {
    "JPEG-LS": "pylibjpeg and pylibjpeg-libjpeg",
    "JPEG 2000": "pylibjpeg and pylibjpeg-openjpeg",
    "JPEG": "pylibjpeg and pylibjpeg-libjpeg",
    "RLE": "pylibjpeg and pylibjpeg-rle",
}


class NotDicomError(ImageReadError):
    """The file is not DICOM at all (folder listings skip such files with a warning)."""


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _forced(path: str, header_only: bool, exc: InvalidDicomError) -> Dataset:
    """Read a file without preamble or File Meta header, if it then looks like DICOM.

    Safe when the dataset has an SOP Class UID or a Modality (a plain DICOM dataset written
    without the Part-10 wrapper); the transfer syntax is then the encoding pydicom detected
    (implicit or explicit VR little endian, the only ones possible without a meta header).
    """
    try:
        with warnings.catch_warnings():  # pydicom's guesses about a file that may not be DICOM
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=header_only)
    except Exception as forced_exc:  # any failure here means: not DICOM
        raise NotDicomError(f"{path}: not a DICOM file ({_reason(forced_exc)})") from exc
    try:
        looks_dicom = "SOPClassUID" in ds or "Modality" in ds
    except Exception:  # a garbled tag table (random bytes parsed as elements)
        looks_dicom = False
    if not looks_dicom:
        raise NotDicomError(
            f"{path}: not a DICOM file (no DICM prefix, and read without it no SOP Class UID "
            "nor Modality)"
        ) from exc
    implicit, little = ds.original_encoding
    if not little:
        raise ImageReadError(
            f"{path}: a big-endian dataset without File Meta header; its transfer syntax "
            "cannot be known: re-export it as a DICOM Part-10 file"
        ) from exc
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        )
    warnings.warn(
        f"{path}: no DICOM preamble or File Meta header; read as "
        f"{ds.file_meta.TransferSyntaxUID.name}",
        stacklevel=3,
    )
    return ds


def read_dataset(path: str | os.PathLike[str], *, header_only: bool = False) -> Dataset:
    """The dataset of one DICOM file, read with ``force`` only where that is safe.

    Parameters
    ----------
    path : path-like
        The file.
    header_only : bool
        Stop before the pixel data (to list series quickly).

    Returns
    -------
    pydicom.dataset.Dataset
        The dataset; its values are converted lazily, so read them inside
        :func:`as_read_error`.

    Raises
    ------
    NotDicomError
        If the file is not DICOM.
    ImageReadError
        If it is DICOM but truncated or corrupt.
    """
    source = os.fspath(path)
    ds: Dataset
    try:
        ds = pydicom.dcmread(source, stop_before_pixels=header_only)
    except InvalidDicomError as exc:
        ds = _forced(source, header_only, exc)
    except IsADirectoryError as exc:
        raise NotDicomError(f"{source}: is a folder, not a DICOM file") from exc
    except OSError as exc:
        raise ImageReadError(f"{source}: cannot be read ({_reason(exc)})") from exc
    except Exception as exc:  # pydicom's parser raises many types on corrupt input
        raise ImageReadError(
            f"{source}: a corrupt or truncated DICOM file ({_reason(exc)}); export it again"
        ) from exc
    return ds  # pydicom converts values lazily: each reader has an as_read_error boundary


@contextmanager
def as_read_error(source: str, what: str) -> Iterator[None]:
    """Turn any exception but an :class:`OpenSIRTError` raised inside into an
    :class:`ImageReadError` naming ``source``: the boundary of every reader, since pydicom,
    numpy and highdicom raise many types on corrupt input.

    Parameters
    ----------
    source : str
        The file being read, named in the message.
    what : str
        What the file was read as (``"an RT Structure Set"``), named in the message.

    Yields
    ------
    None
        Control to the ``with`` block.

    Raises
    ------
    ImageReadError
        For any exception raised in the block that is not an :class:`OpenSIRTError` (those
        pass unchanged).
    """
    try:
        yield
    except OpenSIRTError:
        raise
    except Exception as exc:
        raise ImageReadError(
            f"{source}: cannot be read as {what} ({_reason(exc)}); the file is corrupt: "
            "export it again"
        ) from exc


def header_int(ds: Dataset, keyword: str, source: str, *, default: int | None = None) -> int:
    """An integer header value, or an :class:`ImageReadError` naming the file and the tag.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset.
    keyword : str
        DICOM keyword of the attribute, e.g. ``"Rows"``.
    source : str
        The file it was read from, for messages.
    default : int or None, optional
        Value for an absent or empty attribute; None (default) makes it required.

    Returns
    -------
    int
        The attribute's value.

    Raises
    ------
    ImageReadError
        If the attribute is required and missing, or not an integer.
    """
    try:
        value = ds.get(keyword, default)
        if value in (None, ""):
            if default is None:
                raise ImageReadError(f"{source}: {keyword} is missing")
            return default
        return int(value)
    except OpenSIRTError:
        raise
    except Exception as exc:
        raise ImageReadError(
            f"{source}: {keyword} is not a valid integer ({_reason(exc)}); the header is corrupt"
        ) from exc


def _decoder_hint(ts: UID) -> str:
    for family, packages in _DECODER_PACKAGES.items():
        if family in ts.name:
            return packages
    return "pylibjpeg with its plugins, or python-gdcm"


def _check_decoder(ds: Dataset, ts: UID, source: str) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise ImageReadError(
            f"{source}: transfer syntax {ts.name} ({ts}) is not supported by any pixel-data "
            "decoder; export the series uncompressed or in a JPEG/JPEG 2000/RLE syntax"
        ) from exc
    if not decoder.is_available:
        raise ImageReadError(
            f"{source}: no decoder installed for transfer syntax {ts.name} ({ts}); install "
            f"{_decoder_hint(ts)} (pip install 'opensirt' brings them)"
        )
    if not ds["PixelData"].is_undefined_length:
        raise ImageReadError(
            f"{source}: the transfer syntax says {ts.name} but the pixel data is not "
            "encapsulated (raw bytes labelled as compressed); the File Meta header is wrong"
        )


def _check_native_length(ds: Dataset, ts: UID, source: str, frame_bits: int, frames: int) -> None:
    if ds["PixelData"].is_undefined_length:
        raise ImageReadError(
            f"{source}: the pixel data is encapsulated (compressed) but the transfer syntax "
            f"says {ts.name}; the File Meta header is wrong"
        )
    if ts.is_deflated:
        return
    length = len(ds.PixelData)
    expected = (frame_bits * frames + 7) // 8  # 1-bit frames are packed without padding
    if expected <= length <= expected + 1:  # one byte of even-length padding
        return
    frame_bytes = frame_bits / 8
    held = length / frame_bytes
    if length < expected:
        raise ImageReadError(
            f"{source}: the pixel data holds {length} bytes but Rows x Columns x "
            f"NumberOfFrames ({frames}) x BitsAllocated need {expected}: the file is truncated "
            f"or its header is wrong (the bytes make {held:.2f} frames)"
        )
    if length - expected >= frame_bytes:
        raise ImageReadError(
            f"{source}: the pixel data holds {length} bytes, {held:.2f} frames' worth, but "
            f"NumberOfFrames is {frames}: the header is wrong"
        )


def decode_pixels(ds: Dataset, source: str) -> npt.NDArray[Any]:
    """The stored pixel values, ``(frames, rows, columns)``, checked against the header.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A greyscale image dataset with its File Meta Information.
    source : str
        The file it was read from, for messages.

    Returns
    -------
    numpy.ndarray
        Stored values (before Rescale Slope and Intercept), shape ``(frames, rows,
        columns)``, in the dtype the pixel data decode to.

    Raises
    ------
    ImageReadError
        No pixel data, a colour image, a matrix larger than :data:`MAX_PIXEL_BYTES`, pixel data
        shorter or longer than the header says, no decoder for the transfer syntax, or a
        decoding failure; each message names the file.
    """
    if "PixelData" not in ds:
        raise ImageReadError(f"{source}: no PixelData, this is not an image")
    rows = header_int(ds, "Rows", source)
    columns = header_int(ds, "Columns", source)
    frames = header_int(ds, "NumberOfFrames", source, default=1)
    samples = header_int(ds, "SamplesPerPixel", source, default=1)
    bits = header_int(ds, "BitsAllocated", source)
    if min(rows, columns, frames) < 1 or bits not in {1, 8, 16, 32, 64}:
        raise ImageReadError(
            f"{source}: Rows {rows}, Columns {columns}, NumberOfFrames {frames}, BitsAllocated "
            f"{bits}: expected positive sizes and 1, 8, 16, 32 or 64 bits"
        )
    if samples != 1:
        raise ImageReadError(
            f"{source}: a colour image (SamplesPerPixel {samples}, "
            f"{ds.get('PhotometricInterpretation', '')}) holds no quantitative values; "
            "give the original greyscale series"
        )
    decoded_bytes = rows * columns * frames * max(bits // 8, 1)
    if decoded_bytes > MAX_PIXEL_BYTES:
        raise ImageReadError(
            f"{source}: Rows {rows} x Columns {columns} x {frames} frame(s) at {bits} bits is "
            f"{decoded_bytes / 2**30:.1f} GiB, more than the {MAX_PIXEL_BYTES / 2**30:.0f} GiB "
            "a reader allocates: the header is corrupt or the image is not a clinical volume"
        )
    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "") or ""))
    if not ts:
        raise ImageReadError(f"{source}: the File Meta header has no TransferSyntaxUID")
    if not ts.is_transfer_syntax:
        raise ImageReadError(f"{source}: TransferSyntaxUID {ts} is not a known transfer syntax")
    if ts.is_compressed:
        _check_decoder(ds, ts, source)
    else:
        _check_native_length(ds, ts, source, rows * columns * bits, frames)
    try:
        pixels = np.asarray(ds.pixel_array)
    except Exception as exc:  # decoder plugins raise many types on corrupt data
        raise ImageReadError(
            f"{source}: the pixel data ({ts.name}) cannot be decoded ({_reason(exc)}); the "
            "file is corrupt or its header is wrong"
        ) from exc
    if pixels.size != rows * columns * frames:
        raise ImageReadError(
            f"{source}: decoded {pixels.size} pixels, expected Rows x Columns x NumberOfFrames "
            f"= {rows * columns * frames}"
        )
    return pixels.reshape(frames, rows, columns)


@contextmanager
def recording_warnings(into: list[str]) -> Iterator[None]:
    """Record the messages of the warnings raised inside (appended to ``into``, each once) and
    raise them again on leaving, so that callers see them as before.

    The readers store the recorded messages with their result (``Volume.metadata
    ["reader_warnings"]``, ``Segmentation.warnings``) for the plan's JSON and report.

    Parameters
    ----------
    into : list of str
        The list the messages are appended to (duplicates once).

    Yields
    ------
    None
        Control to the ``with`` block.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            into.extend(_unique(str(w.message) for w in caught))
    seen: set[str] = set()
    for w in caught:
        if str(w.message) not in seen:
            seen.add(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def _unique(messages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(messages))
