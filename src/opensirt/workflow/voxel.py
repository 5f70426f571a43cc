"""Voxel dosimetry of a case: activity map from the emission image, dose, per-structure DVHs.

Activity map
------------
The injected activity is distributed as the emission image shows it, within the organs that
hold the microspheres:

* the liver part, ``(1 - LSF) A``, follows the image counts inside the liver (weighted by
  each voxel's liver occupancy): the microspheres are in the liver, so counts that the
  camera's resolution blurred out of it are not given dose outside it (the liver VOI
  normalisation of SIRT voxel dosimetry; Weber et al. 2022, doi:10.1007/s00259-021-05600-z).
  ``liver_margin_mm`` > 0 widens the region, outside the lungs. Negative counts
  (reconstruction noise) count as 0;
* the lung part, ``LSF A``, is spread uniformly over the lungs: shunted microspheres lodge
  diffusely in the lung capillaries, and the lung counts of a SPECT or Y-90 PET are
  dominated by spill-over from the liver and by noise (Allred et al. 2018, EJNMMI Res 8:50,
  doi:10.1186/s13550-018-0402-8). The lung mean dose then equals the partition model's
  ``k A LSF / M_lung`` for the CT-measured lung mass.

Counts outside these organs (extrahepatic uptake, scatter) are reported by
:func:`opensirt.workflow.measure.extrahepatic_uptake`, not given dose.

Dose
----
By the case's dose method (:func:`opensirt.dosimetry.absorbed_dose`; the case file's
``dosimetry.method``, default :data:`~opensirt.physics.dose_methods.DEFAULT_DOSE_METHOD`),
tissue density from the CT (HU to density), the device's dose constant (so that voxel and
compartment doses use the same energy per decay), on the emission image's grid.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from opensirt.dosimetry import absorbed_dose, density_from_ct, hu_to_density
from opensirt.dosimetry.dvh import DoseVolumeHistogram, dose_volume_histogram
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.regrid import crop_to_grid, rebin_sum, voxel_coverage
from opensirt.physics.devices import Device
from opensirt.planning.case_dosimetry import Dosimetry
from opensirt.workflow.inputs import CaseImages, StructureRoles

FloatArray = npt.NDArray[np.float64]

#: Names of the derived structures in DVH tables.
NORMAL_LIVER = "Normal liver"


def normal_name(territory: str) -> str:
    """DVH name of the non-tumoural part of a territory.

    Parameters
    ----------
    territory : str
        The territory's name in the case file.

    Returns
    -------
    str
        ``"Normal liver (<territory>)"``.
    """
    return f"Normal liver ({territory})"


@dataclass(frozen=True, eq=False)
class DoseGrid:
    """The emission image's grid with what dosimetry needs on it.

    Attributes
    ----------
    emission : Volume
        The emission image (counts, or Bq/mL for PET).
    density : Volume
        Mass density (g/mL), the CT's HU-to-density map averaged over each emission voxel.
    fractions : mapping of str to ndarray
        Occupancy in [0, 1] of each structure (by its segmentation name), plus the derived
        normal-liver structures (:data:`NORMAL_LIVER` and one per territory).
    roles : StructureRoles
    """

    emission: Volume
    density: Volume
    fractions: Mapping[str, FloatArray]
    roles: StructureRoles

    @property
    def spacing_zyx_mm(self) -> tuple[float, float, float]:
        """Voxel spacing in array order (mm)."""
        return self.emission.spacing_zyx_mm


def _mean_density(ct: Volume, grid: Volume) -> Volume:
    """The CT's mass density averaged over each voxel of ``grid`` (g/mL); air outside the CT."""
    density = density_from_ct(crop_to_grid(ct, grid))
    with warnings.catch_warnings():  # CT voxels astride the grid's edge: ``ones`` counts them
        warnings.simplefilter("ignore", UserWarning)
        mass = rebin_sum(density, grid).array
    ones = voxel_coverage(density, grid).array
    covered = np.asarray(ones) > 1e-6
    air_g_ml = float(np.asarray(hu_to_density(np.array([-1000.0]))).flat[0])
    mean = np.full(grid.shape, air_g_ml, dtype=np.float32)
    mean[covered] = np.asarray(mass)[covered] / np.asarray(ones)[covered]
    return grid.with_array(mean, units="g/mL")


def prepare_dose_grid(images: CaseImages, territories: Mapping[str, str]) -> DoseGrid:
    """Structures' occupancy and tissue density on the emission image's grid.

    Parameters
    ----------
    images : CaseImages
        The CT, the emission image in its frame, the structures and their roles.
    territories : mapping of str to str
        The case's territory names to their structure names.

    Returns
    -------
    DoseGrid
        The emission image, the CT's mass density averaged over each of its voxels (g/mL),
        and each structure's occupancy in [0, 1] with the derived normal-liver structures.
    """
    grid = images.emission
    roles = images.roles
    fractions = {
        name: np.asarray(vol.array, dtype=np.float64)
        for name, vol in images.segmentation.fractions_on(grid, roles.all_names).items()
    }
    tumours = sum((fractions[t] for t in roles.tumours), np.zeros(grid.shape))
    fractions[NORMAL_LIVER] = np.clip(fractions[roles.liver] - tumours, 0.0, 1.0)
    for territory, structure in territories.items():
        fractions[normal_name(territory)] = np.clip(fractions[structure] - tumours, 0.0, 1.0)
    return DoseGrid(grid, _mean_density(images.ct, grid), fractions, roles)


def _liver_weights(grid: DoseGrid, liver_margin_mm: float) -> FloatArray:
    liver = grid.fractions[grid.roles.liver]
    if liver_margin_mm <= 0:
        return liver
    lungs = grid.fractions[grid.roles.lungs] if grid.roles.lungs else np.zeros(liver.shape)
    distance = ndimage.distance_transform_edt(liver < 0.5, sampling=grid.spacing_zyx_mm)
    near = (distance <= liver_margin_mm) & (lungs < 0.5)
    weights: FloatArray = np.maximum(liver, near.astype(np.float64))
    return weights


def activity_map(
    grid: DoseGrid,
    *,
    lung_shunt_fraction: float,
    activity_gbq: float,
    liver_margin_mm: float = 0.0,
) -> Volume:
    """Activity per voxel (GBq) of ``activity_gbq`` delivered, distributed as in the module
    notes: ``(1 - LSF)`` following the image in and around the liver, ``LSF`` uniform in the
    lungs.

    Parameters
    ----------
    grid : DoseGrid
        The emission image with the structure occupancies.
    lung_shunt_fraction : float
        Fraction of the activity that reaches the lungs, in [0, 1).
    activity_gbq : float
        The activity distributed (GBq), after the residual loss.
    liver_margin_mm : float, optional
        Width of the band around the liver (outside the lungs) whose counts also get
        activity (mm; default 0, the liver only).

    Returns
    -------
    Volume
        Activity per voxel (GBq, float32) on the emission grid; it sums to ``activity_gbq``.

    Raises
    ------
    InputError
        When the image holds no counts in or around the liver, or a lung shunt is given
        without a lung structure.
    """
    counts = np.clip(np.asarray(grid.emission.array, dtype=np.float64), 0.0, None)
    liver_counts = counts * _liver_weights(grid, liver_margin_mm)
    total = float(liver_counts.sum())
    if total <= 0:
        raise InputError(
            "the emission image holds no counts in or around the liver; check "
            "that the image and the segmentation belong to the same patient"
        )
    activity = liver_counts * ((1.0 - lung_shunt_fraction) * activity_gbq / total)
    if lung_shunt_fraction > 0:
        if grid.roles.lungs is None:
            raise InputError("a lung shunt needs the lungs structure (images.structures.lungs)")
        lungs = grid.fractions[grid.roles.lungs]
        activity += lungs * (lung_shunt_fraction * activity_gbq / float(lungs.sum()))
    return grid.emission.with_array(activity.astype(np.float32), units="GBq")


def dose_map(
    grid: DoseGrid, activity: Volume, device: Device, dosimetry: Dosimetry | None = None
) -> Volume:
    """Absorbed dose (Gy) of an activity map (GBq, complete decay in place).

    Parameters
    ----------
    grid : DoseGrid
        The grid with the tissue density (g/mL).
    activity : Volume
        Activity per voxel (GBq) on that grid.
    device : Device
        The microsphere device: its nuclide and its dose constant (Gy kg/GBq).
    dosimetry : Dosimetry or None, optional
        The dose method and its options (the case file's ``dosimetry:``); None for the
        default method.

    Returns
    -------
    Volume
        Absorbed dose per voxel (Gy) on the same grid; its metadata names the method.

    Raises
    ------
    InputError
        If the dose method refuses its inputs (an option that is not its own, a bad value).
    """
    chosen = dosimetry if dosimetry is not None else Dosimetry()
    return absorbed_dose(
        activity,
        device.nuclide,
        density=grid.density,
        method=chosen.method,
        dose_constant_gy_kg_per_gbq=device.dose_constant_gy_kg_per_gbq,
        **chosen.options(),
    )


def structure_dvhs(
    dose: Volume, grid: DoseGrid, names: tuple[str, ...]
) -> dict[str, DoseVolumeHistogram]:
    """The DVH of each named structure (occupancy-weighted).

    Parameters
    ----------
    dose : Volume
        Absorbed dose per voxel (Gy) on ``grid``.
    grid : DoseGrid
        The grid with the structure occupancies.
    names : tuple of str
        The structures, by their names in ``grid.fractions``.

    Returns
    -------
    dict of str to DoseVolumeHistogram
        One cumulative DVH per name, in the order given.

    Raises
    ------
    InputError
        When a name is not a structure on the grid.
    """
    out = {}
    for name in names:
        if name not in grid.fractions:
            raise InputError(
                f"no structure {name!r} on the dose grid; known: {sorted(grid.fractions)}"
            )
        out[name] = dose_volume_histogram(dose, grid.fractions[name], name=name)
    return out


def dvh_names(grid: DoseGrid, territories: Mapping[str, str]) -> tuple[str, ...]:
    """The structures reported in DVH tables, in reading order.

    Parameters
    ----------
    grid : DoseGrid
        The grid whose structure roles are used.
    territories : mapping of str to str
        The case's territory names to their structure names.

    Returns
    -------
    tuple of str
        The tumours, the normal liver (per territory and the territories when there are
        several), the liver and the lungs, each once.
    """

    roles = grid.roles
    names = [*roles.tumours, NORMAL_LIVER]
    if len(territories) > 1:
        names += [normal_name(t) for t in territories]
        names += [s for s in territories.values() if s not in names]
    names += [roles.liver, *([roles.lungs] if roles.lungs else [])]
    return tuple(dict.fromkeys(names))
