"""The plan's typed records and closed value sets: PlanConstants, LimitName, NormalLiverScope,
and the one lung dose formula every caller uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import FrozenInstanceError, replace
from typing import Any

import numpy as np
import pytest

from opensirt.errors import InputError
from opensirt.imaging.volume import Interpolation, Volume
from opensirt.physics.devices import NormalLiverScope, get_device
from opensirt.planning import PlanResult, lung_dose_gy, parse_case, plan_case
from opensirt.planning.assemble import lowered_warning
from opensirt.planning.context import plan_context, prescribed_target
from opensirt.planning.limits import LimitName
from opensirt.planning.result import LungShuntSource, PlanConstants, TargetName

MakeCase = Callable[..., dict[str, Any]]

#: the keys of the ``constants`` object of ``opensirt plan --json`` before it was typed
CONSTANTS_KEYS = [
    "dose_constant_gy_kg_per_gbq",
    "dose_constant_source",
    "density_g_ml",
    "density_source",
    "half_life_h",
    "nuclide",
    "lung_mass_kg",
    "lung_shunt_fraction_source",
    "normal_liver_limit_scope",
]


def _plan(data: dict[str, Any]) -> PlanResult:
    return plan_case(parse_case(data))


def test_constants_are_a_frozen_record_whose_json_keeps_its_keys(case_dict: MakeCase) -> None:
    result = _plan(case_dict())
    constants = result.constants
    assert isinstance(constants, PlanConstants)
    assert constants.density_g_per_ml == 1.0  # liver.density_g_ml of the conftest case
    assert constants.normal_liver_limit_scope is NormalLiverScope.PERFUSED
    with pytest.raises(FrozenInstanceError):
        constants.lung_mass_kg = 2.0  # type: ignore[misc]
    out = json.loads(json.dumps(result.to_dict()))["constants"]
    assert list(out) == CONSTANTS_KEYS
    assert out["density_g_ml"] == 1.0
    assert out["nuclide"] == "Y-90"
    assert out["normal_liver_limit_scope"] == "perfused"


def test_glass_constants_say_whole_liver_scope(case_dict: MakeCase) -> None:
    result = _plan(case_dict(device="therasphere", method="mird"))
    assert result.constants.normal_liver_limit_scope is NormalLiverScope.WHOLE
    assert result.to_dict()["constants"]["normal_liver_limit_scope"] == "whole"


def test_limit_names_are_an_enum_serialised_as_the_case_file_keys(case_dict: MakeCase) -> None:
    result = _plan(case_dict(prescription={"tumour_dose_gy": 400.0, "lung_max_gy": 1.0}))
    assert [c.name for c in result.limits] == list(LimitName)
    assert all(isinstance(c.name, LimitName) for c in result.limits)
    assert result.binding_limit == "lung_max_gy"
    assert result.territories[0].binding_limit is LimitName.LUNG_MAX
    out = json.loads(json.dumps(result.to_dict()))
    assert list(out["limits"]) == ["lung_max_gy", "lung_cumulative_max_gy", "normal_liver_max_gy"]
    assert out["territories"][0]["binding_limit"] == "lung_max_gy"


def test_every_lung_dose_is_the_one_partition_formula(case_dict: MakeCase) -> None:
    """D_lung = k A LSF (1 - R) / M_lung: the plan, the context and lung_dose_gy agree."""
    data = case_dict(
        lung={"shunt_fraction": 0.12, "mass_kg": 0.9},
        prescription={"residual_fraction": 0.05},
    )
    ctx = plan_context(parse_case(data))
    result = _plan(data)
    assert result.activity_gbq is not None
    expected = 49.67 * result.activity_gbq * 0.12 * 0.95 / 0.9
    assert result.lung_gy == pytest.approx(expected, rel=1e-12)
    assert ctx.lung_gy_per_gbq * result.activity_gbq == pytest.approx(expected, rel=1e-12)
    assert lung_dose_gy(
        result.activity_gbq, 0.12, 49.67, lung_mass_kg=0.9, residual_fraction=0.05
    ) == pytest.approx(expected, rel=1e-12)


def test_device_scope_is_the_enum() -> None:
    assert get_device("sir-spheres").normal_liver_limit_scope is NormalLiverScope.PERFUSED
    assert get_device("therasphere").normal_liver_limit_scope == "whole"


def test_interpolation_accepts_the_enum_or_its_value_and_names_the_choices() -> None:
    volume = Volume(np.arange(8.0).reshape(2, 2, 2), spacing_mm=(1.0, 1.0, 1.0))
    by_enum = volume.resample_to(volume, interpolation=Interpolation.NEAREST)
    by_text = volume.resample_to(volume, interpolation="nearest")
    assert (by_enum.array == by_text.array).all()
    with pytest.raises(InputError, match=r"interpolation is 'cubic', expected one of \['bspline'"):
        volume.resample_to(volume, interpolation="cubic")


def test_constants_read_as_labelled_rows_in_the_report(case_dict: MakeCase) -> None:
    from opensirt.report.clinical_tables import formulas_block

    result = _plan(case_dict())
    rows = dict(result.constants.labelled())
    assert rows["Dose constant k"].startswith("49.67 Gy kg/GBq (")
    assert rows["Tissue density"].startswith("1 g/mL (liver.density_g_ml")
    assert rows["Half-life"] == "64.1 h (Y-90)"
    assert rows["Normal-liver limit applies to"].startswith("the non-tumoural liver of each")
    table = formulas_block(result)
    assert ("Lung mass", "1 kg") in [tuple(r) for r in table.rows]


def test_a_plan_has_an_activity_or_a_refusal(case_dict: MakeCase) -> None:
    result = _plan(case_dict())
    with pytest.raises(InputError, match="activity_gbq is None and refused is None"):
        replace(result, activity_gbq=None)
    with pytest.raises(InputError, match="not both or neither"):
        replace(result, refused="lung shunt above 20 %")
    refused = _plan(case_dict(lung={"shunt_fraction": 0.3}))
    assert refused.refused is not None
    assert refused.activity_gbq is None
    assert refused.lung_gy is None
    assert refused.territories == ()


def test_targets_are_named_by_their_case_file_key(case_dict: MakeCase) -> None:
    result = _plan(case_dict())
    assert result.target is not None
    assert result.target.name is TargetName.TUMOUR_DOSE
    assert result.to_dict()["target"]["name"] == "tumour_dose_gy"
    assert [t.default_field for t in TargetName] == [
        "tumour_target_gy",
        "perfused_target_gy",
        "whole_liver_target_gy",
    ]
    ctx = plan_context(parse_case(case_dict(prescription={"tumour_dose_gy": 150.0})))
    given = prescribed_target(ctx, TargetName.TUMOUR_DOSE)
    assert (given.value_gy, given.source) == (150.0, "case file")
    default = prescribed_target(ctx, TargetName.PERFUSED_DOSE)
    assert default.value_gy == get_device("sir-spheres").limits.perfused_target_gy
    assert "doi:" in default.source


def test_a_target_without_value_or_default_names_the_key(case_dict: MakeCase) -> None:
    ctx = plan_context(parse_case(case_dict()))  # resin: no whole-liver default
    with pytest.raises(InputError, match=r"prescription.whole_liver_dose_gy is not given and"):
        prescribed_target(ctx, TargetName.WHOLE_LIVER_DOSE)


def test_a_lowered_activity_is_worded_once(case_dict: MakeCase) -> None:
    ctx = plan_context(parse_case(case_dict(prescription={"lung_max_gy": 5.0})))
    target = prescribed_target(ctx, TargetName.TUMOUR_DOSE)
    text = lowered_warning(ctx, 2.0, 1.25, LimitName.LUNG_MAX, target, "T1 98.0 Gy")
    assert text == (
        "activity lowered from 2.000 to 1.250 GBq by lung_max_gy (5 Gy); the tumour_dose_gy "
        "of 120 Gy is not reached: T1 98.0 Gy"
    )
    assert lowered_warning(ctx, 2.0, 1.25, LimitName.LUNG_MAX, None, "perfused 50.0 Gy") == (
        "activity lowered from 2.000 to 1.250 GBq by lung_max_gy (5 Gy); perfused 50.0 Gy"
    )
    result = _plan(case_dict(prescription={"tumour_dose_gy": 400.0, "lung_max_gy": 1.0}))
    assert result.warnings[0].startswith("territory 'right lobe': activity lowered from ")


def test_the_lung_shunt_source_is_a_closed_set(case_dict: MakeCase) -> None:
    typed = _plan(case_dict())
    assert typed.constants.lung_shunt_fraction_source is LungShuntSource.CASE_FILE
    counts = {"planar_counts": {"lung": [1000, 800], "liver": [9000, 11000]}}
    planar = _plan(case_dict(lung=counts))
    assert planar.constants.lung_shunt_fraction_source is LungShuntSource.PLANAR_COUNTS
    out = json.loads(json.dumps(planar.to_dict()))["constants"]
    assert out["lung_shunt_fraction_source"] == "planar geometric mean of lung.planar_counts"
    measured = plan_case(parse_case(case_dict()), lung_shunt_source=LungShuntSource.SPECT_CT)
    assert measured.constants.lung_shunt_fraction_source is LungShuntSource.SPECT_CT
