"""DICOM over TLS: OpenSIRT's receiver and its association requests, with certificates made
for the test by openssl (a throwaway CA, a server and a client certificate)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from opensirt.pacs import dimse
from opensirt.pacs.errors import PacsError
from opensirt.pacs.nodes import LocalNode, Node, TlsOptions
from opensirt.pacs.receiver import Expectation, StoreCollector, StoreReceiver
from orthanc_server import free_port

KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.pem; server.pem/.key for 127.0.0.1; client.pem/.key; all signed by the CA."""
    openssl = require_tool("openssl", "openssl")
    folder = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        *KEY,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
    )
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", *KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"]
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            *sign,
            "-out",
            f"{name}.pem",
            "-extfile",
            "san.ext",
        )
    return folder


def test_echo_over_mutual_tls(certificates: Path, tmp_path: Path) -> None:
    c = certificates
    server_tls = TlsOptions(
        ca_file=c / "ca.pem", cert_file=c / "server.pem", key_file=c / "server.key"
    )
    receiver_node = LocalNode(ae_title="OPENSIRT", port=free_port(), tls=server_tls)
    client_tls = TlsOptions(
        ca_file=c / "ca.pem",
        cert_file=c / "client.pem",
        key_file=c / "client.key",
        server_name="localhost",
    )
    node = Node(
        ae_title="OPENSIRT", host="127.0.0.1", port=receiver_node.port, tls=client_tls, timeout_s=5
    )
    caller = LocalNode(ae_title="WORKSTATION")
    collector = StoreCollector(Expectation("1.2.3"), tmp_path)
    with StoreReceiver(receiver_node, ["WORKSTATION"], collector).running():
        assert dimse.echo("receiver", node, caller) > 0
        # without TLS, or without a client certificate, there is no association
        for refused in (
            node.model_copy(update={"tls": None}),
            node.model_copy(update={"tls": TlsOptions(ca_file=c / "ca.pem")}),
        ):
            with pytest.raises(
                PacsError, match="node 'receiver', C-ECHO: no association within 5 s"
            ):
                dimse.echo("receiver", refused.model_copy(update={"timeout_s": 5}), caller)
