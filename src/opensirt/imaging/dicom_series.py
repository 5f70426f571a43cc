"""DICOM as a PACS exports it: find the series of a folder, a DICOMDIR or a zip, and pick one.

An export holds many series of several studies (CT, SPECT, PET, RTSTRUCT, SEG) in one
folder, often with a DICOMDIR (the DICOM File-set directory, PS3.10 section 8, PS3.3 F) or
packed in a zip. :func:`list_series` groups the files by Series Instance UID;
:func:`choose_series` picks one by UID, modality and description, and when several remain,
raises an error that lists each series (UID, modality, description, files, date) and says how
to pick one. :func:`dicom_source` opens a zip safely: bounded member count and uncompressed
size, no absolute names, no ``..``, no symbolic links, extracted into a temporary folder that
is removed afterwards.

References
----------
.. [PS3.10] DICOM PS3.10 Media Storage and File Format, 8 DICOM File-set (DICOMDIR).
.. [PS3.3F] DICOM PS3.3 Annex F Basic Directory Information Object Definition (Directory
   Record Sequence, Referenced File ID).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from opensirt.errors import ImageReadError, InputError, OpenSIRTError
from opensirt.imaging.dicom_file import as_read_error, read_dataset

__all__ = [
    "IMAGE_MODALITIES",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_UNCOMPRESSED_BYTES",
    "SEGMENTATION_MODALITIES",
    "SeriesInfo",
    "choose_series",
    "dicom_source",
    "is_zip",
    "list_series",
]

#: Modalities that hold no image volume (structures, plans, reports, registrations).
NON_IMAGE_MODALITIES = frozenset({"RTSTRUCT", "SEG", "RTPLAN", "RTRECORD", "SR", "PR", "REG", "KO"})
#: Image modalities OpenSIRT reads as volumes.
IMAGE_MODALITIES = frozenset({"CT", "MR", "PT", "NM"})
#: Modalities of a segmentation.
SEGMENTATION_MODALITIES = frozenset({"RTSTRUCT", "SEG"})
#: Most members a zip may hold (a clinical export: a few thousand files).
MAX_ZIP_MEMBERS = 100_000
#: Most bytes a zip may expand to (a whole-body PET/CT study: about 1 GB).
MAX_ZIP_UNCOMPRESSED_BYTES = 8 * 1024**3
_COPY_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class SeriesInfo:
    """One DICOM series found in a folder, a DICOMDIR or a zip.

    ``date`` is the Series Date (else the Study Date) as ``YYYY-MM-DD``, empty when absent.
    """

    series_instance_uid: str
    modality: str
    description: str
    paths: tuple[Path, ...]
    date: str = ""

    @property
    def n_files(self) -> int:
        """Number of files of the series."""
        return len(self.paths)

    def __str__(self) -> str:
        return (
            f"{self.series_instance_uid} ({self.modality}, "
            f"{self.description or 'no description'}, {self.n_files} "
            f"file{'s' if self.n_files != 1 else ''}, {self.date or 'no date'})"
        )


def is_zip(path: Path) -> bool:
    """A zip file, not a DICOM file (a DICOM preamble could hold zip signatures).

    Parameters
    ----------
    path : pathlib.Path
        Any path; folders and missing files are not zips.

    Returns
    -------
    bool
        True for a readable zip archive without the ``DICM`` marker at byte 128.
    """
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) != b"DICM"


def _safe_member_name(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
        raise ImageReadError(
            f"{archive}: member {info.filename!r} has an absolute path or '..'; such a zip could "
            "write outside its folder and is refused; re-export the series from the PACS"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ImageReadError(
            f"{archive}: member {info.filename!r} is a symbolic link, which is refused; re-export "
            "the series without links"
        )
    if info.flag_bits & 0x1:
        raise ImageReadError(f"{archive}: member {info.filename!r} is encrypted; unpack it first")
    return PurePosixPath(*parts)


def _extract_zip(archive: Path, target: Path, max_members: int, max_bytes: int) -> None:
    """Check every member's name and the totals first, then copy with the byte bound kept."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > max_members:
                raise ImageReadError(
                    f"{archive}: {len(members)} members, more than the {max_members} accepted; "
                    "unpack it yourself and give the series folder"
                )
            names = [_safe_member_name(m, archive) for m in members]
            declared = sum(m.file_size for m in members)
            if declared > max_bytes:
                raise ImageReadError(
                    f"{archive}: expands to {declared / 1e6:.0f} MB, more than the "
                    f"{max_bytes / 1e6:.0f} MB accepted (a zip bomb, or more than one study); "
                    "unpack it yourself and give the series folder"
                )
            written = 0
            for member, name in zip(members, names, strict=True):
                if member.is_dir() or not name.parts:
                    continue
                destination = target.joinpath(*name.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as source, destination.open("xb") as sink:
                    while chunk := source.read(_COPY_CHUNK_BYTES):
                        written += len(chunk)
                        if written > max_bytes:
                            raise ImageReadError(
                                f"{archive}: expands beyond the {max_bytes / 1e6:.0f} MB accepted"
                            )
                        sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise ImageReadError(f"{archive}: not a readable zip file ({exc})") from exc
    except FileExistsError as exc:
        raise ImageReadError(f"{archive}: holds the same member name twice ({exc})") from exc


@contextmanager
def dicom_source(
    path: str | os.PathLike[str],
    *,
    max_members: int = MAX_ZIP_MEMBERS,
    max_uncompressed_bytes: int = MAX_ZIP_UNCOMPRESSED_BYTES,
) -> Iterator[Path]:
    """The folder or file to read: ``path`` itself, or a zip extracted into a temporary folder.

    The temporary folder is removed when the ``with`` block ends, so everything read from it
    must be read inside the block. Warnings and errors raised in the block name a member as
    ``ARCHIVE.zip!/member/path``, not the temporary folder.

    Parameters
    ----------
    path : str or os.PathLike
        A DICOM file, a folder, a DICOMDIR or a zip of any of them.
    max_members : int, optional
        Most members a zip may hold (a guard against zip bombs).
    max_uncompressed_bytes : int, optional
        Most bytes a zip may expand to.

    Yields
    ------
    pathlib.Path
        ``path`` itself, or the temporary folder holding the zip's contents.

    Raises
    ------
    ImageReadError
        A zip with more than ``max_members`` members or expanding beyond
        ``max_uncompressed_bytes``, with an absolute member name, ``..``, a symbolic link or an
        encrypted member; a corrupt zip.
    """
    location = Path(path)
    if not is_zip(location):
        yield location
        return
    folder = Path(tempfile.mkdtemp(prefix="opensirt-zip-"))

    def named(text: str) -> str:
        return text.replace(str(folder), f"{location}!")

    caught: list[warnings.WarningMessage] = []
    try:
        _extract_zip(location, folder, max_members, max_uncompressed_bytes)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield folder
        except InputError as exc:
            raise type(exc)(named(str(exc))) from exc
        finally:  # re-issued once the recording has stopped, named by the archive
            for item in caught:
                warnings.warn_explicit(
                    named(str(item.message)), item.category, item.filename, item.lineno
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _dicomdir_files(dicomdir: Path) -> list[Path]:
    """The files a DICOMDIR's records reference (Referenced File ID, relative to its folder);
    each must exist and stay inside that folder."""
    try:
        ds = pydicom.dcmread(dicomdir)
        records = ds.get("DirectoryRecordSequence") or []
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise ImageReadError(
            f"{dicomdir}: not a readable DICOMDIR ({exc}); give the series folder instead"
        ) from exc
    _check_record_offsets(dicomdir, ds, records)
    files = []
    for record in records:
        reference = record.get("ReferencedFileID")
        if not reference:
            continue
        parts = [str(reference)] if isinstance(reference, str) else [str(p) for p in reference]
        if any(p in {"", ".", ".."} or "/" in p or "\\" in p for p in parts):
            raise ImageReadError(
                f"{dicomdir}: a record references {'/'.join(parts)!r}, outside its folder"
            )
        files.append(dicomdir.parent.joinpath(*parts))
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ImageReadError(
            f"{dicomdir}: references {len(missing)} file(s) that are not there (first: "
            f"{missing[0]}); copy the whole export, not only some of its folders"
        )
    return list(dict.fromkeys(files))


def _check_record_offsets(dicomdir: Path, ds: Dataset, records: Sequence[Dataset]) -> None:
    """Every record offset (PS3.3 F.3.2.2) within the file: pydicom reads a truncated
    DICOMDIR without complaint, and the records cut off would silently drop files."""
    size = dicomdir.stat().st_size
    offsets = [
        ds.get("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity"),
        ds.get("OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity"),
    ]
    for record in records:
        offsets.append(record.get("OffsetOfTheNextDirectoryRecord"))
        offsets.append(record.get("OffsetOfReferencedLowerLevelDirectoryEntity"))
    beyond = max((int(o) for o in offsets if o), default=0)
    if beyond >= size:
        raise ImageReadError(
            f"{dicomdir}: a directory record points to byte {beyond}, beyond the file's "
            f"{size} bytes: the DICOMDIR is truncated and would miss files; copy it again, "
            "or give the series folder instead"
        )


def _dicom_files(path: Path) -> list[Path]:
    """The candidate files of ``path``: a file, a DICOMDIR's references, or a folder's files."""
    if path.is_file():
        return _dicomdir_files(path) if path.name.upper() == "DICOMDIR" else [path]
    if not path.is_dir():
        raise ImageReadError(f"image path {str(path)!r} does not exist")
    if (path / "DICOMDIR").is_file():
        return _dicomdir_files(path / "DICOMDIR")
    return sorted(
        Path(root) / name
        for root, _dirs, names in os.walk(path)
        for name in names
        if name.upper() != "DICOMDIR" and not name.startswith(".")
    )


def _date(ds: Dataset) -> str:
    text = str(ds.get("SeriesDate", "") or ds.get("StudyDate", "") or "").strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) >= 8 and text.isdigit() else text


def list_series(path: str | os.PathLike[str]) -> list[SeriesInfo]:
    """The DICOM series in a file, a folder (searched recursively) or a DICOMDIR, by Series UID.

    A folder with a DICOMDIR at its top is read through it (only the files it references).
    In a folder, files that are not DICOM, or whose header cannot be read, are skipped with a
    warning; a single file that cannot be read raises :class:`ImageReadError` with the
    reason. For a zip, call this inside :func:`dicom_source`.

    Parameters
    ----------
    path : str or os.PathLike
        A DICOM file, a folder or a DICOMDIR.

    Returns
    -------
    list of SeriesInfo
        One entry per Series Instance UID, in the order first found, with its files.

    Raises
    ------
    ImageReadError
        If ``path`` is a single file that cannot be read as DICOM, or a DICOMDIR is corrupt.
    """
    groups: dict[str, list[tuple[Path, Dataset]]] = {}
    skipped = 0
    single = Path(path).is_file() and Path(path).name.upper() != "DICOMDIR"
    for file in _dicom_files(Path(path)):
        try:
            with as_read_error(str(file), "a DICOM file"):
                ds = read_dataset(file, header_only=True)
                uid = str(ds.get("SeriesInstanceUID", ""))
        except OpenSIRTError:
            if single:
                raise
            skipped += 1
            continue
        groups.setdefault(uid, []).append((file, ds))
    if skipped:
        warnings.warn(
            f"{path}: skipped {skipped} file(s) that are not DICOM or not readable", stacklevel=2
        )
    return [
        SeriesInfo(
            series_instance_uid=uid,
            modality=str(items[0][1].get("Modality", "")),
            description=str(items[0][1].get("SeriesDescription", "")),
            paths=tuple(p for p, _ in items),
            date=_date(items[0][1]),
        )
        for uid, items in groups.items()
    ]


def description_matches(description: str, pattern: str) -> bool:
    """Whether a Series Description matches ``pattern``, case-insensitively: a glob when the
    pattern holds ``*``, ``?`` or ``[``, else a substring.

    Parameters
    ----------
    description : str
        The Series Description.
    pattern : str
        A glob (matched against the whole description) or a substring.

    Returns
    -------
    bool
        True if the description matches.

    Examples
    --------
    >>> description_matches("Tc99m MAA SPECT/CT", "maa")
    True
    >>> description_matches("Tc99m MAA SPECT/CT", "tc99m*ct")
    True
    >>> description_matches("CT abdomen", "MAA*")
    False
    """
    text, wanted = description.lower(), pattern.lower()
    if any(c in wanted for c in "*?["):
        return fnmatch.fnmatchcase(text, wanted)
    return wanted in text


def choose_series(
    path: str | os.PathLike[str],
    series: Sequence[SeriesInfo],
    *,
    series_uid: str | None = None,
    modality: str | None = None,
    description: str | None = None,
    kinds: frozenset[str] | None = None,
    how_to_pick: str = "",
) -> SeriesInfo:
    """The one series of ``series`` that matches every criterion given.

    Parameters
    ----------
    path : path-like
        Where the series were found (for the messages).
    series : sequence of SeriesInfo
        From :func:`list_series`.
    series_uid, modality, description : str, optional
        The Series Instance UID; the Modality (``CT``, ``NM``, ``PT``, ``RTSTRUCT`` ...);
        a pattern of the Series Description (see :func:`description_matches`).
    kinds : frozenset of str, optional
        The modalities considered when no ``series_uid`` is given (default: every modality
        that is not a structure set, segmentation, plan or report).
    how_to_pick : str
        How to write the choice where the caller reads it (a case-file key), shown in the
        error; default the keyword arguments of this function.

    Returns
    -------
    SeriesInfo
        The single matching series.

    Raises
    ------
    ImageReadError
        When nothing matches, or several series do: the message lists every series found
        (UID, modality, description, files, date) and how to pick one.
    """
    if not series:
        raise ImageReadError(f"no DICOM file found in {str(path)!r}")
    if series_uid is not None:
        candidates = [s for s in series if s.series_instance_uid == series_uid.strip()]
    elif modality is not None:
        candidates = list(series)
    elif kinds is not None:
        candidates = [s for s in series if s.modality in kinds]
    else:
        candidates = [s for s in series if s.modality not in NON_IMAGE_MODALITIES]
    if modality is not None:
        candidates = [s for s in candidates if s.modality == modality.strip().upper()]
    if description is not None:
        candidates = [s for s in candidates if description_matches(s.description, description)]
    if len(candidates) == 1:
        return candidates[0]
    listing = "\n".join(f"  - {s}" for s in series)
    how = how_to_pick or (
        "series_uid=<SeriesInstanceUID>, or modality=<CT|NM|PT|RTSTRUCT|SEG> with "
        "description=<part of the SeriesDescription, or a glob such as 'MAA*'>"
    )
    asked = ", ".join(
        f"{key}={value!r}"
        for key, value in (
            ("series_uid", series_uid),
            ("modality", modality),
            ("description", description),
        )
        if value is not None
    ) or (f"Modality {' or '.join(sorted(kinds))}" if kinds else "")
    structures = (modality or "").strip().upper() in NON_IMAGE_MODALITIES or bool(
        kinds and kinds <= NON_IMAGE_MODALITIES
    )
    what = "series" if structures else "image series"
    if not candidates:
        raise ImageReadError(
            f"no {what} in {str(path)!r} matches {asked or 'an image modality'}; found "
            f"{len(series)} series:\n{listing}\npick one with {how}"
        )
    raise ImageReadError(
        f"{str(path)!r} holds {len(candidates)} {what} that match"
        f"{' ' + asked if asked else ''}; found {len(series)} series:\n{listing}\n"
        f"pick one with {how}"
    )
