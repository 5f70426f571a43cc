"""The synthetic patient's post-treatment PET/CT acquired in its own frame of reference.

A post-treatment scan days after planning finds the patient lying a little differently, on
another scanner, in another frame of reference. :func:`moved_posttreatment` renders the
phantom's Y-90 PET and a CT of the same anatomy as such a study: the patient moved by a known
rigid transform, written on grids of the same size, shifted with the patient, in a new frame
of reference (a new Frame of Reference UID and study), so that registration can be tested
against the truth.

Convention (ITK's, as in :mod:`opensirt.imaging.registration`): ``transform`` maps points of
the planning frame to the points of the new frame where the same anatomy lies,
``x_new = R (x - c) + c + t`` with ``c`` the rotation centre, ``R`` the Euler3D rotation of
``rotation_deg`` (about x, y, z) and ``t`` ``translation_mm``.

Rendering: the noise-free CT numbers carried along (linear: partial-volume edges, no
rounding of the shift to whole voxels) plus fresh noise;
the PET from the true activity concentration carried along (linear), summed onto the PET
grid, blurred by the PET resolution and given Poisson counts (or their expectation), exactly
as :func:`opensirt.demo.phantom.make_phantom` renders the PET in register.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from opensirt.demo.anatomy import CT_NOISE_HU, CT_NUMBER_HU, ct_from_labels
from opensirt.demo.phantom import (
    PET_EFFECTIVE_EFFICIENCY,
    SPECT_CALIBRATION_CPS_PER_MBQ,
    ScanTruth,
    SyntheticPatient,
    blurred,
    in_scan_integral_s,
)
from opensirt.imaging.dicom_common import DicomContext, save_dataset
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_write import ct_datasets, nm_dataset, pet_datasets, write_series
from opensirt.imaging.regrid import rebin_sum
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import get_nuclide

__all__ = [
    "MovedStudy",
    "moved_posttreatment",
    "moved_spect",
    "write_moved_posttreatment",
    "write_moved_spect",
]

#: Default pose change: a few degrees about every axis and a 10-20 mm shift.
DEFAULT_ROTATION_DEG = (3.0, -2.0, 4.0)
DEFAULT_TRANSLATION_MM = (12.0, -10.0, 15.0)
_AIR_HU = CT_NUMBER_HU["air"]


@dataclass(frozen=True, eq=False)
class MovedStudy:
    """A post-treatment PET/CT of the phantom in a frame of reference of its own.

    Attributes
    ----------
    ct : Volume
        Its CT (HU), in the new frame.
    pet : Volume
        Its Y-90 PET (Bq/mL, with the phantom PET's metadata), in the new frame.
    context : DicomContext
        Study and frame of reference of the new scan.
    transform : SimpleITK.Euler3DTransform
        Planning frame to new frame (see the module notes).
    """

    ct: Volume
    pet: Volume
    context: DicomContext
    transform: Any

    def to_new_frame(self, points_mm: Any) -> Any:
        """Where planning-frame points ``(..., 3)`` (mm) lie in the new frame (mm).

        Parameters
        ----------
        points_mm : array_like
            Points in the planning frame (LPS, mm), last axis x, y, z.

        Returns
        -------
        numpy.ndarray
            The same points in the new frame (LPS, mm), shape of ``points_mm``.
        """
        pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 3)
        moved = np.array([self.transform.TransformPoint(tuple(map(float, p))) for p in pts])
        return moved.reshape(np.shape(points_mm))


def _carried(volume: Volume, grid: Volume, inverse: Any, outside: float) -> Any:
    """``volume``'s values at ``T^-1(y)`` (linear) for every voxel centre ``y`` of ``grid``."""
    import SimpleITK as sitk

    image = sitk.Cast(volume.to_sitk(), sitk.sitkFloat64)
    out = sitk.Resample(image, grid.to_sitk(), inverse, sitk.sitkLinear, outside)
    return sitk.GetArrayFromImage(out)


def _followed(grid: Volume, frame: str, translation_mm: tuple[float, float, float]) -> Volume:
    """``grid`` in ``frame``, shifted with the patient (the scanner centres its field of view
    on the patient), so that the moved anatomy stays in the field of view."""
    origin = tuple(o + t for o, t in zip(grid.origin_mm, translation_mm, strict=True))
    return replace(
        grid,
        origin_mm=(origin[0], origin[1], origin[2]),
        frame_of_reference_uid=frame,
        metadata=dict(grid.metadata),
    )


def _render(
    scan: ScanTruth,
    ct_grid: Volume,
    inverse: Any,
    translation_mm: tuple[float, float, float],
    sensitivity_cps_per_mbq: float,
    noise: bool,
    rng: np.random.Generator,
) -> tuple[Volume, float]:
    """(counts on the scan's grid moved with the patient, counts per MBq at scan start)."""
    moved_mbq = _carried(scan.activity_ct_mbq, ct_grid, inverse, 0.0)  # same voxel volume
    grid = _followed(scan.image, str(ct_grid.frame_of_reference_uid), translation_mm)
    on_grid = rebin_sum(ct_grid.with_array(moved_mbq, units="MBq"), grid)
    nuclide = scan.radiopharmaceutical.nuclide
    per_mbq = sensitivity_cps_per_mbq * in_scan_integral_s(nuclide, scan.acquisition_duration_s)
    expected = np.clip(blurred(on_grid, scan.fwhm_mm) * per_mbq, 0.0, None)
    counts = rng.poisson(expected).astype(np.float64) if noise else expected
    return grid.with_array(counts, units="counts"), per_mbq


def moved_spect(
    patient: SyntheticPatient, study: MovedStudy, *, noise: bool = True, seed: int = 8
) -> Volume:
    """The phantom's MAA SPECT (integer counts) with the patient moved as in ``study``, in
    ``study``'s frame: a work-up SPECT/CT acquired apart from the planning CT.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient (its MAA scan's activity, grid, resolution and timing).
    study : MovedStudy
        The moved study whose pose change, frame and CT the SPECT follows.
    noise : bool, optional
        Poisson counts (True, default) or their expectation, rounded.
    seed : int, optional
        Seed of the counting noise (default 8).

    Returns
    -------
    Volume
        The SPECT (counts per voxel, whole numbers), in ``study``'s frame, with the
        phantom SPECT's metadata.
    """
    rng = np.random.default_rng(seed)
    inverse = study.transform.GetInverse()
    translation = tuple(float(t) for t in study.transform.GetTranslation())
    maa = patient.maa
    counts, _ = _render(
        maa,
        study.ct,
        inverse,
        (translation[0], translation[1], translation[2]),
        SPECT_CALIBRATION_CPS_PER_MBQ,
        noise,
        rng,
    )
    return counts.with_array(np.rint(np.asarray(counts.array)), **maa.image.metadata)


def moved_posttreatment(
    patient: SyntheticPatient,
    *,
    rotation_deg: tuple[float, float, float] = DEFAULT_ROTATION_DEG,
    translation_mm: tuple[float, float, float] = DEFAULT_TRANSLATION_MM,
    centre_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
    new_frame: bool = True,
    noise: bool = True,
    seed: int = 7,
) -> MovedStudy:
    """Render the phantom's post-treatment PET/CT with the patient moved.

    Parameters
    ----------
    patient : SyntheticPatient
        The synthetic patient (its anatomy and post-treatment PET).
    rotation_deg, translation_mm, centre_mm : tuple of 3 floats
        The pose change (degrees about x, y, z; mm; rotation centre in mm).
    new_frame : bool
        Write it in a new frame of reference and study (False: the planning frame, for a
        study in register rendered the same way).
    noise : bool
        Poisson counts (True) or their expectation.
    seed : int
        Seed of the CT and counting noise.

    Returns
    -------
    MovedStudy
        The CT (HU) and Y-90 PET (Bq/mL) of the moved patient, their DICOM context and the
        planning-to-new-frame transform.
    """
    import SimpleITK as sitk

    transform = sitk.Euler3DTransform()
    transform.SetCenter(centre_mm)
    transform.SetRotation(*(math.radians(a) for a in rotation_deg))
    transform.SetTranslation(translation_mm)
    inverse = transform.GetInverse()
    rng = np.random.default_rng(seed)
    pet = patient.pet
    context = patient.context
    if new_frame:
        context = DicomContext(
            context.patient_id,
            pet.acquisition_datetime,
            uid_seed=f"{context.uid_seed}-post-{rotation_deg}-{translation_mm}",
            study_description="OpenSIRT synthetic post-treatment PET/CT",
        )
    frame = context.frame_of_reference_uid
    ct_grid = _followed(patient.ct, frame, translation_mm)
    labels = np.asarray(patient.labels.array, dtype=np.int16)
    noiseless = patient.ct.with_array(ct_from_labels(labels, rng, noise_hu=0.0))
    hu = _carried(noiseless, ct_grid, inverse, _AIR_HU) + rng.normal(
        0.0, CT_NOISE_HU, ct_grid.shape
    )
    ct = ct_grid.with_array(np.clip(hu, _AIR_HU, None).astype(np.float32), units="HU")
    sensitivity = 1e6 * get_nuclide(pet.radiopharmaceutical.nuclide).imaging_photon_yield
    sensitivity *= PET_EFFECTIVE_EFFICIENCY  # counts per second per MBq, as the phantom's PET
    counts, per_mbq = _render(pet, ct_grid, inverse, translation_mm, sensitivity, noise, rng)
    image = counts.with_array(
        np.asarray(counts.array) / per_mbq * 1e6 / counts.voxel_volume_ml, units="Bq/mL"
    )
    return MovedStudy(ct=ct, pet=image, context=context, transform=transform)


def write_moved_posttreatment(
    study: MovedStudy, patient: SyntheticPatient, outdir: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write the study as DICOM ``post_ct/`` and ``post_pet/`` under ``outdir``.

    Parameters
    ----------
    study : MovedStudy
        The moved study (:func:`moved_posttreatment`).
    patient : SyntheticPatient
        The synthetic patient (the PET's radiopharmaceutical and acquisition duration).
    outdir : str | os.PathLike[str]
        The folder to write into (created if missing).

    Returns
    -------
    tuple[Path, Path]
        The CT and PET folders (the case file's ``images.post_ct`` and
        ``images.post_treatment``).
    """
    root = Path(outdir)
    pet = patient.pet
    acquired = study.pet.metadata.get(MetaKey.ACQUISITION_DATETIME.value, pet.acquisition_datetime)
    write_series(ct_datasets(study.ct, study.context, acquired=acquired), root / "post_ct", "CT")
    pt = pet_datasets(
        study.pet,
        study.context,
        pet.radiopharmaceutical,
        acquired=acquired,
        duration_s=pet.acquisition_duration_s,
    )
    write_series(pt, root / "post_pet", "PT")
    return root / "post_ct", root / "post_pet"


def write_moved_spect(
    spect: Volume, study: MovedStudy, patient: SyntheticPatient, outdir: str | os.PathLike[str]
) -> Path:
    """Write :func:`moved_spect`'s SPECT as ``spect/NM_0001.dcm`` under ``outdir``, in
    ``study``'s frame of reference (with ``study``'s CT as its own CT).

    Parameters
    ----------
    spect : Volume
        The SPECT (counts), from :func:`moved_spect`.
    study : MovedStudy
        The study whose DICOM context (study, frame of reference) the SPECT joins.
    patient : SyntheticPatient
        The synthetic patient (the MAA's radiopharmaceutical, acquisition time and
        duration).
    outdir : str | os.PathLike[str]
        The folder to write into (created if missing).

    Returns
    -------
    Path
        The written file, ``outdir/spect/NM_0001.dcm``.
    """
    maa = patient.maa
    dataset = nm_dataset(
        spect,
        study.context,
        maa.radiopharmaceutical,
        acquired=maa.acquisition_datetime,
        duration_s=maa.acquisition_duration_s,
    )
    return save_dataset(dataset, Path(outdir) / "spect" / "NM_0001.dcm")
