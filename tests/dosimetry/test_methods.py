"""The one entry point: every method equals its function and names itself."""

from __future__ import annotations

import numpy as np
import pytest

from opensirt.dosimetry import (
    DOSE_METHODS,
    absorbed_dose,
    kernel_dose,
    local_deposition_dose,
)
from opensirt.dosimetry.monte_carlo import MonteCarloResult, monte_carlo
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.physics import DEFAULT_DOSE_METHOD, DoseMethod


@pytest.fixture(scope="module")
def activity() -> Volume:
    array = np.zeros((9, 9, 9), dtype=np.float32)
    array[3:6, 3:6, 3:6] = 0.01
    array[4, 4, 6] = 0.02
    return Volume(array, spacing_mm=(4.42, 4.42, 4.42), units="GBq")


@pytest.fixture(scope="module")
def density(activity: Volume) -> Volume:
    rho = np.full(activity.shape, 1.06, dtype=np.float32)
    rho[:, :, 5:] = 0.26  # lung beside the source
    return activity.with_array(rho, units="g/mL")


REFERENCES = {
    DoseMethod.LOCAL_DEPOSITION: lambda a, **kw: local_deposition_dose(a, "Y-90", **kw),
    DoseMethod.SOFT_TISSUE_KERNEL: lambda a, **kw: kernel_dose(a, "Y-90", correction="none", **kw),
    DoseMethod.KERNEL_MASS: lambda a, **kw: kernel_dose(a, "Y-90", correction="mass", **kw),
    DoseMethod.KERNEL_RANGE: lambda a, **kw: kernel_dose(a, "Y-90", correction="range", **kw),
    DoseMethod.PATH_LENGTH: lambda a, **kw: path_length_dose(a, "Y-90", **kw),
    DoseMethod.MONTE_CARLO: lambda a, **kw: monte_carlo(a, "Y-90", histories=2000, **kw).dose,
}
#: Options that make a method cheap enough for this test (the same for the reference).
CHEAP = {DoseMethod.MONTE_CARLO: {"histories": 2000}}


def test_names_and_descriptions() -> None:
    assert tuple(m.value for m in DoseMethod) == DOSE_METHODS
    assert len(DOSE_METHODS) == 6
    assert [m.abbreviation for m in DoseMethod][:3] == ["LDM", "SK", "SKD"]
    assert all(m.description and "\n" not in m.description for m in DoseMethod)
    assert DEFAULT_DOSE_METHOD in DoseMethod


@pytest.mark.parametrize("method", sorted(REFERENCES))
def test_each_method_equals_its_function(
    method: DoseMethod, activity: Volume, density: Volume
) -> None:
    dose = absorbed_dose(
        activity,
        "Y-90",
        density=density,
        method=method.value,
        dose_constant_gy_kg_per_gbq=49.67,
        **CHEAP.get(method, {}),
    )
    expected = REFERENCES[method](activity, density=density, dose_constant_gy_kg_per_gbq=49.67)
    np.testing.assert_array_equal(dose.array, expected.array)
    assert dose.units == "Gy"
    assert dose.metadata["method"] == method.value
    assert dose.metadata["method_description"] == method.description


def test_default_method_and_enum_argument(activity: Volume, density: Volume) -> None:
    by_default = absorbed_dose(activity, "Y-90", density=density)
    by_enum = absorbed_dose(activity, "Y-90", density=density, method=DEFAULT_DOSE_METHOD)
    assert by_default.metadata["method"] == DEFAULT_DOSE_METHOD.value
    np.testing.assert_array_equal(by_default.array, by_enum.array)


def test_kernel_option_passes_through(activity: Volume) -> None:
    dose = absorbed_dose(activity, "Ho-166", method="kernel-mass", workers=1)
    np.testing.assert_array_equal(dose.array, kernel_dose(activity, "Ho-166").array)


def test_unknown_method_lists_the_names(activity: Volume) -> None:
    with pytest.raises(InputError, match=r"'kernel-lung' is not known.*local-deposition"):
        absorbed_dose(activity, "Y-90", method="kernel-lung")


def test_unknown_option_names_it_and_the_accepted(activity: Volume) -> None:
    with pytest.raises(InputError, match=r"'histories'.*'kernel-mass'.*workers"):
        absorbed_dose(activity, "Y-90", method="kernel-mass", histories=10)
    with pytest.raises(InputError, match=r"'workers'.*'local-deposition'.*none"):
        absorbed_dose(activity, "Y-90", method="local-deposition", workers=1)


def test_every_method_is_computed_and_checked_here() -> None:
    assert set(REFERENCES) == set(DoseMethod)


def test_monte_carlo_keeps_its_result(activity: Volume, density: Volume) -> None:
    dose = absorbed_dose(
        activity, "Y-90", density=density, method="monte-carlo", histories=2000, seed=3
    )
    result = dose.metadata["monte_carlo"]
    assert isinstance(result, MonteCarloResult)
    assert (result.histories, result.seed) == (2000, 3)
    np.testing.assert_array_equal(dose.array, result.dose.array)
