"""The nodes file: the PACS (DIMSE and DICOMweb) that OpenSIRT talks to, and its own node.

One YAML file (``opensirt_pacs: 1``), found by the ``--nodes`` option, else the
:data:`NODES_ENV` environment variable, else :data:`DEFAULT_NODES_FILE`::

    opensirt_pacs: 1
    local:                        # OpenSIRT's own node
      ae_title: OPENSIRT          # its AE title (calling AE of every association)
      port: 11113                 # its C-STORE receiver, the destination of C-MOVE
      bind: 127.0.0.1             # the address the receiver listens on
    cache:
      folder: ~/.cache/opensirt/pacs   # retrieved series (default: that folder)
      max_gb: 20                  # least recently used series are evicted beyond it
    nodes:
      hospital:
        ae_title: PACS
        host: pacs.example.org
        port: 11112
        retrieve: c-get           # c-get | c-move | wado-rs: how series are fetched
        timeout_s: 30             # connection and per-message timeout
        retries: 2                # further tries of a transient fault (down, timeout)
        backoff_s: 1.0            # the first wait; doubled after each try
        tls:                      # DICOM over TLS (optional)
          ca_file: /etc/opensirt/hospital-ca.pem
          cert_file: /etc/opensirt/opensirt.pem   # client certificate (optional)
          key_file: /etc/opensirt/opensirt.key
          server_name: pacs.example.org
        dicomweb:                 # the same archive over DICOMweb (optional)
          url: https://pacs.example.org/dicom-web
          auth: {kind: bearer, token_env: PACS_TOKEN}
          # or {kind: basic, username: opensirt, password_env: PACS_PASSWORD}

Secrets never stand in the file: the file names the environment variable that holds them,
and no message or log prints them. Credentials are sent only over HTTPS (or to a loopback
host). A node needs ``ae_title``, ``host`` and ``port`` (DIMSE), or ``dicomweb``, or both.
"""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from opensirt.errors import InputError
from opensirt.fileio import read_text_file

__all__ = [
    "DEFAULT_NODES_FILE",
    "NODES_ENV",
    "BasicAuth",
    "BearerAuth",
    "CacheSettings",
    "DicomWeb",
    "LocalNode",
    "Node",
    "NodesFile",
    "RetrieveMethod",
    "TlsOptions",
    "load_nodes",
    "nodes_path",
]

#: Environment variable naming the nodes file.
NODES_ENV = "OPENSIRT_PACS_NODES"
#: The nodes file used when neither ``--nodes`` nor :data:`NODES_ENV` names one.
DEFAULT_NODES_FILE = Path("~/.config/opensirt/pacs.yaml")
#: Largest nodes file read (bytes): a hundred nodes take about 20 kB.
MAX_NODES_FILE_BYTES = 2**20

#: An AE title: 1 to 16 characters of the default character repertoire, no backslash
#: (DICOM PS3.5, 2024, section 6.2, value representation AE).
_AE_PATTERN = r"^[ -\[\]-~]*[!-\[\]-~][ -\[\]-~]*$"
AeTitle = Annotated[str, Field(min_length=1, max_length=16, pattern=_AE_PATTERN)]
NodeName = Annotated[str, Field(min_length=1, max_length=64)]
Port = Annotated[int, Field(ge=1, le=65535)]


class RetrieveMethod(StrEnum):
    """How a series is fetched from a node."""

    C_GET = "c-get"
    C_MOVE = "c-move"
    WADO_RS = "wado-rs"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class TlsOptions(_Model):
    """DICOM over TLS (DICOM PS3.15 Annex B): the CA that signs the node's certificate,
    optionally OpenSIRT's own certificate and key, and the name the certificate must carry."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None

    @model_validator(mode="after")
    def _key_with_cert(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls: give cert_file and key_file together (or neither)")
        return self


class BasicAuth(_Model):
    """HTTP basic authentication; the password is read from ``password_env``."""

    kind: Literal["basic"]
    username: Annotated[str, Field(min_length=1)]
    password_env: Annotated[str, Field(min_length=1)]


class BearerAuth(_Model):
    """A bearer token (OAuth 2), read from the environment variable ``token_env``."""

    kind: Literal["bearer"]
    token_env: Annotated[str, Field(min_length=1)]


class DicomWeb(_Model):
    """A DICOMweb service (QIDO-RS, WADO-RS, STOW-RS) at ``url``."""

    url: Annotated[str, Field(pattern=r"^https?://")]
    auth: Annotated[BasicAuth | BearerAuth, Field(discriminator="kind")] | None = None
    ca_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_file(cls, data: Any) -> Any:
        auth = data.get("auth") if isinstance(data, dict) else None
        if isinstance(auth, dict) and ({"password", "token"} & set(auth)):
            raise ValueError(
                "dicomweb.auth holds a secret (password/token); put it in an environment "
                "variable and name that variable (password_env / token_env) instead"
            )
        return data

    @model_validator(mode="after")
    def _credentials_over_https(self) -> Self:
        parts = urlsplit(self.url)
        if self.auth is not None and parts.scheme != "https" and not _loopback(parts.hostname):
            raise ValueError(
                f"dicomweb.url {self.url!r} is plain http: credentials are sent only over "
                "https (or to a loopback host); use the https address"
            )
        return self


def _loopback(host: str | None) -> bool:
    if host in (None, "localhost"):
        return host == "localhost"
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


class Node(_Model):
    """A remote node: DIMSE (``ae_title``, ``host``, ``port``) and/or DICOMweb."""

    ae_title: AeTitle | None = None
    host: str | None = None
    port: Port | None = None
    tls: TlsOptions | None = None
    dicomweb: DicomWeb | None = None
    retrieve: RetrieveMethod | None = None
    timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    backoff_s: Annotated[float, Field(ge=0, le=60)] = 1.0

    @model_validator(mode="after")
    def _reachable_somehow(self) -> Self:
        dimse = (self.ae_title, self.host, self.port)
        if any(v is not None for v in dimse) and any(v is None for v in dimse):
            raise ValueError("a DIMSE node needs ae_title, host and port together")
        if self.ae_title is None and self.dicomweb is None:
            raise ValueError("a node needs ae_title/host/port (DIMSE), dicomweb (url), or both")
        method = self.retrieve_method
        if method is RetrieveMethod.WADO_RS and self.dicomweb is None:
            raise ValueError("retrieve: wado-rs needs a dicomweb: url")
        if method is not RetrieveMethod.WADO_RS and self.ae_title is None:
            raise ValueError(f"retrieve: {method} needs ae_title, host and port")
        return self

    @property
    def has_dimse(self) -> bool:
        """Whether the node speaks DIMSE (has an AE title, host and port)."""
        return self.ae_title is not None

    @property
    def retrieve_method(self) -> RetrieveMethod:
        """The method that fetches series: ``retrieve``, else C-GET for a DIMSE node, else
        WADO-RS."""
        if self.retrieve is not None:
            return self.retrieve
        return RetrieveMethod.C_GET if self.ae_title is not None else RetrieveMethod.WADO_RS


class LocalNode(_Model):
    """OpenSIRT's own node: its AE title and its C-STORE receiver."""

    ae_title: AeTitle = "OPENSIRT"
    port: Port = 11113
    bind: str = "127.0.0.1"
    tls: TlsOptions | None = None


class CacheSettings(_Model):
    """Where retrieved series are kept and how much of them."""

    folder: Path = Path("~/.cache/opensirt/pacs")
    max_gb: Annotated[float, Field(gt=0, le=100_000)] = 20.0


class NodesFile(_Model):
    """The whole nodes file (format version 1)."""

    opensirt_pacs: Literal[1]
    local: LocalNode = LocalNode()
    cache: CacheSettings = CacheSettings()
    nodes: Annotated[dict[NodeName, Node], Field(min_length=1)]

    def node(self, name: str) -> Node:
        """The node called ``name``.

        Parameters
        ----------
        name : str
            The node's name in the file.

        Returns
        -------
        Node
            Its settings.

        Raises
        ------
        InputError
            If no node has that name; the message lists the names.
        """
        try:
            return self.nodes[name]
        except KeyError:
            known = ", ".join(sorted(self.nodes))
            raise InputError(
                f"PACS node {name!r} is not in the nodes file; known nodes: {known}"
            ) from None


def nodes_path(given: Path | None = None) -> Path:
    """The nodes file to read: ``given``, else ``$OPENSIRT_PACS_NODES``, else the default.

    Parameters
    ----------
    given : Path, optional
        The ``--nodes`` option.

    Returns
    -------
    Path
        The file's path, ``~`` expanded.
    """
    chosen = given or Path(os.environ.get(NODES_ENV) or DEFAULT_NODES_FILE)
    return chosen.expanduser()


def load_nodes(path: Path | None = None) -> NodesFile:
    """Read and validate the nodes file; relative paths in it are relative to its folder.

    Parameters
    ----------
    path : Path, optional
        The file; see :func:`nodes_path` for the default.

    Returns
    -------
    NodesFile
        The validated settings.

    Raises
    ------
    InputError
        If the file is missing, not YAML, or breaks the format; the message names the key.
    """
    from opensirt.planning.case_file import format_location, parse_yaml

    file = nodes_path(path)
    if not file.is_file():
        raise InputError(
            f"PACS nodes file {file} does not exist; write one (see the README, 'Planning "
            f"from a PACS') and name it with --nodes or ${NODES_ENV}"
        )
    text = read_text_file(file, what="PACS nodes file", max_bytes=MAX_NODES_FILE_BYTES)
    data = parse_yaml(text, str(file))
    try:
        settings = NodesFile.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{format_location(tuple(e['loc'])) or '(top level)'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        ]
        raise InputError(f"{file}: invalid PACS nodes file:\n  " + "\n  ".join(lines)) from None
    return _relative_to(settings, file.resolve().parent)


def _relative_to(settings: NodesFile, folder: Path) -> NodesFile:
    """Resolve the file's relative paths (cache folder, TLS files) against ``folder``."""

    def fix(p: Path | None) -> Path | None:
        return None if p is None else folder / p.expanduser()

    def fix_tls(tls: TlsOptions | None) -> TlsOptions | None:
        if tls is None:
            return None
        return TlsOptions(
            ca_file=folder / tls.ca_file.expanduser(),
            cert_file=fix(tls.cert_file),
            key_file=fix(tls.key_file),
            server_name=tls.server_name,
        )

    nodes = {
        name: node.model_copy(
            update={
                "tls": fix_tls(node.tls),
                "dicomweb": None
                if node.dicomweb is None
                else node.dicomweb.model_copy(update={"ca_file": fix(node.dicomweb.ca_file)}),
            }
        )
        for name, node in settings.nodes.items()
    }
    cache = settings.cache.model_copy(
        update={"folder": folder / settings.cache.folder.expanduser()}
    )
    local = settings.local.model_copy(update={"tls": fix_tls(settings.local.tls)})
    return settings.model_copy(update={"nodes": nodes, "cache": cache, "local": local})
