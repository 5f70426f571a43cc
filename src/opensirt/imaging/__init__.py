"""Images: the Volume type, readers, writers, segmentations, registration and quantification.

Heavier modules (the DICOM writers, registration) are imported from their own modules, such as
``opensirt.imaging.dicom_write``. The synthetic patient of the demo is in :mod:`opensirt.demo`.
"""

from opensirt.imaging.dicom_io import read_image
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_seg import read_dicom_seg
from opensirt.imaging.dicom_series import SeriesInfo, list_series
from opensirt.imaging.nifti_io import read_nifti, read_nifti_labels, write_nifti
from opensirt.imaging.quantify import (
    concentration_to_activity_mbq,
    counts_to_activity_mbq,
    decay_activity,
    region_fraction,
    scale_to_total_activity,
)
from opensirt.imaging.regrid import coverage_fraction, rebin_sum
from opensirt.imaging.rtstruct import read_rtstruct
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume

__all__ = [
    "MetaKey",
    "Segmentation",
    "SeriesInfo",
    "Volume",
    "concentration_to_activity_mbq",
    "counts_to_activity_mbq",
    "coverage_fraction",
    "decay_activity",
    "list_series",
    "read_dicom_seg",
    "read_image",
    "read_nifti",
    "read_nifti_labels",
    "read_rtstruct",
    "rebin_sum",
    "region_fraction",
    "scale_to_total_activity",
    "write_nifti",
]
