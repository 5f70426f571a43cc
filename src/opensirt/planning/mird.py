"""MIRD single-compartment model: one mean dose over the perfused volume.

    D[Gy] = k * A * (1 - LSF) * (1 - R) / M[kg]
    A[GBq] = D * M / (k * (1 - LSF) * (1 - R))

with A the activity to inject (before the residual fraction R left in the vial and lines),
LSF the lung shunt fraction, M the perfused mass (volume * density; the TheraSphere
instructions use 1.03 g/mL) and k the dose constant of the device (TheraSphere IFU: 50 Gy
kg/GBq; partition-model literature for resin: 49.67). TheraSphere instructions for use;
Salem R et al. 2023, doi:10.1007/s00259-022-05956-w; Gulec SA, Mesoloras G, Stabin M.
Dosimetric techniques in 90Y-microsphere therapy of liver cancer: the MIRD equations for dose
calculations. J Nucl Med 2006;47:1209-1211.
"""

from __future__ import annotations

from opensirt.errors import InputError, check_fraction, check_non_negative, check_positive


def delivered_fraction(lung_shunt_fraction: float, residual_fraction: float) -> float:
    """Fraction of the injected activity that reaches the liver, (1 - LSF) (1 - R).

    Parameters
    ----------
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1].
    residual_fraction : float
        Fraction R left in the vial and lines, in [0, 1].

    Returns
    -------
    float
        (1 - LSF) (1 - R), a fraction in (0, 1].

    Raises
    ------
    InputError
        When LSF or R is 1, so that nothing reaches the liver.

    >>> delivered_fraction(0.1, 0.05)
    0.855
    """
    check_fraction("lung_shunt_fraction", lung_shunt_fraction)
    check_fraction("residual_fraction", residual_fraction)
    delivered = (1.0 - lung_shunt_fraction) * (1.0 - residual_fraction)
    if delivered <= 0.0:
        raise InputError(
            f"lung_shunt_fraction {lung_shunt_fraction!r} and residual_fraction "
            f"{residual_fraction!r} leave no activity in the liver, expected both < 1"
        )
    return delivered


def mird_dose_gy(
    activity_gbq: float,
    mass_kg: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float = 0.0,
    residual_fraction: float = 0.0,
) -> float:
    """Mean perfused dose (Gy) of ``activity_gbq`` injected into ``mass_kg`` of liver.

    D = k A (1 - LSF) (1 - R) / M (MIRD single compartment, Gulec et al. 2006).

    Parameters
    ----------
    activity_gbq : float
        Activity to inject (GBq, before the residual loss).
    mass_kg : float
        Perfused mass M (kg), tumours included.
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1]; 0 by default.
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Mean absorbed dose of the perfused mass (Gy).

    >>> round(mird_dose_gy(3.0, 1.03, 50.0, lung_shunt_fraction=0.1), 6)  # 50*3*0.9/1.03
    131.067961
    """
    check_non_negative("activity_gbq", activity_gbq, "GBq")
    check_positive("mass_kg", mass_kg, "kg")
    delivered = delivered_fraction(lung_shunt_fraction, residual_fraction)
    return dose_constant_gy_kg_per_gbq * activity_gbq * delivered / mass_kg


def mird_activity_gbq(
    dose_gy: float,
    mass_kg: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float = 0.0,
    residual_fraction: float = 0.0,
) -> float:
    """Activity to inject (GBq) for a mean perfused dose ``dose_gy``.

    A = D M / (k (1 - LSF) (1 - R)), the inverse of :func:`mird_dose_gy`.

    Parameters
    ----------
    dose_gy : float
        Mean perfused dose to reach (Gy).
    mass_kg : float
        Perfused mass M (kg), tumours included.
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1]; 0 by default.
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Activity to inject (GBq, before the residual loss).

    >>> round(mird_activity_gbq(150.0, 1.03, 50.0, lung_shunt_fraction=0.1), 6)
    3.433333
    """
    check_non_negative("dose_gy", dose_gy, "Gy")
    check_positive("dose_constant_gy_kg_per_gbq", dose_constant_gy_kg_per_gbq, "Gy kg/GBq")
    per_gbq = mird_dose_gy(
        1.0,
        mass_kg,
        dose_constant_gy_kg_per_gbq,
        lung_shunt_fraction=lung_shunt_fraction,
        residual_fraction=residual_fraction,
    )
    return dose_gy / per_gbq
