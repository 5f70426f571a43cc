"""Defaults of the workflow that the command line shows before it imports the workflow.

This module imports nothing heavy, so that ``opensirt --help`` can show them at once.
"""

from enum import StrEnum

#: Relative difference of mean dose or D70 beyond which a structure is flagged.
DEFAULT_TOLERANCE_FRACTION = 0.20
#: Absolute difference (Gy) below which no structure is flagged (low-dose structures).
DEFAULT_TOLERANCE_FLOOR_GY = 2.0


class PostTreatmentScenario(StrEnum):
    """Post-treatment scenarios of the synthetic patient (``opensirt demo --posttreatment``)."""

    Y90_PET = "y90-pet"
    Y90_BREMSSTRAHLUNG_SPECT = "y90-bremsstrahlung-spect"
    HO166_SPECT = "ho166-spect"
