"""DICOMweb (DICOM PS3.18) with dicomweb-client: QIDO-RS queries, WADO-RS retrieval and
STOW-RS storage, over HTTPS with basic or bearer authentication.

The secret is read from the environment variable that the nodes file names, at the moment of
the request; it never appears in a message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import Dataset, dcmread

from opensirt.errors import InputError
from opensirt.fileio import write_atomically
from opensirt.pacs.dimse import QueryLevel
from opensirt.pacs.errors import (
    AssociationRefusedError,
    NodeUnreachableError,
    PacsError,
    PacsTimeoutError,
)
from opensirt.pacs.nodes import BasicAuth, BearerAuth, Node
from opensirt.pacs.receiver import Expectation

__all__ = ["qido", "stow_files", "wado_series", "web_client"]

#: Instances per STOW-RS request: bounds the request's size (about 50 MB of CT slices).
STOW_BATCH = 100


def _secret(variable: str, name: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise InputError(
            f"PACS node {name!r}: the environment variable {variable} (named in the nodes "
            "file for its DICOMweb credentials) is not set; set it before the command"
        )
    return value


def web_client(name: str, node: Node) -> DICOMwebClient:
    """A DICOMweb client for the node, with its authentication and CA file.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings; ``node.dicomweb`` must be set.

    Returns
    -------
    DICOMwebClient
        The client (requests' session underneath), with the node's timeout.

    Raises
    ------
    InputError
        If the node has no DICOMweb URL, or the credentials' variable is not set.
    """
    web = node.dicomweb
    if web is None:
        raise InputError(f"PACS node {name!r} has no dicomweb: url in the nodes file")
    session = requests.Session()
    if web.ca_file is not None:
        session.verify = str(web.ca_file)
    headers: dict[str, str] = {}
    if isinstance(web.auth, BasicAuth):
        session.auth = (web.auth.username, _secret(web.auth.password_env, name))
    elif isinstance(web.auth, BearerAuth):
        headers["Authorization"] = f"Bearer {_secret(web.auth.token_env, name)}"
    return DICOMwebClient(web.url, session=session, headers=headers, timeout=node.timeout_s)


@contextmanager
def _http_errors(name: str, node: Node, step: str) -> Iterator[None]:
    """Turn requests' exceptions into :class:`PacsError` naming the node and the step."""
    url = node.dicomweb.url if node.dicomweb is not None else "?"
    try:
        yield
    except requests.Timeout:
        raise PacsTimeoutError(
            name, step, f"{url} did not answer within {node.timeout_s:g} s"
        ) from None
    except requests.exceptions.SSLError as exc:
        raise AssociationRefusedError(
            name, step, f"TLS with {url} failed ({type(exc).__name__}); check ca_file"
        ) from None
    except requests.ConnectionError:
        raise NodeUnreachableError(
            name, step, f"cannot connect to {url}; is the server running and the URL right?"
        ) from None
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        if code in (401, 403):
            raise AssociationRefusedError(
                name, step, f"{url} refused the credentials (HTTP {code}); check the auth"
            ) from None
        error: type[PacsError] = NodeUnreachableError if code in (502, 503, 504) else PacsError
        raise error(name, step, f"{url} answered HTTP {code}") from None


_QIDO = {
    QueryLevel.PATIENT: "search_for_studies",  # DICOMweb has no patient level: studies
    QueryLevel.STUDY: "search_for_studies",
    QueryLevel.SERIES: "search_for_series",
}


def qido(name: str, node: Node, level: QueryLevel, keys: dict[str, Any]) -> list[Dataset]:
    """QIDO-RS search for studies or series.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    level : QueryLevel
        Study or series (the patient level searches studies).
    keys : dict
        Matching keys by DICOM keyword; an empty value asks for the attribute (``includefield``).

    Returns
    -------
    list of Dataset
        One dataset per match (the JSON answer decoded).

    Raises
    ------
    PacsError
        If the server is down, slow, refuses the credentials or answers an error.
    """
    client = web_client(name, node)
    filters = {k: v for k, v in keys.items() if v not in ("", None)}
    fields = [k for k, v in keys.items() if v in ("", None)]
    search = getattr(client, _QIDO[level])
    study_uid = filters.pop("StudyInstanceUID", None) if level is QueryLevel.SERIES else None
    with _http_errors(name, node, f"QIDO-RS ({level})"):
        kwargs: dict[str, Any] = {"search_filters": filters, "fields": fields or None}
        if study_uid is not None:
            kwargs["study_instance_uid"] = study_uid
        answers = search(**kwargs)
    return [Dataset.from_json(a) for a in answers]


def wado_series(
    name: str,
    node: Node,
    expect: Expectation,
    folder: Path,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[list[str], list[str]]:
    """WADO-RS: retrieve one series into ``folder`` (one file per instance).

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
    expect : Expectation
        The study and series (and patient) asked for: other instances are not written.
    folder : Path
        The folder to write into.
    progress : callable, optional
        Called with (instances received, None).

    Returns
    -------
    tuple of list of str
        The SOP Instance UIDs written, and the refused instances with the reason.

    Raises
    ------
    PacsError
        If the server is down, slow, refuses the credentials or answers an error.
    """
    assert expect.series_uid is not None
    client = web_client(name, node)
    stored: list[str] = []
    refused: list[str] = []
    with _http_errors(name, node, "WADO-RS"):
        for dataset in client.iter_series(expect.study_uid, expect.series_uid):
            uid = str(dataset.get("SOPInstanceUID", ""))
            reason = expect.mismatch(dataset)
            if reason is not None or not uid.replace(".", "").isdigit():
                refused.append(f"{uid}: {reason or 'not a UID'}")
                continue
            write_atomically(folder / f"{uid}.dcm", partial(_save, dataset))
            stored.append(uid)
            if progress is not None:
                progress(len(stored), None)
    return stored, refused


def _save(dataset: Dataset, path: Path) -> None:
    dataset.save_as(path, enforce_file_format=True)


def stow_files(
    name: str,
    node: Node,
    files: Sequence[Path],
    progress: Callable[[int, int | None], None] | None = None,
) -> list[str]:
    """STOW-RS: store DICOM files, :data:`STOW_BATCH` per request.

    Parameters
    ----------
    name : str
        The node's name (for messages).
    node : Node
        Its settings.
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
        If the server is down, slow, refuses the credentials, or reports a failed instance.
    """
    client = web_client(name, node)
    stored: list[str] = []
    for start in range(0, len(files), STOW_BATCH):
        batch = [dcmread(p) for p in files[start : start + STOW_BATCH]]
        with _http_errors(name, node, "STOW-RS"):
            answer = client.store_instances(batch)
        failed = answer.get("FailedSOPSequence", [])
        if failed:
            uids = ", ".join(str(item.get("ReferencedSOPInstanceUID", "?")) for item in failed)
            raise PacsError(
                name, "STOW-RS", f"the server refused {len(failed)} instance(s): {uids}"
            )
        stored.extend(str(ds.SOPInstanceUID) for ds in batch)
        if progress is not None:
            progress(len(stored), len(files))
    return stored
