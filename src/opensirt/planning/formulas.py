"""The formulas and constants each method uses, in words for the report and the JSON."""

from __future__ import annotations

from opensirt.planning.case import Method

_LUNG = (
    "D_lung = k * LSF * (1 - R) * A / M_lung (Ho et al. 1996 doi:10.1007/BF01084369); "
    "M_lung = 1 kg unless measured"
)
_LSF = "LSF = GM_lung / (GM_lung + GM_liver), GM = sqrt(anterior * posterior) when from counts"
_PARTITION = (
    "D_N = k * A * (1 - LSF) * (1 - R) / (sum_i TN_i * M_Ti + M_N); D_Ti = TN_i * D_N "
    "(partition model, Ho et al. 1996 doi:10.1007/BF01084369)"
)
_MIRD = (
    "D = k * A * (1 - LSF) * (1 - R) / M, M = V_perfused * density (MIRD single "
    "compartment; Gulec et al. 2006 J Nucl Med 47:1209)"
)

FORMULAS: dict[Method, tuple[str, ...]] = {
    Method.BSA: (
        "BSA = 0.20247 * H[m]^0.725 * W[kg]^0.425 (Du Bois & Du Bois 1916)",
        "A = ((BSA - 0.2) + V_tumour / V_liver) * (V_perfused / V_liver) * f_LSF / (1 - R); "
        "f_LSF = 1 (LSF < 10 %), 0.8 (10-15 %), 0.6 (15-20 %), refused > 20 % "
        "(SIR-Spheres IFU; Kennedy et al. 2007 doi:10.1016/j.ijrobp.2006.11.060; "
        "Lau et al. 2012 doi:10.1016/j.ijrobp.2010.08.015)",
        "activity split between territories in proportion to their volumes",
        _PARTITION + ": doses implied by the BSA activity",
        _LUNG,
        _LSF,
    ),
    Method.MIRD: (
        "A = D * M / (k * (1 - LSF) * (1 - R)) for each territory",
        _MIRD,
        _PARTITION + ": tumour and normal-liver doses implied, where T/N is given",
        _LUNG,
        _LSF,
    ),
    Method.PARTITION: (
        _PARTITION,
        "A_territory = D_target / min_i(TN_i) * (sum_i TN_i M_Ti + M_N) / (k (1 - LSF) (1 - R)):"
        " every tumour of the territory reaches the target (the lowest T/N gets exactly it)",
        "then lowered to the largest activity that keeps every limit; lung (and whole normal "
        "liver) limits scale all territories by one factor",
        _LUNG,
        _LSF,
    ),
    Method.WHOLE_LIVER: (
        "A = D_wl * M_liver / (k * (1 - R)), k = 15.87 Gy kg/GBq: 60 Gy = 3.781 GBq/kg "
        "(QuiremSpheres IFU; Smits et al. 2012 doi:10.1016/S1470-2045(12)70334-0)",
        "activity split between territories in proportion to their masses",
        _PARTITION + ": tumour and normal-liver doses implied, where T/N is given",
        _LUNG + " with the scout-dose LSF",
        _LSF,
    ),
    Method.VOXEL: (
        "voxel dosimetry: MAA/scout SPECT scaled to the activity, convolved with a dose kernel",
    ),
}
