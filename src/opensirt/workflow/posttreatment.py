"""Post-treatment verification: the delivered dose, and predicted against delivered.

From a case file with ``images.post_treatment`` (Y-90 PET, Y-90 bremsstrahlung SPECT or
Ho-166 SPECT) and ``treatment`` (vial and residual assays, injection time):

1. the delivered activity: vial activity at injection minus the residual at injection;
2. the post-treatment image scaled so that the liver and the lungs hold the delivered
   activity (the relative calibration recommended where the image's absolute quantification
   is uncertain; EANM 2022, Weber et al., doi:10.1007/s00259-021-05600-z), with the lung
   shunt measured on that image;
3. the delivered voxel dose (the case's dose method, as the prediction's);
4. predicted against delivered per structure: mean dose and D70, the lung dose, and the
   DVHs. The prediction is the pre-treatment voxel dose per GBq times the delivered
   activity, so that the comparison shows where the microspheres went differently from the
   MAA, not that a different activity was injected. Differences beyond the tolerance are
   flagged.

A Y-90 PET also carries an absolute calibration (Bq/mL): its total in the liver and lungs,
decayed to the injection, is reported against the delivered activity as a check of both.
The image's modality, units and nuclide are checked against the device, and its counts
outside the liver and lung VOIs reported (:mod:`opensirt.workflow.posttreatment_image`,
which also describes the physics of each modality).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from opensirt._threads import limited_threads
from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.physics.decay import activity_at
from opensirt.physics.devices import get_device
from opensirt.planning.case import Case
from opensirt.planning.case_dosimetry import case_dosimetry
from opensirt.planning.limits import LimitName
from opensirt.planning.lung import lung_dose_gy
from opensirt.planning.schedule import DeliveredActivity, delivered_activity
from opensirt.workflow.defaults import DEFAULT_TOLERANCE_FLOOR_GY, DEFAULT_TOLERANCE_FRACTION
from opensirt.workflow.definitions import (
    VERIFIED_LUNG_DOSE,
    VOXEL_MEAN_LUNG_DOSE,
    partition_lung_dose_definition,
)
from opensirt.workflow.dose_record import DoseMethodRecord, dose_method_record
from opensirt.workflow.inputs import CaseImages, load_images, recorded_warnings
from opensirt.workflow.measure import lung_shunt_from_spect
from opensirt.workflow.posttreatment_image import (
    CountsInVois,
    PostTreatmentImage,
    check_image_against_assay,
    classify_post_treatment_image,
    counts_in_vois,
)
from opensirt.workflow.pretreatment import PreTreatmentResult, Progress, no_progress
from opensirt.workflow.voxel import (
    NORMAL_LIVER,
    DoseGrid,
    activity_map,
    dose_map,
    dvh_names,
    prepare_dose_grid,
    structure_dvhs,
)


@dataclass(frozen=True)
class StructureComparison:
    """Predicted against delivered mean dose and D70 of one structure (Gy)."""

    name: str
    predicted_mean_gy: float
    delivered_mean_gy: float
    predicted_d70_gy: float
    delivered_d70_gy: float
    flagged: bool

    @property
    def mean_difference_fraction(self) -> float:
        """(delivered - predicted) / predicted mean dose."""
        if self.predicted_mean_gy == 0:
            return 0.0 if self.delivered_mean_gy == 0 else float("inf")
        return (self.delivered_mean_gy - self.predicted_mean_gy) / self.predicted_mean_gy

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping.

        Returns
        -------
        dict
            The name, predicted and delivered mean dose and D70 (Gy), the relative
            difference of the means, and whether it is flagged.
        """
        return {
            "name": self.name,
            "predicted_mean_gy": self.predicted_mean_gy,
            "delivered_mean_gy": self.delivered_mean_gy,
            "mean_difference_fraction": self.mean_difference_fraction,
            "predicted_d70_gy": self.predicted_d70_gy,
            "delivered_d70_gy": self.delivered_d70_gy,
            "flagged": self.flagged,
        }


def _differs(predicted: float, delivered: float, tolerance: float, floor_gy: float) -> bool:
    difference = abs(delivered - predicted)
    return difference > floor_gy and difference > tolerance * abs(predicted)


def compare_structures(
    predicted: Mapping[str, DoseVolumeHistogram],
    delivered: Mapping[str, DoseVolumeHistogram],
    *,
    tolerance_fraction: float = DEFAULT_TOLERANCE_FRACTION,
    tolerance_floor_gy: float = DEFAULT_TOLERANCE_FLOOR_GY,
) -> tuple[StructureComparison, ...]:
    """Mean dose and D70, predicted against delivered, for the structures in both.

    A structure is flagged when its mean dose or its D70 differ by more than
    ``tolerance_fraction`` of the predicted value and by more than ``tolerance_floor_gy``.

    Parameters
    ----------
    predicted : mapping of str to DoseVolumeHistogram
        The predicted DVH per structure (scaled to the delivered activity).
    delivered : mapping of str to DoseVolumeHistogram
        The delivered DVH per structure.
    tolerance_fraction : float, optional
        Relative difference beyond which a structure is flagged (default
        :data:`~opensirt.workflow.defaults.DEFAULT_TOLERANCE_FRACTION`).
    tolerance_floor_gy : float, optional
        Absolute difference (Gy) below which nothing is flagged (default
        :data:`~opensirt.workflow.defaults.DEFAULT_TOLERANCE_FLOOR_GY`).

    Returns
    -------
    tuple of StructureComparison
        One per structure of ``predicted`` that ``delivered`` also has, in its order.
    """
    out = []
    for name, pred in predicted.items():
        if name not in delivered:
            continue
        dlv = delivered[name]
        p70, d70 = pred.d_percent_gy(70.0), dlv.d_percent_gy(70.0)
        flagged = _differs(pred.mean_gy, dlv.mean_gy, tolerance_fraction, tolerance_floor_gy) or (
            _differs(p70, d70, tolerance_fraction, tolerance_floor_gy)
        )
        out.append(StructureComparison(name, pred.mean_gy, dlv.mean_gy, p70, d70, flagged))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class VerificationResult:
    """Delivered dose and its comparison with the prediction.

    Attributes
    ----------
    pre : PreTreatmentResult
        The prediction (re-computed from the work-up images of the case).
    images : CaseImages
        Post-treatment image, its CT and structures.
    grid : DoseGrid
    delivered : DeliveredActivity
    lung_shunt_fraction : float
        Measured on the post-treatment image.
    lung_dose_gy, predicted_lung_dose_gy : float
        Partition lung dose of the delivered activity, with the post-treatment lung shunt (the
        verified lung dose) and with the planning lung shunt (predicted, scaled to the
        delivered activity).
    image_total_at_injection_gbq : float or None
        The image's own calibrated activity in liver and lungs at injection (PET), if any.
    dose : Volume
        Delivered dose (Gy) on the post-treatment grid.
    dvhs, predicted_dvhs : mapping of str to DoseVolumeHistogram
    comparisons : tuple of StructureComparison
    tolerance_fraction, tolerance_floor_gy : float
    warnings : tuple of str
    image_check : PostTreatmentImage
        The post-treatment image's modality, units and nuclide.
    counts : CountsInVois
        Its signal in the liver and lung VOIs and outside them.
    """

    case: Case
    pre: PreTreatmentResult
    images: CaseImages
    grid: DoseGrid
    delivered: DeliveredActivity
    lung_shunt_fraction: float
    lung_dose_gy: float
    predicted_lung_dose_gy: float
    image_total_at_injection_gbq: float | None
    dose: Volume
    dvhs: Mapping[str, DoseVolumeHistogram]
    predicted_dvhs: Mapping[str, DoseVolumeHistogram]
    comparisons: tuple[StructureComparison, ...]
    tolerance_fraction: float
    tolerance_floor_gy: float
    warnings: tuple[str, ...]
    image_check: PostTreatmentImage
    counts: CountsInVois

    @property
    def flagged_structures(self) -> tuple[str, ...]:
        """The structures whose delivered dose needs a look, in the comparisons' order.

        A structure is flagged when its delivered mean dose or D70 differ from the prediction
        scaled to the delivered activity beyond the tolerance (:attr:`comparisons`); the lungs
        also when the verified lung dose differs so from the predicted one or exceeds the
        plan's lung limit; the normal liver also when its delivered mean dose exceeds the
        plan's normal-liver limit.

        Returns
        -------
        tuple of str
            Structure names as in :attr:`dvhs`, each once; empty when nothing is flagged.
        """
        names = [c.name for c in self.comparisons if c.flagged]
        limits = {c.name: c.limit_gy for c in self.pre.prescribed.limits}
        lungs = self.images.roles.lungs
        lung_limit = limits.get(LimitName.LUNG_MAX)
        if lungs is not None and (
            _differs(
                self.predicted_lung_dose_gy,
                self.lung_dose_gy,
                self.tolerance_fraction,
                self.tolerance_floor_gy,
            )
            or (lung_limit is not None and self.lung_dose_gy > lung_limit)
        ):
            names.append(lungs)
        liver_limit = limits.get(LimitName.NORMAL_LIVER_MAX)
        normal = self.dvhs.get(NORMAL_LIVER)
        if liver_limit is not None and normal is not None and normal.mean_gy > liver_limit:
            names.append(NORMAL_LIVER)
        return tuple(dict.fromkeys(names))

    @property
    def dose_method(self) -> DoseMethodRecord:
        """The method of the delivered voxel dose (with its Monte Carlo uncertainty)."""
        return dose_method_record(self.dose, self.grid.fractions, tuple(self.dvhs))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``opensirt verify --json``.

        Returns
        -------
        dict
            The delivered activity, the lung shunt fractions, the lung doses, the tolerance,
            the comparison per structure, the delivered dose metrics and ``dose_method``
            (:meth:`DoseMethodRecord.to_dict`), the image's check and
            counts, the registration, the warnings and the definitions of the numbers.
        """
        d = self.delivered
        return {
            "patient_id": self.case.patient.id,
            "device": self.case.device.value,
            "delivered": {
                "vial_at_injection_gbq": d.pre_at_injection_gbq,
                "residual_at_injection_gbq": d.residual_at_injection_gbq,
                "delivered_gbq": d.delivered_gbq,
                "residual_fraction": d.residual_fraction,
                "planned_activity_gbq": self.pre.prescribed.activity_gbq,
                "image_total_at_injection_gbq": self.image_total_at_injection_gbq,
            },
            "lung_shunt_fraction": {
                "planned": self.pre.lung_shunt_fraction,
                "delivered": self.lung_shunt_fraction,
            },
            "lung_dose_gy": {
                "predicted": self.predicted_lung_dose_gy,
                "delivered": self.lung_dose_gy,
                "predicted_as_planned": self.pre.prescribed.lung_gy,
                "lung_mass_kg": self.pre.lung_mass_kg,
            },
            "tolerance": {
                "fraction": self.tolerance_fraction,
                "floor_gy": self.tolerance_floor_gy,
            },
            "structures": [c.to_dict() for c in self.comparisons],
            "delivered_dose": {name: h.metrics() for name, h in self.dvhs.items()},
            "dose_method": self.dose_method.to_dict(),
            "post_treatment_image": self.image_check.to_dict(),
            "counts": self.counts.to_dict(),
            "registration": (
                None if self.images.registration is None else self.images.registration.to_dict()
            ),
            "warnings": list(self.warnings),
            "definitions": self._definitions(),
        }

    def _definitions(self) -> dict[str, str]:
        """What the numbers of :meth:`to_dict` are, keyed by their JSON path."""
        scaled = "predicted scaled to the delivered activity (delivered_gbq)"
        return {
            "lung_dose_gy.predicted": f"{partition_lung_dose_definition(self.pre.lung_mass_kg)}"
            f"; {scaled}, planning lung shunt fraction",
            "lung_dose_gy.delivered": VERIFIED_LUNG_DOSE,
            "lung_dose_gy.predicted_as_planned": "partition lung dose of the planned activity "
            "(planned_activity_gbq), planning lung shunt fraction",
            "structures.predicted_*": f"voxel dose {scaled}: the plan's dose per GBq times the "
            "activity delivered; the comparison is against it",
            "structures.delivered_*": "voxel dose from the post-treatment image",
            "voxel mean lung dose": VOXEL_MEAN_LUNG_DOSE + " (the lung row of structures)",
        }


def _delivered(case: Case) -> DeliveredActivity:
    record = case.treatment
    if record is None:
        raise InputError(
            "the case file has no treatment: section; add the injection time, the vial assay "
            "(vial_activity_gbq, vial_measured) and the residual assay (residual_activity_gbq, "
            "residual_measured) to verify the delivered dose"
        )
    return delivered_activity(
        pre_activity_gbq=record.vial_activity_gbq,
        pre_measured=record.vial_measured,
        residual_activity_gbq=record.residual_activity_gbq,
        residual_measured=record.residual_measured or record.injection,
        injection=record.injection,
        device=case.device,
    )


def _image_total_at_injection_gbq(grid: DoseGrid, case: Case) -> float | None:
    """The calibrated (Bq/mL) image's activity in liver and lungs, decayed to injection."""
    image = grid.emission
    if image.units != "Bq/mL" or case.treatment is None:
        return None
    reference = image.metadata.get(MetaKey.ACTIVITY_REFERENCE_DATETIME)
    if not isinstance(reference, datetime) or reference.tzinfo is None:
        return None
    roles = grid.roles
    assert roles.lungs is not None
    region = np.clip(grid.fractions[roles.liver] + grid.fractions[roles.lungs], 0.0, 1.0)
    total_gbq = float((np.asarray(image.array) * region).sum()) * image.voxel_volume_ml / 1e9
    device = get_device(case.device)
    return activity_at(
        total_gbq,
        reference,
        case.treatment.injection,
        device.nuclide,
        half_life_h=device.half_life_h,
    )


@limited_threads()
def verify_case(
    case: Case,
    *,
    pre: PreTreatmentResult,
    progress: Progress = no_progress,
    tolerance_fraction: float = DEFAULT_TOLERANCE_FRACTION,
    tolerance_floor_gy: float = DEFAULT_TOLERANCE_FLOOR_GY,
) -> VerificationResult:
    """Delivered dose of a case and its comparison with the prediction ``pre``.

    Parameters
    ----------
    case : Case
        A case file with ``images.post_treatment`` and a ``treatment:`` record.
    pre : PreTreatmentResult
        The plan from the work-up images (computed, or restored from a saved plan).
    progress : callable, optional
        Called with the name of each step as it starts (default: says nothing).
    tolerance_fraction : float, optional
        Relative difference of mean dose or D70 that is flagged (default
        :data:`~opensirt.workflow.defaults.DEFAULT_TOLERANCE_FRACTION`).
    tolerance_floor_gy : float, optional
        Absolute difference (Gy) below which nothing is flagged (default
        :data:`~opensirt.workflow.defaults.DEFAULT_TOLERANCE_FLOOR_GY`).

    Returns
    -------
    VerificationResult
        The delivered activity and dose, and predicted against delivered per structure.

    Raises
    ------
    InputError
        Without a ``treatment:`` record or ``images.post_treatment``, or with an image that
        cannot verify the device's treatment or disagrees with the assays beyond belief.
    """

    delivered = _delivered(case)
    device = get_device(case.device)
    assert case.treatment is not None
    vial_gbq = case.treatment.vial_activity_gbq
    progress("reading the post-treatment image, its CT and the structures")
    images = load_images(case, post_treatment=True, read=pre.images)
    image_check = classify_post_treatment_image(images.emission, device, images.sources["emission"])
    with recorded_warnings() as grid_warnings:
        grid = prepare_dose_grid(images, images.roles.territories)
    roles = grid.roles
    assert roles.lungs is not None
    progress("lung shunt and delivered dose")
    lsf = lung_shunt_from_spect(
        np.asarray(grid.emission.array, dtype=np.float64),
        grid.fractions[roles.liver],
        grid.fractions[roles.lungs],
        grid.spacing_zyx_mm,
        image=f"the post-treatment image {images.sources['emission']}",
    ).fraction
    activity = activity_map(grid, lung_shunt_fraction=lsf, activity_gbq=delivered.delivered_gbq)
    dose = dose_map(grid, activity, device, case_dosimetry(case))
    names = dvh_names(grid, roles.territories)
    dvhs = structure_dvhs(dose, grid, names)
    progress("predicted against delivered")
    injected_equivalent = delivered.delivered_gbq / (1.0 - pre.prescribed.residual_fraction)
    predicted_dose = pre.dose_per_gbq.with_array(
        np.asarray(pre.dose_per_gbq.array) * np.float32(injected_equivalent)
    )
    predicted = structure_dvhs(predicted_dose, pre.grid, names)
    comparisons = compare_structures(
        predicted,
        dvhs,
        tolerance_fraction=tolerance_fraction,
        tolerance_floor_gy=tolerance_floor_gy,
    )
    k = device.dose_constant_gy_kg_per_gbq
    # the delivered activity is net of the residual: R = 0 in the partition lung dose
    lung_dose = lung_dose_gy(delivered.delivered_gbq, lsf, k, lung_mass_kg=pre.lung_mass_kg)
    predicted_lung = lung_dose_gy(
        delivered.delivered_gbq, pre.lung_shunt_fraction, k, lung_mass_kg=pre.lung_mass_kg
    )
    warnings = [*images.warnings, *grid_warnings]
    warnings += [
        f"{c.name}: delivered mean {c.delivered_mean_gy:.1f} Gy vs predicted "
        f"{c.predicted_mean_gy:.1f} Gy ({c.mean_difference_fraction:+.0%}), D70 "
        f"{c.delivered_d70_gy:.1f} vs {c.predicted_d70_gy:.1f} Gy: beyond the "
        f"{tolerance_fraction:.0%} tolerance"
        for c in comparisons
        if c.flagged
    ]
    if _differs(predicted_lung, lung_dose, tolerance_fraction, tolerance_floor_gy):
        warnings.append(f"lung dose {lung_dose:.1f} Gy vs predicted {predicted_lung:.1f} Gy")
    image_total = _image_total_at_injection_gbq(grid, case)
    disagreement = check_image_against_assay(image_total, delivered.delivered_gbq, vial_gbq)
    warnings = [*image_check.warnings, *([disagreement] if disagreement else []), *warnings]
    return VerificationResult(
        case=case,
        pre=pre,
        images=images,
        grid=grid,
        delivered=delivered,
        lung_shunt_fraction=lsf,
        lung_dose_gy=lung_dose,
        predicted_lung_dose_gy=predicted_lung,
        image_total_at_injection_gbq=image_total,
        dose=dose,
        dvhs=dvhs,
        predicted_dvhs=predicted,
        comparisons=comparisons,
        tolerance_fraction=tolerance_fraction,
        tolerance_floor_gy=tolerance_floor_gy,
        warnings=tuple(warnings),
        image_check=image_check,
        counts=counts_in_vois(grid),
    )
