"""DICOM Segmentation (SEG) objects, written and read with highdicom.

Binary segments only. Each segment is one structure; its label is the structure name.

References
----------
.. [PS3.3] DICOM PS3.3 A.51 Segmentation IOD, C.8.20 Segmentation modules.
.. [highdicom] Herrmann et al. 2022, J Digit Imaging 35:1719, doi:10.1007/s10278-022-00683-y
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from opensirt.errors import GeometryError, ImageReadError
from opensirt.imaging.dicom_common import MANUFACTURER, SOFTWARE_VERSION, DicomContext
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume

__all__ = ["SegmentKind", "read_dicom_seg", "seg_dataset"]

#: Segment kind -> (Segmented Property Category, Segmented Property Type), SNOMED CT codes
#: from DICOM PS3.16 CID 7150/7151 as shipped by pydicom.
SegmentKind = Mapping[str, tuple[Any, Any]]
_KINDS: dict[str, tuple[Any, Any]] = {
    "liver": (codes.SCT.AnatomicalStructure, codes.SCT.Liver),
    "lung": (codes.SCT.AnatomicalStructure, codes.SCT.Lung),
    "spine": (codes.SCT.AnatomicalStructure, codes.SCT.Spine),
    "tumour": (codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Neoplasm),
    "tissue": (codes.SCT.Tissue, codes.SCT.Tissue),
}


def seg_dataset(
    segmentation: Segmentation,
    image_slices: Sequence[Dataset],
    context: DicomContext,
    *,
    kinds: Mapping[str, str] | None = None,
    series_number: int = 11,
) -> Dataset:
    """A binary DICOM SEG of every structure, on the grid of ``image_slices`` (the CT).

    ``kinds`` maps a structure name to ``"liver"``, ``"lung"``, ``"spine"``, ``"tumour"`` or
    ``"tissue"`` (the default), which selects its SNOMED CT category and type codes.
    """
    import highdicom as hd

    reference = segmentation.reference
    if len(image_slices) != reference.shape[0]:
        raise GeometryError(
            f"{len(image_slices)} image slices given for a reference grid of "
            f"{reference.shape[0]} slices; pass the slices of the image the structures are on"
        )
    descriptions = []
    for number, name in enumerate(segmentation.names, start=1):
        category, kind = _KINDS[(kinds or {}).get(name, "tissue")]
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name,
                segmented_property_category=category,
                segmented_property_type=kind,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
                tracking_uid=context.uid("seg-segment", name),
                tracking_id=name,
            )
        )
    masks = np.stack(
        [segmentation.get(n, allow_empty=True).array for n in segmentation.names], axis=-1
    ).astype(np.uint8)
    seg = hd.seg.Segmentation(
        source_images=list(image_slices),
        pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=context.uid("seg", "series"),
        series_number=series_number,
        sop_instance_uid=context.uid("seg", "instance", 1),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="synthetic phantom",
        software_versions=SOFTWARE_VERSION,
        device_serial_number="0",
        series_description="Structures (SEG)",
        omit_empty_frames=True,
    )
    ds: Dataset = seg
    return ds


def _volume_from_hd(volume: Any, frame_uid: str | None) -> Volume:
    affine = np.asarray(volume.affine, dtype=np.float64)
    # highdicom: array axes (slice, row, column), affine columns map those indices to LPS
    columns = [affine[:3, 2], affine[:3, 1], affine[:3, 0]]
    spacing = [float(np.linalg.norm(c)) for c in columns]
    direction = np.stack([c / s for c, s in zip(columns, spacing, strict=True)], axis=1)
    array = np.asarray(volume.array)
    if array.ndim == 4:
        array = array[..., 0]
    return Volume(
        array=array,
        spacing_mm=(spacing[0], spacing[1], spacing[2]),
        origin_mm=(float(affine[0, 3]), float(affine[1, 3]), float(affine[2, 3])),
        direction=tuple(direction.reshape(-1).tolist()),
        frame_of_reference_uid=frame_uid,
    )


def read_dicom_seg(path: str | os.PathLike[str], reference: Volume) -> Segmentation:
    """The segments of a DICOM SEG as structures on ``reference``'s grid (nearest neighbour).

    Raises
    ------
    ImageReadError
        If the file is not a SEG or cannot be decoded.
    GeometryError
        If its frame of reference differs from ``reference``'s.
    """
    import highdicom as hd

    try:
        seg = hd.seg.segread(str(path))
    except (ValueError, AttributeError, OSError) as exc:
        raise ImageReadError(f"{path}: cannot be read as a DICOM SEG ({exc})") from exc
    frame_uid = str(seg.get("FrameOfReferenceUID", "")) or None
    structures: dict[str, Volume] = {}
    for number in seg.segment_numbers:
        name = str(seg.get_segment_description(number).segment_label)
        volume = _volume_from_hd(
            seg.get_volume(segment_numbers=[number], combine_segments=False), frame_uid
        )
        volume.require_same_frame(reference, f"SEG {path} segment {name!r} and reference")
        moved = volume.resample_to(reference, interpolation="nearest")
        structures[name] = reference.with_array(moved.array > 0, units="mask")
    return Segmentation(reference, structures, source=str(path))
