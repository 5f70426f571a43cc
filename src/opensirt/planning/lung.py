"""Lung shunt fraction from the Tc-99m MAA planar scan, and the lung absorbed dose.

The lung shunt fraction (LSF) is the fraction of the injected activity that passes through
arteriovenous shunts into the lungs. From anterior and posterior planar counts, each organ's
counts are combined by their geometric mean (which largely cancels depth-dependent
attenuation), and

    LSF = GM_lung / (GM_lung + GM_liver),   GM = sqrt(C_anterior * C_posterior)

(SIR-Spheres and TheraSphere instructions for use; Lau WY et al. Patient selection and
activity planning guide for selective internal radiotherapy with yttrium-90 resin
microspheres. Int J Radiat Oncol Biol Phys 2012;82:401-407, doi:10.1016/j.ijrobp.2010.08.015;
EANM guideline, Weber et al. 2022, doi:10.1007/s00259-021-05600-z).

The lung dose with all lung activity deposited locally in the lung mass M_lung
(1 kg when not measured) is D_lung = k * LSF * (1 - R) * A / M_lung (Ho et al. 1996,
doi:10.1007/BF01084369; Leung et al. 1995, doi:10.1016/0360-3016(95)00039-3).
"""

from __future__ import annotations

import math

from opensirt.errors import InputError, check_fraction, check_non_negative, check_positive


def geometric_mean_counts(anterior: float, posterior: float) -> float:
    """Geometric mean sqrt(anterior * posterior) of two opposed planar counts.

    Parameters
    ----------
    anterior : float
        Counts in the region on the anterior view (>= 0).
    posterior : float
        Counts in the same region on the posterior view (>= 0).

    Returns
    -------
    float
        The geometric mean (counts), which largely cancels depth-dependent attenuation.

    >>> geometric_mean_counts(10000, 8000)  # doctest: +ELLIPSIS
    8944.27...
    """
    check_non_negative("anterior counts", anterior, "counts")
    check_non_negative("posterior counts", posterior, "counts")
    return math.sqrt(anterior * posterior)


def lung_shunt_fraction_from_counts(
    lung_counts: tuple[float, float], liver_counts: tuple[float, float]
) -> float:
    """Lung shunt fraction from anterior/posterior planar counts by geometric means.

    Parameters
    ----------
    lung_counts, liver_counts : (float, float)
        ``(anterior, posterior)`` counts of the lungs and of the liver (background-corrected
        if the site does so).

    Returns
    -------
    float
        LSF = GM_lung / (GM_lung + GM_liver), a fraction in [0, 1].

    Raises
    ------
    InputError
        When all the counts are zero.

    >>> round(lung_shunt_fraction_from_counts((10000, 8000), (90000, 110000)), 6)
    0.082479
    """
    gm_lung = geometric_mean_counts(*lung_counts)
    gm_liver = geometric_mean_counts(*liver_counts)
    if gm_lung + gm_liver <= 0.0:
        raise InputError(
            f"lung counts {lung_counts} and liver counts {liver_counts} are all zero, "
            "expected positive counts from the MAA planar scan"
        )
    return gm_lung / (gm_lung + gm_liver)


def lung_dose_gy(
    activity_gbq: float,
    lung_shunt_fraction: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_mass_kg: float = 1.0,
    residual_fraction: float = 0.0,
) -> float:
    """Mean lung dose D_lung = k * LSF * (1 - R) * A / M_lung (Gy), the partition model's.

    The one place this formula is computed: every plan's lung dose, the lung limits and the
    verification's lung dose call it (Ho et al. 1996, doi:10.1007/BF01084369; Leung et al.
    1995, doi:10.1016/0360-3016(95)00039-3).

    Parameters
    ----------
    activity_gbq : float
        Activity to inject (GBq, before the residual loss).
    lung_shunt_fraction : float
        Fraction LSF of the delivered activity that shunts to the lungs, in [0, 1].
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq), e.g. 49.67 for Y-90.
    lung_mass_kg : float
        Lung mass M_lung (kg); 1 kg by convention when not measured.
    residual_fraction : float
        Fraction R of the activity left in the vial and lines, in [0, 1).

    Returns
    -------
    float
        Mean absorbed dose of the lungs (Gy), all lung activity deposited locally.

    >>> round(lung_dose_gy(2.0, 0.1, 49.67), 6)  # 49.67 * 0.1 * 2.0 / 1.0
    9.934
    """
    check_non_negative("activity_gbq", activity_gbq, "GBq")
    check_fraction("lung_shunt_fraction", lung_shunt_fraction)
    check_fraction("residual_fraction", residual_fraction)
    check_positive("lung_mass_kg", lung_mass_kg, "kg")
    return (
        dose_constant_gy_kg_per_gbq
        * lung_shunt_fraction
        * (1.0 - residual_fraction)
        * activity_gbq
        / lung_mass_kg
    )
