"""Fetching a series into the cache: query its instance count and patient, retrieve it (C-GET,
C-MOVE or WADO-RS) into a staging folder, check it, and only then commit it.

Checks, in this order, each failure naming the node and the step:

1. the query (C-FIND or QIDO-RS) finds the series, and its patient is the expected one;
2. the count the query reported equals the count the caller expects (when given: the count
   seen when the case was written);
3. every instance that arrives belongs to the patient, study and series asked for (others are
   refused on arrival);
4. the instances written equal the count the query reported, and the node reported no failed
   sub-operation.

A transient fault (node down, timeout) is tried again ``node.retries`` times, after
``node.backoff_s`` seconds, doubled each time; a refusal, a wrong patient or an incomplete
series is not (retrying would hide it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydicom import Dataset

from opensirt.pacs import dicomweb, dimse
from opensirt.pacs.cache import CachedSeries, SeriesCache
from opensirt.pacs.dimse import QueryLevel
from opensirt.pacs.errors import IncompleteSeriesError, PacsError, WrongPatientError
from opensirt.pacs.nodes import Node, NodesFile, RetrieveMethod
from opensirt.pacs.receiver import Expectation, StoreCollector, StoreReceiver

__all__ = ["SeriesInfo", "fetch_series", "query_series", "with_retries"]

T = TypeVar("T")
Progress = Callable[[int, int | None], None]


def with_retries(
    node: Node, action: Callable[[], T], sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run ``action``; on a transient :class:`PacsError` wait and try again.

    Parameters
    ----------
    node : Node
        Its ``retries`` (further tries) and ``backoff_s`` (first wait, doubled each time).
    action : callable
        The operation.
    sleep : callable
        Waits the given seconds (for tests).

    Returns
    -------
    object
        What ``action`` returns.

    Raises
    ------
    PacsError
        The last fault, when every try failed or the fault is not transient.
    """
    for attempt in range(node.retries + 1):
        try:
            return action()
        except PacsError as exc:
            if not exc.transient or attempt == node.retries:
                raise
            sleep(node.backoff_s * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class SeriesInfo:
    """What a query reported about one series."""

    study_uid: str
    series_uid: str
    patient_id: str
    modality: str
    description: str
    instances: int


def query_series(settings: NodesFile, name: str, study_uid: str, series_uid: str) -> SeriesInfo:
    """Find one series by C-FIND (or QIDO-RS on a DICOMweb-only node).

    Parameters
    ----------
    settings : NodesFile
        The nodes file.
    name : str
        The node to ask.
    study_uid, series_uid : str
        The series' UIDs.

    Returns
    -------
    SeriesInfo
        Its patient, modality, description and instance count.

    Raises
    ------
    PacsError
        If the node fails, or has no such series (the message names the UIDs).
    """
    node = settings.node(name)
    study_keys = {"StudyInstanceUID": study_uid, "PatientID": ""}
    series_keys = {
        "StudyInstanceUID": study_uid,
        "SeriesInstanceUID": series_uid,
        "Modality": "",
        "SeriesDescription": "",
        "NumberOfSeriesRelatedInstances": "",
    }

    def ask(level: QueryLevel, keys: dict[str, str]) -> list[Dataset]:
        if node.has_dimse:
            return dimse.find(name, node, settings.local, level, keys)
        return dicomweb.qido(name, node, level, keys)

    step = "C-FIND" if node.has_dimse else "QIDO-RS"
    studies = with_retries(node, lambda: ask(QueryLevel.STUDY, study_keys))
    series = with_retries(node, lambda: ask(QueryLevel.SERIES, series_keys))
    if not studies or not series:
        raise PacsError(
            name,
            step,
            f"no series {series_uid} in study {study_uid}; check the UIDs "
            "(opensirt pacs find lists them)",
        )
    count = series[0].get("NumberOfSeriesRelatedInstances")
    if count in (None, ""):
        raise PacsError(name, step, "the node did not report the series' instance count")
    return SeriesInfo(
        study_uid=study_uid,
        series_uid=series_uid,
        patient_id=str(studies[0].get("PatientID", "")),
        modality=str(series[0].get("Modality", "")),
        description=str(series[0].get("SeriesDescription", "")),
        instances=int(count),
    )


def _retrieve(
    settings: NodesFile,
    name: str,
    method: RetrieveMethod,
    expect: Expectation,
    folder: Path,
    progress: Progress | None,
) -> tuple[list[str], list[str], int]:
    """Retrieve into ``folder``: (stored UIDs, refused instances, failed sub-operations)."""
    node = settings.node(name)
    if method is RetrieveMethod.WADO_RS:
        stored, refused = dicomweb.wado_series(name, node, expect, folder, progress)
        return stored, refused, 0
    if method is RetrieveMethod.C_GET:
        counts, collector = dimse.get_series(name, node, settings.local, expect, folder, progress)
        return collector.stored, collector.refused, counts.failed
    collector = StoreCollector(expect, folder, progress)
    callers = sorted({n.ae_title for n in settings.nodes.values() if n.ae_title is not None})
    with ExitStack() as stack:
        try:
            stack.enter_context(StoreReceiver(settings.local, callers, collector).running())
        except OSError as exc:
            raise PacsError(
                name,
                "C-MOVE",
                f"OpenSIRT's receiver cannot listen on {settings.local.bind}:"
                f"{settings.local.port} ({exc.strerror or exc}); is another retrieval running, "
                "or is local.port wrong?",
            ) from None
        counts = dimse.move_series(name, node, settings.local, expect, collector)
    return collector.stored, collector.refused, counts.failed


def _check_arrived(
    name: str, step: str, info: SeriesInfo, stored: list[str], refused: list[str], failed: int
) -> None:
    if refused:
        raise WrongPatientError(
            name,
            step,
            f"{len(refused)} instance(s) did not belong to the series asked for and were "
            f"refused: {refused[0]}",
        )
    if len(set(stored)) != info.instances or failed:
        raise IncompleteSeriesError(
            name,
            step,
            f"series {info.series_uid}: {len(set(stored))} instance(s) arrived, the query "
            f"reported {info.instances}"
            + (f" ({failed} sub-operation(s) failed)" if failed else "")
            + "; the series is incomplete and is not used (try again when the PACS has it all)",
        )


def fetch_series(
    settings: NodesFile,
    name: str,
    study_uid: str,
    series_uid: str,
    *,
    patient_id: str | None = None,
    expected_instances: int | None = None,
    method: RetrieveMethod | None = None,
    progress: Progress | None = None,
) -> CachedSeries:
    """A complete, checked series from the cache, retrieved from the node when not there.

    Parameters
    ----------
    settings : NodesFile
        The nodes file (nodes, OpenSIRT's node, the cache).
    name : str
        The node to retrieve from.
    study_uid, series_uid : str
        The series' UIDs.
    patient_id : str, optional
        The Patient ID the series must belong to.
    expected_instances : int, optional
        The instance count the caller expects (e.g. written in the case file).
    method : RetrieveMethod, optional
        C-GET, C-MOVE or WADO-RS; default: the node's ``retrieve``.
    progress : callable, optional
        Called with (instances received, total).

    Returns
    -------
    CachedSeries
        The cache entry (``reused`` tells whether it was there already).

    Raises
    ------
    PacsError
        :class:`~opensirt.pacs.errors.WrongPatientError` for another patient,
        :class:`~opensirt.pacs.errors.IncompleteSeriesError` for a series with fewer
        instances than reported or expected, and the network faults.
    """
    node = settings.node(name)
    method = method or node.retrieve_method
    cache = SeriesCache(settings.cache.folder, int(settings.cache.max_gb * 1e9))
    cached = cache.lookup(study_uid, series_uid)
    if (
        cached is not None
        and patient_id in (None, cached.patient_id)
        and expected_instances in (None, len(cached.files))
    ):
        if progress is not None:
            progress(len(cached.files), len(cached.files))
        return cached
    info = query_series(settings, name, study_uid, series_uid)
    step = "C-FIND" if node.has_dimse else "QIDO-RS"
    if patient_id is not None and info.patient_id != patient_id:
        raise WrongPatientError(
            name,
            step,
            f"series {series_uid} belongs to patient {info.patient_id!r}, "
            f"expected {patient_id!r}; check the UIDs and the patient",
        )
    if expected_instances is not None and info.instances != expected_instances:
        raise IncompleteSeriesError(
            name,
            step,
            f"series {series_uid} has {info.instances} instance(s) on the node, "
            f"{expected_instances} expected; the series is incomplete or changed",
        )
    expect = Expectation(study_uid, series_uid, info.patient_id)

    def counted(done: int, _total: int | None) -> None:
        if progress is not None:
            progress(done, info.instances)

    def attempt() -> CachedSeries:
        with cache.staging() as folder:
            stored, refused, failed = _retrieve(settings, name, method, expect, folder, counted)
            _check_arrived(name, method.upper(), info, stored, refused, failed)
            return cache.commit(
                folder,
                study_uid=study_uid,
                series_uid=series_uid,
                patient_id=info.patient_id,
                node=name,
            )

    return with_retries(node, attempt)
