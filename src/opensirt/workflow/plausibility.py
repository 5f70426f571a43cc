"""Are the images what their role says, and do the structures lie on the organs?

A wrong image gives a plan of plausible size with nothing to see: a CT given as the SPECT
plans with a lung shunt of 0; a CT stored as HU + 1024 with its Rescale Intercept removed
makes the lungs heavy (+55 % activity); a CT with Rows and Columns swapped, or rotated
against its structures, puts the structures on other tissue. Each image is checked here
against its role and the device before anything is computed:

* the modality, units and radionuclide of each image against its role (work-up CT,
  Tc-99m MAA or Ho-166 scout SPECT; post-treatment Y-90 or Ho-166 PET/SPECT);
* the CT numbers: air in the image (about -1000 HU, by the definition of the Hounsfield
  scale), the mean CT number of the liver and of each territory in the range of liver tissue,
  the mean of the lungs in the range of aerated lung, and every liver, territory and tumour
  structure on tissue.

Ranges (HU)
-----------
Liver and territories: -100 to +250. Unenhanced liver is 40 to 70 HU (ICRU 44 liver,
1.06 g/cm3; Schneider et al. 2000, Table 2), a fatty liver lies between liver and adipose
tissue (-100 HU, Schneider's adipose -98 HU: nothing in a liver is below fat), and
intravenous contrast adds at most about 100 HU in the portal-venous phase (Bae 2010).
Lungs: -950 to -400. Aerated lung is -900 to -700 HU (Schneider's inflated lung -741 HU at
0.26 g/cm3); below -950 HU is emphysema (Gevenois et al. 1996), a whole-lung mean above
-400 HU is soft tissue, not lung. Liver, territories and tumours lie on tissue (above
-400 HU: not air, not lung) for at least 90 % of their volume.

References
----------
.. [SCHNEIDER2000] Schneider W, Bortfeld T, Schlegel W. Correlation between CT numbers and
   tissue parameters needed for Monte Carlo simulations of clinical dose distributions.
   Phys Med Biol 2000;45:459-478. doi:10.1088/0031-9155/45/2/314
.. [ICRU44] ICRU Report 44. Tissue Substitutes in Radiation Dosimetry and Measurement. 1989.
.. [BAE2010] Bae KT. Intravenous contrast medium administration and scan timing at CT:
   considerations and approaches. Radiology 2010;256:32-61. doi:10.1148/radiol.10090908
.. [GEVENOIS1996] Gevenois PA et al. Comparison of computed density and microscopic
   morphometry in pulmonary emphysema. Am J Respir Crit Care Med 1996;154:187-192.
   doi:10.1164/ajrccm.154.1.8680679
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.segmentation import Segmentation
from opensirt.physics.devices import DeviceName, get_device
from opensirt.physics.nuclides import NuclideName

__all__ = ["LIVER_HU_RANGE", "LUNG_HU_RANGE", "check_ct_structures", "check_image_role"]

#: Mean CT number of liver tissue, fatty to contrast-enhanced (HU; see the module notes).
LIVER_HU_RANGE = (-100.0, 250.0)
#: Mean CT number of aerated lungs (HU; see the module notes).
LUNG_HU_RANGE = (-950.0, -400.0)
#: The lowest CT numbers of a CT of the trunk hold air (-1000 HU): outside air or lungs.
AIR_MAX_HU = -500.0
#: CT numbers above this are tissue (soft tissue, fat, bone; not air or lung).
BODY_MIN_HU = -400.0
#: Least fraction of a liver, territory or tumour structure on tissue.
MIN_ON_TISSUE = 0.90
#: Least fraction of a CT's voxels that hold air.
_AIR_FRACTION = 0.001

#: Modalities and units each image role accepts.
_ROLE_MODALITIES = {
    "ct": frozenset({"CT"}),
    "post_ct": frozenset({"CT"}),
    "spect_ct": frozenset({"CT"}),
    "spect": frozenset({"NM"}),
    "post_treatment": frozenset({"PT", "NM"}),
}
_ROLE_UNITS = {
    "ct": frozenset({"HU"}),
    "post_ct": frozenset({"HU"}),
    "spect_ct": frozenset({"HU"}),
    "spect": frozenset({"counts", "Bq/mL"}),
    "post_treatment": frozenset({"counts", "Bq/mL"}),
}
_ROLE_WORDS = {
    "ct": "the planning CT (Modality CT, HU)",
    "post_ct": "the CT of the post-treatment study (Modality CT, HU)",
    "spect_ct": "the CT of the work-up SPECT/CT (Modality CT, HU)",
    "spect": "the work-up SPECT (Modality NM: Tc-99m MAA, or the Ho-166 scout dose)",
    "post_treatment": "the post-treatment image (Y-90 PET, Y-90 bremsstrahlung or Ho-166 SPECT)",
}


def _workup_nuclides(device: DeviceName) -> frozenset[str]:
    """Tc-99m MAA for every device; the Ho-166 scout dose too for Ho-166 microspheres."""
    if get_device(device).nuclide.name is NuclideName.HO166:
        return frozenset({NuclideName.TC99M.value, NuclideName.HO166.value})
    return frozenset({NuclideName.TC99M.value})


def check_image_role(key: str, path: Path, image: Volume, device: DeviceName) -> list[str]:
    """Refuse an image whose modality or units do not fit its role ``images.<key>``; for
    the work-up SPECT, refuse a radionuclide that is not a work-up tracer of ``device``.

    Parameters
    ----------
    key : str
        The role, the key of ``images:`` (``"ct"``, ``"spect"``, ``"post_treatment"``...).
    path : Path
        Where the image was read from, for messages.
    image : Volume
        The image as read, with its DICOM metadata.
    device : DeviceName
        The microsphere device of the case.

    Returns
    -------
    list of str
        Warnings: an image whose modality or radionuclide cannot be checked.

    Raises
    ------
    InputError
        Naming the role, the file, what it is and what the role needs.
    """
    modality = str(image.metadata.get(MetaKey.MODALITY, "") or "")
    wanted = _ROLE_WORDS[key]
    if modality in {"", "NIFTI"}:
        return [
            f"images.{key} ({path}) carries no DICOM header: its modality, units and "
            f"radionuclide cannot be checked; make sure it is {wanted}"
        ]
    if modality not in _ROLE_MODALITIES[key]:
        raise InputError(
            f"images.{key} is {path}, a series of Modality {modality} (values in "
            f"{image.units or 'no unit'}), but it must be {wanted}; point images.{key} at that "
            "series (pick it by series_uid, or by modality and description)"
        )
    if image.units not in _ROLE_UNITS[key]:
        raise InputError(
            f"images.{key} is {path}, Modality {modality} with values in "
            f"{image.units or 'no unit'!r}; expected {' or '.join(sorted(_ROLE_UNITS[key]))}"
        )
    if key != "spect":
        return []
    nuclide = image.metadata.get(MetaKey.RADIONUCLIDE)
    accepted = _workup_nuclides(device)
    if nuclide is None:
        return [
            f"images.spect ({path}) does not state its radionuclide; it is taken as "
            f"{' or '.join(sorted(accepted))}: check that it is the work-up scan"
        ]
    if nuclide not in accepted:
        pharma = image.metadata.get(MetaKey.RADIOPHARMACEUTICAL) or nuclide
        raise InputError(
            f"images.spect is {path}, a {nuclide} image ({pharma}); the work-up SPECT of "
            f"{device.value} must be {' or '.join(sorted(accepted))}. A post-treatment "
            "image belongs in images.post_treatment (opensirt verify)"
        )
    return []


def _box(mask: npt.NDArray[Any]) -> tuple[slice, ...]:
    """The bounding box of the non-zero voxels of a (non-empty) mask."""
    out = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        index = np.flatnonzero(np.any(mask, axis=others))
        out.append(slice(int(index[0]), int(index[-1]) + 1))
    return tuple(out)


def _statistics(hu: npt.NDArray[Any], mask: npt.NDArray[Any]) -> tuple[float, float]:
    """Weighted mean CT number (HU) of a structure and its fraction on tissue (> -400 HU),
    computed in its bounding box (a clinical CT has 65 million voxels)."""
    box = _box(mask)
    weights = np.clip(np.asarray(mask[box], dtype=np.float64), 0.0, 1.0)
    values = np.asarray(hu[box], dtype=np.float64)
    total = float(weights.sum())
    mean = float((weights * values).sum()) / total
    tissue = float(weights[values > BODY_MIN_HU].sum()) / total
    return mean, tissue


def _misaligned(name: str, path: Path, detail: str) -> str:
    return (
        f"structure {name!r} does not lie on its organ in the CT {path}: {detail}. The CT and "
        "the structures do not match: the CT may have Rows and Columns swapped or a wrong "
        "ImageOrientationPatient (rotated), or the structures were drawn on another CT; "
        "re-export the CT the structures were drawn on"
    )


def _air_check(hu: npt.NDArray[Any], liver_mean: float, path: Path) -> None:
    if np.count_nonzero(hu <= AIR_MAX_HU) >= _AIR_FRACTION * hu.size:
        return
    lowest = float(np.min(hu))
    hint = ""
    if 900.0 <= liver_mean <= 1300.0 and lowest >= -100.0:
        hint = (
            f" The values look like HU + 1024 (liver {liver_mean:.0f}, lowest {lowest:.0f}): "
            "the export dropped RescaleIntercept (-1024) and RescaleSlope (1); restore them "
            "(or re-export the CT with its rescale tags)"
        )
    raise InputError(
        f"the CT {path} holds no air: fewer than {_AIR_FRACTION:.1%} of its voxels are below "
        f"{AIR_MAX_HU:.0f} (lowest {lowest:.0f}), expected air at about -1000 HU outside the "
        f"body and in the lungs; the values are not Hounsfield units.{hint}"
    )


def check_ct_structures(
    ct: Volume,
    segmentation: Segmentation,
    path: Path,
    *,
    liver: str,
    lungs: str | None,
    territories: Sequence[str],
    tumours: Sequence[str],
) -> list[str]:
    """Refuse a CT that is not in HU, or whose structures do not lie on the organs.

    Parameters
    ----------
    ct : Volume
        The CT (HU).
    segmentation : Segmentation
        The structures, on ``ct``'s grid.
    path : Path
        The segmentation's path, for messages.
    liver : str
        Name of the liver structure.
    lungs : str or None
        Name of the lung structure, if given.
    territories : sequence of str
        Names of the territory structures.
    tumours : sequence of str
        Names of the tumour structures.

    Returns
    -------
    list of str
        Warnings: a structure touching the edge of the CT image.

    Raises

    ------
    InputError
        No air in the CT (not HU; with the HU + 1024 diagnosis where it fits), a liver or
        territory mean outside :data:`LIVER_HU_RANGE`, a lung mean outside
        :data:`LUNG_HU_RANGE`, or a liver, territory or tumour structure less than 90 % on
        tissue.
    """
    hu = np.asarray(ct.array)
    masks = {
        n: np.asarray(segmentation.get(n).array)
        for n in dict.fromkeys([liver, *territories, *tumours, *([lungs] if lungs else [])])
    }
    stats = {n: _statistics(hu, m) for n, m in masks.items()}
    _air_check(hu, stats[liver][0], path)
    ranges = dict.fromkeys([liver, *territories], LIVER_HU_RANGE)
    if lungs is not None:
        ranges[lungs] = LUNG_HU_RANGE
    for name, (lo, hi) in ranges.items():
        mean = stats[name][0]
        if not lo <= mean <= hi:
            tissue = (
                "aerated lung (Schneider 2000; Gevenois 1996)"
                if name == lungs
                else ("liver tissue (Schneider 2000, ICRU 44)")
            )
            raise InputError(
                _misaligned(
                    name,
                    path,
                    f"its mean CT number is {mean:.0f} HU, expected {lo:.0f} to {hi:.0f} HU "
                    f"for {tissue}",
                )
            )
    out = []
    for name in dict.fromkeys([liver, *territories, *tumours]):
        on_tissue = stats[name][1]
        if on_tissue < MIN_ON_TISSUE:
            raise InputError(
                _misaligned(
                    name,
                    path,
                    f"only {on_tissue:.0%} of it lies on tissue (above -400 HU), the rest on "
                    "air or lung",
                )
            )
        mask = masks[name]
        if any(np.any(edge) for edge in (mask[:, 0], mask[:, -1], mask[:, :, 0], mask[:, :, -1])):
            out.append(
                f"structure {name!r} reaches the edge of the CT image {path}: it may be cut "
                "off (check the CT's field of view and its Rows/Columns)"
            )
    return out
