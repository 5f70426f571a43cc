"""Clinical inputs of a case file: laboratory values and clinical findings.

These pydantic models are part of the case-file contract (``patient.labs`` and the optional
``clinical`` section). Every key is optional; unknown keys are errors that name the key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labs(_Strict):
    """Laboratory values. SI units; each is optional.

    Bilirubin and albumin may also be given in conventional units (mg/dL, g/dL) by the
    ``*_mg_dl`` / ``*_g_dl`` keys, but not both forms of the same value.
    """

    bilirubin_umol_l: float | None = Field(default=None, ge=0)
    albumin_g_l: float | None = Field(default=None, ge=0)
    inr: float | None = Field(default=None, gt=0)


class ClinicalFindings(_Strict):
    """Clinical findings used by scores, staging and eligibility (all optional)."""

    ecog: int | None = Field(default=None, ge=0, le=5)
