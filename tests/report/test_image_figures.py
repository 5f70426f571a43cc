"""The images the numbers come from: fused emission, lung base, flagged structures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from opensirt.errors import GeometryError, InputError
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume
from opensirt.planning import load_case
from opensirt.report.document import ReportFigure
from opensirt.report.fused import emission_label, emission_overlay_figure
from opensirt.report.image_figures import (
    LUNG_BASE_FRACTION,
    MAX_TUMOUR_FIGURES,
    emission_blocks,
    flagged_dose_blocks,
    lung_base_position_mm,
    shown_tumours,
)
from opensirt.report.verification_report import build_verification_document
from opensirt.workflow.inputs import CaseImages, StructureRoles
from opensirt.workflow.posttreatment import VerificationResult, verify_case
from opensirt.workflow.pretreatment import plan_from_images
from opensirt.workflow.voxel import NORMAL_LIVER, DoseGrid

CREATED = datetime(2026, 12, 1, tzinfo=UTC)
SPHERE_MM = np.array([-14.0, 9.0, 6.0])  # patient right of the centre, anterior, superior
SPHERE_RADIUS_MM = 8.0


def _positions(grid: Volume) -> npt.NDArray[np.float64]:
    k, j, i = np.indices(grid.shape)
    return grid.index_to_physical(np.stack([i, j, k], axis=-1).astype(float))


def _sphere(grid: Volume, centre: npt.ArrayLike, radius_mm: float) -> npt.NDArray[np.bool_]:
    inside: npt.NDArray[np.bool_] = (
        np.linalg.norm(_positions(grid) - np.asarray(centre), axis=-1) <= radius_mm
    )
    return inside


def _ct() -> Volume:
    """60 x 50 x 40 mm of 1 x 1 x 2 mm voxels centred on the origin, in frame F."""
    return Volume(
        np.full((20, 50, 60), 40.0, np.float32),
        (1.0, 1.0, 2.0),
        (-29.5, -24.5, -19.0),
        frame_of_reference_uid="F",
        units="HU",
    )


def _spect() -> Volume:
    """A hot sphere on a coarser grid (4.4 mm voxels) offset from the CT's, in counts."""
    grid = Volume(
        np.zeros((11, 13, 16), np.float32),
        (4.4, 4.4, 4.4),
        (-33.0, -27.0, -22.0),
        frame_of_reference_uid="F",
        units="counts",
    )
    return grid.with_array(100.0 * _sphere(grid, SPHERE_MM, SPHERE_RADIUS_MM) + 1.0)


def _wash_centre_mm(ax: Axes) -> tuple[float, float]:
    """Display coordinates (a, b) in mm of the centroid of the shown (unmasked) wash pixels."""
    image = ax.images[1]
    data = image.get_array()
    assert data is not None
    shown = ~np.ma.getmaskarray(data)
    rows, cols = np.nonzero(shown)
    left, right, bottom, top = image.get_extent()
    a = left + (cols.mean() + 0.5) * (right - left) / data.shape[1]
    b = top + (rows.mean() + 0.5) * (bottom - top) / data.shape[0]
    return a, b


def test_a_hot_sphere_on_a_coarser_spect_grid_appears_where_it_is() -> None:
    figure = emission_overlay_figure(_ct(), _spect(), modality="SPECT", position_mm=SPHERE_MM)
    axial, coronal, sagittal = figure.axes[:3]
    x, y, z = SPHERE_MM
    assert axial.get_title() == f"Axial, z = {z:.1f} mm"
    tolerance = 1.5  # mm: a third of a SPECT voxel
    assert _wash_centre_mm(axial) == pytest.approx((x, y), abs=tolerance)
    assert _wash_centre_mm(coronal) == pytest.approx((x, -z), abs=tolerance)  # rows: head down
    assert _wash_centre_mm(sagittal) == pytest.approx((y, -z), abs=tolerance)
    colour_bar = figure.axes[3]
    assert colour_bar.get_ylabel() == "SPECT (counts per voxel)"
    # the 1-count background is below the threshold (5 % of 101): transparent
    data = axial.images[1].get_array()
    assert data is not None
    shown = ~np.ma.getmaskarray(data)
    assert 0 < shown.mean() < 0.2


def test_pet_in_bq_per_ml_is_shown_in_mbq_per_ml() -> None:
    spect = _spect()
    pet = spect.with_array(np.asarray(spect.array) * 3.0e4, units="Bq/mL")
    assert emission_label(pet, "Y-90 PET") == "Y-90 PET (MBq/mL)"
    figure = emission_overlay_figure(_ct(), pet, modality="Y-90 PET", position_mm=SPHERE_MM)
    assert figure.axes[1].images[1].get_clim()[1] == pytest.approx(3.03)


def test_emission_in_another_frame_or_empty_is_refused() -> None:
    spect = _spect()
    other = Volume(np.asarray(spect.array), (4.4,) * 3, frame_of_reference_uid="G")
    with pytest.raises(GeometryError):
        emission_overlay_figure(_ct(), other, modality="SPECT", position_mm=SPHERE_MM)
    with pytest.raises(InputError, match=r"maximum is 0\.0"):
        emission_overlay_figure(
            _ct(), spect.with_array(np.zeros(spect.shape)), modality="SPECT", position_mm=(0, 0, 0)
        )


def test_lung_base_is_the_plane_below_which_five_percent_of_the_lung_lies() -> None:
    grid = Volume(np.zeros((40, 10, 20), bool), (2.0, 2.0, 2.5), (-19.0, 0.0, 0.0))
    lungs = np.zeros(grid.shape, bool)
    lungs[10:40, 2:8, 1:8] = True  # right lung (x < 0): 30 slices from z = 25 mm
    lungs[12:40, 2:8, 12:19] = True  # left lung starts higher
    lungs[0, 0, 0] = True  # a stray voxel far below: must not set the base
    volume = grid.with_array(lungs)
    x, y, z = lung_base_position_mm(volume)
    z_of_voxels = np.sort(np.nonzero(lungs)[0] * 2.5)
    expected_z = z_of_voxels[int(np.ceil(LUNG_BASE_FRACTION * z_of_voxels.size)) - 1]
    assert z == pytest.approx(expected_z)
    below = np.count_nonzero(z_of_voxels < z) / z_of_voxels.size
    assert below < LUNG_BASE_FRACTION <= np.count_nonzero(z_of_voxels <= z) / z_of_voxels.size
    assert 25.0 <= z < 40.0  # in the lowest lung slices, not at the stray voxel (z = 0)
    assert x < 0  # the right lung
    assert y == pytest.approx(9.0)
    with pytest.raises(InputError, match="lung structure is empty"):
        lung_base_position_mm(grid)


def _case_images() -> tuple[CaseImages, DoseGrid, Volume]:
    ct = _ct()
    tumours = {"T1": ((-14.0, 9.0, 6.0), 6.0), "T2": ((12.0, -8.0, -6.0), 4.0)}
    masks = {name: ct.with_array(_sphere(ct, c, r)) for name, (c, r) in tumours.items()}
    masks["Liver"] = ct.with_array(_sphere(ct, (0.0, 0.0, 0.0), 22.0))
    lungs = np.zeros(ct.shape, bool)
    lungs[14:, 10:40, 5:25] = True
    lungs[14:, 10:40, 35:55] = True
    masks["Lungs"] = ct.with_array(lungs)
    segmentation = Segmentation(ct, masks, "memory")
    roles = StructureRoles("Liver", "Lungs", ("T1", "T2"), {"whole": "Liver"})
    spect = _spect()
    images = CaseImages(ct, spect, segmentation, roles, {"ct": Path("ct")})
    liver = segmentation.fractions_on(spect, ["Liver"])["Liver"]
    normal = np.asarray(liver.array, dtype=np.float64)
    grid = DoseGrid(spect, spect, {NORMAL_LIVER: normal}, roles)
    dose = spect.with_array(np.asarray(spect.array) * 0.5, units="Gy")
    return images, grid, dose


def _figures(blocks: list[object]) -> list[ReportFigure]:
    return [b for b in blocks if isinstance(b, ReportFigure)]


def test_only_the_flagged_structures_get_dose_slices() -> None:
    images, grid, dose = _case_images()
    blocks = flagged_dose_blocks(images, grid, dose, ("T2", NORMAL_LIVER))
    assert "flagged structure" in str(blocks[0])
    assert "T2, Normal liver" in str(blocks[0])
    figures = _figures(blocks)
    assert [f.caption.split(" (")[0] for f in figures] == [
        "Delivered dose through the centre of T2",
        f"Delivered dose through the centre of {NORMAL_LIVER}",
    ]
    assert not any("T1" in f.caption for f in figures)
    figure = figures[0].build()
    assert [ax.get_title() for ax in figure.axes[:3]] == [
        "Axial, z = -6.0 mm",
        "Coronal, y = -8.0 mm",
        "Sagittal, x = 12.0 mm",
    ]
    # the derived normal liver is outlined too, beside the drawn structures
    legend = [t.get_text() for t in figures[1].build().legends[0].get_texts()]
    assert NORMAL_LIVER in legend
    assert "T1" in legend


def test_flagged_lungs_are_cut_through_the_lung_base() -> None:
    images, grid, dose = _case_images()
    (figure,) = _figures(flagged_dose_blocks(images, grid, dose, ("Lungs",)))
    base = lung_base_position_mm(images.segmentation.get("Lungs"))
    assert figure.caption.startswith("Delivered dose through the lung base (Lungs, flagged)")
    assert figure.build().axes[0].get_title() == f"Axial, z = {base[2]:.1f} mm"


def test_nothing_flagged_says_so_and_shows_the_tumours() -> None:
    images, grid, dose = _case_images()
    blocks = flagged_dose_blocks(images, grid, dose, ())
    assert str(blocks[0]).startswith("No structure is flagged")
    captions = [f.caption for f in _figures(blocks)]
    assert [c.split(" (")[0] for c in captions] == [
        "Delivered dose through the centre of T1",
        "Delivered dose through the centre of T2",
    ]
    assert all("not flagged" in c for c in captions)


def test_emission_blocks_show_each_tumour_and_the_lung_base() -> None:
    images, _, _ = _case_images()
    blocks = emission_blocks(images, "work-up image")
    figures = _figures(blocks)
    assert [f.caption.split(",")[0] for f in figures] == [
        "The work-up image through the centre of T1",
        "The work-up image through the centre of T2",
        "The work-up image through the lung base: the axial plane z = 9 mm below which 5% of "
        "the lung voxels lie",
    ]
    assert all("emission (counts per voxel)" in f.caption for f in figures)
    figure: Figure = figures[0].build()
    assert len(figure.axes) == 4  # three planes and the colour bar
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Liver", "Lungs", "T1", "T2"]


def test_at_most_three_tumours_have_a_figure_the_rest_are_named() -> None:
    images, _, _ = _case_images()
    ct = images.ct
    extra = {
        f"T{i}": ct.with_array(_sphere(ct, (-20.0 + 8 * i, 15.0, -10.0), 1.0 + i))
        for i in range(3, 6)
    }
    segmentation = images.segmentation.with_structures(extra)
    roles = StructureRoles("Liver", "Lungs", ("T1", "T2", *extra), {"whole": "Liver"})
    many = CaseImages(ct, images.emission, segmentation, roles, images.sources)
    shown, rest = shown_tumours(many)
    assert len(shown) == MAX_TUMOUR_FIGURES
    assert shown[0] == "T1"  # the largest first
    assert set(shown) | set(rest) == set(roles.tumours)
    blocks = emission_blocks(many, "work-up image")
    assert any(isinstance(b, str) and ", ".join(rest) in b for b in blocks)


@pytest.fixture(scope="module")
def verified(small_study: Path) -> VerificationResult:
    case = load_case(small_study / "case.yaml")
    return verify_case(case, pre=plan_from_images(case))


def _without_limit_flags(result: VerificationResult, flagged: set[str]) -> VerificationResult:
    """``result`` with only ``flagged`` beyond tolerance and no limit exceeded."""
    plan = replace(result.pre.prescribed, limits=())
    return replace(
        result,
        pre=replace(result.pre, prescribed=plan),
        comparisons=tuple(replace(c, flagged=c.name in flagged) for c in result.comparisons),
        lung_dose_gy=result.predicted_lung_dose_gy,
    )


def test_flagged_structures_follow_the_comparisons_and_the_limits(
    verified: VerificationResult,
) -> None:
    limits = {c.name: c.limit_gy for c in verified.pre.prescribed.limits}
    expected = [c.name for c in verified.comparisons if c.flagged]
    lung_limit = limits["lung_max_gy"]
    assert lung_limit is not None
    if verified.lung_dose_gy > lung_limit:
        expected.append("Lungs")
    liver_limit = limits["normal_liver_max_gy"]
    assert liver_limit is not None
    if verified.dvhs[NORMAL_LIVER].mean_gy > liver_limit:
        expected.append(NORMAL_LIVER)
    assert set(verified.flagged_structures) == set(expected)
    assert _without_limit_flags(verified, set()).flagged_structures == ()
    assert _without_limit_flags(verified, {"T3"}).flagged_structures == ("T3",)
    over = replace(_without_limit_flags(verified, set()), pre=verified.pre)
    over = replace(over, lung_dose_gy=lung_limit + 1.0, predicted_lung_dose_gy=lung_limit + 1.0)
    assert "Lungs" in over.flagged_structures  # above the lung limit, even as predicted


def test_verification_report_cuts_through_the_flagged_structure_only(
    verified: VerificationResult,
) -> None:
    only_t3 = _without_limit_flags(verified, {"T3"})
    document = build_verification_document(only_t3, created=CREATED, provenance=None)
    section = next(s for s in document.sections if s.title == "Delivered voxel dose")
    captions = [b.caption for b in section.blocks if isinstance(b, ReportFigure)]
    assert len(captions) == 1
    assert captions[0].startswith("Delivered dose through the centre of T3 (T3, flagged)")
    nothing = _without_limit_flags(verified, set())
    document = build_verification_document(nothing, created=CREATED, provenance=None)
    section = next(s for s in document.sections if s.title == "Delivered voxel dose")
    assert any(
        isinstance(b, str) and b.startswith("No structure is flagged") for b in section.blocks
    )
