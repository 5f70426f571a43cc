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
* ``images.post_treatment`` (with optional ``images.post_ct``, ``images.post_segmentation``)
  and ``treatment`` (injection time, vial and residual assays): the inputs of
  ``opensirt verify``.
* an image entry may be a mapping ``{path: FOLDER, series_uid: UID}`` or ``{path: FOLDER,
  modality: NM, description: "MAA*"}`` to pick one series of a folder, DICOMDIR or zip that
  holds several (kept as ``images.series``).

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
from typing import Annotated, Any, Literal, Self

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

from opensirt.clinical.inputs import ClinicalFindings, Labs
from opensirt.physics.devices import DeviceName, get_device

CASE_FORMAT_VERSION = 1


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


Fraction = Annotated[float, AfterValidator(_fraction)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Counts = Annotated[tuple[NonNegativeFloat, NonNegativeFloat], Field(description="[ant, post]")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patient(_Model):
    """The patient: pseudonymised id, height (m), weight (kg) and optional labs."""

    id: Annotated[str, Field(min_length=1)]
    height_m: Annotated[float, Field(gt=0.3, le=2.8)]
    weight_kg: Annotated[float, Field(gt=2, le=500)]
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
    mass_kg: PositiveFloat = 1.0
    previous_dose_gy: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _one_shunt_source(self) -> Self:
        if self.shunt_fraction is not None and self.planar_counts is not None:
            raise ValueError(
                "give only one of lung.shunt_fraction (a fraction, e.g. 0.08) or "
                "lung.planar_counts (anterior/posterior counts of lung and liver)"
            )
        return self


class Liver(_Model):
    """Whole liver, tumours included: volume (mL) and density (g/mL)."""

    volume_ml: PositiveFloat
    density_g_ml: Annotated[float, Field(gt=0.5, lt=2.0)] = 1.03
    compromised: bool | None = None


class Tumour(_Model):
    """One tumour: volume (mL) and tumour-to-normal activity concentration ratio (MAA)."""

    name: Annotated[str, Field(min_length=1)]
    volume_ml: PositiveFloat
    tn_ratio: PositiveFloat | None = None


class Territory(_Model):
    """A perfused territory treated in this session: volume (mL, tumours included)."""

    name: Annotated[str, Field(min_length=1)]
    volume_ml: PositiveFloat
    tumours: tuple[Tumour, ...] = ()

    @model_validator(mode="after")
    def _tumours_fit(self) -> Self:
        total = sum(t.volume_ml for t in self.tumours)
        if self.tumours and total >= self.volume_ml:
            raise ValueError(
                f"the tumour volumes of territory {self.name!r} add up to {total:g} mL, "
                f"expected less than its volume_ml {self.volume_ml:g} mL (the territory "
                "volume includes its tumours)"
            )
        return self


class Prescription(_Model):
    """Targets and limits (Gy) and the residual fraction; absent keys take device defaults."""

    perfused_dose_gy: PositiveFloat | None = None
    tumour_dose_gy: PositiveFloat | None = None
    whole_liver_dose_gy: PositiveFloat | None = None
    normal_liver_max_gy: NonNegativeFloat | None = None
    lung_max_gy: NonNegativeFloat | None = None
    lung_cumulative_max_gy: NonNegativeFloat | None = None
    residual_fraction: Fraction = 0.0

    @field_validator("residual_fraction")
    @classmethod
    def _not_all_left(cls, value: float) -> float:
        if value >= 1.0:
            raise ValueError("expected a fraction < 1: a residual of 1 means nothing is injected")
        return value


class Schedule(_Model):
    """Treatment time and, optionally, a vial activity with its calibration time."""

    treatment: AwareDatetime
    vial_activity_gbq: PositiveFloat | None = None
    vial_calibration: AwareDatetime | None = None

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

    liver: Annotated[str, Field(min_length=1)]
    lungs: str | None = None
    tumours: tuple[str, ...] = ()
    territories: dict[str, str] = Field(default_factory=dict)


ImageKey = Literal["ct", "spect", "segmentation", "post_treatment", "post_ct", "post_segmentation"]
_IMAGE_KEYS: tuple[ImageKey, ...] = (
    "ct",
    "spect",
    "segmentation",
    "post_treatment",
    "post_ct",
    "post_segmentation",
)


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

    Each path may instead be a mapping ``{path: ..., series_uid: ...}`` (or ``modality`` and
    ``description``) that picks one series of a folder, DICOMDIR or zip holding several;
    the path is kept in its key and the choice in ``series`` under the same key.
    """

    ct: Path
    spect: Path
    segmentation: Path
    structures: Structures
    labels: dict[int, str] = Field(default_factory=dict)
    post_treatment: Path | None = None
    post_ct: Path | None = None
    post_segmentation: Path | None = None
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
        "ct", "spect", "segmentation", "post_treatment", "post_ct", "post_segmentation"
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
    vial_activity_gbq: PositiveFloat
    vial_measured: AwareDatetime
    residual_activity_gbq: NonNegativeFloat = 0.0
    residual_measured: AwareDatetime | None = None


class Case(_Model):
    """One planning case (case-file format version 1)."""

    opensirt_case: Literal[1]
    patient: Patient
    device: DeviceName
    method: Method
    lung: Lung
    liver: Liver
    territories: Annotated[tuple[Territory, ...], Field(min_length=1)]
    prescription: Prescription = Prescription()
    schedule: Schedule | None = None
    images: Images | None = None
    treatment: Treatment | None = None
    clinical: ClinicalFindings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_names(self)
        _check_volumes(self)
        _check_method(self)
        return self

    def tumour_names(self) -> tuple[str, ...]:
        """Names of all tumours, territory by territory."""
        return tuple(t.name for terr in self.territories for t in terr.tumours)


def _check_names(case: Case) -> None:
    for label, names in (
        ("territory", [t.name for t in case.territories]),
        ("tumour", list(case.tumour_names())),
    ):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{label} name {duplicates[0]!r} is used twice; names must be unique")


def _check_volumes(case: Case) -> None:
    total = sum(t.volume_ml for t in case.territories)
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
    if case.method is Method.PARTITION:
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
                    "has none (give the MAA tumour-to-normal ratio)"
                )
    if case.images is not None:
        known = {t.name for t in case.territories}
        for name in case.images.structures.territories:
            if name not in known:
                raise ValueError(
                    f"images.structures.territories names {name!r}, which is not a territory "
                    f"name; expected one of {sorted(known)}"
                )
