"""The Y-90 soft-tissue voxel S-values against published Monte Carlo tables.

The shipped soft-tissue kernel (docs/dosimetry.md, table "Comparison with Lanconelli et al.
2012") is within 2 % of the GATE values for the source voxel and its face, edge and corner
neighbours from 2.33 to 6 mm (measured: source -0.4 to -0.8 %, faces -0.5 to -0.6 %, edges
-0.3 to -1.0 %, corners 0.0 to -1.7 %); the 9.28 mm corner (-3.3 %) and the (2, 0, 0)
neighbour (-0.3 to -7.8 %), which lie at the end of the electron range (range straggling;
bremsstrahlung photons, which GATE deposits and the kernel lets escape, add only about 1e-6
mGy/(MBq s) there), have wider tolerances. No published Ho-166 voxel S-values were found in
machine-readable form, so Ho-166 is checked only through the transport tests in
test_kernels.py.

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
    2.33: {
        (0, 0, 0): 2.69,
        (1, 0, 0): 5.05e-1,
        (1, 1, 0): 1.97e-1,
        (1, 1, 1): 1.02e-1,
        (2, 0, 0): 5.80e-2,
    },
    3.0: {
        (0, 0, 0): 1.59,
        (1, 0, 0): 2.75e-1,
        (1, 1, 0): 9.50e-2,
        (1, 1, 1): 4.29e-2,
        (2, 0, 0): 2.05e-2,
    },
    4.0: {
        (0, 0, 0): 8.58e-1,
        (1, 0, 0): 1.29e-1,
        (1, 1, 0): 3.62e-2,
        (1, 1, 1): 1.27e-2,
        (2, 0, 0): 4.18e-3,
    },
    4.42: {
        (0, 0, 0): 6.89e-1,
        (1, 0, 0): 9.73e-2,
        (1, 1, 0): 2.48e-2,
        (1, 1, 1): 7.78e-3,
        (2, 0, 0): 2.10e-3,
    },
    4.8: {
        (0, 0, 0): 5.73e-1,
        (1, 0, 0): 7.63e-2,
        (1, 1, 0): 1.78e-2,
        (1, 1, 1): 5.07e-3,
        (2, 0, 0): 1.11e-3,
    },
    6.0: {
        (0, 0, 0): 3.42e-1,
        (1, 0, 0): 3.80e-2,
        (1, 1, 0): 6.86e-3,
        (1, 1, 1): 1.45e-3,
        (2, 0, 0): 1.31e-4,
    },
    # (2, 0, 0) at 9.28 mm (7.7e-7) is beyond the beta range: bremsstrahlung only
    9.28: {(0, 0, 0): 1.17e-1, (1, 0, 0): 8.53e-3, (1, 1, 0): 9.09e-4, (1, 1, 1): 1.10e-4},
}
#: [MIRD17] Y-90 source-voxel S values, mGy/(MBq s).
MIRD17_Y90_SELF = {3.0: 1.61, 6.0: 0.346}
#: Relative tolerance per neighbour class: the 2 % goal (the measured deviation plus about 1 %
#: where it is not reached, see the module docstring).
TOLERANCE = {(0, 0, 0): 0.02, (1, 0, 0): 0.02, (1, 1, 0): 0.02, (1, 1, 1): 0.02, (2, 0, 0): 0.09}
#: Exceptions: (voxel size in mm, offset) -> tolerance.
TOLERANCE_EXCEPTIONS = {(9.28, (1, 1, 1)): 0.045}


def _s(voxel_mm: float, offset: tuple[int, int, int]) -> float:
    kernel = voxel_s_values("Y-90", voxel_mm)
    ck, cj, ci = (n // 2 for n in kernel.shape)
    i, j, k = offset
    return float(kernel[ck + k, cj + j, ci + i])


@pytest.mark.parametrize("voxel_mm", sorted(LANCONELLI_2012_Y90))
def test_voxel_s_values_against_lanconelli_2012(voxel_mm: float) -> None:
    for offset, published in LANCONELLI_2012_Y90[voxel_mm].items():
        tolerance = TOLERANCE_EXCEPTIONS.get((voxel_mm, offset), TOLERANCE[offset])
        assert _s(voxel_mm, offset) == pytest.approx(published, rel=tolerance), offset
    # the face neighbours are the same along every axis (isotropic kernel)
    assert _s(voxel_mm, (0, 1, 0)) == pytest.approx(_s(voxel_mm, (0, 0, 1)), rel=1e-6)


@pytest.mark.parametrize("voxel_mm", sorted(MIRD17_Y90_SELF))
def test_source_voxel_against_mird17(voxel_mm: float) -> None:
    # measured -2.0 % (3 mm) and -1.5 % (6 mm); Lanconelli's GATE values are themselves 1.2 %
    # below these EGS4 values
    assert _s(voxel_mm, (0, 0, 0)) == pytest.approx(MIRD17_Y90_SELF[voxel_mm], rel=0.025)
