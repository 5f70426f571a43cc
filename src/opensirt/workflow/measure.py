"""What the work-up images say: lung shunt, tumour-to-normal ratios, volumes, extrahepatic uptake.

Every measurement here works on a count (or activity) image and the fraction of each voxel
that a structure occupies, both on the emission image's grid. Fractions (not binary masks)
keep small tumours' volumes right on a 4.42 mm SPECT grid.

Lung shunt fraction from SPECT/CT
---------------------------------
LSF = C_lung / (C_lung + C_liver), with C the counts in each organ. Two corrections for the
SPECT's limited resolution (Tc-99m SPECT FWHM 12-15 mm):

* the liver's counts spill into the lung base; lung counts are therefore taken as the mean
  count density in lung voxels farther than ``lung_base_margin_mm`` from the liver, times the
  whole lung volume (liver spill-in at the lung base is the main bias of SPECT/CT shunt
  estimates: Allred et al. 2018, EJNMMI Res 8:50, doi:10.1186/s13550-018-0402-8);
* the liver's counts spill out of its outline; liver counts are taken in the liver dilated by
  ``liver_margin_mm`` (outside the lungs).

Planar geometric-mean LSF overestimates the SPECT/CT value (Allred et al. 2018; "Comparison
of Tc-99m MAA planar versus SPECT/CT imaging for lung shunt fraction evaluation",
Cardiovasc Intervent Radiol 2021, doi:10.1007/s00270-020-02638-8).

Tumour-to-normal ratio
----------------------
T/N = (C_T / V_T) / (C_N / V_N), the ratio of mean count densities of a tumour and of the
non-tumoural part of its perfused territory (Ho et al. 1996, doi:10.1007/BF01084369). It is
not corrected for partial-volume loss: small tumours read low on SPECT, which is conservative
for the tumour dose and is the quantity the partition model is used with in practice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from opensirt.errors import InputError

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True)
class LungShunt:
    """A lung shunt fraction measured on SPECT/CT, with the counts it came from."""

    fraction: float
    lung_counts: float
    liver_counts: float
    lung_base_margin_mm: float
    liver_margin_mm: float
    method: str = "SPECT/CT"


@dataclass(frozen=True)
class TumourMeasure:
    """One tumour as the images show it."""

    name: str
    territory: str
    volume_ml: float
    tn_ratio: float
    mean_counts_per_ml: float


@dataclass(frozen=True)
class TerritoryMeasure:
    """One perfused territory as the images show it."""

    name: str
    volume_ml: float
    normal_volume_ml: float
    normal_counts_per_ml: float
    counts_fraction: float
    tumours: tuple[TumourMeasure, ...]


@dataclass(frozen=True)
class ExtrahepaticUptake:
    """A cluster of uptake outside the liver and the lungs."""

    counts_fraction: float
    volume_ml: float
    centre_index_kji: tuple[int, int, int]
    peak_to_liver_ratio: float


@dataclass(frozen=True)
class WorkupMeasures:
    """Everything the work-up images give the planning methods."""

    liver_volume_ml: float
    lung_volume_ml: float
    lung_shunt: LungShunt
    territories: tuple[TerritoryMeasure, ...]
    extrahepatic: tuple[ExtrahepaticUptake, ...]
    warnings: tuple[str, ...] = field(default=())


def _distance_mm(
    mask: npt.NDArray[np.bool_], spacing_zyx_mm: tuple[float, float, float]
) -> FloatArray:
    """Distance (mm) of every voxel from the nearest voxel of ``mask``."""
    if not mask.any():
        return np.full(mask.shape, np.inf)
    dist: FloatArray = ndimage.distance_transform_edt(~mask, sampling=spacing_zyx_mm)
    return dist


def lung_shunt_from_spect(
    counts: FloatArray,
    liver: FloatArray,
    lungs: FloatArray,
    spacing_zyx_mm: tuple[float, float, float],
    *,
    lung_base_margin_mm: float = 20.0,
    liver_margin_mm: float = 10.0,
    image: str = "the SPECT",
) -> LungShunt:
    """Lung shunt fraction from a MAA SPECT and liver/lung occupancy fractions on its grid.

    Parameters
    ----------
    counts : ndarray
        SPECT counts (or activity) per voxel, indexed [k, j, i].
    liver, lungs : ndarray
        Fraction of each voxel inside the liver / the lungs, in [0, 1].
    spacing_zyx_mm : tuple
        Voxel spacing in array order (k, j, i), mm.
    lung_base_margin_mm, liver_margin_mm : float
        See the module notes.
    image : str
        The image the counts come from, as the error messages name it.

    Returns
    -------
    LungShunt
    """
    lung_volume_vox = float(lungs.sum())
    if lung_volume_vox <= 0:
        raise InputError(
            f"the lungs structure is empty on the grid of {image}: does its field "
            "of view cover the lungs, and are the lungs segmented?"
        )
    liver_core = liver >= 0.5
    lung_core = lungs >= 0.5
    far = lung_core & (_distance_mm(liver_core, spacing_zyx_mm) > lung_base_margin_mm)
    if far.sum() < 10:
        raise InputError(
            f"fewer than 10 lung voxels lie more than lung_base_margin_mm="
            f"{lung_base_margin_mm} mm from the liver; lower the margin or check the field "
            f"of view of {image}"
        )
    lung_density = float(counts[far].mean())
    lung_counts = max(lung_density, 0.0) * lung_volume_vox
    near_liver = (_distance_mm(liver_core, spacing_zyx_mm) <= liver_margin_mm) & ~lung_core
    liver_weight = np.maximum(liver, near_liver.astype(float))
    liver_counts = float((counts * liver_weight).sum())
    if liver_counts <= 0:
        raise InputError(
            f"the liver holds no counts on {image}: check that the segmentation matches "
            "it (same patient, same frame of reference) and its geometry (PixelSpacing, "
            "ImagePositionPatient)"
        )
    return LungShunt(
        fraction=lung_counts / (lung_counts + liver_counts),
        lung_counts=lung_counts,
        liver_counts=liver_counts,
        lung_base_margin_mm=lung_base_margin_mm,
        liver_margin_mm=liver_margin_mm,
    )


def territory_measures(
    counts: FloatArray,
    voxel_volume_ml: float,
    territories: Mapping[str, FloatArray],
    tumours: Mapping[str, FloatArray],
) -> tuple[TerritoryMeasure, ...]:
    """Volumes and T/N ratios per territory and tumour.

    Each tumour belongs to the territory that holds most of it. The normal part of a
    territory is the territory's occupancy minus its tumours' occupancy.

    Parameters
    ----------
    counts : ndarray
        The SPECT counts per voxel, array order ``[k, j, i]``.
    voxel_volume_ml : float
        Volume of one SPECT voxel (mL).
    territories : mapping of str to ndarray
        Territory name to its occupancy in [0, 1] on the SPECT grid.
    tumours : mapping of str to ndarray
        Tumour name to its occupancy in [0, 1] on the SPECT grid.

    Returns
    -------
    tuple of TerritoryMeasure
        Per territory, in the order given: volume and normal volume (mL), normal count
        density (counts/mL), share of the perfused counts, and its tumours with their
        volume (mL) and T/N ratio.

    Raises
    ------
    InputError
        When the territories hold no counts, a tumour is empty on the grid, or a tumour lies
        in no territory.
    """
    total_counts = float(sum((counts * t).sum() for t in territories.values()))
    if total_counts <= 0:
        raise InputError("the perfused territories hold no counts on the SPECT")
    owner: dict[str, str] = {}
    for tumour_name, tumour in tumours.items():
        if tumour.sum() <= 0:
            raise InputError(
                f"tumour {tumour_name!r} is empty on the SPECT grid: check its "
                "segmentation (it must cover at least part of one voxel)"
            )
        overlaps = {name: float((tumour * terr).sum()) for name, terr in territories.items()}
        best = max(overlaps, key=overlaps.__getitem__)
        if overlaps[best] <= 0.5 * float(tumour.sum()):
            raise InputError(
                f"tumour {tumour_name!r} lies mostly outside every perfused "
                f"territory ({sorted(territories)}); check the structure roles"
            )
        owner[tumour_name] = best
    out = []
    for name, terr in territories.items():
        mine = [t for t, o in owner.items() if o == name]
        tumour_sum = sum((np.minimum(tumours[t], terr) for t in mine), np.zeros_like(terr))
        normal = np.clip(terr - tumour_sum, 0.0, 1.0)
        normal_ml = float(normal.sum()) * voxel_volume_ml
        if normal_ml <= 0:
            raise InputError(f"territory {name!r} has no normal liver left outside its tumours")
        normal_density = float((counts * normal).sum()) / normal_ml
        if normal_density <= 0:
            raise InputError(f"the normal liver of territory {name!r} holds no counts")
        measures = []
        for t in mine:
            frac = np.minimum(tumours[t], terr)
            vol_ml = float(frac.sum()) * voxel_volume_ml
            density = float((counts * frac).sum()) / vol_ml
            measures.append(TumourMeasure(t, name, vol_ml, density / normal_density, density))
        out.append(
            TerritoryMeasure(
                name=name,
                volume_ml=float(terr.sum()) * voxel_volume_ml,
                normal_volume_ml=normal_ml,
                normal_counts_per_ml=normal_density,
                counts_fraction=float((counts * terr).sum()) / total_counts,
                tumours=tuple(measures),
            )
        )
    return tuple(out)


def extrahepatic_uptake(
    counts: FloatArray,
    liver: FloatArray,
    lungs: FloatArray,
    spacing_zyx_mm: tuple[float, float, float],
    *,
    exclusion_margin_mm: float = 25.0,
    threshold_to_liver: float = 0.5,
    min_volume_ml: float = 1.0,
) -> tuple[ExtrahepaticUptake, ...]:
    """Clusters of uptake outside the liver and lungs (stomach, duodenum, gallbladder...).

    A voxel is suspicious when it lies farther than ``exclusion_margin_mm`` from the liver
    and the lungs (beyond the SPECT's spill-out) and its smoothed count density exceeds
    ``threshold_to_liver`` times the liver's mean density. Connected clusters of at least
    ``min_volume_ml`` are reported, with their share of all counts. Extrahepatic deposition
    of microspheres causes gastrointestinal ulceration; any finding must be reviewed
    (Weber et al. 2022, doi:10.1007/s00259-021-05600-z).

    Parameters
    ----------
    counts : ndarray
        The SPECT counts per voxel, array order ``[k, j, i]``.
    liver : ndarray
        Liver occupancy in [0, 1] on the same grid.
    lungs : ndarray
        Lung occupancy in [0, 1] on the same grid.
    spacing_zyx_mm : tuple of 3 floats
        Voxel spacing in array order (mm).
    exclusion_margin_mm : float, optional
        Distance from the liver and lungs within which uptake is not reported (mm; default
        25, beyond the SPECT's spill-out).
    threshold_to_liver : float, optional
        Smoothed count density, as a fraction of the liver's mean, above which a voxel is
        suspicious (default 0.5).
    min_volume_ml : float, optional
        Smallest cluster reported (mL; default 1).

    Returns
    -------
    tuple of ExtrahepaticUptake
        Each cluster's share of all counts, volume (mL), centre voxel ``(k, j, i)`` and peak
        to liver density ratio; empty when there is none.
    """

    voxel_ml = float(np.prod(spacing_zyx_mm)) / 1000.0
    liver_core = liver >= 0.5
    liver_density = float((counts * liver).sum() / max(float(liver.sum()), 1e-9))
    if liver_density <= 0:
        return ()
    near = _distance_mm(liver_core | (lungs >= 0.5), spacing_zyx_mm) <= exclusion_margin_mm
    smooth = ndimage.uniform_filter(counts.astype(np.float64), size=3)
    hot = (smooth > threshold_to_liver * liver_density) & ~near
    labels, n = ndimage.label(hot)
    total = float(counts.sum())
    found = []
    for index in range(1, n + 1):
        cluster = labels == index
        volume_ml = float(cluster.sum()) * voxel_ml
        if volume_ml < min_volume_ml:
            continue
        centre = tuple(round(float(c)) for c in ndimage.center_of_mass(cluster))
        found.append(
            ExtrahepaticUptake(
                counts_fraction=float(counts[cluster].sum()) / total,
                volume_ml=volume_ml,
                centre_index_kji=(centre[0], centre[1], centre[2]),
                peak_to_liver_ratio=float(smooth[cluster].max()) / liver_density,
            )
        )
    return tuple(sorted(found, key=lambda f: -f.counts_fraction))
