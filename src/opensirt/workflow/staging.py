"""All-or-nothing output folders.

A pipeline writes its files into a staging folder beside the destination; only when every
file is written are they moved into place. A failure leaves the destination as it was, with
no half-written file in it.

The staging folder is named ``.NAME.staging-PID-XXXX`` after the destination ``NAME`` and the
id of the process that writes it. A run that is killed cannot remove its staging folder; the
next run into the same destination removes the stale ones: those whose process no longer
runs, or older than :data:`STALE_AFTER_S` whatever their process id says (ids are reused).
A file-system failure (no permission, a file where a folder is expected, a name too long, a
full disk) becomes an :class:`~opensirt.errors.InputError` naming the path and the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from opensirt.errors import InputError
from opensirt.fileio import folder_mode

#: Age (s) beyond which a staging folder is stale even if its process id is in use.
STALE_AFTER_S = 24 * 3600.0
#: Bytes the staging name adds to the destination's name (dot, ``.staging-``, pid, random).
_STAGING_EXTRA_BYTES = 40


def _staging_prefix(outdir: Path) -> str:
    return f".{outdir.name}.staging-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_stale_staging(outdir: Path, now: float | None = None) -> list[Path]:
    """Remove this destination's staging folders left by killed runs; return them."""
    prefix = _staging_prefix(outdir)
    now = time.time() if now is None else now
    removed = []
    for entry in outdir.parent.iterdir():
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        match = re.match(r"(\d+)-", entry.name[len(prefix) :])
        owner = int(match.group(1)) if match else None
        old = now - entry.lstat().st_mtime > STALE_AFTER_S
        if old or (owner is not None and owner != os.getpid() and not _process_alive(owner)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _check_destination(outdir: Path, overwrite: bool) -> None:
    name_max = 255
    with suppress(OSError, ValueError):
        name_max = os.pathconf(outdir.parent, "PC_NAME_MAX")
    length = len(os.fsencode(outdir.name))
    if length + _STAGING_EXTRA_BYTES > name_max:
        raise InputError(
            f"output folder name {outdir.name[:40]}... is {length} bytes long; expected at most "
            f"{name_max - _STAGING_EXTRA_BYTES} bytes here (the file system allows {name_max}, "
            "and the staging folder adds to it); choose a shorter name"
        )
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"output folder {outdir} is a file, expected a folder (or a new name)")
    ancestor = next((p for p in outdir.parents if p.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        raise InputError(
            f"output folder {outdir} lies under {ancestor}, which is a file, not a folder; "
            "choose a folder path"
        )
    if outdir.is_dir() and any(outdir.iterdir()) and not overwrite:
        raise InputError(
            f"output folder {outdir} is not empty; choose a new folder or pass --overwrite "
            "to replace the files OpenSIRT writes there"
        )


def _os_error(outdir: Path, exc: OSError, doing: str) -> InputError:
    where = f" at {exc.filename}" if exc.filename and str(exc.filename) != str(outdir) else ""
    return InputError(
        f"output folder {outdir}: {doing} failed{where} ({exc.strerror or exc}); the output "
        "folder is left as it was. Fix: choose a writable folder with enough space"
    )


@contextmanager
def staged_output(outdir: Path | str, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success its contents replace those in ``outdir``.

    The staging folder is created in ``outdir``'s parent, so the final moves are renames on
    the same file system. On any exception the staging folder is removed and ``outdir`` is
    left untouched.

    Parameters
    ----------
    outdir : path
        Destination folder; created if missing. If it exists and is not empty, ``overwrite``
        must be true; files of the same name are then replaced, others are kept.
    overwrite : bool
        Allow writing into a non-empty folder.

    Yields
    ------
    Path
        The staging folder to write every output file into.

    Raises

    ------
    InputError
        If ``outdir`` is unusable (a file, not empty, a name too long, no permission) or a
        write into the staging folder fails (a full disk): the path and the reason.
    """
    try:
        outdir = Path(outdir).resolve()
        _check_destination(outdir, overwrite)
        outdir.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(outdir)
        staging = Path(
            tempfile.mkdtemp(prefix=f"{_staging_prefix(outdir)}{os.getpid()}-", dir=outdir.parent)
        )
        staging.chmod(folder_mode())  # it becomes outdir: the umask's mode, not 0700
    except OSError as exc:
        raise _os_error(Path(outdir), exc, "preparing it") from None
    try:
        try:
            yield staging
        except OSError as exc:
            if not _inside(exc.filename, staging):
                raise  # not a write into the output: the caller names it
            raise _os_error(outdir, exc, "writing") from None
        try:
            _move_into_place(staging, outdir)
        except OSError as exc:
            raise _os_error(outdir, exc, "moving the files into place") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _inside(filename: object, staging: Path) -> bool:
    """Whether an OSError's file name is in ``staging`` (no name: a write to an open file)."""
    if filename is None:
        return True
    if not isinstance(filename, str | bytes):
        return False
    return staging in Path(os.fsdecode(filename)).parents


def _move_into_place(staging: Path, outdir: Path) -> None:
    if not outdir.exists():
        os.replace(staging, outdir)
        return
    for item in sorted(staging.iterdir()):
        target = outdir / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(item, target)
