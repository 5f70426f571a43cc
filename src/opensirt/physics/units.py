"""Unit conversions used only at the edges (input and display); inside, GBq and Gy.

1 Ci = 3.7e10 Bq exactly (definition of the curie, CIPM 1964), so 1 mCi = 37 MBq.
"""

from __future__ import annotations

MBQ_PER_MCI = 37.0
GBQ_PER_MCI = MBQ_PER_MCI / 1000.0


def mci_to_gbq(activity_mci: float) -> float:
    """Convert millicuries to gigabecquerels.

    Parameters
    ----------
    activity_mci : float
        Activity (mCi).

    Returns
    -------
    float
        The same activity (GBq), at 37 MBq per mCi.

    Examples
    --------
    >>> round(mci_to_gbq(100.0), 12)
    3.7
    """
    return activity_mci * GBQ_PER_MCI


def gbq_to_mci(activity_gbq: float) -> float:
    """Convert gigabecquerels to millicuries.

    Parameters
    ----------
    activity_gbq : float
        Activity (GBq).

    Returns
    -------
    float
        The same activity (mCi), at 37 MBq per mCi.

    Examples
    --------
    >>> round(gbq_to_mci(3.7), 12)
    100.0
    """
    return activity_gbq / GBQ_PER_MCI
