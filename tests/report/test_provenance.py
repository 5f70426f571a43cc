"""Fingerprints of files, folders and settings; software versions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.errors import InputError
from opensirt.report.provenance import (
    InputKind,
    Provenance,
    collect_provenance,
    fingerprint_data,
    fingerprint_path,
    sha256_file,
    sha256_folder,
    software_versions,
)

# FIPS 180-2 appendix B.1 and B.2 examples ("abc" and the 448-bit message).
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
ABC_LONG = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.dcm").write_bytes(b"abc")
    (root / "sub" / "b.dcm").write_bytes(
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    )
    return root


def test_file_digest_matches_published_examples(tmp_path: Path) -> None:
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "abc") == ABC
    assert sha256_file(tmp_path / "empty") == EMPTY


def test_large_file_is_streamed_to_the_same_digest(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20_000  # 5 MB: several 1 MiB chunks
    (tmp_path / "big").write_bytes(data)
    assert sha256_file(tmp_path / "big") == hashlib.sha256(data).hexdigest()


def test_folder_digest_follows_the_documented_recipe(tmp_path: Path) -> None:
    root = _tree(tmp_path / "series")
    expected = hashlib.sha256(f"a.dcm\0{ABC}\nsub/b.dcm\0{ABC_LONG}\n".encode()).hexdigest()
    assert sha256_folder(root) == (expected, 2)
    assert sha256_folder(tmp_path / "series" / "sub") != sha256_folder(root)


def test_folder_digest_ignores_location_but_sees_names_and_bytes(tmp_path: Path) -> None:
    first = sha256_folder(_tree(tmp_path / "one"))[0]
    assert sha256_folder(_tree(tmp_path / "two"))[0] == first
    (tmp_path / "two" / "a.dcm").rename(tmp_path / "two" / "c.dcm")
    assert sha256_folder(tmp_path / "two")[0] != first
    (tmp_path / "one" / "a.dcm").write_bytes(b"abd")
    assert sha256_folder(tmp_path / "one")[0] != first


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    data=st.binary(min_size=1, max_size=4096),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_byte_change_changes_the_fingerprint(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, position: int, flip: int
) -> None:
    folder = tmp_path_factory.mktemp("flip")
    path = folder / "f.bin"
    path.write_bytes(data)
    before = fingerprint_path("input", path).sha256
    assert fingerprint_path("input", path).sha256 == before  # stable
    changed = bytearray(data)
    changed[position % len(data)] ^= flip
    path.write_bytes(bytes(changed))
    assert fingerprint_path("input", path).sha256 != before


def test_combined_fingerprint(tmp_path: Path) -> None:
    root = _tree(tmp_path / "series")
    case = tmp_path / "case.yaml"
    case.write_text("weight_kg: 80\n")
    first = collect_provenance({"case": case, "SPECT": root}, settings={"k": 49.67})
    assert first.inputs[1].kind is InputKind.FOLDER
    assert first.inputs[1].n_files == 2
    again = collect_provenance({"case": case, "SPECT": root}, settings={"k": 49.67})
    assert again.combined_fingerprint == first.combined_fingerprint
    assert len(first.combined_fingerprint) == 64
    assert first.short_fingerprint == first.combined_fingerprint[:12]
    other_settings = collect_provenance({"case": case, "SPECT": root}, settings={"k": 50.0})
    assert other_settings.combined_fingerprint != first.combined_fingerprint
    case.write_text("weight_kg: 81\n")
    changed = collect_provenance({"case": case, "SPECT": root}, settings={"k": 49.67})
    assert changed.combined_fingerprint != first.combined_fingerprint
    newer = Provenance({**first.software, "opensirt": "9.9"}, first.inputs, first.settings_sha256)
    assert newer.combined_fingerprint != first.combined_fingerprint


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"input 'CT' path .* does not exist"):
        fingerprint_path("CT", tmp_path / "missing")
    item = fingerprint_path("a", _tree(tmp_path / "s") / "a.dcm")
    with pytest.raises(InputError, match="duplicate labels \\['a'\\]"):
        Provenance({}, (item, item))


def test_settings_fingerprint_is_order_free() -> None:
    assert fingerprint_data({"a": 1, "b": [1, 2]}) == fingerprint_data({"b": [1, 2], "a": 1})
    assert fingerprint_data({"a": 1}) != fingerprint_data({"a": 2})


def test_software_versions_list_python_and_missing_packages() -> None:
    versions = software_versions(("numpy", "surely-not-a-package-xyz"))
    assert versions["python"].count(".") == 2
    assert versions["surely-not-a-package-xyz"] == "not installed"
    assert versions["numpy"][0].isdigit()
