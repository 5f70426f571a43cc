"""Partition (multi-compartment) model: tumours, normal liver and lung, territory by territory.

Within one perfused territory holding tumours i with masses M_Ti and tumour-to-normal activity
concentration ratios TN_i (from the Tc-99m MAA or Ho-166 scout SPECT), and non-tumoural
(normal) liver mass M_N, an injected activity A deposits A (1 - LSF)(1 - R) in the liver with
the activity concentration of each tumour TN_i times that of the normal liver, so

    D_N  = k * A * (1 - LSF) * (1 - R) / (sum_i TN_i * M_Ti + M_N)
    D_Ti = TN_i * D_N
    D_lung = k * A * LSF * (1 - R) / M_lung

(Ho S, Lau WY, Leung TW et al. Partition model for estimating radiation doses from yttrium-90
microspheres in treating hepatic tumours. Eur J Nucl Med 1996;23:947-952,
doi:10.1007/BF01084369, extended to several tumours as in Kao YH et al. J Nucl Med
2012;53:559-566, doi:10.2967/jnumed.111.097469). The denominator ``sum TN_i M_Ti + M_N`` is
the territory's *uptake mass* (kg of normal-liver equivalent).

Inverse: the activity that gives every tumour of the territory at least ``D_target`` is set by
the tumour with the lowest T/N:

    A = D_target / min_i(TN_i) * (sum_i TN_i M_Ti + M_N) / (k (1 - LSF)(1 - R)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opensirt.errors import InputError, check_non_negative, check_positive
from opensirt.planning.mird import delivered_fraction, mird_dose_gy


@dataclass(frozen=True)
class TumourCompartment:
    """A tumour: name, mass (kg) and tumour-to-normal ratio."""

    name: str
    mass_kg: float
    tn_ratio: float

    def __post_init__(self) -> None:
        check_positive(f"mass_kg of tumour {self.name!r}", self.mass_kg, "kg")
        check_positive(f"tn_ratio of tumour {self.name!r}", self.tn_ratio, "(ratio)")


@dataclass(frozen=True)
class TerritoryCompartments:
    """One perfused territory: its non-tumoural mass (kg) and its tumours."""

    name: str
    normal_mass_kg: float
    tumours: tuple[TumourCompartment, ...] = ()

    def __post_init__(self) -> None:
        check_positive(f"normal_mass_kg of territory {self.name!r}", self.normal_mass_kg, "kg")

    @property
    def perfused_mass_kg(self) -> float:
        """Normal plus tumour mass (kg)."""
        return self.normal_mass_kg + sum(t.mass_kg for t in self.tumours)

    @property
    def uptake_mass_kg(self) -> float:
        """sum TN_i M_Ti + M_N (kg of normal-liver equivalent)."""
        return self.normal_mass_kg + sum(t.tn_ratio * t.mass_kg for t in self.tumours)

    @classmethod
    def from_volumes(
        cls,
        name: str,
        volume_ml: float,
        tumours: tuple[tuple[str, float, float], ...],
        density_g_per_ml: float,
    ) -> TerritoryCompartments:
        """Build from volumes (mL): ``tumours`` is ``((name, volume_ml, tn_ratio), ...)``.

        Parameters
        ----------
        name : str
            Territory name.
        volume_ml : float
            Territory volume (mL), tumours included.
        tumours : tuple of (str, float, float)
            Each tumour's name, volume (mL) and tumour-to-normal ratio.
        density_g_per_ml : float
            Tissue density (g/mL) that turns volumes into masses (1.03 by convention).

        Returns
        -------
        TerritoryCompartments
            Normal-liver mass (territory minus tumours, kg) and tumour compartments.

        Raises
        ------
        InputError
            When the tumours fill the territory.

        >>> t = TerritoryCompartments.from_volumes("R", 1000, (("T1", 150, 4.0),), 1.0)
        >>> round(t.normal_mass_kg, 6), round(t.uptake_mass_kg, 6)
        (0.85, 1.45)
        """
        tumour_volume_ml = sum(v for _, v, _ in tumours)
        if tumour_volume_ml >= volume_ml:
            raise InputError(
                f"tumours of territory {name!r} add up to {tumour_volume_ml:g} mL, expected "
                f"less than its volume {volume_ml:g} mL"
            )
        kg_per_ml = density_g_per_ml / 1000.0
        return cls(
            name=name,
            normal_mass_kg=(volume_ml - tumour_volume_ml) * kg_per_ml,
            tumours=tuple(TumourCompartment(n, v * kg_per_ml, tn) for n, v, tn in tumours),
        )


@dataclass(frozen=True)
class TerritoryDoses:
    """Mean doses (Gy) in one territory from one activity."""

    perfused_gy: float
    normal_liver_gy: float
    tumours_gy: Mapping[str, float]


def normal_dose_per_gbq(
    territory: TerritoryCompartments,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float,
    residual_fraction: float = 0.0,
) -> float:
    """D_N per GBq injected into the territory: k (1 - LSF)(1 - R) / uptake mass (Gy/GBq).

    Parameters
    ----------
    territory : TerritoryCompartments
        The territory's normal-liver mass and tumours (kg, T/N).
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1].
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Mean normal-liver dose per GBq injected (Gy/GBq).
    """
    delivered = delivered_fraction(lung_shunt_fraction, residual_fraction)
    return dose_constant_gy_kg_per_gbq * delivered / territory.uptake_mass_kg


def partition_doses(
    territory: TerritoryCompartments,
    activity_gbq: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float,
    residual_fraction: float = 0.0,
) -> TerritoryDoses:
    """Normal-liver, tumour and mean perfused doses of ``activity_gbq`` injected into a
    territory.

    Parameters
    ----------
    territory : TerritoryCompartments
        The territory's normal-liver mass and tumours (kg, T/N).
    activity_gbq : float
        Activity injected into the territory (GBq, before the residual loss).
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1].
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    TerritoryDoses
        Mean doses (Gy) of the perfused territory, its normal liver and each tumour.

    Examples
    --------
    1000 mL territory, one 150 mL tumour with T/N 4, density 1 g/mL, k 49.67, LSF 0.08, 2 GBq:
    D_N = 49.67 * 2 * 0.92 / (4 * 0.15 + 0.85) = 63.0295 Gy, D_T = 4 D_N = 252.1181 Gy.

    >>> t = TerritoryCompartments.from_volumes("R", 1000, (("T1", 150, 4.0),), 1.0)
    >>> d = partition_doses(t, 2.0, 49.67, lung_shunt_fraction=0.08)
    >>> round(d.normal_liver_gy, 4), round(d.tumours_gy["T1"], 4)
    (63.0295, 252.1181)
    """
    check_non_negative("activity_gbq", activity_gbq, "GBq")
    d_normal = activity_gbq * normal_dose_per_gbq(
        territory,
        dose_constant_gy_kg_per_gbq,
        lung_shunt_fraction=lung_shunt_fraction,
        residual_fraction=residual_fraction,
    )
    perfused = mird_dose_gy(
        activity_gbq,
        territory.perfused_mass_kg,
        dose_constant_gy_kg_per_gbq,
        lung_shunt_fraction=lung_shunt_fraction,
        residual_fraction=residual_fraction,
    )
    return TerritoryDoses(
        perfused_gy=perfused,
        normal_liver_gy=d_normal,
        tumours_gy={t.name: t.tn_ratio * d_normal for t in territory.tumours},
    )


def activity_for_normal_dose_gbq(
    territory: TerritoryCompartments,
    normal_dose_gy: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float,
    residual_fraction: float = 0.0,
) -> float:
    """Activity to inject (GBq) that gives the territory's normal liver ``normal_dose_gy``.

    Parameters
    ----------
    territory : TerritoryCompartments
        The territory's normal-liver mass and tumours (kg, T/N).
    normal_dose_gy : float
        Mean normal-liver dose to reach (Gy).
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1].
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Activity to inject (GBq, before the residual loss).
    """
    check_non_negative("normal_dose_gy", normal_dose_gy, "Gy")
    per_gbq = normal_dose_per_gbq(
        territory,
        dose_constant_gy_kg_per_gbq,
        lung_shunt_fraction=lung_shunt_fraction,
        residual_fraction=residual_fraction,
    )
    return normal_dose_gy / per_gbq


def activity_for_tumour_dose_gbq(
    territory: TerritoryCompartments,
    tumour_dose_gy: float,
    dose_constant_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: float,
    residual_fraction: float = 0.0,
) -> float:
    """Activity to inject (GBq) that gives *every* tumour of the territory at least
    ``tumour_dose_gy``: the tumour with the lowest T/N gets exactly that dose.

    Parameters
    ----------
    territory : TerritoryCompartments
        The territory's normal-liver mass and tumours (kg, T/N).
    tumour_dose_gy : float
        Mean tumour dose every tumour must reach (Gy).
    dose_constant_gy_kg_per_gbq : float
        Dose constant k of the device (Gy kg/GBq).
    lung_shunt_fraction : float
        Lung shunt fraction LSF, in [0, 1].
    residual_fraction : float
        Fraction R left in the vial and lines; 0 by default.

    Returns
    -------
    float
        Activity to inject (GBq, before the residual loss).

    Raises
    ------
    InputError
        When the territory has no tumours.

    >>> t = TerritoryCompartments.from_volumes("R", 1000, (("T1", 150, 4.0),), 1.0)
    >>> round(activity_for_tumour_dose_gbq(t, 120.0, 49.67, lung_shunt_fraction=0.08), 6)
    0.951935
    """
    if not territory.tumours:
        raise InputError(
            f"territory {territory.name!r} has no tumours, so no activity reaches a tumour "
            "target; give its tumours or plan it by the MIRD method"
        )
    lowest = min(t.tn_ratio for t in territory.tumours)
    return activity_for_normal_dose_gbq(
        territory,
        tumour_dose_gy / lowest,
        dose_constant_gy_kg_per_gbq,
        lung_shunt_fraction=lung_shunt_fraction,
        residual_fraction=residual_fraction,
    )
