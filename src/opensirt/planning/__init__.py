"""Activity planning: the case file, lung shunt, BSA, MIRD, partition and Ho-166 methods,
prescription under dose limits, vials and decay scheduling.

Entry points: :func:`load_case` reads a case file, :func:`plan_case` plans it.

>>> from opensirt.planning import Method
>>> Method("partition").value
'partition'
"""

from opensirt.planning.bsa import body_surface_area_m2, bsa_activity, bsa_lung_shunt_factor
from opensirt.planning.case import Case, Method
from opensirt.planning.case_file import load_case, parse_case
from opensirt.planning.holmium import whole_liver_activity_gbq, whole_liver_dose_gy
from opensirt.planning.limits import LimitName
from opensirt.planning.lung import lung_dose_gy, lung_shunt_fraction_from_counts
from opensirt.planning.mird import mird_activity_gbq, mird_dose_gy
from opensirt.planning.partition import (
    TerritoryCompartments,
    TumourCompartment,
    activity_for_normal_dose_gbq,
    activity_for_tumour_dose_gbq,
    partition_doses,
)
from opensirt.planning.planner import plan_case
from opensirt.planning.result import (
    LimitCheck,
    PlanConstants,
    PlanResult,
    Target,
    TargetName,
    TerritoryResult,
)
from opensirt.planning.schedule import (
    activity_at_treatment_gbq,
    choose_vial,
    delivered_activity,
    therasphere_calibration_time,
    vial_window,
)

__all__ = [
    "Case",
    "LimitCheck",
    "LimitName",
    "Method",
    "PlanConstants",
    "PlanResult",
    "Target",
    "TargetName",
    "TerritoryCompartments",
    "TerritoryResult",
    "TumourCompartment",
    "activity_at_treatment_gbq",
    "activity_for_normal_dose_gbq",
    "activity_for_tumour_dose_gbq",
    "body_surface_area_m2",
    "bsa_activity",
    "bsa_lung_shunt_factor",
    "choose_vial",
    "delivered_activity",
    "load_case",
    "lung_dose_gy",
    "lung_shunt_fraction_from_counts",
    "mird_activity_gbq",
    "mird_dose_gy",
    "parse_case",
    "partition_doses",
    "plan_case",
    "therasphere_calibration_time",
    "vial_window",
    "whole_liver_activity_gbq",
    "whole_liver_dose_gy",
]
