"""The nodes file: validated, secrets only by environment variable, clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.errors import InputError
from opensirt.pacs.nodes import NODES_ENV, RetrieveMethod, load_nodes, nodes_path

NODE = {"ae_title": "PACS", "host": "pacs.example.org", "port": 11112}


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def _write(tmp_path: Path, nodes: dict[str, object], **top: object) -> Path:
    path = tmp_path / "pacs.yaml"
    path.write_text(yaml.dump({"opensirt_pacs": 1, "nodes": nodes, **top}, Dumper=_NoAliases))
    return path


def test_a_valid_file(tmp_path: Path) -> None:
    web = {"url": "https://pacs.example.org/dicom-web",
           "auth": {"kind": "bearer", "token_env": "PACS_TOKEN"}}  # fmt: skip
    tls = {"ca_file": "ca.pem", "cert_file": "me.pem", "key_file": "me.key"}
    nodes = {"hospital": {**NODE, "tls": tls, "dicomweb": web}, "cloud": {"dicomweb": web}}
    path = _write(tmp_path, nodes, cache={"folder": "cache", "max_gb": 2})
    settings = load_nodes(path)
    hospital = settings.node("hospital")
    assert hospital.retrieve_method is RetrieveMethod.C_GET
    assert settings.node("cloud").retrieve_method is RetrieveMethod.WADO_RS
    assert hospital.tls is not None
    assert hospital.tls.ca_file == tmp_path / "ca.pem"  # relative to the nodes file
    assert settings.cache.folder == tmp_path / "cache"
    assert settings.local.ae_title == "OPENSIRT"


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"ae_title": "PACS", "host": "h"}, "needs ae_title, host and port together"),
        ({}, "needs ae_title/host/port"),
        ({**NODE, "ae_title": "A" * 17}, "at most 16 characters"),
        ({**NODE, "port": 70000}, "less than or equal to 65535"),
        ({**NODE, "retrieve": "wado-rs"}, "wado-rs needs a dicomweb"),
        (
            {
                **NODE,
                "dicomweb": {
                    "url": "https://x",
                    "auth": {"kind": "basic", "username": "u", "password": "hunter2"},
                },
            },
            "holds a secret",
        ),
        (
            {
                **NODE,
                "dicomweb": {
                    "url": "http://pacs.example.org",
                    "auth": {"kind": "bearer", "token_env": "T"},
                },
            },
            "credentials are sent only over https",
        ),
        ({**NODE, "tls": {"ca_file": "ca.pem", "cert_file": "me.pem"}}, "cert_file and key_file"),
        ({**NODE, "colour": "red"}, "nodes.hospital.colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_nodes_are_named(tmp_path: Path, node: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match="invalid PACS nodes file") as caught:
        load_nodes(_write(tmp_path, {"hospital": node}))
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_missing_file_and_unknown_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="does not exist; write one"):
        load_nodes(tmp_path / "none.yaml")
    monkeypatch.setenv(NODES_ENV, str(tmp_path / "env.yaml"))
    assert nodes_path() == tmp_path / "env.yaml"
    settings = load_nodes(_write(tmp_path, {"hospital": NODE, "archive": NODE}))
    with pytest.raises(
        InputError, match="'other' is not in the nodes file; known nodes: archive, hospital"
    ):
        settings.node("other")


def test_cli_bad_nodes_file_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, {"hospital": {"ae_title": "PACS"}})
    result = CliRunner().invoke(app, ["pacs", "echo", "hospital", "--nodes", str(path)])
    assert result.exit_code == 2
    assert "needs ae_title, host and port together" in result.output


def test_cli_missing_secret_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENSIRT_UNSET_TOKEN", raising=False)
    web = {
        "url": "https://127.0.0.1:1/dicom-web",
        "auth": {"kind": "bearer", "token_env": "OPENSIRT_UNSET_TOKEN"},
    }
    path = _write(tmp_path, {"cloud": {"dicomweb": web}})
    result = CliRunner().invoke(app, ["pacs", "find", "cloud", "--nodes", str(path)])
    assert result.exit_code == 2
    assert "OPENSIRT_UNSET_TOKEN" in result.output
    assert "is not set" in result.output
