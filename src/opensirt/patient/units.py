"""Conversions between SI and conventional laboratory units, done once at the edges.

Factors from the molar masses: bilirubin 584.66 g/mol, so 1 mg/dL = 10 mg/L / 584.66 g/mol
= 17.10 umol/L (the factor 17.1 used by Johnson et al. 2015 for ALBI); creatinine
113.12 g/mol, so 1 mg/dL = 88.4 umol/L; albumin 1 g/dL = 10 g/L by definition of the units.
"""

from __future__ import annotations

BILIRUBIN_UMOL_L_PER_MG_DL = 17.1
CREATININE_UMOL_L_PER_MG_DL = 88.4
ALBUMIN_G_L_PER_G_DL = 10.0


def bilirubin_mg_dl_to_umol_l(bilirubin_mg_dl: float) -> float:
    """Bilirubin from mg/dL to umol/L.

    Parameters
    ----------
    bilirubin_mg_dl : float
        Total serum bilirubin (mg/dL).

    Returns
    -------
    float
        The same concentration (umol/L), at 17.1 umol/L per mg/dL.

    Examples
    --------
    >>> bilirubin_mg_dl_to_umol_l(2.0)
    34.2
    """
    return bilirubin_mg_dl * BILIRUBIN_UMOL_L_PER_MG_DL


def bilirubin_umol_l_to_mg_dl(bilirubin_umol_l: float) -> float:
    """Bilirubin from umol/L to mg/dL.

    Parameters
    ----------
    bilirubin_umol_l : float
        Total serum bilirubin (umol/L).

    Returns
    -------
    float
        The same concentration (mg/dL), at 17.1 umol/L per mg/dL.

    Examples
    --------
    >>> round(bilirubin_umol_l_to_mg_dl(51.3), 12)
    3.0
    """
    return bilirubin_umol_l / BILIRUBIN_UMOL_L_PER_MG_DL


def albumin_g_dl_to_g_l(albumin_g_dl: float) -> float:
    """Albumin from g/dL to g/L.

    Parameters
    ----------
    albumin_g_dl : float
        Serum albumin (g/dL).

    Returns
    -------
    float
        The same concentration (g/L), at 10 g/L per g/dL.

    Examples
    --------
    >>> albumin_g_dl_to_g_l(3.5)
    35.0
    """
    return albumin_g_dl * ALBUMIN_G_L_PER_G_DL


def albumin_g_l_to_g_dl(albumin_g_l: float) -> float:
    """Albumin from g/L to g/dL.

    Parameters
    ----------
    albumin_g_l : float
        Serum albumin (g/L).

    Returns
    -------
    float
        The same concentration (g/dL), at 10 g/L per g/dL.

    Examples
    --------
    >>> albumin_g_l_to_g_dl(28.0)
    2.8
    """
    return albumin_g_l / ALBUMIN_G_L_PER_G_DL


def creatinine_umol_l_to_mg_dl(creatinine_umol_l: float) -> float:
    """Creatinine from umol/L to mg/dL.

    Parameters
    ----------
    creatinine_umol_l : float
        Serum creatinine (umol/L).

    Returns
    -------
    float
        The same concentration (mg/dL), at 88.4 umol/L per mg/dL.

    Examples
    --------
    >>> round(creatinine_umol_l_to_mg_dl(88.4), 12)
    1.0
    """
    return creatinine_umol_l / CREATININE_UMOL_L_PER_MG_DL
