"""OpenSIRT exports: DICOM RT Dose, NIfTI and DVH tables."""

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
