"""The local cache of retrieved series: keyed by study and series UID, checked by SHA-256,
reused, bounded in size (least recently used series evicted first), and written atomically.

An entry is a folder ``<cache>/series/<StudyInstanceUID>/<SeriesInstanceUID>/`` holding the
instances (``<SOPInstanceUID>.dcm``) and ``manifest.json`` (the UIDs, the patient, the node,
the time and each file's size and SHA-256). A series is retrieved into a staging folder
under ``<cache>/staging/`` and renamed into place only when complete and checked, so a
reader never sees a half-filled entry; an entry whose files no longer match their checksums
is deleted and retrieved again. Using an entry marks it as recently used (the manifest's
modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["CachedSeries", "SeriesCache"]

MANIFEST = "manifest.json"
_CHUNK_BYTES = 2**20


@dataclass(frozen=True)
class CachedSeries:
    """A complete series in the cache.

    Parameters
    ----------
    folder : Path
        Its folder (the instances and ``manifest.json``).
    study_uid, series_uid : str
        Its UIDs.
    patient_id : str
        The Patient ID its instances carry.
    files : tuple of Path
        The instances, sorted by name.
    total_bytes : int
        Their size.
    reused : bool
        Whether it was found in the cache rather than retrieved now.
    """

    folder: Path
    study_uid: str
    series_uid: str
    patient_id: str
    files: tuple[Path, ...]
    total_bytes: int
    reused: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class SeriesCache:
    """The cache under ``folder``, at most ``max_bytes`` in all.

    Parameters
    ----------
    folder : Path
        The cache's folder (created when first used).
    max_bytes : int
        Size above which the least recently used entries are evicted.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def _entry(self, study_uid: str, series_uid: str) -> Path:
        for uid in (study_uid, series_uid):
            if not uid or len(uid) > 64 or not uid.replace(".", "").isdigit():
                raise ValueError(f"{uid!r} is not a DICOM UID (digits and dots, at most 64)")
        return self.folder / "series" / study_uid / series_uid

    def lookup(self, study_uid: str, series_uid: str) -> CachedSeries | None:
        """The cached series, or ``None`` when absent or damaged (a damaged entry is deleted).

        Parameters
        ----------
        study_uid, series_uid : str
            The series' UIDs.

        Returns
        -------
        CachedSeries or None
            The entry, every file's checksum verified; marked as just used.
        """
        folder = self._entry(study_uid, series_uid)
        manifest = folder / MANIFEST
        if not manifest.is_file():
            return None
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            instances: dict[str, dict[str, object]] = data["instances"]
            for uid, info in instances.items():
                if _sha256(folder / f"{uid}.dcm") != info["sha256"]:
                    raise ValueError(f"{uid}: checksum differs")
        except (OSError, ValueError, KeyError, TypeError):
            self._remove(folder)
            return None
        os.utime(manifest)
        return self._described(folder, data, reused=True)

    @staticmethod
    def _described(folder: Path, data: dict[str, object], *, reused: bool) -> CachedSeries:
        instances = data["instances"]
        assert isinstance(instances, dict)
        return CachedSeries(
            folder=folder,
            study_uid=str(data["study_uid"]),
            series_uid=str(data["series_uid"]),
            patient_id=str(data["patient_id"]),
            files=tuple(sorted(folder / f"{uid}.dcm" for uid in instances)),
            total_bytes=sum(int(str(i["bytes"])) for i in instances.values()),
            reused=reused,
        )

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """An empty staging folder in the cache, deleted at the end unless committed.

        Yields
        ------
        Path
            The folder to retrieve into.
        """
        root = self.folder / "staging"
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="series-", dir=root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(
        self, staged: Path, *, study_uid: str, series_uid: str, patient_id: str, node: str
    ) -> CachedSeries:
        """Checksum a staged, checked series, write its manifest, and rename it into place.

        Parameters
        ----------
        staged : Path
            The staging folder (from :meth:`staging`), holding ``<SOPInstanceUID>.dcm`` files.
        study_uid, series_uid, patient_id : str
            What the files were checked to be.
        node : str
            The node they came from.

        Returns
        -------
        CachedSeries
            The new entry (an entry for the same series is replaced).
        """
        instances = {
            path.stem: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for path in sorted(staged.glob("*.dcm"))
        }
        data: dict[str, object] = {
            "study_uid": study_uid,
            "series_uid": series_uid,
            "patient_id": patient_id,
            "node": node,
            "retrieved": datetime.now(UTC).isoformat(timespec="seconds"),
            "instances": instances,
        }
        (staged / MANIFEST).write_text(json.dumps(data, indent=1), encoding="utf-8")
        final = self._entry(study_uid, series_uid)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            self._remove(final)
        os.replace(staged, final)
        self.evict(keep=final)
        return self._described(final, data, reused=False)

    def _remove(self, folder: Path) -> None:
        """Delete an entry: renamed away first, so it vanishes at once."""
        trash = self.folder / "staging" / f"old-{time.monotonic_ns()}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(folder, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def entries(self) -> list[tuple[float, int, Path]]:
        """The entries: (last used as a POSIX time, size in bytes, folder), oldest first.

        Returns
        -------
        list of tuple
            One per complete entry.
        """
        found = []
        for manifest in (self.folder / "series").glob(f"*/*/{MANIFEST}"):
            folder = manifest.parent
            size = sum(p.stat().st_size for p in folder.iterdir())
            found.append((manifest.stat().st_mtime, size, folder))
        return sorted(found)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Delete the least recently used entries until the cache fits ``max_bytes``.

        Parameters
        ----------
        keep : Path, optional
            An entry never evicted (the one just added).

        Returns
        -------
        list of Path
            The entries deleted.
        """
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        evicted = []
        for _, size, folder in entries:
            if total <= self.max_bytes:
                break
            if folder == keep:
                continue
            self._remove(folder)
            evicted.append(folder)
            total -= size
        return evicted
