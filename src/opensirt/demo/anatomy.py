"""Anatomy of the synthetic patient: a tissue label map and a CT on one grid.

Shapes are ellipsoids and cylinders in the patient frame (LPS, mm, origin at the centre of
the CT field of view): an ellipsoidal trunk with a subcutaneous fat layer, a spine, two
lungs whose bases rest on the liver dome, a liver made of a right and a left lobe (split
by a sagittal plane, a simple stand-in for Cantlie's line) and spherical tumours.

CT numbers (HU) are typical values for 120 kVp: air -1000, lung -830 (-800..-850), fat -100,
soft tissue 40, liver parenchyma 60, hypovascular tumour 40 (unenhanced), cortical/cancellous
bone mix 700 (Bushberg et al., The Essential Physics of Medical Imaging, 3rd ed., 2012,
ch. 10, CT numbers of tissues; Kalender, Computed Tomography, 3rd ed., 2011, ch. 1), with
Gaussian noise of 12 HU (typical of abdominal CT).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume

__all__ = ["CT_NUMBER_HU", "Tissue", "TumourSpec", "build_anatomy"]


class Tissue(IntEnum):
    """Labels of the exclusive tissue map."""

    AIR = 0
    SOFT_TISSUE = 1
    FAT = 2
    BONE = 3
    LUNG_RIGHT = 4
    LUNG_LEFT = 5
    LIVER_RIGHT = 6
    LIVER_LEFT = 7
    TUMOUR_FIRST = 8  # tumour n (0-based) has label TUMOUR_FIRST + n


CT_NUMBER_HU: dict[str, float] = {
    "air": -1000.0,
    "lung": -830.0,
    "fat": -100.0,
    "soft_tissue": 40.0,
    "liver": 60.0,
    "tumour": 40.0,
    "bone": 700.0,
}
CT_NOISE_HU = 12.0


@dataclass(frozen=True)
class TumourSpec:
    """A spherical tumour: name, lobe (``"RightLobe"``/``"LeftLobe"``), centre (mm), diameter.

    Attributes
    ----------
    name : str
        Structure name (``"T1"`` ...).
    territory : str
        The lobe holding it, ``"RightLobe"`` or ``"LeftLobe"``.
    centre_mm : tuple[float, float, float]
        Centre in the patient frame (LPS, mm).
    diameter_mm : float
        Diameter of the sphere (mm).
    tn_maa, tn_y90 : float
        Tumour-to-normal-liver uptake ratio (activity concentration ratio, dimensionless)
        of the MAA and of the Y-90 microspheres.
    """

    name: str
    territory: str
    centre_mm: tuple[float, float, float]
    diameter_mm: float
    tn_maa: float
    tn_y90: float


#: The default tumours (size 1): diameters 50, 30 and 18 mm; T/N 2.5-6 as seen with MAA in
#: HCC and metastases (Ho et al. 1996, Eur J Nucl Med 23:947, doi:10.1007/BF01084369).
#: T2 takes up less Y-90 than its MAA predicted, as reported for a part of lesions
#: (Wondergem et al. 2013, J Nucl Med 54:1294, doi:10.2967/jnumed.112.117614).
DEFAULT_TUMOURS = (
    TumourSpec("T1", "RightLobe", (-75.0, 5.0, -50.0), 50.0, 4.0, 4.0),
    TumourSpec("T2", "RightLobe", (-100.0, 15.0, -5.0), 30.0, 6.0, 3.0),
    TumourSpec("T3", "LeftLobe", (20.0, -30.0, -30.0), 18.0, 2.5, 2.5),
)


def _ellipsoid(
    points: tuple[npt.NDArray[np.float64], ...],
    centre: tuple[float, float, float],
    semi_axes: tuple[float, float, float],
) -> npt.NDArray[np.bool_]:
    x, y, z = points
    r2 = ((x - centre[0]) / semi_axes[0]) ** 2 + ((y - centre[1]) / semi_axes[1]) ** 2
    out: npt.NDArray[np.bool_] = np.asarray(r2 + ((z - centre[2]) / semi_axes[2]) ** 2 <= 1.0)
    return out


def _grid_points(grid: Volume) -> tuple[npt.NDArray[np.float64], ...]:
    nk, nj, ni = grid.shape
    x = grid.origin_mm[0] + grid.spacing_mm[0] * np.arange(ni, dtype=np.float64)
    y = grid.origin_mm[1] + grid.spacing_mm[1] * np.arange(nj, dtype=np.float64)
    z = grid.origin_mm[2] + grid.spacing_mm[2] * np.arange(nk, dtype=np.float64)
    return (x[None, None, :], y[None, :, None], z[:, None, None])


#: Voxels generated at once (slabs of whole slices), to bound memory at clinical matrix sizes.
SLAB_VOXELS = 1 << 22


def _slabs(shape: tuple[int, ...]) -> list[slice]:
    """Slices along k holding about :data:`SLAB_VOXELS` voxels each."""
    step = max(1, SLAB_VOXELS // int(np.prod(shape[1:])))
    return [slice(k, min(k + step, shape[0])) for k in range(0, shape[0], step)]


def _place_tumours(
    tumours: tuple[TumourSpec, ...], scale: float, rng: np.random.Generator
) -> tuple[TumourSpec, ...]:
    """The tumours scaled, their centres jittered by 2 mm (standard deviation)."""
    placed = []
    for spec in tumours:
        c = np.asarray(spec.centre_mm) * scale + rng.normal(0.0, 2.0, 3)
        placed.append(
            TumourSpec(
                spec.name,
                spec.territory,
                (float(c[0]), float(c[1]), float(c[2])),
                spec.diameter_mm * scale,
                spec.tn_maa,
                spec.tn_y90,
            )
        )
    return tuple(placed)


def _label_slab(
    p: tuple[npt.NDArray[np.float64], ...], scale: float, tumours: tuple[TumourSpec, ...]
) -> npt.NDArray[np.int16]:
    """Tissue labels at the grid points ``p`` (x, y, z broadcastable to one slab)."""
    shape = np.broadcast_shapes(*(a.shape for a in p))

    def s3(v: tuple[float, float, float]) -> tuple[float, float, float]:
        return (v[0] * scale, v[1] * scale, v[2] * scale)

    body = _ellipsoid(p, (0.0, 0.0, 0.0), s3((170.0, 120.0, 400.0)))
    inner = _ellipsoid(p, (0.0, 0.0, 0.0), s3((155.0, 105.0, 385.0)))
    labels = np.zeros(shape, dtype=np.int16)
    labels[body] = Tissue.FAT
    labels[inner] = Tissue.SOFT_TISSUE
    x, y, _z = p
    spine = (x - 0.0) ** 2 + (y - 75.0 * scale) ** 2 <= (18.0 * scale) ** 2
    labels[np.broadcast_to(spine, shape) & inner] = Tissue.BONE
    right = _ellipsoid(p, s3((-60.0, 0.0, -40.0)), s3((80.0, 75.0, 65.0)))
    left = _ellipsoid(p, s3((10.0, -25.0, -30.0)), s3((60.0, 45.0, 40.0)))
    liver = (right | left) & inner
    in_right = np.broadcast_to(x < -20.0 * scale, shape)
    for centre, axes, tissue in (
        ((-75.0, 10.0, 75.0), (60.0, 75.0, 110.0), Tissue.LUNG_RIGHT),
        ((75.0, 10.0, 80.0), (55.0, 70.0, 105.0), Tissue.LUNG_LEFT),
    ):
        lung = _ellipsoid(p, s3(centre), s3(axes)) & inner & ~liver
        labels[lung & (labels != Tissue.BONE)] = tissue
    labels[liver & in_right] = Tissue.LIVER_RIGHT
    labels[liver & ~in_right] = Tissue.LIVER_LEFT
    for n, spec in enumerate(tumours):
        radius = spec.diameter_mm / 2.0
        lobe = Tissue.LIVER_RIGHT if spec.territory == "RightLobe" else Tissue.LIVER_LEFT
        sphere = _ellipsoid(p, spec.centre_mm, (radius, radius, radius))
        labels[sphere & (labels == lobe)] = Tissue.TUMOUR_FIRST + n
    return labels


def build_anatomy(
    grid: Volume, scale: float, tumours: tuple[TumourSpec, ...], rng: np.random.Generator
) -> tuple[npt.NDArray[np.int16], tuple[TumourSpec, ...]]:
    """Tissue labels on ``grid`` (axis-aligned) for anatomy scaled by ``scale``.

    Tumour centres are jittered by 2 mm (standard deviation) with ``rng``; the returned specs
    hold the jittered centres. The map is built in slabs of slices (memory bounded by
    :data:`SLAB_VOXELS`, whatever the matrix size).

    Parameters
    ----------
    grid : Volume
        The CT grid (its shape, origin and spacing in mm, LPS); only its geometry is used.
    scale : float
        Linear size of the patient relative to the default anatomy (1.0: the default
        adult); every length and tumour position is multiplied by it.
    tumours : tuple[TumourSpec, ...]
        The tumours at scale 1 (centres and diameters in mm); tumour ``n`` gets label
        ``Tissue.TUMOUR_FIRST + n``.
    rng : numpy.random.Generator
        Random source of the centre jitter (seeded by the caller, for reproducibility).

    Returns
    -------
    tuple[numpy.ndarray, tuple[TumourSpec, ...]]
        The label map (int16, shape of ``grid``, values of :class:`Tissue`) and the tumours
        as placed (scaled, jittered centres in mm).

    Raises
    ------
    InputError
        If the grid is not axis-aligned (identity direction).
    """
    if not np.allclose(grid.direction_matrix, np.eye(3)):
        raise InputError("the phantom grid must be axis-aligned (identity direction)")
    placed = _place_tumours(tumours, scale, rng)
    x, y, z = _grid_points(grid)
    labels = np.empty(grid.shape, dtype=np.int16)
    for slab in _slabs(grid.shape):
        labels[slab] = _label_slab((x, y, z[slab]), scale, placed)
    return labels, placed


def ct_from_labels(
    labels: npt.NDArray[np.int16], rng: np.random.Generator, noise_hu: float = CT_NOISE_HU
) -> npt.NDArray[np.float32]:
    """CT numbers (HU) of the tissue map plus Gaussian noise (``noise_hu``, 12 HU), slab by
    slab.

    Parameters
    ----------
    labels : numpy.ndarray
        Tissue label map (values of :class:`Tissue`), as from :func:`build_anatomy`.
    rng : numpy.random.Generator
        Random source of the noise.
    noise_hu : float, optional
        Standard deviation of the Gaussian noise (HU); default :data:`CT_NOISE_HU`, 12 HU.
        Air is left noiseless.

    Returns
    -------
    numpy.ndarray
        CT numbers (HU, float32) of :data:`CT_NUMBER_HU`, shape of ``labels``.
    """
    lut = np.full(int(labels.max()) + 1, CT_NUMBER_HU["tumour"], dtype=np.float64)
    lut[Tissue.AIR] = CT_NUMBER_HU["air"]
    lut[Tissue.SOFT_TISSUE] = CT_NUMBER_HU["soft_tissue"]
    lut[Tissue.FAT] = CT_NUMBER_HU["fat"]
    lut[Tissue.BONE] = CT_NUMBER_HU["bone"]
    lut[[Tissue.LUNG_RIGHT, Tissue.LUNG_LEFT]] = CT_NUMBER_HU["lung"]
    lut[[Tissue.LIVER_RIGHT, Tissue.LIVER_LEFT]] = CT_NUMBER_HU["liver"]
    out = np.empty(labels.shape, dtype=np.float32)
    for slab in _slabs(labels.shape):
        hu = lut[labels[slab]] + rng.normal(0.0, noise_hu, labels[slab].shape)
        hu[labels[slab] == Tissue.AIR] = CT_NUMBER_HU["air"]
        out[slab] = hu
    return out
