"""The case file of the synthetic patient, written next to its DICOM.

The demo case is a voxel plan for SIR-Spheres of the synthetic patient's two lobes (volumes,
T/N ratios and lung shunt left to the images, which measure them), with the
treatment record of its simulated Y-90 delivery: the vial assayed one hour before the
injection, 2 % of it left as residual, so that the delivered activity equals the phantom's.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from opensirt.demo.dicom import PhantomDicomPaths
from opensirt.demo.phantom import SyntheticPatient
from opensirt.imaging.dicom_write import Radiopharmaceutical
from opensirt.physics.decay import decay_factor
from opensirt.physics.devices import SIR_SPHERES, Device
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD, DoseMethod

#: Residual fraction of the simulated delivery (vial, tubing and catheter).
DEMO_RESIDUAL_FRACTION = 0.02

_TERRITORY_NAMES = {"RightLobe": "right lobe", "LeftLobe": "left lobe"}


def _territories(patient: SyntheticPatient) -> list[dict[str, Any]]:
    """Territories and their tumours by name: the volumes and T/N come from the images."""
    out = []
    for structure in patient.territories:
        tumours = [{"name": t.name} for t in patient.tumours if t.territory == structure]
        out.append(
            {
                "name": _TERRITORY_NAMES.get(structure, structure),
                **({"tumours": tumours} if tumours else {}),
            }
        )
    return out


def treatment_record(pharma: Radiopharmaceutical, device: Device) -> dict[str, Any]:
    """The ``treatment:`` section of a simulated delivery of ``pharma`` with ``device``: vial
    assayed 1 h before the injection, residual (:data:`DEMO_RESIDUAL_FRACTION`) 1 h after,
    so that the delivered activity is the administered one.

    Parameters
    ----------
    pharma : Radiopharmaceutical
        The simulated administration: its time (time-zone aware) and administered
        activity (MBq), taken as the delivered activity.
    device : Device
        The microsphere device; its nuclide and half-life (h) decay the vial and residual
        assays to their measurement times.

    Returns
    -------
    dict[str, Any]
        ``injection`` (datetime), ``vial_activity_gbq`` (GBq at ``vial_measured``, 1 h
        before), ``residual_activity_gbq`` (GBq at ``residual_measured``, 1 h after), both
        rounded to 0.1 MBq.
    """
    injection = pharma.administration_datetime
    delivered_gbq = pharma.administered_activity_mbq / 1000.0
    at_injection_gbq = delivered_gbq / (1.0 - DEMO_RESIDUAL_FRACTION)
    residual_gbq = at_injection_gbq - delivered_gbq
    half_life_h = device.half_life_h
    return {
        "injection": injection,
        "vial_activity_gbq": round(
            at_injection_gbq / decay_factor(device.nuclide, 1.0, half_life_h=half_life_h), 4
        ),
        "vial_measured": injection - timedelta(hours=1),
        "residual_activity_gbq": round(
            residual_gbq * decay_factor(device.nuclide, 1.0, half_life_h=half_life_h), 4
        ),
        "residual_measured": injection + timedelta(hours=1),
    }


def demo_case(
    patient: SyntheticPatient, paths: PhantomDicomPaths, case_dir: Path
) -> dict[str, Any]:
    """The case-file mapping of the synthetic patient (image paths relative to ``case_dir``).

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient (tumours, territories, post-treatment PET).
    paths : PhantomDicomPaths
        Where its DICOM objects were written (:func:`write_phantom_dicom`); they must lie
        under ``case_dir``.
    case_dir : Path
        Folder of the case file; image paths are written relative to it.

    Returns
    -------
    dict[str, Any]
        The case file as plain data (labs, clinical findings, SIR-Spheres voxel plan with a
        120 Gy tumour prescription, images and treatment record), ready for
        :func:`dump_case_yaml`.

    Raises
    ------
    ValueError
        If a path of ``paths`` is not under ``case_dir``.
    """
    territories = _territories(patient)
    largest = max(patient.tumours, key=lambda t: t.diameter_mm)

    def rel(path: Path) -> str:
        return str(path.relative_to(case_dir))

    return {
        "opensirt_case": 1,
        "patient": {
            "id": patient.patient_id,
            "height_m": 1.75,
            "weight_kg": 80.0,
            "labs": {
                "bilirubin_umol_l": 14.0,
                "albumin_g_l": 40.0,
                "inr": 1.1,
                "creatinine_umol_l": 80.0,
                "sodium_mmol_l": 139.0,
            },
        },
        "clinical": {
            "ecog": 0,
            "ascites": "none",
            "encephalopathy_grade": 0,
            "diagnosis": "hcc",
            "cirrhosis": True,
            "tumour_count": len(patient.tumours),
            "largest_tumour_diameter_mm": largest.diameter_mm,
            "macrovascular_invasion": False,
            "extrahepatic_spread": False,
            "treatment_extent": "lobar",
        },
        "device": SIR_SPHERES.name.value,
        "method": "voxel",
        "lung": {"previous_dose_gy": 0.0},
        "liver": {"density_g_ml": 1.03},
        "territories": territories,
        "prescription": {"tumour_dose_gy": 120.0, "residual_fraction": DEMO_RESIDUAL_FRACTION},
        "schedule": {"treatment": patient.pet.radiopharmaceutical.administration_datetime},
        "images": {
            "ct": rel(paths.ct_dir),
            "spect": rel(paths.spect_file.parent),
            "segmentation": rel(paths.rtstruct_file),
            "structures": {
                "liver": "Liver",
                "lungs": "Lungs",
                "tumours": [t.name for t in patient.tumours],
                "territories": {_TERRITORY_NAMES.get(s, s): s for s in patient.territories},
            },
            "post_treatment": rel(paths.pet_dir),
        },
        "treatment": treatment_record(patient.pet.radiopharmaceutical, SIR_SPHERES),
    }


class _PlainDumper(yaml.SafeDumper):
    """A YAML dumper that writes every value in full: no anchors (``&id001``) and aliases
    (``*id001``) for objects that occur twice, such as the injection time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_case_yaml(data: dict[str, Any], header: str) -> str:
    """The case-file text: ``header`` (comment lines) and ``data`` in block YAML, keys in
    their order, without anchors or aliases (a reader edits one value in one place).

    Parameters
    ----------
    data : dict[str, Any]
        The case file as plain data (:func:`demo_case`).
    header : str
        Comment lines (each starting with ``#`` and ending with a newline) put before the
        data; ``""`` for none.

    Returns
    -------
    str
        The YAML text.
    """
    text = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)
    return header + text


def write_demo_case(patient: SyntheticPatient, paths: PhantomDicomPaths, path: Path) -> Path:
    """Write the demo case file (YAML) at ``path``.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient.
    paths : PhantomDicomPaths
        Where its DICOM objects were written, under the folder of ``path``.
    path : Path
        The case file to write (its folder must exist).

    Returns
    -------
    Path
        ``path``.
    """
    data = demo_case(patient, paths, path.parent)
    header = (
        "# OpenSIRT case file of the synthetic demo patient (written by `opensirt demo`).\n"
        "# Voxel planning from the MAA SPECT/CT (volumes, T/N and lung shunt measured from\n"
        "# the images, not typed), and the treatment record of the simulated\n"
        "# Y-90 delivery for `opensirt verify`.\n"
        "# The voxel dose method is the default "
        f"({DEFAULT_DOSE_METHOD.value}); choose another with\n"
        "#   dosimetry:\n"
        f"#     method: {DEFAULT_DOSE_METHOD.value}   # {', '.join(DoseMethod)}\n"
    )
    path.write_text(dump_case_yaml(data, header))
    return path
