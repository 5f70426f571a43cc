"""SIRT eligibility: eligible, caution or not eligible, with every rule, its result and source.

Each rule compares one finding with a threshold from :class:`EligibilityThresholds` (data,
overridable by the caller, each with its source). A rule whose inputs are missing is reported
as ``not checked`` and makes the verdict at least ``caution``: a missing value is never taken
as normal. The verdict is ``not eligible`` if any rule says so, else ``caution`` if any rule
says caution or could not be checked, else ``eligible``.

References
----------
.. [WEBER2022] Weber M, Lam M, Chiesa C et al. EANM procedure guideline for the treatment of
   liver cancer and liver metastases with intra-arterial radioactive compounds. Eur J Nucl Med
   Mol Imaging 2022;49:1682-1699. doi:10.1007/s00259-021-05600-z
.. [LEVILLAIN2021] Levillain H, Bagni O, Deroose CM et al. International recommendations for
   personalised selective internal radiation therapy of primary and metastatic liver diseases
   with yttrium-90 resin microspheres. Eur J Nucl Med Mol Imaging 2021;48:1570-1584.
   doi:10.1007/s00259-020-05163-5
.. [SALEM2022] Salem R, Padia SA, Lam M et al. Clinical, dosimetric, and reporting
   considerations for Y-90 glass microspheres in hepatocellular carcinoma: updated 2022
   recommendations from an international multidisciplinary working group. Eur J Nucl Med Mol
   Imaging 2023;50:328-343. doi:10.1007/s00259-022-05956-w
.. [KENNEDY2007] Kennedy A, Nag S, Salem R et al. Recommendations for radioembolization of
   hepatic malignancies using yttrium-90 microsphere brachytherapy: a consensus panel report
   from the Radioembolization Brachytherapy Oncology Consortium. Int J Radiat Oncol Biol Phys
   2007;68:13-23. doi:10.1016/j.ijrobp.2006.11.060
.. [KISHI2009] Kishi Y, Abdalla EK, Chun YS et al. Three hundred and one consecutive extended
   right hepatectomies: evaluation of outcome based on systematic liver volumetry. Ann Surg
   2009;250:540-548. doi:10.1097/SLA.0b013e3181b674df
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from opensirt.clinical.liver_function import Albi, ChildPugh
from opensirt.errors import InputError
from opensirt.patient.inputs import Ascites, PriorTreatment, TreatmentExtent
from opensirt.physics.devices import Device

_EANM = "Weber et al. 2022 (EANM) doi:10.1007/s00259-021-05600-z"
_SALEM = "Salem et al. 2022 doi:10.1007/s00259-022-05956-w"
_LEVILLAIN = "Levillain et al. 2021 doi:10.1007/s00259-020-05163-5"
_KENNEDY = "Kennedy et al. 2007 (REBOC) doi:10.1016/j.ijrobp.2006.11.060"
_LUNG = "Leung et al. 1995 doi:10.1016/0360-3016(95)00039-3; " + _EANM
_FLR = (
    "surgical future-liver-remnant limits (Kishi et al. 2009 doi:10.1097/SLA.0b013e3181b674df), "
    "applied to lobar radioembolization by analogy; whole-liver single-session treatment is a "
    "REILD risk factor (Sangro et al. 2008 doi:10.1002/cncr.23339)"
)


class EligibilityRule(StrEnum):
    """The eligibility rules, in the order :data:`RULES` applies them (the names of the
    ``rule`` field of the JSON reasons)."""

    BILIRUBIN = "bilirubin"
    ASCITES = "ascites"
    CHILD_PUGH = "child_pugh"
    ALBI = "albi"
    ECOG = "ecog"
    LUNG_SHUNT = "lung_shunt"
    LUNG_DOSE = "lung_dose"
    EXTRAHEPATIC_MAA_UPTAKE = "extrahepatic_maa_uptake"
    HEPATIC_RESERVE = "hepatic_reserve"
    TUMOUR_BURDEN = "tumour_burden"
    PRIOR_TREATMENTS = "prior_treatments"


class RuleStatus(StrEnum):
    """Result of one eligibility rule."""

    PASS = "pass"
    CAUTION = "caution"
    NOT_ELIGIBLE = "not eligible"
    NOT_CHECKED = "not checked"


class Verdict(StrEnum):
    """Overall eligibility for radioembolization."""

    ELIGIBLE = "eligible"
    CAUTION = "caution"
    NOT_ELIGIBLE = "not eligible"


@dataclass(frozen=True)
class EligibilityThresholds:
    """Thresholds of the eligibility rules, each with its source in ``sources``.

    Attributes
    ----------
    bilirubin_max_mg_dl : float
        Above it: not eligible, caution for segmental treatment (2 mg/dL = 34.2 umol/L).
    child_pugh_caution_min_points, child_pugh_max_points : int
        Child-Pugh points from which caution applies (B7) and above which not eligible (B8+).
    albi_caution_grade : int
        ALBI grade from which caution applies.
    ecog_caution, ecog_max : int
        ECOG from which caution applies; above ``ecog_max`` not eligible.
    lung_shunt_max_fraction : float | None
        Lung shunt fraction above which the device must not be used (None: no such limit).
    lung_max_gy, lung_cumulative_max_gy : float
        Lung mean dose per session and summed over sessions.
    remnant_min_fraction, remnant_min_fraction_pretreated, remnant_min_fraction_cirrhosis : float
        Smallest untreated fraction of the liver volume for a normal, a chemotherapy-pretreated
        and a cirrhotic liver.
    tumour_max_fraction : float
        Tumour volume fraction of the liver above which caution applies.
    """

    bilirubin_max_mg_dl: float = 2.0
    child_pugh_caution_min_points: int = 7
    child_pugh_max_points: int = 7
    albi_caution_grade: int = 3
    ecog_caution: int = 2
    ecog_max: int = 2
    lung_shunt_max_fraction: float | None = None
    lung_max_gy: float = 30.0
    lung_cumulative_max_gy: float = 50.0
    remnant_min_fraction: float = 0.20
    remnant_min_fraction_pretreated: float = 0.30
    remnant_min_fraction_cirrhosis: float = 0.40
    tumour_max_fraction: float = 0.70
    sources: dict[str, str] = field(
        default_factory=lambda: {
            "bilirubin_max_mg_dl": f"{_EANM}; {_SALEM}",
            "child_pugh_caution_min_points": _SALEM + " (Child-Pugh A or B7)",
            "child_pugh_max_points": _SALEM + " (Child-Pugh A or B7)",
            "albi_caution_grade": f"{_SALEM}; ALBI grades: Johnson et al. 2015",
            "ecog_caution": f"{_EANM}; {_LEVILLAIN}",
            "ecog_max": f"{_EANM}; {_LEVILLAIN}",
            "lung_shunt_max_fraction": "device instructions for use",
            "lung_max_gy": _LUNG,
            "lung_cumulative_max_gy": _LUNG,
            "remnant_min_fraction": _FLR,
            "remnant_min_fraction_pretreated": _FLR,
            "remnant_min_fraction_cirrhosis": _FLR,
            "tumour_max_fraction": _KENNEDY + " (tumour replacement > 70 % of the liver)",
        },
        compare=False,
    )

    @classmethod
    def for_device(cls, device: Device) -> EligibilityThresholds:
        """Defaults with the lung limits of ``device``'s guideline (and their sources).

        Parameters
        ----------
        device : Device
            The microsphere device: its guideline's lung dose limits per session and
            cumulative (Gy) and its lung shunt fraction limit replace the defaults.

        Returns
        -------
        EligibilityThresholds
            The default thresholds with the device's lung limits and their sources.
        """
        lim = device.limits
        base = cls()
        sources = dict(base.sources)
        for name, device_name in (
            ("lung_max_gy", "lung_max_gy"),
            ("lung_cumulative_max_gy", "lung_cumulative_max_gy"),
            ("lung_shunt_max_fraction", "max_lung_shunt_fraction"),
        ):
            if device_name in lim.sources:
                sources[name] = lim.sources[device_name]
        return replace(
            base,
            lung_max_gy=lim.lung_max_gy,
            lung_cumulative_max_gy=lim.lung_cumulative_max_gy,
            lung_shunt_max_fraction=lim.max_lung_shunt_fraction,
            sources=sources,
        )

    def with_overrides(
        self, overrides: Mapping[str, float | None], *, source: str = "caller"
    ) -> EligibilityThresholds:
        """A copy with some thresholds replaced (``None`` values are ignored); the source of
        each replaced threshold becomes ``source``.

        Parameters
        ----------
        overrides : Mapping[str, float | None]
            New values keyed by threshold name, in the threshold's unit (mg/dL, points,
            grade, Gy or a fraction, as the name says); ``None`` keeps the current value.
        source : str, optional
            The source recorded for each replaced threshold (default ``"caller"``;
            ``"case file"`` for case-file overrides).

        Returns
        -------
        EligibilityThresholds
            A copy with the given values and sources.

        Raises
        ------
        InputError
            If a name is not a threshold or a value is negative.

        Examples
        --------
        >>> EligibilityThresholds().with_overrides({"ecog_max": 1}).ecog_max
        1
        """
        names = {f.name for f in fields(self)} - {"sources"}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise InputError(
                f"unknown eligibility threshold {unknown[0]!r}, expected one of {sorted(names)}"
            )
        given = {k: v for k, v in overrides.items() if v is not None}
        for name, value in given.items():
            if not value >= 0:
                raise InputError(f"eligibility threshold {name} is {value!r}, expected >= 0")
        sources = dict(self.sources)
        sources.update(dict.fromkeys(given, source))
        return replace(self, sources=sources, **given)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        """Each threshold with its value and source.

        Returns
        -------
        dict[str, Any]
            Threshold name -> ``{"value": ..., "source": str | None}``, values in the
            threshold's unit; JSON-serialisable.
        """
        return {
            f.name: {"value": getattr(self, f.name), "source": self.sources.get(f.name)}
            for f in fields(self)
            if f.name != "sources"
        }


@dataclass(frozen=True)
class EligibilityInputs:
    """What the eligibility rules look at; ``None`` means not known.

    Volumes in mL, doses in Gy, fractions in [0, 1]. ``lung_dose_gy`` is the lung dose of the
    planned activity; ``plan_refused`` the reason planning found no safe activity.
    ``extrahepatic_maa_uptake`` is the clinical finding of the case file (uptake that cannot
    be corrected); ``extrahepatic_uptake_fractions`` the share of the SPECT counts in each
    cluster of extrahepatic uptake that the image analysis found (``()``: none found,
    ``None``: the SPECT was not analysed).
    """

    bilirubin_mg_dl: float | None = None
    ascites: Ascites | None = None
    child_pugh: ChildPugh | None = None
    albi: Albi | None = None
    ecog: int | None = None
    lung_shunt_fraction: float | None = None
    lung_dose_gy: float | None = None
    previous_lung_dose_gy: float = 0.0
    plan_refused: str | None = None
    extrahepatic_maa_uptake: bool | None = None
    extrahepatic_uptake_fractions: tuple[float, ...] | None = None
    treatment_extent: TreatmentExtent | None = None
    liver_volume_ml: float | None = None
    treated_volume_ml: float | None = None
    tumour_volume_ml: float | None = None
    cirrhosis: bool | None = None
    prior_treatments: tuple[PriorTreatment, ...] | None = None


@dataclass(frozen=True)
class Reason:
    """One rule's result: rule name, status, a sentence, and the source of the threshold."""

    rule: EligibilityRule
    status: RuleStatus
    message: str
    source: str

    def as_dict(self) -> dict[str, str]:
        """For JSON.

        Returns
        -------
        dict[str, str]
            ``rule``, ``status`` (the :class:`RuleStatus` value), ``message`` and ``source``.
        """
        return {
            "rule": self.rule.value,
            "status": self.status.value,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class Eligibility:
    """The verdict, every rule's reason, and the thresholds used."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    thresholds: EligibilityThresholds

    def as_dict(self) -> dict[str, Any]:
        """For JSON: verdict, reasons and thresholds with their sources.

        Returns
        -------
        dict[str, Any]
            ``verdict`` (the :class:`Verdict` value), ``reasons`` (each as
            :meth:`Reason.as_dict`) and ``thresholds`` (as
            :meth:`EligibilityThresholds.as_dict`).
        """
        return {
            "verdict": self.verdict.value,
            "reasons": [r.as_dict() for r in self.reasons],
            "thresholds": self.thresholds.as_dict(),
        }


_Rule = Callable[[EligibilityInputs, EligibilityThresholds], Reason]


def _missing(rule: EligibilityRule, what: str, t: EligibilityThresholds, key: str) -> Reason:
    return Reason(rule, RuleStatus.NOT_CHECKED, f"not checked: {what} unknown", t.sources[key])


def _bilirubin(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "bilirubin_max_mg_dl"
    if x.bilirubin_mg_dl is None:
        return _missing(EligibilityRule.BILIRUBIN, "bilirubin", t, key)
    value, limit = x.bilirubin_mg_dl, t.bilirubin_max_mg_dl
    if value <= limit:
        return Reason(
            EligibilityRule.BILIRUBIN,
            RuleStatus.PASS,
            f"bilirubin {value:.2f} mg/dL <= {limit:g} mg/dL",
            t.sources[key],
        )
    if x.treatment_extent is TreatmentExtent.SEGMENTAL:
        return Reason(
            EligibilityRule.BILIRUBIN,
            RuleStatus.CAUTION,
            f"bilirubin {value:.2f} mg/dL > {limit:g} mg/dL: segmental treatment only, "
            "with caution",
            t.sources[key],
        )
    return Reason(
        EligibilityRule.BILIRUBIN,
        RuleStatus.NOT_ELIGIBLE,
        f"bilirubin {value:.2f} mg/dL > {limit:g} mg/dL without a reversible cause: "
        "not eligible unless treatment is segmental",
        t.sources[key],
    )


def _ascites(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    source = f"{_EANM}; {_SALEM} (decompensated liver disease)"
    if x.ascites is None:
        return Reason(
            EligibilityRule.ASCITES, RuleStatus.NOT_CHECKED, "not checked: ascites unknown", source
        )
    if x.ascites is Ascites.NONE:
        return Reason(EligibilityRule.ASCITES, RuleStatus.PASS, "no ascites", source)
    if x.ascites is Ascites.MILD:
        return Reason(EligibilityRule.ASCITES, RuleStatus.CAUTION, "mild ascites: caution", source)
    return Reason(
        EligibilityRule.ASCITES,
        RuleStatus.NOT_ELIGIBLE,
        f"{x.ascites.value} ascites (clinically evident): not eligible",
        source,
    )


def _child_pugh(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "child_pugh_max_points"
    if x.child_pugh is None:
        return _missing(EligibilityRule.CHILD_PUGH, "Child-Pugh score", t, key)
    cp, label = x.child_pugh.points, x.child_pugh.label()
    if cp > t.child_pugh_max_points:
        status, text = (
            RuleStatus.NOT_ELIGIBLE,
            f"Child-Pugh {label} (> {t.child_pugh_max_points} points)",
        )
    elif cp >= t.child_pugh_caution_min_points:
        status, text = RuleStatus.CAUTION, f"Child-Pugh {label}: caution"
    else:
        status, text = RuleStatus.PASS, f"Child-Pugh {label}"
    return Reason(EligibilityRule.CHILD_PUGH, status, text, t.sources[key])


def _albi(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "albi_caution_grade"
    if x.albi is None:
        return _missing(EligibilityRule.ALBI, "ALBI grade", t, key)
    grade = x.albi.grade
    status = RuleStatus.CAUTION if grade >= t.albi_caution_grade else RuleStatus.PASS
    return Reason(
        EligibilityRule.ALBI,
        status,
        f"ALBI grade {grade} (score {x.albi.score:.2f})",
        t.sources[key],
    )


def _ecog(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    if x.ecog is None:
        return _missing(EligibilityRule.ECOG, "ECOG performance status", t, "ecog_max")
    if x.ecog > t.ecog_max:
        status, text = RuleStatus.NOT_ELIGIBLE, f"ECOG {x.ecog} > {t.ecog_max}: not eligible"
    elif x.ecog >= t.ecog_caution:
        status, text = RuleStatus.CAUTION, f"ECOG {x.ecog}: caution"
    else:
        status, text = RuleStatus.PASS, f"ECOG {x.ecog}"
    return Reason(EligibilityRule.ECOG, status, text, t.sources["ecog_max"])


def _lung_shunt(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "lung_shunt_max_fraction"
    if x.lung_shunt_fraction is None:
        return _missing(EligibilityRule.LUNG_SHUNT, "lung shunt fraction", t, key)
    lsf, limit = x.lung_shunt_fraction, t.lung_shunt_max_fraction
    if limit is not None and lsf > limit:
        return Reason(
            EligibilityRule.LUNG_SHUNT,
            RuleStatus.NOT_ELIGIBLE,
            f"lung shunt {lsf:.1%} > {limit:.0%}: the device must not be used",
            t.sources[key],
        )
    text = f"lung shunt {lsf:.1%}" + (f" <= {limit:.0%}" if limit is not None else "")
    return Reason(EligibilityRule.LUNG_SHUNT, RuleStatus.PASS, text, t.sources[key])


def _lung_dose(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    if x.plan_refused is not None:
        return Reason(
            EligibilityRule.LUNG_DOSE,
            RuleStatus.NOT_ELIGIBLE,
            f"no activity keeps every dose limit: {x.plan_refused}",
            "the dose limits of the plan (device guideline defaults or the case file)",
        )
    if x.lung_dose_gy is None:
        return _missing(
            EligibilityRule.LUNG_DOSE, "lung dose of the planned activity", t, "lung_max_gy"
        )
    dose, total = x.lung_dose_gy, x.lung_dose_gy + x.previous_lung_dose_gy
    if dose > t.lung_max_gy:
        return Reason(
            EligibilityRule.LUNG_DOSE,
            RuleStatus.NOT_ELIGIBLE,
            f"lung dose {dose:.1f} Gy > {t.lung_max_gy:g} Gy per session",
            t.sources["lung_max_gy"],
        )
    if total > t.lung_cumulative_max_gy:
        return Reason(
            EligibilityRule.LUNG_DOSE,
            RuleStatus.NOT_ELIGIBLE,
            f"cumulative lung dose {total:.1f} Gy (previous "
            f"{x.previous_lung_dose_gy:g} Gy) > {t.lung_cumulative_max_gy:g} Gy",
            t.sources["lung_cumulative_max_gy"],
        )
    return Reason(
        EligibilityRule.LUNG_DOSE,
        RuleStatus.PASS,
        f"lung dose {dose:.1f} Gy <= {t.lung_max_gy:g} Gy; cumulative {total:.1f} Gy "
        f"<= {t.lung_cumulative_max_gy:g} Gy",
        t.sources["lung_max_gy"],
    )


#: Where the extrahepatic-uptake finding comes from, as the eligibility reason names it.
EXTRAHEPATIC_FROM_CASE_FILE = "clinical.extrahepatic_maa_uptake of the case file"
EXTRAHEPATIC_FROM_SPECT = "the SPECT analysis of the plan"


def extrahepatic_uptake_source(x: EligibilityInputs) -> str | None:
    """Which finding decides the extrahepatic-uptake rule: the case file's (the reviewed
    clinical finding, which alone can say whether the uptake can be corrected) when it
    gives one, else the SPECT analysis when the plan measured it, else none.

    Parameters
    ----------
    x : EligibilityInputs
        The inputs of the eligibility rules (``extrahepatic_maa_uptake`` and
        ``extrahepatic_uptake_fractions`` are read).

    Returns
    -------
    str | None
        :data:`EXTRAHEPATIC_FROM_CASE_FILE`, :data:`EXTRAHEPATIC_FROM_SPECT`, or ``None``
        when neither finding is known.
    """
    if x.extrahepatic_maa_uptake is not None:
        return EXTRAHEPATIC_FROM_CASE_FILE
    return None if x.extrahepatic_uptake_fractions is None else EXTRAHEPATIC_FROM_SPECT


def _spect_clusters(fractions: tuple[float, ...]) -> str:
    if not fractions:
        return "the SPECT analysis finds no extrahepatic uptake"
    shares = ", ".join(f"{f:.1%}" for f in fractions)
    plural = "s" if len(fractions) > 1 else ""
    return (
        f"the SPECT analysis finds {len(fractions)} cluster{plural} of extrahepatic uptake "
        f"({shares} of the counts)"
    )


def _maa_uptake(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    rule, source = (
        EligibilityRule.EXTRAHEPATIC_MAA_UPTAKE,
        _EANM + " (uncorrectable extrahepatic deposition)",
    )
    used, spect = extrahepatic_uptake_source(x), x.extrahepatic_uptake_fractions
    if used is None:
        return Reason(rule, RuleStatus.NOT_CHECKED,
                      "not checked: extrahepatic uptake on MAA unknown", source)  # fmt: skip
    if used == EXTRAHEPATIC_FROM_SPECT:
        assert spect is not None
        if not spect:
            return Reason(rule, RuleStatus.PASS, f"{_spect_clusters(spect)} (from {used})", source)
        return Reason(
            rule,
            RuleStatus.CAUTION,
            f"{_spect_clusters(spect)} (from {used}): review it (shunting to the stomach or "
            "duodenum, or free pertechnetate) and record clinical.extrahepatic_maa_uptake",
            source,
        )
    seen = "" if spect is None else f"; {_spect_clusters(spect)}"
    if x.extrahepatic_maa_uptake:
        return Reason(
            rule,
            RuleStatus.NOT_ELIGIBLE,
            "extrahepatic (gastrointestinal) uptake on MAA that cannot be corrected "
            f"(from {used}){seen}",
            source,
        )
    text = f"no extrahepatic MAA uptake that cannot be corrected (from {used}){seen}"
    return Reason(rule, RuleStatus.PASS, text, source)


def _remnant_limit(x: EligibilityInputs, t: EligibilityThresholds) -> tuple[float, str]:
    if x.cirrhosis:
        return t.remnant_min_fraction_cirrhosis, "cirrhotic liver"
    if x.prior_treatments and PriorTreatment.SYSTEMIC_CHEMOTHERAPY in x.prior_treatments:
        return t.remnant_min_fraction_pretreated, "chemotherapy-pretreated liver"
    return t.remnant_min_fraction, "liver"


def _hepatic_reserve(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "remnant_min_fraction"
    if x.liver_volume_ml is None or x.treated_volume_ml is None:
        return _missing(EligibilityRule.HEPATIC_RESERVE, "treated and liver volumes", t, key)
    remnant = max(0.0, 1.0 - x.treated_volume_ml / x.liver_volume_ml)
    limit, kind = _remnant_limit(x, t)
    text = f"untreated liver {remnant:.0%} of the volume"
    if remnant < limit:
        return Reason(
            EligibilityRule.HEPATIC_RESERVE,
            RuleStatus.CAUTION,
            f"{text} < {limit:.0%} for a {kind}: consider sequential (lobar) treatment",
            t.sources[key],
        )
    return Reason(
        EligibilityRule.HEPATIC_RESERVE,
        RuleStatus.PASS,
        f"{text} >= {limit:.0%} for a {kind}",
        t.sources[key],
    )


def _tumour_burden(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    key = "tumour_max_fraction"
    if x.liver_volume_ml is None or x.tumour_volume_ml is None:
        return _missing(EligibilityRule.TUMOUR_BURDEN, "tumour and liver volumes", t, key)
    frac = x.tumour_volume_ml / x.liver_volume_ml
    if frac > t.tumour_max_fraction:
        return Reason(
            EligibilityRule.TUMOUR_BURDEN,
            RuleStatus.CAUTION,
            f"tumour {frac:.0%} of the liver > {t.tumour_max_fraction:.0%}: only if "
            "synthetic function (albumin, INR) is maintained",
            t.sources[key],
        )
    return Reason(
        EligibilityRule.TUMOUR_BURDEN,
        RuleStatus.PASS,
        f"tumour {frac:.0%} of the liver <= {t.tumour_max_fraction:.0%}",
        t.sources[key],
    )


_PRIOR_CAUTIONS: dict[PriorTreatment, str] = {
    PriorTreatment.EXTERNAL_BEAM_LIVER: "earlier external-beam radiation of the liver",
    PriorTreatment.SIRT: "earlier radioembolization (cumulative liver and lung doses)",
    PriorTreatment.BILIARY_INTERVENTION: (
        "earlier biliary intervention (stent, sphincterotomy, bilio-enteric anastomosis): "
        "risk of liver abscess"
    ),
}


def _prior_treatments(x: EligibilityInputs, t: EligibilityThresholds) -> Reason:
    source = f"{_EANM}; {_KENNEDY}"
    if x.prior_treatments is None:
        return Reason(
            EligibilityRule.PRIOR_TREATMENTS,
            RuleStatus.NOT_CHECKED,
            "not checked: prior treatments unknown",
            source,
        )
    found = [_PRIOR_CAUTIONS[p] for p in x.prior_treatments if p in _PRIOR_CAUTIONS]
    if found:
        return Reason(
            EligibilityRule.PRIOR_TREATMENTS, RuleStatus.CAUTION, "; ".join(found), source
        )
    return Reason(
        EligibilityRule.PRIOR_TREATMENTS,
        RuleStatus.PASS,
        "no prior treatment that needs caution",
        source,
    )


RULES: tuple[_Rule, ...] = (
    _bilirubin,
    _ascites,
    _child_pugh,
    _albi,
    _ecog,
    _lung_shunt,
    _lung_dose,
    _maa_uptake,
    _hepatic_reserve,
    _tumour_burden,
    _prior_treatments,
)


def check_eligibility(
    inputs: EligibilityInputs, thresholds: EligibilityThresholds | None = None
) -> Eligibility:
    """Apply every rule of :data:`RULES` and combine them into a verdict.

    Any rule not eligible makes the verdict not eligible; otherwise any caution or rule not
    checked (an input unknown) makes it caution; else eligible.

    Parameters
    ----------
    inputs : EligibilityInputs
        Labs, scores, findings and plan facts (volumes in mL, doses in Gy, fractions in
        [0, 1]); ``None`` fields leave their rule not checked.
    thresholds : EligibilityThresholds | None, optional
        The rules' thresholds; ``None`` (default) uses :class:`EligibilityThresholds`'
        literature defaults.

    Returns
    -------
    Eligibility
        The verdict, every rule's reason in the order of :data:`RULES`, and the thresholds
        used.

    Examples
    --------
    >>> e = check_eligibility(EligibilityInputs(bilirubin_mg_dl=2.5, ecog=0))
    >>> e.verdict.value, e.reasons[0].status.value
    ('not eligible', 'not eligible')
    """
    t = thresholds or EligibilityThresholds()
    reasons = tuple(rule(inputs, t) for rule in RULES)
    statuses = {r.status for r in reasons}
    if RuleStatus.NOT_ELIGIBLE in statuses:
        verdict = Verdict.NOT_ELIGIBLE
    elif statuses & {RuleStatus.CAUTION, RuleStatus.NOT_CHECKED}:
        verdict = Verdict.CAUTION
    else:
        verdict = Verdict.ELIGIBLE
    return Eligibility(verdict, reasons, t)
