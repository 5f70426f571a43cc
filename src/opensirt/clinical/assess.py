"""The clinical assessment of a patient before SIRT: scores, BCLC stage and eligibility.

:func:`assess` works from the case-file inputs (:class:`~opensirt.patient.inputs.Labs`,
:class:`~opensirt.patient.inputs.ClinicalFindings`) and what planning knows
(:class:`PlanFacts`); :func:`assess_case` takes a whole case, plans it with
:func:`opensirt.planning.plan_case` for the lung dose of the planned activity, and uses the
device's lung limits. A score whose inputs are missing is ``None``, and the missing case-file
keys are named in :attr:`Assessment.missing`; nothing missing is ever assumed normal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from opensirt.clinical.bclc import Bclc, bclc_stage
from opensirt.clinical.eligibility import (
    Eligibility,
    EligibilityInputs,
    EligibilityThresholds,
    check_eligibility,
    extrahepatic_uptake_source,
)
from opensirt.clinical.liver_function import (
    Albi,
    ChildPugh,
    EcogStatus,
    Meld,
    albi,
    child_pugh,
    ecog_status,
    meld,
)
from opensirt.patient.inputs import ClinicalFindings, Diagnosis, Labs
from opensirt.physics.devices import get_device
from opensirt.planning import Case, Method, plan_case
from opensirt.planning.context import case_lung_shunt

_BILI = "patient.labs.bilirubin_umol_l (or bilirubin_mg_dl)"
_ALB = "patient.labs.albumin_g_l (or albumin_g_dl)"
_INR = "patient.labs.inr"
_CREAT = "patient.labs.creatinine_umol_l (or creatinine_mg_dl)"
_NA = "patient.labs.sodium_mmol_l"


@dataclass(frozen=True)
class PlanFacts:
    """What planning knows that eligibility needs (doses in Gy, volumes in mL).

    ``lung_dose_gy`` is the lung dose of the planned activity (None if not planned);
    ``plan_refused`` the reason no safe activity exists; ``extrahepatic_uptake_fractions``
    the share of the SPECT counts in each cluster of extrahepatic uptake found on the
    work-up SPECT (``()``: none found; None: not measured, as for a plan without images).
    """

    lung_shunt_fraction: float | None = None
    lung_dose_gy: float | None = None
    previous_lung_dose_gy: float = 0.0
    liver_volume_ml: float | None = None
    treated_volume_ml: float | None = None
    tumour_volume_ml: float | None = None
    plan_refused: str | None = None
    extrahepatic_uptake_fractions: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Assessment:
    """Scores (None when inputs are missing), BCLC stage, eligibility, and what was missing."""

    child_pugh: ChildPugh | None
    albi: Albi | None
    meld: Meld | None
    ecog: EcogStatus | None
    bclc: Bclc | None
    eligibility: Eligibility
    missing: dict[str, list[str]]
    notes: tuple[str, ...]
    #: Which finding decided the extrahepatic-uptake rule (the case file's or the SPECT
    #: analysis's; None when neither is known).
    extrahepatic_uptake_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``opensirt assess --json``.

        Returns
        -------
        dict[str, Any]
            The scores (``None`` where inputs were missing), BCLC stage, eligibility (see
            :meth:`Eligibility.as_dict`), the source of the extrahepatic-uptake finding,
            the missing case-file keys per score and the notes; JSON-serialisable.
        """
        return {
            "child_pugh": _child_pugh_dict(self.child_pugh),
            "albi": _albi_dict(self.albi),
            "meld": _meld_dict(self.meld),
            "ecog": None
            if self.ecog is None
            else {"status": int(self.ecog), "description": self.ecog.description},
            "bclc": None if self.bclc is None else _bclc_dict(self.bclc),
            "eligibility": self.eligibility.as_dict(),
            "extrahepatic_uptake_source": self.extrahepatic_uptake_source,
            "missing": self.missing,
            "notes": list(self.notes),
        }


def _child_pugh_dict(cp: ChildPugh | None) -> dict[str, Any] | None:
    if cp is None:
        return None
    return {"points": cp.points, "class": cp.child_pugh_class.value, "label": cp.label(),
            "item_points": cp.item_points, "source": cp.source}  # fmt: skip


def _albi_dict(a: Albi | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"score": round(a.score, 2), "grade": a.grade, "source": a.source}


def _meld_dict(m: Meld | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"score": m.meld, "meld_na": m.meld_na, "bounded_inputs": m.bounded_inputs,
            "notes": list(m.notes), "source": m.source}  # fmt: skip


def _bclc_dict(b: Bclc) -> dict[str, Any]:
    return {"stage": b.stage.value, "treatment": b.treatment, "reasons": list(b.reasons),
            "source": b.source}  # fmt: skip


def _need(pairs: list[tuple[str, object]]) -> list[str]:
    return [name for name, value in pairs if value is None]


def _child_pugh(labs: Labs, f: ClinicalFindings) -> tuple[ChildPugh | None, list[str]]:
    bili, alb = labs.bilirubin_in_mg_dl(), labs.albumin_in_g_l()
    coag = labs.inr if labs.inr is not None else labs.prothrombin_time_prolongation_s
    ascites, grade = f.ascites, f.encephalopathy_grade
    if bili is None or alb is None or coag is None or ascites is None or grade is None:
        return None, _need([(_BILI, bili), (_ALB, alb),
                            ("patient.labs.inr (or prothrombin_time_prolongation_s)", coag),
                            ("clinical.ascites", ascites),
                            ("clinical.encephalopathy_grade", grade)])  # fmt: skip
    score = child_pugh(
        bilirubin_mg_dl=bili,
        albumin_g_dl=alb / 10.0,
        ascites=ascites,
        encephalopathy_grade=grade,
        inr=labs.inr,
        prothrombin_prolongation_s=labs.prothrombin_time_prolongation_s,
    )
    return score, []


def _albi(labs: Labs) -> tuple[Albi | None, list[str]]:
    bili, alb = labs.bilirubin_in_umol_l(), labs.albumin_in_g_l()
    if bili is None or alb is None:
        return None, _need([(_BILI, bili), (_ALB, alb)])
    return albi(bilirubin_umol_l=bili, albumin_g_l=alb), []


def _meld(labs: Labs, f: ClinicalFindings, notes: list[str]) -> tuple[Meld | None, list[str]]:
    bili, creat = labs.bilirubin_in_mg_dl(), labs.creatinine_in_mg_dl()
    if bili is None or creat is None or labs.inr is None:
        return None, _need([(_BILI, bili), (_INR, labs.inr), (_CREAT, creat)])
    if f.dialysis_twice_past_week is None:
        notes.append("MELD: clinical.dialysis_twice_past_week not given, taken as no dialysis")
    result = meld(bilirubin_mg_dl=bili, inr=labs.inr, creatinine_mg_dl=creat,
                  dialysis_twice_past_week=bool(f.dialysis_twice_past_week),
                  sodium_mmol_l=labs.sodium_mmol_l)  # fmt: skip
    return result, ([] if labs.sodium_mmol_l is not None else [_NA])


def _bclc(
    f: ClinicalFindings, cp: ChildPugh | None, notes: list[str]
) -> tuple[Bclc | None, list[str]]:
    if f.diagnosis is not None and f.diagnosis is not Diagnosis.HCC:
        notes.append(f"BCLC staging applies to hepatocellular carcinoma, not {f.diagnosis.value}")
        return None, []
    count, largest, ecog = f.tumour_count, f.largest_tumour_diameter_mm, f.ecog
    mvi, ehs = f.macrovascular_invasion, f.extrahepatic_spread
    if cp is None or count is None or largest is None or ecog is None or mvi is None or ehs is None:
        missing = _need([
            ("clinical.tumour_count", count),
            ("clinical.largest_tumour_diameter_mm", largest),
            ("clinical.macrovascular_invasion", mvi),
            ("clinical.extrahepatic_spread", ehs),
            ("clinical.ecog", ecog),
            ("the Child-Pugh score (see missing.child_pugh)", cp),
        ])  # fmt: skip
        return None, missing
    stage = bclc_stage(
        tumour_count=count,
        largest_tumour_diameter_mm=largest,
        macrovascular_invasion=mvi,
        extrahepatic_spread=ehs,
        child_pugh_class=cp.child_pugh_class,
        ecog=ecog,
    )
    return stage, []


def assess(
    labs: Labs | None,
    findings: ClinicalFindings | None,
    *,
    plan: PlanFacts | None = None,
    thresholds: EligibilityThresholds | None = None,
) -> Assessment:
    """Scores, BCLC stage and SIRT eligibility from clinical inputs and plan facts.

    Parameters
    ----------
    labs : Labs | None
        Laboratory values of the case file (``patient.labs``); ``None`` is the same as none
        given.
    findings : ClinicalFindings | None
        Clinical findings of the case file (``clinical``); ``None`` is the same as none
        given.
    plan : PlanFacts | None, optional
        What planning knows (lung shunt, lung dose in Gy, volumes in mL, refusal);
        ``None`` (default): nothing planned, so the rules that need it are not checked.
    thresholds : EligibilityThresholds | None, optional
        Thresholds of the eligibility rules; ``None`` (default) uses the literature
        defaults of :class:`EligibilityThresholds`.

    Returns
    -------
    Assessment
        Child-Pugh, ALBI, MELD, ECOG and BCLC (each ``None`` when its inputs are missing,
        the missing keys named in ``missing``), the eligibility verdict and its reasons.

    Examples
    --------

    >>> a = assess(Labs(bilirubin_umol_l=18, albumin_g_l=38, inr=1.1), None)
    >>> a.albi.grade, a.child_pugh is None, a.eligibility.verdict.value
    (2, True, 'caution')
    """
    labs, f, facts = labs or Labs(), findings or ClinicalFindings(), plan or PlanFacts()
    notes: list[str] = []
    missing: dict[str, list[str]] = {}
    cp, missing["child_pugh"] = _child_pugh(labs, f)
    albi_result, missing["albi"] = _albi(labs)
    meld_result, missing["meld"] = _meld(labs, f, notes)
    bclc_result, missing["bclc"] = _bclc(f, cp, notes)
    missing["ecog"] = [] if f.ecog is not None else ["clinical.ecog"]
    inputs = EligibilityInputs(
        bilirubin_mg_dl=labs.bilirubin_in_mg_dl(),
        ascites=f.ascites,
        child_pugh=cp,
        albi=albi_result,
        ecog=f.ecog,
        extrahepatic_maa_uptake=f.extrahepatic_maa_uptake,
        treatment_extent=f.treatment_extent,
        cirrhosis=f.cirrhosis,
        prior_treatments=f.prior_treatments,
        **asdict(facts),
    )
    return Assessment(
        child_pugh=cp,
        albi=albi_result,
        meld=meld_result,
        ecog=None if f.ecog is None else ecog_status(f.ecog),
        bclc=bclc_result,
        eligibility=check_eligibility(inputs, thresholds),
        missing={k: v for k, v in missing.items() if v},
        notes=tuple(notes),
        extrahepatic_uptake_source=extrahepatic_uptake_source(inputs),
    )


def plan_facts(case: Case) -> PlanFacts:
    """Volumes, lung shunt and the lung dose of the planned activity of ``case``.

    The case is planned with :func:`opensirt.planning.plan_case` (not for method ``voxel``,
    which is planned from images: its lung dose is then not checked). For a case that leaves its
    volumes to its images, ``plan_case`` raises ``InputError``: plan it from the images and
    pass their facts as ``plan`` to :func:`assess_case`.

    Parameters
    ----------
    case : Case
        The validated case file.

    Returns
    -------
    PlanFacts
        Lung shunt fraction given in the case, lung dose of the planned activity (Gy;
        ``None`` for a voxel case), previous lung dose (Gy), liver, treated and tumour
        volumes (mL; ``None`` where left to the images) and the refusal reason, if any.

    Raises
    ------
    InputError
        If the case cannot be planned without its images (volumes left to them).
    """
    given = case_lung_shunt(case)
    lsf = None if given is None else given[0]
    lung_gy, refused = None, None
    if case.method is not Method.VOXEL:
        result = plan_case(case)
        lung_gy, refused = result.lung_gy, result.refused
    return PlanFacts(
        lung_shunt_fraction=lsf,
        lung_dose_gy=lung_gy,
        previous_lung_dose_gy=case.lung.previous_dose_gy,
        liver_volume_ml=case.liver.volume_ml,
        treated_volume_ml=_total([t.volume_ml for t in case.territories]),
        tumour_volume_ml=_total([tu.volume_ml for t in case.territories for tu in t.tumours]),
        plan_refused=refused,
    )


def _total(volumes_ml: list[float | None]) -> float | None:
    """The sum of typed volumes; None when one is left to the images."""
    return None if None in volumes_ml else sum(v for v in volumes_ml if v is not None)


def case_thresholds(case: Case) -> EligibilityThresholds:
    """Eligibility thresholds with the device's lung limits and the case-file overrides.

    Parameters
    ----------
    case : Case
        The validated case file: its device gives the lung limits and the lung shunt
        limit, its prescription's ``lung_max_gy`` and ``lung_cumulative_max_gy`` (Gy)
        override them where given.

    Returns
    -------
    EligibilityThresholds
        The thresholds, each with its source (``"case file"`` for an override).
    """
    p = case.prescription
    overrides = {"lung_max_gy": p.lung_max_gy, "lung_cumulative_max_gy": p.lung_cumulative_max_gy}
    base = EligibilityThresholds.for_device(get_device(case.device))
    return base.with_overrides(overrides, source="case file")


def assess_case(case: Case, plan: PlanFacts | None = None) -> Assessment:
    """:func:`assess` for a whole case: its labs, clinical findings and plan.

    ``plan`` gives the plan facts when they come from elsewhere (a voxel plan from the
    images); by default they come from :func:`plan_facts`.

    Parameters
    ----------
    case : Case
        The validated case file (``patient.labs``, ``clinical``, device and prescription).
    plan : PlanFacts | None, optional
        Plan facts computed elsewhere; ``None`` (default) plans the case
        (:func:`plan_facts`).

    Returns
    -------
    Assessment
        As :func:`assess`, with the thresholds of :func:`case_thresholds`.

    Raises
    ------
    InputError
        If ``plan`` is not given and the case cannot be planned without its images.
    """
    facts = plan_facts(case) if plan is None else plan
    return assess(case.patient.labs, case.clinical, plan=facts, thresholds=case_thresholds(case))
