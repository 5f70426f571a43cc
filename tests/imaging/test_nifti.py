"""NIfTI round trips and the RAS <-> LPS conversion."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from opensirt.errors import GeometryError, InputError
from opensirt.imaging import read_image, read_nifti, read_nifti_labels, write_nifti
from opensirt.imaging.volume import Volume

# a grid with flipped i and k axes (direction columns -x, +y, -z) and a non-zero origin
FLIPPED = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _volume() -> Volume:
    return Volume(
        np.arange(4 * 3 * 2, dtype=np.float32).reshape(4, 3, 2),
        spacing_mm=(1.5, 2.0, 3.0),
        origin_mm=(10.0, -20.0, 30.0),
        direction=FLIPPED,
        units="HU",
    )


def test_round_trip_keeps_values_and_geometry(tmp_path: Path) -> None:
    original = _volume()
    back = read_image(write_nifti(original, tmp_path / "v.nii.gz"))
    assert back.same_grid(original)
    np.testing.assert_array_equal(back.array, original.array)


def test_affine_is_ras(tmp_path: Path) -> None:
    original = _volume()
    image = nib.load(write_nifti(original, tmp_path / "v.nii"))
    # voxel (i, j, k) = (1, 2, 3): LPS = origin + D @ (spacing * ijk)
    lps = original.index_to_physical([1, 2, 3])
    ras = image.affine @ np.array([1, 2, 3, 1.0])
    np.testing.assert_allclose(ras[:3], [-lps[0], -lps[1], lps[2]])
    # nibabel indexes [i, j, k]; Volume [k, j, i]
    assert np.asanyarray(image.dataobj)[1, 2, 3] == original.array[3, 2, 1]


def test_a_ras_file_from_another_tool(tmp_path: Path) -> None:
    # a typical RAS-oriented file: identity affine with 2 mm voxels, origin at RAS (0, 0, 0)
    data = np.zeros((4, 5, 6), np.int16)
    data[1, 2, 3] = 7
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])), tmp_path / "ras.nii")
    volume = read_nifti(tmp_path / "ras.nii")
    # RAS +x (toward the right) is LPS -x: the i axis points along -x
    np.testing.assert_allclose(volume.direction_matrix, np.diag([-1.0, -1.0, 1.0]))
    point = volume.index_to_physical([1, 2, 3])
    np.testing.assert_allclose(point, [-2.0, -4.0, 6.0])
    assert volume.array[3, 2, 1] == 7


def test_label_map_with_names(tmp_path: Path) -> None:
    labels = Volume(np.zeros((3, 4, 5), np.uint8), spacing_mm=(2, 2, 2))
    labels.array[1, 1:3, 1:4] = 1
    labels.array[2, 0, 0] = 9
    path = write_nifti(labels, tmp_path / "labels.nii.gz")
    with pytest.warns(UserWarning, match=r"labels \[9\] have no name"):
        seg = read_nifti_labels(path, {1: "Liver"}, reference=labels)
    assert seg.volume_ml("Liver") == pytest.approx(6 * 0.008)
    other = Volume(np.zeros((3, 4, 6)), spacing_mm=(2, 2, 2))
    with pytest.raises(GeometryError, match="different grids"):
        read_nifti_labels(path, {1: "Liver"}, reference=other)


def test_bad_names_and_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"expected a name ending in \.nii"):
        write_nifti(_volume(), tmp_path / "v.img")
    (tmp_path / "broken.nii").write_bytes(b"nonsense")
    with pytest.raises(InputError, match="cannot be read as NIfTI"):
        read_nifti(tmp_path / "broken.nii")
