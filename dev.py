#!/usr/bin/env python3
"""Set up OpenSIRT in a local virtual environment and run its main jobs.

Needs only Python >= 3.11 with pip and venv. Usage::

    python3 dev.py demo [ARGS]     # set up, then run the demo on the synthetic patient
                                   # (default: into demo-output/, replacing an earlier run)
    python3 dev.py test [ARGS]     # set up, then run the test suite (ARGS go to pytest)
    python3 dev.py setup           # set up only

The environment lives in ``.venv`` next to this file. It is (re)installed when
``pyproject.toml`` changes, so repeated runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".opensirt-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def _create_venv() -> None:
    """A virtual environment with pip; where ``ensurepip`` is missing (some system Pythons),
    an environment without pip into which this interpreter's pip installs pip."""
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except subprocess.CalledProcessError:
        print("ensurepip is not available; installing pip with this Python's pip", flush=True)
        venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(_python()), "install", "pip"],
            check=True,
        )


def setup() -> None:
    """Create ``.venv`` and install the package with its dev extras, if not current."""
    if sys.version_info < (3, 11):
        sys.exit(f"OpenSIRT needs Python >= 3.11; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and _python().exists():
        return
    if not _python().exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        _create_venv()
    print("Installing OpenSIRT and its dependencies (first run only) ...", flush=True)
    pip = [str(_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "--quiet", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "setup"}:
        print(__doc__)
        return 2
    setup()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "demo":
        # the default folder is the demo's own: each run replaces its files
        args = rest if rest else ["demo-output", "--overwrite"]
        return subprocess.call([str(BIN / "opensirt"), "demo", *args])
    return subprocess.call([str(_python()), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
