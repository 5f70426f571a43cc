"""A synthetic cohort: N plausible SIRT pathways as registry records, reproducible by seed.

Each patient gets: the diagnosis and its date, labs and findings (cirrhosis and Child-Pugh
for HCC), quality of life, prior therapies (systemic lines, TACE), the MDT decision, the MAA
work-up (lung shunt, T/N), a plan made by the planning code
(:mod:`opensirt.demo.cohort_plan`) and signed by a physicist and a physician, the SIRT
session (device, vial assay, residual, delivered activity), the 4-6 h monitoring, the
verification, adverse events, follow-up lesion measurements with the response computed by
:mod:`opensirt.clinical.response`, progression, subsequent therapy (sometimes a repeat SIRT),
and death or the last contact. The figures and their sources are in
:mod:`opensirt.demo.cohort_sources`; survival and progression are exponential with the
cited medians, censored at ``until``.

Patient ``i`` of seed ``s`` is drawn from ``numpy.random.default_rng([s, i])`` only, so the same
seed gives the same cohort, and the first patients of a larger cohort are those of a smaller.
Records come in an order the registry writer accepts (a plan before the session that delivers
it, the session before its monitoring, the death last); no date is after ``until``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from opensirt.clinical.liver_function import albi, child_pugh
from opensirt.demo import cohort_sources as src
from opensirt.demo.cohort_followup import (
    lesion_series,
    response_records,
    verified_structures,
)
from opensirt.demo.cohort_plan import SyntheticPlan, generate_plan
from opensirt.errors import InputError
from opensirt.registry import records as r
from opensirt.registry.vocabulary import Diagnosis

#: Days per month for the survival draws (365.25 / 12).
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class SyntheticPatient:
    """One synthetic patient: the patient record and the pathway records, in writing order.

    Attributes
    ----------
    patient : PatientIn
        Pseudonym, sex, birth year, diagnosis and its date.
    records : tuple of pydantic.BaseModel
        The records of :data:`opensirt.registry.writer.RECORD_TYPES`, in an order the
        writer accepts.
    """

    patient: r.PatientIn
    records: tuple[BaseModel, ...]


def synthetic_cohort(
    n: int, seed: int, *, until: dt.date | None = None, prefix: str = "SYN"
) -> Iterator[SyntheticPatient]:
    """Draw ``n`` plausible SIRT patients, reproducibly.

    Parameters
    ----------
    n : int
        How many patients (>= 0).
    seed : int
        The seed (>= 0); the same seed and ``until`` give the same cohort.
    until : datetime.date, optional
        The latest date of any record, the end of follow-up (default: today).
    prefix : str, optional
        Start of the pseudonyms, ``PREFIX-SEED-000001`` (letters, digits, ``-``).

    Yields
    ------
    SyntheticPatient
        Each patient with the records of their pathway.

    Raises
    ------
    InputError
        If ``prefix`` is not a pseudonym start.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,40}", prefix):
        raise InputError(
            f"prefix {prefix!r} is not a pseudonym start; use letters, digits and '-' (at most "
            "41 characters), e.g. SYN"
        )
    end = until or dt.date.today()
    for i in range(1, n + 1):
        rng = np.random.default_rng([seed, i])
        yield _Pathway(rng, f"{prefix}-{seed}-{i:06d}", end).build()


def _months(rng: np.random.Generator, median: float) -> float:
    """An exponential duration (months) with the given median."""
    return float(rng.exponential(median / math.log(2)))


def _uid(rng: np.random.Generator) -> str:
    """A DICOM UID under the 2.25 root (PS3.5 B.2) from 120 random bits."""
    value = int(rng.integers(1, 2**60)) << 60 | int(rng.integers(0, 2**60))
    return f"2.25.{value}"


def _at(day: dt.date, hour: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(hours=hour)


class _Pathway:
    """The records of one patient, collected with their dates, then cut at death or ``until``."""

    def __init__(self, rng: np.random.Generator, pseudonym: str, until: dt.date) -> None:
        self.rng = rng
        self.id = pseudonym
        self.until = until
        self.items: list[tuple[dt.date, int, BaseModel]] = []
        diagnoses = list(src.DIAGNOSIS_SHARES)
        shares = np.array(list(src.DIAGNOSIS_SHARES.values()))
        self.dx = diagnoses[int(rng.choice(len(diagnoses), p=shares / shares.sum()))]
        # first SIRT in the last six years, at least a month before the end of follow-up
        self.sirt_day = until - dt.timedelta(days=int(rng.integers(30, 6 * 365)))
        gap = rng.lognormal(math.log(src.MONTHS_TO_SIRT[self.dx]), 0.5)
        self.dx_day = self.sirt_day - dt.timedelta(days=int(gap * DAYS_PER_MONTH) + 45)

    def days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=int(self.rng.integers(low, high + 1)))

    def add(self, day: dt.date, record_type: type[BaseModel], **fields: Any) -> None:
        order = len(self.items)
        record = record_type.model_validate({"patient": self.id, "date": day, **fields})
        self.items.append((day, order, record))

    def build(self) -> SyntheticPatient:
        rng, dx = self.rng, self.dx
        mean, sd = src.AGE_AT_DIAGNOSIS_YEARS[dx]
        age = float(np.clip(rng.normal(mean, sd), 30, 89))
        male = rng.random() < src.MALE_SHARE[dx]
        patient = r.PatientIn(
            patient=self.id,
            sex="male" if male else "female",
            birth_year=self.dx_day.year - int(age),
            diagnosis=dx,
            diagnosis_date=self.dx_day,
        )
        vascular = dx is Diagnosis.HCC and rng.random() < 0.25
        line = self.prior_therapies()
        mdt_day = self.sirt_day - self.days(21, 35)
        labs, cirrhosis = self.baseline(mdt_day - self.days(1, 7), vascular)
        plan = self.workup_and_plan(mdt_day, labs, cirrhosis, vascular, line)
        death = self.outcomes(plan, vascular, line)
        return SyntheticPatient(patient, self.cut(death))

    def prior_therapies(self) -> int:
        """Systemic lines and TACE before the SIRT decision; the SIRT's line of therapy."""
        rng, dx, line = self.rng, self.dx, 1
        span = (self.sirt_day - self.dx_day).days - 60
        systemic = dx is not Diagnosis.HCC and rng.random() < src.PRIOR_SYSTEMIC_SHARE / 0.55
        if systemic and span > 60:
            lines = 1 + int(rng.random() < 0.5) if dx in (Diagnosis.CRC, Diagnosis.BREAST) else 1
            for k in range(lines):
                day = self.dx_day + dt.timedelta(days=int(span * (k + 0.1) / lines))
                self.add(
                    day,
                    r.MdtDecisionIn,
                    roles_present=src.ROLES[:3],
                    options_considered=("systemic", "best-supportive-care"),
                    chosen="systemic",
                    intent="palliative",
                    line=line,
                )
                agent = src.SYSTEMIC[dx][k]
                self.add(
                    day + self.days(7, 21),
                    r.SessionIn,
                    therapy="systemic",
                    details={"agent": agent, "line": line},
                )
                line += 1
        elif dx is Diagnosis.HCC and rng.random() < src.PRIOR_LOCOREGIONAL_SHARE and span > 60:
            day = self.dx_day + dt.timedelta(days=int(span * 0.1))
            self.add(
                day,
                r.MdtDecisionIn,
                roles_present=src.ROLES[:4],
                options_considered=("tace", "sirt", "ablation"),
                chosen="tace",
                intent="palliative",
                line=1,
                rationale="intermediate stage, TACE first",
            )
            self.add(
                day + self.days(7, 21),
                r.SessionIn,
                therapy="tace",
                territory="right lobe",
                details={"drug": "doxorubicin", "dose_mg": 50.0, "beads": "DEB 100-300 um"},
            )
            line = 2
        return line

    def baseline(self, day: dt.date, vascular: bool) -> tuple[dict[str, float], bool]:
        """Labs, markers, findings and quality of life before the decision."""
        rng, dx = self.rng, self.dx
        cirrhosis = dx is Diagnosis.HCC and rng.random() < 0.8
        bili = float(np.clip(rng.lognormal(math.log(16.0 if cirrhosis else 10.0), 0.35), 3, 60))
        albumin = float(np.clip(rng.normal(36.0 if cirrhosis else 40.0, 4.0), 24, 50))
        inr = float(np.clip(rng.normal(1.15 if cirrhosis else 1.0, 0.08), 0.85, 1.8))
        labs = {
            "bilirubin_umol_l": round(bili, 1),
            "albumin_g_l": round(albumin, 1),
            "inr": round(inr, 2),
        }
        afp = round(float(rng.lognormal(math.log(40.0), 1.8)), 1) if dx is Diagnosis.HCC else None
        cea = round(float(rng.lognormal(math.log(25.0), 1.2)), 1) if dx is Diagnosis.CRC else None
        creatinine = round(float(np.clip(rng.normal(82.0, 16.0), 40, 160)), 1)
        self.add(
            day,
            r.LabsIn,
            labs=labs
            | {
                "creatinine_umol_l": creatinine,
                "sodium_mmol_l": round(float(rng.normal(139.0, 2.5)), 1),
            },
            afp_ng_ml=afp,
            cea_ng_ml=cea,
        )
        self.ecog = int(rng.choice(3, p=(0.55, 0.40, 0.05)))
        self.tumour_mm = tuple(
            float(rng.uniform(22.0, 85.0)) for _ in range(1 + int(rng.random() < 0.45))
        )
        self.add(
            day,
            r.FindingsIn,
            findings={
                "ecog": self.ecog,
                "ascites": "none",
                "encephalopathy_grade": 0,
                "diagnosis": src.CLINICAL_DIAGNOSIS[dx],
                "cirrhosis": cirrhosis,
                "tumour_count": len(self.tumour_mm) + int(rng.integers(0, 3)),
                "largest_tumour_diameter_mm": round(max(self.tumour_mm), 1),
                "macrovascular_invasion": vascular,
                "extrahepatic_spread": rng.random() < 0.15,
            },
        )
        self.qol = float(np.clip(rng.normal(66.0, 17.0), 0, 100))
        self.add(
            day,
            r.QualityOfLifeIn,
            instrument="eortc-qlq-c30",
            scale="global health status",
            score=round(self.qol, 1),
        )
        self.add(
            day - self.days(3, 10),
            r.ImagingStudyIn,
            study_uid=_uid(rng),
            series_uid=_uid(rng),
            modality="CT",
            role="planning-ct",
        )
        self.labs = labs
        return labs, cirrhosis

    def assessment(self, labs: dict[str, float]) -> dict[str, Any]:
        cp = child_pugh(
            bilirubin_mg_dl=labs["bilirubin_umol_l"] / 17.1,
            albumin_g_dl=labs["albumin_g_l"] / 10.0,
            ascites="none",
            encephalopathy_grade=0,
            inr=labs["inr"],
        )
        grade = albi(bilirubin_umol_l=labs["bilirubin_umol_l"], albumin_g_l=labs["albumin_g_l"])
        return {"child_pugh": cp.label(), "albi_grade": grade.grade, "ecog": self.ecog}

    def workup_and_plan(
        self, mdt_day: dt.date, labs: dict[str, float], cirrhosis: bool, vascular: bool, line: int
    ) -> SyntheticPlan | None:
        """MDT, MAA work-up, plan and its signatures; the SIRT if the plan is not refused."""
        rng, dx = self.rng, self.dx
        u = rng.random()
        if u < src.PALLIATIVE_SHARE or dx is not Diagnosis.HCC:
            intent = "palliative"
        else:
            intent = ("downstaging", "bridge-to-transplant", "curative")[int(rng.integers(0, 3))]
        options = ("sirt", "systemic", "tace") if dx is Diagnosis.HCC else ("sirt", "systemic")
        self.add(
            mdt_day,
            r.MdtDecisionIn,
            roles_present=src.ROLES[: 3 + int(rng.integers(0, 4))],
            options_considered=options,
            chosen="sirt",
            intent=intent,
            line=line,
            rationale="liver-dominant disease, not resectable",
            assessment=self.assessment(labs),
        )
        maa_day = mdt_day + self.days(7, 14)
        lsf = float(
            np.clip(
                rng.lognormal(math.log(src.LUNG_SHUNT_MEDIAN), math.log(src.LUNG_SHUNT_GSD)),
                *src.LUNG_SHUNT_RANGE,
            )
        )
        tn = tuple(
            float(
                np.clip(rng.lognormal(math.log(src.TN_MEDIAN[dx]), math.log(src.TN_GSD)), 0.8, 12.0)
            )
            for _ in self.tumour_mm
        )
        volumes = tuple(math.pi / 6 * (d / 10.0) ** 3 for d in self.tumour_mm)  # spheres (mL)
        self.add(
            maa_day,
            r.ImagingStudyIn,
            study_uid=_uid(rng),
            series_uid=_uid(rng),
            modality="NM",
            role="maa-spect",
        )
        device = "therasphere" if dx is Diagnosis.HCC and rng.random() < 0.5 else "sir-spheres"
        plan = generate_plan(
            rng,
            pseudonym=self.id,
            diagnosis=dx,
            device=device,
            lung_shunt_fraction=lsf,
            tn_ratios=tn,
            tumour_volumes_ml=volumes,
            labs=labs,
        )
        self.add(
            maa_day,
            r.WorkupIn,
            lung_shunt_fraction=round(lsf, 4),
            lung_shunt_source="MAA planar",
            extrahepatic_uptake=False,
            tumour_to_normal={f"T{k + 1}": round(v, 2) for k, v in enumerate(tn)},
            perfused_territories=(plan.territory,),
        )
        if plan.result.refused is not None:
            self.add(
                maa_day + self.days(3, 10),
                r.MdtDecisionIn,
                roles_present=src.ROLES[:3],
                options_considered=("sirt", "systemic"),
                chosen="systemic",
                intent="palliative",
                line=line,
                rationale=plan.result.refused[:400],
            )
            self.add(
                maa_day + self.days(14, 28),
                r.SessionIn,
                therapy="systemic",
                details={"agent": src.SYSTEMIC[dx][0], "line": line},
            )
            self.sirt_day = maa_day + self.days(14, 28)
            return None
        self.sirt(maa_day + self.days(2, 5), plan, "first", device)
        return plan

    def sirt(self, plan_day: dt.date, plan: SyntheticPlan, label: str, device: str) -> None:
        """Plan version (signed), session, monitoring, verification and adverse events."""
        rng, result = self.rng, plan.result
        assert result.activity_gbq is not None
        planned = result.activity_gbq
        physicist = src.PHYSICISTS[int(rng.integers(0, 3))]
        physician = src.PHYSICIANS[int(rng.integers(0, 4))]
        signatures = (
            {"role": "physicist", "user_name": physicist, "signed_at": _at(plan_day, 10.5)},
            {"role": "physician", "user_name": physician, "signed_at": _at(plan_day, 15.0)},
        )
        self.add(
            plan_day,
            r.PlanVersionIn,
            label=label,
            version=1,
            state="approved",
            case_yaml=plan.case_yaml,
            result_json=plan.result_json,
            method=result.method.value,
            device=device,
            activity_gbq=planned,
            tumour_dose_gy=plan.tumour_dose_gy,
            normal_liver_dose_gy=result.normal_liver_gy,
            lung_dose_gy=result.lung_gy,
            input_fingerprint=plan.fingerprint,
            created_by=physicist,
            signatures=signatures,
        )
        day = plan_day + self.days(3, 10)
        self.sirt_day = day
        residual = float(
            rng.uniform(0.01, 0.04) if device == "therasphere" else rng.uniform(0.02, 0.10)
        )
        assay = planned * float(rng.normal(1.0, 0.03))
        injected = _at(day, 11.0 + float(rng.uniform(0, 3)))
        decay = math.exp(-math.log(2) * 1.5 / 64.1)  # Y-90, 1.5 h from assay to injection
        delivered = assay * decay * (1 - residual)
        self.add(
            day,
            r.SessionIn,
            therapy="sirt",
            territory=plan.territory,
            delivered_activity_gbq=round(delivered, 4),
            plan=label,
            details={
                "device": device,
                "residual_fraction": round(residual, 4),
                "catheter_position": f"{plan.territory} hepatic artery",
                "injected_at": injected.isoformat(),
            },
        )
        self.add(
            day,
            r.MonitoringIn,
            start=injected + dt.timedelta(minutes=20),
            end=injected + dt.timedelta(hours=float(rng.uniform(4.0, 6.0))),
            observations=({"pain_nrs": int(rng.integers(0, 5))},),
            discharged=bool(rng.random() < 0.97),
        )
        scale = delivered / (planned * (1 - result.residual_fraction))
        predicted = {
            "tumour": plan.tumour_dose_gy,
            "normal liver": result.normal_liver_gy,
            "lung": result.lung_gy,
        }
        structures = verified_structures(rng, predicted, scale)
        modality = "Y-90 PET" if rng.random() < 0.6 else "bremsstrahlung SPECT"
        self.add(
            day,
            r.ImagingStudyIn,
            study_uid=_uid(rng),
            series_uid=_uid(rng),
            modality="PT" if modality == "Y-90 PET" else "NM",
            role="post-pet" if modality == "Y-90 PET" else "post-spect",
        )
        self.add(
            day,
            r.VerificationIn,
            modality=modality,
            delivered_activity_gbq=round(delivered, 4),
            session_date=day,
            structures=tuple(structures),
        )
        for term, p, grades in src.ADVERSE_EVENTS:
            if rng.random() < p:
                grade = 1 + int(rng.choice(4, p=np.array(grades) / sum(grades)))
                onset = day + self.days(0, 14)
                self.add(
                    onset,
                    r.AdverseEventIn,
                    term=term,
                    grade=grade,
                    attribution="probable",
                    resolved=onset + self.days(2, 30),
                    session_date=day,
                )

    def outcomes(self, plan: SyntheticPlan | None, vascular: bool, line: int) -> dt.date | None:
        """Follow-up imaging and response, progression, later therapy, death or last contact."""
        rng, dx, start = self.rng, self.dx, self.sirt_day
        median = (
            src.MEDIAN_OS_HCC_VASCULAR_INVASION_MONTHS if vascular else src.MEDIAN_OS_MONTHS[dx]
        )
        death = start + dt.timedelta(days=1 + int(_months(rng, median) * DAYS_PER_MONTH))
        progression = start + dt.timedelta(
            days=28 + int(_months(rng, median * src.PFS_TO_OS_RATIO) * DAYS_PER_MONTH)
        )
        dose = (plan.tumour_dose_gy or 0.0) if plan else 0.0
        slope = (src.RESPONSE_AT_205_GY - src.RESPONSE_AT_120_GY) / 85.0
        p_response = float(np.clip(src.RESPONSE_AT_120_GY + slope * (dose - 120.0), 0.1, 0.85))
        shrink = rng.uniform(0.35, 0.7) if rng.random() < p_response else rng.uniform(-0.1, 0.25)
        self.add(
            start + dt.timedelta(days=90),
            r.QualityOfLifeIn,
            instrument="eortc-qlq-c30",
            scale="global health status",
            score=round(float(np.clip(self.qol + rng.normal(-3.0, 12.0), 0, 100)), 1),
        )
        scan_days = [start - self.days(14, 20)]
        day = start
        while True:
            day += self.days(80, 100)
            if day >= min(progression, death):
                break
            scan_days.append(day)
        if progression < death:
            scan_days.append(progression)
        if scan_days[0] < self.dx_day:  # the baseline scan is part of the pathway
            scan_days[0] = self.dx_day
        rows = lesion_series(self.id, self.tumour_mm, scan_days, start, progression, float(shrink))
        for scan in scan_days:
            role = "follow-up-mr" if dx is Diagnosis.HCC else "follow-up-ct"
            self.add(
                scan,
                r.ImagingStudyIn,
                study_uid=_uid(rng),
                modality="MR" if role == "follow-up-mr" else "CT",
                role=role,
            )
        for m in rows:
            self.add(
                m.date,
                r.LesionMeasurementIn,
                lesion_id=m.lesion_id,
                role=m.role,
                longest_diameter_mm=m.longest_diameter_mm,
                viable_diameter_mm=m.viable_diameter_mm if dx is Diagnosis.HCC else None,
                enhancing_area_mm2=m.enhancing_area_mm2 if dx is Diagnosis.HCC else None,
            )
        for day, fields in response_records(self.id, rows, hcc=dx is Diagnosis.HCC):
            self.add(day, r.ResponseIn, **fields)
        if progression < death:
            site = ("in-field", "out-of-field", "extrahepatic")[
                int(rng.choice(3, p=(0.45, 0.35, 0.2)))
            ]
            self.add(progression, r.OutcomeIn, kind="progression", site=site)
            self.after_progression(progression, death, line)
        return death

    def after_progression(self, progression: dt.date, death: dt.date, line: int) -> None:
        """Second-line systemic therapy, or for a few a repeat SIRT of another territory."""
        rng, dx = self.rng, self.dx
        day = progression + self.days(14, 35)
        u = rng.random()
        if u < 0.08 and dx in (Diagnosis.HCC, Diagnosis.CRC, Diagnosis.ICC):
            self.add(
                day,
                r.MdtDecisionIn,
                roles_present=src.ROLES[:4],
                options_considered=("sirt", "systemic", "best-supportive-care"),
                chosen="sirt",
                intent="palliative",
                line=line + 1,
                rationale="out-of-field liver progression, repeat SIRT",
            )
            tn = (float(rng.lognormal(math.log(src.TN_MEDIAN[dx]), 0.3)),)
            plan = generate_plan(
                rng,
                pseudonym=self.id,
                diagnosis=dx,
                device="sir-spheres",
                lung_shunt_fraction=0.05,
                tn_ratios=tn,
                tumour_volumes_ml=(float(rng.uniform(10, 80)),),
                labs=self.labs,
            )
            if plan.result.refused is None:
                self.sirt(day + self.days(14, 21), plan, "repeat", "sir-spheres")
        elif u < 0.6:
            self.add(
                day,
                r.MdtDecisionIn,
                roles_present=src.ROLES[:3],
                options_considered=("systemic", "best-supportive-care"),
                chosen="systemic",
                intent="palliative",
                line=line + 1,
            )
            self.add(
                day + self.days(7, 14),
                r.SessionIn,
                therapy="systemic",
                details={"agent": src.SYSTEMIC[dx][min(line, 2)], "line": line + 1},
            )

    def cut(self, death: dt.date | None) -> tuple[BaseModel, ...]:
        """The records up to the death or the last contact, death or last contact last."""
        end = min(self.until, death) if death is not None else self.until
        kept = sorted((item for item in self.items if item[0] <= end), key=lambda i: (i[0], i[1]))
        out: list[BaseModel] = []
        for _, _, rec in kept:
            resolved = getattr(rec, "resolved", None)
            if resolved is not None and resolved > end:
                rec = rec.model_copy(update={"resolved": None})
            out.append(rec)
        if death is not None and death <= self.until:
            cause = "progressive disease" if self.rng.random() < 0.85 else "liver failure"
            out.append(r.OutcomeIn(patient=self.id, date=death, kind="death", cause=cause))
        else:
            latest = kept[-1][0] if kept else self.dx_day
            contact = min(self.until, max(latest, self.until - self.days(0, 60)))
            out.append(r.OutcomeIn(patient=self.id, date=contact, kind="last-contact"))
        return tuple(out)
