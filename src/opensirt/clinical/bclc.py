"""BCLC staging of hepatocellular carcinoma, 2022 update, with the treatment it points to.

The stage follows from tumour burden, liver function and ECOG performance status
[REIG2022]_:

* **0** very early: single nodule <= 2 cm, preserved liver function, ECOG 0.
* **A** early: single nodule, or 2-3 nodules each <= 3 cm, preserved liver function, ECOG 0.
* **B** intermediate: multinodular beyond A, preserved liver function, ECOG 0.
* **C** advanced: macrovascular invasion and/or extrahepatic spread, or ECOG 1-2, with
  preserved liver function.
* **D** terminal: end-stage liver function (Child-Pugh C here) or ECOG 3-4.

"Preserved liver function" is taken as Child-Pugh class A. Child-Pugh B is neither preserved
nor end-stage: the tumour-burden stage is returned with a reason saying that the 2022 strategy
leaves such patients to expert clinical decision making. Size limits are data
(:class:`BclcCriteria`).

References
----------
.. [REIG2022] Reig M, Forner A, Rimola J et al. BCLC strategy for prognosis prediction and
   treatment recommendation: the 2022 update. J Hepatol 2022;76:681-693.
   doi:10.1016/j.jhep.2021.11.018
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opensirt.clinical.liver_function import ChildPughClass, ecog_status
from opensirt.errors import InputError, check_positive

BCLC_SOURCE = "Reig et al. 2022 J Hepatol 76:681 doi:10.1016/j.jhep.2021.11.018"


class BclcStage(StrEnum):
    """BCLC stages [REIG2022]_."""

    VERY_EARLY = "0"
    EARLY = "A"
    INTERMEDIATE = "B"
    ADVANCED = "C"
    TERMINAL = "D"


# What the 2022 strategy points to for each stage [REIG2022]_ (Fig. 1), in words.
BCLC_TREATMENT: dict[BclcStage, str] = {
    BclcStage.VERY_EARLY: (
        "ablation, or resection; liver transplantation is considered for transplant candidates"
    ),
    BclcStage.EARLY: (
        "resection, liver transplantation or ablation, by portal pressure, bilirubin and "
        "comorbidities; radioembolization is discussed for single nodules <= 8 cm when these "
        "are not feasible"
    ),
    BclcStage.INTERMEDIATE: (
        "liver transplantation if within extended criteria; chemoembolization (TACE) for "
        "well-defined nodules with preserved portal flow and selective access; systemic "
        "therapy for diffuse, infiltrative, extensive bilobar involvement"
    ),
    BclcStage.ADVANCED: (
        "systemic therapy (first line atezolizumab-bevacizumab or durvalumab-tremelimumab; "
        "sorafenib, lenvatinib or durvalumab when these are not suitable)"
    ),
    BclcStage.TERMINAL: "best supportive care (liver transplantation if a candidate)",
}


@dataclass(frozen=True)
class BclcCriteria:
    """Size and number limits of the stages [REIG2022]_."""

    very_early_max_diameter_mm: float = 20.0
    early_max_nodules: int = 3
    early_max_nodule_diameter_mm: float = 30.0
    source: str = BCLC_SOURCE


@dataclass(frozen=True)
class Bclc:
    """A BCLC stage, the treatment it points to, and the reasons, as sentences."""

    stage: BclcStage
    treatment: str
    reasons: tuple[str, ...]
    source: str = BCLC_SOURCE


def bclc_stage(
    *,
    tumour_count: int,
    largest_tumour_diameter_mm: float,
    macrovascular_invasion: bool,
    extrahepatic_spread: bool,
    child_pugh_class: ChildPughClass | str,
    ecog: int,
    criteria: BclcCriteria = BclcCriteria(),
) -> Bclc:
    """BCLC stage (2022) of a hepatocellular carcinoma [REIG2022]_.

    Parameters
    ----------
    tumour_count : int
        Number of nodules (>= 1).
    largest_tumour_diameter_mm : float
        Longest diameter of the largest nodule (mm).
    macrovascular_invasion, extrahepatic_spread : bool
        Macrovascular (e.g. portal vein) invasion; extrahepatic (nodal or distant) spread.
        Either makes stage C.
    child_pugh_class : ChildPughClass or str
        A is taken as preserved liver function, C as end-stage.
    ecog : int
        ECOG performance status 0-5.
    criteria : BclcCriteria, optional
        Size (mm) and number limits of stages 0 and A (default: those of [REIG2022]_).

    Returns
    -------
    Bclc
        The stage (0, A, B, C or D), the treatment it points to and the reasons, as
        sentences.

    Raises
    ------
    InputError
        If ``tumour_count`` is below 1, the diameter is not > 0 mm or ``ecog`` is not 0-5.
    ValueError
        If ``child_pugh_class`` is not ``"A"``, ``"B"`` or ``"C"``.

    Examples
    --------
    >>> b = bclc_stage(tumour_count=4, largest_tumour_diameter_mm=45,
    ...                macrovascular_invasion=False, extrahepatic_spread=False,
    ...                child_pugh_class="A", ecog=0)
    >>> b.stage.value
    'B'
    """
    if tumour_count < 1:
        raise InputError(f"tumour_count is {tumour_count!r}, expected at least 1 nodule")
    check_positive("largest_tumour_diameter_mm", largest_tumour_diameter_mm, "mm")
    status = ecog_status(ecog)
    liver = ChildPughClass(child_pugh_class)
    if liver is ChildPughClass.C or status >= 3:
        return _terminal(liver, int(status))
    reasons: list[str] = []
    if liver is ChildPughClass.B:
        reasons.append(
            "liver function is not preserved (Child-Pugh B): BCLC 2022 stages assume preserved "
            "liver function, so treatment is an expert clinical decision"
        )
    advanced = _advanced_reasons(macrovascular_invasion, extrahepatic_spread, int(status))
    if advanced:
        return _result(BclcStage.ADVANCED, reasons + advanced)
    stage, burden = _burden_stage(tumour_count, largest_tumour_diameter_mm, criteria)
    reasons.append(burden)
    reasons.append("ECOG 0, no macrovascular invasion, no extrahepatic spread")
    return _result(stage, reasons)


def _result(stage: BclcStage, reasons: list[str]) -> Bclc:
    return Bclc(stage=stage, treatment=BCLC_TREATMENT[stage], reasons=tuple(reasons))


def _terminal(liver: ChildPughClass, ecog: int) -> Bclc:
    reasons = []
    if liver is ChildPughClass.C:
        reasons.append("end-stage liver function (Child-Pugh C) makes stage D")
    if ecog >= 3:
        reasons.append(f"ECOG {ecog} (3-4) makes stage D")
    return _result(BclcStage.TERMINAL, reasons)


def _advanced_reasons(mvi: bool, ehs: bool, ecog: int) -> list[str]:
    reasons = []
    if mvi:
        reasons.append("macrovascular invasion makes stage C")
    if ehs:
        reasons.append("extrahepatic spread makes stage C")
    if ecog in (1, 2):
        reasons.append(f"ECOG {ecog} (cancer-related symptoms, 1-2) makes stage C")
    return reasons


def _burden_stage(count: int, largest_mm: float, c: BclcCriteria) -> tuple[BclcStage, str]:
    if count == 1 and largest_mm <= c.very_early_max_diameter_mm:
        return BclcStage.VERY_EARLY, (
            f"single nodule of {largest_mm:g} mm (<= {c.very_early_max_diameter_mm:g} mm) "
            "makes stage 0"
        )
    if count == 1:
        return BclcStage.EARLY, f"single nodule of {largest_mm:g} mm makes stage A"
    if count <= c.early_max_nodules and largest_mm <= c.early_max_nodule_diameter_mm:
        return BclcStage.EARLY, (
            f"{count} nodules, the largest {largest_mm:g} mm (<= {c.early_max_nodules} nodules "
            f"each <= {c.early_max_nodule_diameter_mm:g} mm) make stage A"
        )
    return BclcStage.INTERMEDIATE, (
        f"{count} nodules, the largest {largest_mm:g} mm (beyond {c.early_max_nodules} nodules "
        f"each <= {c.early_max_nodule_diameter_mm:g} mm) make stage B"
    )
