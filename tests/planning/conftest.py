"""Shared case data for the planning tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

BASE_CASE: dict[str, Any] = {
    "opensirt_case": 1,
    "patient": {"id": "TEST-001", "height_m": 1.75, "weight_kg": 80},
    "device": "sir-spheres",
    "method": "partition",
    "lung": {"shunt_fraction": 0.08},
    "liver": {"volume_ml": 1500, "density_g_ml": 1.0},
    "territories": [
        {
            "name": "right lobe",
            "volume_ml": 1000,
            "tumours": [{"name": "T1", "volume_ml": 150, "tn_ratio": 4.0}],
        }
    ],
}


@pytest.fixture
def case_dict() -> Callable[..., dict[str, Any]]:
    """A fresh copy of the base case, with top-level keys replaced by the keyword arguments."""

    def make(**changes: Any) -> dict[str, Any]:
        data = copy.deepcopy(BASE_CASE)
        data.update(copy.deepcopy(changes))
        return data

    return make
