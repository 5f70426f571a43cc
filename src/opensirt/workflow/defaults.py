"""Defaults of the workflow that the command line shows before it imports the workflow.

This module imports nothing, so that ``opensirt --help`` can show them at once.
"""

#: Relative difference of mean dose or D70 beyond which a structure is flagged.
DEFAULT_TOLERANCE_FRACTION = 0.20
#: Absolute difference (Gy) below which no structure is flagged (low-dose structures).
DEFAULT_TOLERANCE_FLOOR_GY = 2.0
