"""DICOM Segmentation (SEG) objects, written and read with highdicom.

Written as BINARY segments; read BINARY or FRACTIONAL (fractions kept as partial-voxel
weights). Each segment is one structure; its label is the structure name.

References
----------
.. [PS3.3] DICOM PS3.3 A.51 Segmentation IOD, C.8.20 Segmentation modules.
.. [highdicom] Herrmann et al. 2022, J Digit Imaging 35:1719, doi:10.1007/s10278-022-00683-y
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from opensirt.errors import GeometryError, ImageReadError, InputError, OpenSIRTError
from opensirt.imaging.dicom_common import MANUFACTURER, DicomContext, software_version
from opensirt.imaging.dicom_file import (
    as_read_error,
    decode_pixels,
    header_int,
    read_dataset,
    recording_warnings,
)
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume

__all__ = [
    "SEGMENT_KINDS",
    "read_dicom_seg",
    "seg_dataset",
    "segment_descriptions",
    "segment_masks",
]

#: Segment kind -> (Segmented Property Category, Segmented Property Type): SNOMED CT codes of
#: DICOM PS3.16 CID 7150/7151 as shipped by pydicom; a perfused territory (the part of the
#: liver a catheter position feeds) is an RT target: category DCM 130041 "RT Target", type
#: SCT 228793007 "Planning target volume" (PS3.16 CID 7150, CID 9501 Radiotherapy Targets).
SEGMENT_KINDS: Mapping[str, tuple[Any, Any]] = {
    "liver": (codes.SCT.AnatomicalStructure, codes.SCT.Liver),
    "lung": (codes.SCT.AnatomicalStructure, codes.SCT.Lung),
    "spine": (codes.SCT.AnatomicalStructure, codes.SCT.Spine),
    "tumour": (codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Neoplasm),
    "territory": (codes.DCM.RTTarget, codes.SCT.PlanningTargetVolume),
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

    Parameters
    ----------
    segmentation : Segmentation
        The structures; each becomes a segment, numbered from 1 in order.
    image_slices : sequence of pydicom.dataset.Dataset
        One single-frame image dataset per slice of the segmentation's reference grid, slice
        ``k`` first to last (the CT as written).
    context : DicomContext
        Patient, study and frame of reference of the examination.
    kinds : mapping of str to str or None, optional
        Structure name -> kind, as above; names absent are ``"tissue"``.
    series_number : int, optional
        Series Number (default 11).

    Returns
    -------
    pydicom.dataset.Dataset
        The Segmentation object (highdicom ``Segmentation``, BINARY).

    Raises
    ------
    GeometryError
        If the number of image slices differs from the reference grid's.
    """
    import highdicom as hd

    reference = segmentation.reference
    if len(image_slices) != reference.shape[0]:
        raise GeometryError(
            f"{len(image_slices)} image slices given for a reference grid of "
            f"{reference.shape[0]} slices; pass the slices of the image the structures are on"
        )
    descriptions = segment_descriptions(
        segmentation, kinds, lambda name: context.uid("seg-segment", name)
    )
    masks = segment_masks(segmentation)
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
        software_versions=software_version(),
        device_serial_number="0",
        series_description="Structures (SEG)",
        omit_empty_frames=True,
    )
    ds: Dataset = seg
    return ds


def segment_descriptions(
    segmentation: Segmentation,
    kinds: Mapping[str, str] | None,
    tracking_uid: Callable[[str], str],
) -> list[Any]:
    """One highdicom ``SegmentDescription`` per structure, numbered from 1 in order.

    Parameters
    ----------
    segmentation : Segmentation
        The structures.
    kinds : mapping of str to str or None
        Structure name -> kind (a key of :data:`SEGMENT_KINDS`); names absent are
        ``"tissue"``.
    tracking_uid : callable
        Structure name -> its Tracking UID.

    Returns
    -------
    list of highdicom.seg.SegmentDescription
        The descriptions, labelled and tracked by structure name.

    Raises
    ------
    InputError
        If a kind is not one of :data:`SEGMENT_KINDS`.
    """
    import highdicom as hd

    descriptions = []
    for number, name in enumerate(segmentation.names, start=1):
        kind = (kinds or {}).get(name, "tissue")
        if kind not in SEGMENT_KINDS:
            raise InputError(
                f"segment kind of {name!r} is {kind!r}, expected one of {sorted(SEGMENT_KINDS)}"
            )
        category, kind_code = SEGMENT_KINDS[kind]
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name,
                segmented_property_category=category,
                segmented_property_type=kind_code,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
                tracking_uid=tracking_uid(name),
                tracking_id=name,
            )
        )
    return descriptions


def segment_masks(segmentation: Segmentation) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The structures' masks stacked as highdicom wants them: ``[k, j, i, segment]``.

    Parameters
    ----------
    segmentation : Segmentation
        The structures (empty ones give empty segments).

    Returns
    -------
    numpy.ndarray
        uint8 array, 1 inside; the last axis in the order of ``segmentation.names``.
    """
    return np.stack(
        [segmentation.get(n, allow_empty=True).array for n in segmentation.names], axis=-1
    ).astype(np.uint8)


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
    """The segments of a DICOM SEG as structures on ``reference``'s grid.

    BINARY segments become boolean masks (nearest neighbour when the SEG's grid differs from
    ``reference``'s). FRACTIONAL segments keep their fractions (stored value / Maximum
    Fractional Value) as partial-voxel weights (:attr:`Segmentation.fractions`; linear
    interpolation onto another grid); their masks are the voxels at least half inside. The
    messages of the reader's warnings are in :attr:`Segmentation.warnings`.

    Parameters
    ----------
    path : str or os.PathLike
        The DICOM SEG file.
    reference : Volume
        The image the segments are placed on (usually the planning CT), in the SEG's frame
        of reference.

    Returns
    -------
    Segmentation
        One structure per segment (named by its Segment Label) on ``reference``'s grid.

    Raises
    ------
    ImageReadError
        If the file is not a SEG, is truncated, has a frame count that disagrees with its
        pixel data, or cannot be decoded (the message names the file).
    GeometryError
        If its frame of reference differs from ``reference``'s.
    """
    source = str(path)
    messages: list[str] = []
    with recording_warnings(messages), as_read_error(source, "a DICOM SEG"):
        masks, fractional = _segments(source, reference)
    if fractional:
        return Segmentation.from_fractions(
            reference, masks, source=source, warnings=tuple(messages)
        )
    return Segmentation(reference, masks, source=source, warnings=tuple(messages))


def _segments(source: str, reference: Volume) -> tuple[dict[str, Volume], bool]:
    import highdicom as hd

    ds = read_dataset(source)
    if str(ds.get("Modality", "")) != "SEG":
        raise ImageReadError(f"{source}: Modality is {ds.get('Modality')!r}, expected SEG")
    frames = header_int(ds, "NumberOfFrames", source, default=1)
    items = len(ds.get("PerFrameFunctionalGroupsSequence") or [])
    if items != frames:
        raise ImageReadError(
            f"{source}: NumberOfFrames is {frames} but {items} per-frame functional group "
            "item(s) describe the frames; the SEG is truncated or corrupt"
        )
    _check_segment_numbers(ds, source)
    decode_pixels(ds, source)  # pixel data length against Rows x Columns x NumberOfFrames
    try:
        seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
        fractional = seg.segmentation_type == hd.seg.SegmentationTypeValues.FRACTIONAL
        frame_uid = str(seg.get("FrameOfReferenceUID", "")) or None
        segments = [
            (
                str(seg.get_segment_description(number).segment_label),
                seg.get_volume(segment_numbers=[number], combine_segments=False),
            )
            for number in seg.segment_numbers
        ]
    except OpenSIRTError:
        raise
    except Exception as exc:  # highdicom: ValueError, RuntimeError, sqlite3 errors, ...
        raise ImageReadError(
            f"{source}: cannot be decoded as a DICOM SEG ({type(exc).__name__}: {exc})"
        ) from exc
    out: dict[str, Volume] = {}
    for name, hd_volume in segments:
        volume = _volume_from_hd(hd_volume, frame_uid)
        volume.require_same_frame(reference, f"SEG {source} segment {name!r} and reference")
        if fractional:
            values = np.asarray(volume.array, dtype=np.float64)
            on_grid = volume.with_array(values)
            if not volume.same_grid(reference):
                on_grid = on_grid.resample_to(reference, interpolation="linear")
            out[name] = reference.with_array(np.clip(on_grid.array, 0.0, 1.0), units="fraction")
        else:
            moved = volume.resample_to(reference, interpolation="nearest")
            out[name] = reference.with_array(moved.array > 0, units="mask")
    return out, fractional


def _check_segment_numbers(ds: Dataset, source: str) -> None:
    """Segment numbers unique, and every frame referring to one of them (PS3.3 C.8.20.2)."""
    numbers = [
        header_int(item, "SegmentNumber", source) for item in ds.get("SegmentSequence") or []
    ]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise ImageReadError(
            f"{source}: SegmentNumber {repeated[0]} is used by {numbers.count(repeated[0])} "
            "segments of the SegmentSequence; expected each number once. The SEG is corrupt: "
            "export it again"
        )
    shared = (ds.get("SharedFunctionalGroupsSequence") or [Dataset()])[0]
    for index, item in enumerate(ds.get("PerFrameFunctionalGroupsSequence") or [], start=1):
        identification = item.get("SegmentIdentificationSequence") or shared.get(
            "SegmentIdentificationSequence"
        )
        if not identification:
            continue  # highdicom reports frames without a segment
        number = header_int(identification[0], "ReferencedSegmentNumber", source)
        if number not in numbers:
            raise ImageReadError(
                f"{source}: frame {index} refers to segment {number}, but the SegmentSequence "
                f"holds segments {sorted(numbers)}; the SEG is corrupt: export it again"
            )
