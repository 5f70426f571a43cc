"""Reading the images of a case and checking that they belong together.

The work-up needs a CT, an emission image (Tc-99m MAA SPECT or Ho-166 scout SPECT) in the
CT's frame of reference (a hybrid SPECT/CT) or with its own CT to register
(:mod:`opensirt.workflow.study_frame`), and structures drawn on the CT. Everything that
can be wrong with them is found here, before any computation, with a message that names the
file and the fix.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from opensirt.errors import ImageReadError, InputError
from opensirt.imaging import Volume
from opensirt.imaging.dicom_file import as_read_error, read_dataset
from opensirt.imaging.dicom_io import read_dicom_files, read_image
from opensirt.imaging.dicom_meta import MetaKey
from opensirt.imaging.dicom_seg import read_dicom_seg
from opensirt.imaging.dicom_series import (
    SEGMENTATION_MODALITIES,
    choose_series,
    dicom_source,
    is_zip,
    list_series,
)
from opensirt.imaging.nifti_io import read_nifti_labels
from opensirt.imaging.registration import Registration
from opensirt.imaging.rtstruct import read_rtstruct
from opensirt.imaging.segmentation import Segmentation
from opensirt.planning.case import Case, ImageKey, Images, SeriesChoice
from opensirt.workflow.plausibility import check_ct_structures, check_image_role
from opensirt.workflow.study_frame import StudyKeys, place_study

#: The modalities each image entry takes from a folder when no series is picked.
_ROLE_KINDS: dict[ImageKey, frozenset[str]] = {
    "ct": frozenset({"CT"}),
    "post_ct": frozenset({"CT"}),
    "spect_ct": frozenset({"CT"}),
    "spect": frozenset({"NM"}),
    "post_treatment": frozenset({"PT", "NM"}),
    "segmentation": SEGMENTATION_MODALITIES,
    "post_segmentation": SEGMENTATION_MODALITIES,
}


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

    Parameters
    ----------
    case : Case
        A case file with an ``images:`` section.

    Returns
    -------
    StructureRoles
        The liver, lungs, tumour and territory structure names of the segmentation.

    Raises
    ------
    InputError
        When a territory of several has no structure in ``images.structures.territories``.
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


#: System folders that hold no images (reading them may never end).
_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _exists(path: Path, key: str) -> Path:
    """``path`` if it is an image file or a folder of regular files; checked before any
    reading, so that a FIFO, a device or a system folder is refused at once."""
    if not path.exists():
        raise InputError(
            f"images.{key} is {path}, which does not exist; give a DICOM series folder or file "
            "(or a NIfTI file), relative to the case file"
        )
    resolved = path.resolve()
    if any(resolved == top or top in resolved.parents for top in _SYSTEM_FOLDERS):
        raise InputError(
            f"images.{key} is {path}, a system folder ({resolved}), expected a DICOM series "
            "folder or file (or a NIfTI file)"
        )
    files = [path]
    if path.is_dir():
        files = [Path(root) / name for root, _, names in os.walk(path) for name in names]
    for file in files:
        try:
            mode = os.stat(file).st_mode
        except OSError:
            continue  # the reader skips a file it cannot read, with a warning
        if not stat.S_ISREG(mode):
            raise InputError(
                f"images.{key}: {file} is not a regular file (a FIFO, device or socket); "
                "expected DICOM or NIfTI files only. Fix: remove it or copy the images"
            )
    return path


def _is_nifti(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith((".nii", ".nii.gz"))


def _how_to_pick(key: ImageKey, path: Path) -> str:
    """The case-file line that picks a series of ``images.<key>``."""
    kinds = sorted(_ROLE_KINDS[key])
    modality = kinds[0] if len(kinds) == 1 else f"<{'|'.join(kinds)}>"
    return (
        f"images.{key}: {{path: {path}, series_uid: <SeriesInstanceUID>}} (or {{path: {path}, "
        f"modality: {modality}, description: <part of the SeriesDescription, or a glob such "
        "as 'MAA*'>})"
    )


@contextmanager
def _chosen_files(key: ImageKey, path: Path, choice: SeriesChoice | None) -> Iterator[list[Path]]:
    """The files of the series ``images.<key>`` means, in a folder, DICOMDIR or zip."""
    with dicom_source(path) as root:
        chosen = choose_series(
            path,
            list_series(root),
            series_uid=choice.series_uid if choice else None,
            modality=choice.modality if choice else None,
            description=choice.description if choice else None,
            kinds=_ROLE_KINDS[key],
            how_to_pick=_how_to_pick(key, path),
        )
        yield list(chosen.paths)


def read_role_image(images: Images, key: ImageKey, path: Path) -> Volume:
    """The image of ``images.<key>``: a NIfTI file, or the series picked in a DICOM file,
    folder, DICOMDIR or zip (by ``images.series``, else by the role's modality).

    Parameters
    ----------
    images : Images
        The case file's ``images:`` section (its ``series`` choices).
    key : ImageKey
        The role, e.g. ``"ct"``, ``"spect"``, ``"post_treatment"``.
    path : Path
        The file, folder, DICOMDIR or zip that the case file gives for that role.

    Returns
    -------
    Volume
        The image in its own units (HU, counts, Bq/mL) and patient-frame geometry (mm).
    """
    if _is_nifti(path):
        return read_image(path)
    with _chosen_files(key, path, images.series.get(key)) as files:
        return read_dicom_files(files)


def read_segmentation(
    path: Path,
    reference: Volume,
    labels: Mapping[int, str] | None = None,
    *,
    key: ImageKey = "segmentation",
    choice: SeriesChoice | None = None,
) -> Segmentation:
    """Structures from an RTSTRUCT, a DICOM SEG or a NIfTI label map, on ``reference``'s grid.

    The kind is taken from the file: NIfTI by its extension (``labels`` names its values),
    DICOM by its Modality (RTSTRUCT or SEG). A folder, DICOMDIR or zip is searched for the
    one RTSTRUCT or SEG series (or the one ``choice`` picks) of ``images.<key>``.

    Parameters
    ----------
    path : Path
        The segmentation file, or a folder, DICOMDIR or zip holding it.
    reference : Volume
        The image (the CT) whose grid the structures are put on.
    labels : mapping of int to str, optional
        Label value to structure name, for a NIfTI label map (required there).
    key : ImageKey, optional
        The case file key it comes from, for messages (default ``"segmentation"``).
    choice : SeriesChoice, optional
        The series to pick in a folder of several (``images.series``).

    Returns
    -------
    Segmentation
        The named structures on ``reference``'s grid.

    Raises
    ------
    InputError
        A NIfTI label map without ``labels``.
    ImageReadError
        A file that is not an RTSTRUCT, SEG or NIfTI label map, or a series of several files.
    """
    if not _is_nifti(path) and (
        path.is_dir() or choice is not None or path.name.upper() == "DICOMDIR" or is_zip(path)
    ):
        with _chosen_files(key, path, choice) as files:
            if len(files) != 1:
                raise ImageReadError(
                    f"images.{key}: the series picked in {path} has {len(files)} files, "
                    "expected one RTSTRUCT or SEG file"
                )
            found = read_segmentation(files[0], reference, labels)
            return replace(found, source=f"{path} ({files[0].name})")
    if path.name.lower().endswith((".nii", ".nii.gz")):
        if not labels:
            raise InputError(
                f"{path} is a NIfTI label map, which carries no structure names; add "
                "images.labels to the case file (e.g. {1: Liver, 2: Lungs, 3: T1})"
            )
        return read_nifti_labels(path, labels, reference)
    try:
        with as_read_error(str(path), "a DICOM file"):
            modality = str(read_dataset(path, header_only=True).get("Modality", ""))
    except ImageReadError as exc:
        raise ImageReadError(f"{exc}; give an RTSTRUCT or SEG file, or a NIfTI label map") from exc
    if modality == "RTSTRUCT":
        return read_rtstruct(path, reference)
    if modality == "SEG":
        return read_dicom_seg(path, reference)
    raise ImageReadError(
        f"{path} has Modality {modality!r}, expected an RTSTRUCT or SEG segmentation"
    )


@dataclass(frozen=True)
class CaseImages:
    """The images of one emission study with their CT and structures, checked.

    ``warnings`` holds what the readers and the plausibility checks found worth saying
    (each repeated per-file warning once, with the number of files). ``registration`` is how
    the emission image was brought into the CT's frame, if it was
    (:mod:`opensirt.workflow.study_frame`); ``emission`` is then the resampled image, and
    ``study_ct`` the study's own CT in its own frame (None when none was registered).
    """

    ct: Volume
    emission: Volume
    segmentation: Segmentation
    roles: StructureRoles
    sources: Mapping[str, Path]
    warnings: tuple[str, ...] = ()
    registration: Registration | None = None
    study_ct: Volume | None = None


def _check_roles(segmentation: Segmentation, roles: StructureRoles) -> None:
    """Every role's structure exists and is not empty (the reader's messages name it)."""
    if roles.lungs is None:
        raise InputError(
            "images.structures.lungs is not given; the lungs are needed for the lung shunt "
            "and the lung dose (name the lung structure, e.g. lungs: Lungs)"
        )
    for name in roles.all_names:
        segmentation.get(name)


_FILE_PREFIX = re.compile(r"^(?P<source>[^\s:][^:]*[/\\][^:]*): (?P<rest>.+)$", re.DOTALL)


def merge_file_warnings(messages: list[str]) -> list[str]:
    """Each message once; ``FILE: text`` repeated for many files once, with their number.

    Parameters
    ----------
    messages : list of str
        Warnings in the order raised; a per-file one starts with ``"<path>: "``.

    Returns
    -------
    list of str
        The distinct messages in first-seen order, a per-file one given once with
        ``"(and N other files)"``.

    Examples
    --------
    >>> merge_file_warnings(["a/1.dcm: no slope", "a/2.dcm: no slope", "other"])
    ['a/1.dcm: no slope (and 1 other file)', 'other']
    """
    groups: dict[str, list[str]] = {}
    for message in messages:
        match = _FILE_PREFIX.match(message)
        key = match["rest"] if match else message
        groups.setdefault(key, []).append(message)
    out = []
    for same in groups.values():
        distinct = list(dict.fromkeys(same))
        more = len(distinct) - 1
        out.append(
            distinct[0] + (f" (and {more} other file{'s' if more > 1 else ''})" * (more > 0))
        )
    return out


@contextmanager
def recorded_warnings() -> Iterator[list[str]]:
    """Record the warnings (``UserWarning``) raised in the block into the list it gives, to
    carry them into the result; other warnings (deprecations) pass on as usual.

    Yields
    ------
    list of str
        Empty inside the block; after it, the block's warning messages merged by
        :func:`merge_file_warnings`.
    """
    collected: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield collected
    for item in caught:
        if issubclass(item.category, UserWarning):
            collected.append(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    collected[:] = merge_file_warnings(collected)


def _read_checked(case: Case, key: ImageKey, path: Path, found: list[str]) -> Volume:
    volume = read_role_image(_images(case), key, _exists(path, key))
    found += check_image_role(key, path, volume, case.device)
    return volume


_T = TypeVar("_T")


def _reused(reader_warnings: tuple[str, ...], item: _T) -> _T:
    """``item``, read before, with its reader's warnings given again (to be recorded)."""
    for message in reader_warnings:
        warnings.warn(message, UserWarning, stacklevel=3)
    return item


def load_images(
    case: Case, *, post_treatment: bool = False, read: CaseImages | None = None
) -> CaseImages:
    """Read and check the work-up (or, with ``post_treatment``, the verification) images.

    Each image is checked against its role and the device, and the CT numbers under the
    structures against the organs (:mod:`opensirt.workflow.plausibility`). The readers'
    warnings are kept in :attr:`CaseImages.warnings`.

    Parameters
    ----------
    case : Case
        A case file with an ``images:`` section.
    post_treatment : bool, optional
        Read the post-treatment image (``images.post_treatment``, with its own CT and
        structures where given) instead of the work-up SPECT (default ``False``).
    read : CaseImages, optional
        Images already read for this case (the work-up's); a CT or segmentation at the same
        path is taken from there instead of being read again.

    Returns
    -------
    CaseImages
        The CT, the emission image in the CT's frame, the structures, their roles, the source
        paths, the warnings and the registration (if one was needed).

    Raises

    ------
    InputError
        A missing file or series, a missing or empty structure, a structure role not given,
        an image that does not fit its role, a CT not in HU or not matching its structures.
    GeometryError
        Emission image, CT and structures not in one frame of reference.
    ImageReadError
        A file that cannot be read, or a folder with several series and none picked.
    """
    images = _images(case)
    found: list[str] = []
    ct_key: ImageKey = "ct"
    emission_key: ImageKey = "spect"
    seg_key: ImageKey = "segmentation"
    if post_treatment:
        if images.post_treatment is None:
            raise InputError(
                "images.post_treatment is not given; add the post-treatment Y-90 PET (or "
                "bremsstrahlung / Ho-166 SPECT) folder to the case file's images: section"
            )
        emission_key, emission_path = "post_treatment", images.post_treatment
        ct_path, seg_path = images.ct, images.segmentation
        # structures on the planning CT: the study (with its own CT) is registered to it
        keys = StudyKeys(
            "post",
            "post_treatment",
            images.post_ct,
            images.post_registration,
            images.post_transform,
        )
        if images.post_segmentation:  # structures drawn on the study's own CT
            seg_key, seg_path = "post_segmentation", images.post_segmentation
            if images.post_ct:
                ct_key, ct_path = "post_ct", images.post_ct
            keys = StudyKeys("post", "post_treatment", None, None, None)
    else:
        ct_path, emission_path, seg_path = images.ct, images.spect, images.segmentation
        _exists(emission_path, emission_key)
        keys = StudyKeys(
            "spect", "spect", images.spect_ct, images.spect_registration, images.spect_transform
        )
    same_ct = read is not None and read.sources["ct"] == ct_path
    with recorded_warnings() as read_warnings:
        if read is not None and same_ct:
            ct = _reused(read.ct.metadata.get(MetaKey.READER_WARNINGS, ()), read.ct)
        else:
            ct = _read_checked(case, ct_key, ct_path, found)
        emission = _read_checked(case, emission_key, emission_path, found)
        if read is not None and same_ct and read.sources["segmentation"] == seg_path:
            segmentation = _reused(read.segmentation.warnings, read.segmentation)
        else:
            segmentation = read_segmentation(
                _exists(seg_path, seg_key),
                ct,
                images.labels,
                key=seg_key,
                choice=images.series.get(seg_key),
            )
        roles = structure_roles(case)
        _check_roles(segmentation, roles)
        found += check_ct_structures(
            ct,
            segmentation,
            ct_path,
            liver=roles.liver,
            lungs=roles.lungs,
            territories=tuple(roles.territories.values()),
            tumours=roles.tumours,
        )
        own_ct = None
        if keys.own_ct is not None and keys.own_ct != ct_path:
            own_key: ImageKey = "post_ct" if post_treatment else "spect_ct"
            own_ct = _read_checked(case, own_key, keys.own_ct, found)
        placed = place_study(
            emission, emission_path, ct, ct_path, segmentation.get(roles.liver), keys, own_ct
        )
    emission, ct, ct_path = placed.emission, placed.ct, placed.ct_path
    if emission.frame_of_reference_uid is None or ct.frame_of_reference_uid is None:
        raise InputError(
            f"emission image {emission_path} or CT {ct_path} has no frame of reference; "
            "OpenSIRT needs them registered (a hybrid SPECT/CT or PET/CT)"
        )
    sources = {"ct": ct_path, "emission": emission_path, "segmentation": seg_path}
    return CaseImages(
        ct,
        emission,
        segmentation,
        roles,
        sources,
        (*read_warnings, *found),
        placed.registration,
        placed.study_ct,
    )
