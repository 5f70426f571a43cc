"""Clinical inputs of a case file: laboratory values and clinical findings.

These pydantic models are part of the case-file contract (``patient.labs`` and the optional
``clinical`` section). Every key is optional; unknown keys are errors that name the key.
Bilirubin, albumin and creatinine may be given in SI or in conventional units, but not both
forms of the same value; the ``*_in_*`` methods return either form, converted once
(:mod:`opensirt.patient.units`).

>>> Labs(bilirubin_mg_dl=1.0).bilirubin_in_umol_l()
17.1
>>> ClinicalFindings(ascites="mild", ecog=1).ascites
<Ascites.MILD: 'mild'>
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from opensirt.patient import units


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_form(labs: Labs, si: str, conventional: str) -> None:
    if getattr(labs, si) is not None and getattr(labs, conventional) is not None:
        raise ValueError(
            f"give either {si} or {conventional}, not both (they are the same value in two units)"
        )


class Labs(_Strict):
    """Laboratory values; each is optional.

    Attributes
    ----------
    bilirubin_umol_l, bilirubin_mg_dl : float | None
        Total serum bilirubin (umol/L, or mg/dL; 1 mg/dL = 17.1 umol/L).
    albumin_g_l, albumin_g_dl : float | None
        Serum albumin (g/L, or g/dL; 1 g/dL = 10 g/L).
    inr : float | None
        International normalised ratio of the prothrombin time.
    prothrombin_time_prolongation_s : float | None
        Prothrombin time above the control, in seconds (Child-Pugh when no INR is given).
    creatinine_umol_l, creatinine_mg_dl : float | None
        Serum creatinine (umol/L, or mg/dL; 1 mg/dL = 88.4 umol/L), for MELD.
    sodium_mmol_l : float | None
        Serum sodium (mmol/L = mEq/L), for MELD-Na.
    """

    bilirubin_umol_l: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, ge=0, le=1000
    )
    bilirubin_mg_dl: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, ge=0, le=60
    )
    albumin_g_l: float | None = Field(default=None, strict=True, allow_inf_nan=False, ge=0, le=80)
    albumin_g_dl: float | None = Field(default=None, strict=True, allow_inf_nan=False, ge=0, le=8)
    inr: float | None = Field(default=None, strict=True, allow_inf_nan=False, gt=0, le=20)
    prothrombin_time_prolongation_s: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, ge=0, le=120
    )
    creatinine_umol_l: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, gt=0, le=3000
    )
    creatinine_mg_dl: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, gt=0, le=35
    )
    sodium_mmol_l: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, ge=90, le=200
    )

    @model_validator(mode="after")
    def _single_unit(self) -> Self:
        _one_form(self, "bilirubin_umol_l", "bilirubin_mg_dl")
        _one_form(self, "albumin_g_l", "albumin_g_dl")
        _one_form(self, "creatinine_umol_l", "creatinine_mg_dl")
        return self

    def bilirubin_in_umol_l(self) -> float | None:
        """Total bilirubin in umol/L, whichever unit it was given in.

        Returns
        -------
        float | None
            Serum total bilirubin (umol/L), converted at 17.1 umol/L per mg/dL when it was given
            in the other unit; ``None`` when the case file gives neither form.
        """
        if self.bilirubin_mg_dl is not None:
            return units.bilirubin_mg_dl_to_umol_l(self.bilirubin_mg_dl)
        return self.bilirubin_umol_l

    def bilirubin_in_mg_dl(self) -> float | None:
        """Total bilirubin in mg/dL, whichever unit it was given in.

        Returns
        -------
        float | None
            Serum total bilirubin (mg/dL), converted at 17.1 umol/L per mg/dL when it was given
            in the other unit; ``None`` when the case file gives neither form.
        """
        if self.bilirubin_umol_l is not None:
            return units.bilirubin_umol_l_to_mg_dl(self.bilirubin_umol_l)
        return self.bilirubin_mg_dl

    def albumin_in_g_l(self) -> float | None:
        """Albumin in g/L, whichever unit it was given in.

        Returns
        -------
        float | None
            Serum albumin (g/L), converted at 10 g/L per g/dL when it was given
            in the other unit; ``None`` when the case file gives neither form.
        """
        if self.albumin_g_dl is not None:
            return units.albumin_g_dl_to_g_l(self.albumin_g_dl)
        return self.albumin_g_l

    def creatinine_in_mg_dl(self) -> float | None:
        """Creatinine in mg/dL, whichever unit it was given in.

        Returns
        -------
        float | None
            Serum creatinine (mg/dL), converted at 88.4 umol/L per mg/dL when it was given
            in the other unit; ``None`` when the case file gives neither form.
        """
        if self.creatinine_umol_l is not None:
            return units.creatinine_umol_l_to_mg_dl(self.creatinine_umol_l)
        return self.creatinine_mg_dl


class Ascites(StrEnum):
    """Ascites as graded clinically (Child-Pugh: none 1, mild 2, moderate or severe 3 points)."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Diagnosis(StrEnum):
    """Tumour type (BCLC staging applies to hepatocellular carcinoma only)."""

    HCC = "hcc"
    CHOLANGIOCARCINOMA = "cholangiocarcinoma"
    METASTASES = "metastases"
    OTHER = "other"


class TreatmentExtent(StrEnum):
    """Extent of the planned radioembolization."""

    SEGMENTAL = "segmental"
    LOBAR = "lobar"
    WHOLE_LIVER = "whole-liver"


class PriorTreatment(StrEnum):
    """Earlier treatments that change SIRT eligibility or liver tolerance."""

    RESECTION = "resection"
    ABLATION = "ablation"
    TACE = "tace"
    SIRT = "sirt"
    EXTERNAL_BEAM_LIVER = "external-beam-liver"
    SYSTEMIC_CHEMOTHERAPY = "systemic-chemotherapy"
    BILIARY_INTERVENTION = "biliary-intervention"


class ClinicalFindings(_Strict):
    """Clinical findings used by scores, staging and eligibility (all optional).

    Attributes
    ----------
    ecog : int | None
        ECOG performance status, 0-5 (Oken et al. 1982).
    ascites : Ascites | None
    encephalopathy_grade : int | None
        Hepatic encephalopathy, West Haven grade 0 (none) to 4.
    dialysis_twice_past_week : bool | None
        Dialysis at least twice, or CVVHD 24 h, in the past week (MELD uses creatinine 4 mg/dL).
    diagnosis : Diagnosis | None
    cirrhosis : bool | None
    tumour_count : int | None
        Number of liver tumour nodules.
    largest_tumour_diameter_mm : float | None
        Longest diameter of the largest nodule (mm).
    macrovascular_invasion : bool | None
        Macrovascular (e.g. portal vein) tumour invasion.
    extrahepatic_spread : bool | None
        Extrahepatic metastases (nodes or distant).
    extrahepatic_maa_uptake : bool | None
        Extrahepatic (e.g. gastrointestinal) deposition on the MAA scan that cannot be corrected.
    treatment_extent : TreatmentExtent | None
        Segmental, lobar or whole-liver treatment.
    prior_treatments : tuple[PriorTreatment, ...] | None
    """

    ecog: int | None = Field(default=None, strict=True, ge=0, le=5)
    ascites: Ascites | None = None
    encephalopathy_grade: int | None = Field(default=None, strict=True, ge=0, le=4)
    dialysis_twice_past_week: bool | None = None
    diagnosis: Diagnosis | None = None
    cirrhosis: bool | None = None
    tumour_count: int | None = Field(default=None, strict=True, ge=1, le=100)
    largest_tumour_diameter_mm: float | None = Field(default=None, strict=True, gt=0, le=400)
    macrovascular_invasion: bool | None = None
    extrahepatic_spread: bool | None = None
    extrahepatic_maa_uptake: bool | None = None
    treatment_extent: TreatmentExtent | None = None
    prior_treatments: tuple[PriorTreatment, ...] | None = None
