"""Post-treatment SPECT of the synthetic patient: Y-90 bremsstrahlung and Ho-166.

:func:`bremsstrahlung_spect` images the phantom's Y-90 delivery (the one its PET shows:
same activity, lung shunt and tumour uptake) as a Y-90 bremsstrahlung SPECT;
:func:`holmium_treatment` and :func:`holmium_spect` give the Ho-166 scenario: a
QuiremSpheres treatment of the same patient (60 Gy whole-liver activity, the Y-90 delivery's
distribution) and its Ho-166 SPECT. Both are on the planning CT's frame of reference (a
hybrid SPECT/CT whose CT is the planning CT).

The image model is that of :mod:`opensirt.demo.phantom` (true activity on the scan grid,
Gaussian resolution, Poisson counts through a known sensitivity) plus a scatter-like
background: a fraction ``background_fraction`` of the counts, spread as the activity blurred
to :data:`BACKGROUND_FWHM_MM` and confined to the body. It stands for what a clinical
reconstruction of these nuclides leaves in the image:

* Y-90 bremsstrahlung SPECT: a continuous photon spectrum up to 2.28 MeV, imaged through a
  wide window (about 100-400 keV) with a medium- or high-energy collimator: septal
  penetration, collimator scatter and object scatter give a broad, energy-window-dependent
  resolution (15-20 mm FWHM; 18 mm here) and a low-frequency background that puts a large
  share of the counts outside the organs (35 % here). Relative calibration to the delivered
  activity is the standard quantification (Elschot et al. 2013, PLoS One 8:e55742,
  doi:10.1371/journal.pone.0055742; Siman et al. 2016, Med Phys 43:5093,
  doi:10.1118/1.4960629; EANM 2022, Weber et al., doi:10.1007/s00259-021-05600-z).
* Ho-166 SPECT: the 80.6 keV photopeak (6.55 %) through a 15 % window and a medium-energy
  collimator; the 1.38 MeV gammas and bremsstrahlung down-scatter into the window (van Rooij
  et al. 2020, EJNMMI Phys 7:13, doi:10.1186/s40658-020-0280-9; Elschot et al. 2013, Med Phys
  40:112502, doi:10.1118/1.4823788): about 15 mm FWHM, 15 % background here (Smits et al.
  2013, J Nucl Med 54:2093, doi:10.2967/jnumed.113.119768, for SPECT-based Ho-166 dosimetry).

The sensitivities are chosen to give the counts of a clinical acquisition (a few million for
bremsstrahlung, tens of millions for Ho-166), not taken from a particular camera.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from opensirt.demo.phantom import (
    ScanTruth,
    SyntheticPatient,
    activity_concentration,
    blurred,
    centred_grid,
    in_scan_integral_s,
    scan_metadata,
    scan_truth,
)
from opensirt.imaging.dicom_common import save_dataset
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_write import Radiopharmaceutical, nm_dataset
from opensirt.imaging.regrid import coverage_fraction, rebin_sum
from opensirt.imaging.volume import Volume
from opensirt.physics.decay import decay_factor
from opensirt.physics.devices import QUIREMSPHERES
from opensirt.physics.nuclides import NuclideName

__all__ = [
    "BACKGROUND_FWHM_MM",
    "SpectModel",
    "bremsstrahlung_spect",
    "holmium_spect",
    "holmium_treatment",
    "write_spect",
]

#: Width of the scatter-like background (mm FWHM): a low-frequency haze over the body.
BACKGROUND_FWHM_MM = 100.0
#: Whole-liver dose (Gy) of the Ho-166 scenario's activity, the QuiremSpheres IFU target
#: (Smits et al. 2012, HEPAR, doi:10.1016/S1470-2045(12)70334-0).
HOLMIUM_WHOLE_LIVER_GY = 60.0


@dataclass(frozen=True)
class SpectModel:
    """How a post-treatment SPECT images the activity.

    Attributes
    ----------
    fwhm_mm : float
        Gaussian resolution of the reconstruction.
    background_fraction : float
        Share of all counts in the scatter-like background.
    sensitivity_cps_per_mbq : float
        Primary (unscattered) counts per second per MBq.
    voxel_mm : float
        Isotropic voxel size; the matrix is 128 x 128 (scaled with the phantom).
    delay_h, duration_s : float
        Acquisition start after the injection, and its duration.
    energy_window_kev : tuple of float
        Lower and upper limits of the acquisition window (written to the DICOM header).
    collimator : str
        Collimator grid name (DICOM Collimator Grid Name).
    """

    fwhm_mm: float
    background_fraction: float
    sensitivity_cps_per_mbq: float
    voxel_mm: float
    delay_h: float
    duration_s: float
    energy_window_kev: tuple[float, float]
    collimator: str


#: Y-90 bremsstrahlung SPECT (wide window, medium-energy collimator).
BREMSSTRAHLUNG = SpectModel(18.0, 0.35, 1.5, 4.8, 20.0, 1800.0, (100.0, 400.0), "MEGP")
#: Ho-166 SPECT (80.6 keV photopeak, 15 % window, medium-energy collimator).
HOLMIUM = SpectModel(15.0, 0.15, 5.0, 4.42, 4.0, 1200.0, (74.5, 86.6), "MEGP")


def _spect_grid(patient: SyntheticPatient, voxel_mm: float) -> Volume:
    ct = patient.ct
    nz = math.ceil(ct.shape[0] * ct.spacing_mm[2] / voxel_mm) + 1
    n_xy = max(round(128 * patient.size), 8)
    return centred_grid((nz, n_xy, n_xy), (voxel_mm,) * 3, str(ct.frame_of_reference_uid))


def _spect(
    patient: SyntheticPatient,
    pharma: Radiopharmaceutical,
    model: SpectModel,
    *,
    seed: int,
    description: str,
) -> ScanTruth:
    """The SPECT of ``pharma`` distributed as the phantom's Y-90 delivery (its PET truth)."""
    delivery = patient.pet
    grid = _spect_grid(patient, model.voxel_mm)
    acquired = pharma.administration_datetime + timedelta(hours=model.delay_h)
    at_scan = pharma.administered_activity_mbq * decay_factor(pharma.nuclide, model.delay_h)
    lsf, tn = delivery.lung_shunt_fraction, delivery.tn_ratios
    on_ct = activity_concentration(patient.structures.reference, patient.tumours, at_scan, lsf, tn)
    on_grid = rebin_sum(on_ct, grid)
    per_mbq = model.sensitivity_cps_per_mbq * in_scan_integral_s(pharma.nuclide, model.duration_s)
    primary = blurred(on_grid, model.fwhm_mm) * per_mbq
    body = np.asarray(coverage_fraction(patient.structures.get("Body"), grid).array)
    haze = blurred(on_grid, BACKGROUND_FWHM_MM) * body
    f = model.background_fraction
    haze *= f / (1.0 - f) * float(primary.sum()) / float(haze.sum())
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.clip(primary + haze, 0.0, None)).astype(np.float64)
    meta = scan_metadata(pharma, "NM", acquired, model.duration_s)
    meta[MetaKey.SERIES_DESCRIPTION.value] = description
    image = grid.with_array(counts, units="counts", **meta)
    return scan_truth(
        patient.structures,
        image,
        on_grid,
        on_ct,
        pharma,
        acquired,
        model.duration_s,
        lsf,
        dict(tn),
        model.fwhm_mm,
        model.sensitivity_cps_per_mbq,
    )


def bremsstrahlung_spect(patient: SyntheticPatient, *, seed: int | None = None) -> ScanTruth:
    """Y-90 bremsstrahlung SPECT of the phantom's Y-90 delivery (model :data:`BREMSSTRAHLUNG`).

    The delivery is the one of ``patient.pet`` (activity, injection time, lung shunt, T/N);
    ``seed`` (default: the patient's) draws the counting noise.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient; its PET truth gives the delivery imaged.
    seed : int | None, optional
        Seed of the counting noise; ``None`` (default) uses the patient's seed + 1000.

    Returns
    -------
    ScanTruth
        The SPECT (counts per voxel, 18 mm FWHM, 35 % background) on the planning CT's
        frame of reference, with the true activity (MBq) it was drawn from.

    Examples
    --------
    >>> from opensirt.demo.phantom import make_phantom
    >>> scan = bremsstrahlung_spect(make_phantom(seed=3, size=0.3))
    >>> scan.image.metadata["modality"], scan.image.units, scan.fwhm_mm
    ('NM', 'counts', 18.0)
    """
    pharma = patient.pet.radiopharmaceutical
    return _spect(
        patient,
        pharma,
        BREMSSTRAHLUNG,
        seed=patient.seed + 1000 if seed is None else seed,
        description="Y-90 bremsstrahlung SPECT (synthetic)",
    )


def holmium_treatment(patient: SyntheticPatient) -> Radiopharmaceutical:
    """The Ho-166 scenario's administration: QuiremSpheres for a 60 Gy whole-liver dose.

    A = D M / 15.87 Gy kg/GBq with M the liver volume at 1.03 g/mL (the QuiremSpheres IFU
    formula), injected at the time of the phantom's Y-90 treatment.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient (its liver structure and Y-90 treatment time).

    Returns
    -------
    Radiopharmaceutical
        Ho-166 PLLA microspheres, the activity (MBq, to 0.1 MBq) for 60 Gy to the whole
        liver, at the Y-90 treatment time.
    """
    device = QUIREMSPHERES
    liver_kg = patient.structures.volume_ml("Liver") * device.tissue_density_g_per_ml / 1000.0
    activity_gbq = HOLMIUM_WHOLE_LIVER_GY * liver_kg / device.dose_constant_gy_kg_per_gbq
    when: datetime = patient.pet.radiopharmaceutical.administration_datetime
    return Radiopharmaceutical(
        NuclideName.HO166, "Ho-166 PLLA microspheres", round(activity_gbq * 1000.0, 1), when
    )


def holmium_spect(patient: SyntheticPatient, *, seed: int | None = None) -> ScanTruth:
    """Ho-166 SPECT of :func:`holmium_treatment` (model :data:`HOLMIUM`), distributed as the
    phantom's Y-90 delivery (same lung shunt and tumour uptake).

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient; its PET truth gives the distribution (lung shunt, T/N).
    seed : int | None, optional
        Seed of the counting noise; ``None`` (default) uses the patient's seed + 2000.

    Returns
    -------
    ScanTruth
        The SPECT (counts per voxel, 15 mm FWHM, 15 % background) on the planning CT's
        frame of reference, with the true activity (MBq) it was drawn from.
    """
    return _spect(
        patient,
        holmium_treatment(patient),
        HOLMIUM,
        seed=patient.seed + 2000 if seed is None else seed,
        description="Ho-166 SPECT (synthetic)",
    )


def write_spect(
    patient: SyntheticPatient,
    scan: ScanTruth,
    folder: str | os.PathLike[str],
    *,
    series_number: int = 4,
) -> Path:
    """Write a post-treatment SPECT of this module as one NM file, ``folder/NM_0001.dcm``.

    The study, frame of reference and UIDs are the patient's (a hybrid SPECT/CT on the
    planning CT); the energy window and collimator are those of the scan's model.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient (its DICOM study and frame of reference).
    scan : ScanTruth
        A scan of :func:`bremsstrahlung_spect` or :func:`holmium_spect` (the model is
        chosen by its nuclide: Y-90 bremsstrahlung, else Ho-166).
    folder : str | os.PathLike[str]
        The folder to write into (created if missing).
    series_number : int, optional
        DICOM Series Number of the SPECT (default 4).

    Returns
    -------
    Path
        The written file, ``folder/NM_0001.dcm``.
    """
    model = BREMSSTRAHLUNG if scan.radiopharmaceutical.nuclide == NuclideName.Y90 else HOLMIUM
    ds = nm_dataset(
        scan.image,
        patient.context,
        scan.radiopharmaceutical,
        acquired=scan.acquisition_datetime,
        duration_s=scan.acquisition_duration_s,
        series_number=series_number,
        series_key=f"nm-{scan.radiopharmaceutical.nuclide.value}-post",
        energy_window_kev=model.energy_window_kev,
        collimator=model.collimator,
    )
    return save_dataset(ds, Path(folder) / "NM_0001.dcm")
