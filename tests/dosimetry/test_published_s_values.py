"""The Y-90 soft-tissue voxel S-values against published Monte Carlo tables.

References
----------
.. [L2012] Lanconelli N, Pacilio M, Lo Meo S et al. A free database of radionuclide voxel S
   values for the dosimetry of nonuniform activity distributions. Phys Med Biol
   2012;57:517-533. doi:10.1088/0031-9155/57/2/517 (GEANT4/GATE, ICRU soft tissue; values
   in mGy/(MBq s), as distributed with the database, 3 significant digits).
.. [MIRD17] Bolch WE, Bouchet LG, Robertson JS et al. MIRD Pamphlet No. 17: the dosimetry of
   nonuniform activity distributions - radionuclide S values at the voxel level. J Nucl Med
   1999;40:11S-36S (EGS4, soft tissue).
"""

from __future__ import annotations

import pytest

from opensirt.dosimetry import voxel_s_values

#: [L2012] Y-90, soft tissue: voxel size (mm) -> {(i, j, k) offset: S in mGy/(MBq s)}.
LANCONELLI_2012_Y90 = {
    3.0: {(0, 0, 0): 1.59, (1, 0, 0): 2.75e-1, (1, 1, 0): 9.50e-2, (1, 1, 1): 4.29e-2},
    4.0: {(0, 0, 0): 8.58e-1, (1, 0, 0): 1.29e-1, (1, 1, 0): 3.62e-2, (1, 1, 1): 1.27e-2},
    4.42: {(0, 0, 0): 6.89e-1, (1, 0, 0): 9.73e-2, (1, 1, 0): 2.48e-2, (1, 1, 1): 7.78e-3},
    4.8: {(0, 0, 0): 5.73e-1, (1, 0, 0): 7.63e-2, (1, 1, 0): 1.78e-2, (1, 1, 1): 5.07e-3},
    6.0: {(0, 0, 0): 3.42e-1, (1, 0, 0): 3.80e-2, (1, 1, 0): 6.86e-3, (1, 1, 1): 1.45e-3},
}
#: [MIRD17] Y-90 source-voxel S values, mGy/(MBq s).
MIRD17_Y90_SELF = {3.0: 1.61, 6.0: 0.346}


def _s(voxel_mm: float, offset: tuple[int, int, int]) -> float:
    kernel = voxel_s_values("Y-90", voxel_mm)
    ck, cj, ci = (n // 2 for n in kernel.shape)
    i, j, k = offset
    return float(kernel[ck + k, cj + j, ci + i])


@pytest.mark.parametrize("voxel_mm", sorted(LANCONELLI_2012_Y90))
def test_source_voxel_and_face_neighbours_within_3_percent(voxel_mm: float) -> None:
    table = LANCONELLI_2012_Y90[voxel_mm]
    for offset in ((0, 0, 0), (1, 0, 0)):
        assert _s(voxel_mm, offset) == pytest.approx(table[offset], rel=0.03), offset
    # the face neighbours are the same along every axis (isotropic kernel)
    assert _s(voxel_mm, (0, 1, 0)) == pytest.approx(_s(voxel_mm, (0, 0, 1)), rel=1e-6)


@pytest.mark.parametrize("voxel_mm", sorted(LANCONELLI_2012_Y90))
def test_edge_and_corner_neighbours(voxel_mm: float) -> None:
    """Edge (1,1,0) within 7 % and corner (1,1,1) within 12 %: beyond the face neighbours
    the kernel is built without energy-loss straggling and falls a little faster than the
    Monte Carlo tables (see docs/dosimetry.md)."""
    table = LANCONELLI_2012_Y90[voxel_mm]
    assert _s(voxel_mm, (1, 1, 0)) == pytest.approx(table[(1, 1, 0)], rel=0.07)
    assert _s(voxel_mm, (1, 1, 1)) == pytest.approx(table[(1, 1, 1)], rel=0.12)


@pytest.mark.parametrize("voxel_mm", sorted(MIRD17_Y90_SELF))
def test_source_voxel_against_mird17(voxel_mm: float) -> None:
    assert _s(voxel_mm, (0, 0, 0)) == pytest.approx(MIRD17_Y90_SELF[voxel_mm], rel=0.03)
