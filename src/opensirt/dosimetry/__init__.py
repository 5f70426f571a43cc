"""OpenSIRT voxel dosimetry: kernels, local deposition, kernel convolution with density
correction, dose-volume histograms and radiobiology.

See docs/dosimetry.md for the methods, their data sources and how they compare with Monte
Carlo.
"""

from opensirt.dosimetry.convolution import (
    DensityCorrection,
    fft_convolve,
    kernel_dose,
)
from opensirt.dosimetry.density import density_from_ct, hu_to_density
from opensirt.dosimetry.dvh import DoseVolumeHistogram, dose_volume_histogram
from opensirt.dosimetry.kernels import (
    SOFT_TISSUE_DENSITY_G_PER_ML,
    PointKernel,
    energy_kernel,
    point_kernel,
    voxel_s_values,
)
from opensirt.dosimetry.ldm import (
    decays_per_voxel,
    energy_per_decay_j,
    local_deposition_dose,
    total_energy_j,
)
from opensirt.dosimetry.methods import (
    DOSE_METHODS,
    MethodEntry,
    absorbed_dose,
    dose_method,
)
from opensirt.dosimetry.radiobiology import (
    TISSUES,
    LKBParameters,
    LogisticTCPParameters,
    TissueParameters,
    bed_permanent_implant,
    eqd2,
    generalized_eud,
    lkb_ntcp,
    logistic_tcp,
    lq_eud,
)

__all__ = [
    "DOSE_METHODS",
    "SOFT_TISSUE_DENSITY_G_PER_ML",
    "TISSUES",
    "DensityCorrection",
    "DoseVolumeHistogram",
    "LKBParameters",
    "LogisticTCPParameters",
    "MethodEntry",
    "PointKernel",
    "TissueParameters",
    "absorbed_dose",
    "bed_permanent_implant",
    "decays_per_voxel",
    "density_from_ct",
    "dose_method",
    "dose_volume_histogram",
    "energy_kernel",
    "energy_per_decay_j",
    "eqd2",
    "fft_convolve",
    "generalized_eud",
    "hu_to_density",
    "kernel_dose",
    "lkb_ntcp",
    "local_deposition_dose",
    "logistic_tcp",
    "lq_eud",
    "point_kernel",
    "total_energy_j",
    "voxel_s_values",
]
