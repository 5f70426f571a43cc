"""Downloads of a plan version's files: the PDF report, the RT Dose, the DVH table and the
predicted dose as NIfTI for the viewer.

Only files the registry recorded are served: the version's ``report_path`` and
``rtdose_path``, and the DVH table and the dose NIfTI that the plan writer puts beside the RT
Dose (``<stem>_rtdose.dcm``, ``<stem>_dvh.csv``, ``<stem>_dose.nii.gz``). No path ever comes
from the request; a file that is gone is 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from opensirt.api.registry_routes import plan_version
from opensirt.api.state import CurrentUser, current_user, service
from opensirt.registry import audit

router = APIRouter(prefix="/api", tags=["downloads"])

_RTDOSE_SUFFIX = "_rtdose.dcm"

#: name in the URL -> (the recorded column or the sibling of the RT Dose, media type)
_FILES = {
    "report.pdf": ("report_path", "application/pdf"),
    "rtdose.dcm": ("rtdose_path", "application/dicom"),
    "dvh.csv": ("_dvh.csv", "text/csv"),
    "volumes/dose.nii.gz": ("_dose.nii.gz", "application/gzip"),
}


def _recorded_file(recorded: dict[str, str | None], which: str) -> Path | None:
    """The path of a download from the version's recorded paths, or None."""
    if which.endswith("_path"):
        found = recorded[which]
        return None if found is None else Path(found)
    rtdose = recorded["rtdose_path"]
    if rtdose is None or not rtdose.endswith(_RTDOSE_SUFFIX):
        return None
    path = Path(rtdose)
    return path.with_name(path.name.removesuffix(_RTDOSE_SUFFIX) + which)


def _download(request: Request, user: CurrentUser, version_id: int, name: str) -> FileResponse:
    which, media_type = _FILES[name]
    state = service(request)
    with state.registry.transaction(actor=user.user_name) as session:
        version = plan_version(session, version_id, user.scope)
        recorded = {"report_path": version.report_path, "rtdose_path": version.rtdose_path}
        path = _recorded_file(recorded, which)
        if path is None or not path.is_file():
            raise HTTPException(404, f"plan version {version_id} has no {name} (or it is gone)")
        audit.append(
            session,
            actor=user.user_name,
            action=audit.AuditAction.EXPORT,
            entity="plan_versions",
            key=str(version_id),
            detail={"file": name},
        )
    filename = f"plan-{version_id}-{name.rsplit('/', 1)[-1]}"
    return FileResponse(path, media_type=media_type, filename=filename)


def _route(name: str) -> None:
    def endpoint(
        request: Request, version_id: int, user: Annotated[CurrentUser, Depends(current_user)]
    ) -> FileResponse:
        return _download(request, user, version_id, name)

    endpoint.__doc__ = f"The plan version's {name} (404 when it has none or the file is gone)."
    router.add_api_route(
        f"/plans/{{version_id}}/{name}",
        endpoint,
        methods=["GET"],
        response_class=FileResponse,
        name=f"plan-{name}",
    )


for _name in _FILES:
    _route(_name)
