"""The case file (format version 1) as pydantic models, checked on construction.

The keys, their meaning and their units follow the case-file contract (``opensirt_case: 1``).
Every model forbids unknown keys, so a typo is an error that names the key and its path
instead of being ignored. Volumes are in mL, masses in kg, doses in Gy, fractions in [0, 1]
(never percentages), times carry a time zone.

Optional keys added to the contract here (all backwards compatible):

* ``method: whole-liver`` (QuiremSpheres only): Ho-166 whole-liver planning [SMITS2012]_;
  with ``prescription.whole_liver_dose_gy`` (default 60 Gy).
* ``liver.compromised``: ``true`` for a pretreated or compromised liver (the lower
  normal-liver limit applies); when absent it is decided from the bilirubin in the labs.
* ``schedule.vial_activity_gbq`` and ``schedule.vial_calibration``: a vial (or an ordered
  activity) and the time its activity is stated for, to decay it to the treatment time.
* ``schedule.vial_tolerance_fraction``: how far (a fraction of the planned activity) the
  vial's activity at the treatment time may lie from the planned activity for the vial
  advice to accept the whole vial; default 0.10 (see
  :data:`opensirt.planning.schedule.VIAL_TOLERANCE_FRACTION_DEFAULT` for its source).
* Volumes left to the images: in a case with ``images:`` (CT, SPECT, segmentation),
  ``liver.volume_ml``, ``territories[].volume_ml``, ``territories[].tumours[].volume_ml``
  and ``tn_ratio`` may be left out: they are measured from the segmentation and the SPECT
  (a value typed anyway is compared with the measurement). Without images they are required.
* ``method: mird`` applies to every device, QuiremSpheres included (Ho-166 single
  compartment, 60 Gy perfused-volume default of the EANM guideline).
* ``images.post_treatment`` (with optional ``images.post_ct``, ``images.post_segmentation``)
  and ``treatment`` (injection time, vial and residual assays): the inputs of
  ``opensirt verify``.
* ``images.post_registration``, ``images.post_transform``, ``images.spect_ct``,
  ``images.spect_registration``, ``images.spect_transform``: registration of an emission
  study in another frame of reference than the planning CT (see :class:`Images`).
* an image entry may be a mapping ``{path: FOLDER, series_uid: UID}`` or ``{path: FOLDER,
  modality: NM, description: "MAA*"}`` to pick one series of a folder, DICOMDIR or zip that
  holds several (kept as ``images.series``).
* an image entry may name a series on a PACS, ``{pacs: NODE, study_uid: UID, series_uid:
  UID}``: ``opensirt plan`` and ``opensirt verify`` fetch it into a local cache and put the
  cached path in its place before this model sees it (:mod:`opensirt.pacs.case_images`);
  the model itself reads only paths.
* ``dosimetry`` (``method``, ``monte_carlo``): the voxel dose method (see
  :mod:`opensirt.planning.case_dosimetry`); default ``DEFAULT_DOSE_METHOD``.

Numbers are strict (``true`` is not 1; an integer is accepted where a float is expected)
and bounded to plausible ranges (:mod:`opensirt.planning.plausibility`, which gives the
reasoning); names are at most 64 characters.

Use :func:`opensirt.planning.load_case` to read a file; it turns validation errors into
:class:`~opensirt.errors.CaseFileError` messages that name the key path and the fix.

References
----------
.. [SMITS2012] Smits MLJ et al. Holmium-166 radioembolisation in patients with unresectable,
   chemorefractory liver metastases (HEPAR). Lancet Oncol 2012;13:1025-1034.
   doi:10.1016/S1470-2045(12)70334-0
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opensirt.patient.inputs import ClinicalFindings, Labs
from opensirt.physics.devices import DeviceName, get_device
from opensirt.planning import plausibility as pl
from opensirt.planning.case_dosimetry import Dosimetry
from opensirt.planning.schedule import VIAL_TOLERANCE_FRACTION_DEFAULT


class Method(StrEnum):
    """Activity-planning methods (the case-file spelling)."""

    BSA = "bsa"
    MIRD = "mird"
    PARTITION = "partition"
    VOXEL = "voxel"
    WHOLE_LIVER = "whole-liver"


def _fraction(value: float) -> float:
    """Accept a fraction in [0, 1]; name the percentage mistake when it looks like one."""
    if not 0.0 <= value <= 1.0:
        hint = ""
        if 1.0 < value <= 100.0:
            hint = f" (did you pass a percentage? {value:g} % is {value / 100:g})"
        raise ValueError(f"expected a fraction in [0, 1]{hint}")
    return value


_NUMBER = Field(strict=True, allow_inf_nan=False)
Fraction = Annotated[float, _NUMBER, AfterValidator(_fraction)]
NonNegativeFloat = Annotated[float, _NUMBER, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=pl.NAME_MAX_CHARS)]
DoseGy = Annotated[float, _NUMBER, Field(gt=0, le=pl.DOSE_MAX_GY)]
DoseLimitGy = Annotated[float, _NUMBER, Field(ge=0, le=pl.DOSE_MAX_GY)]
CountValue = Annotated[float, _NUMBER, Field(ge=0, le=pl.PLANAR_COUNTS_MAX)]
Counts = Annotated[tuple[CountValue, CountValue], Field(description="[ant, post]")]
LiverVolumeMl = Annotated[
    float, _NUMBER, AfterValidator(pl.in_range(*pl.LIVER_VOLUME_ML, "mL", "adult liver"))
]
TerritoryVolumeMl = Annotated[
    float,
    _NUMBER,
    AfterValidator(pl.in_range(*pl.TERRITORY_VOLUME_ML, "mL", "a perfused territory")),
]
TumourVolumeMl = Annotated[
    float,
    _NUMBER,
    AfterValidator(pl.in_range(*pl.TUMOUR_VOLUME_ML, "mL", "smaller is below CT resolution")),
]
TNRatio = Annotated[
    float,
    _NUMBER,
    Field(gt=0),
    AfterValidator(pl.in_range(0, pl.TN_RATIO_MAX, "", "reported MAA T/N ratios are 0.5-20")),
]
LungMassKg = Annotated[
    float, _NUMBER, AfterValidator(pl.in_range(*pl.LUNG_MASS_KG, "kg", "adult lungs"))
]
VialGbq = Annotated[float, _NUMBER, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patient(_Model):
    """The patient: pseudonymised id, height (m), weight (kg) and optional labs."""

    id: Name
    height_m: Annotated[float, _NUMBER, Field(gt=0.3, le=2.8)]
    weight_kg: Annotated[float, _NUMBER, Field(gt=2, le=500)]
    labs: Labs | None = None

    model_config = ConfigDict(coerce_numbers_to_str=True)


class PlanarCounts(_Model):
    """Anterior and posterior counts of the Tc-99m MAA planar scan, ``[anterior, posterior]``."""

    lung: Counts
    liver: Counts


class Lung(_Model):
    """Lung shunt (given, or planar counts), lung mass (kg) and earlier lung dose (Gy)."""

    shunt_fraction: Fraction | None = None
    planar_counts: PlanarCounts | None = None
    mass_kg: LungMassKg = 1.0
    previous_dose_gy: Annotated[float, _NUMBER, Field(ge=0, le=pl.PREVIOUS_LUNG_DOSE_MAX_GY)] = 0.0

    @model_validator(mode="after")
    def _one_shunt_source(self) -> Self:
        if self.shunt_fraction is not None and self.planar_counts is not None:
            raise ValueError(
                "give only one of lung.shunt_fraction (a fraction, e.g. 0.08) or "
                "lung.planar_counts (anterior/posterior counts of lung and liver)"
            )
        return self


class Liver(_Model):
    """Whole liver, tumours included: volume (mL; measured from ``images`` when absent) and
    density (g/mL)."""

    volume_ml: LiverVolumeMl | None = None
    density_g_ml: Annotated[float, _NUMBER, Field(gt=0.5, lt=2.0)] = 1.03
    compromised: bool | None = None


class Tumour(_Model):
    """One tumour: volume (mL) and tumour-to-normal activity concentration ratio (MAA); both
    measured from ``images`` when absent."""

    name: Name
    volume_ml: TumourVolumeMl | None = None
    tn_ratio: TNRatio | None = None


class Territory(_Model):
    """A perfused territory treated in this session: volume (mL, tumours included; measured
    from ``images`` when absent)."""

    name: Name
    volume_ml: TerritoryVolumeMl | None = None
    tumours: Annotated[tuple[Tumour, ...], Field(max_length=pl.TUMOURS_PER_TERRITORY_MAX)] = ()

    @model_validator(mode="after")
    def _tumours_fit(self) -> Self:
        volumes = [t.volume_ml for t in self.tumours]
        if self.volume_ml is None or not volumes or None in volumes:
            return self
        total = sum(v for v in volumes if v is not None)
        if total >= self.volume_ml:
            raise ValueError(
                f"the tumour volumes of territory {self.name!r} add up to {total:g} mL, "
                f"expected less than its volume_ml {self.volume_ml:g} mL (the territory "
                "volume includes its tumours)"
            )
        return self


class Prescription(_Model):
    """Targets and limits (Gy) and the residual fraction; absent keys take device defaults."""

    perfused_dose_gy: DoseGy | None = None
    tumour_dose_gy: DoseGy | None = None
    whole_liver_dose_gy: DoseGy | None = None
    normal_liver_max_gy: DoseLimitGy | None = None
    lung_max_gy: DoseLimitGy | None = None
    lung_cumulative_max_gy: DoseLimitGy | None = None
    residual_fraction: Fraction = 0.0

    @field_validator("residual_fraction")
    @classmethod
    def _not_all_left(cls, value: float) -> float:
        if value >= pl.RESIDUAL_FRACTION_MAX:
            raise ValueError(
                f"expected a fraction below {pl.RESIDUAL_FRACTION_MAX:g} (residuals are a few "
                "percent; the planned activity is divided by 1 - residual, so it would more "
                "than double)"
            )
        return value


class Schedule(_Model):
    """Treatment time and, optionally, a vial activity with its calibration time."""

    treatment: AwareDatetime
    vial_activity_gbq: VialGbq | None = None
    vial_calibration: AwareDatetime | None = None
    vial_tolerance_fraction: Annotated[
        float, _NUMBER, Field(gt=0, le=pl.VIAL_ADVICE_TOLERANCE_MAX)
    ] = VIAL_TOLERANCE_FRACTION_DEFAULT

    @model_validator(mode="after")
    def _vial_pair(self) -> Self:
        if (self.vial_activity_gbq is None) != (self.vial_calibration is None):
            raise ValueError(
                "give schedule.vial_activity_gbq and schedule.vial_calibration together "
                "(the activity and the time it is stated for)"
            )
        return self


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()


class Structures(_Model):
    """Which segmentation structure plays which role."""

    liver: Name
    lungs: Name | None = None
    tumours: Annotated[tuple[Name, ...], Field(max_length=pl.TUMOURS_PER_TERRITORY_MAX)] = ()
    territories: Annotated[dict[Name, Name], Field(max_length=pl.TERRITORIES_MAX)] = Field(
        default_factory=dict
    )


ImageKey = Literal[
    "ct", "spect", "spect_ct", "segmentation", "post_treatment", "post_ct", "post_segmentation"
]
_IMAGE_KEYS: tuple[ImageKey, ...] = get_args(ImageKey)


class SeriesChoice(_Model):
    """Which series of a folder, DICOMDIR or zip an image entry means.

    ``series_uid`` is the Series Instance UID; ``modality`` the DICOM Modality (``CT``,
    ``NM``, ``PT``, ``RTSTRUCT``, ``SEG``); ``description`` a case-insensitive part of the
    Series Description, or a glob such as ``"MAA*"``.
    """

    series_uid: Annotated[str, Field(min_length=1)] | None = None
    modality: Annotated[str, Field(min_length=1)] | None = None
    description: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _something_chosen(self) -> Self:
        if self.series_uid is None and self.modality is None and self.description is None:
            raise ValueError(
                "give series_uid, or modality and/or description, to pick a series "
                "(e.g. {path: export/, modality: NM, description: MAA})"
            )
        return self


class Images(_Model):
    """Image inputs of voxel planning and verification; paths relative to the case file.

    ``post_treatment`` is the post-treatment emission image (Y-90 PET, Y-90 bremsstrahlung
    SPECT or Ho-166 SPECT) used by ``opensirt verify``; ``post_ct`` and
    ``post_segmentation`` are its CT and structures when they are not those of the work-up
    (they must then be registered to it: same frame of reference). ``labels`` names the
    values of a NIfTI label map (``{1: Liver, 2: Lungs}``); DICOM RTSTRUCT and SEG carry
    their own names.

    Registration (:mod:`opensirt.imaging.registration`): when the post-treatment study
    (``post_treatment`` with its own CT ``post_ct``) or the work-up SPECT (with its own CT
    ``spect_ct``) is in another frame of reference than the planning ``ct``, its CT is
    registered to the planning CT within the liver region and the emission image resampled
    into the planning frame. ``post_registration`` / ``spect_registration`` choose
    ``rigid`` (the default when the frames differ), ``deformable`` or ``none`` (refuse
    different frames); ``post_transform`` / ``spect_transform`` give an ITK transform file
    (mapping planning points to the study's points) to use instead of computing one.

    Each path may instead be a mapping ``{path: ..., series_uid: ...}`` (or ``modality`` and
    ``description``) that picks one series of a folder, DICOMDIR or zip holding several;
    the path is kept in its key and the choice in ``series`` under the same key.
    """

    ct: Path
    spect: Path
    segmentation: Path
    structures: Structures
    labels: Annotated[dict[int, Name], Field(max_length=255)] = Field(default_factory=dict)
    post_treatment: Path | None = None
    post_ct: Path | None = None
    post_segmentation: Path | None = None
    post_registration: Literal["rigid", "deformable", "none"] | None = None
    post_transform: Path | None = None
    spect_ct: Path | None = None
    spect_registration: Literal["rigid", "deformable", "none"] | None = None
    spect_transform: Path | None = None
    series: dict[ImageKey, SeriesChoice] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_series_choices(cls, data: Any) -> Any:
        """``ct: {path: P, series_uid: U}`` -> ``ct: P`` and ``series: {ct: {series_uid: U}}``."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        given = out.get("series")
        chosen: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        for key in _IMAGE_KEYS:
            value = out.get(key)
            if not isinstance(value, dict):
                continue
            entry = dict(value)
            if "pacs" in entry:
                raise ValueError(
                    f"images.{key} names a series on PACS node {entry['pacs']!r}; only the "
                    "command line (opensirt plan, opensirt verify) fetches PACS series, with a "
                    "nodes file; elsewhere give the path of the retrieved series"
                )
            if "path" not in entry:
                raise ValueError(
                    f"images.{key} is a mapping without 'path'; write {key}: {{path: FOLDER, "
                    "series_uid: UID} (or modality and description instead of series_uid)"
                )
            if key in chosen:
                raise ValueError(f"images.{key}: its series is chosen twice (also in series)")
            out[key] = entry.pop("path")
            if entry:
                chosen[key] = entry
        if chosen:
            out["series"] = chosen
        return out

    @field_validator(
        "ct",
        "spect",
        "segmentation",
        "post_treatment",
        "post_ct",
        "post_segmentation",
        "post_transform",
        "spect_ct",
        "spect_transform",
    )
    @classmethod
    def _relative_to_case(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _resolve(value, info)


class Treatment(_Model):
    """The treatment record: vial assay before and residual assay after the injection.

    The delivered activity is the vial activity decayed to the injection time minus the
    residual (catheter, vial, tubing) decayed to the same time.
    """

    injection: AwareDatetime
    vial_activity_gbq: VialGbq
    vial_measured: AwareDatetime
    residual_activity_gbq: NonNegativeFloat = 0.0
    residual_measured: AwareDatetime | None = None

    @model_validator(mode="after")
    def _residual_below_vial(self) -> Self:
        if self.residual_activity_gbq > self.vial_activity_gbq:
            raise ValueError(
                f"treatment.residual_activity_gbq {self.residual_activity_gbq:g} GBq is more "
                f"than the vial assay {self.vial_activity_gbq:g} GBq; check the assays"
            )
        return self


class Case(_Model):
    """One planning case (case-file format version 1)."""

    opensirt_case: Literal[1]
    patient: Patient
    device: DeviceName
    method: Method
    lung: Lung
    liver: Liver = Liver()
    territories: Annotated[
        tuple[Territory, ...], Field(min_length=1, max_length=pl.TERRITORIES_MAX)
    ]
    prescription: Prescription = Prescription()
    schedule: Schedule | None = None
    images: Images | None = None
    treatment: Treatment | None = None
    clinical: ClinicalFindings | None = None
    dosimetry: Dosimetry | None = None

    @field_validator("opensirt_case", mode="before")
    @classmethod
    def _integer_version(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("expected the integer 1, not a boolean")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_names(self)
        _check_typed(self)
        _check_volumes(self)
        _check_method(self)
        _check_vials_and_times(self)
        return self

    def tumour_names(self) -> tuple[str, ...]:
        """Names of all tumours, territory by territory.

        Returns
        -------
        tuple of str
            The tumour names in the order of the case file.
        """
        return tuple(t.name for terr in self.territories for t in terr.tumours)


def _check_names(case: Case) -> None:
    for label, names in (
        ("territory", [t.name for t in case.territories]),
        ("tumour", list(case.tumour_names())),
    ):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{label} name {duplicates[0]!r} is used twice; names must be unique")


def untyped_volumes(case: Case) -> list[str]:
    """Key paths of the volumes that the case file leaves to the images.

    Parameters
    ----------
    case : Case
        The validated case.

    Returns
    -------
    list of str
        Key paths such as ``liver.volume_ml``, ``territories[0].volume_ml`` or
        ``territories[0].tumours[1].volume_ml``; empty when every volume is typed.
    """
    missing = ["liver.volume_ml"] if case.liver.volume_ml is None else []
    for i, terr in enumerate(case.territories):
        if terr.volume_ml is None:
            missing.append(f"territories[{i}].volume_ml")
        missing += [
            f"territories[{i}].tumours[{j}].volume_ml"
            for j, tumour in enumerate(terr.tumours)
            if tumour.volume_ml is None
        ]
    return missing


def _check_typed(case: Case) -> None:
    """Without ``images:`` every volume must be typed."""
    missing = untyped_volumes(case)
    if case.images is None and missing:
        one = len(missing) == 1
        raise ValueError(
            f"{', '.join(missing)} {'is' if one else 'are'} missing: a case without an images: "
            f"section must give {'it' if one else 'them'} (mL, tumours included in their "
            "territory and in the liver); with images (ct, spect, segmentation) the volumes are "
            "measured from the segmentation instead"
        )


def _check_volumes(case: Case) -> None:
    volumes = [t.volume_ml for t in case.territories]
    if case.liver.volume_ml is None or None in volumes:
        return
    total = sum(v for v in volumes if v is not None)
    if total > case.liver.volume_ml * (1.0 + 1e-9):
        raise ValueError(
            f"the territory volumes add up to {total:g} mL, more than liver.volume_ml "
            f"{case.liver.volume_ml:g} mL; territories are parts of the liver and must not overlap"
        )


def _check_method(case: Case) -> None:
    device = get_device(case.device)
    if case.method.value not in device.methods:
        raise ValueError(
            f"method {case.method.value!r} does not apply to device {case.device.value!r}; "
            f"expected one of {', '.join(device.methods)}"
        )
    if case.method is Method.VOXEL and case.images is None:
        raise ValueError("method 'voxel' needs an images: section (ct, spect, segmentation)")
    no_shunt = case.lung.shunt_fraction is None and case.lung.planar_counts is None
    if no_shunt and case.images is None:
        raise ValueError(
            "give lung.shunt_fraction (a fraction, e.g. 0.08) or lung.planar_counts "
            "(anterior/posterior counts of lung and liver); without them the lung shunt can "
            "only come from a SPECT/CT in an images: section"
        )
    if case.method is Method.PARTITION and case.images is None:
        for terr in case.territories:
            if not terr.tumours:
                raise ValueError(
                    f"method 'partition' needs at least one tumour in territory {terr.name!r}; "
                    "use method 'mird' for a territory without tumours"
                )
            missing = [t.name for t in terr.tumours if t.tn_ratio is None]
            if missing:
                raise ValueError(
                    f"method 'partition' needs tn_ratio for every tumour; tumour {missing[0]!r} "
                    "has none (give the MAA tumour-to-normal ratio, or an images: section to "
                    "measure it)"
                )
    if case.images is not None:
        known = {t.name for t in case.territories}
        for name in case.images.structures.territories:
            if name not in known:
                raise ValueError(
                    f"images.structures.territories names {name!r}, which is not a territory "
                    f"name; expected one of {sorted(known)}"
                )


def _check_vials_and_times(case: Case) -> None:
    """Vial activities within a vial of the device; calibration and assays near the
    treatment, in order (reasoning in :mod:`opensirt.planning.plausibility`)."""
    device = get_device(case.device)
    sched = case.schedule
    if sched is not None and sched.vial_activity_gbq is not None:
        pl.check_vial("schedule.vial_activity_gbq", sched.vial_activity_gbq, device)
    if sched is not None and sched.vial_calibration is not None:
        pl.check_interval(
            "schedule.vial_calibration",
            sched.vial_calibration,
            "schedule.treatment",
            sched.treatment,
            device,
            before_half_lives=pl.CALIBRATION_AFTER_TREATMENT_HALF_LIVES,
        )
    record = case.treatment
    if record is not None:
        pl.check_vial("treatment.vial_activity_gbq", record.vial_activity_gbq, device, assay=True)
        pl.check_interval(
            "treatment.vial_measured",
            record.vial_measured,
            "treatment.injection",
            record.injection,
            device,
        )
        if record.residual_measured is not None:
            pl.check_interval(
                "treatment.injection",
                record.injection,
                "treatment.residual_measured",
                record.residual_measured,
                device,
            )
