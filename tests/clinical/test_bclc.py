"""BCLC 2022 staging: every stage, the size and number boundaries, and the reasons."""

from __future__ import annotations

import pytest

from opensirt.clinical.bclc import BCLC_TREATMENT, BclcCriteria, BclcStage, bclc_stage
from opensirt.errors import InputError


def _stage(**changes: object) -> BclcStage:
    args: dict[str, object] = {
        "tumour_count": 1,
        "largest_tumour_diameter_mm": 15.0,
        "macrovascular_invasion": False,
        "extrahepatic_spread": False,
        "child_pugh_class": "A",
        "ecog": 0,
    }
    args.update(changes)
    return bclc_stage(**args).stage  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "largest_mm", "stage"),
    [
        (1, 20.0, BclcStage.VERY_EARLY),  # single <= 2 cm
        (1, 20.1, BclcStage.EARLY),  # single > 2 cm
        (1, 90.0, BclcStage.EARLY),  # single, any size
        (3, 30.0, BclcStage.EARLY),  # <= 3 nodules each <= 3 cm
        (2, 30.1, BclcStage.INTERMEDIATE),
        (4, 10.0, BclcStage.INTERMEDIATE),  # more than 3 nodules
    ],
)
def test_tumour_burden_boundaries(count: int, largest_mm: float, stage: BclcStage) -> None:
    assert _stage(tumour_count=count, largest_tumour_diameter_mm=largest_mm) is stage


def test_advanced_and_terminal() -> None:
    assert _stage(macrovascular_invasion=True) is BclcStage.ADVANCED
    assert _stage(extrahepatic_spread=True) is BclcStage.ADVANCED
    assert _stage(ecog=1) is BclcStage.ADVANCED
    assert _stage(ecog=2, tumour_count=5, largest_tumour_diameter_mm=60) is BclcStage.ADVANCED
    assert _stage(ecog=3) is BclcStage.TERMINAL
    assert _stage(child_pugh_class="C") is BclcStage.TERMINAL
    assert _stage(child_pugh_class="C", macrovascular_invasion=True) is BclcStage.TERMINAL


def test_reasons_and_treatment() -> None:
    b = bclc_stage(tumour_count=2, largest_tumour_diameter_mm=25, macrovascular_invasion=True,
                   extrahepatic_spread=True, child_pugh_class="A", ecog=1)  # fmt: skip
    assert b.stage is BclcStage.ADVANCED
    assert b.reasons == (
        "macrovascular invasion makes stage C",
        "extrahepatic spread makes stage C",
        "ECOG 1 (cancer-related symptoms, 1-2) makes stage C",
    )
    assert "systemic therapy" in b.treatment
    assert "doi:10.1016/j.jhep.2021.11.018" in b.source
    d = bclc_stage(tumour_count=1, largest_tumour_diameter_mm=10, macrovascular_invasion=False,
                   extrahepatic_spread=False, child_pugh_class="C", ecog=4)  # fmt: skip
    assert len(d.reasons) == 2
    assert d.treatment == BCLC_TREATMENT[BclcStage.TERMINAL]


def test_child_pugh_b_is_flagged_not_preserved() -> None:
    b = bclc_stage(tumour_count=4, largest_tumour_diameter_mm=40, macrovascular_invasion=False,
                   extrahepatic_spread=False, child_pugh_class="B", ecog=0)  # fmt: skip
    assert b.stage is BclcStage.INTERMEDIATE
    assert "not preserved" in b.reasons[0]


def test_criteria_are_overridable() -> None:
    wider = BclcCriteria(very_early_max_diameter_mm=25.0)
    b = bclc_stage(
        tumour_count=1,
        largest_tumour_diameter_mm=22,
        macrovascular_invasion=False,
        extrahepatic_spread=False,
        child_pugh_class="A",
        ecog=0,
        criteria=wider,
    )
    assert b.stage is BclcStage.VERY_EARLY


def test_bad_input() -> None:
    with pytest.raises(InputError, match="tumour_count is 0, expected at least 1 nodule"):
        _stage(tumour_count=0)
    with pytest.raises(InputError, match="largest_tumour_diameter_mm is -3"):
        _stage(largest_tumour_diameter_mm=-3.0)
    with pytest.raises(InputError, match="ecog is 7"):
        _stage(ecog=7)
