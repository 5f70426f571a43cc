"""NIfTI export (LPS -> RAS) and DVH CSV."""

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from opensirt.dosimetry import dose_volume_histogram
from opensirt.errors import InputError
from opensirt.exports import ras_affine, read_nifti, write_dvh_csv, write_nifti
from opensirt.imaging.volume import Volume


def test_nifti_affine_and_round_trip(tmp_path: Path) -> None:
    arr = np.arange(24, dtype=np.float64).reshape(2, 3, 4)  # [k, j, i]
    v = Volume(arr, spacing_mm=(1.5, 2.0, 3.0), origin_mm=(10.0, -20.0, 30.0), units="Gy")
    path = write_nifti(v, tmp_path / "dose.nii.gz")
    img = nib.load(str(path))
    # LPS identity axes are L, P, S in RAS terms; origin (10, -20, 30) LPS = (-10, 20, 30) RAS
    assert nib.aff2axcodes(img.affine) == ("L", "P", "S")
    assert np.allclose(img.affine[:3, 3], [-10.0, 20.0, 30.0])
    assert img.shape == (4, 3, 2)
    # voxel (i=3, j=2, k=1) holds arr[1, 2, 3] and lies at LPS (10 + 4.5, -20 + 4, 30 + 3)
    assert img.get_fdata()[3, 2, 1] == arr[1, 2, 3]
    ras = img.affine @ [3, 2, 1, 1]
    assert np.allclose(ras[:3], [-14.5, 16.0, 33.0])
    back = read_nifti(path)
    assert back.same_grid(v)
    assert np.allclose(back.array, arr)
    assert back.units == "Gy"
    assert np.allclose(ras_affine(v), img.affine)


def test_dvh_csv(tmp_path: Path) -> None:
    liver = dose_volume_histogram(np.array([10.0, 20.0, 30.0, 40.0]), np.ones(4), 1.0, name="liver")
    tumour = dose_volume_histogram(np.array([100.0, 100.0]), np.ones(2), 1.0, name="tumour")
    path = write_dvh_csv([liver, tumour], tmp_path / "dvh.csv", bin_width_gy=10.0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == [
        "dose_gy",
        "liver_volume_percent",
        "liver_volume_ml",
        "tumour_volume_percent",
        "tumour_volume_ml",
    ]
    table = {float(r[0]): tuple(float(x) for x in r[1:]) for r in rows[1:]}
    assert table[0.0] == (100.0, 4.0, 100.0, 2.0)
    # 4 voxels of 1 mL: 3 of them (75 %, 3 mL) receive at least 20 Gy.
    assert table[20.0] == pytest.approx((75.0, 3.0, 100.0, 2.0))
    assert table[50.0] == pytest.approx((0.0, 0.0, 100.0, 2.0))
    assert max(table) == 100.0
    with pytest.raises(InputError, match="not unique"):
        write_dvh_csv([liver, liver], tmp_path / "x.csv")
