"""Atomic file writes (a temporary file in the target folder, then a rename), bounded,
strictly decoded reads of small text inputs (case files, measurement tables), and values
made plain for JSON (the ``--json`` output of the commands and the service's answers)."""

from __future__ import annotations

import codecs
import math
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from opensirt.errors import InputError


def current_umask() -> int:
    """The process's file-mode creation mask (e.g. ``0o022``).

    Read from ``/proc/self/status`` where the system gives it (Linux 4.7+), so that it is not
    changed even for an instant (other threads may be creating files); elsewhere read by
    setting and restoring it with :func:`os.umask`.

    Returns
    -------
    int
        The umask, as permission bits (``0o022`` means group and others may not write).
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions of a new file under the current umask: ``0o666 & ~umask``.

    Returns
    -------
    int
        Permission bits for :func:`os.chmod` (``0o644`` under umask ``0o022``).
    """
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    """The permissions of a new folder under the current umask: ``0o777 & ~umask``.

    Returns
    -------
    int
        Permission bits for :func:`os.chmod` (``0o755`` under umask ``0o022``).
    """
    return 0o777 & ~current_umask()


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path next to ``path``, then move it onto ``path``.

    A reader never sees a half-written file; on failure the temporary file is removed and
    any previous file at ``path`` is left untouched. The temporary name keeps the target's
    suffixes (``.nii.gz``), which some writers use to choose the format. The file gets the
    permissions the umask asks for (:func:`file_mode`, e.g. 0644 under umask 022), as a file
    opened for writing would, not the owner-only 0600 of a temporary file.

    Parameters
    ----------
    path : str | os.PathLike[str]
        The file to write; its folder is created if missing (with the umask's permissions).
    write : Callable[[Path], None]
        Writes the complete content to the path it is given (the temporary file).

    Returns
    -------
    Path
        ``path``, now holding what ``write`` wrote.

    Raises
    ------
    OSError
        If the folder cannot be created or the file cannot be moved into place; whatever
        ``write`` raises is raised unchanged (the temporary file removed in both cases).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


#: Byte-order marks of the encodings a text input may carry, longest first
#: (UTF-32 before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def check_regular_file(path: Path, what: str) -> os.stat_result:
    """``os.stat`` of ``path``, refused with :class:`~opensirt.errors.InputError` unless it
    is a regular file (a folder, FIFO, device or socket would block or never end).

    Parameters
    ----------
    path : Path
        The file (symbolic links are followed).
    what : str
        What the file is, for the message ("case file", "measurement table").

    Returns
    -------
    os.stat_result
        The file's status (size in bytes in ``st_size``).

    Raises
    ------
    InputError
        If the file cannot be read (missing, no permission) or is not a regular file.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder, expected the {what} (a file)")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{path}: is not a regular file (a FIFO, device or socket), expected the {what} "
            "(a file); copy it to a file first"
        )
    return info


def read_text_file(path: str | os.PathLike[str], *, what: str, max_bytes: int) -> str:
    """The text of a small input file, read with bounds and decoded strictly.

    Only a regular file is opened (checked with ``os.stat`` first, and opened non-blocking,
    so a FIFO never blocks); at most ``max_bytes`` are read, so ``/dev/zero`` or a huge file
    is refused without reading it. The text must be UTF-8 (with or without a byte-order
    mark) or UTF-16/UTF-32 with a byte-order mark, as spreadsheets save "Unicode text"; it
    may not contain a NUL character. The byte-order mark is removed.

    Parameters
    ----------
    path : str | os.PathLike[str]
        The file to read (symbolic links are followed).
    what : str
        What the file is, for the messages ("case file", "measurement table").
    max_bytes : int
        Largest accepted file size (bytes); a larger file is refused unread.

    Returns
    -------
    str
        The decoded text, without the byte-order mark (line endings as in the file).

    Raises
    ------
    InputError
        Naming the file, what is wrong (not a file, too large, the encoding, a NUL byte) and
        the fix.
    """
    path = Path(path)
    info = check_regular_file(path, what)
    limit = f"{max_bytes / 2**20:g} MiB"
    if info.st_size > max_bytes:
        raise InputError(
            f"{path}: the {what} is {info.st_size} bytes, larger than the {limit} a {what} may "
            "have; check that this is the right file"
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise InputError(f"{path}: is not a regular file, expected the {what}")
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: the {what} is larger than the {limit} a {what} may have")
    return decode_text(data, source=str(path), what=what)


def decode_text(data: bytes, *, source: str, what: str) -> str:
    """Decode the bytes of a small input file strictly, as :func:`read_text_file` does.

    Parameters
    ----------
    data : bytes
        The file's content (already bounded in size by the caller).
    source : str
        The file's name, for the messages.
    what : str
        What the file is, for the messages ("case file", "measurement table").

    Returns
    -------
    str
        The text: UTF-8 (with or without a byte-order mark) or UTF-16/UTF-32 with a
        byte-order mark, the mark removed.

    Raises
    ------
    InputError
        Naming the file, the encoding or the NUL character found, and the fix.
    """
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: the {what} is not valid {encoding.upper()} text (byte {exc.start}: "
            f"{data[exc.start : exc.start + 1]!r}); it may be Latin-1, Windows-1252 or binary. "
            "Fix: save it as UTF-8 (or UTF-16 with a byte-order mark)"
        ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(
            f"{source}: line {line} of the {what} holds a NUL character (binary data); "
            "expected text. Fix: save it as UTF-8 text"
        )
    return text


def jsonable(value: Any) -> Any:
    """A value made plain for JSON: numpy scalars and arrays, enums, paths, dates converted.

    Parameters
    ----------
    value : Any
        Dicts, lists and tuples are converted item by item.

    Returns
    -------
    Any
        Plain dicts (string keys), lists, numbers, strings, booleans and ``None``: an enum
        becomes its value, a date or datetime its ISO 8601 text, a path its text, a
        non-finite float ``None``.

    >>> jsonable({"dose_gy": float("nan"), "day": date(2025, 2, 3)})
    {'dose_gy': None, 'day': '2025-02-03'}
    """
    import numpy as np  # here: the command line starts without numpy

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
