"""Re-dosimetry of one recorded plan: its voxel dose computed again by another method.

A plan version of the registry keeps its case file (``case_yaml``: device, residual, limits,
structure roles) and its activity, but no pixels (images are kept as DICOM UIDs and paths).
The voxel inputs come from the plan's saved state (:mod:`opensirt.workflow.plan_state`):
``plan_state.npz``, which ``opensirt plan CASE --out FOLDER --record`` writes in ``FOLDER``
beside the report and the RT Dose whose paths the version records. It holds the SPECT, the
tissue density (g/mL) and every structure's occupancy on the SPECT grid, and the lung shunt
measured: everything the voxel dose needs, without the images.

:func:`redose_case` distributes the recorded activity as the plan did
(:func:`opensirt.workflow.voxel.activity_map`: ``(1 - residual)`` of it, ``(1 - LSF)``
following the SPECT in the liver, ``LSF`` uniform in the lungs), computes the dose by the
chosen method (a name of :data:`opensirt.dosimetry.DOSE_METHODS` by
:func:`opensirt.dosimetry.absorbed_dose`, default
:data:`~opensirt.physics.dose_methods.DEFAULT_DOSE_METHOD` for every case of a run, so that
its results compare; or the older :class:`DoseMethod` with a
:class:`~opensirt.dosimetry.DensityCorrection`), the
DVH metrics of every structure (:func:`opensirt.workflow.voxel.dvh_names`) and checks the
limits: the case's (device defaults, the case file's overrides, the compromised-liver rule of
:func:`opensirt.planning.limits.applied_limits`), or the ones given instead.

A case that cannot be recomputed (no activity, no saved state, a state of other structures)
raises :class:`~opensirt.errors.InputError` naming the patient, the plan and the fix.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from opensirt.dosimetry import DensityCorrection, absorbed_dose
from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.physics.devices import Device, NormalLiverScope, get_device
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD
from opensirt.physics.dose_methods import DoseMethod as VoxelDoseMethod
from opensirt.planning import parse_case
from opensirt.planning.case import Case
from opensirt.planning.case_file import parse_yaml
from opensirt.planning.context import case_lung_shunt
from opensirt.planning.limits import LimitName, applied_limits, compromised_liver
from opensirt.registry.recording import mean_tumour_dose_gy
from opensirt.workflow.inputs import structure_roles
from opensirt.workflow.plan_state import read_plan_state
from opensirt.workflow.voxel import (
    NORMAL_LIVER,
    DoseGrid,
    activity_map,
    dvh_names,
    normal_name,
    structure_dvhs,
)


class DoseMethod(StrEnum):
    """The older names of the re-dosimetry methods (still accepted, and stored with the
    results of earlier runs); :attr:`RedoseSettings.dose_method` gives their
    :class:`~opensirt.physics.dose_methods.DoseMethod`.

    ``kernel``: dose-kernel convolution with a density correction
    (:func:`opensirt.dosimetry.kernel_dose`; Mikell et al. 2015, doi:10.1186/s40658-015-0119-y);
    ``ldm``: local deposition of all beta energy in the voxel of decay
    (:func:`opensirt.dosimetry.local_deposition_dose`; Pasciak et al. 2014,
    doi:10.3389/fonc.2014.00121), with the voxel's CT mass.
    """

    KERNEL = "kernel"
    LDM = "ldm"


#: The dose method of each density correction of the older ``kernel`` method.
_KERNEL_METHODS = {
    DensityCorrection.NONE: VoxelDoseMethod.SOFT_TISSUE_KERNEL,
    DensityCorrection.MASS: VoxelDoseMethod.KERNEL_MASS,
    DensityCorrection.RANGE: VoxelDoseMethod.KERNEL_RANGE,
}


def _method(value: object) -> DoseMethod | VoxelDoseMethod:
    """An older method name or a dose method name, checked."""
    text = str(value).strip().lower()
    for names in (DoseMethod, VoxelDoseMethod):
        try:
            return names(text)
        except ValueError:
            continue
    allowed = ", ".join([*DoseMethod, *VoxelDoseMethod])
    raise InputError(f"method is {value!r}, expected one of {allowed}")


class DoseConstant(StrEnum):
    """The energy per decay: the device's conventional dose constant (as the plans use, e.g.
    49.67 Gy kg/GBq for Y-90 resin) or the nuclide's decay data."""

    DEVICE = "device"
    DECAY_DATA = "decay-data"


def _limit_gy(name: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} is {value!r}, expected a dose limit > 0 Gy")
    return value


@dataclass(frozen=True)
class RedoseSettings:
    """What a re-dosimetry run computes: the method, the kernel's density correction, the
    energy per decay and the limits that replace the case's (Gy, ``None``: the case's own).

    ``method`` is a name of :data:`opensirt.dosimetry.DOSE_METHODS` (default
    :data:`~opensirt.physics.dose_methods.DEFAULT_DOSE_METHOD`), or one of the older names
    (:class:`DoseMethod`: ``kernel`` with ``correction``, default ``mass``, or ``ldm``), which
    the results of earlier runs store and which are still read.

    Examples
    --------
    >>> RedoseSettings().label
    'path-length'
    >>> RedoseSettings(method="ldm").label
    'ldm'
    >>> RedoseSettings(method="kernel", correction="range", lung_max_gy=25).label
    'kernel-range'
    >>> RedoseSettings(method="kernel-range").dose_method.abbreviation
    'RSK'
    """

    method: DoseMethod | VoxelDoseMethod = DEFAULT_DOSE_METHOD
    correction: DensityCorrection = DensityCorrection.MASS
    dose_constant: DoseConstant = DoseConstant.DEVICE
    lung_max_gy: float | None = None
    lung_cumulative_max_gy: float | None = None
    normal_liver_max_gy: float | None = None

    @classmethod
    def from_names(
        cls,
        method: str | None,
        correction: str | None,
        dose_constant: str,
        *,
        lung_max_gy: float | None = None,
        lung_cumulative_max_gy: float | None = None,
        normal_liver_max_gy: float | None = None,
        dose_method: str | None = None,
    ) -> RedoseSettings:
        """The settings from the names a command line gives.

        Parameters
        ----------
        method, correction : str or None
            A value of :class:`DoseMethod` (or a dose method name) and of
            :class:`~opensirt.dosimetry.DensityCorrection`. Without a method: ``kernel`` when
            a correction is given, else the default method; without a correction, ``mass``.
        dose_constant : str
            A value of :class:`DoseConstant`.
        lung_max_gy, lung_cumulative_max_gy, normal_liver_max_gy : float or None
            Limits that replace the case's (Gy).
        dose_method : str or None
            A name of :data:`opensirt.dosimetry.DOSE_METHODS` (``--dose-method``), instead
            of ``method`` and ``correction``.

        Returns
        -------
        RedoseSettings
            The checked settings.

        Raises
        ------
        InputError
            If a name is not one of its set, or a limit is not > 0 Gy.

        Examples
        --------
        >>> RedoseSettings.from_names("ldm", "none", "device", lung_max_gy=25).label
        'ldm'
        >>> RedoseSettings.from_names(None, None, "device").label
        'path-length'
        >>> RedoseSettings.from_names(None, "range", "device").label
        'kernel-range'
        >>> RedoseSettings.from_names("kernel", "mass", "device", dose_method="kernel-range").label
        'kernel-range'
        """
        if dose_method is not None:
            method = dose_method
        elif method is None:  # a correction alone is the older kernel method's
            method = DEFAULT_DOSE_METHOD.value if correction is None else DoseMethod.KERNEL.value
        # __post_init__ converts the names to their enums and refuses unknown ones
        return cls(
            cast("DoseMethod", method),
            cast("DensityCorrection", DensityCorrection.MASS if correction is None else correction),
            cast("DoseConstant", dose_constant),
            lung_max_gy,
            lung_cumulative_max_gy,
            normal_liver_max_gy,
        )

    def __post_init__(self) -> None:
        """Convert the names to their enums and check the limits.

        Raises
        ------
        InputError
            If a name is not one of its set, or a limit is not > 0 Gy.
        """
        object.__setattr__(self, "method", _method(self.method))
        for key, enum in (
            ("correction", DensityCorrection),
            ("dose_constant", DoseConstant),
        ):
            value = getattr(self, key)
            try:
                object.__setattr__(self, key, enum(str(value).lower()))
            except ValueError:
                allowed = ", ".join(m.value for m in enum)
                raise InputError(f"{key} is {value!r}, expected one of {allowed}") from None
        for name in self.limit_overrides():
            _limit_gy(name, getattr(self, name))

    @property
    def label(self) -> str:
        """The method as stored: its dose method name, or for the older names
        ``kernel-<correction>`` or ``ldm``."""
        if self.method is DoseMethod.KERNEL:
            return f"{self.method.value}-{self.correction.value}"
        return self.method.value

    @property
    def dose_method(self) -> VoxelDoseMethod:
        """The dose method :func:`~opensirt.dosimetry.absorbed_dose` computes."""
        if self.method is DoseMethod.LDM:
            return VoxelDoseMethod.LOCAL_DEPOSITION
        if self.method is DoseMethod.KERNEL:
            return _KERNEL_METHODS[self.correction]
        return self.method

    def limit_overrides(self) -> dict[str, float | None]:
        """The limits given instead of the case's, by :class:`LimitName` value.

        Returns
        -------
        dict of str to float or None
            Each limit (Gy), ``None`` where the case's applies.
        """
        return {name.value: getattr(self, name.value) for name in LimitName}

    def to_dict(self) -> dict[str, Any]:
        """The settings as stored with each result.

        Returns
        -------
        dict
            Method, correction, dose constant and limits, JSON-ready; ``RedoseSettings(**d)``
            gives the settings back (also those stored by earlier versions).
        """
        return {key: str(v) if isinstance(v, StrEnum) else v for key, v in asdict(self).items()}


@dataclass(frozen=True)
class RedoseCase:
    """What the registry keeps of one plan version that re-dosimetry needs (read on the
    client, sent to a worker).

    Attributes
    ----------
    plan_version_id, patient_id : int
        The rows it came from.
    pseudonym, label : str
        The patient and the plan, for messages.
    version : int
        The version's number.
    case_yaml : str
        The case file as recorded.
    activity_gbq : float
        The injected activity of the version (GBq).
    state_path : str or None
        Where its saved plan state is expected (``None``: the version records no output
        folder).
    """

    plan_version_id: int
    patient_id: int
    pseudonym: str
    label: str
    version: int
    case_yaml: str
    activity_gbq: float
    state_path: str | None

    def describe(self) -> str:
        """The case in words: patient, plan label and version.

        Returns
        -------
        str
            For example ``"patient SYN-1, plan 'right lobe' version 2"``.
        """
        return f"patient {self.pseudonym}, plan {self.label!r} version {self.version}"


@dataclass(frozen=True)
class LimitOutcome:
    """One limit checked: the structure's mean dose against it (Gy)."""

    name: str
    structure: str
    limit_gy: float | None
    dose_gy: float
    source: str | None

    @property
    def exceeded(self) -> bool:
        """Whether the dose is above the limit (relative tolerance 1e-9)."""
        return self.limit_gy is not None and self.dose_gy > self.limit_gy * (1.0 + 1e-9)


@dataclass(frozen=True)
class CaseDose:
    """The dose of one plan version computed again.

    Attributes
    ----------
    case : RedoseCase
    structures : dict
        DVH metrics of each structure (``mean_gy``, ``D95_gy`` ...;
        :meth:`DoseVolumeHistogram.metrics`).
    tumour_dose_gy, normal_liver_dose_gy, lung_dose_gy : float or None
        Mean doses (Gy): all tumour tissue (volume-weighted), the whole normal liver, the lungs.
    limits : tuple of LimitOutcome
    seconds : float
        Time of the computation on its worker.
    attempts : int
        How many times it was tried (set by the runner).
    """

    case: RedoseCase
    structures: dict[str, dict[str, float]]
    tumour_dose_gy: float | None
    normal_liver_dose_gy: float | None
    lung_dose_gy: float | None
    limits: tuple[LimitOutcome, ...]
    seconds: float
    attempts: int = field(default=1)

    @property
    def limits_exceeded(self) -> bool:
        """Whether any limit is exceeded."""
        return any(lim.exceeded for lim in self.limits)


@dataclass(frozen=True)
class CaseFailure:
    """A plan version that could not be recomputed, and why.

    Attributes
    ----------
    case : RedoseCase
    error : str
        The reason: the message of a refused input, or the exception of the last attempt.
    attempts : int
        How many times it was tried (a refused input is not retried).
    """

    case: RedoseCase
    error: str
    attempts: int


def _parsed_case(case: RedoseCase) -> Case:
    source = f"the case file recorded with {case.describe()}"
    parsed = parse_case(parse_yaml(case.case_yaml, source), source=source)
    if parsed.images is None:
        raise InputError(
            f"{case.describe()}: its case file has no images: section, so it has no voxel "
            "dose to recompute (compartment plans are recomputed by `opensirt plan`)"
        )
    return parsed


def _grid(case: RedoseCase, parsed: Case) -> tuple[DoseGrid, float]:
    """The saved state's grid and the lung shunt fraction the plan used."""
    if case.state_path is None:
        raise InputError(
            f"{case.describe()}: no saved plan state is recorded (the version names no output "
            "folder); plan it again with `opensirt plan CASE --out FOLDER --record`"
        )
    path = Path(case.state_path)
    if not path.exists():
        raise InputError(
            f"{case.describe()}: its saved plan state {path} is missing; copy the plan's "
            "output folder there (or map its folder with --path-map OLD=NEW)"
        )
    state = read_plan_state(path)
    grid = state.measured.grid
    if grid.roles != structure_roles(parsed):
        raise InputError(
            f"{case.describe()}: the saved plan state {path} holds other structures than its "
            "case file names; it belongs to another plan: plan the case again with --out"
        )
    given = case_lung_shunt(parsed)
    lsf = state.measured.measures.lung_shunt.fraction if given is None else given[0]
    return grid, lsf


def dose_by(settings: RedoseSettings, grid: DoseGrid, activity: Volume, device: Device) -> Volume:
    """The voxel dose (Gy) of an activity map by the method of ``settings``.

    Parameters
    ----------
    settings : RedoseSettings
        The method (:attr:`RedoseSettings.dose_method`) and dose constant.
    grid : DoseGrid
        The grid with the tissue density (g/mL).
    activity : Volume
        Activity per voxel (GBq) on that grid.
    device : Device
        The device: its nuclide and conventional dose constant.

    Returns
    -------
    Volume
        The dose (Gy) on the grid.
    """
    constant = (
        device.dose_constant_gy_kg_per_gbq
        if settings.dose_constant is DoseConstant.DEVICE
        else None
    )
    return absorbed_dose(
        activity,
        device.nuclide,
        density=grid.density,
        method=settings.dose_method,
        dose_constant_gy_kg_per_gbq=constant,
    )


def check_limits(
    parsed: Case,
    grid: DoseGrid,
    dvhs: dict[str, DoseVolumeHistogram],
    settings: RedoseSettings,
) -> tuple[LimitOutcome, ...]:
    """The mean doses against the limits: lung, cumulative lung, normal liver.

    The limits are the case's (:func:`opensirt.planning.limits.applied_limits`) with those of
    ``settings`` instead where given. The normal-liver limit applies to the whole normal liver
    or to each territory's, as the device's guideline scopes it.

    Parameters
    ----------
    parsed : Case
        The case file (device, labs, overrides, previous lung dose).
    grid : DoseGrid
        The grid whose structure roles name the lungs and territories.
    dvhs : dict of str to DoseVolumeHistogram
        The DVHs of :func:`opensirt.workflow.voxel.dvh_names`.
    settings : RedoseSettings
        Limits given instead of the case's.

    Returns
    -------
    tuple of LimitOutcome
        One per limit checked, with its source.
    """
    device = get_device(parsed.device)
    p = parsed.prescription
    case_limits = {name.value: getattr(p, name.value) for name in LimitName}
    given = settings.limit_overrides()
    overrides = {k: given[k] if given[k] is not None else v for k, v in case_limits.items()}
    limits = applied_limits(
        device,
        overrides=overrides,
        compromised=compromised_liver(parsed.patient.labs, parsed.liver.compromised),
    )
    sources = {
        **limits.sources,
        **{k: "given to opensirt analytics redose" for k, v in given.items() if v is not None},
    }
    out = []
    lungs = grid.roles.lungs
    if lungs is not None:
        lung_gy = dvhs[lungs].mean_gy
        for name, limit, dose in (
            (LimitName.LUNG_MAX, limits.lung_max_gy, lung_gy),
            (LimitName.LUNG_CUMULATIVE_MAX, limits.lung_cumulative_max_gy,
             lung_gy + parsed.lung.previous_dose_gy),
        ):  # fmt: skip
            out.append(LimitOutcome(name.value, lungs, limit, dose, sources.get(name.value)))
    normal = LimitName.NORMAL_LIVER_MAX.value
    # per territory (perfused scope) when there are several; one territory's is the whole's
    structures = [
        name
        for name in (normal_name(t) for t in grid.roles.territories)
        if limits.normal_liver_scope is NormalLiverScope.PERFUSED and name in dvhs
    ] or [NORMAL_LIVER]
    for structure in structures:
        out.append(
            LimitOutcome(
                normal,
                structure,
                limits.normal_liver_max_gy,
                dvhs[structure].mean_gy,
                sources.get(normal),
            )
        )
    return tuple(out)


def redose_case(case: RedoseCase, settings: RedoseSettings) -> CaseDose:
    """Compute the voxel dose of one recorded plan version again (see the module notes).

    Parameters
    ----------
    case : RedoseCase
        The plan version as the registry keeps it, with the path of its saved state.
    settings : RedoseSettings
        The method, kernel and limits.

    Returns
    -------
    CaseDose
        Structure DVH metrics, mean doses and the limit checks.

    Raises
    ------
    InputError
        If the case file has no images, the saved state is not recorded, missing, damaged or
        of other structures; the message names the patient, the plan and the fix.
    """
    start = time.perf_counter()
    parsed = _parsed_case(case)
    grid, lsf = _grid(case, parsed)
    device = get_device(parsed.device)
    distributed_gbq = case.activity_gbq * (1.0 - parsed.prescription.residual_fraction)
    activity = activity_map(grid, lung_shunt_fraction=lsf, activity_gbq=distributed_gbq)
    dose = dose_by(settings, grid, activity, device)
    dvhs = structure_dvhs(dose, grid, dvh_names(grid, grid.roles.territories))
    tumours = {t: dvhs[t].mean_gy for t in grid.roles.tumours}
    lungs = grid.roles.lungs
    return CaseDose(
        case=case,
        structures={name: dvh.metrics() for name, dvh in dvhs.items()},
        tumour_dose_gy=mean_tumour_dose_gy(
            tumours, {t: dvhs[t].volume_ml for t in grid.roles.tumours}
        ),
        normal_liver_dose_gy=dvhs[NORMAL_LIVER].mean_gy,
        lung_dose_gy=None if lungs is None else dvhs[lungs].mean_gy,
        limits=check_limits(parsed, grid, dvhs, settings),
        seconds=time.perf_counter() - start,
    )
