"""Bringing an emission study into the planning CT's frame of reference.

An emission image (work-up SPECT or post-treatment PET/SPECT) acquired with its own CT in
another frame of reference than the planning CT is registered through its CT
(:func:`opensirt.imaging.registration.register_ct`) or with a transform file given in the case
(:func:`opensirt.imaging.registration.read_registration`), then resampled into the planning
frame. The case-file keys (``images.post_*`` or ``images.spect_*``):

* ``*_registration``: ``rigid`` (default when the frames differ), ``deformable``, or ``none``
  (no registration: different frames are refused);
* ``*_transform``: an ITK transform file (planning points to the study's points) used
  instead of computing one; with the study's CT it passes the same quality check;
* ``post_ct`` / ``spect_ct``: the study's own CT, registered to the planning CT.

Nothing changes for a study in the planning frame without an explicit registration key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opensirt.errors import GeometryError, InputError
from opensirt.imaging import Volume
from opensirt.imaging.registration import (
    Registration,
    RegistrationMethod,
    read_registration,
    register_ct,
)
from opensirt.imaging.registration_resample import resample_into_frame


@dataclass(frozen=True)
class StudyKeys:
    """The case file's registration inputs of one emission study.

    ``prefix`` names the keys (``"post"`` or ``"spect"``), ``emission_key`` the image's key.
    """

    prefix: str
    emission_key: str
    own_ct: Path | None
    method: str | None
    transform: Path | None


@dataclass(frozen=True, eq=False)
class PlacedStudy:
    """The emission image in the planning frame, the CT for its density, how it got there.

    ``study_ct`` is the study's own CT in its own frame when it was registered to the
    planning CT (for the report's checkerboard of the two CTs), else None.
    """

    emission: Volume
    ct: Volume
    ct_path: Path
    registration: Registration | None
    study_ct: Volume | None = None


def place_study(
    emission: Volume,
    emission_path: Path,
    planning_ct: Volume,
    planning_ct_path: Path,
    liver: Volume,
    keys: StudyKeys,
    own_ct: Volume | None,
) -> PlacedStudy:
    """``emission`` in ``planning_ct``'s frame, registered when its frame differs.

    Parameters
    ----------
    emission : Volume
        As read, in its own frame.
    emission_path : Path
        Where it was read from, for messages.
    planning_ct : Volume
        The CT the structures are drawn on.
    planning_ct_path : Path
        Where that CT was read from, for messages.
    liver : Volume
        Liver structure (boolean) on ``planning_ct``'s grid: the registration region.
    keys : StudyKeys
        The case file keys of this study (its own CT, registration kind and transform).
    own_ct : Volume or None
        The study's own CT (``keys.own_ct``), read and checked by the caller; None without one.

    Returns
    -------
    PlacedStudy
        The emission image on its grid in the planning CT's frame, and the registration that
        placed it (``None`` when the frames already agreed).


    Raises
    ------
    InputError
        Contradictory keys (``none`` with a transform; a registration without a CT).
    GeometryError
        Different frames without a CT or transform to register them, or with ``none``.
    RegistrationError
        The registration fails its quality check.
    """
    ct_key = f"{keys.prefix}_ct"
    own_path = keys.own_ct if own_ct is not None else None
    if own_ct is not None:
        emission.require_same_frame(own_ct, f"emission image {emission_path} and CT {own_path}")
    frames = (emission.frame_of_reference_uid, planning_ct.frame_of_reference_uid)
    differ = bool(frames[0] and frames[1] and frames[0] != frames[1])
    method = RegistrationMethod(keys.method or ("rigid" if differ else "none"))
    what = f"images.{keys.emission_key} {emission_path.name} to the planning CT"
    if keys.transform is not None and keys.method == RegistrationMethod.NONE:
        raise InputError(
            f"images.{keys.prefix}_registration is none but images.{keys.prefix}_transform "
            f"is given ({keys.transform}); remove one of the two"
        )
    if keys.transform is not None:
        registration = read_registration(keys.transform, planning_ct, liver, own_ct, what=what)
    elif method == RegistrationMethod.NONE:
        if differ:
            raise GeometryError(
                f"emission image {emission_path} and CT {planning_ct_path} are in different "
                f"frames of reference ({emission.frame_of_reference_uid} vs "
                f"{planning_ct.frame_of_reference_uid}) and images.{keys.prefix}_registration "
                f"is none; give images.{ct_key} (the study's own CT) to register it, or "
                f"images.{keys.prefix}_transform"
            )
        ct = own_ct if own_ct is not None else planning_ct
        return PlacedStudy(emission, ct, own_path or planning_ct_path, None)
    elif own_ct is None and not differ:
        raise InputError(
            f"images.{keys.prefix}_registration is {method.value}, but the study has no CT of "
            f"its own to register; give images.{ct_key} (the emission study's CT), or remove "
            f"images.{keys.prefix}_registration for a study in the planning CT's frame"
        )
    elif own_ct is None:
        raise GeometryError(
            f"emission image {emission_path} and CT {planning_ct_path} are in different "
            f"frames of reference ({emission.frame_of_reference_uid} vs "
            f"{planning_ct.frame_of_reference_uid}): they are not registered; give "
            f"images.{ct_key} (the emission study's own CT) so that OpenSIRT registers it "
            f"to the planning CT, or images.{keys.prefix}_transform (an ITK transform file)"
        )
    else:
        registration = register_ct(planning_ct, liver, own_ct, method=method, what=what)
    resampled, registration = resample_into_frame(emission, registration, planning_ct)
    return PlacedStudy(resampled, planning_ct, planning_ct_path, registration, own_ct)
