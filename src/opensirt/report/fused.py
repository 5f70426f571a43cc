"""An emission image (SPECT or PET) fused on CT slices, in the CT's frame.

The emission image is sampled at each display pixel's patient position like the dose of
:func:`opensirt.report.slices.slice_overlay_figure`, so a SPECT on its own coarser grid (or a
study resampled into the planning frame by registration) lands where it belongs. Its colour
scale runs from a fraction of the image's maximum (transparent below) to the maximum, in the
image's own units: counts per voxel (SPECT) or activity concentration (PET, Bq/mL scaled to
kBq/mL or MBq/mL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.report.slices import (
    ABDOMEN_WINDOW_HU,
    DEFAULT_THRESHOLD_FRACTION,
    Plane,
    SliceOverlay,
    overlay_figure,
    plane_grid,
)

__all__ = ["emission_display_units", "emission_label", "emission_overlay_figure"]


def emission_display_units(emission: Volume) -> tuple[float, str]:
    """The divisor and the unit an emission image is shown in.

    Counts per voxel (SPECT: ``units`` ``"counts"`` or empty) as they are; activity
    concentration (``"Bq/mL"`` or DICOM's ``"BQML"``, PET) in kBq/mL or MBq/mL when its
    maximum reaches 10^3 or 10^6 Bq/mL; any other unit as given.

    Parameters
    ----------
    emission : Volume
        The emission image.

    Returns
    -------
    divisor : float
        What the image's values are divided by for display.
    unit : str
        The displayed unit.

    Examples
    --------
    >>> pet = Volume(np.full((1, 1, 2), 2.5e6), (1.0, 1.0, 1.0), units="Bq/mL")
    >>> emission_display_units(pet)
    (1000000.0, 'MBq/mL')
    """
    if emission.units in ("", "counts"):
        return 1.0, "counts per voxel"
    if emission.units not in ("Bq/mL", "BQML"):
        return 1.0, emission.units
    peak = float(np.max(emission.array))
    for divisor, unit in ((1e6, "MBq/mL"), (1e3, "kBq/mL")):
        if peak >= divisor:
            return divisor, unit
    return 1.0, "Bq/mL"


def emission_label(emission: Volume, modality: str) -> str:
    """The colour-bar label of an emission image: its modality and displayed unit.

    Parameters
    ----------
    emission : Volume
        The emission image (its units and maximum set the unit, see
        :func:`emission_display_units`).
    modality : str
        The image's name, e.g. "SPECT" or "Y-90 PET".

    Returns
    -------
    str
        E.g. ``"SPECT (counts per voxel)"``.

    Examples
    --------
    >>> emission_label(Volume(np.ones((1, 1, 1)), (1.0, 1.0, 1.0), units="BQML"), "PET")
    'PET (Bq/mL)'
    """
    return f"{modality} ({emission_display_units(emission)[1]})"


def emission_overlay_figure(
    ct: Volume,
    emission: Volume,
    *,
    modality: str,
    structures: Mapping[str, Volume] | None = None,
    position_mm: Sequence[float],
    planes: Sequence[Plane | str] = (Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL),
    window_hu: tuple[float, float] = ABDOMEN_WINDOW_HU,
    threshold_fraction: float = DEFAULT_THRESHOLD_FRACTION,
    alpha: float = 0.6,
    title: str = "",
    width_in: float = 7.0,
) -> Figure:
    """An emission image (SPECT or PET) fused on CT slices through one point.

    The emission image is sampled at each display pixel's patient position, like the dose of
    :func:`slice_overlay_figure`, so a SPECT on its own coarser grid lands where it belongs.
    Its colour scale runs from ``threshold_fraction`` of the image's maximum (transparent
    below) to the maximum, in the image's own units.

    Parameters
    ----------
    ct : Volume
        The CT in HU, shown in grey.
    emission : Volume
        The emission image (counts per voxel or Bq/mL) in the CT's frame of reference, on
        any grid.
    modality : str
        The image's name on the colour bar (e.g. "SPECT"), followed by its displayed unit
        (:func:`emission_label`).
    structures : mapping str -> Volume, optional
        Named masks outlined in distinct colours and listed in the legend.
    position_mm : (x, y, z)
        The patient point (mm, LPS) the slices pass through.
    planes : sequence of Plane
        One panel per plane, left to right; default axial, coronal, sagittal.
    window_hu : (width, level)
        Grey-scale window of the CT in HU; default abdomen W400 L40.
    threshold_fraction : float
        Fraction of the image's maximum below which the emission is transparent (0 to 1).
    alpha : float
        Opacity of the emission colour wash (0 to 1).
    title : str
        Figure title (empty: none).
    width_in : float
        Figure width in inches (7 fits an A4 page at full size).

    Returns
    -------
    matplotlib.figure.Figure
        One row of panels with a colour bar and, with structures, a legend.

    Raises
    ------
    GeometryError
        If the emission image or a mask names another frame of reference than the CT.
    InputError
        For an emission image without a positive value, or a bad window or threshold.
    """
    structures = dict(structures or {})
    for name, volume in [("emission image", emission), *structures.items()]:
        ct.require_same_frame(volume, f"CT and {name}")
    width_hu, level_hu = (float(w) for w in window_hu)
    if not width_hu > 0.0:
        raise InputError(f"window_hu width is {width_hu!r} HU, expected a positive width")
    peak = float(np.max(emission.array))
    if not peak > 0.0:
        raise InputError(
            f"the emission image's maximum is {peak!r} {emission.units}, expected a positive "
            "value to colour (is the image empty?)"
        )
    if not 0.0 <= threshold_fraction < 1.0:
        raise InputError(
            f"threshold_fraction is {threshold_fraction!r}, expected a fraction in [0, 1)"
        )
    label = emission_label(emission, modality)
    divisor, _ = emission_display_units(emission)
    if divisor != 1.0:
        emission = emission.with_array(np.asarray(emission.array, dtype=np.float32) / divisor)
        peak /= divisor
    overlay = SliceOverlay(
        ct,
        emission,
        structures,
        (width_hu, level_hu),
        (threshold_fraction * peak, peak),
        alpha,
        wash_label=label,
        wash_cmap="inferno",
    )
    grids = [plane_grid(ct, plane, position_mm) for plane in planes]
    return overlay_figure(grids, overlay, title, width_in)
