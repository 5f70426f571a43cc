"""The viewer's volumes of a plan version: the CT, the predicted dose and the structures as
a label map (NIfTI), with the label names and colours.

The dose is the NIfTI the plan writer put beside the recorded RT Dose. The CT and the
structures are read again from the images of the version's case file (its stored text; image
paths relative to the folder above the plan's output folder, the layout ``opensirt demo``
writes) and cached per plan version in the service's cache folder, so they are read once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from opensirt.api.registry_routes import plan_version
from opensirt.api.state import CurrentUser, current_user, service
from opensirt.errors import OpenSIRTError
from opensirt.imaging.nifti_io import write_nifti
from opensirt.planning.case_file import parse_case
from opensirt.workflow.inputs import read_role_image, read_segmentation

router = APIRouter(prefix="/api", tags=["viewer"])

#: Colours of the structures, in label order: the Okabe-Ito palette, distinguishable with
#: the common colour-vision deficiencies (Okabe & Ito 2008, "Color Universal Design").
PALETTE = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
)  # fmt: skip

_lock = threading.Lock()


def _case_folder(rtdose_path: str | None, version_id: int) -> Path:
    if rtdose_path is None:
        raise HTTPException(404, f"plan version {version_id} was not planned from images")
    return Path(rtdose_path).parent.parent


def build_volumes(case_yaml: str, base_dir: Path, folder: Path) -> None:
    """Write ``ct.nii.gz``, ``labels.nii.gz`` and ``labels.json`` of a case into a folder.

    Labels are numbered from 1 by decreasing structure volume, so that a smaller structure
    inside a larger one (a tumour in the liver) keeps its own label; a structure wholly
    covered by smaller ones (a liver split into its lobes) then has no voxel of its own.

    Parameters
    ----------
    case_yaml : str
        The case file's text, as the registry stored it.
    base_dir : pathlib.Path
        The folder its relative image paths start from.
    folder : pathlib.Path
        Where the files go (created).
    """
    case = parse_case(yaml.safe_load(case_yaml), source="the plan's case file", base_dir=base_dir)
    if case.images is None:
        raise OpenSIRTError("the plan's case file has no images")
    images = case.images
    ct = read_role_image(images, "ct", images.ct)
    segmentation = read_segmentation(
        images.segmentation, ct, images.labels, choice=images.series.get("segmentation")
    )
    masks = {name: np.asarray(segmentation.get(name, allow_empty=True).array, bool)
             for name in segmentation.names}  # fmt: skip
    order = sorted(masks, key=lambda name: -int(masks[name].sum()))
    labels = np.zeros(ct.array.shape, np.uint8)
    legend: dict[str, dict[str, Any]] = {}
    for value, name in enumerate(order[:255], start=1):
        labels[masks[name]] = value
        legend[str(value)] = {"name": name, "colour": PALETTE[(value - 1) % len(PALETTE)]}
    folder.mkdir(parents=True, exist_ok=True)
    write_nifti(ct, folder / "ct.nii.gz")
    write_nifti(ct.with_array(labels, units="label"), folder / "labels.nii.gz")
    (folder / "labels.json").write_text(json.dumps(legend, indent=1), encoding="utf-8")


def _volume(request: Request, version_id: int, name: str, scope: str | None) -> Path:
    state = service(request)
    with state.registry.transaction(readonly=True) as session:
        version = plan_version(session, version_id, scope)
        case_yaml, rtdose = version.case_yaml, version.rtdose_path
        fingerprint = version.input_fingerprint
    # keyed by the inputs too: a draft replaced in place keeps its id
    folder = state.settings.cache_dir / f"plan-version-{version_id}-{fingerprint[:16]}"
    with _lock:
        if not (folder / "labels.json").is_file():
            try:
                build_volumes(case_yaml, _case_folder(rtdose, version_id), folder)
            except (OpenSIRTError, OSError) as exc:
                raise HTTPException(
                    404, f"the images of plan version {version_id} cannot be read: {exc}"
                ) from None
    return folder / name


def _route(name: str, media_type: str) -> None:
    def endpoint(
        request: Request, version_id: int, user: Annotated[CurrentUser, Depends(current_user)]
    ) -> FileResponse:
        path = _volume(request, version_id, name, user.scope)
        return FileResponse(path, media_type=media_type)

    endpoint.__doc__ = f"The viewer's {name} of a plan version (read from its images once)."
    router.add_api_route(
        f"/plans/{{version_id}}/volumes/{name}",
        endpoint,
        methods=["GET"],
        response_class=FileResponse,
        name=f"volume-{name}",
    )


for _name, _type in (
    ("ct.nii.gz", "application/gzip"),
    ("labels.nii.gz", "application/gzip"),
    ("labels.json", "application/json"),
):
    _route(_name, _type)
