"""Background jobs: a case planned from uploaded images, with progress the page polls.

``POST /api/jobs/plan`` takes a case file and a zip of its DICOM (image paths in the case file
relative to the zip's root), unpacks them into a folder of the job (:mod:`opensirt.api.uploads`)
and answers at once with the job's id; one worker thread plans the jobs in turn, writes the
plan's report, RT Dose, DVH and NIfTI into the job's folder and records the plan as a draft
version, by the user who started it. ``GET /api/jobs/{id}`` tells the state, the progress and,
when done, the links to the plan. The job's row is in the registry; a service stopped while a
job ran marks it failed at its next start (:func:`fail_interrupted`).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile

import opensirt
from opensirt.api.settings import Settings
from opensirt.api.state import CurrentUser, current_user, require_role, service
from opensirt.api.uploads import unpack_dicom_zip
from opensirt.errors import InputError, OpenSIRTError
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
from opensirt.registry.database import DB_ENV, Registry
from opensirt.registry.models import Patient, Plan, PlanVersion
from opensirt.registry.models_jobs import Job
from opensirt.registry.vocabulary import UserRole

router = APIRouter(prefix="/api", tags=["jobs"])

#: The error of a job that a stopped service left running.
INTERRUPTED = "the service stopped while this job ran; start it again"
#: The folder holding the ``opensirt`` package that runs the service.
_PACKAGE_ROOT = str(Path(opensirt.__file__).resolve().parents[1])
#: Steps of a plan from images (for the progress fraction): reading, registration, lung
#: shunt, methods, kernel, dose, the outputs, the recording.
_PLAN_STEPS = 8


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
    """One worker thread running the jobs in turn, and their progress in memory.

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
        self._progress: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def progress(self, job_id: str) -> tuple[float, str]:
        """The progress of a running job.

        Parameters
        ----------
        job_id : str
            The job.

        Returns
        -------
        tuple of (float, str)
            The fraction done (0-1) and the current step's description.
        """
        with self._lock:
            return self._progress.get(job_id, (0.0, ""))

    def _step(self, job_id: str, text: str) -> None:
        with self._lock:
            done, _ = self._progress.get(job_id, (0.0, ""))
            self._progress[job_id] = (min(done + 1 / _PLAN_STEPS, 0.95), text)

    def _set(self, job_id: str, **values: Any) -> None:
        with self._registry.transaction(actor="opensirt-serve") as session:
            job = session.get_one(Job, job_id)
            for key, value in values.items():
                setattr(job, key, value)

    def submit(self, job_id: str, user_name: str) -> None:
        """Queue a job whose folder holds ``case.yaml`` and the images.

        Parameters
        ----------
        job_id : str
            The job (its row exists, queued).
        user_name : str
            Who started it: the plan's author.
        """
        self._pool.submit(self._run, job_id, user_name)

    def _run(self, job_id: str, user_name: str) -> None:
        self._set(job_id, state="running")
        try:
            result = self._plan(job_id, user_name)
        except (OpenSIRTError, OSError) as exc:
            self._set(job_id, state="failed", error=str(exc), finished_at=_now())
        except Exception as exc:
            self._set(job_id, state="failed", error=f"unexpected error: {exc}", finished_at=_now())
        else:
            self._set(job_id, state="done", result=result, finished_at=_now())
        with self._lock:
            self._progress.pop(job_id, None)

    def _plan(self, job_id: str, user_name: str) -> dict[str, Any]:
        from opensirt.planning import load_case

        folder = self.folder / job_id
        case_path = folder / "case.yaml"
        case = load_case(case_path)
        _images_inside(case, folder)
        # `opensirt plan --record` in a process of its own: the service stays responsive, and
        # the database URL goes by the environment (never on a command line others can see)
        command = [sys.executable, "-m", "opensirt", "plan", str(case_path), "--out",
                   str(folder / "plan"), "--record", "--user", user_name]  # fmt: skip
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
                self._step(job_id, lines[-1].strip())
        if process.returncode != 0:
            raise InputError(" ".join(line.strip() for line in lines[-8:]) or "planning failed")
        with self._registry.transaction(readonly=True) as session:
            version_id = session.scalar(
                sa.select(PlanVersion.id)
                .join(Plan, PlanVersion.plan_id == Plan.id)
                .join(Patient, Plan.patient_id == Patient.id)
                .where(Patient.pseudonym == case.patient.id, PlanVersion.created_by == user_name)
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
    state = service(request)
    limit = state.settings.max_upload_bytes
    if (case.size or 0) + (dicom.size or 0) > limit:
        raise HTTPException(413, f"the upload is larger than the limit of {limit} bytes")
    text = case.file.read(MAX_CASE_FILE_BYTES + 1)
    if len(text) > MAX_CASE_FILE_BYTES:
        raise HTTPException(422, f"the case file is larger than {MAX_CASE_FILE_BYTES} bytes")
    runner = _runner(request)
    job_id = uuid.uuid4().hex
    folder = runner.folder / job_id
    folder.mkdir(parents=True)
    unpack_dicom_zip(dicom.file, folder)
    (folder / "case.yaml").write_bytes(text)
    with state.registry.transaction(actor=user.user_name) as session:
        session.add(
            Job(
                id=job_id,
                kind="plan",
                state="queued",
                created_by=user.user_name,
                created_at=_now(),
                folder=str(folder),
            )
        )
    runner.submit(job_id, user.user_name)
    return {"job_id": job_id}


@router.get("/jobs/{job_id}")
def job_status(
    request: Request, job_id: str, _user: Annotated[CurrentUser, Depends(current_user)]
) -> dict[str, Any]:
    """A job's state, progress and, when done, its result links.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    job_id : str
        The job.
    _user : CurrentUser
        Any logged-in user.

    Returns
    -------
    dict
        ``{id, kind, state, progress, step, result, error, created_by, created_at}``.
    """
    with service(request).registry.transaction(readonly=True) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        progress, step = _runner(request).progress(job_id)
        if job.state == "done":
            progress = 1.0
        return {
            "id": job.id,
            "kind": job.kind,
            "state": job.state,
            "progress": progress,
            "step": step,
            "result": job.result,
            "error": job.error,
            "created_by": job.created_by,
            "created_at": job.created_at.isoformat(),
        }
