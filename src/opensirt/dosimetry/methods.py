"""One entry point for every voxel dose method: :func:`absorbed_dose`.

The methods are named by :class:`~opensirt.physics.dose_methods.DoseMethod` (the case
file's ``dosimetry.method`` and the command line's ``--dose-method``); each one is an entry
of a dispatch table that says which function computes it and which options it takes.
:data:`DOSE_METHODS` lists every name.

Every dose map returned names its method in its metadata: ``method`` (the
:class:`DoseMethod` value) and ``method_description`` (one line for reports). A Monte Carlo
dose map also keeps the engine's result under ``monte_carlo`` (its statistical uncertainty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from opensirt.dosimetry.convolution import DensityCorrection, kernel_dose
from opensirt.dosimetry.ldm import local_deposition_dose
from opensirt.dosimetry.monte_carlo import monte_carlo
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD, DoseMethod
from opensirt.physics.nuclides import Nuclide, NuclideName

#: Every dose method name :func:`absorbed_dose` knows, in the order of :class:`DoseMethod`.
DOSE_METHODS: tuple[str, ...] = tuple(m.value for m in DoseMethod)


@dataclass(frozen=True)
class MethodEntry:
    """How :func:`absorbed_dose` computes one method.

    Attributes
    ----------
    compute : callable
        ``compute(activity, nuclide, *, density, dose_constant_gy_kg_per_gbq, **options)``
        returning the dose Volume (Gy).
    options : tuple of str
        The keyword options the method accepts besides those.
    """

    compute: Callable[..., Volume]
    options: tuple[str, ...] = ()


def monte_carlo_dose(
    activity: Volume, nuclide: Nuclide | NuclideName | str, **options: Any
) -> Volume:
    """The Monte Carlo dose map, keeping the engine's result under ``monte_carlo``.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity per voxel or per mL.
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.
    **options : Any
        The keywords of :func:`~opensirt.dosimetry.monte_carlo.monte_carlo` (``density``,
        ``dose_constant_gy_kg_per_gbq``, ``histories``, ``batches``, ``seed``, ``progress``,
        ``decay_photons``).

    Returns
    -------
    Volume
        Dose in Gy; ``metadata["monte_carlo"]`` is the
        :class:`~opensirt.dosimetry.monte_carlo.MonteCarloResult` (uncertainty, energy
        balance).
    """
    result = monte_carlo(activity, nuclide, **options)
    return replace(result.dose, metadata={**result.dose.metadata, "monte_carlo": result})


#: Every method: the function that computes it and the options it accepts.
_METHODS: dict[DoseMethod, MethodEntry] = {
    DoseMethod.LOCAL_DEPOSITION: MethodEntry(local_deposition_dose),
    DoseMethod.SOFT_TISSUE_KERNEL: MethodEntry(
        partial(kernel_dose, correction=DensityCorrection.NONE), ("workers",)
    ),
    DoseMethod.KERNEL_MASS: MethodEntry(
        partial(kernel_dose, correction=DensityCorrection.MASS), ("workers",)
    ),
    DoseMethod.KERNEL_RANGE: MethodEntry(
        partial(kernel_dose, correction=DensityCorrection.RANGE), ("workers",)
    ),
    DoseMethod.PATH_LENGTH: MethodEntry(
        path_length_dose, ("workers", "rays_per_voxel", "vacuum_deficit", "decay_photons")
    ),
    DoseMethod.MONTE_CARLO: MethodEntry(
        monte_carlo_dose, ("histories", "batches", "seed", "progress", "decay_photons")
    ),
}


def dose_method(name: DoseMethod | str) -> DoseMethod:
    """The :class:`DoseMethod` of a name (any case), checked.

    Parameters
    ----------
    name : DoseMethod or str
        A value of :data:`DOSE_METHODS`.

    Returns
    -------
    DoseMethod
        The method.

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`DOSE_METHODS`; the message lists them.

    Examples
    --------
    >>> dose_method("Kernel-Range")
    <DoseMethod.KERNEL_RANGE: 'kernel-range'>
    """
    try:
        return DoseMethod(str(name).strip().lower())
    except ValueError:
        raise InputError(
            f"dose method {name!r} is not known; expected one of {', '.join(DOSE_METHODS)}"
        ) from None


def absorbed_dose(
    activity: Volume,
    nuclide: Nuclide | NuclideName | str,
    *,
    density: Volume | float | None = None,
    method: DoseMethod | str = DEFAULT_DOSE_METHOD,
    dose_constant_gy_kg_per_gbq: float | None = None,
    **options: Any,
) -> Volume:
    """Absorbed dose (Gy) of an activity map by the chosen method.

    Parameters
    ----------
    activity : Volume
        Activity or cumulated activity per voxel or per mL
        (see :func:`~opensirt.dosimetry.ldm.decays_per_voxel`), indexed ``[k, j, i]``.
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.
    density : Volume or float or None, optional
        Mass density (g/mL) on the activity grid (from CT), or one value; default soft
        tissue, 1.04 g/mL.
    method : DoseMethod or str, optional
        One of :data:`DOSE_METHODS`; default
        :data:`~opensirt.physics.dose_methods.DEFAULT_DOSE_METHOD`.
    dose_constant_gy_kg_per_gbq : float or None, optional
        A conventional dose constant (Gy kg/GBq) instead of the decay-data energy per decay.
    **options : Any
        The method's own options (:attr:`MethodEntry.options`; e.g. ``workers`` for the
        kernel methods).

    Returns
    -------
    Volume
        Dose in Gy on the activity grid; ``metadata["method"]`` is the method's name and
        ``metadata["method_description"]`` its one-line description.

    Raises
    ------
    InputError
        If the method is not known, an option is not one of the method's
        (the message lists them), or the method refuses its inputs.
    GeometryError
        If a density map is not on the activity grid.

    Examples
    --------
    >>> import numpy as np
    >>> grid = Volume(np.full((4, 4, 4), 1e-3), spacing_mm=(10.0, 10.0, 10.0), units="GBq")
    >>> dose = absorbed_dose(grid, "Y-90", density=1.0, method="local-deposition")
    >>> dose.metadata["method"], round(float(dose.array[0, 0, 0]), 2)
    ('local-deposition', 49.73)
    """
    kind = dose_method(method)
    entry = _METHODS[kind]
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        accepted = ", ".join(entry.options) or "none"
        raise InputError(
            f"option {unknown[0]!r} does not apply to dose method {kind.value!r}; "
            f"its options: {accepted}"
        )
    dose = entry.compute(
        activity,
        nuclide,
        density=density,
        dose_constant_gy_kg_per_gbq=dose_constant_gy_kg_per_gbq,
        **options,
    )
    metadata = {
        **dose.metadata,
        "method": kind.value,
        "method_description": kind.description,
    }
    return replace(dose, metadata=metadata)
