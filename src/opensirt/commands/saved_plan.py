"""Reuse of a saved plan by ``opensirt verify`` and ``opensirt assess``.

``opensirt plan CASE --out FOLDER`` (and ``opensirt demo``, in ``demo-output/plan``) saves
the costly part of a plan from images in ``FOLDER/plan_state.npz``
(:mod:`opensirt.workflow.plan_state`) with the fingerprints of what it was made from:

* every work-up input file or folder (CT, SPECT, segmentation, and the SPECT's own CT and
  transform where the case gives them): SHA-256 of the content
  (:func:`opensirt.report.provenance.fingerprint_path`);
* the case file's planning content: the case as read, without its ``treatment:`` section
  and the post-treatment images (``images.post_*``), which a plan does not use, so that
  adding the treatment record after planning keeps the plan reusable;
* the versions of OpenSIRT, Python, NumPy, SciPy, pydicom, SimpleITK and matplotlib.

A later verification or assessment of the same case finds it (``--plan FOLDER``, or by
default the folder ``plan`` beside the case file, as ``opensirt demo`` lays it out) and
reuses it only when every fingerprint matches the current inputs; otherwise it says in one
line which input differs and computes the plan from the images again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensirt.errors import InputError
from opensirt.planning.case import Case
from opensirt.planning.case_dosimetry import case_dosimetry
from opensirt.report.provenance import Provenance, collect_provenance, display_path
from opensirt.workflow.inputs import load_images
from opensirt.workflow.plan_state import PLAN_STATE_FILE, plan_from_state, read_plan_state
from opensirt.workflow.pretreatment import PreTreatmentResult, Progress, plan_from_images

#: The plan folder looked for beside the case file when no ``--plan`` is given (the layout of
#: ``opensirt demo``).
DEFAULT_PLAN_FOLDER = "plan"

#: Case keys that a plan does not use: left out of its fingerprint.
_NOT_PLANNING: dict[str, Any] = {
    "treatment": True,
    "images": {
        "post_treatment",
        "post_ct",
        "post_segmentation",
        "post_registration",
        "post_transform",
    },
}


#: The keys of ``images:`` that name the work-up inputs.
_WORKUP_IMAGES = ("ct", "spect", "segmentation", "spect_ct", "spect_transform")


def planning_inputs(case: Case) -> dict[str, Path]:
    """The work-up input files and folders of ``case``, labelled.

    Parameters
    ----------
    case : Case
        A case file with an ``images:`` section.

    Returns
    -------
    dict of str to Path
        Label (``"image: ct"``, ...) to the path the case file gives.
    """
    if case.images is None:
        return {}
    named = {key: getattr(case.images, key) for key in _WORKUP_IMAGES}
    return {f"image: {key}": path for key, path in named.items() if path is not None}


def planning_provenance(case: Case, case_path: Path) -> Provenance:
    """Fingerprints of what a plan from the images of ``case`` is made from.

    Parameters
    ----------
    case : Case
        The case file as read.
    case_path : Path
        Its path; input paths are recorded relative to its folder.

    Returns
    -------
    Provenance
        The work-up inputs' fingerprints, the software versions, and the fingerprint of the
        case's planning content as its settings (its image paths relative to the case
        file's folder, so that the case and its images can move together).
    """
    settings = case.model_dump(mode="json", exclude=_NOT_PLANNING)
    # the method resolved, so that a change of the default method is a change of settings
    settings["dosimetry"] = case_dosimetry(case).model_dump(mode="json")
    images = settings.get("images")
    if isinstance(images, dict):
        for key in _WORKUP_IMAGES:
            if images.get(key) is not None:
                images[key] = display_path(images[key], case_path.parent)
    return collect_provenance(
        planning_inputs(case), settings=settings, relative_to=case_path.parent
    )


def provenance_record(provenance: Provenance) -> dict[str, Any]:
    """A :class:`~opensirt.report.provenance.Provenance` as JSON-ready data.

    Parameters
    ----------
    provenance : Provenance
        The fingerprints to record.

    Returns
    -------
    dict
        ``fingerprint`` (combined SHA-256), ``software``, ``settings_sha256`` and ``inputs``
        (label, path, kind, sha256, n_files each).
    """
    return {
        "fingerprint": provenance.combined_fingerprint,
        "software": dict(provenance.software),
        "settings_sha256": provenance.settings_sha256,
        "inputs": [
            {
                "label": item.label,
                "path": item.path,
                "kind": item.kind.value,
                "sha256": item.sha256,
                "n_files": item.n_files,
            }
            for item in provenance.inputs
        ],
    }


def provenance_difference(saved: Mapping[str, Any], current: Provenance) -> str | None:
    """What differs between a saved plan's provenance record and the current inputs.

    Parameters
    ----------
    saved : mapping
        The record saved with the plan (:func:`provenance_record`).
    current : Provenance
        The fingerprints of the current inputs (:func:`planning_provenance`).

    Returns
    -------
    str or None
        The first difference, in words (the software first, then each input, then the case
        file's planning content); ``None`` when everything matches.
    """
    software = saved.get("software", {})
    for name, here in current.software.items():
        if software.get(name) != here:
            return f"it was made with {name} {software.get(name)}, this is {name} {here}"
    inputs = {item.get("label"): item for item in saved.get("inputs", [])}
    for item in current.inputs:
        old = inputs.pop(item.label, None)
        if old is None:
            return f"{item.label} ({item.path}) was not an input of the saved plan"
        if old.get("sha256") != item.sha256:
            return f"{item.label} ({item.path}) differs from the one planned with"
    if inputs:
        return f"{sorted(map(str, inputs))[0]} was an input of the saved plan, not of this case"
    if saved.get("settings_sha256") != current.settings_sha256:
        return (
            "the case file differs from the one planned (beyond treatment: and the "
            "post-treatment images)"
        )
    if saved.get("fingerprint") != current.combined_fingerprint:
        return "its combined fingerprint differs from that of the current inputs"
    return None


@dataclass(frozen=True)
class SavedPlanRef:
    """Which saved plan a result reused.

    Attributes
    ----------
    path : Path
        The saved state file.
    fingerprint : str
        The combined SHA-256 of its inputs, settings and software (64 hexadecimal digits).
    """

    path: Path
    fingerprint: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form.

        Returns
        -------
        dict of str to str
            ``path`` and ``fingerprint``.
        """
        return {"path": str(self.path), "fingerprint": self.fingerprint}


@dataclass(frozen=True, eq=False)
class Prediction:
    """The plan a verification or an assessment compares with, and where it came from.

    Attributes
    ----------
    pre : PreTreatmentResult
        The plan from images.
    reused : SavedPlanRef or None
        The saved plan it was restored from; ``None`` when computed from the images.
    note : str or None
        One line for the user: which saved plan was reused, or why none was.
    """

    pre: PreTreatmentResult
    reused: SavedPlanRef | None
    note: str | None


def _restored(
    case: Case, case_path: Path, state_path: Path, progress: Progress
) -> Prediction | str:
    """The prediction from the saved state, or why it cannot be used."""
    try:
        state = read_plan_state(state_path)
    except InputError as exc:
        return f"saved plan {state_path} not reused: {exc}"
    current = planning_provenance(case, case_path)
    why = provenance_difference(state.provenance, current)
    if why is not None:
        return f"saved plan {state_path} not reused: {why}"
    progress("reading the CT, the SPECT and the structures (plan state saved)")
    images = load_images(case)
    pre = plan_from_state(case, images, state, progress=progress)
    reused = SavedPlanRef(state_path, current.combined_fingerprint)
    note = f"reused the saved plan {state_path} (fingerprint {current.short_fingerprint})"
    return Prediction(pre, reused, note)


def predict(
    case: Case,
    case_path: Path,
    plan_dir: Path | None,
    *,
    reuse: bool,
    progress: Progress,
) -> Prediction:
    """The plan of ``case`` from its saved state where every fingerprint matches, else from
    its images.

    Parameters
    ----------
    case : Case
        The case file as read (with ``images:``).
    case_path : Path
        Its path (its folder holds the default plan folder).
    plan_dir : Path or None
        The folder of ``opensirt plan --out``; ``None`` looks for :data:`DEFAULT_PLAN_FOLDER`
        beside the case file and computes the plan when there is none.
    reuse : bool
        ``False`` always computes the plan from the images.
    progress : callable
        Called with the name of each step as it starts.

    Returns
    -------
    Prediction
        The plan, the saved plan reused (if any) and a line for the user.

    Raises
    ------
    InputError
        When ``plan_dir`` is given but holds no saved plan state.
    """
    folder = plan_dir if plan_dir is not None else case_path.parent / DEFAULT_PLAN_FOLDER
    state_path = folder / PLAN_STATE_FILE
    note = None
    if not reuse:
        note = "the plan is computed from the images (--recompute)"
    elif state_path.is_file():
        restored = _restored(case, case_path, state_path, progress)
        if isinstance(restored, Prediction):
            return restored
        note = f"{restored}; the plan is computed from the images"
    elif plan_dir is not None:
        raise InputError(
            f"--plan {plan_dir}: holds no {PLAN_STATE_FILE}, expected the folder that "
            "`opensirt plan CASE --out FOLDER` wrote from the case's images; plan again, or "
            "leave --plan out to compute the plan from the images"
        )
    return Prediction(plan_from_images(case, progress), None, note)
