"""The checkerboard of the planning CT and the registered study CT shows a wrong registration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from opensirt.demo.moved import MovedStudy, moved_posttreatment
from opensirt.demo.phantom import SyntheticPatient, make_phantom
from opensirt.imaging.registration import Registration, RegistrationQuality
from opensirt.report.document import ReportFigure
from opensirt.report.registration_figure import (
    ct_edges,
    edge_agreement,
    registration_overlay_figure,
    study_ct_on_plane,
)
from opensirt.report.registration_section import registration_sections
from opensirt.report.slices import plane_grid, structure_centre_mm
from opensirt.workflow.inputs import CaseImages, StructureRoles

ROTATION_DEG = (3.0, -2.0, 4.0)
TRANSLATION_MM = (12.0, -10.0, 15.0)
SHIFT_MM = (10.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def patient() -> SyntheticPatient:
    return make_phantom(seed=1, size=0.4)


@pytest.fixture(scope="module")
def moved(patient: SyntheticPatient) -> MovedStudy:
    return moved_posttreatment(patient, rotation_deg=ROTATION_DEG, translation_mm=TRANSLATION_MM)


def _shifted(moved: MovedStudy) -> sitk.Transform:
    """The true transform followed by a 10 mm shift: a registration 10 mm off."""
    return sitk.CompositeTransform([moved.transform, sitk.TranslationTransform(3, SHIFT_MM)])


def _liver_centre(patient: SyntheticPatient) -> tuple[float, float, float]:
    return structure_centre_mm(patient.structures.get("Liver"))


def test_the_study_ct_through_the_true_transform_matches_the_planning_ct(
    patient: SyntheticPatient, moved: MovedStudy
) -> None:
    grid = plane_grid(patient.ct, "axial", _liver_centre(patient))
    planning = grid.sample(patient.ct)
    study = study_ct_on_plane(moved.ct, moved.transform, grid)
    body = planning > -500
    assert np.mean(np.abs(study - planning)[body]) < 40.0  # noise and partial volume only
    wrong = study_ct_on_plane(moved.ct, _shifted(moved), grid)
    assert np.mean(np.abs(wrong - planning)[body]) > 2 * np.mean(np.abs(study - planning)[body])


def test_a_shifted_registration_breaks_the_edges(
    patient: SyntheticPatient, moved: MovedStudy
) -> None:
    centre = _liver_centre(patient)
    right, matched = registration_overlay_figure(
        patient.ct, moved.ct, moved.transform, position_mm=centre
    )
    _, off = registration_overlay_figure(patient.ct, moved.ct, _shifted(moved), position_mm=centre)
    assert min(matched) > 0.85
    assert all(o < m - 0.15 for o, m in zip(off, matched, strict=True))
    titles = [ax.get_title() for ax in right.axes]
    assert titles[0].startswith("Axial, z = ")
    assert titles[0].endswith(f"edges matched {matched[0]:.0%}")
    assert [t.split(",")[0] for t in titles] == ["Axial", "Coronal", "Sagittal"]
    assert all(len(ax.collections) >= 1 for ax in right.axes)  # the planning CT's edge lines


def test_edges_and_their_agreement() -> None:
    step = np.where(np.arange(40) < 20, -1000.0, 40.0)[None, :].repeat(30, axis=0)
    assert ct_edges(step, 1.0)[:, 18:22].all()
    assert not ct_edges(step, 1.0)[:, :15].any()
    assert edge_agreement(step, step, 1.0) == 1.0
    assert edge_agreement(step, np.roll(step, 1, axis=1), 1.0) == 1.0  # within 2 mm
    assert edge_agreement(step, np.roll(step, 8, axis=1), 1.0) == 0.0
    assert np.isnan(edge_agreement(np.zeros((5, 5)), step[:5, :5], 1.0))


def test_registration_section_ends_with_the_checkerboard(
    patient: SyntheticPatient, moved: MovedStudy
) -> None:
    registration = Registration(
        method="rigid",
        source="computed",
        matrix=((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0, 0, 0, 1.0)),
        rotation_deg=ROTATION_DEG,
        translation_mm=TRANSLATION_MM,
        metric=-0.61,
        iterations=90,
        stop_condition="step too small",
        quality=RegistrationQuality(0.41, 0.97, 1.0, 5.4),
        margin_mm=25.0,
        transform=moved.transform,
    )
    roles = StructureRoles("Liver", "Lungs", ("T1", "T2", "T3"), {"whole": "Liver"})
    images = CaseImages(
        patient.ct,
        patient.pet.image,
        patient.structures,
        roles,
        {"ct": Path("ct")},
        registration=registration,
        study_ct=moved.ct,
    )
    (section,) = registration_sections(registration, "post-treatment image", images)
    figure = section.blocks[-1]
    assert isinstance(figure, ReportFigure)
    caption = figure.caption
    assert "alternating 20 mm tiles" in caption
    assert "final Mattes mutual information -0.6100" in caption
    assert "quality check passed: CT correlation in the liver region 0.970" in caption
    assert len(figure.build().axes) == 3
    without_ct = CaseImages(
        patient.ct, patient.pet.image, patient.structures, roles, {"ct": Path("ct")}
    )
    (section,) = registration_sections(registration, "SPECT", without_ct)
    assert isinstance(section.blocks[-1], str)
    assert section.blocks[-1].startswith("No checkerboard of the two CTs")
