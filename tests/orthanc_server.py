"""A throwaway Orthanc PACS for the network tests: Debian's ``Orthanc`` with its DICOMweb
plugin, on loopback ports, its storage in a temporary folder, stopped (and its data deleted)
when the tests end.

The server knows one remote modality, the tests' C-STORE receiver (:data:`LOCAL_AET` on
``local_port``), so that C-MOVE can send to it; it checks the called AE title, so an
association addressed to another title is refused. Its REST API and DICOMweb need HTTP basic
authentication (:data:`HTTP_USER` with :data:`HTTP_PASSWORD`).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ORTHANC_AET = "ORTHANC"
LOCAL_AET = "OPENSIRT"
HTTP_USER = "opensirt"
HTTP_PASSWORD = "orthanc-test-secret"  # a throwaway server on loopback, for the tests only
PLUGIN_FOLDERS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc/plugins")
_START_TIMEOUT_S = 30.0
#: The environment variable that holds Orthanc's password in the tests' nodes files.
PASSWORD_ENV = "OPENSIRT_TEST_ORTHANC_PASSWORD"


def orthanc_executable() -> str | None:
    """The path of Orthanc's server program, or ``None`` when it is not installed."""
    return shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if Path(p).is_file()), None
    )


def dicomweb_plugin() -> Path | None:
    """The DICOMweb plugin (Debian's ``orthanc-dicomweb``), or ``None`` when missing."""
    for folder in PLUGIN_FOLDERS:
        path = Path(folder) / "libOrthancDicomWeb.so"
        if path.is_file():
            return path
    return None


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Orthanc:
    """A running Orthanc: its ports and how to reach its REST API."""

    dicom_port: int
    http_port: int
    local_port: int
    storage: Path

    @property
    def url(self) -> str:
        """The REST API's base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb root."""
        return f"{self.url}/dicom-web"

    def rest(self, method: str, path: str, body: bytes | None = None) -> object:
        """Call the REST API; returns the decoded JSON answer (or ``None`` when empty)."""
        request = urllib.request.Request(self.url + path, data=body, method=method)
        _authorize(request)
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = answer.read()
        return json.loads(data) if data else None

    def upload(self, files: list[Path]) -> None:
        """Store DICOM files through the REST API."""
        for path in files:
            self.rest("POST", "/instances", path.read_bytes())

    def clear(self) -> None:
        """Delete every patient (and so every study, series and instance)."""
        patients = self.rest("GET", "/patients")
        assert isinstance(patients, list)
        for patient in patients:
            self.rest("DELETE", f"/patients/{patient}")


def nodes_settings(server: Orthanc, cache: Path, **node: object) -> dict[str, object]:
    """The nodes file's content for ``server`` (``node`` overrides the node's keys)."""
    settings: dict[str, object] = {
        "ae_title": ORTHANC_AET,
        "host": "127.0.0.1",
        "port": server.dicom_port,
        "timeout_s": 10,
        "retries": 0,
        "dicomweb": {
            "url": server.dicomweb_url,
            "auth": {"kind": "basic", "username": HTTP_USER, "password_env": PASSWORD_ENV},
        },
    }
    settings.update(node)
    return {
        "opensirt_pacs": 1,
        "local": {"ae_title": "OPENSIRT", "port": server.local_port},
        "cache": {"folder": str(cache), "max_gb": 1},
        "nodes": {"orthanc": settings},
    }


def _authorize(request: urllib.request.Request) -> None:
    import base64

    token = base64.b64encode(f"{HTTP_USER}:{HTTP_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")


def _config(root: Path, dicom_port: int, http_port: int, local_port: int) -> dict[str, object]:
    plugin = dicomweb_plugin()
    return {
        "Name": "opensirt-test",
        "StorageDirectory": str(root / "db"),
        "IndexDirectory": str(root / "db"),
        "StorageCompression": False,
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {HTTP_USER: HTTP_PASSWORD},
        "DicomServerEnabled": True,
        "DicomAet": ORTHANC_AET,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": True,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomCheckModalityHost": False,
        "DicomScuTimeout": 10,
        "DicomModalities": {"opensirt": [LOCAL_AET, "127.0.0.1", local_port]},
        "Plugins": [str(plugin)] if plugin else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "ConcurrentJobs": 2,
        "HttpThreadsCount": 8,
        "SaveJobs": False,
        "StableAge": 1,
    }


def _wait_until_up(server: Orthanc, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited at start: {log.read_text(errors='replace')}")
        try:
            server.rest("GET", "/system")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"Orthanc did not answer within {_START_TIMEOUT_S} s")


@contextmanager
def orthanc_server(local_port: int | None = None) -> Iterator[Orthanc | None]:
    """Start Orthanc on loopback ports; yield it, or ``None`` when it is not installed.

    Parameters
    ----------
    local_port : int, optional
        The port of the tests' C-STORE receiver, known to Orthanc as :data:`LOCAL_AET`
        (a free port when not given).

    Yields
    ------
    Orthanc or None
        The running server; stopped and its storage deleted on exit.
    """
    exe = orthanc_executable()
    if exe is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="opensirt-orthanc-"))
    server = Orthanc(free_port(), free_port(), local_port or free_port(), root / "db")
    config = root / "orthanc.json"
    config.write_text(
        json.dumps(_config(root, server.dicom_port, server.http_port, server.local_port))
    )
    log = root / "orthanc.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([exe, str(config)], stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
