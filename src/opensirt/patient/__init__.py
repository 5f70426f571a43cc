"""What is known about the patient: laboratory values and clinical findings.

The case file's ``patient.labs`` and ``clinical`` sections, as validated models
(:mod:`~opensirt.patient.inputs`), and the laboratory unit conversions
(:mod:`~opensirt.patient.units`). This layer sits below both :mod:`opensirt.planning` (whose
case model holds these sections and whose dose limits read the bilirubin) and
:mod:`opensirt.clinical` (whose scores and eligibility rules read them), so neither has to
import the other for them.

>>> from opensirt.patient import Labs
>>> Labs(albumin_g_dl=3.5).albumin_in_g_l()
35.0
"""

from opensirt.patient.inputs import (
    Ascites,
    ClinicalFindings,
    Diagnosis,
    Labs,
    PriorTreatment,
    TreatmentExtent,
)

__all__ = [
    "Ascites",
    "ClinicalFindings",
    "Diagnosis",
    "Labs",
    "PriorTreatment",
    "TreatmentExtent",
]
