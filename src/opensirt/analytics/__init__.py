"""Cohort analytics: the cohort table, response rates, survival, dose-response,
pooled evidence and the report.

A cohort is one row per treated patient in the format of the cohort table (``cohort.csv``,
:mod:`opensirt.analytics.cohort`), read from a file or built from the registry
(:mod:`opensirt.analytics.cohort_export`). The analyses take a :class:`Cohort`:

- :mod:`opensirt.analytics.response`: ORR and DCR with exact Clopper-Pearson intervals;
- :mod:`opensirt.analytics.survival`: Kaplan-Meier, log-rank and Cox models (lifelines);
- :mod:`opensirt.analytics.dose_response`: logistic dose-response and NTCP fits (statsmodels);
- :mod:`opensirt.analytics.pooled`: random-effects pooling of published series
  (:mod:`opensirt.analytics.meta`);
- :mod:`opensirt.analytics.report`: the cohort PDF report;
- :mod:`opensirt.analytics.redosimetry`: cohort re-dosimetry on Dask.
"""

from opensirt.analytics.cohort import Cohort, read_cohort, write_cohort

__all__ = ["Cohort", "read_cohort", "write_cohort"]
