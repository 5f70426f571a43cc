"""Slice overlays (geometry, orientation) and the charts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from opensirt.errors import GeometryError, InputError
from opensirt.imaging.volume import Volume
from opensirt.report.figures import (
    DoseComparison,
    DoseMarker,
    DvhCurve,
    activity_methods_figure,
    dvh_figure,
    predicted_vs_delivered_figure,
    slice_overlay_figure,
)
from opensirt.report.slices import orientation_letter, plane_grid, structure_centre_mm

HOT_SPOT_MM = np.array([22.0, 9.0, 26.0])  # patient left (x > centre 13 mm), anterior, superior
FLIP_X = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def gaussian_dose(grid: Volume, centre_mm: npt.ArrayLike = HOT_SPOT_MM) -> Volume:
    """100 Gy peak, 3 mm sigma, defined in patient coordinates so any grid holds the same map."""
    k, j, i = np.indices(grid.shape)
    points = grid.index_to_physical(np.stack([i, j, k], axis=-1).astype(float))
    r2 = np.sum((points - np.asarray(centre_mm)) ** 2, axis=-1)
    return grid.with_array(100.0 * np.exp(-r2 / (2 * 3.0**2)), units="Gy")


def peak_mm(ax: Axes) -> tuple[float, float]:
    """Display coordinates (a, b) in mm of the dose image's brightest pixel."""
    image: AxesImage = ax.images[1]
    data = np.ma.filled(image.get_array(), 0.0)
    row, col = np.unravel_index(int(np.argmax(data)), data.shape)
    left, right, bottom, top = image.get_extent()
    a = left + (col + 0.5) * (right - left) / data.shape[1]
    b = top + (row + 0.5) * (bottom - top) / data.shape[0]
    return a, b


def edge_letters(ax: Axes) -> dict[str, str]:
    where = {}
    for text in ax.texts:
        x, y = text.get_position()
        if text.get_text() in "RLAPSI" and len(text.get_text()) == 1:
            side = "left" if x < 0.1 else "right" if x > 0.9 else "top" if y > 0.9 else "bottom"
            where[side] = text.get_text()
    return where


def test_orientation_letters_follow_lps() -> None:
    assert [orientation_letter(v) for v in ((-1, 0, 0), (0, 1, 0), (0, 0, 1))] == ["R", "P", "S"]


@pytest.mark.parametrize(
    ("direction", "origin"), [(None, (0.0, 0.0, 0.0)), (FLIP_X, (26.0, 0.0, 0.0))]
)
def test_patient_left_is_image_right_whatever_the_index_order(
    make_volume: Callable[..., Volume],
    direction: tuple[float, ...] | None,
    origin: tuple[float, float, float],
) -> None:
    # Grid: 14 x 12 x 10 voxels of 2 x 3 x 4 mm; x spans [-1, 27] mm either way (flipped:
    # x = 26 - 2 i).
    kwargs = {"origin_mm": origin} | ({"direction": direction} if direction else {})
    ct = make_volume(**kwargs)
    figure = slice_overlay_figure(ct, dose=gaussian_dose(ct))
    axial, coronal = figure.axes[:2]
    a, b = peak_mm(axial)
    assert a == pytest.approx(22.0, abs=2.0)
    assert a > 13.0
    assert b == pytest.approx(9.0, abs=2.0)  # y = 9 mm: anterior half, upper part of the image
    assert axial.images[1].get_extent()[3] < axial.images[1].get_extent()[2]  # anterior on top
    a, b = peak_mm(coronal)
    assert a == pytest.approx(22.0, abs=2.0)
    assert -b == pytest.approx(26.0, abs=2.5)  # rows run head to foot: b = -z
    assert edge_letters(axial) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert edge_letters(coronal) == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


def test_extent_and_aspect_come_from_the_spacing(make_volume: Callable[..., Volume]) -> None:
    ct = make_volume()  # 14 x 12 x 10 voxels of 2 x 3 x 4 mm: 28 x 36 x 40 mm
    figure = slice_overlay_figure(ct, planes=("axial", "coronal", "sagittal"))
    axial, coronal, sagittal = figure.axes[:3]
    left, right, bottom, top = axial.images[0].get_extent()
    assert (right - left, bottom - top) == pytest.approx((28.0, 36.0))
    left, right, bottom, top = coronal.images[0].get_extent()
    assert (right - left, bottom - top) == pytest.approx((28.0, 40.0))
    left, right, bottom, top = sagittal.images[0].get_extent()
    assert (right - left, bottom - top) == pytest.approx((36.0, 40.0))
    assert all(ax.get_aspect() == 1.0 for ax in (axial, coronal, sagittal))
    assert edge_letters(sagittal) == {"left": "A", "right": "P", "top": "S", "bottom": "I"}


def test_dose_on_another_grid_is_placed_by_patient_position(
    make_volume: Callable[..., Volume],
) -> None:
    ct = make_volume()
    coarse = Volume(np.zeros((12, 10, 9)), (3.5, 4.5, 4.0), (-3.0, -4.0, -2.0))
    figure = slice_overlay_figure(ct, dose=gaussian_dose(coarse), position_mm=HOT_SPOT_MM)
    assert figure.axes[0].get_title() == "Axial, z = 26.0 mm"
    assert peak_mm(figure.axes[0]) == pytest.approx((22.0, 9.0), abs=2.5)


def test_slices_cross_at_the_structure_centroid(make_volume: Callable[..., Volume]) -> None:
    ct = make_volume()
    mask = np.zeros(ct.shape, bool)
    mask[2:5, 4:6, 9:12] = True  # k 2..4, j 4..5, i 9..11: centroid index (10, 4.5, 3)
    tumour = ct.with_array(mask, units="label")
    # centroid: x = 10 * 2 = 20 mm, y = 4.5 * 3 = 13.5 mm, z = 3 * 4 = 12 mm
    assert structure_centre_mm(tumour) == pytest.approx((20.0, 13.5, 12.0))
    figure = slice_overlay_figure(
        ct, structures={"Tumour 1": tumour, "Liver": tumour}, centre_on="Tumour 1"
    )
    axial, coronal = figure.axes[:2]
    assert axial.get_title() == "Axial, z = 12.0 mm"
    assert coronal.get_title() == "Coronal, y = 13.5 mm"
    assert len(axial.collections) == 2  # one outline per structure
    legend_texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend_texts == ["Tumour 1", "Liver"]


def test_plane_grid_pixels_are_square(make_volume: Callable[..., Volume]) -> None:
    grid = plane_grid(make_volume(), "coronal", (0.0, 0.0, 0.0))
    assert np.diff(grid.a_mm)[0] == pytest.approx(np.diff(grid.b_mm)[0])


def test_overlay_errors(make_volume: Callable[..., Volume]) -> None:
    ct = make_volume()
    with pytest.raises(GeometryError, match="CT and dose are in different frames"):
        slice_overlay_figure(
            Volume(ct.array, ct.spacing_mm, frame_of_reference_uid="1.2.3"),
            dose=Volume(ct.array, ct.spacing_mm, frame_of_reference_uid="1.2.4", units="Gy"),
        )
    with pytest.raises(InputError, match=r"dose\.units is 'Bq/mL', expected 'Gy'"):
        slice_overlay_figure(ct, dose=ct.with_array(ct.array, units="Bq/mL"))
    with pytest.raises(InputError, match="centre_on is 'x', expected one of"):
        slice_overlay_figure(ct, centre_on="x")
    with pytest.raises(InputError, match="not both"):
        slice_overlay_figure(ct, structures={"a": ct}, centre_on="a", position_mm=(0, 0, 0))
    with pytest.raises(InputError, match="mask is empty"):
        slice_overlay_figure(ct, structures={"a": ct.with_array(np.zeros(ct.shape))}, centre_on="a")
    with pytest.raises(InputError, match=r"dose maximum is 0\.0 Gy"):
        slice_overlay_figure(ct, dose=ct.with_array(np.zeros(ct.shape), units="Gy"))


def test_dvh_figure_draws_percent_curves_and_markers() -> None:
    dose = np.array([0.0, 50.0, 100.0, 150.0])
    figure = dvh_figure(
        {"Tumour": (dose, [1.0, 0.9, 0.7, 0.0])},
        compare={"Tumour": (dose, [1.0, 0.8, 0.5, 0.0])},
        markers=[DoseMarker("Lung limit", 30.0), DoseMarker("D70 target", 100.0, 0.7, "target")],
    )
    ax = figure.axes[0]
    solid, dashed = ax.lines[0], ax.lines[1]
    assert list(solid.get_ydata()) == [100.0, 90.0, 70.0, 0.0]  # fractions shown in %
    assert solid.get_linestyle() == "-"
    assert dashed.get_linestyle() == "--"
    assert solid.get_color() == dashed.get_color()
    assert list(ax.lines[2].get_xdata()) == [30.0, 30.0]  # vertical limit line
    assert (ax.lines[3].get_xdata()[0], ax.lines[3].get_ydata()[0]) == (100.0, 70.0)


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ([100.0, 50.0, 0.0], "did you pass percentages"),
        ([0.5, 0.8, 0.2], "expected a cumulative DVH"),
    ],
)
def test_dvh_curve_checks(volume: list[float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        DvhCurve(np.array([0.0, 1.0, 2.0]), np.array(volume))
    with pytest.raises(InputError, match=r"curves\['T'\]"):
        dvh_figure({"T": ([0.0, 1.0, 2.0], volume)})


def test_predicted_vs_delivered() -> None:
    rows = [
        DoseComparison("Tumour", 200.0, 180.0, 150.0, 120.0),
        DoseComparison("Lung", 10.0, 15.0),
    ]
    figure = predicted_vs_delivered_figure(rows, tolerance_fraction=0.2)
    bars, scatter = figure.axes[:2]
    heights = [patch.get_height() for patch in bars.patches]
    assert heights[:4] == [200.0, 10.0, 180.0, 15.0]  # predicted means, then delivered means
    # Lung: |15 - 10| = 5 Gy > 0.2 * 10 Gy -> red; tumour: 20 Gy <= 40 Gy -> inside the band
    inside, outside = scatter.collections[1], scatter.collections[2]
    assert inside.get_offsets().tolist() == [[200.0, 180.0]]
    assert outside.get_offsets().tolist() == [[10.0, 15.0]]
    with pytest.raises(InputError, match="only one D70"):
        DoseComparison("x", 1.0, 1.0, predicted_d70_gy=1.0)
    with pytest.raises(InputError, match="tolerance_fraction is 20"):
        predicted_vs_delivered_figure(rows, tolerance_fraction=20)


def test_activity_methods_figure() -> None:
    figure = activity_methods_figure(
        {"BSA": 1.52, "MIRD": 1.81, "Partition": 1.64}, selected="Partition", max_safe_gbq=1.64
    )
    ax = figure.axes[0]
    assert sorted(patch.get_width() for patch in ax.patches) == [1.52, 1.64, 1.81]
    with pytest.raises(InputError, match="selected is 'Voxel'"):
        activity_methods_figure({"BSA": 1.0}, selected="Voxel")
    with pytest.raises(InputError, match=r"activities_gbq\['BSA'\] is -1.0 GBq"):
        activity_methods_figure({"BSA": -1.0})
