"""What the post-treatment image is, whether it fits the device, and what it says.

Three post-treatment modalities verify a radioembolization, all the same way (relative
calibration of the image to the delivered activity within the liver and lung VOIs, kernel
convolution with the device's nuclide):

Y-90 PET
    Internal pair production (31.86 e+ per 10^6 decays) gives a PET with 6-8 mm resolution
    and its own absolute calibration (Bq/mL), noisy at these count rates; its total in the
    liver and lungs is a cross-check of the assays (Willowson et al. 2015, EJNMMI Phys 2:1,
    doi:10.1186/s40658-014-0104-x).
Y-90 bremsstrahlung SPECT
    What most centres have. The continuous bremsstrahlung spectrum (to 2.28 MeV) imaged
    through a wide window with a medium- or high-energy collimator: septal penetration and
    scatter give a broad, energy-window-dependent resolution (15-20 mm FWHM) and a
    low-frequency background; absolute quantification needs Monte Carlo based
    reconstruction, so relative calibration to the delivered activity is the standard
    (Elschot et al. 2013, PLoS One 8:e55742, doi:10.1371/journal.pone.0055742; Siman et al.
    2016, Med Phys 43:5093, doi:10.1118/1.4960629; EANM 2022, Weber et al.,
    doi:10.1007/s00259-021-05600-z). The broad resolution lowers the apparent uptake of
    tumours smaller than a few FWHM and the background raises that of the normal liver and
    the lungs.
Ho-166 SPECT
    The 80.6 keV photopeak (6.55 %) with a medium-energy collimator, corrected for the
    down-scatter of the 1.38 MeV gammas (Elschot et al. 2013, Med Phys 40:112502,
    doi:10.1118/1.4823788; van Rooij et al. 2020, EJNMMI Phys 7:13,
    doi:10.1186/s40658-020-0280-9); dose with Ho-166's own kernel (mean beta energy
    0.665 MeV, 8.7 mm maximum range; Smits et al. 2013, J Nucl Med 54:2093,
    doi:10.2967/jnumed.113.119768).

Checks: the image's modality (PT or NM), its units (BQML or counts) and its radionuclide
(Radiopharmaceutical Information Sequence, Radionuclide Code Sequence) against the device: an
image of another nuclide is refused, an unlabelled one warned about.

Assays against the image: an image with its own calibration (PET in Bq/mL) whose total in
the liver and lungs disagrees with the assay-based delivered activity by more than a factor
:data:`ASSAY_IMAGE_WARN_FACTOR` is warned about; beyond :data:`ASSAY_IMAGE_REFUSE_FACTOR` the
verification is refused. (A vial assay far above any vial of the device, such as mCi written
as GBq, is already refused when the case file is read: :mod:`opensirt.planning.plausibility`.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.physics.devices import Device
from opensirt.physics.nuclides import NuclideName
from opensirt.physics.units import gbq_to_mci, mci_to_gbq
from opensirt.workflow.voxel import DoseGrid

__all__ = [
    "ASSAY_IMAGE_REFUSE_FACTOR",
    "ASSAY_IMAGE_WARN_FACTOR",
    "CountsInVois",
    "PostTreatmentImage",
    "PostTreatmentModality",
    "check_image_against_assay",
    "classify_post_treatment_image",
    "counts_in_vois",
]

#: Image total against assays: beyond this factor (either way) a warning. The vial assay of
#: Y-90 is uncertain to about 10 % (the SIR-Spheres vial is stated 3 GBq +/- 10 %, IFU) and
#: Y-90 PET recovers the activity of large volumes to about 10 % (Willowson et al. 2015); a
#: 30 % disagreement is about three combined standard uncertainties: not chance, a check.
ASSAY_IMAGE_WARN_FACTOR = 1.3
#: Beyond this factor the assays and the image cannot both be right (a unit or time error):
#: the verification is refused.
ASSAY_IMAGE_REFUSE_FACTOR = 5.0


class PostTreatmentModality(StrEnum):
    """The post-treatment imaging modalities that ``opensirt verify`` accepts."""

    Y90_PET = "Y-90 PET"
    Y90_BREMSSTRAHLUNG_SPECT = "Y-90 bremsstrahlung SPECT"
    HO166_SPECT = "Ho-166 SPECT"


#: What each modality means for the verification, in a sentence (report and JSON).
PHYSICS_NOTE = {
    PostTreatmentModality.Y90_PET: (
        "Y-90 PET (internal pair production, 6-8 mm resolution): relative calibration to the "
        "delivered activity, the image's own Bq/mL calibration kept as a cross-check "
        "(Willowson et al. 2015)."
    ),
    PostTreatmentModality.Y90_BREMSSTRAHLUNG_SPECT: (
        "Y-90 bremsstrahlung SPECT: broad, energy-window-dependent resolution (15-20 mm FWHM) "
        "and a scatter background; relative calibration to the delivered activity is the "
        "standard (Elschot et al. 2013; Siman et al. 2016; EANM 2022). Small tumours read "
        "low and the normal liver and lungs high: read tumour doses as lower bounds."
    ),
    PostTreatmentModality.HO166_SPECT: (
        "Ho-166 SPECT (80.6 keV photopeak, down-scatter of the 1.38 MeV gammas): relative "
        "calibration to the delivered activity, dose with the Ho-166 kernel (Elschot et al. "
        "2013; Smits et al. 2013; van Rooij et al. 2020)."
    ),
}


@dataclass(frozen=True)
class PostTreatmentImage:
    """The post-treatment image as its header describes it, checked against the device.

    Attributes
    ----------
    modality : PostTreatmentModality
    dicom_modality : str
        ``"PT"`` or ``"NM"`` (empty for a NIfTI image).
    units : str
        ``"Bq/mL"`` or ``"counts"`` (or the raw unit).
    radionuclide_label : str or None
        The nuclide the header names, None when it names none.
    absolute_calibration : bool
        The image is in Bq/mL (its total is compared with the assays).
    warnings : tuple of str
    """

    modality: PostTreatmentModality
    dicom_modality: str
    units: str
    radionuclide_label: str | None
    absolute_calibration: bool
    warnings: tuple[str, ...]

    @property
    def physics_note(self) -> str:
        """What the modality means for the verification (one sentence, with references)."""
        return PHYSICS_NOTE[self.modality]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping.

        Returns
        -------
        dict
            The modality, DICOM modality, units, radionuclide label, calibration, whether
            the image's absolute calibration is cross-checked, and the physics note.
        """
        return {
            "modality": self.modality.value,
            "dicom_modality": self.dicom_modality,
            "units": self.units,
            "radionuclide_label": self.radionuclide_label,
            "calibration": "relative: the liver and lung VOIs hold the delivered activity",
            "absolute_calibration_cross_check": self.absolute_calibration,
            "physics": self.physics_note,
        }


def classify_post_treatment_image(
    image: Volume, device: Device, source: str | os.PathLike[str]
) -> PostTreatmentImage:
    """Which modality ``image`` is, refusing one that cannot verify a ``device`` treatment.

    Parameters
    ----------
    image : Volume
        The post-treatment image as read, with its DICOM metadata.
    device : Device
        The microsphere device of the case (its nuclide).
    source : path
        Where the image was read from, for messages.

    Returns
    -------
    PostTreatmentImage
        Its modality (Y-90 PET, Y-90 bremsstrahlung SPECT, Ho-166 SPECT), units, label and
        the warnings of what could not be checked.

    Raises
    ------
    InputError
        An image that is not PT or NM (a CT, say), labelled with another radionuclide than
        the device's, or a PET of Ho-166 (no positron emission to image).
    """
    meta = image.metadata
    dicom_modality = str(meta.get(MetaKey.MODALITY.value) or "")
    nuclide = device.nuclide.name
    where = f"images.post_treatment ({source})"
    if dicom_modality not in {"PT", "NM", ""}:
        raise InputError(
            f"{where} is a {dicom_modality} series, expected the post-treatment emission "
            f"image of the {nuclide} treatment: PT (Y-90 PET) or NM (Y-90 bremsstrahlung or "
            "Ho-166 SPECT); point images.post_treatment at that series"
        )
    warnings: list[str] = []
    label = meta.get(MetaKey.RADIONUCLIDE.value)
    label = str(label) if label else None
    known = {n.value: n for n in NuclideName}
    if label is None:
        warnings.append(
            f"{where} names no radionuclide (Radiopharmaceutical Information Sequence); it "
            f"was verified as the device's {nuclide}: check that it shows the treatment"
        )
    elif label not in known:
        warnings.append(
            f"{where} is labelled {label!r}, a radionuclide OpenSIRT does not recognise; it "
            f"was verified as the device's {nuclide}"
        )
    elif known[label] != nuclide:
        raise InputError(
            f"{where} is labelled {label} (Radionuclide Code Sequence), but {device.label} "
            f"carry {nuclide}: a {label} image cannot verify a {nuclide} treatment; give the "
            f"post-treatment {nuclide} image, or correct the case file's device"
        )
    if nuclide == NuclideName.HO166:
        if dicom_modality == "PT":
            raise InputError(
                f"{where} is a PET, but Ho-166 emits no positrons to image; give the "
                "post-treatment Ho-166 SPECT (NM)"
            )
        modality = PostTreatmentModality.HO166_SPECT
    elif dicom_modality == "PT" or (dicom_modality == "" and image.units == "Bq/mL"):
        modality = PostTreatmentModality.Y90_PET
    else:
        modality = PostTreatmentModality.Y90_BREMSSTRAHLUNG_SPECT
    if image.units not in {"Bq/mL", "counts"}:
        warnings.append(
            f"{where} has units {image.units or 'none'!r}, expected Bq/mL (BQML) or counts; "
            "only its relative distribution was used"
        )
    absolute = image.units == "Bq/mL"
    return PostTreatmentImage(
        modality, dicom_modality, image.units, label, absolute, tuple(warnings)
    )


@dataclass(frozen=True)
class CountsInVois:
    """Where the image's signal is: in the liver VOI, the lung VOI, or outside both.

    Fractions of the total (negative voxels, reconstruction noise, count as 0) in the
    field of view; voxels partly inside a VOI count by their occupancy. ``total`` is in
    ``units``: counts, or MBq for an image in Bq/mL.
    """

    total: float
    units: str
    liver_fraction: float
    lungs_fraction: float

    @property
    def outside_fraction(self) -> float:
        """Share of the signal outside the liver and lung VOIs (scatter, blur, extrahepatic
        deposition)."""
        return max(0.0, 1.0 - self.liver_fraction - self.lungs_fraction)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping.

        Returns
        -------
        dict
            The total signal in the field of view (in ``units``) and the fractions in the
            liver, in the lungs and outside both VOIs.
        """
        return {
            "total_in_field_of_view": self.total,
            "units": self.units,
            "liver_fraction": self.liver_fraction,
            "lungs_fraction": self.lungs_fraction,
            "outside_vois_fraction": self.outside_fraction,
        }


def counts_in_vois(grid: DoseGrid) -> CountsInVois:
    """The image's signal in the liver and lung VOIs and outside them.

    Parameters
    ----------
    grid : DoseGrid
        The post-treatment image's grid with the liver and lung occupancies.

    Returns
    -------
    CountsInVois
        The total (MBq for a Bq/mL image, else counts) and its fractions in the liver, the
        lungs and outside both (a voxel counted once).

    Raises
    ------
    InputError
        When the image holds no counts.
    """
    roles = grid.roles
    signal = np.clip(np.asarray(grid.emission.array, dtype=np.float64), 0.0, None)
    total = float(signal.sum())
    if not total > 0:
        raise InputError(
            "the post-treatment image holds no counts; check images.post_treatment points at "
            "the emission series"
        )
    liver = grid.fractions[roles.liver]
    lungs = grid.fractions[roles.lungs] if roles.lungs else np.zeros(liver.shape)
    lungs = np.clip(lungs, 0.0, 1.0 - np.clip(liver, 0.0, 1.0))  # a voxel counts once
    scale, units = 1.0, grid.emission.units or ""
    if units == "Bq/mL":  # the total as an activity (MBq at the image's reference time)
        scale, units = grid.emission.voxel_volume_ml / 1e6, "MBq"
    return CountsInVois(
        total * scale,
        units,
        float((signal * liver).sum()) / total,
        float((signal * lungs).sum()) / total,
    )


def _unit_hint(assay_gbq: float, image_gbq: float | None, vial_gbq: float) -> str:
    ratio = assay_gbq / image_gbq if image_gbq else None
    mci_ratio = gbq_to_mci(1.0)
    if ratio is None or mci_ratio / 2.0 < ratio < mci_ratio * 2.0:
        return (
            f"; if the vial assay was in mCi, treatment.vial_activity_gbq {vial_gbq:g} mCi is "
            f"{mci_to_gbq(vial_gbq):.4g} GBq (1 mCi = 37 MBq)"
        )
    return "; check the units (GBq) and times of the vial and residual assays"


def check_image_against_assay(
    image_gbq: float | None, delivered_gbq: float, vial_gbq: float
) -> str | None:
    """A warning when the image's own calibration and the assays disagree, else None.

    Parameters
    ----------
    image_gbq : float or None
        The calibrated image's activity in the liver and lungs at injection (GBq); ``None``
        for an image without calibration: nothing to compare.
    delivered_gbq : float
        The delivered activity from the assays (GBq), vial minus residual at injection.
    vial_gbq : float
        The vial assay as the case file gives it (GBq), named in the hint about units.

    Returns
    -------
    str or None
        The warning when they differ by more than :data:`ASSAY_IMAGE_WARN_FACTOR`, else
        ``None``.

    Raises

    ------
    InputError
        When they disagree by more than :data:`ASSAY_IMAGE_REFUSE_FACTOR`.
    """
    if image_gbq is None or not image_gbq > 0:
        return None
    factor = max(delivered_gbq / image_gbq, image_gbq / delivered_gbq)
    if factor <= ASSAY_IMAGE_WARN_FACTOR:
        return None
    text = (
        f"the post-treatment image's own calibration puts {image_gbq:.4g} GBq in the liver and "
        "lungs at injection, "
        f"but the assays give {delivered_gbq:.4g} GBq delivered (a factor {factor:.2f}, beyond "
        f"{ASSAY_IMAGE_WARN_FACTOR:g})"
        + _unit_hint(delivered_gbq, image_gbq, vial_gbq)
        + "; or the image's own calibration is wrong (RescaleSlope, Units, decay correction: "
        "check its header)"
    )
    if factor > ASSAY_IMAGE_REFUSE_FACTOR:
        raise InputError(
            text + f"; refused: beyond a factor {ASSAY_IMAGE_REFUSE_FACTOR:g} the doses would be "
            "wrong by as much"
        )
    return "ASSAYS AND IMAGE DISAGREE: " + text + "; the delivered doses scale with the assays"
