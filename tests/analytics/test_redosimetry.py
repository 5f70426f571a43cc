"""Re-dosimetry of a recorded plan: the dose of a saved plan state by another method, limits,
and the refusals that name the case and the fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from opensirt.analytics.redosimetry import (
    DoseMethod,
    RedoseCase,
    RedoseSettings,
    redose_case,
)
from opensirt.analytics.redosimetry_registry import parse_path_map
from opensirt.analytics.redosimetry_synth import write_synthetic_case
from opensirt.errors import InputError
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD
from opensirt.physics.dose_methods import DoseMethod as VoxelDoseMethod

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> RedoseCase:
    folder = tmp_path_factory.mktemp("plan")
    synthetic = write_synthetic_case(folder, "SYN-1", seed=3, n=20, spacing_mm=16.0)
    return RedoseCase(
        plan_version_id=1,
        patient_id=1,
        pseudonym="SYN-1",
        label="whole liver",
        version=1,
        case_yaml=synthetic.case_yaml,
        activity_gbq=synthetic.activity_gbq,
        state_path=str(synthetic.state_path),
    )


def test_kernel_and_ldm_agree_in_the_liver_and_differ_in_the_tumour_edges(case: RedoseCase) -> None:
    kernel = redose_case(case, RedoseSettings(method=DoseMethod.KERNEL))
    ldm = redose_case(case, RedoseSettings(method=DoseMethod.LDM))
    assert set(kernel.structures) == set(ldm.structures) >= {"Liver", "Lungs", "Normal liver", "T1"}
    # the same energy is deposited: the whole-liver mean dose moves by a few percent only
    assert kernel.structures["Liver"]["mean_gy"] == pytest.approx(
        ldm.structures["Liver"]["mean_gy"], rel=0.1
    )
    # the kernel spreads the tumours' energy into the normal liver around them
    assert kernel.tumour_dose_gy is not None
    assert ldm.tumour_dose_gy is not None
    assert kernel.tumour_dose_gy < ldm.tumour_dose_gy
    assert kernel.structures["T1"]["D95_gy"] <= kernel.structures["T1"]["mean_gy"]


def test_dose_method_names_give_the_older_settings_results(case: RedoseCase) -> None:
    by_name = RedoseSettings.from_names("ldm", "none", "device", dose_method="kernel-mass")
    for old, new in (
        (RedoseSettings(method="ldm"), RedoseSettings(method="local-deposition")),
        (
            RedoseSettings(method="kernel", correction="none"),
            RedoseSettings(method="soft-tissue-kernel"),
        ),
        (RedoseSettings(method="kernel"), by_name),
    ):
        assert old.dose_method is new.dose_method
        assert redose_case(case, old).structures == redose_case(case, new).structures
    assert RedoseSettings(method="kernel-range").label == "kernel-range"
    assert RedoseSettings(method="LDM").label == "ldm"  # results of earlier runs keep theirs


def test_settings_stored_old_and_new_read_back() -> None:
    older = {
        "method": "kernel",
        "correction": "range",
        "dose_constant": "device",
        "lung_max_gy": None,
        "lung_cumulative_max_gy": None,
        "normal_liver_max_gy": 35.0,
    }
    assert RedoseSettings(**older).to_dict() == older
    assert RedoseSettings(**older).dose_method.value == "kernel-range"
    new = RedoseSettings(method="soft-tissue-kernel")
    assert RedoseSettings(**new.to_dict()) == new


def test_dose_is_linear_in_the_activity(case: RedoseCase) -> None:
    once = redose_case(case, RedoseSettings(method="ldm"))
    twice = redose_case(
        replace(case, activity_gbq=2 * case.activity_gbq), RedoseSettings(method="ldm")
    )
    assert twice.normal_liver_dose_gy == pytest.approx(2 * once.normal_liver_dose_gy, rel=1e-5)


def test_limits_given_replace_the_cases(case: RedoseCase) -> None:
    own = redose_case(case, RedoseSettings())
    names = [(lim.name, lim.structure) for lim in own.limits]
    assert names == [
        ("lung_max_gy", "Lungs"),
        ("lung_cumulative_max_gy", "Lungs"),
        ("normal_liver_max_gy", "Normal liver"),
    ]
    assert own.limits[0].limit_gy == 30.0  # SIR-Spheres default (the case sets none)
    strict = redose_case(case, RedoseSettings(normal_liver_max_gy=1.0))
    normal = strict.limits[2]
    assert normal.limit_gy == 1.0
    assert normal.exceeded
    assert strict.limits_exceeded
    assert normal.source == "given to opensirt analytics redose"


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(InputError, match=r"method is 'mc', expected one of kernel, ldm"):
        RedoseSettings(method="mc")
    with pytest.raises(InputError, match=r"lung_max_gy is -1.*> 0 Gy"):
        RedoseSettings(lung_max_gy=-1)


def test_a_case_without_its_inputs_is_refused_by_name(case: RedoseCase, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"patient SYN-1, plan 'whole liver' version 1: no saved"):
        redose_case(replace(case, state_path=None), RedoseSettings())
    gone = str(tmp_path / "gone" / "plan_state.npz")
    with pytest.raises(InputError, match=r"saved plan state .* is missing.*--path-map"):
        redose_case(replace(case, state_path=gone), RedoseSettings())
    damaged = tmp_path / "plan_state.npz"
    damaged.write_bytes(b"not an archive")
    with pytest.raises(InputError, match="not a NumPy archive"):
        redose_case(replace(case, state_path=str(damaged)), RedoseSettings())
    compartment = (EXAMPLES / "partition_resin.yaml").read_text(encoding="utf-8")
    with pytest.raises(InputError, match="no images: section, so it has no voxel dose"):
        redose_case(replace(case, case_yaml=compartment), RedoseSettings())


def test_path_map_is_checked() -> None:
    assert parse_path_map(["/a=/b", " /c = /d "]) == (("/a", "/b"), ("/c", "/d"))
    with pytest.raises(InputError, match=r"--path-map is '/a', expected OLD=NEW"):
        parse_path_map(["/a"])


def test_the_default_method_is_the_voxel_plans() -> None:
    """Without a method, re-dosimetry computes by the default dose method; a correction
    alone still means the older kernel method, and stored older settings read back."""
    assert RedoseSettings().dose_method is DEFAULT_DOSE_METHOD
    assert RedoseSettings().label == DEFAULT_DOSE_METHOD.value
    assert RedoseSettings.from_names(None, None, "device") == RedoseSettings()
    assert RedoseSettings.from_names(None, "range", "device").label == "kernel-range"
    assert RedoseSettings.from_names(None, "range", "device", dose_method="ldm").label == "ldm"
    stored = {"method": "kernel", "correction": "mass", "dose_constant": "device"}
    assert RedoseSettings(**stored).dose_method is VoxelDoseMethod.KERNEL_MASS
