"""Mass density of tissue from CT numbers (HU), and voxel masses.

The default calibration is the piecewise-linear curve of Schneider, Bortfeld & Schlegel 2000
(Phys Med Biol 45:459, doi:10.1088/0031-9155/45/2/314), shipped in
``dosimetry/data/hu_density_schneider2000.csv``: air -1000 HU -> 0.00121 g/mL, adipose
-98 HU -> 0.93 g/mL, soft tissue 14-100 HU -> 1.03-1.12 g/mL, bone 1600 HU -> 1.96 g/mL.
Lung parenchyma (-850 to -700 HU) maps to about 0.16-0.31 g/mL. A calibration measured on
the actual scanner (electron-density phantom) should be passed where available.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import numpy.typing as npt

from opensirt.errors import DataFileError, InputError
from opensirt.imaging.volume import Volume

#: CT numbers outside this range are not tissue (scanner padding, metal): refused.
_HU_VALID_RANGE = (-1100.0, 4000.0)


@functools.cache
def schneider_calibration() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The shipped HU -> density calibration points ``(hu, density_g_per_ml)``.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        CT numbers (HU, increasing) and mass densities (g/mL) of the Schneider et al. 2000
        curve, float64; read once and cached.

    Raises
    ------
    DataFileError
        If the shipped table is damaged (reinstall).

    Examples
    --------
    >>> hu, rho = schneider_calibration()
    >>> float(np.interp(0.0, hu, rho)) > 1.0
    True
    """
    text = (
        resources.files("opensirt.dosimetry")
        .joinpath("data", "hu_density_schneider2000.csv")
        .read_text("utf-8")
    )
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    if rows[0] != ["hu", "density_g_per_ml"]:
        raise DataFileError("hu_density_schneider2000.csv has an unexpected header; reinstall")
    table = np.array([[float(v) for v in row] for row in rows[1:]])
    return table[:, 0], table[:, 1]


#: Arrays larger than this use the look-up table of :func:`hu_to_density` (integer HU).
_LUT_MIN_SIZE = 100_000


def hu_to_density(
    hu: npt.ArrayLike,
    calibration: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> npt.NDArray[np.float32]:
    """Mass density (g/mL) of CT numbers ``hu`` by piecewise-linear interpolation.

    Parameters
    ----------
    hu : array_like
        CT numbers (Hounsfield units).
    calibration : (hu_points, density_points), optional
        A scanner calibration, HU increasing; default Schneider et al. 2000.

    Returns
    -------
    ndarray of float32
        Density in g/mL, same shape as ``hu``.

    Raises
    ------
    InputError
        If a CT number lies outside [-1100, 4000] HU (not a tissue: padding value, metal, or
        an image that is not in HU).

    Examples
    --------
    >>> [round(float(d), 3) for d in hu_to_density([-1000, -800, 0, 1600])]
    [0.001, 0.207, 1.017, 1.964]
    """
    values = np.asarray(hu, dtype=np.float32)
    lo, hi = _HU_VALID_RANGE
    # the quick check: min and max are NaN if any value is, so in range means no NaN either
    in_range = values.size == 0 or (lo <= float(values.min()) and float(values.max()) <= hi)
    if not in_range and (float(np.nanmin(values)) < lo or float(np.nanmax(values)) > hi):
        raise InputError(
            f"CT numbers span {float(np.nanmin(values)):.0f} to {float(np.nanmax(values)):.0f} "
            f"HU, expected values in [{lo:.0f}, {hi:.0f}] HU (is the image in HU, with the "
            "rescale slope/intercept applied and the padding value masked?)"
        )
    if not in_range:  # in range once the NaNs are left out
        raise InputError("CT numbers contain NaN; mask or fill them before computing density")
    points_hu, points_rho = calibration if calibration is not None else schneider_calibration()
    xp = np.asarray(points_hu, dtype=np.float64)
    fp = np.asarray(points_rho, dtype=np.float64)
    if xp.ndim != 1 or xp.shape != fp.shape or np.any(np.diff(xp) <= 0) or np.any(fp <= 0):
        raise InputError(
            "calibration must be two equal-length 1-D sequences, HU strictly increasing and "
            "densities > 0 g/mL"
        )
    whole = values.astype(np.int32) if values.size > _LUT_MIN_SIZE else None
    if whole is not None and np.array_equal(whole, values):
        # integer CT numbers (the usual slope 1, integer intercept): the same interpolation,
        # done once per HU value of the range and looked up (clinical CTs: 65 M voxels)
        low = int(whole.min())
        table = np.interp(np.arange(low, int(whole.max()) + 1), xp, fp).astype(np.float32)
        looked_up: npt.NDArray[np.float32] = table[whole - low]
        return looked_up
    return np.interp(values, xp, fp).astype(np.float32)


def density_from_ct(
    ct: Volume, calibration: tuple[npt.ArrayLike, npt.ArrayLike] | None = None
) -> Volume:
    """A density map (g/mL) on the CT grid from a CT volume in HU.

    Parameters
    ----------
    ct : Volume
        CT in Hounsfield units (``units`` ``"HU"`` or empty), rescale applied.
    calibration : tuple of (array_like, array_like) or None, optional
        ``(hu_points, density_g_per_ml_points)`` of a scanner calibration, HU strictly
        increasing; None for Schneider et al. 2000.

    Returns
    -------
    Volume
        float32 mass density (``units == "g/mL"``) on the CT grid.

    Raises
    ------
    InputError
        If the CT is not in HU, a value lies outside [-1100, 4000] HU or is NaN, or the
        calibration is malformed.
    """
    if ct.units and ct.units.upper() != "HU":
        raise InputError(f"ct.units is {ct.units!r}, expected 'HU' (a CT in Hounsfield units)")
    return ct.with_array(hu_to_density(ct.array, calibration), units="g/mL")


def density_array(
    density: Volume | float | None, reference: Volume, default_g_per_ml: float
) -> npt.NDArray[np.float32]:
    """Density (g/mL) on ``reference``'s grid: from a map, a number or the default.

    Parameters
    ----------
    density : Volume or float or None
        A density map (g/mL) on ``reference``'s grid, one density for every voxel (g/mL), or
        None for ``default_g_per_ml``.
    reference : Volume
        The grid the densities are wanted on (e.g. the activity map).
    default_g_per_ml : float
        Density used when ``density`` is None (g/mL), e.g. 1.04 for soft tissue.

    Returns
    -------
    numpy.ndarray
        float32 densities (g/mL), shape of ``reference``, indexed ``[k, j, i]``.

    Raises
    ------
    GeometryError
        If a density map is not on ``reference``'s grid.
    InputError
        If a density is not finite or not > 0 g/mL.
    """
    if density is None:
        density = default_g_per_ml
    if isinstance(density, Volume):
        reference.require_same_grid(density, "activity and density maps")
        rho = np.asarray(density.array, dtype=np.float32)
    else:
        rho = np.full(reference.shape, float(density), dtype=np.float32)
    if not np.all(np.isfinite(rho)) or float(rho.min()) <= 0.0:
        raise InputError(
            f"density has values down to {float(np.nanmin(rho))!r} g/mL, expected densities > 0 "
            "g/mL everywhere (air is 0.0012 g/mL; build it with density_from_ct)"
        )
    return rho
