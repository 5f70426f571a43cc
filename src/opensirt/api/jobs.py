"""Background jobs: a case planned or a treatment verified from uploaded images, with progress
the page polls.

``POST /api/jobs/plan`` takes a case file and a zip of its DICOM (image paths in the case file
relative to the zip's root), unpacks them into a folder of the job (:mod:`opensirt.api.uploads`)
and answers at once with the job's id; one worker thread runs the jobs in turn, each as
``opensirt plan --record`` in a process of its own, which writes the plan's report, RT Dose,
DVH and NIfTI into the job's folder and records the plan as a draft version, by the user who
started it. ``POST /api/jobs/verify`` does the same with ``opensirt verify --record``: a case
file with ``images.post_treatment`` and ``treatment:`` (or the case of a recorded plan
version) and the zip of the work-up and post-treatment DICOM; the verification is recorded,
linked to the SIRT session of its treatment. ``GET /api/jobs/{id}`` tells the state, the
progress and, when done, the links to the plan or the verification. The job's row is in the
registry, its progress too (the fraction done and the step, one write per step, without an
audit entry), so every worker of ``opensirt serve --workers N`` answers for every job; a
service stopped while a job ran marks it failed at its next start (:func:`fail_interrupted`).
With sites (``opensirt serve --sites``) a job is seen only by users of the site of the user
who started it, and runs only on a patient of that site.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse

import opensirt
from opensirt.api.registry_routes import plan_version as find_plan_version
from opensirt.api.settings import Settings
from opensirt.api.state import CurrentUser, current_user, require_role, service
from opensirt.api.uploads import unpack_dicom_zip
from opensirt.errors import InputError, OpenSIRTError
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
from opensirt.registry import store
from opensirt.registry.database import DB_ENV, Registry
from opensirt.registry.models import Patient, Plan, PlanVersion, Verification
from opensirt.registry.models_jobs import Job
from opensirt.registry.vocabulary import UserRole
from opensirt.workflow.defaults import DEFAULT_TOLERANCE_FRACTION

router = APIRouter(prefix="/api", tags=["jobs"])

#: The error of a job that a stopped service left running.
INTERRUPTED = "the service stopped while this job ran; start it again"
#: The folder holding the ``opensirt`` package that runs the service.
_PACKAGE_ROOT = str(Path(opensirt.__file__).resolve().parents[1])
#: Steps of each kind of job (for the progress fraction). A plan from images: reading,
#: registration, lung shunt, methods, kernel, dose, the outputs, the recording; a
#: verification: the plan's steps, then reading the post-treatment image, its registration,
#: the delivered dose, the comparison.
_STEPS = {"plan": 8, "verify": 12}
#: The output folder of each kind of job, in the job's folder.
_OUT = {"plan": "plan", "verify": "verification"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fail_interrupted(registry: Registry) -> int:
    """Mark the jobs that a stopped service left queued or running as failed.

    Parameters
    ----------
    registry : Registry
        The registry.

    Returns
    -------
    int
        How many jobs were marked.
    """
    with registry.transaction(actor="opensirt-serve") as session:
        jobs = session.scalars(sa.select(Job).where(Job.state.in_(("queued", "running")))).all()
        for job in jobs:
            job.state, job.error, job.finished_at = "failed", INTERRUPTED, _now()
    return len(jobs)


class JobRunner:
    """One worker thread running the jobs in turn, writing their progress into their rows.

    Parameters
    ----------
    registry : Registry
        Where the jobs' rows and results are recorded.
    settings : Settings
        The service's settings (the jobs' folders lie under ``cache_dir``).
    """

    def __init__(self, registry: Registry, settings: Settings) -> None:
        self._registry = registry
        self.folder = settings.cache_dir / "jobs"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opensirt-job")

    def record_progress(self, job_id: str, fraction: float, step: str) -> None:
        """Write a running job's progress into its row, where every worker reads it.

        One UPDATE per step and no audit entry (a core statement, which the audit log's
        flush hook does not see: progress is no clinical record; the job's state changes
        are audited).

        Parameters
        ----------
        job_id : str
            The job.
        fraction : float
            The fraction done (0-1).
        step : str
            The current step's description (cut to 200 characters).
        """
        with self._registry.transaction() as session:
            session.execute(
                sa.update(Job).where(Job.id == job_id).values(progress=fraction, step=step[:200])
            )

    def _set(self, job_id: str, **values: Any) -> None:
        with self._registry.transaction(actor="opensirt-serve") as session:
            job = session.get_one(Job, job_id)
            for key, value in values.items():
                setattr(job, key, value)

    def submit(
        self,
        job_id: str,
        user_name: str,
        kind: str = "plan",
        options: tuple[str, ...] = (),
        scope: str | None = None,
    ) -> None:
        """Queue a job whose folder holds ``case.yaml`` and the images.

        Parameters
        ----------
        job_id : str
            The job (its row exists, queued).
        user_name : str
            Who started it: the author of the plan or the verification recorded.
        kind : {"plan", "verify"}, optional
            The command the job runs (default ``plan``).
        options : tuple of str, optional
            More options of the command (``--plan-label``, ``--tolerance`` ...).
        scope : str or None, optional
            The site of the user who started it (``CurrentUser.scope``): the case's patient
            must be of it, or the job fails as for an unknown patient.
        """
        self._pool.submit(self._run, job_id, user_name, kind, options, scope)

    def _run(
        self, job_id: str, user_name: str, kind: str, options: tuple[str, ...], scope: str | None
    ) -> None:
        self._set(job_id, state="running")
        try:
            result = self._command(job_id, user_name, kind, options, scope)
        except (OpenSIRTError, OSError) as exc:
            self._set(job_id, state="failed", error=str(exc), finished_at=_now())
        except Exception as exc:
            self._set(job_id, state="failed", error=f"unexpected error: {exc}", finished_at=_now())
        else:
            self._set(job_id, state="done", result=result, finished_at=_now(), progress=1.0)

    def _command(
        self, job_id: str, user_name: str, kind: str, options: tuple[str, ...], scope: str | None
    ) -> dict[str, Any]:
        from opensirt.planning import load_case

        folder = self.folder / job_id
        case_path = folder / "case.yaml"
        case = load_case(case_path)
        _images_inside(case, folder)
        if scope is not None:  # another site's patient: as unknown
            with self._registry.transaction(readonly=True) as session:
                store.get_patient(session, case.patient.id, scope=scope)
        # `opensirt plan|verify --record` in a process of its own: the service stays
        # responsive, and the database URL goes by the environment (never on a command line
        # others can see)
        command = [sys.executable, "-m", "opensirt", kind, str(case_path), "--out",
                   str(folder / _OUT[kind]), "--record", "--user", user_name, *options]  # fmt: skip
        env = {
            **os.environ,
            DB_ENV: self._registry.url.render_as_string(hide_password=False),
            # the same opensirt as the service's, wherever the job's folder is
            "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]),
        }
        with subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        ) as process:  # fmt: skip
            assert process.stderr is not None
            lines = []
            for line in process.stderr:
                lines.append(line.rstrip())
                done = min(len(lines) / _STEPS[kind], 0.95)
                self.record_progress(job_id, done, lines[-1].strip())
        if process.returncode != 0:
            raise InputError(" ".join(line.strip() for line in lines[-8:]) or f"{kind} failed")
        if kind == "verify":
            return self._verification(case.patient.id)
        return self._plan_version(case.patient.id, user_name)

    def _verification(self, pseudonym: str) -> dict[str, Any]:
        """The verification just recorded: the patient's newest."""
        with self._registry.transaction(readonly=True) as session:
            found = session.scalar(
                sa.select(Verification.id)
                .join(Patient, Verification.patient_id == Patient.id)
                .where(Patient.pseudonym == pseudonym)
                .order_by(Verification.id.desc())
                .limit(1)
            )
        return {"verification": found, "page": f"/verifications/{found}"}

    def _plan_version(self, pseudonym: str, user_name: str) -> dict[str, Any]:
        """The plan version just recorded: the user's newest of the patient."""
        with self._registry.transaction(readonly=True) as session:
            version_id = session.scalar(
                sa.select(PlanVersion.id)
                .join(Plan, PlanVersion.plan_id == Plan.id)
                .join(Patient, Plan.patient_id == Patient.id)
                .where(Patient.pseudonym == pseudonym, PlanVersion.created_by == user_name)
                .order_by(
                    sa.func.coalesce(PlanVersion.updated_at, PlanVersion.recorded_at).desc(),
                    PlanVersion.id.desc(),
                )
                .limit(1)
            )
        return {"plan_version": version_id, "plan": f"/plans/{version_id}"}


def _images_inside(case: Any, folder: Path) -> None:
    """Refuse a case whose image paths leave the job's folder."""
    root = folder.resolve()
    for key, value in case.images or ():
        if isinstance(value, Path) and not value.resolve().is_relative_to(root):
            raise InputError(
                f"images.{key} ({value}) lies outside the uploaded zip; give paths relative "
                "to the zip's root"
            )


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


@router.post("/jobs/plan", status_code=202)
def start_plan(
    request: Request,
    case: UploadFile,
    dicom: UploadFile,
    user: Annotated[CurrentUser, Depends(require_role(UserRole.PHYSICIST))],
) -> dict[str, str]:
    """Plan a case from its images in the background: the case file and a zip of its DICOM.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    case : fastapi.UploadFile
        The case file (YAML; its image paths relative to the zip's root).
    dicom : fastapi.UploadFile
        The zip of the DICOM series.
    user : CurrentUser
        A physicist.

    Returns
    -------
    dict
        ``{job_id}`` (202); poll ``/api/jobs/{job_id}``. 413 above the upload limit, 422 for a
        zip that is unsafe or holds other files than DICOM.
    """
    text = case.file.read(MAX_CASE_FILE_BYTES + 1)
    return {"job_id": _start(request, user, "plan", text, case.size or 0, dicom)}


def _start(
    request: Request,
    user: CurrentUser,
    kind: str,
    case_text: bytes,
    case_bytes: int,
    dicom: UploadFile,
    options: tuple[str, ...] = (),
) -> str:
    """Check the upload, unpack it into a new job's folder, record the job and queue it.

    Returns the job's id; 413 above the upload limit, 422 for a case file above its limit or
    a zip that is unsafe or holds other files than DICOM (nothing is left on disk then).
    """
    state = service(request)
    limit = state.settings.max_upload_bytes
    if case_bytes + (dicom.size or 0) > limit:
        raise HTTPException(413, f"the upload is larger than the limit of {limit} bytes")
    if len(case_text) > MAX_CASE_FILE_BYTES:
        raise HTTPException(422, f"the case file is larger than {MAX_CASE_FILE_BYTES} bytes")
    runner = _runner(request)
    job_id = uuid.uuid4().hex
    folder = runner.folder / job_id
    folder.mkdir(parents=True)
    unpack_dicom_zip(dicom.file, folder)
    (folder / "case.yaml").write_bytes(case_text)
    with state.registry.transaction(actor=user.user_name) as session:
        session.add(
            Job(
                id=job_id,
                kind=kind,
                state="queued",
                created_by=user.user_name,
                created_at=_now(),
                folder=str(folder),
                site=user.scope,
            )
        )
    runner.submit(job_id, user.user_name, kind, options, user.scope)
    return job_id


def _field_error(field: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status_code=422)


@router.post("/jobs/verify", status_code=202, response_model=None)
def start_verify(
    request: Request,
    dicom: UploadFile,
    user: Annotated[CurrentUser, Depends(require_role(UserRole.PHYSICIST))],
    case: UploadFile | None = None,
    plan_version: Annotated[int | None, Form(ge=1)] = None,
    tolerance: Annotated[float, Form(gt=0, lt=1)] = DEFAULT_TOLERANCE_FRACTION,
) -> dict[str, str] | JSONResponse:
    """Verify a treatment in the background (``opensirt verify --record``): delivered dose
    from the post-treatment image against the predicted dose, recorded by the user.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    dicom : fastapi.UploadFile
        The zip of the DICOM series: the work-up images and the post-treatment image (Y-90
        PET, bremsstrahlung or Ho-166 SPECT), at the paths the case file gives, relative to
        the zip's root.
    user : CurrentUser
        A physicist: the verification's author in the registry.
    case : fastapi.UploadFile, optional
        The case file (YAML) with ``images.post_treatment`` and ``treatment:``; or
    plan_version : int, optional
        instead of a case file, the record id of a recorded plan version whose case file
        (as recorded with it) is verified; the verification is linked to that plan's label.
        Exactly one of ``case`` and ``plan_version``.
    tolerance : float, optional
        Relative difference of mean dose or D70 that is flagged (0-1, default 0.20).

    Returns
    -------
    dict or fastapi.responses.JSONResponse
        ``{job_id}`` (202); poll ``/api/jobs/{job_id}``, whose ``result`` is then
        ``{verification, page}``. 422 with ``[{field, message}]`` without a case or with
        both, 404 for an unknown plan version, 413 above the upload limit, 422 for a zip that
        is unsafe or holds other files than DICOM.
    """
    if (case is None) == (plan_version is None):
        return _field_error("case", "give either the case file or plan_version, not both")
    options: tuple[str, ...] = ("--tolerance", repr(tolerance))
    if case is not None:
        text = case.file.read(MAX_CASE_FILE_BYTES + 1)
        return {"job_id": _start(request, user, "verify", text, case.size or 0, dicom, options)}
    assert plan_version is not None  # exactly one of the two, checked above
    with service(request).registry.transaction(readonly=True) as session:
        version = find_plan_version(session, plan_version, user.scope)
        text, label = version.case_yaml.encode(), version.plan.label
        saved = Path(version.report_path).parent if version.report_path else None
    options += ("--plan-label", label)
    if saved is not None and (saved / "plan_state.npz").is_file():
        options += ("--plan", str(saved))  # the plan saved by the job that made the version
    return {"job_id": _start(request, user, "verify", text, len(text), dicom, options)}


@router.get("/jobs/{job_id}")
def job_status(
    request: Request, job_id: str, user: Annotated[CurrentUser, Depends(current_user)]
) -> dict[str, Any]:
    """A job's state, progress and, when done, its result links.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    job_id : str
        The job.
    user : CurrentUser
        Any logged-in user (with sites: of the site of the user who started the job).

    Returns
    -------
    dict
        ``{id, kind, state, progress, step, result, error, created_by, created_at}``: the
        progress (0-1) and the step as the worker running the job last wrote them.
    """
    with service(request).registry.transaction(readonly=True) as session:
        job = session.get(Job, job_id)
        if job is None or (user.scope is not None and job.site != user.scope):
            raise HTTPException(404, f"no job {job_id}")
        return {
            "id": job.id,
            "kind": job.kind,
            "state": job.state,
            "progress": job.progress,
            "step": job.step or "",
            "result": job.result,
            "error": job.error,
            "created_by": job.created_by,
            "created_at": job.created_at.isoformat(),
        }
