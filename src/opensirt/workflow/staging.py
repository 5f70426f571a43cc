"""All-or-nothing output folders.

A pipeline writes its files into a staging folder beside the destination; only when every
file is written are they moved into place. A failure leaves the destination as it was, with
no half-written file in it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opensirt.errors import InputError


def _check_destination(outdir: Path, overwrite: bool) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"output folder {outdir} is a file, expected a folder (or a new name)")
    if outdir.is_dir() and any(outdir.iterdir()) and not overwrite:
        raise InputError(
            f"output folder {outdir} is not empty; choose a new folder or pass --overwrite "
            "to replace the files OpenSIRT writes there"
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
    """
    outdir = Path(outdir).resolve()
    _check_destination(outdir, overwrite)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.staging-", dir=outdir.parent))
    try:
        yield staging
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
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
