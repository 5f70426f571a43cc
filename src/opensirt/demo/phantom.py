"""A synthetic radioembolization patient with known truth: CT, Tc-99m MAA SPECT, Y-90 PET.

:func:`make_phantom` builds, deterministically from a seed, a hybrid SPECT/CT and PET/CT
examination on one frame of reference:

* CT, HU with noise;
* Tc-99m MAA SPECT (work-up): 4.42 mm voxels, activity by T/N in each lobe plus a lung
  shunt fraction spread uniformly in the lungs, blurred to a 13 mm FWHM, Poisson counts
  (~3 million) through a known calibration factor;
* Y-90 PET (post-treatment): 4 mm voxels, 7 mm FWHM, noisier, with one tumour taking up
  less than its MAA predicted and a smaller lung shunt, in Bq/mL decay-corrected to the
  scan start.

Matrix sizes (:data:`GRIDS`, at ``size=1``): ``resolution="small"`` (the default, quick):
CT 152 x 112 x 100 of 2.5 x 2.5 x 3 mm, SPECT and PET 128 x 128 cropped in z to the CT;
``resolution="clinical"``, as scanners write them: CT 512 x 512 x 250 of 0.8 x 0.8 x 2 mm,
SPECT 128^3, PET 200 x 200 x 110 of 4 mm.

Every truth is exposed: the label map and its names, the structures, the tumours with their
T/N, the lung shunt fractions, the true activity per voxel (MBq, at the scan start) on the
CT grid and on each scan's grid, the administered activities and all times.

Resolution: clinical Tc-99m SPECT with resolution recovery reaches 10-15 mm FWHM; Y-90
PET about 6-8 mm (Willowson et al. 2015, EJNMMI Phys 2:1, doi:10.1186/s40658-014-0104-x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from opensirt._threads import limited_threads
from opensirt.demo.anatomy import (
    DEFAULT_TUMOURS,
    Tissue,
    TumourSpec,
    build_anatomy,
    ct_from_labels,
)
from opensirt.errors import InputError
from opensirt.imaging.dicom_common import DicomContext
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_write import Radiopharmaceutical
from opensirt.imaging.regrid import rebin_sum
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume
from opensirt.physics.decay import decay_factor
from opensirt.physics.nuclides import NuclideName, get_nuclide

__all__ = [
    "GRIDS",
    "PhantomGrids",
    "PhantomResolution",
    "ScanTruth",
    "SyntheticPatient",
    "make_phantom",
]

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
TERRITORIES = ("RightLobe", "LeftLobe")
#: Normal-liver uptake of each lobe relative to the right lobe (a whole-liver injection with
#: slightly lower flow to the left lobe).
TERRITORY_UPTAKE = {"RightLobe": 1.0, "LeftLobe": 0.8}
#: SPECT calibration (counts per second of acquisition per MBq in the field of view), chosen
#: with 150 MBq MAA and a 20 min acquisition to give about 3 million reconstructed counts.
SPECT_CALIBRATION_CPS_PER_MBQ = 20.0
#: Y-90 PET effective (noise-equivalent) detection efficiency of positrons; randoms from
#: bremsstrahlung and the LSO background make Y-90 PET far noisier than F-18 PET.
PET_EFFECTIVE_EFFICIENCY = 0.01


class PhantomResolution(StrEnum):
    """Matrix sizes of the synthetic patient's images (see :data:`GRIDS`)."""

    SMALL = "small"
    CLINICAL = "clinical"


@dataclass(frozen=True)
class PhantomGrids:
    """Matrix (k, j, i) and voxel sizes of the phantom's images at ``size=1``.

    ``ct_spacing_mm`` is (x, y, z); the emission voxels are cubes of ``*_spacing_mm``. A
    slice count of None makes the scan cover the CT's z extent.
    """

    ct_shape: tuple[int, int, int]
    ct_spacing_mm: tuple[float, float, float]
    spect_shape: tuple[int | None, int, int]
    spect_spacing_mm: float
    pet_shape: tuple[int | None, int, int]
    pet_spacing_mm: float


#: The grids of each resolution. Clinical: a diagnostic abdominal CT (512 x 512, 0.8 mm
#: pixels, 2 mm slices), a SPECT reconstruction of 128^3 and a PET of 200 x 200 x 110 with
#: 4 mm voxels (typical of current scanners' exports).
GRIDS = {
    PhantomResolution.SMALL: PhantomGrids(
        (100, 112, 152), (2.5, 2.5, 3.0), (None, 128, 128), 4.42, (None, 128, 128), 4.0
    ),
    PhantomResolution.CLINICAL: PhantomGrids(
        (250, 512, 512), (0.8, 0.8, 2.0), (128, 128, 128), 4.42, (110, 200, 200), 4.0
    ),
}


@dataclass(frozen=True, eq=False)
class ScanTruth:
    """One emission scan of the phantom and the truth behind it.

    Attributes
    ----------
    image : Volume
        The scan as a scanner would give it: counts (SPECT) or Bq/mL (PET), with metadata.
    activity_mbq : Volume
        True activity per voxel on the scan's grid (MBq at ``acquisition_datetime``), before
        blurring and noise.
    activity_ct_mbq : Volume
        The same truth on the CT grid (MBq per CT voxel).
    radiopharmaceutical : Radiopharmaceutical
        Nuclide, name, administered activity (MBq) and administration time.
    acquisition_datetime, acquisition_duration_s : datetime, float
    lung_shunt_fraction : float
        Fraction of the activity in the lungs.
    tn_ratios : dict of str to float
        Tumour-to-normal-liver concentration ratio per tumour (normal tissue of its lobe).
    territory_uptake : dict of str to float
        Relative normal-liver concentration per lobe.
    fwhm_mm : float
        Gaussian resolution of the scan.
    calibration_cps_per_mbq : float or None
        SPECT only: counts per second per MBq (decay during the scan accounted separately).
    structure_activity_mbq : dict of str to float
        True activity in each structure at the scan start.
    """

    image: Volume
    activity_mbq: Volume
    activity_ct_mbq: Volume
    radiopharmaceutical: Radiopharmaceutical
    acquisition_datetime: datetime
    acquisition_duration_s: float
    lung_shunt_fraction: float
    tn_ratios: dict[str, float]
    territory_uptake: dict[str, float]
    fwhm_mm: float
    calibration_cps_per_mbq: float | None
    structure_activity_mbq: dict[str, float]

    @property
    def activity_at_acquisition_mbq(self) -> float:
        """Total activity in the patient at the scan start (MBq)."""
        return self.activity_ct_mbq.total()


@dataclass(frozen=True, eq=False)
class SyntheticPatient:
    """The synthetic patient: images, structures and ground truth (see module docstring)."""

    seed: int
    size: float
    resolution: PhantomResolution
    context: DicomContext
    ct: Volume
    labels: Volume
    label_names: dict[int, str]
    structures: Segmentation
    structure_kinds: dict[str, str]
    territories: tuple[str, ...]
    tumours: tuple[TumourSpec, ...]
    maa: ScanTruth
    pet: ScanTruth

    @property
    def patient_id(self) -> str:
        """Pseudonymised identifier."""
        return self.context.patient_id


def centred_grid(
    shape: tuple[int, int, int], spacing: tuple[float, float, float], uid: str
) -> Volume:
    """An axis-aligned grid of ``shape`` (k, j, i) centred on the origin.

    Parameters
    ----------
    shape : tuple of int
        Number of voxels (k, j, i): slices, rows, columns.
    spacing : tuple of float
        Voxel size (mm) along x, y, z (columns, rows, slices).
    uid : str
        Frame of Reference UID of the grid.

    Returns
    -------
    Volume
        Zeros (float32) on the grid, the centre voxel at the patient-frame origin.
    """
    origin = tuple(-(n - 1) / 2.0 * s for n, s in zip(shape[::-1], spacing, strict=True))
    return Volume(
        np.zeros(shape, dtype=np.float32),
        spacing_mm=spacing,
        origin_mm=(origin[0], origin[1], origin[2]),
        frame_of_reference_uid=uid,
    )


def _scaled(shape: tuple[int, int, int], size: float) -> tuple[int, int, int]:
    nk, nj, ni = (max(round(n * size), 8) for n in shape)
    return (nk, nj, ni)


def _scan_grid(
    ct_grid: Volume, shape: tuple[int | None, int, int], spacing_mm: float, size: float
) -> Volume:
    """An emission grid of ``shape`` (scaled by ``size``; no slice count: cover the CT)."""
    nz_given, nj, ni = shape
    if nz_given is None:
        nz = math.ceil(ct_grid.shape[0] * ct_grid.spacing_mm[2] / spacing_mm) + 1
    else:
        nz = max(round(nz_given * size), 8)
    scaled = (nz, max(round(nj * size), 8), max(round(ni * size), 8))
    return centred_grid(scaled, (spacing_mm,) * 3, str(ct_grid.frame_of_reference_uid))


def _structures(labels: Volume, tumours: tuple[TumourSpec, ...]) -> Segmentation:
    lab = np.asarray(labels.array)
    tumour_labels = {t.name: Tissue.TUMOUR_FIRST + n for n, t in enumerate(tumours)}
    lobe_tumours = {
        lobe: [tumour_labels[t.name] for t in tumours if t.territory == lobe]
        for lobe in TERRITORIES
    }
    masks = {
        "Body": lab != Tissue.AIR,
        "Lungs": np.isin(lab, [Tissue.LUNG_RIGHT, Tissue.LUNG_LEFT], kind="table"),
        "Liver": lab >= Tissue.LIVER_RIGHT,
        "RightLobe": np.isin(lab, [Tissue.LIVER_RIGHT, *lobe_tumours["RightLobe"]], kind="table"),
        "LeftLobe": np.isin(lab, [Tissue.LIVER_LEFT, *lobe_tumours["LeftLobe"]], kind="table"),
        "Spine": lab == Tissue.BONE,
    }
    masks.update({name: lab == label for name, label in tumour_labels.items()})
    return Segmentation(
        labels,
        {name: labels.with_array(mask, units="mask") for name, mask in masks.items()},
        source="phantom",
    )


def activity_concentration(
    labels: Volume,
    tumours: tuple[TumourSpec, ...],
    activity_mbq: float,
    lsf: float,
    tn: dict[str, float],
) -> Volume:
    """MBq per CT voxel: lungs hold ``lsf``, the liver the rest, split by T/N and lobe uptake.

    Parameters
    ----------
    labels : Volume
        The phantom's tissue label map on the CT grid (:class:`Tissue` values).
    tumours : tuple of TumourSpec
        The tumours, labelled from ``Tissue.TUMOUR_FIRST`` on in this order.
    activity_mbq : float
        Total activity in the body (MBq).
    lsf : float
        Lung shunt fraction: fraction of ``activity_mbq`` spread uniformly in the lungs.
    tn : dict of str to float
        Tumour-to-normal concentration ratio by tumour name (normal liver of its lobe).

    Returns
    -------
    Volume
        Activity per CT voxel (MBq), units ``"MBq"``.
    """
    lab = np.asarray(labels.array)
    per_label = np.zeros(Tissue.TUMOUR_FIRST + len(tumours))  # relative liver concentration
    per_label[Tissue.LIVER_RIGHT] = TERRITORY_UPTAKE["RightLobe"]
    per_label[Tissue.LIVER_LEFT] = TERRITORY_UPTAKE["LeftLobe"]
    for n, t in enumerate(tumours):
        per_label[Tissue.TUMOUR_FIRST + n] = tn[t.name] * TERRITORY_UPTAKE[t.territory]
    weight = per_label[lab]  # one look-up per voxel
    activity = weight * ((1.0 - lsf) * activity_mbq / weight.sum())
    lungs = np.isin(lab, [Tissue.LUNG_RIGHT, Tissue.LUNG_LEFT], kind="table")
    activity[lungs] = lsf * activity_mbq / np.count_nonzero(lungs)
    return labels.with_array(activity, units="MBq")


def in_scan_integral_s(nuclide: NuclideName, duration_s: float) -> float:
    """Integral of exp(-lambda t) over the scan (s): counts = A(start) x sensitivity x this.

    Parameters
    ----------
    nuclide : NuclideName
        The radionuclide whose decay constant is used.
    duration_s : float
        Acquisition duration (s).

    Returns
    -------
    float
        (1 - exp(-lambda T)) / lambda (s), lambda the decay constant (1/s).
    """
    lam_per_s = get_nuclide(nuclide).decay_constant_per_h / 3600.0
    return (1.0 - math.exp(-lam_per_s * duration_s)) / lam_per_s


def blurred(activity: Volume, fwhm_mm: float) -> Any:
    """The activity blurred by an isotropic Gaussian of the scanner's resolution.

    Parameters
    ----------
    activity : Volume
        Activity per voxel (any unit).
    fwhm_mm : float
        Full width at half maximum of the Gaussian (mm).

    Returns
    -------
    numpy.ndarray
        The blurred array (float64, same unit and shape), zero outside the grid.
    """
    sigma = [fwhm_mm / _FWHM_PER_SIGMA / s for s in activity.spacing_zyx_mm]
    return gaussian_filter(np.asarray(activity.array, dtype=np.float64), sigma, mode="constant")


def _scan(
    structures: Segmentation,
    tumours: tuple[TumourSpec, ...],
    pharma: Radiopharmaceutical,
    grid: Volume,
    *,
    acquired: datetime,
    duration_s: float,
    lsf: float,
    tn: dict[str, float],
    fwhm_mm: float,
    sensitivity: float,
    rng: np.random.Generator,
) -> tuple[Volume, Volume, Volume]:
    """(truth on CT grid, truth on scan grid, expected-to-noisy counts) for one scan."""
    elapsed_h = (acquired - pharma.administration_datetime).total_seconds() / 3600.0
    at_scan = pharma.administered_activity_mbq * decay_factor(pharma.nuclide, elapsed_h)
    on_ct = activity_concentration(structures.reference, tumours, at_scan, lsf, tn)
    on_grid = rebin_sum(on_ct, grid)
    expected = (
        blurred(on_grid, fwhm_mm) * sensitivity * in_scan_integral_s(pharma.nuclide, duration_s)
    )
    counts = rng.poisson(np.clip(expected, 0.0, None)).astype(np.float64)
    return on_ct, on_grid, grid.with_array(counts, units="counts")


@limited_threads()
def make_phantom(
    seed: int = 1, size: float = 1.0, resolution: PhantomResolution | str = "small"
) -> SyntheticPatient:
    """Build the synthetic patient.

    Parameters
    ----------
    seed : int
        Seed of every random draw (tumour positions, CT noise, counting noise).
    size : float
        Linear scale of the anatomy and of the matrices, in (0.25, 1]; voxel sizes stay
        realistic. Use 0.5 in tests (about 8 times fewer voxels).
    resolution : PhantomResolution or str
        ``"small"`` (default) or ``"clinical"`` matrix sizes (:data:`GRIDS`); the anatomy
        and the truth are the same.

    Returns
    -------
    SyntheticPatient
        CT (HU), labels, structures, the MAA SPECT (counts) and the Y-90 PET (Bq/mL) with
        their true activities, DICOM context and the territories.

    Raises
    ------
    InputError
        If ``size`` is outside [0.25, 1] or ``resolution`` is not a known one.

    Examples
    --------
    >>> p = make_phantom(seed=3, size=0.3)
    >>> p.structures.names[:3], p.maa.image.units, p.pet.image.units
    (('Body', 'Lungs', 'Liver'), 'counts', 'Bq/mL')
    """
    if not 0.25 <= size <= 1.0:
        raise InputError(f"size is {size!r}, expected a scale in [0.25, 1]")
    try:
        grids = GRIDS[PhantomResolution(resolution)]
    except ValueError:
        raise InputError(
            f"resolution is {resolution!r}, expected one of "
            f"{', '.join(repr(r.value) for r in PhantomResolution)}"
        ) from None
    rng = np.random.default_rng(seed)
    tz = timezone(timedelta(hours=1))
    maa_injection = datetime(2026, 11, 18, 9, 0, tzinfo=tz)
    res = PhantomResolution(resolution)
    uid_seed = f"opensirt-phantom-{seed}-{size}" + ("" if res is PhantomResolution.SMALL else res)
    context = DicomContext("DEMO-001", maa_injection, uid_seed=uid_seed)
    frame = context.frame_of_reference_uid
    ct_grid = centred_grid(_scaled(grids.ct_shape, size), grids.ct_spacing_mm, frame)
    labels_array, tumours = build_anatomy(ct_grid, size, DEFAULT_TUMOURS, rng)
    labels = ct_grid.with_array(labels_array, units="label")
    ct = ct_grid.with_array(ct_from_labels(labels_array, rng), units="HU", modality="CT")
    structures = _structures(labels, tumours)
    spect_grid = _scan_grid(ct_grid, grids.spect_shape, grids.spect_spacing_mm, size)
    pet_grid = _scan_grid(ct_grid, grids.pet_shape, grids.pet_spacing_mm, size)
    maa = _maa_scan(structures, tumours, spect_grid, maa_injection, rng)
    pet = _pet_scan(structures, tumours, pet_grid, maa_injection, rng)
    return SyntheticPatient(
        seed=seed,
        size=size,
        resolution=res,
        context=context,
        ct=ct,
        labels=labels,
        label_names={int(t): t.name.lower() for t in Tissue if t < Tissue.TUMOUR_FIRST}
        | {int(Tissue.TUMOUR_FIRST) + n: t.name for n, t in enumerate(tumours)},
        structures=structures,
        structure_kinds={"Liver": "liver", "RightLobe": "liver", "LeftLobe": "liver"}
        | {"Lungs": "lung", "Spine": "spine"}
        | {t.name: "tumour" for t in tumours},
        territories=TERRITORIES,
        tumours=tumours,
        maa=maa,
        pet=pet,
    )


def scan_metadata(
    pharma: Radiopharmaceutical, modality: str, acquired: datetime, duration_s: float
) -> dict[str, Any]:
    """The header metadata of a synthetic emission scan.

    Parameters
    ----------
    pharma : Radiopharmaceutical
        Nuclide, name, administered activity (MBq) and administration time.
    modality : str
        DICOM modality, ``"NM"`` or ``"PT"``.
    acquired : datetime
        Acquisition start (time-zone aware).
    duration_s : float
        Acquisition duration (s).

    Returns
    -------
    dict of str to Any
        Values by :class:`MetaKey` value (activities in Bq, as DICOM states them).
    """
    return {
        MetaKey.MODALITY.value: modality,
        MetaKey.PATIENT_ID.value: "DEMO-001",
        MetaKey.ACQUISITION_DATETIME.value: acquired,
        MetaKey.SERIES_DATETIME.value: acquired,
        MetaKey.ACQUISITION_DURATION_S.value: duration_s,
        MetaKey.RADIONUCLIDE.value: pharma.nuclide.value,
        MetaKey.RADIOPHARMACEUTICAL.value: pharma.name,
        MetaKey.RADIONUCLIDE_TOTAL_DOSE_BQ.value: pharma.administered_activity_mbq * 1e6,
        MetaKey.RADIOPHARMACEUTICAL_START_DATETIME.value: pharma.administration_datetime,
        MetaKey.ACTIVITY_REFERENCE_DATETIME.value: acquired,
        MetaKey.SOURCE.value: "phantom",
    }


def _maa_scan(
    structures: Segmentation,
    tumours: tuple[TumourSpec, ...],
    grid: Volume,
    injection: datetime,
    rng: np.random.Generator,
) -> ScanTruth:
    pharma = Radiopharmaceutical(NuclideName.TC99M, "Tc-99m MAA", 150.0, injection)
    acquired, duration_s, lsf, fwhm_mm = injection + timedelta(hours=1), 1200.0, 0.07, 13.0
    tn = {t.name: t.tn_maa for t in tumours}
    on_ct, on_grid, counts = _scan(
        structures,
        tumours,
        pharma,
        grid,
        acquired=acquired,
        duration_s=duration_s,
        lsf=lsf,
        tn=tn,
        fwhm_mm=fwhm_mm,
        sensitivity=SPECT_CALIBRATION_CPS_PER_MBQ,
        rng=rng,
    )
    image = counts.with_array(
        counts.array, units="counts", **scan_metadata(pharma, "NM", acquired, duration_s)
    )
    return scan_truth(
        structures,
        image,
        on_grid,
        on_ct,
        pharma,
        acquired,
        duration_s,
        lsf,
        tn,
        fwhm_mm,
        SPECT_CALIBRATION_CPS_PER_MBQ,
    )


def _pet_scan(
    structures: Segmentation,
    tumours: tuple[TumourSpec, ...],
    grid: Volume,
    maa_injection: datetime,
    rng: np.random.Generator,
) -> ScanTruth:
    treatment = maa_injection + timedelta(days=7, hours=1)
    pharma = Radiopharmaceutical(NuclideName.Y90, "Y-90 resin microspheres", 1800.0, treatment)
    acquired, duration_s, lsf, fwhm_mm = treatment + timedelta(hours=26), 1800.0, 0.05, 7.0
    tn = {t.name: t.tn_y90 for t in tumours}
    # counts per second per MBq: 1e6 decays/s x positron yield x effective efficiency
    sensitivity = 1e6 * get_nuclide(NuclideName.Y90).imaging_photon_yield * PET_EFFECTIVE_EFFICIENCY
    on_ct, on_grid, counts = _scan(
        structures,
        tumours,
        pharma,
        grid,
        acquired=acquired,
        duration_s=duration_s,
        lsf=lsf,
        tn=tn,
        fwhm_mm=fwhm_mm,
        sensitivity=sensitivity,
        rng=rng,
    )
    per_mbq = sensitivity * in_scan_integral_s(pharma.nuclide, duration_s)
    bq_per_ml = counts.array / per_mbq * 1e6 / grid.voxel_volume_ml
    meta = scan_metadata(pharma, "PT", acquired, duration_s)
    meta[MetaKey.DECAY_CORRECTION.value] = "START"
    image = counts.with_array(bq_per_ml, units="Bq/mL", **meta)
    return scan_truth(
        structures, image, on_grid, on_ct, pharma, acquired, duration_s, lsf, tn, fwhm_mm, None
    )


def scan_truth(
    structures: Segmentation,
    image: Volume,
    on_grid: Volume,
    on_ct: Volume,
    pharma: Radiopharmaceutical,
    acquired: datetime,
    duration_s: float,
    lsf: float,
    tn: dict[str, float],
    fwhm_mm: float,
    calibration: float | None,
) -> ScanTruth:
    """Bundle a synthetic scan with the truth it was made from.

    Parameters
    ----------
    structures : Segmentation
        The phantom's structures (their activities are summed from ``on_ct``).
    image : Volume
        The scan as a scanner would give it.
    on_grid : Volume
        True activity on the scan's grid (MBq per voxel).
    on_ct : Volume
        True activity on the CT grid (MBq per voxel).
    pharma : Radiopharmaceutical
        The radiopharmaceutical scanned.
    acquired : datetime
        Acquisition start.
    duration_s : float
        Acquisition duration (s).
    lsf : float
        Lung shunt fraction of the truth.
    tn : dict of str to float
        Tumour-to-normal ratio by tumour name.
    fwhm_mm : float
        Resolution of the scan (mm FWHM).
    calibration : float or None
        SPECT sensitivity (counts per second per MBq); None for PET.

    Returns
    -------
    ScanTruth
        The scan and its truth.
    """
    return ScanTruth(
        image=image,
        activity_mbq=on_grid,
        activity_ct_mbq=on_ct,
        radiopharmaceutical=pharma,
        acquisition_datetime=acquired,
        acquisition_duration_s=duration_s,
        lung_shunt_fraction=lsf,
        tn_ratios=tn,
        territory_uptake=dict(TERRITORY_UPTAKE),
        fwhm_mm=fwhm_mm,
        calibration_cps_per_mbq=calibration,
        structure_activity_mbq={
            name: on_ct.total(structures.get(name, allow_empty=True)) for name in structures.names
        },
    )
