"""Image paths that are not images (a FIFO, a device, a system folder) are refused before any
reading, so that a run never blocks or reads without end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from opensirt.errors import InputError
from opensirt.planning import parse_case
from opensirt.workflow.inputs import load_images


def _case(tmp_path: Path, **images: str) -> Any:
    data = {
        "opensirt_case": 1,
        "patient": {"id": "P1", "height_m": 1.7, "weight_kg": 70},
        "device": "sir-spheres",
        "method": "voxel",
        "lung": {},
        "liver": {"volume_ml": 1500},
        "territories": [{"name": "whole", "volume_ml": 1400}],
        "images": {
            "ct": "ct",
            "spect": "spect.dcm",
            "segmentation": "seg.dcm",
            "structures": {"liver": "Liver", "lungs": "Lungs"},
            **images,
        },
    }
    (tmp_path / "ct").mkdir(exist_ok=True)
    (tmp_path / "spect.dcm").write_bytes(b"not read")
    return parse_case(data, base_dir=tmp_path)


def test_fifo_as_the_spect_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match=r"images\.spect: .*fifo is not a regular file"):
        load_images(_case(tmp_path, spect="fifo"))


def test_fifo_in_the_ct_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ct").mkdir()
    (tmp_path / "ct" / "slice1.dcm").write_bytes(b"x")
    os.mkfifo(tmp_path / "ct" / "pipe")
    with pytest.raises(InputError, match=r"images\.ct: .*pipe is not a regular file"):
        load_images(_case(tmp_path))


@pytest.mark.parametrize("system", ["/proc/self", "/dev/zero", "/sys"])
def test_system_folders_and_devices_are_refused(tmp_path: Path, system: str) -> None:
    if not os.path.exists(system):
        pytest.skip(f"{system} does not exist here")
    with pytest.raises(InputError, match=r"images\.spect is .*a system folder"):
        load_images(_case(tmp_path, spect=system))
