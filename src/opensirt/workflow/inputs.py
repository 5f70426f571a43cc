"""Reading the images of a case and checking that they belong together.

The work-up needs a CT, an emission image (Tc-99m MAA SPECT or Ho-166 scout SPECT) in the
CT's frame of reference (a hybrid SPECT/CT), and structures drawn on the CT. Everything that
can be wrong with them is found here, before any computation, with a message that names the
file and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pydicom

from opensirt.errors import ImageReadError, InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_io import read_image
from opensirt.imaging.dicom_seg import read_dicom_seg
from opensirt.imaging.nifti_io import read_nifti_labels
from opensirt.imaging.rtstruct import read_rtstruct
from opensirt.imaging.segmentation import Segmentation
from opensirt.planning.case import Case, Images


@dataclass(frozen=True)
class StructureRoles:
    """Which structure of the segmentation plays which role.

    ``territories`` maps each perfused territory of the case to a structure name.
    """

    liver: str
    lungs: str | None
    tumours: tuple[str, ...]
    territories: Mapping[str, str]

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every structure name the roles use, each once."""
        names = [self.liver, *([self.lungs] if self.lungs else []), *self.tumours]
        names += [n for n in self.territories.values() if n not in names]
        return tuple(dict.fromkeys(names))


def structure_roles(case: Case) -> StructureRoles:
    """The roles of the case file's ``images.structures``.

    When the case has a single territory and no territory mapping, that territory is the
    whole liver.
    """
    images = _images(case)
    mapping = dict(images.structures.territories)
    missing = [t.name for t in case.territories if t.name not in mapping]
    if missing and len(case.territories) == 1:
        mapping[missing[0]] = images.structures.liver
    elif missing:
        raise InputError(
            f"images.structures.territories has no structure for territory {missing[0]!r}; "
            "map every territory to its structure (e.g. {right lobe: RightLobe})"
        )
    return StructureRoles(
        liver=images.structures.liver,
        lungs=images.structures.lungs,
        tumours=tuple(images.structures.tumours),
        territories=mapping,
    )


def _images(case: Case) -> Images:
    if case.images is None:
        raise InputError("the case file has no images: section (ct, spect, segmentation)")
    return case.images


def _exists(path: Path, key: str) -> Path:
    if not path.exists():
        raise InputError(
            f"images.{key} is {path}, which does not exist; give a DICOM series folder or file "
            "(or a NIfTI file), relative to the case file"
        )
    return path


def read_segmentation(
    path: Path, reference: Volume, labels: Mapping[int, str] | None = None
) -> Segmentation:
    """Structures from an RTSTRUCT, a DICOM SEG or a NIfTI label map, on ``reference``'s grid.

    The kind is taken from the file: NIfTI by its extension (``labels`` names its values),
    DICOM by its Modality (RTSTRUCT or SEG).
    """
    if path.name.lower().endswith((".nii", ".nii.gz")):
        if not labels:
            raise InputError(
                f"{path} is a NIfTI label map, which carries no structure names; add "
                "images.labels to the case file (e.g. {1: Liver, 2: Lungs, 3: T1})"
            )
        return read_nifti_labels(path, labels, reference)
    try:
        modality = str(pydicom.dcmread(path, stop_before_pixels=True).get("Modality", ""))
    except (pydicom.errors.InvalidDicomError, OSError, IsADirectoryError) as exc:
        raise ImageReadError(
            f"{path} is not a readable DICOM file ({exc}); give an RTSTRUCT or SEG file, or a "
            "NIfTI label map"
        ) from exc
    if modality == "RTSTRUCT":
        return read_rtstruct(path, reference)
    if modality == "SEG":
        return read_dicom_seg(path, reference)
    raise ImageReadError(
        f"{path} has Modality {modality!r}, expected an RTSTRUCT or SEG segmentation"
    )


@dataclass(frozen=True)
class CaseImages:
    """The images of one emission study with their CT and structures, checked."""

    ct: Volume
    emission: Volume
    segmentation: Segmentation
    roles: StructureRoles
    sources: Mapping[str, Path]


def _check_roles(segmentation: Segmentation, roles: StructureRoles) -> None:
    """Every role's structure exists and is not empty (the reader's messages name it)."""
    if roles.lungs is None:
        raise InputError(
            "images.structures.lungs is not given; the lungs are needed for the lung shunt "
            "and the lung dose (name the lung structure, e.g. lungs: Lungs)"
        )
    for name in roles.all_names:
        segmentation.get(name)


def load_images(
    case: Case, *, post_treatment: bool = False, read: CaseImages | None = None
) -> CaseImages:
    """Read and check the work-up (or, with ``post_treatment``, the verification) images.

    ``read``: images already read for this case (the work-up's); a CT or segmentation at the
    same path is taken from there instead of being read again.

    Raises
    ------
    InputError
        A missing file or series, a missing or empty structure, a structure role not given.
    GeometryError
        Emission image, CT and structures not in one frame of reference.
    ImageReadError
        A file that cannot be read, or a folder with several series.
    """
    images = _images(case)
    if post_treatment:
        if images.post_treatment is None:
            raise InputError(
                "images.post_treatment is not given; add the post-treatment Y-90 PET (or "
                "bremsstrahlung / Ho-166 SPECT) folder to the case file's images: section"
            )
        ct_path = images.post_ct or images.ct
        emission_path = _exists(images.post_treatment, "post_treatment")
        seg_path = images.post_segmentation or images.segmentation
    else:
        ct_path, emission_path, seg_path = images.ct, images.spect, images.segmentation
        _exists(emission_path, "spect")
    same = read is not None and read.sources["ct"] == ct_path
    ct = read.ct if read is not None and same else read_image(_exists(ct_path, "ct"), modality="CT")
    emission = read_image(emission_path)
    emission.require_same_frame(ct, f"emission image {emission_path} and CT {ct_path}")
    if emission.frame_of_reference_uid is None or ct.frame_of_reference_uid is None:
        raise InputError(
            f"emission image {emission_path} or CT {ct_path} has no frame of reference; "
            "OpenSIRT needs them registered (a hybrid SPECT/CT or PET/CT)"
        )
    if read is not None and same and read.sources["segmentation"] == seg_path:
        segmentation = read.segmentation
    else:
        segmentation = read_segmentation(_exists(seg_path, "segmentation"), ct, images.labels)
    roles = structure_roles(case)
    _check_roles(segmentation, roles)
    sources = {"ct": ct_path, "emission": emission_path, "segmentation": seg_path}
    return CaseImages(ct, emission, segmentation, roles, sources)
