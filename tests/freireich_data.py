"""The 6-MP remission data of Freireich et al. (1963), a hand-checkable survival data set.

Freireich EJ, Gehan E, Frei E et al. The effect of 6-mercaptopurine on the duration of
steroid-induced remissions in acute leukemia. Blood 1963;21:699-716.
doi:10.1182/blood.V21.6.699.699. The 21 + 21 remission times (weeks) as tabulated by Gehan
(1965, Biometrika 52:203, doi:10.1093/biomet/52.1-2.203) and by Kleinbaum & Klein, Survival
Analysis: A Self-Learning Text, 3rd ed., Springer 2012 (doi:10.1007/978-1-4419-6646-9),
chapter 2: a censored time is a patient still in remission.

Printed there: Kaplan-Meier medians 23 weeks (6-MP) and 8 weeks (placebo); S(t) = 0.753 for
10 <= t < 13 weeks in the 6-MP group; log-rank chi-square 16.79 (1 df, p < 0.0001).
"""

from __future__ import annotations

from opensirt.analytics.cohort import Cohort, from_records

#: 6-MP group: (weeks, relapse 1 / censored 0).
SIX_MP = [(t, 1) for t in (6, 6, 6, 7, 10, 13, 16, 22, 23)] + [
    (t, 0) for t in (6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35)
]
#: Placebo group: every patient relapsed.
PLACEBO = [(t, 1) for t in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)]


def freireich_cohort() -> Cohort:
    """The data as a cohort table (times in the ``os_months`` column, though weeks)."""
    rows = [
        {"patient_id": f"{group}-{i:02d}", "group": group, "os_months": t, "death": d}
        for group, data in (("6-MP", SIX_MP), ("placebo", PLACEBO))
        for i, (t, d) in enumerate(data)
    ]
    return from_records(rows, source="Freireich 1963")
