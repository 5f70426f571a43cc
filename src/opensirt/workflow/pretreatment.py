"""Pre-treatment planning from images: measure, plan by every method, predict the voxel dose.

From a case file with ``images:`` (CT, MAA SPECT or Ho-166 scout SPECT, segmentation):

1. read and check the images (:mod:`opensirt.workflow.inputs`);
2. measure on the SPECT grid: lung shunt (SPECT/CT), T/N per tumour, volumes per territory,
   extrahepatic uptake (:mod:`opensirt.workflow.measure`); lung mass from CT densitometry
   (Kao et al. 2014, EJNMMI Res 4:33, doi:10.1186/s13550-014-0033-7);
3. write those measurements into a partition-model case and plan it by every method that
   applies to the device (BSA, MIRD, partition, whole-liver), with the limits of the case;
4. voxel method: the SPECT scaled to 1 GBq, its dose by the case's dose method, the mean dose per
   GBq of each structure, the prescription under the same limits
   (:func:`opensirt.planning.voxel.plan_voxel`);
5. the predicted voxel dose and DVHs of the activity of the case's method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from opensirt._threads import limited_threads
from opensirt.dosimetry import density_from_ct
from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.physics.devices import get_device
from opensirt.planning import PlanResult, parse_case, plan_case
from opensirt.planning.case import Case, Method, untyped_volumes
from opensirt.planning.case_dosimetry import case_dosimetry
from opensirt.planning.context import case_lung_shunt, plan_context
from opensirt.planning.result import LungShuntSource
from opensirt.planning.voxel import VoxelCoefficients, plan_voxel
from opensirt.workflow.dose_record import DoseMethodRecord, dose_method_record
from opensirt.workflow.inputs import CaseImages, load_images, recorded_warnings
from opensirt.workflow.measure import (
    WorkupMeasures,
    extrahepatic_uptake,
    lung_shunt_from_spect,
    territory_measures,
)
from opensirt.workflow.voxel import (
    NORMAL_LIVER,
    DoseGrid,
    activity_map,
    dose_map,
    dvh_names,
    normal_name,
    prepare_dose_grid,
    structure_dvhs,
)

Progress = Callable[[str], None]

#: Relative difference between a value typed in the case file (a volume, a T/N ratio, the lung
#: shunt) and the one measured from the images beyond which a warning names it.
TYPED_VALUE_TOLERANCE = 0.05


def needs_images(case: Case) -> bool:
    """Whether planning ``case`` needs what only its images give: method voxel, a volume or
    (for partition) a T/N ratio not typed, or no lung shunt in the case file.

    Parameters
    ----------
    case : Case
        The case file as read.

    Returns
    -------
    bool
        ``True`` when the case has ``images:`` and its plan needs them; ``False`` without
        ``images:``.
    """
    if case.images is None:
        return False
    no_tn = case.method is Method.PARTITION and any(
        t.tn_ratio is None for terr in case.territories for t in terr.tumours
    )
    return (
        case.method is Method.VOXEL
        or no_tn
        or bool(untyped_volumes(case))
        or case_lung_shunt(case) is None
    )


def no_progress(_: str) -> None:
    """A progress callback that says nothing (the default of the pipelines).

    Parameters
    ----------
    _ : str
        The progress message, ignored.
    """


@dataclass(frozen=True, eq=False)
class PreTreatmentResult:
    """A plan from images.

    Attributes
    ----------
    case : Case
        The case file as read.
    images : CaseImages
    grid : DoseGrid
        The SPECT grid with structure occupancies and density.
    measures : WorkupMeasures
    lung_shunt_fraction, lung_shunt_source : float, str
        The lung shunt used for planning and where it came from.
    lung_mass_kg, lung_mass_source : float, str
    image_case : Case
        The partition-model case holding the image measurements (volumes, T/N, LSF).
    plans : mapping of str to PlanResult
        Every applicable method, side by side (key: method name).
    prescribed : PlanResult
        The plan of the case's method.
    dose_per_gbq : Volume
        Voxel dose (Gy) per GBq injected.
    dose : Volume
        Predicted voxel dose (Gy) of the prescribed activity (zeros if refused).
    dvhs : mapping of str to DoseVolumeHistogram
        Of ``dose``, per structure.
    warnings : tuple of str
        Everything worth a look before treatment: the readers', the measurements', the
        plans' checks.
    grid_warnings : tuple of str
        The part of ``warnings`` that putting the structures on the SPECT grid gave (kept
        with a saved plan, :mod:`opensirt.workflow.plan_state`).
    """

    case: Case
    images: CaseImages
    grid: DoseGrid
    measures: WorkupMeasures
    lung_shunt_fraction: float
    lung_shunt_source: str
    lung_mass_kg: float
    lung_mass_source: str
    image_case: Case
    plans: Mapping[str, PlanResult]
    prescribed: PlanResult
    dose_per_gbq: Volume
    dose: Volume
    dvhs: Mapping[str, DoseVolumeHistogram]
    warnings: tuple[str, ...]
    grid_warnings: tuple[str, ...] = ()

    @property
    def dose_method(self) -> DoseMethodRecord:
        """The method of the voxel dose (with its Monte Carlo uncertainty)."""
        return dose_method_record(self.dose, self.grid.fractions, tuple(self.dvhs))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the prescribed plan's keys, plus the measurements, the other
        methods and the voxel dose metrics per structure.

        Returns
        -------
        dict
            The keys of :meth:`opensirt.planning.PlanResult.to_dict` with ``warnings``
            merged, plus ``image_measurements``, ``methods``, ``voxel_dose``,
            ``dose_method`` (:meth:`DoseMethodRecord.to_dict`) and (when the SPECT was
            registered) ``registration``.
        """
        out = self.prescribed.to_dict()
        out["warnings"] = list(dict.fromkeys([*self.warnings, *out["warnings"]]))
        out["image_measurements"] = measurements_dict(self)
        out["methods"] = {name: plan.to_dict() for name, plan in self.plans.items()}
        out["voxel_dose"] = {name: dvh.metrics() for name, dvh in self.dvhs.items()}
        out["dose_method"] = self.dose_method.to_dict()
        if self.images.registration is not None:
            out["registration"] = self.images.registration.to_dict()
        return out


def measurements_dict(result: PreTreatmentResult) -> dict[str, Any]:
    """What the images measured, JSON-ready.

    Parameters
    ----------
    result : PreTreatmentResult
        A plan from images.

    Returns
    -------
    dict
        Liver and lung volumes (mL), lung mass (kg) and its source, the lung shunt fraction
        measured and used with its source, each territory's volume (mL) and share of the
        activity with its tumours' volumes and T/N ratios, and the extrahepatic uptake.
    """
    m = result.measures
    return {
        "liver_volume_ml": m.liver_volume_ml,
        "lung_volume_ml": m.lung_volume_ml,
        "lung_mass_kg": result.lung_mass_kg,
        "lung_mass_source": result.lung_mass_source,
        "lung_shunt_fraction_spect": m.lung_shunt.fraction,
        "lung_shunt_fraction_used": result.lung_shunt_fraction,
        "lung_shunt_source": result.lung_shunt_source,
        "territories": [
            {
                "name": t.name,
                "volume_ml": t.volume_ml,
                "activity_fraction": t.counts_fraction,
                "tumours": [
                    {"name": u.name, "volume_ml": u.volume_ml, "tn_ratio": u.tn_ratio}
                    for u in t.tumours
                ],
            }
            for t in m.territories
        ],
        "extrahepatic_uptake": [e.__dict__ for e in m.extrahepatic],
    }


def _lung_mass_kg(images: CaseImages) -> float:
    """Lung mass from CT densitometry: sum of HU-derived density x voxel volume."""
    assert images.roles.lungs is not None
    lungs = images.segmentation.get(images.roles.lungs)
    box = lungs.bounding_box()  # the densities of the lungs' box only
    mask = np.asarray(lungs.array[box], dtype=bool)
    density = np.asarray(density_from_ct(images.ct.crop(box)).array, dtype=np.float64)
    return float(density[mask].sum()) * images.ct.voxel_volume_ml / 1000.0


def _measure(case: Case, images: CaseImages, grid: DoseGrid) -> WorkupMeasures:
    roles, fr = images.roles, grid.fractions
    assert roles.lungs is not None
    counts = np.asarray(grid.emission.array, dtype=np.float64)
    spacing = grid.spacing_zyx_mm
    lsf = lung_shunt_from_spect(counts, fr[roles.liver], fr[roles.lungs], spacing)
    territories = territory_measures(
        counts,
        grid.emission.voxel_volume_ml,
        {t: fr[s] for t, s in roles.territories.items()},
        {t: fr[t] for t in roles.tumours},
    )
    seg = images.segmentation
    # volumes from the fine (CT-grid) structures, not their coarse occupancy
    exact = tuple(
        replace(
            t,
            volume_ml=seg.volume_ml(roles.territories[t.name]),
            tumours=tuple(replace(u, volume_ml=seg.volume_ml(u.name)) for u in t.tumours),
        )
        for t in territories
    )
    return WorkupMeasures(
        liver_volume_ml=seg.volume_ml(roles.liver),
        lung_volume_ml=seg.volume_ml(roles.lungs),
        lung_shunt=lsf,
        territories=exact,
        extrahepatic=extrahepatic_uptake(counts, fr[roles.liver], fr[roles.lungs], spacing),
    )


def _lung_shunt(case: Case, measures: WorkupMeasures) -> tuple[float, LungShuntSource]:
    """The case file's lung shunt where it gives one, else the SPECT/CT measurement."""
    given = case_lung_shunt(case)
    if given is not None:
        return given
    return measures.lung_shunt.fraction, LungShuntSource.SPECT_CT


def _image_case(
    case: Case, measures: WorkupMeasures, lsf: float, lung_mass_kg: float, method: Method
) -> Case:
    """The case with the image measurements, for compartment methods."""
    data = case.model_dump(mode="python", exclude={"images", "treatment"})
    data["method"] = method.value
    data["lung"] = {
        **data["lung"],
        "shunt_fraction": lsf,
        "planar_counts": None,
        "mass_kg": lung_mass_kg,
    }
    data["liver"] = {**data["liver"], "volume_ml": measures.liver_volume_ml}
    data["territories"] = [
        {
            "name": t.name,
            "volume_ml": t.volume_ml,
            "tumours": [
                {"name": u.name, "volume_ml": u.volume_ml, "tn_ratio": u.tn_ratio}
                for u in t.tumours
            ],
        }
        for t in measures.territories
    ]
    return parse_case(
        data,
        source="images.structures (the volumes, lung shunt and T/N measured from the images)",
        measured=True,
    )


def _differs(given: float, measured: float) -> bool:
    return abs(given - measured) > TYPED_VALUE_TOLERANCE * abs(measured)


def typed_value_warnings(case: Case, measures: WorkupMeasures) -> list[str]:
    """Values typed in the case file that the images also measure, compared.

    Volumes and T/N ratios beyond :data:`TYPED_VALUE_TOLERANCE` of the measurement are
    named; the plan uses the measured ones. A lung shunt typed in the case file
    (``lung.shunt_fraction`` or ``lung.planar_counts``) is compared with the SPECT/CT's
    and is the one used (a deliberate choice, e.g. the conservative planar value).

    Parameters
    ----------
    case : Case
        The case file as read.
    measures : WorkupMeasures
        What the images measured.

    Returns
    -------
    list of str
        One warning per typed value that differs from its measurement (and per tumour of the
        case file that the images do not list).
    """

    out = []
    m_liver = measures.liver_volume_ml
    typed = [("liver.volume_ml", case.liver.volume_ml, m_liver, "mL", "segmentation")]
    territories = {t.name: t for t in measures.territories}
    tumours = {u.name: u for t in measures.territories for u in t.tumours}
    for i, terr in enumerate(case.territories):
        key = f"territories[{i}]"
        if terr.name in territories:
            seen = territories[terr.name].volume_ml
            typed.append((f"{key}.volume_ml", terr.volume_ml, seen, "mL", "segmentation"))
        for j, tumour in enumerate(terr.tumours):
            u = tumours.get(tumour.name)
            if u is None:
                out.append(
                    f"{key}.tumours[{j}] {tumour.name!r} is not in images.structures.tumours: "
                    "the plan from the images leaves it out; add its structure to the list"
                )
                continue
            tkey = f"{key}.tumours[{j}]"
            typed.append((f"{tkey}.volume_ml", tumour.volume_ml, u.volume_ml, "mL", "segmentation"))
            typed.append((f"{tkey}.tn_ratio", tumour.tn_ratio, u.tn_ratio, "", "SPECT"))
    for label, given, seen, unit, source in typed:
        if given is not None and _differs(given, seen):
            out.append(
                f"{label} is {given:g}{' ' + unit if unit else ''} in the case file but "
                f"{seen:.4g}{' ' + unit if unit else ''} on the {source} (more than "
                f"{TYPED_VALUE_TOLERANCE:.0%} apart); the plan uses the measured {seen:.4g}"
            )
    given_lsf = case_lung_shunt(case)
    seen_lsf = measures.lung_shunt.fraction
    if given_lsf is not None and _differs(given_lsf[0], seen_lsf):
        out.append(
            f"the lung shunt fraction of the case file ({given_lsf[1]}) is {given_lsf[0]:.2%} "
            f"but the SPECT/CT measures {seen_lsf:.2%} (more than {TYPED_VALUE_TOLERANCE:.0%} "
            "apart); the plan uses the case file's value: remove it to plan with the measured one"
        )
    return out


def _weighted_mean(dose: Volume, weights: np.ndarray) -> float:
    """Occupancy-weighted mean of a dose map."""
    return float((np.asarray(dose.array, dtype=np.float64) * weights).sum() / weights.sum())


def _coefficients(
    grid: DoseGrid,
    dose_per_gbq: Volume,
    per_gbq: Mapping[str, DoseVolumeHistogram],
    measures: WorkupMeasures,
    kg_per_ml: float,
) -> VoxelCoefficients:
    roles = grid.roles
    assert roles.lungs is not None
    perfused = sum(
        (grid.fractions[s] for s in roles.territories.values()), np.zeros(grid.emission.shape)
    )
    return VoxelCoefficients(
        tumours={t: per_gbq[t].mean_gy for t in roles.tumours},
        normal_liver={t: per_gbq[normal_name(t)].mean_gy for t in roles.territories},
        perfused={t: per_gbq[s].mean_gy for t, s in roles.territories.items()},
        whole_normal_liver=per_gbq[NORMAL_LIVER].mean_gy,
        all_perfused=_weighted_mean(dose_per_gbq, np.clip(perfused, 0.0, 1.0)),
        lung_voxel=per_gbq[roles.lungs].mean_gy,
        territory_activity_fractions={t.name: t.counts_fraction for t in measures.territories},
        perfused_mass_kg={t.name: t.volume_ml * kg_per_ml for t in measures.territories},
        normal_mass_kg={t.name: t.normal_volume_ml * kg_per_ml for t in measures.territories},
    )


def _compartment_plans(image_case: Case, lsf_source: LungShuntSource) -> dict[str, PlanResult]:
    """Every compartment method that applies to the device, on the image measurements, with
    the lung shunt recorded as coming from ``lsf_source``."""
    device = get_device(image_case.device)
    plans = {}
    for name in device.methods:
        method = Method(name)
        if method is Method.VOXEL:
            continue
        if method is Method.PARTITION and not all(t.tumours for t in image_case.territories):
            continue
        variant = image_case.model_copy(update={"method": method})
        plans[method.value] = plan_case(variant, lung_shunt_source=lsf_source)
    return plans


@limited_threads()
def plan_from_images(case: Case, progress: Progress = no_progress) -> PreTreatmentResult:
    """Plan a case from its images (see the module notes).

    Parameters
    ----------
    case : Case
        A case file with an ``images:`` section.
    progress : callable, optional
        Called with the name of each step as it starts (default: says nothing).

    Returns
    -------
    PreTreatmentResult
        The measurements, the plans by every method and the predicted voxel dose.

    Raises
    ------
    InputError, GeometryError, ImageReadError
        When the images are missing, unreadable, not registered, or a structure is missing
        or empty; the message names the file or structure and the fix.
    """
    progress("reading the CT, the SPECT and the structures")
    images = load_images(case)
    progress("structures and tissue density on the SPECT grid")
    with recorded_warnings() as grid_warnings:
        grid = prepare_dose_grid(images, images.roles.territories)
    progress("lung shunt, tumour-to-normal ratios, volumes, extrahepatic uptake")
    measures = _measure(case, images, grid)
    if "mass_kg" in case.lung.model_fields_set:
        lung_mass = LungMass(case.lung.mass_kg, "lung.mass_kg of the case file")
    else:
        lung_mass = LungMass(
            _lung_mass_kg(images), "CT densitometry of the lungs (Kao et al. 2014)"
        )
    measured = ImageMeasurements(grid, measures, lung_mass, tuple(grid_warnings))
    return plan_from_measurements(case, images, measured, progress=progress)


@dataclass(frozen=True)
class LungMass:
    """The lung mass used for the partition lung dose.

    Attributes
    ----------
    kg : float
        Mass of both lungs (kg).
    source : str
        Where it came from: the case file, or the CT densitometry.
    """

    kg: float
    source: str


@dataclass(frozen=True, eq=False)
class ImageMeasurements:
    """What the work-up images give before any planning: the costly part of a plan.

    Attributes
    ----------
    grid : DoseGrid
        The SPECT grid with structure occupancies and tissue density.
    measures : WorkupMeasures
        Lung shunt, volumes, T/N ratios and extrahepatic uptake measured on it.
    lung_mass : LungMass
        The lung mass and its source.
    grid_warnings : tuple of str
        What putting the structures and the density on the grid warned about.
    dose_per_gbq : Volume or None
        The voxel dose (Gy) per GBq injected, when already computed (a saved plan); ``None``
        to compute it by kernel convolution.
    """

    grid: DoseGrid
    measures: WorkupMeasures
    lung_mass: LungMass
    grid_warnings: tuple[str, ...]
    dose_per_gbq: Volume | None = None


def plan_from_measurements(
    case: Case,
    images: CaseImages,
    measured: ImageMeasurements,
    *,
    progress: Progress = no_progress,
) -> PreTreatmentResult:
    """Plan a case by every method from what its images measured.

    The second half of :func:`plan_from_images`; given the measurements of a saved plan
    (:mod:`opensirt.workflow.plan_state`) it gives the same result without the image
    pipeline.

    Parameters
    ----------
    case : Case
        The case file as read.
    images : CaseImages
        Its work-up images, as :func:`opensirt.workflow.inputs.load_images` reads them.
    measured : ImageMeasurements
        What those images measured (with the dose per GBq, if already computed).
    progress : callable, optional
        Called with the name of each step as it starts (default: says nothing).

    Returns
    -------
    PreTreatmentResult
        The measurements, the plans by every method and the predicted voxel dose.

    Raises
    ------
    InputError
        When the case's method cannot be planned from the measurements.
    """
    grid, measures = measured.grid, measured.measures
    lsf, lsf_source = _lung_shunt(case, measures)
    lung_mass = measured.lung_mass.kg
    warnings = [*images.warnings, *measured.grid_warnings, *typed_value_warnings(case, measures)]
    warnings += [
        f"extrahepatic uptake on the SPECT: {e.counts_fraction:.1%} of the counts in "
        f"{e.volume_ml:.0f} mL around voxel (k, j, i) = {e.centre_index_kji}, "
        f"{e.peak_to_liver_ratio:.1f} x the liver concentration: review the angiography "
        "(coil embolization or catheter position) before treatment"
        for e in measures.extrahepatic
    ]
    progress("planning by every method")
    every_territory_has_tumours = all(t.tumours for t in measures.territories)
    base_method = Method.PARTITION if every_territory_has_tumours else Method.MIRD
    image_case = _image_case(case, measures, lsf, lung_mass, base_method)
    plans = _compartment_plans(image_case, lsf_source)
    if case.method is not Method.VOXEL and case.method.value not in plans:
        why = ""
        if case.method is Method.PARTITION:
            why = (
                ": a territory holds none of the tumours of images.structures.tumours; "
                "list its tumours there, or plan by mird"
            )
        raise InputError(f"method {case.method.value!r} could not be planned from the images{why}")
    ctx = plan_context(image_case, lung_shunt_source=lsf_source)
    dose_per_gbq, dosimetry = measured.dose_per_gbq, case_dosimetry(case)
    if dose_per_gbq is None or dose_per_gbq.metadata.get("method") != dosimetry.method.value:
        progress(f"voxel dose per GBq ({dosimetry.method.value})")
        activity = activity_map(grid, lung_shunt_fraction=lsf, activity_gbq=1.0 - ctx.residual)
        dose_per_gbq = dose_map(grid, activity, ctx.device, dosimetry)
    names = dvh_names(grid, images.roles.territories)
    per_gbq = structure_dvhs(dose_per_gbq, grid, names)
    coefficients = _coefficients(grid, dose_per_gbq, per_gbq, measures, ctx.kg_per_ml)
    plans[Method.VOXEL.value] = plan_voxel(ctx, coefficients)
    prescribed = plans[case.method.value]
    progress("predicted dose and DVHs")
    scale = prescribed.activity_gbq or 0.0
    dose = dose_per_gbq.with_array(np.asarray(dose_per_gbq.array) * np.float32(scale))
    dvhs = structure_dvhs(dose, grid, names)
    return PreTreatmentResult(
        case=case,
        images=images,
        grid=grid,
        measures=measures,
        lung_shunt_fraction=lsf,
        lung_shunt_source=lsf_source,
        lung_mass_kg=lung_mass,
        lung_mass_source=measured.lung_mass.source,
        image_case=image_case,
        plans=plans,
        prescribed=prescribed,
        dose_per_gbq=dose_per_gbq,
        dose=dose,
        dvhs=dvhs,
        warnings=tuple(warnings),
        grid_warnings=measured.grid_warnings,
    )
