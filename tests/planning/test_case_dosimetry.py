"""The case file's dosimetry: block and the command line's --dose-method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opensirt.errors import CaseFileError, InputError
from opensirt.physics import DEFAULT_DOSE_METHOD, DoseMethod
from opensirt.planning import parse_case
from opensirt.planning.case_dosimetry import case_dosimetry, with_dose_method

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partition_resin.yaml"


def _case(dosimetry: Any = None) -> Any:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if dosimetry is not None:
        data["dosimetry"] = dosimetry
    return parse_case(data, source="case.yaml")


def test_without_a_block_the_default_method() -> None:
    case = _case()
    assert case.dosimetry is None
    assert case_dosimetry(case).method is DEFAULT_DOSE_METHOD
    assert case_dosimetry(case).options() == {}


def test_monte_carlo_options() -> None:
    case = _case({"method": "monte-carlo", "monte_carlo": {"histories": 200000, "seed": 4}})
    assert case_dosimetry(case).method is DoseMethod.MONTE_CARLO
    assert case_dosimetry(case).options() == {"histories": 200000, "seed": 4}
    # --dose-method keeps the options while the method stays Monte Carlo, drops them otherwise
    assert case_dosimetry(with_dose_method(case, "monte-carlo")).options()["seed"] == 4
    other = case_dosimetry(with_dose_method(case, "Kernel-Range"))
    assert (other.method, other.monte_carlo) == (DoseMethod.KERNEL_RANGE, None)
    assert with_dose_method(case, None) is case


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ({"method": "mc"}, ["dosimetry.method is 'mc'", "'local-deposition'", "'monte-carlo'"]),
        ({"method": "kernel-mass", "seed": 3}, ["dosimetry.seed: unknown key"]),
        ({"method": "monte-carlo", "monte_carlo": {"seed": -1}}, ["monte_carlo.seed is -1"]),
        ({"method": "monte-carlo", "monte_carlo": {"histories": True}}, ["histories is True"]),
        ({"method": "local-deposition", "monte_carlo": {}}, ["applies only to method"]),
    ],
)
def test_bad_blocks_name_the_key(block: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(CaseFileError) as info:
        _case(block)
    for word in words:
        assert word in str(info.value)


def test_bad_command_line_name_lists_the_methods() -> None:
    with pytest.raises(InputError, match=r"--dose-method is 'lung', expected one of local-dep"):
        with_dose_method(_case(), "lung")
