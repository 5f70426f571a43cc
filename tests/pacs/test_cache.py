"""The series cache: atomic entries, checksums, reuse, least-recently-used eviction; and the
retries with backoff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opensirt.pacs.cache import SeriesCache
from opensirt.pacs.errors import AssociationRefusedError, NodeUnreachableError
from opensirt.pacs.nodes import Node
from opensirt.pacs.retrieve import with_retries

STUDY = "1.2.3"


def _add(cache: SeriesCache, series_uid: str, sizes: list[int]) -> Path:
    with cache.staging() as staged:
        for index, size in enumerate(sizes):
            (staged / f"{series_uid}.{index + 1}.dcm").write_bytes(bytes([index]) * size)
        entry = cache.commit(
            staged, study_uid=STUDY, series_uid=series_uid, patient_id="P", node="n"
        )
    return entry.folder


def test_commit_lookup_and_reuse(tmp_path: Path) -> None:
    cache = SeriesCache(tmp_path, 10**6)
    assert cache.lookup(STUDY, "1.2.3.4") is None
    folder = _add(cache, "1.2.3.4", [100, 200])
    found = cache.lookup(STUDY, "1.2.3.4")
    assert found is not None
    assert found.reused
    assert found.total_bytes == 300
    assert [p.name for p in found.files] == ["1.2.3.4.1.dcm", "1.2.3.4.2.dcm"]
    assert found.folder == folder
    assert not list((tmp_path / "staging").iterdir())


def test_a_damaged_entry_is_dropped(tmp_path: Path) -> None:
    cache = SeriesCache(tmp_path, 10**6)
    folder = _add(cache, "1.2.3.4", [100])
    (folder / "1.2.3.4.1.dcm").write_bytes(b"changed")
    assert cache.lookup(STUDY, "1.2.3.4") is None
    assert not folder.exists()


def test_a_failed_retrieval_leaves_nothing(tmp_path: Path) -> None:
    cache = SeriesCache(tmp_path, 10**6)

    def fail_halfway() -> None:
        with cache.staging() as staged:
            (staged / "1.dcm").write_bytes(b"half")
            raise RuntimeError("network fault")

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert not list((tmp_path / "staging").iterdir())
    assert not (tmp_path / "series").exists()


def test_least_recently_used_is_evicted(tmp_path: Path) -> None:
    cache = SeriesCache(tmp_path, 3000)  # two entries of 1 kB and their manifests fit
    first = _add(cache, "1.2.3.1", [1000])
    second = _add(cache, "1.2.3.2", [1000])
    os.utime(first / "manifest.json", (1, 1))
    os.utime(second / "manifest.json", (2, 2))
    assert cache.lookup(STUDY, "1.2.3.1") is not None  # used: now the most recent
    third = _add(cache, "1.2.3.3", [1000])
    assert first.exists()
    assert not second.exists()
    assert third.exists()


def test_uids_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a DICOM UID"):
        SeriesCache(tmp_path, 1).lookup("../etc", "1.2")


def test_retries_with_backoff() -> None:
    node = Node(ae_title="PACS", host="h", port=104, retries=3, backoff_s=0.5)
    waits: list[float] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise NodeUnreachableError("n", "C-FIND", "down")
        return "answer"

    assert with_retries(node, flaky, sleep=waits.append) == "answer"
    assert waits == [0.5, 1.0]

    def refused() -> str:
        calls.append(1)
        raise AssociationRefusedError("n", "C-FIND", "rejected")

    calls.clear()
    with pytest.raises(AssociationRefusedError):
        with_retries(node, refused, sleep=waits.append)
    assert len(calls) == 1  # a refusal is not retried

    def down() -> str:
        raise NodeUnreachableError("n", "C-GET", "down")

    waits.clear()
    with pytest.raises(NodeUnreachableError, match="node 'n', C-GET: down"):
        with_retries(node, down, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]
