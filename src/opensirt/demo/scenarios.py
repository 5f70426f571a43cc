"""The synthetic patient's post-treatment scenarios: which image ``opensirt verify`` reads.

* ``y90-pet`` (the default demo): SIR-Spheres, verified with the Y-90 PET;
* ``y90-bremsstrahlung-spect``: the same Y-90 delivery, verified with a Y-90 bremsstrahlung
  SPECT (``dicom/y90_bremsstrahlung_spect/``);
* ``ho166-spect``: a QuiremSpheres (Ho-166) treatment of the same patient (60 Gy whole-liver
  activity), planned from the same MAA SPECT/CT and verified with a Ho-166 SPECT
  (``dicom/ho166_spect/``) on the planning CT.

See :mod:`opensirt.demo.posttreatment` for the image models. From the command
line: ``opensirt demo OUT --posttreatment y90-bremsstrahlung-spect`` (or ``ho166-spect``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from opensirt.workflow.defaults import PostTreatmentScenario

if TYPE_CHECKING:  # the command line imports the enum; the phantom only when it runs
    from opensirt.demo.dicom import PhantomDicomPaths
    from opensirt.demo.phantom import ScanTruth, SyntheticPatient

__all__ = ["PostTreatmentScenario", "scenario_scan", "write_scenario"]


_FOLDERS = {
    PostTreatmentScenario.Y90_BREMSSTRAHLUNG_SPECT: "y90_bremsstrahlung_spect",
    PostTreatmentScenario.HO166_SPECT: "ho166_spect",
}


def scenario_scan(patient: SyntheticPatient, scenario: PostTreatmentScenario) -> ScanTruth:
    """The post-treatment scan of ``scenario`` and its truth.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient.
    scenario : PostTreatmentScenario
        Which post-treatment image: the Y-90 PET, a Y-90 bremsstrahlung SPECT or a Ho-166
        SPECT.

    Returns
    -------
    ScanTruth
        The scan (PET in Bq/mL, SPECT in counts) and the true activity it was drawn from.
    """
    from opensirt.demo.posttreatment import bremsstrahlung_spect, holmium_spect

    if scenario is PostTreatmentScenario.Y90_PET:
        return patient.pet
    if scenario is PostTreatmentScenario.Y90_BREMSSTRAHLUNG_SPECT:
        return bremsstrahlung_spect(patient)
    return holmium_spect(patient)


def write_scenario(
    patient: SyntheticPatient,
    paths: PhantomDicomPaths,
    scenario: PostTreatmentScenario | str,
    case_path: Path,
) -> tuple[Path, ScanTruth]:
    """Write the scenario's post-treatment image (next to ``paths``) and its case file.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient.
    paths : PhantomDicomPaths
        Where its DICOM objects were written; a SPECT scenario's image goes into a folder
        beside its CT folder.
    scenario : PostTreatmentScenario | str
        ``"y90-pet"``, ``"y90-bremsstrahlung-spect"`` or ``"ho166-spect"``.
    case_path : Path
        The case file to write (YAML); image paths in it are relative to its folder.

    Returns
    -------
    tuple[Path, ScanTruth]
        The case file and the scan's truth (activity, lung shunt, T/N).

    Raises
    ------
    ValueError
        If ``scenario`` is not one of the three.
    """
    from opensirt.demo.case import (
        demo_case,
        dump_case_yaml,
        treatment_record,
        write_demo_case,
    )
    from opensirt.demo.posttreatment import write_spect
    from opensirt.physics.devices import QUIREMSPHERES

    chosen = PostTreatmentScenario(scenario)
    scan = scenario_scan(patient, chosen)
    if chosen is PostTreatmentScenario.Y90_PET:
        return write_demo_case(patient, paths, case_path), scan
    folder = paths.ct_dir.parent / _FOLDERS[chosen]
    write_spect(patient, scan, folder)
    data = demo_case(patient, paths, case_path.parent)
    data["images"]["post_treatment"] = str(folder.relative_to(case_path.parent))
    if chosen is PostTreatmentScenario.HO166_SPECT:
        data["device"] = QUIREMSPHERES.name.value
        data["treatment"] = treatment_record(scan.radiopharmaceutical, QUIREMSPHERES)
    header = (
        "# OpenSIRT case file of the synthetic demo patient (written by `opensirt demo`).\n"
        f"# Voxel planning from the MAA SPECT/CT; post-treatment scenario {chosen.value}:\n"
        f"# `opensirt verify` reads the {scan.image.metadata.get('series_description')}.\n"
    )
    case_path.write_text(dump_case_yaml(data, header))
    return case_path, scan
