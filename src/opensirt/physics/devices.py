"""Microsphere devices and the clinical defaults that come with them.

What planning needs of each device: the nuclide, the dose constant and tissue-density
convention of its instructions for use (IFU), its vial sizes and calibration, and default
dose limits and targets from the guideline for that device. Defaults are data, overridable
per case, never constants buried in code; every result reports which ones it was checked
against.

References
----------
.. [SIRIFU] SIR-Spheres Y-90 resin microspheres, Instructions for Use, Sirtex Medical
   (CR2450 / CR3099 series).
.. [THERAIFU] TheraSphere Y-90 glass microspheres, Package Insert (Rev. 12): Y-90 half-life
   64.1 h, mean beta energy 0.9367 MeV, dose vials of 3, 5, 7, 10, 15 and 20 GBq;
   D[Gy] = 50 A[GBq] (1 - LSF) / M[kg]. Boston Scientific (formerly BTG).
.. [QUIREMIFU] QuiremSpheres Ho-166 microspheres, Instructions for Use, Quirem Medical /
   Terumo; planning A[MBq] = 3781 * W_liver[kg] for 60 Gy whole-liver dose (Smits et al.
   2012, Lancet Oncol 13:1025, doi:10.1016/S1470-2045(12)70334-0).
.. [HO1996] Ho S, Lau WY, Leung TW et al. Partition model for estimating radiation doses
   from yttrium-90 microspheres in treating hepatic tumours. Eur J Nucl Med 1996;23:947-952.
   doi:10.1007/BF01084369
.. [LEVILLAIN2021] Levillain H, Bagni O, Deroose CM et al. International recommendations for
   personalised selective internal radiation therapy of primary and metastatic liver
   diseases with yttrium-90 resin microspheres. Eur J Nucl Med Mol Imaging 2021;48:1570-1584.
   doi:10.1007/s00259-020-05163-5
.. [SALEM2022] Salem R, Padia SA, Lam M et al. Clinical, dosimetric, and reporting
   considerations for Y-90 glass microspheres in hepatocellular carcinoma: updated 2022
   recommendations from an international multidisciplinary working group. Eur J Nucl Med Mol
   Imaging 2023;50:328-343. doi:10.1007/s00259-022-05956-w
.. [WEBER2022] Weber M, Lam M, Chiesa C et al. EANM procedure guideline for the treatment of
   liver cancer and liver metastases with intra-arterial radioactive compounds. Eur J Nucl Med
   Mol Imaging 2022;49:1682-1699. doi:10.1007/s00259-021-05600-z
.. [DOSISPHERE] Garin E, Tselikas L, Guiu B et al. Personalised versus standard dosimetry
   approach of selective internal radiation therapy in patients with locally advanced
   hepatocellular carcinoma (DOSISPHERE-01). Lancet Gastroenterol Hepatol 2021;6:17-29.
   doi:10.1016/S2468-1253(20)30290-9
.. [SMITS2012] Smits MLJ, Nijsen JFW, van den Bosch MAAJ et al. Holmium-166 radioembolisation
   in patients with unresectable, chemorefractory liver metastases (HEPAR trial). Lancet Oncol
   2012;13:1025-1034. doi:10.1016/S1470-2045(12)70334-0
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from opensirt.errors import InputError
from opensirt.physics.nuclides import HO166, Y90, Nuclide


class DeviceName(StrEnum):
    """Microsphere devices known to OpenSIRT (the case-file spelling)."""

    SIR_SPHERES = "sir-spheres"
    THERASPHERE = "therasphere"
    QUIREMSPHERES = "quiremspheres"


class NormalLiverScope(StrEnum):
    """Which normal liver a device's normal-liver limit applies to.

    ``perfused``: the non-tumoural liver of each treated territory (resin, Levillain et al.
    2021, doi:10.1007/s00259-020-05163-5); ``whole``: the whole non-tumoural liver, untreated
    parts included (glass, Salem et al. 2023, doi:10.1007/s00259-022-05956-w).
    """

    PERFUSED = "perfused"
    WHOLE = "whole"


@dataclass(frozen=True)
class DoseLimits:
    """Dose limits (never to exceed) and targets (to reach) for one device's guideline.

    ``None`` means the guideline sets no value for that quantity. ``sources`` maps each
    field name to the reference it comes from.

    Attributes
    ----------
    lung_max_gy : float
        Lung mean absorbed dose per session (limit).
    lung_cumulative_max_gy : float
        Lung mean absorbed dose summed over all sessions (limit).
    normal_liver_max_gy : float | None
        Mean dose to the non-tumoural liver (limit).
    normal_liver_max_compromised_gy : float | None
        The same, for a pretreated or compromised liver (limit).
    tumour_target_gy : float | None
        Mean tumour dose to aim for (target).
    perfused_target_gy : float | None
        Mean dose to the perfused volume, single-compartment (MIRD) planning (target).
    segmentectomy_target_gy : float | None
        Mean dose to the perfused volume for radiation segmentectomy (target).
    whole_liver_target_gy : float | None
        Mean whole-liver dose of whole-liver (Ho-166) planning (target).
    max_lung_shunt_fraction : float | None
        Above this lung shunt fraction the device's instructions say do not treat.
    """

    lung_max_gy: float
    lung_cumulative_max_gy: float
    normal_liver_max_gy: float | None
    normal_liver_max_compromised_gy: float | None
    tumour_target_gy: float | None
    perfused_target_gy: float | None
    segmentectomy_target_gy: float | None
    whole_liver_target_gy: float | None
    max_lung_shunt_fraction: float | None
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def with_overrides(self, **overrides: float | None) -> DoseLimits:
        """Return a copy with some values replaced; each replaced value's source becomes
        ``"case file"``.

        Parameters
        ----------
        **overrides : float | None
            New values keyed by field name (``lung_max_gy=25.0`` ...), in the field's unit
            (Gy for the doses, a fraction for ``max_lung_shunt_fraction``); ``None`` keeps
            the guideline's value.

        Returns
        -------
        DoseLimits
            A copy with the given values and ``"case file"`` as their source.

        Raises
        ------
        InputError
            If a name is not a field of :class:`DoseLimits` or a value is negative.
        """
        names = {f.name for f in fields(self)} - {"sources"}
        unknown = set(overrides) - names
        if unknown:
            raise InputError(
                f"unknown dose limit {sorted(unknown)[0]!r}, expected one of {sorted(names)}"
            )
        given = {k: v for k, v in overrides.items() if v is not None}
        for name, value in given.items():
            if value < 0:
                raise InputError(f"{name} is {value!r}, expected a dose >= 0 Gy")
        sources = dict(self.sources)
        sources.update(dict.fromkeys(given, "case file"))
        return replace(self, sources=sources, **given)

    def as_dict(self) -> dict[str, Any]:
        """Each limit with its value and source, for reports and JSON.

        Returns
        -------
        dict[str, Any]
            Field name -> ``{"value": float | None, "source": str | None}``; values in the
            field's unit (Gy, or a fraction for ``max_lung_shunt_fraction``).
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            out[f.name] = {"value": getattr(self, f.name), "source": self.sources.get(f.name)}
        return out


@dataclass(frozen=True)
class Device:
    """A microsphere device and what planning needs of it.

    Attributes
    ----------
    name : DeviceName
    label : str
        Trade name and manufacturer, for reports.
    material : str
        ``"resin"``, ``"glass"`` or ``"poly-L-lactic acid"``.
    nuclide : Nuclide
    half_life_h : float
        Half-life used by the device's own decay tables (may differ from the nuclide's
        evaluated value; both Y-90 devices state 64.1 h).
    dose_constant_gy_kg_per_gbq : float
        Dose constant of the device's instructions, used by its activity methods.
    tissue_density_g_per_ml : float
        Density convention of the instructions for converting volumes to masses.
    vial_activities_gbq : tuple[float, ...]
        Activities (at calibration) of the vials that can be ordered.
    calibration : str
        When the vial activity is stated, in words.
    methods : tuple[str, ...]
        Activity methods that apply to the device.
    limits : DoseLimits
        Guideline defaults.
    source : str
        References for the device data.
    normal_liver_limit_scope : NormalLiverScope
        Which normal liver the normal-liver limit applies to: ``"perfused"`` (the non-tumoural
        liver of each treated territory) or ``"whole"`` (the whole non-tumoural liver, untreated
        parts included). Resin: perfused non-tumoural liver [LEVILLAIN2021]_; glass: whole
        non-tumoural liver [SALEM2022]_.
    """

    name: DeviceName
    label: str
    material: str
    nuclide: Nuclide
    half_life_h: float
    dose_constant_gy_kg_per_gbq: float
    dose_constant_source: str
    tissue_density_g_per_ml: float
    vial_activities_gbq: tuple[float, ...]
    calibration: str
    methods: tuple[str, ...]
    limits: DoseLimits
    source: str
    normal_liver_limit_scope: NormalLiverScope = NormalLiverScope.PERFUSED


_LEVILLAIN = "Levillain et al. 2021 doi:10.1007/s00259-020-05163-5"
_SALEM = "Salem et al. 2022 doi:10.1007/s00259-022-05956-w"
_HO_PERFUSED = (
    "Weber et al. 2022 (EANM) doi:10.1007/s00259-021-05600-z, Table 4: 166Ho one-compartment "
    "perfused-volume dose 60 Gy (segmental, lobar, bilobar; level of evidence 3), the "
    "QuiremSpheres IFU's 60 Gy (3.781 GBq/kg) applied to the perfused volume"
)
_LUNG = (
    "lung 30 Gy/session, 50 Gy cumulative: Leung et al. 1995 Int J Radiat Oncol Biol Phys "
    "33:919 doi:10.1016/0360-3016(95)00039-3; Weber et al. 2022 (EANM) "
    "doi:10.1007/s00259-021-05600-z"
)

SIR_SPHERES = Device(
    name=DeviceName.SIR_SPHERES,
    label="SIR-Spheres Y-90 resin microspheres (Sirtex Medical)",
    material="resin",
    nuclide=Y90,
    half_life_h=64.1,
    dose_constant_gy_kg_per_gbq=49.67,
    dose_constant_source="partition model, Ho et al. 1996 doi:10.1007/BF01084369; SIR-Spheres IFU",
    tissue_density_g_per_ml=1.03,
    vial_activities_gbq=(3.0,),
    calibration="3 GBq +/- 10 % at the calibration time printed on the vial label",
    methods=("bsa", "partition", "mird", "voxel"),
    limits=DoseLimits(
        lung_max_gy=30.0,
        lung_cumulative_max_gy=50.0,
        normal_liver_max_gy=40.0,
        normal_liver_max_compromised_gy=30.0,
        tumour_target_gy=120.0,
        perfused_target_gy=120.0,
        segmentectomy_target_gy=150.0,
        whole_liver_target_gy=None,
        max_lung_shunt_fraction=0.20,
        sources={
            "lung_max_gy": _LUNG,
            "lung_cumulative_max_gy": _LUNG,
            "normal_liver_max_gy": _LEVILLAIN,
            "normal_liver_max_compromised_gy": _LEVILLAIN,
            "tumour_target_gy": _LEVILLAIN + " (>= 100-120 Gy)",
            "perfused_target_gy": _LEVILLAIN + " (>= 100-120 Gy)",
            "segmentectomy_target_gy": _LEVILLAIN + " (> 150 Gy)",
            "max_lung_shunt_fraction": "SIR-Spheres IFU: lung shunt > 20 % contraindicated",
        },
    ),
    source="SIR-Spheres IFU; Levillain et al. 2021",
)

THERASPHERE = Device(
    name=DeviceName.THERASPHERE,
    label="TheraSphere Y-90 glass microspheres (Boston Scientific)",
    material="glass",
    nuclide=Y90,
    half_life_h=64.1,
    dose_constant_gy_kg_per_gbq=50.0,
    dose_constant_source="TheraSphere IFU: D[Gy] = 50 A[GBq] (1 - LSF) (1 - R) / M[kg]",
    tissue_density_g_per_ml=1.03,
    vial_activities_gbq=(3.0, 5.0, 7.0, 10.0, 15.0, 20.0),
    calibration="nominal activity at 12:00 Eastern Time on the Sunday of the calibration week",
    methods=("mird", "partition", "voxel"),
    limits=DoseLimits(
        lung_max_gy=30.0,
        lung_cumulative_max_gy=50.0,
        normal_liver_max_gy=75.0,
        normal_liver_max_compromised_gy=50.0,
        tumour_target_gy=205.0,
        perfused_target_gy=150.0,
        segmentectomy_target_gy=400.0,
        whole_liver_target_gy=None,
        max_lung_shunt_fraction=None,
        sources={
            "lung_max_gy": _LUNG,
            "lung_cumulative_max_gy": _LUNG,
            "normal_liver_max_gy": _SALEM,
            "normal_liver_max_compromised_gy": _SALEM + " (bilirubin > 1.1 mg/dL)",
            "tumour_target_gy": (
                "DOSISPHERE-01, Garin et al. 2021 doi:10.1016/S2468-1253(20)30290-9"
            ),
            "perfused_target_gy": _SALEM + " (lobar, >= 150 Gy)",
            "segmentectomy_target_gy": _SALEM + " (> 400 Gy)",
        },
    ),
    source="TheraSphere IFU; Salem et al. 2022; Garin et al. 2021",
    normal_liver_limit_scope=NormalLiverScope.WHOLE,
)

QUIREMSPHERES = Device(
    name=DeviceName.QUIREMSPHERES,
    label="QuiremSpheres Ho-166 poly-L-lactic acid microspheres (Quirem Medical)",
    material="poly-L-lactic acid",
    nuclide=HO166,
    half_life_h=26.8,
    dose_constant_gy_kg_per_gbq=15.87,
    dose_constant_source="QuiremSpheres IFU: 60 Gy whole liver = 3.781 GBq/kg (Smits 2012)",
    tissue_density_g_per_ml=1.03,
    vial_activities_gbq=(),
    calibration="activity prepared per patient, stated at the reference time on the label",
    methods=("whole-liver", "mird", "partition", "voxel"),
    limits=DoseLimits(
        lung_max_gy=30.0,
        lung_cumulative_max_gy=50.0,
        normal_liver_max_gy=None,
        normal_liver_max_compromised_gy=None,
        tumour_target_gy=None,
        perfused_target_gy=60.0,
        segmentectomy_target_gy=None,
        whole_liver_target_gy=60.0,
        max_lung_shunt_fraction=None,
        sources={
            "lung_max_gy": "QuiremSpheres IFU (30 Gy estimated lung dose); " + _LUNG,
            "lung_cumulative_max_gy": _LUNG,
            "perfused_target_gy": _HO_PERFUSED,
            "whole_liver_target_gy": "Smits et al. 2012 (HEPAR) doi:10.1016/S1470-2045(12)70334-0",
        },
    ),
    source="QuiremSpheres IFU; Smits et al. 2012",
)

DEVICES: dict[DeviceName, Device] = {d.name: d for d in (SIR_SPHERES, THERASPHERE, QUIREMSPHERES)}


def get_device(name: DeviceName | str | Device) -> Device:
    """Return the :class:`Device` for its case-file name.

    Parameters
    ----------
    name : DeviceName | str | Device
        The device's case-file name (``"sir-spheres"``, ``"therasphere"``,
        ``"quiremspheres"``; case and surrounding spaces ignored) or a :class:`Device`,
        returned as it is.

    Returns
    -------
    Device
        The device's data and guideline limits.

    Raises
    ------
    InputError
        If the name is not one of the known devices.

    Examples
    --------
    >>> get_device("therasphere").dose_constant_gy_kg_per_gbq
    50.0
    """
    if isinstance(name, Device):
        return name
    try:
        return DEVICES[DeviceName(str(name).strip().lower())]
    except ValueError:
        known = ", ".join(d.value for d in DeviceName)
        raise InputError(f"device is {name!r}, expected one of {known}") from None
