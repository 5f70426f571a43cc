"""Fixtures of the PACS tests: a real Orthanc loaded with the small synthetic patient, and a
nodes file that points at it.

Orthanc (Debian's ``orthanc``) and its DICOMweb plugin (``orthanc-dicomweb``) are external
programs: the tests skip without them locally, and fail in CI (``OPENSIRT_REQUIRE_TOOLS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import require_tool
from orthanc_server import (
    HTTP_PASSWORD,
    PASSWORD_ENV,
    Orthanc,
    dicomweb_plugin,
    nodes_settings,
    orthanc_executable,
    orthanc_server,
)


@pytest.fixture(scope="session")
def orthanc(small_study: Path) -> Iterator[Orthanc]:
    """A running Orthanc holding the small synthetic patient (CT, NM, PT, RTSTRUCT, SEG)."""
    if orthanc_executable() is None:
        require_tool("Orthanc", "orthanc")
    if dicomweb_plugin() is None:
        require_tool("libOrthancDicomWeb.so", "orthanc-dicomweb")
    with orthanc_server() as server:
        assert server is not None
        server.upload(sorted((small_study / "dicom").rglob("*.dcm")))
        yield server


@pytest.fixture(autouse=True)
def _orthanc_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test Orthanc's password, in the variable that the nodes files name."""
    monkeypatch.setenv(PASSWORD_ENV, HTTP_PASSWORD)


@pytest.fixture
def nodes_file(orthanc: Orthanc, tmp_path: Path) -> Path:
    """A nodes file for the test Orthanc (node ``orthanc``), with a cache of its own."""
    path = tmp_path / "pacs.yaml"
    path.write_text(yaml.safe_dump(nodes_settings(orthanc, tmp_path / "cache")))
    return path
