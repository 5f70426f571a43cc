"""Activity maps as numbers of decays, and local deposition (LDM) voxel dosimetry.

Local deposition: all beta energy released in a voxel is absorbed in that voxel,

.. math:: D_v = \\bar E_\\beta \\tilde N_v / (\\rho_v V_v) = k \\, \\tilde A_v / M_v

with ``N`` the number of decays in the voxel (for a permanent implant, the activity at
implantation times the mean life ``T1/2 / ln 2``), ``E_beta`` the mean beta energy per decay
and ``M = rho V`` the voxel mass (MIRD Pamphlet 21, Bolch et al. 2009, J Nucl Med 50:477,
doi:10.2967/jnumed.108.056036; for Y-90 microspheres: Pasciak et al. 2014, Front Oncol 4:121,
doi:10.3389/fonc.2014.00121). With ``k = 49.67`` Gy kg/GBq this is the MIRD/partition-model
formula; by default ``k`` comes from the decay data (:mod:`opensirt.physics.nuclides`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.density import density_array
from opensirt.dosimetry.kernels import SOFT_TISSUE_DENSITY_G_PER_ML
from opensirt.errors import InputError, check_positive
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import (
    JOULE_PER_MEV,
    SECONDS_PER_HOUR,
    Nuclide,
    NuclideName,
    get_nuclide,
)

_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_TIME = {"s": 1.0, "h": SECONDS_PER_HOUR}


def _parse_activity_units(units: str) -> tuple[float, bool, bool]:
    """``(factor to Bq or Bq s, cumulated, per mL)`` for unit strings such as ``"MBq/mL"``,
    ``"GBq"``, ``"MBq s"`` or ``"GBq h"``."""
    text = units.strip().lower().replace("*", " ").replace(".", " ").replace("·", " ")
    per_ml = text.endswith("/ml")
    text = text.removesuffix("/ml").strip()
    parts = text.split()
    if not parts or not parts[0].endswith("bq") or parts[0][:-2] not in _PREFIX:
        raise ValueError(units)
    factor = _PREFIX[parts[0][:-2]]
    if len(parts) == 1:
        return factor, False, per_ml
    if len(parts) == 2 and parts[1] in _TIME:
        return factor * _TIME[parts[1]], True, per_ml
    raise ValueError(units)


def decays_per_voxel(activity: Volume, nuclide: Nuclide | NuclideName | str) -> npt.NDArray[Any]:
    """Number of decays in each voxel (float32 array) from an activity or cumulated-activity map.

    ``activity.units`` says what the values are: an activity (``"Bq"``, ``"kBq"``,
    ``"MBq"``, ``"GBq"``, per voxel, or the same per mL as ``"MBq/mL"``) at implantation,
    assumed to decay completely in place (permanent microspheres: ``N = A T1/2 / ln 2``), or
    a cumulated activity (``"Bq s"``, ``"MBq s"``, ``"MBq h"``, ``"GBq h"``, optionally ``/mL``).
    Negative values (reconstruction noise) are kept: every method here is linear.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity per voxel or per mL, its ``units`` as above.
    nuclide : Nuclide or NuclideName or str
        The radionuclide (its mean life converts activity to decays).

    Returns
    -------
    numpy.ndarray
        float32 number of decays in each voxel (dimensionless), indexed ``[k, j, i]``.

    Raises
    ------
    InputError
        If the units are not an activity or a cumulated activity, or a value is NaN or
        infinite.
    """
    nuc = get_nuclide(nuclide)
    try:
        factor, cumulated, per_ml = _parse_activity_units(activity.units)
    except ValueError:
        raise InputError(
            f"activity.units is {activity.units!r}, expected an activity ('GBq', 'MBq', 'kBq',"
            " 'Bq', or per mL like 'MBq/mL') or a cumulated activity ('MBq s', 'GBq h', ...); "
            "set the units of the activity Volume"
        ) from None
    values = np.asarray(activity.array, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise InputError("activity map contains NaN or infinite values; fill or mask them first")
    if not cumulated:
        factor *= nuc.mean_life_h * SECONDS_PER_HOUR
    if per_ml:
        factor *= activity.voxel_volume_ml
    out: npt.NDArray[Any] = (values * factor).astype(np.float32)
    return out


def energy_per_decay_j(
    nuclide: Nuclide | NuclideName | str, dose_constant_gy_kg_per_gbq: float | None = None
) -> float:
    """Beta energy released per decay (J): from the decay data, or implied by a dose constant.

    A conventional constant ``k`` (Gy kg/GBq, complete decay) implies ``k / (1e9 tau)``
    joules per decay, ``tau`` the mean life in seconds.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        The radionuclide.
    dose_constant_gy_kg_per_gbq : float or None, optional
        A conventional dose constant (Gy kg/GBq, complete decay), e.g. 49.67 for Y-90; None
        for the mean beta energy of the decay data (ICRP 107).

    Returns
    -------
    float
        Beta energy released per decay (J).

    Raises
    ------
    InputError
        If the dose constant is not positive.

    Examples
    --------
    >>> round(energy_per_decay_j("Y-90", 49.67) / energy_per_decay_j("Y-90"), 4)
    0.9988
    """
    nuc = get_nuclide(nuclide)
    if dose_constant_gy_kg_per_gbq is None:
        return nuc.mean_beta_energy_mev * JOULE_PER_MEV
    k = check_positive("dose_constant_gy_kg_per_gbq", dose_constant_gy_kg_per_gbq, "Gy kg/GBq")
    return k / (1e9 * nuc.mean_life_h * SECONDS_PER_HOUR)


def dose_volume(reference: Volume, dose_gy: npt.NDArray[Any], **metadata: Any) -> Volume:
    """A dose Volume (units ``"Gy"``) on ``reference``'s grid with provenance metadata.

    Parameters
    ----------
    reference : Volume
        The grid the dose was computed on (usually the activity map).
    dose_gy : numpy.ndarray
        Absorbed dose (Gy), the shape of ``reference``, indexed ``[k, j, i]``.
    **metadata : Any
        Provenance (``method``, ``nuclide``, ...) added to the reference's metadata, with
        ``quantity`` set to ``"absorbed dose"``.

    Returns
    -------
    Volume
        The dose map, ``units == "Gy"``.

    Raises
    ------
    GeometryError
        If ``dose_gy`` does not have the reference's shape.
    """
    return reference.with_array(dose_gy, units="Gy", quantity="absorbed dose", **metadata)


def absorbed_energy_dose(
    activity: Volume,
    absorbed: npt.NDArray[np.float32],
    rho: npt.NDArray[np.float32],
    nuclide: Nuclide,
    energy_j: float,
    **metadata: Any,
) -> Volume:
    """The dose of decays' worth of absorbed energy per voxel: ``absorbed E / (rho V)``.

    Parameters
    ----------
    activity : Volume
        The activity map the dose belongs to (its grid and voxel volume).
    absorbed : numpy.ndarray
        Decays whose whole energy is absorbed in each voxel (decays x absorbed fraction),
        float32; scaled in place into the dose.
    rho : numpy.ndarray
        Mass density (g/mL) per voxel.
    nuclide : Nuclide
        The nuclide (named in the metadata with its dose constant).
    energy_j : float
        Energy per decay (J), :func:`energy_per_decay_j`.
    **metadata : Any
        Provenance of the method (``method``, ...).

    Returns
    -------
    Volume
        Dose in Gy on the activity grid, with the nuclide, the energy per decay and the
        equivalent dose constant in its metadata.
    """
    absorbed *= np.float32(energy_j)
    absorbed /= rho * np.float32(activity.voxel_volume_ml * 1e-3)
    return dose_volume(
        activity,
        absorbed,
        nuclide=str(nuclide.name),
        energy_per_decay_j=energy_j,
        dose_constant_gy_kg_per_gbq=energy_j * 1e9 * nuclide.mean_life_h * SECONDS_PER_HOUR,
        **metadata,
    )


def local_deposition_dose(
    activity: Volume,
    nuclide: Nuclide | NuclideName | str,
    *,
    density: Volume | float | None = None,
    dose_constant_gy_kg_per_gbq: float | None = None,
) -> Volume:
    """Absorbed dose (Gy) by local deposition of all beta energy in the voxel of decay.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity per voxel or per mL (see :func:`decays_per_voxel`).
    nuclide : str or NuclideName
        ``"Y-90"`` or ``"Ho-166"``.
    density : Volume or float, optional
        Mass density (g/mL) map on the same grid, or one value; default soft tissue 1.04 g/mL
        (MIRD Pamphlet 17).
    dose_constant_gy_kg_per_gbq : float, optional
        A conventional constant (49.67 partition-model literature, 50 glass IFU) instead of
        the decay-data value.

    Returns
    -------
    Volume
        Dose in Gy (float32) on the activity grid; ``metadata["method"] == "LDM"``.

    Raises
    ------
    InputError
        If the activity's units are not an activity, a value is not finite, a density is
        not > 0 g/mL, or the dose constant is not positive.
    GeometryError
        If a density map is not on the activity grid.

    Examples
    --------
    1 GBq of Y-90 in 1000 voxels of 1 mL of density 1.0 (1 kg): 49.73 Gy with the decay data,
    49.67 Gy with the conventional constant.

    >>> grid = Volume(np.full((10, 10, 10), 1e-3), spacing_mm=(10.0, 10.0, 10.0), units="GBq")
    >>> round(float(local_deposition_dose(grid, "Y-90", density=1.0).array[0, 0, 0]), 2)
    49.73
    >>> dose = local_deposition_dose(grid, "Y-90", density=1.0, dose_constant_gy_kg_per_gbq=49.67)
    >>> round(float(dose.array[5, 5, 5]), 2)
    49.67
    """
    nuc = get_nuclide(nuclide)
    decays = decays_per_voxel(activity, nuc)
    rho = density_array(density, activity, SOFT_TISSUE_DENSITY_G_PER_ML)
    mass_kg = rho * np.float32(activity.voxel_volume_ml * 1e-3)
    energy = energy_per_decay_j(nuc, dose_constant_gy_kg_per_gbq)
    dose = decays * np.float32(energy) / mass_kg
    return dose_volume(
        activity,
        dose,
        method="LDM",
        nuclide=str(nuc.name),
        energy_per_decay_j=energy,
        dose_constant_gy_kg_per_gbq=energy * 1e9 * nuc.mean_life_h * SECONDS_PER_HOUR,
    )


def total_energy_j(dose: Volume, density: Volume | float | None = None) -> float:
    """Energy absorbed in a dose map (J): the sum of dose x voxel mass.

    Parameters
    ----------
    dose : Volume
        Absorbed dose (Gy).
    density : Volume or float or None, optional
        Mass density map (g/mL) on the dose grid, or one value; None for soft tissue,
        1.04 g/mL.

    Returns
    -------
    float
        Absorbed energy (J = Gy kg), summed with compensated (fsum) float64 arithmetic.

    Raises
    ------
    GeometryError
        If the density map is not on the dose grid.
    InputError
        If a density is not finite or not > 0 g/mL.

    Examples
    --------
    >>> grid = Volume(np.full((2, 2, 2), 2.0), spacing_mm=(10.0, 10.0, 10.0), units="Gy")
    >>> round(total_energy_j(grid, 1.0), 6)  # 8 voxels x 1 g x 2 Gy
    0.016
    """
    rho = density_array(density, dose, SOFT_TISSUE_DENSITY_G_PER_ML).astype(np.float64)
    return float(
        math.fsum((np.asarray(dose.array, np.float64) * rho).ravel()) * dose.voxel_volume_ml * 1e-3
    )
