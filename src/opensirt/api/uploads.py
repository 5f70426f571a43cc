"""Uploaded DICOM zips, unpacked safely into a job's folder.

Refused, before anything is written: an entry with an absolute path or a ``..`` component,
a symbolic link, more than :data:`MAX_ZIP_ENTRIES` entries, an entry that claims to expand
more than :data:`MAX_RATIO` times its compressed size, more than :data:`MAX_UNPACKED_BYTES`
in all (counted while unpacking, not taken from the headers: a zip bomb stops at the limit).
Every unpacked file must be DICOM (the ``DICM`` prefix of PS3.10 section 7.1 after the
128-byte preamble); the error names the first that is not.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from opensirt.errors import InputError

#: The most entries a DICOM zip may hold.
MAX_ZIP_ENTRIES = 50_000
#: The most bytes a DICOM zip may unpack to: 8 GiB (a clinical CT, SPECT and PET are < 2 GiB).
MAX_UNPACKED_BYTES = 8 * 1024**3
#: The largest expansion of one entry (uncompressed / compressed size) accepted; DICOM
#: images compress a few times, rarely beyond 20 (large air regions), a zip bomb by 1000s.
MAX_RATIO = 200
_CHUNK = 1024 * 1024
_DICOM_PREFIX_OFFSET = 128


def _safe_name(info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path, or InputError for a path that could leave the folder."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        raise InputError(
            f"the zip entry {info.filename!r} has an absolute path or '..'; zip the DICOM "
            "folder itself (entries relative to it)"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InputError(f"the zip entry {info.filename!r} is a symbolic link; zip the files")
    return path


def _check_entries(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise InputError(f"the zip holds {len(infos)} entries; at most {MAX_ZIP_ENTRIES}")
    files = []
    for info in infos:
        path = _safe_name(info)
        if info.is_dir():
            continue
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > _CHUNK:
            raise InputError(
                f"the zip entry {info.filename!r} expands {info.file_size} bytes from "
                f"{info.compress_size}: more than {MAX_RATIO} times (a zip bomb?)"
            )
        files.append((info, path))
    return files


def _copy_limited(source: IO[bytes], target: IO[bytes], budget: int, name: str) -> int:
    written = 0
    while chunk := source.read(_CHUNK):
        written += len(chunk)
        if written > budget:
            raise InputError(
                f"the zip unpacks to more than {MAX_UNPACKED_BYTES} bytes (at {name!r}); "
                "upload one study at a time"
            )
        target.write(chunk)
    return written


def is_dicom_file(path: Path) -> bool:
    """Whether a file is a DICOM file (PS3.10: 128-byte preamble, then ``DICM``).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    bool
        True when the prefix is there.
    """
    with path.open("rb") as handle:
        head = handle.read(_DICOM_PREFIX_OFFSET + 4)
    return head[_DICOM_PREFIX_OFFSET:] == b"DICM"


def unpack_dicom_zip(upload: BinaryIO, folder: Path) -> int:
    """Unpack an uploaded zip of DICOM files into ``folder``, checking it as described above.

    Parameters
    ----------
    upload : binary file
        The zip (seekable).
    folder : pathlib.Path
        An empty folder of the job; nothing is written outside it. On an error the folder
        is removed again.

    Returns
    -------
    int
        The number of files unpacked.

    Raises
    ------
    InputError
        If the upload is no zip, breaks a rule above, or holds a file that is not DICOM.
    """
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise InputError("the DICOM upload is not a zip file; zip the DICOM folder") from None
    root = folder.resolve()
    try:
        with archive:
            budget = MAX_UNPACKED_BYTES
            entries = _check_entries(archive)
            for info, path in entries:
                target = (root / path).resolve()
                if not target.is_relative_to(root):
                    raise InputError(f"the zip entry {info.filename!r} lies outside its folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("xb") as out:
                    budget -= _copy_limited(source, out, budget, info.filename)
                if not is_dicom_file(target):
                    raise InputError(
                        f"{info.filename} in the DICOM upload is not a DICOM file (no DICM "
                        "prefix); upload only the DICOM series (CT, SPECT, RTSTRUCT/SEG)"
                    )
    except (InputError, OSError, zipfile.BadZipFile) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, InputError):
            raise
        raise InputError(f"the DICOM zip cannot be unpacked: {exc}") from None
    return len(entries)
