"""Radiobiology of permanent implants: BED, EQD2, EUD, NTCP (LKB) and TCP (logistic).

BED of a permanent, exponentially decaying source (Dale 1985, Br J Radiol 58:515,
doi:10.1259/0007-1285-58-690-515), linear-quadratic model with mono-exponential sublethal
damage repair (repair half-time ``T_rep``), decay half-time ``T_phys``, no proliferation
and no biological clearance (microspheres are permanently trapped), delivery to completion:

.. math:: BED = D \\left(1 + \\frac{D\\, T_{rep}}{(T_{rep} + T_{phys})\\, \\alpha/\\beta}\\right)

Assumptions: the dose rate follows the physical decay everywhere (uniform sphere
distribution in time), the LQ model holds at these dose rates, and repopulation during the
weeks of delivery is ignored (it would lower the tumour BED).

EQD2 = BED / (1 + 2 Gy / (alpha/beta)) (Withers et al. 1983; Bentzen et al. 2012, Radiother
Oncol 105:266, doi:10.1016/j.radonc.2012.10.006).

Default tissue parameters (:data:`TISSUES`): normal liver alpha/beta = 2.5 Gy, tumour (HCC)
alpha/beta = 10 Gy, both ``T_rep`` = 1.5 h, as used for Y-90 radioembolization by Strigari
et al. 2010 (J Nucl Med 51:1377, doi:10.2967/jnumed.110.075861) and reviewed by Cremonesi et
al. 2014 (Front Oncol 4:210, doi:10.3389/fonc.2014.00210).

Dose-response models take their parameters explicitly: :class:`LKBParameters` and
:class:`LogisticTCPParameters`. One published set is shipped: the whole-liver RILD model of
Dawson et al. 2002 (external beam, 1.5 Gy twice daily; Int J Radiat Oncol Biol Phys 53:810,
doi:10.1016/S0360-3016(02)02846-8), which applies to SIRT doses only after conversion to
EQD2-like doses and has not been validated for radioembolization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from opensirt.errors import InputError, check_positive
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TissueParameters:
    """Linear-quadratic parameters of a tissue.

    Attributes
    ----------
    alpha_beta_gy : float
        alpha/beta ratio, Gy.
    repair_half_time_h : float
        Half-time of mono-exponential sublethal-damage repair, h.
    source : str
        Reference.
    """

    alpha_beta_gy: float
    repair_half_time_h: float
    source: str

    def __post_init__(self) -> None:
        check_positive("alpha_beta_gy", self.alpha_beta_gy, "Gy")
        check_positive("repair_half_time_h", self.repair_half_time_h, "h")


_STRIGARI = "Strigari et al. 2010 doi:10.2967/jnumed.110.075861; Cremonesi et al. 2014"
TISSUES: dict[str, TissueParameters] = {
    "normal_liver": TissueParameters(2.5, 1.5, _STRIGARI),
    "tumour": TissueParameters(10.0, 1.5, _STRIGARI),
}


def _as_array(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return arr


def bed_permanent_implant(
    dose_gy: npt.ArrayLike,
    nuclide: Nuclide | NuclideName | str,
    tissue: TissueParameters | str,
) -> FloatArray:
    """BED (Gy) of absorbed doses delivered by a permanent decaying implant (voxel-wise).

    Parameters
    ----------
    dose_gy : array_like
        Absorbed dose to complete decay, Gy (scalar, DVH or voxel map).
    nuclide : str or NuclideName
        Sets ``T_phys`` (Y-90: 64.1 h; Ho-166: 26.8 h).
    tissue : TissueParameters or str
        Parameters, or a key of :data:`TISSUES` (``"normal_liver"``, ``"tumour"``).

    Returns
    -------
    numpy.ndarray
        BED (Gy), float64, shape of ``dose_gy`` (0-d for a scalar).

    Raises
    ------
    InputError
        If a dose is NaN or infinite, or ``tissue`` is an unknown key.

    Examples
    --------
    100 Gy of Y-90 to tumour (alpha/beta 10 Gy, T_rep 1.5 h):
    BED = 100 (1 + 100 x 1.5 / ((1.5 + 64.1) x 10)) = 100 x 1.228659 = 122.87 Gy.

    >>> round(float(bed_permanent_implant(100.0, "Y-90", "tumour")), 2)
    122.87
    """
    params = tissue_parameters(tissue)
    t_phys = get_nuclide(nuclide).half_life_h
    d = _as_array(dose_gy, "dose_gy")
    g = params.repair_half_time_h / ((params.repair_half_time_h + t_phys) * params.alpha_beta_gy)
    out: FloatArray = d * (1.0 + g * d)
    return out


def eqd2(bed_gy: npt.ArrayLike, tissue: TissueParameters | str) -> FloatArray:
    """EQD2 (Gy): the dose in 2 Gy fractions with the same BED.

    ``EQD2 = BED / (1 + 2 Gy / (alpha/beta))``.

    Parameters
    ----------
    bed_gy : array_like
        Biologically effective dose (Gy).
    tissue : TissueParameters or str
        Parameters, or a key of :data:`TISSUES`.

    Returns
    -------
    numpy.ndarray
        EQD2 (Gy), float64, shape of ``bed_gy``.

    Raises
    ------
    InputError
        If a BED is NaN or infinite, or ``tissue`` is an unknown key.

    Examples
    --------
    >>> round(float(eqd2(122.87, "tumour")), 2)  # 122.87 / 1.2
    102.39
    """
    params = tissue_parameters(tissue)
    out: FloatArray = _as_array(bed_gy, "bed_gy") / (1.0 + 2.0 / params.alpha_beta_gy)
    return out


def dose_from_bed(
    bed_gy: npt.ArrayLike, nuclide: Nuclide | NuclideName | str, tissue: TissueParameters | str
) -> FloatArray:
    """Absorbed dose (Gy) of a permanent implant that gives ``bed_gy`` (inverse of the BED).

    The positive root of ``BED = D (1 + g D)``, ``g = T_rep / ((T_rep + T_phys) alpha/beta)``.

    Parameters
    ----------
    bed_gy : array_like
        Biologically effective dose (Gy), >= 0.
    nuclide : Nuclide or NuclideName or str
        Sets ``T_phys``.
    tissue : TissueParameters or str
        Parameters, or a key of :data:`TISSUES`.

    Returns
    -------
    numpy.ndarray
        Absorbed dose to complete decay (Gy), float64, shape of ``bed_gy``.

    Raises
    ------
    InputError
        If a BED is NaN or infinite, or ``tissue`` is an unknown key.

    Examples
    --------
    >>> round(float(dose_from_bed(122.8659, "Y-90", "tumour")), 3)
    100.0
    """
    params = tissue_parameters(tissue)
    t_phys = get_nuclide(nuclide).half_life_h
    g = params.repair_half_time_h / ((params.repair_half_time_h + t_phys) * params.alpha_beta_gy)
    b = _as_array(bed_gy, "bed_gy")
    out: FloatArray = (np.sqrt(1.0 + 4.0 * g * b) - 1.0) / (2.0 * g)
    return out


def tissue_parameters(tissue: TissueParameters | str) -> TissueParameters:
    """The :class:`TissueParameters` for a key of :data:`TISSUES`, or ``tissue`` itself.

    Parameters
    ----------
    tissue : TissueParameters or str
        Parameters (returned as they are), or ``"normal_liver"`` or ``"tumour"``.

    Returns
    -------
    TissueParameters
        alpha/beta (Gy), repair half-time (h) and source.

    Raises
    ------
    InputError
        If ``tissue`` is a string that is not a key of :data:`TISSUES`.
    """
    if isinstance(tissue, TissueParameters):
        return tissue
    if tissue not in TISSUES:
        raise InputError(f"tissue is {tissue!r}, expected one of {sorted(TISSUES)} or parameters")
    return TISSUES[tissue]


def _volume_weights(dose: FloatArray, weights: npt.ArrayLike | None) -> FloatArray:
    if weights is None:
        return np.full(dose.shape, 1.0 / max(dose.size, 1))
    w = _as_array(weights, "weights")
    if w.shape != dose.shape or w.min() < 0.0 or w.sum() <= 0.0:
        raise InputError(
            f"weights have shape {w.shape} and sum {w.sum()!r}, expected non-negative volume "
            f"weights of the dose's shape {dose.shape} with a positive sum"
        )
    out: FloatArray = w / w.sum()
    return out


def generalized_eud(
    dose_gy: npt.ArrayLike, a: float, weights: npt.ArrayLike | None = None
) -> float:
    """Generalised EUD (Niemierko 1999, Med Phys 26:1100; doi:10.1118/1.598063):
    ``(sum_i v_i D_i^a)^(1/a)``, ``v_i`` relative volumes (``weights``, normalised).

    ``a < 0`` for tumours (cold spots dominate), ``a = 1`` the mean, ``a >> 1`` serial organs.

    Parameters
    ----------
    dose_gy : array_like
        Voxel (or DVH bin) doses (Gy), any shape (flattened).
    a : float
        The gEUD volume parameter (dimensionless), non-zero.
    weights : array_like or None, optional
        Relative volume of each dose (e.g. voxel occupancies), non-negative, same size as
        ``dose_gy``; None weighs every dose equally.

    Returns
    -------
    float
        gEUD (Gy); 0 for ``a < 0`` when a weighted dose is <= 0.

    Raises
    ------
    InputError
        If ``a`` is 0, a dose or weight is not finite, or the weights are negative, of
        another shape, or sum to 0.

    Examples
    --------
    >>> round(generalized_eud([10.0, 40.0], 1.0), 6), round(generalized_eud([10.0, 40.0], -1.0), 6)
    (25.0, 16.0)
    """
    d = _as_array(dose_gy, "dose_gy").ravel()
    v = _volume_weights(d, None if weights is None else np.asarray(weights, float).ravel())
    if a == 0.0:
        raise InputError("a is 0, expected a non-zero gEUD parameter (a = 1 is the mean dose)")
    if a < 0.0 and np.any(d[v > 0] <= 0.0):
        return 0.0
    return float(np.sum(v * d**a) ** (1.0 / a))


def lq_eud(
    dose_gy: npt.ArrayLike,
    alpha_per_gy: float,
    nuclide: Nuclide | NuclideName | str,
    tissue: TissueParameters | str,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Linear-quadratic EUD (O'Donoghue 1999, J Nucl Med 40:1337) for a permanent implant.

    The uniform absorbed dose whose surviving fraction ``exp(-alpha BED)`` equals the
    volume-averaged surviving fraction of the non-uniform dose: first the equivalent uniform
    BED ``EUBED = -ln(sum_i v_i exp(-alpha BED_i)) / alpha``, then the absorbed dose with that
    BED (:func:`dose_from_bed`).

    Parameters
    ----------
    dose_gy : array_like
        Voxel (or DVH bin) absorbed doses to complete decay (Gy), any shape (flattened).
    alpha_per_gy : float
        Radiosensitivity ``alpha`` (1/Gy), > 0.
    nuclide : Nuclide or NuclideName or str
        Sets ``T_phys`` of the BED.
    tissue : TissueParameters or str
        Parameters, or a key of :data:`TISSUES`.
    weights : array_like or None, optional
        Relative volume of each dose, non-negative; None weighs every dose equally.

    Returns
    -------
    float
        The LQ-EUD, an absorbed dose (Gy).

    Raises
    ------
    InputError
        If ``alpha_per_gy`` is not positive, a dose or weight is not finite, the weights
        are invalid, or ``tissue`` is an unknown key.
    """
    alpha = check_positive("alpha_per_gy", alpha_per_gy, "1/Gy")
    d = _as_array(dose_gy, "dose_gy").ravel()
    v = _volume_weights(d, None if weights is None else np.asarray(weights, float).ravel())
    bed = bed_permanent_implant(d, nuclide, tissue)
    # log-sum-exp for numerical safety at high doses
    x = -alpha * bed
    x_max = float(np.max(x[v > 0]))
    eubed = -(x_max + math.log(float(np.sum(v * np.exp(x - x_max))))) / alpha
    return float(dose_from_bed(eubed, nuclide, tissue))


@dataclass(frozen=True)
class LKBParameters:
    """Lyman-Kutcher-Burman NTCP parameters: ``TD50`` (Gy), slope ``m``, volume effect ``n``."""

    td50_gy: float
    m: float
    n: float
    source: str

    def __post_init__(self) -> None:
        for name, value, unit in (
            ("td50_gy", self.td50_gy, "Gy"),
            ("m", self.m, ""),
            ("n", self.n, ""),
        ):
            check_positive(name, value, unit)


#: Whole-liver radiation-induced liver disease, external beam, primary liver cancer
#: (Dawson et al. 2002, doi:10.1016/S0360-3016(02)02846-8): n = 0.97, m = 0.12, TD50 = 45.8 Gy.
DAWSON_2002_PRIMARY_LIVER = LKBParameters(45.8, 0.12, 0.97, "Dawson et al. 2002, primary")
#: The same, liver metastases: TD50 = 39.8 Gy.
DAWSON_2002_METASTASES = LKBParameters(39.8, 0.12, 0.97, "Dawson et al. 2002, metastases")


def lkb_ntcp(
    dose_gy: npt.ArrayLike, params: LKBParameters, weights: npt.ArrayLike | None = None
) -> float:
    """LKB normal-tissue complication probability (Lyman 1985, Radiat Res Suppl 8:S13,
    doi:10.2307/3583506; Kutcher & Burman 1989, Int J Radiat Oncol Biol Phys 16:1623,
    doi:10.1016/0360-3016(89)90972-3).

    ``NTCP = Phi((EUD - TD50) / (m TD50))`` with ``EUD = (sum_i v_i D_i^(1/n))^n``.

    Parameters
    ----------
    dose_gy : array_like
        Voxel (or DVH bin) doses (Gy) of the organ, of the kind (physical or EQD2) that
        ``params`` were fitted to.
    params : LKBParameters
        ``TD50`` (Gy), ``m`` and ``n``.
    weights : array_like or None, optional
        Relative volume of each dose, non-negative; None weighs every dose equally.

    Returns
    -------
    float
        Complication probability in [0, 1].

    Raises
    ------
    InputError
        If a dose or weight is not finite, or the weights are invalid.

    Examples
    --------
    >>> p = LKBParameters(50.0, 0.2, 1.0, "example")
    >>> round(lkb_ntcp([50.0], p), 6), round(lkb_ntcp([60.0], p), 4)  # Phi(0), Phi(1)
    (0.5, 0.8413)
    """
    eud = generalized_eud(dose_gy, 1.0 / params.n, weights)
    t = (eud - params.td50_gy) / (params.m * params.td50_gy)
    return float(ndtr(t))


@dataclass(frozen=True)
class LogisticTCPParameters:
    """Logistic dose-response: ``D50`` (Gy) and normalised slope ``gamma50``."""

    d50_gy: float
    gamma50: float
    source: str

    def __post_init__(self) -> None:
        check_positive("d50_gy", self.d50_gy, "Gy")
        check_positive("gamma50", self.gamma50, "")


def logistic_tcp(dose_gy: npt.ArrayLike, params: LogisticTCPParameters) -> Any:
    """Tumour control (or response) probability ``1 / (1 + (D50 / D)^(4 gamma50))``
    (Okunieff et al. 1995, Int J Radiat Oncol Biol Phys 32:1227,
    doi:10.1016/0360-3016(94)00475-Z). ``dose_gy`` is the mean (or EUD) dose.

    Parameters
    ----------
    dose_gy : array_like
        Mean (or EUD) tumour dose (Gy), a scalar or an array of doses; 0 gives 0.
    params : LogisticTCPParameters
        ``D50`` (Gy) and ``gamma50``.

    Returns
    -------
    float or numpy.ndarray
        Probability in [0, 1]: a float for a scalar dose, else a float64 array of its shape.

    Raises
    ------
    InputError
        If a dose is NaN or infinite.

    Examples
    --------
    >>> p = LogisticTCPParameters(100.0, 1.0, "example")
    >>> round(float(logistic_tcp(100.0, p)), 6), round(float(logistic_tcp(200.0, p)), 6)
    (0.5, 0.941176)
    """
    d = _as_array(dose_gy, "dose_gy")
    with np.errstate(divide="ignore"):
        ratio = np.where(d > 0, params.d50_gy / np.where(d > 0, d, 1.0), np.inf)
    out = 1.0 / (1.0 + ratio ** (4.0 * params.gamma50))
    return float(out) if out.ndim == 0 else out
