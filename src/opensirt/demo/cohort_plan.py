"""The SIRT plan of a synthetic patient, made by the planning code from a generated case.

Each plan is a real case file (typed volumes, no images) planned by
:func:`opensirt.planning.plan_case` with the closed-form methods (BSA and partition for
SIR-Spheres, MIRD for TheraSphere), so activities and doses are what OpenSIRT would compute
for such a patient; a plan that no activity makes safe comes back refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from opensirt.planning import Case, PlanResult, plan_case
from opensirt.registry.recording import mean_tumour_dose_gy
from opensirt.registry.vocabulary import Diagnosis

#: Liver segments and lobes a synthetic treatment may target: (name, share of the liver).
_TERRITORIES: tuple[tuple[str, float], ...] = (
    ("right lobe", 0.62),
    ("left lobe", 0.33),
    ("segment 8", 0.12),
)


@dataclass(frozen=True)
class SyntheticPlan:
    """A planned case: its case-file text, its result and the figures the registry keeps.

    Attributes
    ----------
    case_yaml : str
        The case file (YAML).
    result : PlanResult
        What :func:`opensirt.planning.plan_case` returned (may be refused).
    result_json : str
        ``result.to_dict()`` as JSON.
    fingerprint : str
        SHA-256 (hex) of the case-file text.
    territory : str
        The treated territory (or ``"whole liver"`` for a bilobar treatment).
    tumour_dose_gy : float or None
        Volume-weighted mean tumour dose (Gy) of the plan.
    """

    case_yaml: str
    result: PlanResult
    result_json: str
    fingerprint: str
    territory: str
    tumour_dose_gy: float | None


def generate_plan(
    rng: np.random.Generator,
    *,
    pseudonym: str,
    diagnosis: Diagnosis,
    device: str,
    lung_shunt_fraction: float,
    tn_ratios: tuple[float, ...],
    tumour_volumes_ml: tuple[float, ...],
    labs: dict[str, float],
) -> SyntheticPlan:
    """Make and plan the case of one synthetic SIRT.

    Parameters
    ----------
    rng : numpy.random.Generator
        The patient's seeded generator.
    pseudonym : str
        The patient's id, written as ``patient.id`` of the case.
    diagnosis : Diagnosis
        Decides the extent (segmental treatments only for HCC).
    device : str
        ``sir-spheres`` (planned by BSA or partition) or ``therasphere`` (MIRD).
    lung_shunt_fraction : float
        The MAA lung shunt fraction (0-1).
    tn_ratios : tuple of float
        The MAA tumour-to-normal ratio of each tumour.
    tumour_volumes_ml : tuple of float
        The volume (mL) of each tumour.
    labs : dict
        The case file's ``patient.labs`` keys (umol/L, g/L, INR).

    Returns
    -------
    SyntheticPlan
        The case, its result and the figures for the plan version.
    """
    liver_ml = float(np.clip(rng.normal(1700.0, 300.0), 1000.0, 2800.0))
    tumours_ml = sum(tumour_volumes_ml)
    segmental = diagnosis is Diagnosis.HCC and tumours_ml < 120 and rng.random() < 0.35
    bilobar = not segmental and len(tumour_volumes_ml) > 1 and rng.random() < 0.5
    names = ["segment 8"] if segmental else ["right lobe", "left lobe"] if bilobar else []
    if not names:
        names = ["right lobe" if rng.random() < 0.75 else "left lobe"]
    share = dict(_TERRITORIES)
    territories: list[dict[str, Any]] = []
    for k, name in enumerate(names):
        own = tumour_volumes_ml[k :: len(names)]
        tn = tn_ratios[k :: len(names)]
        volume = max(liver_ml * share[name], sum(own) / 0.6)
        territories.append(
            {
                "name": name,
                "volume_ml": round(volume, 1),
                "tumours": [
                    {"name": f"T{k + 1}{j + 1}", "volume_ml": round(v, 1), "tn_ratio": round(r, 2)}
                    for j, (v, r) in enumerate(zip(own, tn, strict=True))
                ],
            }
        )
    liver_ml = max(liver_ml, sum(t["volume_ml"] for t in territories) + 50.0)
    if device == "therasphere":
        method, prescription = "mird", {"residual_fraction": 0.02}
    elif rng.random() < 0.6:
        method, prescription = "bsa", {"residual_fraction": 0.04}
    else:
        method = "partition"
        prescription = {"tumour_dose_gy": 120.0, "normal_liver_max_gy": 40.0}
        prescription["residual_fraction"] = 0.04
    case: dict[str, Any] = {
        "opensirt_case": 1,
        "patient": {
            "id": pseudonym,
            "height_m": round(float(np.clip(rng.normal(1.70, 0.09), 1.45, 2.0)), 2),
            "weight_kg": round(float(np.clip(rng.normal(76.0, 14.0), 42.0, 150.0)), 1),
            "labs": labs,
        },
        "device": device,
        "method": method,
        "lung": {"shunt_fraction": round(lung_shunt_fraction, 4)},
        "liver": {"volume_ml": round(liver_ml, 1)},
        "territories": territories,
        "prescription": prescription,
    }
    text = _yaml(case)
    result = plan_case(Case.model_validate(case))
    volumes = {t["name"]: t["volume_ml"] for terr in territories for t in terr["tumours"]}
    tumour_dose = mean_tumour_dose_gy(result.tumours_gy, volumes)
    return SyntheticPlan(
        case_yaml=text,
        result=result,
        result_json=json.dumps(result.to_dict()),
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        territory="whole liver" if bilobar else names[0],
        tumour_dose_gy=tumour_dose,
    )


def _yaml(value: Any, indent: str = "") -> str:
    """Block-style YAML of nested mappings and lists of scalars (strings double-quoted).

    PyYAML's representer took most of a synthetic patient's time; this covers the case
    file's plain structure only.

    >>> print(_yaml({"a": 1, "b": [{"c": "x y", "d": 0.5}]}), end="")
    a: 1
    b:
      - c: "x y"
        d: 0.5
    """
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                lines.append(f"{indent}{key}:\n{_yaml(item, indent + '  ')}")
            else:
                lines.append(f"{indent}{key}: {json.dumps(item)}\n")
    else:
        for item in value:
            text = _yaml(item, indent + "  ")
            lines.append(f"{indent}- {text[len(indent) + 2 :]}")
    return "".join(lines)
