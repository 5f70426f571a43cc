"""The plan's structures as an RT Structure Set and as a DICOM SEG, on the planning CT.

Both objects go into new series of the CT's study (:mod:`opensirt.exports.dicom_study`) and
reference every CT slice they were drawn on:

* RTSTRUCT (PS3.3 A.19): per slice, the marching-squares outline of each mask at level 0.5
  (:func:`opensirt.imaging.rtstruct.contours_of_mask`), in patient coordinates (LPS, mm),
  Referenced Frame of Reference -> Study -> Series -> Contour Image Sequence naming the CT
  slices, so that 3D Slicer (SlicerRT) and treatment-planning systems load the ROIs on the CT.
* SEG (PS3.3 A.51), written with highdicom (Herrmann et al. 2022, J Digit Imaging 35:1719,
  doi:10.1007/s10278-022-00683-y): one BINARY segment per structure, with the coded
  category and type of :data:`opensirt.imaging.dicom_seg.SEGMENT_KINDS`; the segments are
  what the dose SR's measurements reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from pydicom.dataset import Dataset
from pydicom.uid import RTStructureSetStorage, generate_uid

from opensirt.exports.dicom_study import series_dataset
from opensirt.imaging.dicom_common import MANUFACTURER, software_version
from opensirt.imaging.dicom_seg import segment_descriptions, segment_masks
from opensirt.imaging.rtstruct import add_structure_set
from opensirt.imaging.segmentation import Segmentation

#: Series numbers of the exported objects (after the scanner's own series).
RTSTRUCT_SERIES = 9002
SEG_SERIES = 9003


class StructureKind(StrEnum):
    """What a plan structure is: selects its RT ROI Interpreted Type and SEG codes."""

    LIVER = "liver"
    LUNG = "lung"
    TUMOUR = "tumour"
    TERRITORY = "territory"
    TISSUE = "tissue"


#: RT ROI Interpreted Type (PS3.3 C.8.8.8, Defined Terms) of each kind: tumours are gross
#: tumour volumes, perfused territories the volumes the activity is planned for.
INTERPRETED_TYPES: Mapping[StructureKind, str] = {
    StructureKind.LIVER: "ORGAN",
    StructureKind.LUNG: "AVOIDANCE",
    StructureKind.TUMOUR: "GTV",
    StructureKind.TERRITORY: "PTV",
    StructureKind.TISSUE: "ORGAN",
}


def build_rtstruct(
    segmentation: Segmentation,
    ct_slices: Sequence[Dataset],
    kinds: Mapping[str, StructureKind],
    *,
    created: datetime,
    label: str = "OpenSIRT plan",
) -> Dataset:
    """The RT Structure Set of every structure, on the planning CT, in the CT's study.

    Parameters
    ----------
    segmentation : Segmentation
        The plan's structures, on the CT's grid; ROIs numbered from 1 in this order.
    ct_slices : sequence of pydicom.dataset.Dataset
        The CT's slice headers, ``ct_slices[k]`` the file of slice ``k``
        (:func:`opensirt.exports.dicom_study.slices_in_volume_order`).
    kinds : mapping of str to StructureKind
        Structure name -> kind; names absent are ``tissue``.
    created : datetime
        Structure Set and series date and time.
    label : str, optional
        Structure Set Label (cut to 16 characters).

    Returns
    -------
    pydicom.dataset.Dataset
        The RT Structure Set, with its File Meta Information.

    Raises
    ------
    GeometryError
        If the number of CT slices differs from the segmentation's grid, or the CT slice has
        no Study Instance UID.
    """
    ds = series_dataset(
        ct_slices[0],
        sop_class_uid=RTStructureSetStorage,
        modality="RTSTRUCT",
        series_number=RTSTRUCT_SERIES,
        series_description="OpenSIRT structures",
        created=created,
    )
    ds.OperatorsName = ""
    types = {
        name: INTERPRETED_TYPES[StructureKind(kinds.get(name, StructureKind.TISSUE))]
        for name in segmentation.names
    }
    add_structure_set(ds, segmentation, ct_slices, when=created, interpreted_types=types)
    ds.StructureSetLabel = label[:16]
    return ds


def build_seg(
    segmentation: Segmentation,
    ct_slices: Sequence[Dataset],
    kinds: Mapping[str, StructureKind],
) -> Dataset:
    """A binary DICOM SEG of every structure, on the planning CT, in the CT's study.

    Parameters
    ----------
    segmentation : Segmentation
        The plan's structures, on the CT's grid; segments numbered from 1 in this order.
    ct_slices : sequence of pydicom.dataset.Dataset
        The CT's slice headers in slice order (as for :func:`build_rtstruct`).
    kinds : mapping of str to StructureKind
        Structure name -> kind; names absent are ``tissue``.

    Returns
    -------
    pydicom.dataset.Dataset
        The highdicom ``Segmentation`` (patient and study copied from the CT by highdicom).
    """
    import highdicom as hd

    descriptions = segment_descriptions(
        segmentation, {n: str(k) for n, k in kinds.items()}, lambda _: generate_uid()
    )
    seg = hd.seg.Segmentation(
        source_images=list(ct_slices),
        pixel_array=segment_masks(segmentation),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=SEG_SERIES,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="OpenSIRT",
        software_versions=software_version(),
        device_serial_number="0",
        series_description="OpenSIRT structures (SEG)",
        omit_empty_frames=True,
    )
    ds: Dataset = seg
    return ds
