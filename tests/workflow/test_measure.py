"""Work-up image measurements on hand-made count images."""

import numpy as np
import pytest

from opensirt.errors import InputError
from opensirt.workflow.measure import (
    extrahepatic_uptake,
    lung_shunt_from_spect,
    territory_measures,
)

SPACING = (4.0, 4.0, 4.0)
VOXEL_ML = 0.064


def _torso() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liver in the lower half, lungs in the upper half (z is axis 0, head at high k)."""
    shape = (40, 30, 30)
    liver = np.zeros(shape)
    lungs = np.zeros(shape)
    liver[2:18, 5:25, 5:25] = 1.0
    lungs[20:38, 5:25, 5:25] = 1.0
    return liver, lungs, np.zeros(shape)


def test_lung_shunt_exact_without_blur() -> None:
    liver, lungs, counts = _torso()
    counts[liver > 0] = 10.0
    counts[lungs > 0] = 0.5
    lsf = lung_shunt_from_spect(counts, liver, lungs, SPACING, lung_base_margin_mm=12.0)
    # lungs: 18*20*20 = 7200 voxels * 0.5 = 3600; liver: 16*20*20 = 6400 voxels * 10 = 64000
    assert lsf.lung_counts == pytest.approx(3600.0)
    assert lsf.liver_counts == pytest.approx(64000.0)
    assert lsf.fraction == pytest.approx(3600.0 / 67600.0, rel=1e-12)


def test_lung_base_spill_is_excluded() -> None:
    liver, lungs, counts = _torso()
    counts[liver > 0] = 10.0
    counts[lungs > 0] = 0.5
    counts[20:22] += 5.0  # liver counts spilled into the two lowest lung slices (12, 16 mm)
    lsf = lung_shunt_from_spect(counts, liver, lungs, SPACING, lung_base_margin_mm=16.0)
    assert lsf.lung_counts == pytest.approx(3600.0)


def test_lung_shunt_errors_name_the_problem() -> None:
    liver, lungs, counts = _torso()
    with pytest.raises(InputError, match="lungs structure is empty"):
        lung_shunt_from_spect(counts, liver, np.zeros_like(lungs), SPACING)
    counts[lungs > 0] = 1.0
    with pytest.raises(InputError, match="liver holds no counts"):
        lung_shunt_from_spect(counts, liver, lungs, SPACING)
    with pytest.raises(InputError, match="lung_base_margin_mm=500"):
        lung_shunt_from_spect(counts, liver, lungs, SPACING, lung_base_margin_mm=500)
    # the post-treatment image is named as such (the message said "the SPECT" for a PET)
    with pytest.raises(InputError, match=r"liver holds no counts on the post-treatment image"):
        lung_shunt_from_spect(counts, liver, lungs, SPACING, image="the post-treatment image")


def test_territory_measures_tn_and_volumes() -> None:
    shape = (10, 10, 20)
    right = np.zeros(shape)
    left = np.zeros(shape)
    right[:, :, :10] = 1.0
    left[:, :, 10:] = 1.0
    tumour = np.zeros(shape)
    tumour[2:4, 2:4, 2:4] = 1.0  # 8 voxels in the right lobe
    tumour[4, 2:4, 2:4] = 0.5  # plus 4 half voxels: 10 voxel volumes
    counts = 2.0 * (right + left)
    counts[tumour > 0] = 2.0 + 8.0 * tumour[tumour > 0] / tumour[tumour > 0]
    counts[4, 2:4, 2:4] = 0.5 * 10.0 + 0.5 * 2.0  # partial voxels: half tumour, half normal
    terr = territory_measures(counts, VOXEL_ML, {"right": right, "left": left}, {"T1": tumour})
    by_name = {t.name: t for t in terr}
    assert by_name["right"].volume_ml == pytest.approx(1000 * VOXEL_ML)
    (t1,) = by_name["right"].tumours
    assert t1.volume_ml == pytest.approx(10 * VOXEL_ML)
    # tumour counts: 8 * 10 + 4 * 0.5 * 6 = 92 over 10 voxels -> 9.2 per voxel;
    # normal: (1000 - 10) voxel volumes holding (1000 - 12) * 2 + 4 * 0.5 * 6 = 1988 counts
    normal_density = 1988.0 / (990 * VOXEL_ML)
    assert t1.tn_ratio == pytest.approx((92.0 / (10 * VOXEL_ML)) / normal_density, rel=1e-12)
    assert by_name["left"].tumours == ()
    assert by_name["right"].counts_fraction + by_name["left"].counts_fraction == pytest.approx(1)


def test_territory_measures_rejects_empty_and_stray_tumours() -> None:
    shape = (6, 6, 6)
    terr = {"whole": np.ones(shape)}
    with pytest.raises(InputError, match="tumour 'T9' is empty"):
        territory_measures(np.ones(shape), VOXEL_ML, terr, {"T9": np.zeros(shape)})
    half = np.zeros(shape)
    half[:, :, :3] = 1
    stray = np.zeros(shape)
    stray[1:3, 1:3, 4:6] = 1
    with pytest.raises(InputError, match="outside every perfused territory"):
        territory_measures(np.ones(shape), VOXEL_ML, {"lobe": half}, {"T1": stray})


def test_extrahepatic_hotspot_found_and_clean_image_passes() -> None:
    liver, lungs, counts = _torso()
    rng = np.random.default_rng(7)
    counts[liver > 0] = 10.0
    counts[lungs > 0] = 0.3
    counts += rng.poisson(0.2, counts.shape)
    assert extrahepatic_uptake(counts, liver, lungs, SPACING) == ()
    counts = counts.astype(float)
    counts[5:9, 27:30, 2:5] = 20.0  # a hot spot far from liver and lungs ("stomach")
    found = extrahepatic_uptake(counts, liver, lungs, SPACING, exclusion_margin_mm=6.0)
    assert len(found) == 1
    assert found[0].peak_to_liver_ratio > 1.0
    assert 0 < found[0].counts_fraction < 0.05
