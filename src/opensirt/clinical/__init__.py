"""Clinical layer: liver function scores, staging, eligibility, response, adverse events.

Modules: :mod:`~opensirt.clinical.liver_function` (Child-Pugh, ALBI, MELD/MELD-Na, ECOG),
:mod:`~opensirt.clinical.bclc` (BCLC 2022),
:mod:`~opensirt.clinical.eligibility` (SIRT eligibility rules),
:mod:`~opensirt.clinical.assess` (all of these for a case),
:mod:`~opensirt.clinical.measurements` and :mod:`~opensirt.clinical.response` (RECIST 1.1,
mRECIST, EASL), :mod:`~opensirt.clinical.adverse_events` (CTCAE v5.0, REILD, monitoring,
follow-up). The case-file labs and findings they read live one layer below, in
:mod:`opensirt.patient`.
"""
