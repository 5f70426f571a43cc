"""Volume helpers and the synthetic patient's ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from opensirt.demo.phantom import SyntheticPatient, make_phantom
from opensirt.errors import InputError
from opensirt.imaging import counts_to_activity_mbq, region_fraction, scale_to_total_activity
from opensirt.imaging.volume import Volume
from opensirt.physics.decay import decay_factor


def test_crop_to_mask_with_margin() -> None:
    v = Volume(np.arange(6 * 7 * 8.0).reshape(6, 7, 8), spacing_mm=(2, 2, 3), origin_mm=(1, 2, 3))
    mask = v.with_array(np.zeros(v.shape, bool))
    mask.array[2, 3, 4] = True
    cropped = v.crop_to(mask, margin_mm=3.0)  # 2 voxels in x, y (2 mm), 1 in z (3 mm)
    assert cropped.shape == (3, 5, 5)
    assert cropped.index_to_physical([2, 2, 1]) == pytest.approx(v.index_to_physical([4, 3, 2]))
    assert cropped.array[1, 2, 2] == v.array[2, 3, 4]
    assert v.total(mask) == v.array[2, 3, 4]
    with pytest.raises(InputError, match="no non-zero voxel"):
        v.with_array(np.zeros(v.shape)).bounding_box()


def test_phantom_is_deterministic() -> None:
    a, b, c = make_phantom(3, 0.3), make_phantom(3, 0.3), make_phantom(4, 0.3)
    np.testing.assert_array_equal(a.maa.image.array, b.maa.image.array)
    np.testing.assert_array_equal(a.ct.array, b.ct.array)
    assert not np.array_equal(a.maa.image.array, c.maa.image.array)
    with pytest.raises(InputError, match="size is 2"):
        make_phantom(1, 2)


def test_truth_partition(phantom: SyntheticPatient) -> None:
    maa = phantom.maa
    # 150 MBq Tc-99m decayed for 1 h, all in liver + lungs
    at_scan = 150.0 * decay_factor("Tc-99m", 1.0)
    assert maa.activity_at_acquisition_mbq == pytest.approx(at_scan)
    assert maa.activity_mbq.total() == pytest.approx(at_scan)  # exact rebinning
    truth = maa.structure_activity_mbq
    assert truth["Lungs"] / at_scan == pytest.approx(0.07)
    assert truth["Liver"] / at_scan == pytest.approx(0.93)
    # T/N: tumour concentration / normal concentration of its lobe
    s = phantom.structures
    for tumour in phantom.tumours:
        lobe = s[tumour.territory].array & ~s.union([t.name for t in phantom.tumours]).array
        normal = maa.activity_ct_mbq.array[lobe].mean()
        inside = maa.activity_ct_mbq.array[s[tumour.name].array].mean()
        assert inside / normal == pytest.approx(tumour.tn_maa)
    assert phantom.pet.tn_ratios["T2"] < maa.tn_ratios["T2"]
    assert phantom.pet.lung_shunt_fraction != maa.lung_shunt_fraction


def test_spect_quantification_recovers_truth(phantom: SyntheticPatient) -> None:
    maa = phantom.maa
    assert maa.calibration_cps_per_mbq is not None
    activity = counts_to_activity_mbq(maa.image, maa.calibration_cps_per_mbq)
    # Poisson noise on ~0.4 M counts: total within 1 %
    assert activity.total() == pytest.approx(maa.activity_at_acquisition_mbq, rel=0.01)
    region = region_fraction(phantom.structures, ["Liver", "Lungs"], maa.image)
    scaled = scale_to_total_activity(maa.image, region, maa.activity_at_acquisition_mbq)
    liver = region_fraction(phantom.structures, ["Liver"], maa.image)
    # blur moves some activity out of the liver into neighbouring voxels: within 10 %
    liver_mbq = float((scaled.array * liver.array).sum())
    assert liver_mbq == pytest.approx(maa.structure_activity_mbq["Liver"], rel=0.1)
