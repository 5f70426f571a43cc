"""The images the numbers come from: emission fused on the CT, and dose through flagged structures.

* :func:`emission_blocks`: the work-up (or post-treatment) emission image fused on the CT,
  one figure of three planes through the centre of each tumour shown and one through the
  lung base.
* :func:`flagged_dose_blocks`: the delivered dose through every structure the verification
  flagged (or through the tumours when none was).

Choices
-------
* At most :data:`MAX_TUMOUR_FIGURES` tumours get a figure, the largest first: three figures
  of one row each (with the lung base, four) fill about one page, and the largest tumours
  carry most of the activity; the others are named in the text, their numbers are in the
  tables. At most :data:`MAX_FLAGGED_FIGURES` flagged structures get a figure, in the order
  of the comparison table.
* **Lung base**: the axial plane below which :data:`LUNG_BASE_FRACTION` (5 %) of the lung
  voxels lie, i.e. the lowest lung slices just above the diaphragm, where the lung lies next
  to the liver dome and a shunt or a misregistration shows first. A quantile rather than the
  lowest lung voxel, so that a few stray voxels of a segmentation do not set it. The coronal
  and sagittal planes cross the centroid of the right lung's voxels in that plane (the
  patient's right, above the liver). Through the lung base the colour starts at
  :data:`LUNG_WASH_FRACTION` (1 %) of the maximum instead of 5 %, so that the lung's share of
  the activity or dose shows beside the tumours'.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.report.document import Block, ReportFigure
from opensirt.report.fused import emission_label, emission_overlay_figure
from opensirt.report.slices import (
    DEFAULT_THRESHOLD_FRACTION,
    Plane,
    slice_overlay_figure,
    structure_centre_mm,
)
from opensirt.workflow.inputs import CaseImages
from opensirt.workflow.voxel import DoseGrid

__all__ = [
    "LUNG_BASE_FRACTION",
    "LUNG_WASH_FRACTION",
    "MAX_FLAGGED_FIGURES",
    "MAX_TUMOUR_FIGURES",
    "emission_blocks",
    "flagged_dose_blocks",
    "lung_base_position_mm",
    "shown_tumours",
]

#: Fraction of the lung voxels below the lung-base plane.
LUNG_BASE_FRACTION = 0.05
#: Most tumours with a fused-image figure (the largest).
MAX_TUMOUR_FIGURES = 3
#: Fraction of the maximum above which the dose or the emission image through the lung base
#: is coloured (the default 5 % hides the lung's share, a few percent of the tumours' peak).
LUNG_WASH_FRACTION = 0.01
#: Most flagged structures with a dose figure.
MAX_FLAGGED_FIGURES = 4

_PLANES = (Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL)
_MODALITY_NAMES = {"NM": "SPECT", "PT": "PET"}


def _point_text(point: tuple[float, float, float]) -> str:
    return "(x, y, z) = (" + ", ".join(f"{c:.0f}" for c in point) + ") mm"


def lung_base_position_mm(
    lungs: Volume, fraction: float = LUNG_BASE_FRACTION
) -> tuple[float, float, float]:
    """The point the lung-base slices pass through (mm, LPS).

    Its z is the axial plane below which ``fraction`` of the lung voxels lie (a lung voxel's
    own z: the plane holds lung); its x and y are the centroid of the lung voxels in that
    plane on the patient's right of their median x (the right lung, above the liver).

    Parameters
    ----------
    lungs : Volume
        The lung structure (non-zero inside), on any grid.
    fraction : float
        Fraction of the lung voxels below the plane, in [0, 1); default 5 %.

    Returns
    -------
    tuple of 3 floats
        The patient point (x, y, z) in mm, LPS.

    Raises
    ------
    InputError
        An empty lung structure or a fraction outside [0, 1).

    Examples
    --------
    >>> block = np.zeros((20, 4, 6), bool)
    >>> block[2:, :, :] = True
    >>> lung_base_position_mm(Volume(block, (1.0, 1.0, 1.0)), 0.1)
    (1.0, 1.5, 3.0)
    """
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"fraction is {fraction!r}, expected a fraction of the lung in [0, 1)")
    kji = np.argwhere(np.asarray(lungs.array) != 0)
    if kji.size == 0:
        raise InputError("the lung structure is empty: no lung base to show")
    xyz = lungs.index_to_physical(kji[:, ::-1].astype(np.float64))
    z = xyz[:, 2]
    plane_z = float(np.quantile(z, fraction, method="inverted_cdf"))
    # the z extent of one voxel: the voxels whose centre lies within half of it
    half = 0.5 * float(np.max(np.abs(lungs.direction_matrix[2, :]) * lungs.spacing_mm))
    layer = xyz[np.abs(z - plane_z) <= half + 1e-6]
    right = layer[layer[:, 0] <= np.median(layer[:, 0])]
    return (float(right[:, 0].mean()), float(right[:, 1].mean()), plane_z)


def shown_tumours(images: CaseImages) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tumours with a figure (the largest, at most :data:`MAX_TUMOUR_FIGURES`) and the rest.

    Parameters
    ----------
    images : CaseImages
        The study's structures and their roles.

    Returns
    -------
    shown, rest : tuple of str
        Tumour names, largest first; ``rest`` in the case file's order.
    """
    tumours = images.roles.tumours
    by_size = sorted(tumours, key=images.segmentation.volume_ml, reverse=True)
    shown = tuple(by_size[:MAX_TUMOUR_FIGURES])
    return shown, tuple(t for t in tumours if t not in shown)


def emission_blocks(images: CaseImages, study: str, modality: str | None = None) -> list[Block]:
    """The emission image fused on the CT through each tumour shown and the lung base.

    Parameters
    ----------
    images : CaseImages
        The CT, the emission image (in the CT's frame, on its own grid) and the structures.
    study : str
        What the image is, in captions (e.g. "work-up SPECT", "post-treatment image").
    modality : str, optional
        The image's name on the colour bar (e.g. "Y-90 PET"); default from its DICOM
        modality (NM: SPECT, PT: PET), else "emission".

    Returns
    -------
    list of Block
        A paragraph, one figure per tumour shown, the lung-base figure, and a paragraph
        naming the tumours without a figure (if any).
    """
    structures = {name: images.segmentation.get(name) for name in images.roles.all_names}
    if modality is None:
        dicom = str(images.emission.metadata.get(MetaKey.MODALITY, ""))
        modality = _MODALITY_NAMES.get(dicom, "emission")
    modality_name = modality
    label = emission_label(images.emission, modality)

    def figure(
        point: tuple[float, float, float],
        caption: str,
        fraction: float = DEFAULT_THRESHOLD_FRACTION,
    ) -> ReportFigure:
        return ReportFigure(
            lambda: emission_overlay_figure(
                images.ct,
                images.emission,
                modality=modality_name,
                structures=structures,
                position_mm=point,
                threshold_fraction=fraction,
            ),
            f"{caption}; {label}, colour from {fraction:.0%} of the image's maximum "
            "(transparent below) to its maximum",
        )

    shown, rest = shown_tumours(images)
    blocks: list[Block] = [
        f"The {study} fused on the CT with the structure outlines, in three planes through the "
        "centre of each tumour and through the lung base: the image this report's measurements "
        "and doses are computed from, and where its activity lies (radiological view: the "
        "patient's right on the left)."
    ]
    for name in shown:
        point = structure_centre_mm(structures[name])
        blocks.append(
            figure(point, f"The {study} through the centre of {name}, {_point_text(point)}")
        )
    if rest:
        blocks.append(
            f"Tumours without a figure (at most {MAX_TUMOUR_FIGURES}, the largest, are shown; "
            f"their numbers are in the tables): {', '.join(rest)}."
        )
    lungs = images.roles.lungs
    if lungs is not None:
        point = lung_base_position_mm(structures[lungs])
        blocks.append(
            figure(
                point,
                f"The {study} through the lung base: the axial plane z = {point[2]:.0f} mm "
                f"below which {LUNG_BASE_FRACTION:.0%} of the lung voxels lie, crossing the "
                "right lung's centre in that plane",
                LUNG_WASH_FRACTION,
            )
        )
    return blocks


def structure_mask(images: CaseImages, grid: DoseGrid, name: str) -> Volume:
    """The mask of a structure: drawn (segmentation) or derived (normal liver, on the grid).

    Parameters
    ----------
    images : CaseImages
        The structures drawn on the CT.
    grid : DoseGrid
        The dose grid with the derived structures' occupancies.
    name : str
        A structure name of the DVH tables.

    Returns
    -------
    Volume
        Boolean mask: the segmentation's, or voxels of the dose grid at least half inside.

    Raises
    ------
    InputError
        ``name`` is neither a drawn nor a derived structure.
    """
    if name in images.segmentation:
        return images.segmentation.get(name)
    if name in grid.fractions:
        return grid.emission.with_array(np.asarray(grid.fractions[name]) >= 0.5, units="mask")
    raise InputError(
        f"structure {name!r} is neither drawn nor derived, expected one of "
        f"{sorted({*images.segmentation.names, *grid.fractions})}"
    )


def flagged_dose_blocks(
    images: CaseImages, grid: DoseGrid, dose: Volume, flagged: tuple[str, ...]
) -> list[Block]:
    """Delivered dose slices through every flagged structure, or the tumours when none is.

    Parameters
    ----------
    images : CaseImages
        The CT and the structures.
    grid : DoseGrid
        The dose grid (masks of derived structures such as the normal liver).
    dose : Volume
        Delivered absorbed dose (Gy).
    flagged : tuple of str
        The flagged structures, in the order to show them.

    Returns
    -------
    list of Block
        A paragraph saying what is shown and why, then one figure (three planes) per
        structure; the lungs are cut through the lung base.
    """
    structures = {name: images.segmentation.get(name) for name in images.roles.all_names}
    shown_flagged = flagged[:MAX_FLAGGED_FIGURES]
    if flagged:
        names = shown_flagged
        text = (
            "Delivered dose through every flagged structure (delivered dose beyond the "
            "tolerance of the prediction, or above a limit): " + ", ".join(flagged) + "."
        )
        if len(flagged) > MAX_FLAGGED_FIGURES:
            text += f" Only the first {MAX_FLAGGED_FIGURES} have a figure."
    else:
        names, _ = shown_tumours(images)
        text = (
            "No structure is flagged: the delivered dose agrees with the prediction within the "
            "tolerance and no limit is exceeded. Delivered dose through the tumours."
        )
    blocks: list[Block] = [text]
    for name in names:
        mask = structure_mask(images, grid, name)
        outlines = dict(structures) if name in structures else {**structures, name: mask}
        threshold_gy = None  # the default, 5 % of the maximum
        if name == images.roles.lungs:
            point, where = lung_base_position_mm(mask), "the lung base"
            # a lung dose is a few percent of the tumours' maximum: colour it too
            threshold_gy = LUNG_WASH_FRACTION * float(np.max(dose.array))
        else:
            point, where = structure_centre_mm(mask), f"the centre of {name}"
        why = "flagged" if name in flagged else "not flagged"
        blocks.append(
            ReportFigure(
                partial(
                    slice_overlay_figure,
                    images.ct,
                    dose=dose,
                    structures=outlines,
                    position_mm=point,
                    planes=_PLANES,
                    dose_threshold_gy=threshold_gy,
                ),
                f"Delivered dose through {where} ({name}, {why}), {_point_text(point)}"
                + ("" if threshold_gy is None else f"; colour from {threshold_gy:.1f} Gy"),
            )
        )
    return blocks
