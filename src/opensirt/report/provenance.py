"""Provenance: fingerprints of the inputs and the versions of the software behind a result.

A result is reproducible only if one can tell which inputs and which software made it. The
fingerprints are SHA-256 digests (FIPS 180-4, doi:10.6028/NIST.FIPS.180-4) of file contents,
read in chunks so that large DICOM series never sit in memory.

A folder's fingerprint hashes, in sorted order of their relative POSIX paths, one line per
regular file ``"<relative path>\\0<sha256 of its content>\\n"``: it changes when a byte, a name
or the set of files changes, and not when the folder is moved, copied or listed in another
order. Every file counts, hidden ones included.

>>> sha256_bytes(b"abc")  # FIPS 180-2 appendix B.1 example
'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from opensirt.errors import InputError

_CHUNK_BYTES = 1 << 20

#: Distributions whose versions are recorded with every result.
RECORDED_PACKAGES = ("opensirt", "numpy", "scipy", "pydicom", "SimpleITK", "matplotlib")

#: Version text for a package that is not installed.
NOT_INSTALLED = "not installed"


class InputKind(StrEnum):
    """What a fingerprinted path is."""

    FILE = "file"
    FOLDER = "folder"


def sha256_bytes(data: bytes) -> str:
    """Hexadecimal SHA-256 digest of ``data``.

    Parameters
    ----------
    data : bytes
        The bytes to hash.

    Returns
    -------
    str
        64 lower-case hexadecimal digits.
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hexadecimal SHA-256 digest of a file's content, read in 1 MiB chunks.

    Parameters
    ----------
    path : str or Path
        The file; it is read, never held in memory whole.

    Returns
    -------
    str
        64 lower-case hexadecimal digits.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sorted((p.relative_to(folder).as_posix(), p) for p in files)


def sha256_folder(folder: str | Path) -> tuple[str, int]:
    """Fingerprint of a folder's files and their relative names, and the number of files.

    See the module documentation for the exact recipe. An empty folder has the digest of
    empty input.

    Parameters
    ----------
    folder : str or Path
        The folder; every regular file below it counts, hidden ones included.

    Returns
    -------
    tuple of (str, int)
        The 64-digit hexadecimal digest and the number of files hashed.
    """
    digest = hashlib.sha256()
    files = _folder_files(Path(folder))
    for relative, path in files:
        digest.update(f"{relative}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest(), len(files)


@dataclass(frozen=True)
class InputFingerprint:
    """The fingerprint of one input file or folder.

    Attributes
    ----------
    label : str
        What the input is, e.g. ``"case file"``, ``"MAA SPECT"``.
    path : str
        The path as given (shown, not hashed).
    kind : InputKind
        File or folder.
    sha256 : str
        64 hexadecimal digits; see :func:`sha256_file` and :func:`sha256_folder`.
    n_files : int
        Number of files hashed (1 for a file).
    """

    label: str
    path: str
    kind: InputKind
    sha256: str
    n_files: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", InputKind(self.kind))
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise InputError(
                f"InputFingerprint.sha256 is {self.sha256!r}, expected 64 lower-case "
                "hexadecimal digits"
            )


def display_path(path: str | Path, base: str | Path | None) -> str:
    """``path`` relative to ``base`` when it lies inside it, else as given.

    Parameters
    ----------
    path : str or Path
        The path to show.
    base : str, Path or None
        The folder to show it relative to (e.g. the case file's folder); ``None`` shows
        ``path`` as given.

    Returns
    -------
    str
        The relative path (both resolved first), or ``path`` unchanged when it lies outside
        ``base``.

    >>> display_path("/data/case/ct/1.dcm", "/data/case"), display_path("/x/y", "/data")
    ('ct/1.dcm', '/x/y')
    """
    if base is None:
        return str(path)
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


def fingerprint_path(label: str, path: str | Path, shown: str | None = None) -> InputFingerprint:
    """Fingerprint one input file or folder.

    Parameters
    ----------
    label : str
        What the input is, e.g. ``"case file"``, ``"image: ct"``.
    path : str or Path
        The file or folder to hash.
    shown : str or None
        The path as printed in reports and JSON; ``None`` prints ``path`` as given.

    Returns
    -------
    InputFingerprint
        The digest (:func:`sha256_file` or :func:`sha256_folder`), kind and file count.

    Raises
    ------
    InputError
        If ``path`` does not exist or is neither a file nor a folder.
    """
    p = Path(path)
    text = str(path) if shown is None else shown
    if p.is_file():
        return InputFingerprint(label, text, InputKind.FILE, sha256_file(p), 1)
    if p.is_dir():
        digest, n_files = sha256_folder(p)
        return InputFingerprint(label, text, InputKind.FOLDER, digest, n_files)
    raise InputError(
        f"input {label!r} path {str(path)!r} does not exist or is not a file or folder; "
        "check the path in the case file"
    )


def fingerprint_data(data: object) -> str:
    """SHA-256 of the canonical JSON of ``data`` (sorted keys, no spaces).

    For settings and parameters that are not files: two equal mappings give the same
    fingerprint whatever their key order. Values JSON cannot hold are written with ``str``.

    Parameters
    ----------
    data : object
        JSON-like data: mappings, sequences, numbers, strings; anything else is written
        with ``str``.

    Returns
    -------
    str
        64 lower-case hexadecimal digits.

    >>> fingerprint_data({"b": 1, "a": 2.5}) == fingerprint_data({"a": 2.5, "b": 1})
    True
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return sha256_bytes(text.encode("ascii"))


def software_versions(packages: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    """Versions of Python and of ``packages`` (``"not installed"`` for a missing one).

    Parameters
    ----------
    packages : tuple of str
        Distribution names as installed (e.g. ``"SimpleITK"``); by default
        :data:`RECORDED_PACKAGES`.

    Returns
    -------
    dict of str to str
        ``"python"`` and each package, mapped to its version text.

    >>> sorted(software_versions(("numpy",)))
    ['numpy', 'python']
    """
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


@dataclass(frozen=True)
class Provenance:
    """What made a result: software versions, input fingerprints and settings.

    Attributes
    ----------
    software : mapping str -> str
        Package name to version (see :func:`software_versions`).
    inputs : tuple of InputFingerprint
        The fingerprinted inputs, in the order given.
    settings_sha256 : str or None
        :func:`fingerprint_data` of the settings and parameters, if any.
    """

    software: Mapping[str, str]
    inputs: tuple[InputFingerprint, ...] = ()
    settings_sha256: str | None = None
    _combined: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "software", dict(self.software))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        labels = [item.label for item in self.inputs]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise InputError(
                f"Provenance.inputs has duplicate labels {duplicates}, expected unique"
            )
        record = {
            "software": self.software,
            "inputs": [[item.label, item.kind.value, item.sha256] for item in self.inputs],
            "settings": self.settings_sha256,
        }
        object.__setattr__(self, "_combined", fingerprint_data(record))

    @property
    def combined_fingerprint(self) -> str:
        """One SHA-256 over software versions, input labels and contents, and settings.

        Paths are not part of it: the same files in another folder give the same fingerprint.
        """
        return self._combined

    @property
    def short_fingerprint(self) -> str:
        """The first 12 hexadecimal digits of :attr:`combined_fingerprint`."""
        return self._combined[:12]

    @property
    def opensirt_version(self) -> str:
        """The recorded OpenSIRT version (``"not installed"`` if unknown)."""
        return self.software.get("opensirt", NOT_INSTALLED)


def collect_provenance(
    inputs: Mapping[str, str | Path],
    *,
    settings: object = None,
    relative_to: str | Path | None = None,
) -> Provenance:
    """Fingerprint ``inputs`` (label -> file or folder) and record the software versions.

    Parameters
    ----------
    inputs : mapping str -> path
        Labelled input files and folders.
    settings : object, optional
        Parameters to fingerprint with :func:`fingerprint_data` (e.g. the case model as a
        dict); ``None`` records none.
    relative_to : path, optional
        Show the input paths relative to this folder (e.g. the case file's), so that the
        record stays true when the folder is moved.

    Returns
    -------
    Provenance
        The software versions, the input fingerprints in the order given and the settings
        fingerprint.

    Raises
    ------
    InputError
        If an input path does not exist or is neither a file nor a folder.
    """
    fingerprints = tuple(
        fingerprint_path(label, path, display_path(path, relative_to))
        for label, path in inputs.items()
    )
    settings_sha256 = None if settings is None else fingerprint_data(settings)
    return Provenance(software_versions(), fingerprints, settings_sha256)
