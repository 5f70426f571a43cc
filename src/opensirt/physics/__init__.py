"""Physical data: nuclides, decay and microsphere devices, each value with its source."""

from opensirt.physics.decay import (
    activity_at,
    cumulated_activity_gbq_h,
    decay_factor,
    hours_between,
)
from opensirt.physics.devices import DEVICES, Device, DeviceName, DoseLimits, get_device
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD, DoseMethod
from opensirt.physics.nuclides import HO166, NUCLIDES, TC99M, Y90, Nuclide, NuclideName, get_nuclide
from opensirt.physics.units import gbq_to_mci, mci_to_gbq

__all__ = [
    "DEFAULT_DOSE_METHOD",
    "DEVICES",
    "HO166",
    "NUCLIDES",
    "TC99M",
    "Y90",
    "Device",
    "DeviceName",
    "DoseLimits",
    "DoseMethod",
    "Nuclide",
    "NuclideName",
    "activity_at",
    "cumulated_activity_gbq_h",
    "decay_factor",
    "gbq_to_mci",
    "get_device",
    "get_nuclide",
    "hours_between",
    "mci_to_gbq",
]
