"""Body-surface-area (BSA) method for SIR-Spheres (resin) activity, an empirical method.

    BSA[m2]  = 0.20247 * H[m]^0.725 * W[kg]^0.425
    A[GBq]   = (BSA - 0.2) + V_tumour / V_liver            (whole liver)
    A_plan   = A * (V_perfused / V_liver) * f_LSF

Du Bois body surface area (Du Bois D, Du Bois EF. A formula to estimate the approximate
surface area if height and weight be known. Arch Intern Med 1916;17:863-871), written for
height in metres: 0.007184 * (100 H)^0.725 * W^0.425 = 0.20247 * H^0.725 * W^0.425.

Tumour involvement V_tumour / V_liver is taken over the *whole* liver (tumours included), and
a lobar or selective treatment receives the whole-liver activity scaled by the perfused
fraction of the liver V_perfused / V_liver, as in the SIR-Spheres instructions for use and
Kennedy A et al. Recommendations for radioembolization of hepatic malignancies using
yttrium-90 microsphere brachytherapy: a consensus panel report from the Radioembolization
Brachytherapy Oncology Consortium. Int J Radiat Oncol Biol Phys 2007;68:13-23,
doi:10.1016/j.ijrobp.2006.11.060; Lau WY et al. Int J Radiat Oncol Biol Phys 2012;82:401-407,
doi:10.1016/j.ijrobp.2010.08.015 (Kao YH et al., Ann Nucl Med 2011;25:455-461, review the
variants).

Lung shunt reduction f_LSF (SIR-Spheres IFU; Lau 2012): LSF < 10 %: 1.0; 10 % <= LSF < 15 %:
0.8; 15 % <= LSF <= 20 %: 0.6; LSF > 20 %: do not treat.
"""

from __future__ import annotations

from dataclasses import dataclass

from opensirt.errors import InputError, PlanRefusedError, check_fraction, check_positive

#: Du Bois coefficient for height in metres: 0.007184 * 100**0.725 (Du Bois & Du Bois 1916).
DU_BOIS_COEFFICIENT_M = 0.20247

#: (upper LSF bound, exclusive except the last, activity factor) from the SIR-Spheres IFU.
BSA_LUNG_SHUNT_FACTORS: tuple[tuple[float, float], ...] = ((0.10, 1.0), (0.15, 0.8), (0.20, 0.6))

#: Above this lung shunt fraction the SIR-Spheres IFU says do not treat.
BSA_MAX_LUNG_SHUNT_FRACTION = 0.20


def body_surface_area_m2(height_m: float, weight_kg: float) -> float:
    """Du Bois body surface area (m2) from height (m) and weight (kg).

    BSA = 0.20247 H^0.725 W^0.425 (Du Bois & Du Bois 1916, height in metres).

    Parameters
    ----------
    height_m : float
        Patient height (m; a value above 3 is refused as centimetres).
    weight_kg : float
        Patient weight (kg).

    Returns
    -------
    float
        Body surface area (m2).

    >>> round(body_surface_area_m2(1.75, 80.0), 4)  # 0.20247 * 1.75**0.725 * 80**0.425
    1.956
    """
    check_positive("height_m", height_m, "m")
    check_positive("weight_kg", weight_kg, "kg")
    if height_m > 3.0:
        raise InputError(
            f"height_m is {height_m!r} m, expected metres (did you give centimetres? "
            f"{height_m:g} cm is {height_m / 100:g} m)"
        )
    return float(DU_BOIS_COEFFICIENT_M * height_m**0.725 * weight_kg**0.425)


def bsa_lung_shunt_factor(lung_shunt_fraction: float) -> float:
    """Activity factor for the lung shunt (1.0, 0.8 or 0.6).

    Parameters
    ----------
    lung_shunt_fraction : float
        Lung shunt fraction, in [0, 1] (not a percentage).

    Returns
    -------
    float
        1.0 below 10 %, 0.8 from 10 % to below 15 %, 0.6 from 15 % to 20 % (SIR-Spheres IFU).

    Raises
    ------
    PlanRefusedError
        For a lung shunt fraction above 20 %.

    >>> bsa_lung_shunt_factor(0.12)
    0.8
    """
    check_fraction("lung_shunt_fraction", lung_shunt_fraction)
    for upper, factor in BSA_LUNG_SHUNT_FACTORS:
        if lung_shunt_fraction < upper or (
            upper == BSA_MAX_LUNG_SHUNT_FRACTION and lung_shunt_fraction <= upper
        ):
            return factor
    raise PlanRefusedError(
        f"lung shunt fraction {lung_shunt_fraction:.1%} is above 20 %: the SIR-Spheres "
        "instructions say do not treat"
    )


@dataclass(frozen=True)
class BsaActivity:
    """Steps of the BSA calculation.

    Attributes
    ----------
    bsa_m2 : float
        Du Bois body surface area.
    tumour_involvement : float
        V_tumour / V_liver.
    whole_liver_activity_gbq : float
        (BSA - 0.2) + involvement.
    perfused_fraction : float
        V_perfused / V_liver.
    lung_shunt_factor : float
        1.0, 0.8 or 0.6.
    activity_gbq : float
        Activity to deliver: whole-liver activity * perfused fraction * lung shunt factor.
    """

    bsa_m2: float
    tumour_involvement: float
    whole_liver_activity_gbq: float
    perfused_fraction: float
    lung_shunt_factor: float
    activity_gbq: float


#: Relative difference of two volumes that is floating-point rounding, not a difference.
_VOLUME_ROUNDING = 1e-9


def bsa_activity(
    *,
    height_m: float,
    weight_kg: float,
    tumour_volume_ml: float,
    liver_volume_ml: float,
    perfused_volume_ml: float,
    lung_shunt_fraction: float,
) -> BsaActivity:
    """Activity (GBq) to deliver by the BSA method, with its steps.

    Parameters
    ----------
    height_m, weight_kg : float
        Patient height and weight.
    tumour_volume_ml : float
        Total tumour volume in the liver.
    liver_volume_ml : float
        Whole liver volume, tumours included.
    perfused_volume_ml : float
        Volume treated in this session (the whole liver for a whole-liver treatment).
    lung_shunt_fraction : float
        Fraction in [0, 1].

    Returns
    -------
    BsaActivity
        The activity to deliver (GBq) and every step of its calculation.

    Raises
    ------
    PlanRefusedError
        For a lung shunt fraction above 20 %.

    Examples
    --------
    BSA 1.95603 m2, 150 mL tumour in a 1500 mL liver, right lobe 1000 mL, LSF 8 %:
    (1.95603 - 0.2 + 0.1) * 1000 / 1500 * 1.0 = 1.23736 GBq.

    >>> plan = bsa_activity(height_m=1.75, weight_kg=80, tumour_volume_ml=150,
    ...                     liver_volume_ml=1500, perfused_volume_ml=1000,
    ...                     lung_shunt_fraction=0.08)
    >>> round(plan.activity_gbq, 4)
    1.2374
    """
    check_positive("liver_volume_ml", liver_volume_ml, "mL")
    check_positive("perfused_volume_ml", perfused_volume_ml, "mL")
    if not 0.0 <= tumour_volume_ml < liver_volume_ml:
        raise InputError(
            f"tumour_volume_ml is {tumour_volume_ml!r} mL, expected >= 0 and less than the "
            f"liver volume {liver_volume_ml!r} mL"
        )
    # relative rounding allowed: a liver segmented as the sum of its territories' voxels
    if perfused_volume_ml > liver_volume_ml * (1.0 + _VOLUME_ROUNDING):
        raise InputError(
            f"perfused_volume_ml is {perfused_volume_ml!r} mL, expected at most the liver "
            f"volume {liver_volume_ml!r} mL"
        )
    bsa = body_surface_area_m2(height_m, weight_kg)
    factor = bsa_lung_shunt_factor(lung_shunt_fraction)
    involvement = tumour_volume_ml / liver_volume_ml
    whole = bsa - 0.2 + involvement
    fraction = perfused_volume_ml / liver_volume_ml
    return BsaActivity(
        bsa_m2=bsa,
        tumour_involvement=involvement,
        whole_liver_activity_gbq=whole,
        perfused_fraction=fraction,
        lung_shunt_factor=factor,
        activity_gbq=whole * fraction * factor,
    )
