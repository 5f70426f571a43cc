"""Synthetic voxel cases for re-dosimetry tests and benchmarks: never clinical data.

Each case is a small torso phantom on a cubic grid (air, soft tissue 1.04 g/mL, lungs
0.30 g/mL, liver 1.06 g/mL; densities of ICRU Report 46, 1992) with one to three spherical
tumours in the liver, whose uptake is 3 to 6 times the normal liver's, and a lung shunt of
3 to 12 %. It is written as the saved plan state of a plan from images
(:func:`opensirt.workflow.plan_state.write_plan_state`, its dose per GBq by local deposition)
and recorded as a voxel plan version whose report lies in the state's folder, exactly as
``opensirt plan CASE --out FOLDER --record`` leaves a real plan.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import yaml
from sqlalchemy.orm import Session

from opensirt.dosimetry import local_deposition_dose
from opensirt.imaging import Volume
from opensirt.physics.devices import SIR_SPHERES
from opensirt.registry import store, writer
from opensirt.registry.records import PatientIn
from opensirt.registry.vocabulary import Diagnosis, Sex
from opensirt.workflow.inputs import StructureRoles
from opensirt.workflow.measure import LungShunt, TerritoryMeasure, TumourMeasure, WorkupMeasures
from opensirt.workflow.plan_state import PLAN_STATE_FILE, write_plan_state
from opensirt.workflow.voxel import NORMAL_LIVER, DoseGrid, activity_map, normal_name

if TYPE_CHECKING:
    from opensirt.workflow.pretreatment import PreTreatmentResult

FloatArray = npt.NDArray[np.float64]

#: The territory of every synthetic case (the whole liver).
TERRITORY = "whole liver"
#: Tissue densities (g/mL), ICRU Report 46 (1992): air, soft tissue, inflated lung, liver.
_DENSITY_G_ML = {"air": 0.0012, "soft": 1.04, "lung": 0.30, "liver": 1.06}
#: Residual fraction of the synthetic plans.
_RESIDUAL = 0.02


@dataclass(frozen=True)
class SyntheticCase:
    """A synthetic voxel case written to disk: its patient, case file, state and activity."""

    pseudonym: str
    case_yaml: str
    state_path: Path
    activity_gbq: float


@dataclass(frozen=True, eq=False)
class _SavedPlan:
    """What :func:`write_plan_state` reads of a plan from images, for a phantom."""

    grid: DoseGrid
    measures: WorkupMeasures
    lung_mass_kg: float
    lung_mass_source: str
    grid_warnings: tuple[str, ...]
    dose_per_gbq: Volume


def _ellipsoid(
    coords: list[FloatArray], centre: tuple[float, ...], radii: tuple[float, ...]
) -> FloatArray:
    inside = sum(((c - m) / r) ** 2 for c, m, r in zip(coords, centre, radii, strict=True))
    return (np.asarray(inside) <= 1.0).astype(np.float64)


def _phantom(
    rng: np.random.Generator, n: int
) -> tuple[dict[str, FloatArray], FloatArray, FloatArray, tuple[str, ...]]:
    """Structure masks, density (g/mL) and emission counts of one phantom on an n^3 grid."""
    coords = list(np.meshgrid(*[np.linspace(-0.5, 0.5, n)] * 3, indexing="ij"))  # z, y, x
    body = _ellipsoid(coords[1:], (0.0, 0.0), (0.35, 0.45))
    liver = _ellipsoid(coords, (-0.08, 0.0, -0.1), (0.16, 0.22, 0.27)) * body
    lungs = np.clip(
        _ellipsoid(coords, (0.22, 0.0, -0.17), (0.2, 0.17, 0.13))
        + _ellipsoid(coords, (0.22, 0.0, 0.17), (0.2, 0.17, 0.13)),
        0.0,
        1.0,
    ) * (1.0 - liver)
    masks = {"Liver": liver, "Lungs": lungs}
    tumours = []
    emission = liver * 1.0
    for k in range(int(rng.integers(1, 4))):
        centre = (
            -0.08 + rng.uniform(-0.06, 0.06),
            rng.uniform(-0.1, 0.1),
            -0.1 + rng.uniform(-0.15, 0.15),
        )
        radius = float(rng.uniform(0.04, 0.07))
        tumour = _ellipsoid(coords, centre, (radius,) * 3) * liver
        name = f"T{k + 1}"
        masks[name] = tumour
        tumours.append(name)
        emission = emission + tumour * float(rng.uniform(2.0, 5.0))
    density = np.full(body.shape, _DENSITY_G_ML["air"])
    density[body > 0] = _DENSITY_G_ML["soft"]
    density[lungs > 0] = _DENSITY_G_ML["lung"]
    density[liver > 0] = _DENSITY_G_ML["liver"]
    emission = emission * rng.uniform(0.9, 1.1, size=emission.shape) * 1000.0
    return masks, density, emission, tuple(tumours)


def _measures(
    masks: dict[str, FloatArray],
    tumours: tuple[str, ...],
    counts: FloatArray,
    voxel_ml: float,
    lsf: float,
) -> WorkupMeasures:
    liver = masks["Liver"]
    normal = np.clip(liver - sum((masks[t] for t in tumours), np.zeros(liver.shape)), 0.0, 1.0)
    normal_ml = float(normal.sum()) * voxel_ml
    normal_per_ml = float((counts * normal).sum()) / normal_ml
    measured = []
    for t in tumours:
        volume_ml = float(masks[t].sum()) * voxel_ml
        per_ml = float((counts * masks[t]).sum()) / volume_ml
        measured.append(TumourMeasure(t, TERRITORY, volume_ml, per_ml / normal_per_ml, per_ml))
    liver_counts = float((counts * liver).sum())
    return WorkupMeasures(
        liver_volume_ml=float(liver.sum()) * voxel_ml,
        lung_volume_ml=float(masks["Lungs"].sum()) * voxel_ml,
        lung_shunt=LungShunt(lsf, lsf / (1.0 - lsf) * liver_counts, liver_counts, 20.0, 10.0),
        territories=(
            TerritoryMeasure(
                TERRITORY,
                float(liver.sum()) * voxel_ml,
                normal_ml,
                normal_per_ml,
                1.0,
                tuple(measured),
            ),
        ),
        extrahepatic=(),
    )


def _case_data(pseudonym: str, tumours: tuple[str, ...]) -> dict[str, Any]:
    return {
        "opensirt_case": 1,
        "patient": {"id": pseudonym, "height_m": 1.75, "weight_kg": 80.0},
        "device": SIR_SPHERES.name.value,
        "method": "voxel",
        "lung": {"previous_dose_gy": 0.0},
        "territories": [{"name": TERRITORY, "tumours": [{"name": t} for t in tumours]}],
        "prescription": {"tumour_dose_gy": 120.0, "residual_fraction": _RESIDUAL},
        "images": {
            "ct": "ct",
            "spect": "spect",
            "segmentation": "structures.nii.gz",
            "structures": {
                "liver": "Liver",
                "lungs": "Lungs",
                "tumours": list(tumours),
                "territories": {TERRITORY: "Liver"},
            },
        },
    }


def write_synthetic_case(
    folder: Path, pseudonym: str, *, seed: int, n: int = 64, spacing_mm: float = 6.0
) -> SyntheticCase:
    """Write one synthetic case's saved plan state in ``folder`` (see the module notes).

    Parameters
    ----------
    folder : Path
        The plan's output folder (created).
    pseudonym : str
        The patient's pseudonym, written into the case file.
    seed : int
        The seed of the phantom's random tumours, uptake and lung shunt.
    n : int, optional
        Voxels along each axis (default 64).
    spacing_mm : float, optional
        Voxel size (mm; default 6, a 384 mm field).

    Returns
    -------
    SyntheticCase
        The case file text, the state's path and the planned activity (GBq).
    """
    rng = np.random.default_rng(seed)
    masks, density, counts, tumours = _phantom(rng, n)
    lsf = float(rng.uniform(0.03, 0.12))
    spacing = (spacing_mm,) * 3
    emission = Volume(counts.astype(np.float32), spacing_mm=spacing, units="counts")
    fractions = dict(masks)
    normal = np.clip(
        masks["Liver"] - sum((masks[t] for t in tumours), np.zeros(counts.shape)), 0.0, 1.0
    )
    fractions[NORMAL_LIVER] = normal
    fractions[normal_name(TERRITORY)] = normal
    roles = StructureRoles("Liver", "Lungs", tumours, {TERRITORY: "Liver"})
    grid = DoseGrid(
        emission, emission.with_array(density.astype(np.float32), units="g/mL"), fractions, roles
    )
    per_gbq = local_deposition_dose(
        activity_map(grid, lung_shunt_fraction=lsf, activity_gbq=1.0 - _RESIDUAL),
        SIR_SPHERES.nuclide,
        density=grid.density,
        dose_constant_gy_kg_per_gbq=SIR_SPHERES.dose_constant_gy_kg_per_gbq,
    )
    measures = _measures(masks, tumours, counts, emission.voxel_volume_ml, lsf)
    lung_kg = float((masks["Lungs"] * density).sum()) * emission.voxel_volume_ml / 1000.0
    saved = _SavedPlan(grid, measures, lung_kg, "synthetic phantom", (), per_gbq)
    folder.mkdir(parents=True, exist_ok=True)
    state = write_plan_state(
        folder / PLAN_STATE_FILE,
        cast("PreTreatmentResult", saved),
        {"synthetic": True, "seed": seed},
    )
    case_yaml = yaml.safe_dump(_case_data(pseudonym, tumours), sort_keys=False)
    return SyntheticCase(pseudonym, case_yaml, state, round(float(rng.uniform(1.0, 2.5)), 3))


def record_synthetic_cases(session: Session, cases: list[SyntheticCase]) -> int:
    """Record each case as a patient with one voxel plan version whose report lies in the
    folder of its saved state, in the caller's transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    cases : list of SyntheticCase
        The cases (:func:`write_synthetic_case`).

    Returns
    -------
    int
        How many plan versions were recorded.
    """
    for case in cases:
        patient = writer.add_patient(
            session,
            PatientIn(
                patient=case.pseudonym,
                sex=Sex.FEMALE,
                birth_year=1960,
                diagnosis=Diagnosis.HCC,
                diagnosis_date=dt.date(2025, 1, 6),
            ),
        )
        store.add_plan_version(
            session,
            patient,
            TERRITORY,
            date=dt.date(2025, 2, 3),
            case_yaml=case.case_yaml,
            result_json=json.dumps({"synthetic": True}),
            method="voxel",
            device=SIR_SPHERES.name.value,
            activity_gbq=case.activity_gbq,
            limits=[],
            input_fingerprint="0" * 64,
            report_path=str(case.state_path.parent / "plan.pdf"),
            created_by="synthetic",
        )
    return len(cases)
