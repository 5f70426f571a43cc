"""Ho-166 (QuiremSpheres) whole-liver planning.

    A[GBq] = D_wl[Gy] * M_liver[kg] / (k * (1 - R)),   k = 15.87 Gy kg/GBq

so 60 Gy whole-liver dose needs 60 / 15.87 = 3.781 GBq per kg of liver (QuiremSpheres
instructions for use; Smits MLJ et al. Lancet Oncol 2012;13:1025-1034,
doi:10.1016/S1470-2045(12)70334-0, where the liver weight came from the CT liver volume).
The liver mass here is the whole-liver volume times ``liver.density_g_ml`` of the case file
(1.03 g/mL unless given). The activity is not raised for the lung shunt: the lung dose from
the scout-dose shunt is checked against the lung limits instead.
"""

from __future__ import annotations

from opensirt.errors import check_non_negative, check_positive
from opensirt.planning.mird import mird_dose_gy


def whole_liver_activity_gbq(
    dose_gy: float,
    liver_mass_kg: float,
    dose_constant_gy_kg_per_gbq: float = 15.87,
    *,
    residual_fraction: float = 0.0,
) -> float:
    """Activity to inject (GBq) for a whole-liver dose ``dose_gy``.

    A = D_wl M_liver / (k (1 - R)), the inverse of :func:`whole_liver_dose_gy`.

    Parameters
    ----------
    dose_gy : float
        Whole-liver dose to reach (Gy); 60 Gy in the QuiremSpheres instructions.
    liver_mass_kg : float
        Whole-liver mass (kg), tumours included.
    dose_constant_gy_kg_per_gbq : float
        Dose constant k (Gy kg/GBq); 15.87 for Ho-166 (QuiremSpheres IFU).
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Activity to inject (GBq, before the residual loss).

    >>> round(whole_liver_activity_gbq(60.0, 1.0), 4)  # 60 / 15.87
    3.7807
    """
    check_non_negative("dose_gy", dose_gy, "Gy")
    check_positive("dose_constant_gy_kg_per_gbq", dose_constant_gy_kg_per_gbq, "Gy kg/GBq")
    per_gbq = whole_liver_dose_gy(
        1.0, liver_mass_kg, dose_constant_gy_kg_per_gbq, residual_fraction=residual_fraction
    )
    return dose_gy / per_gbq


def whole_liver_dose_gy(
    activity_gbq: float,
    liver_mass_kg: float,
    dose_constant_gy_kg_per_gbq: float = 15.87,
    *,
    residual_fraction: float = 0.0,
) -> float:
    """Whole-liver dose (Gy) of the instructions' convention (no lung shunt subtracted).

    D_wl = k A (1 - R) / M_liver: the MIRD formula (:func:`~opensirt.planning.mird.mird_dose_gy`)
    with LSF = 0.

    Parameters
    ----------
    activity_gbq : float
        Activity to inject (GBq, before the residual loss).
    liver_mass_kg : float
        Whole-liver mass (kg), tumours included.
    dose_constant_gy_kg_per_gbq : float
        Dose constant k (Gy kg/GBq); 15.87 for Ho-166 (QuiremSpheres IFU).
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Mean whole-liver dose (Gy).

    >>> round(whole_liver_dose_gy(3.781, 1.0), 3)  # 15.87 * 3.781
    60.004
    """
    check_positive("liver_mass_kg", liver_mass_kg, "kg")
    # the instructions' convention: no lung shunt subtracted (LSF = 0 in the MIRD formula)
    return mird_dose_gy(
        activity_gbq,
        liver_mass_kg,
        dose_constant_gy_kg_per_gbq,
        residual_fraction=residual_fraction,
    )
