"""OpenSIRT exports: DICOM RT Dose, RTSTRUCT, SEG, dose SR and Encapsulated PDF in the
patient's study (:mod:`opensirt.exports.study_objects`), NIfTI, DVH tables, and the FHIR
export (:mod:`opensirt.exports.fhir`)."""

from opensirt.exports.dvh_csv import write_dvh_csv
from opensirt.exports.rtdose import build_rtdose, write_rtdose
from opensirt.imaging.nifti_io import ras_affine, read_nifti, write_nifti
from opensirt.imaging.rtdose_io import read_rtdose

__all__ = [
    "build_rtdose",
    "ras_affine",
    "read_nifti",
    "read_rtdose",
    "write_dvh_csv",
    "write_nifti",
    "write_rtdose",
]
