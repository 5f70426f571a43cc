"""DICOM networking (DIMSE, DICOM PS3.7) with pynetdicom: C-ECHO, C-FIND, C-GET, C-MOVE and
C-STORE as a user (SCU), over TCP or TLS (DICOM PS3.15 Annex B).

Every association is preceded by a TCP connection test, so that a node that is down (nothing
listens) and a node that does not answer (a timeout) give different messages; every failure
is a :class:`~opensirt.pacs.errors.PacsError` naming the node and the step.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydicom import Dataset, dcmread
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, build_role, evt
from pynetdicom.association import Association

from opensirt.pacs.errors import (
    AssociationRefusedError,
    NodeUnreachableError,
    PacsError,
    PacsTimeoutError,
)
from opensirt.pacs.nodes import LocalNode, Node, TlsOptions
from opensirt.pacs.receiver import (
    MAX_PDU_BYTES,
    Expectation,
    StoreCollector,
    sop_class_uid,
    storage_classes,
)

__all__ = [
    "QueryLevel",
    "RetrieveCounts",
    "client_ssl_context",
    "echo",
    "find",
    "get_series",
    "move_series",
    "store_files",
]

#: Progress callback: instances done, and the total when known.
Progress = Callable[[int, int | None], None]


class QueryLevel(StrEnum):
    """The level of a C-FIND or QIDO-RS query."""

    PATIENT = "patient"
    STUDY = "study"
    SERIES = "series"


@dataclass(frozen=True)
class RetrieveCounts:
    """What a C-GET or C-MOVE reported at its end: sub-operations completed, failed and
    completed with a warning."""

    completed: int
    failed: int
    warning: int


def client_ssl_context(tls: TlsOptions) -> ssl.SSLContext:
    """A TLS context that checks the node's certificate against ``tls.ca_file``.

    Parameters
    ----------
    tls : TlsOptions
        The CA file, and OpenSIRT's certificate and key when the node asks for them.

    Returns
    -------
    ssl.SSLContext
        TLS 1.2 or later, the peer's certificate and host name verified.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    return context


def _check_reachable(name: str, node: Node, step: str) -> None:
    """Open and close a TCP connection: refused (down) and timeout are told apart here."""
    assert node.host is not None
    assert node.port is not None
    where = f"{node.host}:{node.port}"
    try:
        socket.create_connection((node.host, node.port), timeout=node.timeout_s).close()
    except TimeoutError:
        raise PacsTimeoutError(
            name, step, f"{where} did not answer within {node.timeout_s:g} s (slow or filtered?)"
        ) from None
    except OSError as exc:
        raise NodeUnreachableError(
            name,
            step,
            f"cannot connect to {where} ({exc.strerror or exc}); is the PACS running, and are "
            "host and port right in the nodes file?",
        ) from None


def _application_entity(local: LocalNode, node: Node) -> AE:
    ae = AE(ae_title=local.ae_title)
    ae.maximum_pdu_size = MAX_PDU_BYTES
    for attribute in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, attribute, node.timeout_s)
    return ae


@contextmanager
def _association(
    name: str,
    node: Node,
    ae: AE,
    step: str,
    *,
    ext_neg: list[Any] | None = None,
    handlers: list[Any] | None = None,
) -> Iterator[Association]:
    """An established association with ``node``, released at the end."""
    if not node.has_dimse:
        raise PacsError(name, step, "the node has no ae_title/host/port (DICOMweb only)")
    _check_reachable(name, node, step)
    assert node.host is not None
    assert node.port is not None
    assert node.ae_title is not None
    tls_args = None
    if node.tls is not None:
        tls_args = (client_ssl_context(node.tls), node.tls.server_name or node.host)
    assoc = ae.associate(
        node.host,
        node.port,
        ae_title=node.ae_title,
        max_pdu=MAX_PDU_BYTES,
        ext_neg=ext_neg,
        evt_handlers=handlers,
        tls_args=tls_args,
    )
    if assoc.is_rejected:
        raise AssociationRefusedError(
            name,
            step,
            f"the association was rejected (called AE {node.ae_title!r}, calling AE "
            f"{ae.ae_title!r}); check both AE titles, and that the PACS knows OpenSIRT's",
        )
    if not assoc.is_established:
        raise PacsTimeoutError(
            name,
            step,
            f"no association within {node.timeout_s:g} s (a slow node, or the connection was "
            "aborted: a TLS or network fault)",
        )
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def _status_code(name: str, step: str, status: Dataset, node: Node) -> int:
    if "Status" not in status:
        raise PacsTimeoutError(
            name, step, f"no answer within {node.timeout_s:g} s, or the association was aborted"
        )
    return int(status.Status)


def echo(name: str, node: Node, local: LocalNode) -> float:
    """C-ECHO: check that the node answers.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    local : LocalNode
        OpenSIRT's node (the calling AE title).

    Returns
    -------
    float
        The round trip (association, echo, release) in seconds.

    Raises
    ------
    PacsError
        If the node is down, slow, refuses the association or answers with a failure.
    """
    start = time.perf_counter()
    ae = _application_entity(local, node)
    ae.add_requested_context(sop_class_uid("Verification"))
    with _association(name, node, ae, "C-ECHO") as assoc:
        code = _status_code(name, "C-ECHO", assoc.send_c_echo(), node)
    if code != 0:
        raise PacsError(name, "C-ECHO", f"the node answered status 0x{code:04X}")
    return time.perf_counter() - start


_FIND_MODELS = {
    QueryLevel.PATIENT: sop_class_uid("PatientRootQueryRetrieveInformationModelFind"),
    QueryLevel.STUDY: sop_class_uid("StudyRootQueryRetrieveInformationModelFind"),
    QueryLevel.SERIES: sop_class_uid("StudyRootQueryRetrieveInformationModelFind"),
}
_PENDING = (0xFF00, 0xFF01)
#: Final C-GET/C-MOVE statuses that carry sub-operation counts: success, warning (some
#: failed), refused as sub-operations failed (0xA702: all failed), cancelled (DICOM PS3.4,
#: 2024, C.4.2.1.5 and C.4.3.1.4): the counts tell what was missing.
_WITH_COUNTS = (0x0000, 0xB000, 0xA702, 0xFE00)


def find(
    name: str, node: Node, local: LocalNode, level: QueryLevel, keys: dict[str, Any]
) -> list[Dataset]:
    """C-FIND at the patient, study or series level.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    local : LocalNode
        OpenSIRT's node.
    level : QueryLevel
        Patient (Patient Root model), study or series (Study Root model).
    keys : dict
        Matching and return keys by DICOM keyword (``{"PatientID": "X", "StudyDate": ""}``);
        an empty value asks for the attribute to be returned.

    Returns
    -------
    list of Dataset
        One identifier per match.

    Raises
    ------
    PacsError
        If the node is down, slow, refuses, or answers with a failure status.
    """
    step = f"C-FIND ({level})"
    query = Dataset()
    query.QueryRetrieveLevel = level.upper()
    for keyword, value in keys.items():
        setattr(query, keyword, value)
    ae = _application_entity(local, node)
    ae.add_requested_context(_FIND_MODELS[level])
    found: list[Dataset] = []
    with _association(name, node, ae, step) as assoc:
        for status, identifier in assoc.send_c_find(query, _FIND_MODELS[level]):
            code = _status_code(name, step, status, node)
            if code in _PENDING and identifier is not None:
                found.append(identifier)
            elif code != 0:
                raise PacsError(name, step, f"the node answered status 0x{code:04X}")
    return found


def _series_query(study_uid: str, series_uid: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID = study_uid
    query.SeriesInstanceUID = series_uid
    return query


def _final_counts(
    name: str, step: str, node: Node, responses: Any, progress: Progress | None
) -> RetrieveCounts:
    """Read C-GET/C-MOVE responses to the end; the counts of the last one."""
    last = Dataset()
    for status, _ in responses:
        code = _status_code(name, step, status, node)
        last = status
        if code in _PENDING and progress is not None:
            left = int(status.get("NumberOfRemainingSuboperations", 0) or 0)
            done = int(status.get("NumberOfCompletedSuboperations", 0) or 0)
            progress(done, done + left)
        elif code not in _PENDING and code not in _WITH_COUNTS:
            raise PacsError(name, step, f"the node answered status 0x{code:04X}")
    return RetrieveCounts(
        completed=int(last.get("NumberOfCompletedSuboperations", 0) or 0),
        failed=int(last.get("NumberOfFailedSuboperations", 0) or 0),
        warning=int(last.get("NumberOfWarningSuboperations", 0) or 0),
    )


def get_series(
    name: str,
    node: Node,
    local: LocalNode,
    expect: Expectation,
    folder: Path,
    progress: Progress | None = None,
) -> tuple[RetrieveCounts, StoreCollector]:
    """C-GET one series into ``folder`` (one file per instance, named by its UID).

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    local : LocalNode
        OpenSIRT's node.
    expect : Expectation
        The study and series asked for, and the patient when known: other instances are
        refused.
    folder : Path
        An empty folder to write into.
    progress : callable, optional
        Called with (instances received, total) as they arrive.

    Returns
    -------
    tuple of RetrieveCounts and StoreCollector
        The node's final counts and what was stored and refused.

    Raises
    ------
    PacsError
        If the node is down, slow, refuses, or answers with a failure status.
    """
    assert expect.series_uid is not None
    collector = StoreCollector(expect, folder, progress)
    ae = _application_entity(local, node)
    ae.add_requested_context(sop_class_uid("StudyRootQueryRetrieveInformationModelGet"))
    classes = storage_classes()
    for uid in classes:
        ae.add_requested_context(uid, ALL_TRANSFER_SYNTAXES)
    roles = [build_role(uid, scp_role=True) for uid in classes]
    handlers = [(evt.EVT_C_STORE, collector.handle)]
    with _association(name, node, ae, "C-GET", ext_neg=roles, handlers=handlers) as assoc:
        responses = assoc.send_c_get(
            _series_query(expect.study_uid, expect.series_uid),
            sop_class_uid("StudyRootQueryRetrieveInformationModelGet"),
        )
        counts = _final_counts(name, "C-GET", node, responses, None)
    return counts, collector


def move_series(
    name: str,
    node: Node,
    local: LocalNode,
    expect: Expectation,
    collector: StoreCollector,
) -> RetrieveCounts:
    """C-MOVE one series to OpenSIRT's own receiver (which must be running, see
    :class:`~opensirt.pacs.receiver.StoreReceiver`, and be known to the node).

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    local : LocalNode
        OpenSIRT's node: its AE title is the move destination.
    expect : Expectation
        The study and series to move.
    collector : StoreCollector
        The receiver's collector (for progress).

    Returns
    -------
    RetrieveCounts
        The node's final counts.

    Raises
    ------
    PacsError
        If the node is down, slow, refuses, or answers with a failure status (0xA801: the
        node does not know OpenSIRT's AE title as a destination).
    """
    assert expect.series_uid is not None
    ae = _application_entity(local, node)
    ae.add_requested_context(sop_class_uid("StudyRootQueryRetrieveInformationModelMove"))
    with _association(name, node, ae, "C-MOVE") as assoc:
        responses = assoc.send_c_move(
            _series_query(expect.study_uid, expect.series_uid),
            local.ae_title,
            sop_class_uid("StudyRootQueryRetrieveInformationModelMove"),
        )
        return _final_counts(name, "C-MOVE", node, responses, collector.progress)


def store_files(
    name: str, node: Node, local: LocalNode, files: Sequence[Path], progress: Progress | None = None
) -> list[str]:
    """C-STORE files to the node.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    local : LocalNode
        OpenSIRT's node.
    files : sequence of Path
        DICOM files (Part 10).
    progress : callable, optional
        Called with (files sent, total).

    Returns
    -------
    list of str
        The SOP Instance UIDs stored.

    Raises
    ------
    PacsError
        If the node is down, slow, refuses, or refuses an instance (the message names it).
    """
    headers = [(p, dcmread(p, stop_before_pixels=True)) for p in files]
    ae = _application_entity(local, node)
    for sop_class in sorted({str(h.SOPClassUID) for _, h in headers}):
        syntaxes = {
            str(h.file_meta.TransferSyntaxUID) for _, h in headers if h.SOPClassUID == sop_class
        }
        ae.add_requested_context(sop_class, sorted(syntaxes))
    stored: list[str] = []
    with _association(name, node, ae, "C-STORE") as assoc:
        for index, (path, header) in enumerate(headers):
            try:
                status = assoc.send_c_store(path)
            except ValueError as exc:  # no accepted presentation context for the file
                raise PacsError(
                    name, "C-STORE", f"{path.name}: {exc} (the node does not accept it)"
                ) from None
            code = _status_code(name, "C-STORE", status, node)
            if code != 0 and (code & 0xF000) != 0xB000:
                raise PacsError(name, "C-STORE", f"{path.name} refused with status 0x{code:04X}")
            stored.append(str(header.SOPInstanceUID))
            if progress is not None:
                progress(index + 1, len(headers))
    return stored
