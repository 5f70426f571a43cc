"""Registration of an emission study's own CT to the planning CT, and resampling into its frame.

A post-treatment PET/CT or SPECT/CT (or a work-up SPECT/CT on another day than the planning
CT) has its own frame of reference. Its CT (moving) is registered to the planning CT (fixed)
with SimpleITK's registration framework (Lowekamp et al. 2013, Front. Neuroinform. 7:45,
doi:10.3389/fninf.2013.00045; Yaniv et al. 2018, J. Digit. Imaging 31:290,
doi:10.1007/s10278-017-0037-8), then the emission image is resampled onto a grid in the
planning frame.

Method
------
* **Region.** The metric is evaluated only in the liver region: the planning liver structure
  dilated by :data:`LIVER_MARGIN_MM` (25 mm, so that the liver's edges against fat, lung and
  ribs, which carry the alignment information, are inside), on the planning CT cropped to it.
* **Rigid** (default): :class:`SimpleITK.Euler3DTransform` about the liver centroid, started
  from the better (lower metric) of the identity and the geometric centring of both CTs;
  Mattes mutual information (32 bins; Mattes et al. 2003, IEEE TMI 22:120,
  doi:10.1109/TMI.2002.808363) on a regular grid of 25 % of the region's voxels (fixed seed:
  reproducible), linear interpolation, regular-step gradient descent with scales from a
  1 mm physical shift, three resolution levels (shrink 4, 2, 1; smoothing 2, 1, 0 mm); about
  1-3 s at the demo's resolution, as the region is small. The result is reproducible to
  rounding (threaded sums may differ in the last digits).
* **Deformable** (optional): a cubic B-spline (control points about every 60 mm over the
  region) after the rigid stage, L-BFGS-B (at most 25 iterations) at half resolution: the
  liver moves smoothly between two scans, and a finer grid would fit noise.

Direction convention
--------------------
As in ITK, a transform maps points of the **fixed** (planning) frame to points of the
**moving** (emission study's) frame, in DICOM patient coordinates (LPS, mm): the emission
value at planning point ``x`` is read at ``T(x)``. A transform file given in the case file
(ITK ``.tfm``/``.txt``, e.g. written by 3D Slicer's "fixed to moving" or by this module)
must follow it. The reported 4x4 matrix is that mapping in homogeneous coordinates; the
angles are those of ITK's Euler3DTransform (``R = Rz Rx Ry``, ``ComputeZYX`` off), in
degrees.

Quality check
-------------
After registration, inside the liver region: the Pearson correlation of the planning CT and
the registered CT must reach :data:`MIN_CORRELATION` and must not fall below the correlation
without registration by more than 0.05; at least :data:`MIN_OVERLAP_FRACTION` of the region
must lie inside the moving CT; the rotation must stay below :data:`MAX_ROTATION_DEG` (both
scans supine). A failure raises :class:`~opensirt.errors.RegistrationError` with the reason.

Resampling
----------
The emission image is then resampled into the planning frame by
:func:`opensirt.imaging.registration_resample.resample_into_frame`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from opensirt.errors import InputError, RegistrationError
from opensirt.fileio import write_atomically
from opensirt.imaging.volume import Volume

__all__ = [
    "LIVER_MARGIN_MM",
    "Registration",
    "RegistrationMethod",
    "RegistrationQuality",
    "read_registration",
    "register_ct",
]

#: Margin around the liver structure of the region the metric sees (mm).
LIVER_MARGIN_MM = 25.0
#: Least correlation of the registered CTs inside the liver region.
MIN_CORRELATION = 0.5
#: Largest drop of correlation from no registration to registration.
MAX_CORRELATION_DROP = 0.05
#: Least fraction of the liver region inside the moving CT after registration.
MIN_OVERLAP_FRACTION = 0.9
#: Largest rotation between two supine scans (degrees).
MAX_ROTATION_DEG = 20.0
#: Seed of the metric's sampling (reproducible results).
SAMPLING_SEED = 20261201
_AIR_HU = -1000.0
_NO_OVERLAP = (
    "the liver region of the planning CT and the study's CT do not overlap, neither in "
    "their own coordinates nor with their centres aligned; check that the study's CT covers "
    "the liver, or give a transform file (images.*_transform)"
)


class RegistrationMethod(StrEnum):
    """How an emission study is brought into the planning frame."""

    RIGID = "rigid"
    DEFORMABLE = "deformable"
    NONE = "none"


@dataclass(frozen=True)
class RegistrationQuality:
    """The quality check of a registration, inside the liver region.

    ``correlation_before`` (no registration: the same coordinates in both frames) is None
    when the region lies outside the moving CT then.
    """

    correlation_before: float | None
    correlation_after: float
    overlap_fraction: float
    rotation_deg: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping.

        Returns
        -------
        dict of str to Any
            The four measures (correlations dimensionless, ``overlap_fraction`` in [0, 1],
            ``rotation_deg`` in degrees) and the acceptance bounds they were checked against
            (``min_correlation``, ``min_overlap_fraction``, ``max_rotation_deg``).
        """
        return {
            "correlation_before": self.correlation_before,
            "correlation_after": self.correlation_after,
            "overlap_fraction": self.overlap_fraction,
            "rotation_deg": self.rotation_deg,
            "min_correlation": MIN_CORRELATION,
            "min_overlap_fraction": MIN_OVERLAP_FRACTION,
            "max_rotation_deg": MAX_ROTATION_DEG,
        }


@dataclass(frozen=True, eq=False)
class Registration:
    """A transform from the planning (fixed) frame to an emission study's (moving) frame.

    Attributes
    ----------
    method : str
        ``"rigid"``, ``"deformable"`` or ``"file"``.
    source : str
        ``"computed"``, or the transform file's name.
    matrix : tuple of 4 tuples of 4 floats
        Fixed-to-moving mapping in LPS mm, homogeneous (of the rigid stage for deformable).
    rotation_deg, translation_mm : tuple of 3 floats
        Euler angles about x, y, z (ITK Euler3D convention) and the translation.
    metric : float or None
        Final Mattes mutual information (negative: lower is better); None for a file.
    iterations : int
        Optimiser iterations over all levels and stages (0 for a file).
    stop_condition : str
    quality : RegistrationQuality or None
        None when a transform file is applied without the study's CT.
    margin_mm : float
        Margin of the liver region.
    resampling_scale : float
        Factor that restored the emission total after resampling (1 before resampling).
    transform : SimpleITK.Transform
    """

    method: str
    source: str
    matrix: tuple[tuple[float, ...], ...]
    rotation_deg: tuple[float, float, float]
    translation_mm: tuple[float, float, float]
    metric: float | None
    iterations: int
    stop_condition: str
    quality: RegistrationQuality | None
    margin_mm: float
    resampling_scale: float = 1.0
    transform: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (without the transform object).

        Returns
        -------
        dict of str to Any
            Method, source, the stated direction of the transform, its 4x4 ``matrix`` (LPS
            mm, fixed to moving), ``rotation_deg``, ``translation_mm``, the Mattes metric,
            iterations, stop condition, ``liver_margin_mm``, ``resampling_scale`` and the
            quality record (or None).
        """
        return {
            "method": self.method,
            "source": self.source,
            "direction": "planning (fixed) LPS mm -> emission study (moving) LPS mm",
            "matrix": [list(row) for row in self.matrix],
            "rotation_deg": list(self.rotation_deg),
            "translation_mm": list(self.translation_mm),
            "metric_mattes_mi": self.metric,
            "iterations": self.iterations,
            "stop_condition": self.stop_condition,
            "liver_margin_mm": self.margin_mm,
            "resampling_scale": self.resampling_scale,
            "quality": None if self.quality is None else self.quality.to_dict(),
        }

    def write(self, path: Path) -> Path:
        """Write the transform as an ITK transform file (``.tfm``), atomically.

        Parameters
        ----------
        path : pathlib.Path
            Destination, usually ending in ``.tfm``; the file maps planning (fixed) LPS
            points to the study's (moving) points, as :func:`read_registration` reads it.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        import SimpleITK as sitk

        return write_atomically(path, lambda tmp: sitk.WriteTransform(self.transform, str(tmp)))


# ---------------------------------------------------------------------------- internals
def _liver_region(ct: Volume, liver: Volume, margin_mm: float) -> tuple[Volume, Volume]:
    """The planning CT cropped to the dilated liver, and the dilated liver on that crop."""
    ct.require_same_grid(liver, "planning CT and liver structure")
    box = liver.bounding_box(margin_mm)
    inside = np.asarray(liver.crop(box).array, dtype=bool)
    distance = ndimage.distance_transform_edt(~inside, sampling=ct.spacing_zyx_mm)
    cropped = ct.crop(box)
    return cropped, cropped.with_array(distance <= margin_mm, units="label")


def _float_image(volume: Volume) -> Any:
    import SimpleITK as sitk

    return sitk.Cast(volume.to_sitk(), sitk.sitkFloat32)


def _affine(transform: Any, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """4x4 least-squares affine of ``transform`` on ``points`` (exact for a linear one)."""
    mapped = np.array([transform.TransformPoint(tuple(float(c) for c in p)) for p in points])
    design = np.hstack([points, np.ones((len(points), 1))])
    solution, *_ = np.linalg.lstsq(design, mapped, rcond=None)
    matrix = np.eye(4)
    matrix[:3, :] = solution.T
    return matrix


def _region_points(region: Volume) -> npt.NDArray[np.float64]:
    """The corners and the centre of ``region``'s grid (mm)."""
    nk, nj, ni = region.shape
    corners: list[tuple[float, float, float]] = [
        (i, j, k) for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)
    ]
    corners.append(((ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2))
    return region.index_to_physical(np.array(corners, dtype=np.float64))


def _euler_angles(matrix: npt.NDArray[np.float64], what: str) -> tuple[float, float, float]:
    """ITK Euler3D angles (degrees) of the rotation nearest to ``matrix[:3, :3]``."""
    import SimpleITK as sitk

    u, _, vt = np.linalg.svd(matrix[:3, :3])
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:
        raise RegistrationError(
            f"{what} contains a reflection (determinant < 0); a patient cannot be mirrored "
            "between two scans: give a rigid or affine transform without reflection"
        )
    euler = sitk.Euler3DTransform()
    euler.SetMatrix(tuple(float(x) for x in rotation.reshape(-1)), 1e-6)
    return (
        math.degrees(euler.GetAngleX()),
        math.degrees(euler.GetAngleY()),
        math.degrees(euler.GetAngleZ()),
    )


def _rotation_magnitude_deg(matrix: npt.NDArray[np.float64]) -> float:
    u, _, vt = np.linalg.svd(matrix[:3, :3])
    cosine = (float(np.trace(u @ vt)) - 1.0) / 2.0
    return math.degrees(math.acos(min(1.0, max(-1.0, cosine))))


def _correlation(
    fixed: Volume, mask: Volume, moving: Any, transform: Any
) -> tuple[float | None, float]:
    """(Pearson correlation, overlap fraction) of ``fixed`` and the transformed moving CT."""
    import SimpleITK as sitk

    reference = fixed.to_sitk()
    values = sitk.Resample(moving, reference, transform, sitk.sitkLinear, _AIR_HU)
    ones = sitk.Cast(moving * 0 + 1, sitk.sitkUInt8)
    covered = sitk.Resample(ones, reference, transform, sitk.sitkNearestNeighbor, 0)
    region = np.asarray(mask.array, dtype=bool)
    inside = region & (sitk.GetArrayViewFromImage(covered) > 0)
    overlap = float(inside.sum()) / float(region.sum())
    if inside.sum() < 100:
        return None, overlap
    a = np.asarray(fixed.array, dtype=np.float64)[inside]
    b = sitk.GetArrayFromImage(values).astype(np.float64)[inside]
    if a.std() == 0 or b.std() == 0:
        return 0.0, overlap
    return float(np.corrcoef(a, b)[0, 1]), overlap


def _check(
    fixed: Volume, mask: Volume, moving: Any, transform: Any, matrix: Any, what: str
) -> RegistrationQuality:
    """The quality check of the module notes; raises :class:`RegistrationError` on failure."""
    import SimpleITK as sitk

    before, _ = _correlation(fixed, mask, moving, sitk.Transform())
    after, overlap = _correlation(fixed, mask, moving, transform)
    rotation = _rotation_magnitude_deg(matrix)
    fix = (
        "check that both CTs show the same patient and the liver, or give a transform "
        "file (images.*_transform, mapping planning points to the study's points)"
    )
    if overlap < MIN_OVERLAP_FRACTION:
        raise RegistrationError(
            f"{what}: after registration only {overlap:.0%} of the liver region (liver + "
            f"{LIVER_MARGIN_MM:g} mm) lies inside the study's CT (at least "
            f"{MIN_OVERLAP_FRACTION:.0%} expected); {fix}"
        )
    if after is None or after < MIN_CORRELATION:
        raise RegistrationError(
            f"{what}: the registered CTs correlate only {after or 0.0:.2f} inside the liver "
            f"region (at least {MIN_CORRELATION} expected); {fix}"
        )
    if before is not None and after < before - MAX_CORRELATION_DROP:
        raise RegistrationError(
            f"{what}: the CTs correlate {after:.2f} after registration but {before:.2f} "
            "without it: the transform makes the alignment worse (is it the inverse "
            f"direction?); {fix}"
        )
    if rotation > MAX_ROTATION_DEG:
        raise RegistrationError(
            f"{what}: the registration rotates by {rotation:.1f} degrees (at most "
            f"{MAX_ROTATION_DEG:g} expected between two supine scans); {fix}"
        )
    return RegistrationQuality(before, after, overlap, rotation)


# ---------------------------------------------------------------------------- registration
def _method(metric_region: Any, levels: tuple[int, ...]) -> Any:
    import SimpleITK as sitk

    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    reg.SetMetricFixedMask(metric_region)
    reg.SetMetricSamplingStrategy(reg.REGULAR)
    reg.SetMetricSamplingPercentage(0.25, SAMPLING_SEED)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetShrinkFactorsPerLevel(list(levels))
    reg.SetSmoothingSigmasPerLevel([float(s) / 2.0 if s > 1 else 0.0 for s in levels])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return reg


def _counted(reg: Any) -> list[int]:
    import SimpleITK as sitk

    count = [0]

    def tick() -> None:
        count[0] += 1

    reg.AddCommand(sitk.sitkIterationEvent, tick)
    return count


def _rigid(
    fixed: Any, region: Any, moving: Any, centre: tuple[float, ...], what: str
) -> tuple[Any, ...]:
    import SimpleITK as sitk

    reg = _method(region, (4, 2, 1))
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=4.0,
        minStep=1e-3,
        numberOfIterations=100,
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    geometric = sitk.CenteredTransformInitializer(
        fixed, moving, sitk.Euler3DTransform(), sitk.CenteredTransformInitializerFilter.GEOMETRY
    )
    candidates = []
    for translation in ((0.0, 0.0, 0.0), geometric.GetTranslation()):
        start = sitk.Euler3DTransform()
        start.SetCenter(centre)
        start.SetTranslation(translation)
        reg.SetInitialTransform(start, inPlace=False)
        try:
            candidates.append((reg.MetricEvaluate(fixed, moving), start))
        except RuntimeError:  # no overlap from this start
            continue
    if not candidates:
        raise RegistrationError(f"{what}: {_NO_OVERLAP}")
    reg.SetInitialTransform(min(candidates, key=lambda c: c[0])[1], inPlace=False)
    count = _counted(reg)
    try:
        result = reg.Execute(fixed, moving)
    except RuntimeError as exc:
        raise RegistrationError(f"{what}: {_NO_OVERLAP} ({str(exc).splitlines()[-1]})") from exc
    euler = sitk.Euler3DTransform(sitk.CompositeTransform(result).GetNthTransform(0))
    return euler, reg.GetMetricValue(), count[0], reg.GetOptimizerStopConditionDescription()


def _deformable(fixed: Any, region: Any, moving: Any, rigid: Any) -> tuple[Any, ...]:
    import SimpleITK as sitk

    extent = [n * s for n, s in zip(fixed.GetSize(), fixed.GetSpacing(), strict=True)]
    mesh = [max(1, round(e / 60.0)) for e in extent]
    bspline = sitk.BSplineTransformInitializer(fixed, mesh, order=3)
    reg = _method(region, (2,))
    reg.SetOptimizerAsLBFGSB(
        gradientConvergenceTolerance=1e-5,
        numberOfIterations=25,
        maximumNumberOfCorrections=5,
        maximumNumberOfFunctionEvaluations=200,
        costFunctionConvergenceFactor=1e7,
    )
    reg.SetMovingInitialTransform(rigid)
    reg.SetInitialTransform(bspline, inPlace=True)
    count = _counted(reg)
    reg.Execute(fixed, moving)
    composite = sitk.CompositeTransform([rigid, bspline])
    return composite, reg.GetMetricValue(), count[0], reg.GetOptimizerStopConditionDescription()


def register_ct(
    fixed_ct: Volume,
    liver: Volume,
    moving_ct: Volume,
    *,
    method: RegistrationMethod = RegistrationMethod.RIGID,
    margin_mm: float = LIVER_MARGIN_MM,
    what: str = "registration",
) -> Registration:
    """Register ``moving_ct`` (the emission study's CT) to ``fixed_ct`` (the planning CT).

    Parameters
    ----------
    fixed_ct : Volume
        Planning CT (HU).
    liver : Volume
        Boolean liver structure on ``fixed_ct``'s grid.
    moving_ct : Volume
        The emission study's CT (HU), in its own frame.
    method : RegistrationMethod
        ``RIGID`` or ``DEFORMABLE`` (B-spline after rigid).
    margin_mm : float
        Dilation of the liver of the metric's region (mm).
    what : str
        Names the studies in error messages.

    Returns
    -------
    Registration
        The fixed-to-moving transform (LPS mm), its parameters, the optimiser's record and
        the passed quality check.

    Raises
    ------
    InputError
        If ``method`` is ``NONE``.
    GeometryError
        If ``liver`` is not on ``fixed_ct``'s grid.
    RegistrationError
        The result fails the quality check (see the module notes).
    """
    if method == RegistrationMethod.NONE:
        raise InputError("register_ct needs method rigid or deformable, not none")
    cropped, region = _liver_region(fixed_ct, liver, margin_mm)
    fixed, metric_region = _float_image(cropped), region.to_sitk()
    moving = _float_image(moving_ct)
    inside = np.argwhere(np.asarray(region.array, dtype=bool))[:, ::-1].mean(axis=0)
    centre = tuple(float(c) for c in cropped.index_to_physical(inside))
    rigid, metric, iterations, stop = _rigid(fixed, metric_region, moving, centre, what)
    transform, name = rigid, "rigid"
    if method == RegistrationMethod.DEFORMABLE:
        transform, metric, more, stop = _deformable(fixed, metric_region, moving, rigid)
        iterations, name = iterations + more, "deformable"
    matrix = _affine(rigid, _region_points(cropped))
    angles = _euler_angles(matrix, what)
    quality = _check(cropped, region, moving, transform, matrix, what)
    return Registration(
        method=name,
        source="computed",
        matrix=tuple(tuple(float(x) for x in row) for row in matrix),
        rotation_deg=angles,
        translation_mm=(float(matrix[0, 3]), float(matrix[1, 3]), float(matrix[2, 3])),
        metric=float(metric),
        iterations=int(iterations),
        stop_condition=str(stop),
        quality=quality,
        margin_mm=margin_mm,
        transform=transform,
    )


def read_registration(
    path: Path,
    fixed_ct: Volume,
    liver: Volume,
    moving_ct: Volume | None,
    *,
    margin_mm: float = LIVER_MARGIN_MM,
    what: str = "registration",
) -> Registration:
    """A transform file (fixed-to-moving, see the module notes), checked like a computed one.

    Without ``moving_ct`` only the rotation bound is checked (nothing to correlate).

    Parameters
    ----------
    path : pathlib.Path
        ITK transform file (``.tfm`` or ``.txt``) mapping planning (fixed) LPS mm points to
        the study's (moving) points.
    fixed_ct : Volume
        Planning CT (HU).
    liver : Volume
        Boolean liver structure on ``fixed_ct``'s grid; the quality check's region.
    moving_ct : Volume or None
        The emission study's CT (HU), or None when the study has none.
    margin_mm : float, optional
        Dilation of the liver region (mm).
    what : str, optional
        Names the studies in error messages.

    Returns
    -------
    Registration
        ``method == "file"``, ``source`` the file name, with the quality record (None without
        ``moving_ct``).

    Raises
    ------
    InputError
        The file cannot be read as a 3-D ITK transform.
    RegistrationError
        The transform fails the quality check.
    """
    import SimpleITK as sitk

    try:
        transform = sitk.ReadTransform(str(path))
    except RuntimeError as exc:
        raise InputError(
            f"{path} is not a readable ITK transform file ({str(exc).splitlines()[-1]}); give "
            "an ITK .tfm or .txt transform mapping planning points to the study's points"
        ) from exc
    if transform.GetDimension() != 3:
        raise InputError(f"{path} holds a {transform.GetDimension()}-D transform, expected 3-D")
    cropped, region = _liver_region(fixed_ct, liver, margin_mm)
    matrix = _affine(transform, _region_points(cropped))
    what = f"{what} (transform file {path.name})"
    angles = _euler_angles(matrix, what)
    if moving_ct is None:
        rotation = _rotation_magnitude_deg(matrix)
        if rotation > MAX_ROTATION_DEG:
            raise RegistrationError(
                f"{what}: rotates by {rotation:.1f} degrees (at most {MAX_ROTATION_DEG:g} "
                "expected between two supine scans); check the file and its direction"
            )
        quality = None
    else:
        moving = _float_image(moving_ct)
        quality = _check(cropped, region, moving, transform, matrix, what)
    return Registration(
        method="file",
        source=path.name,
        matrix=tuple(tuple(float(x) for x in row) for row in matrix),
        rotation_deg=angles,
        translation_mm=(float(matrix[0, 3]), float(matrix[1, 3]), float(matrix[2, 3])),
        metric=None,
        iterations=0,
        stop_condition="transform read from file",
        quality=quality,
        margin_mm=margin_mm,
        transform=transform,
    )
