"""The service's settings: the registry, cookies, sessions, login and upload limits, sites."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

#: The largest upload the service accepts (bytes); a larger request gets 413.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
#: A session ends after this long without a request (s): 8 hours.
SESSION_IDLE_S = 8 * 3600
#: Failed logins allowed per user name and per client address within the window.
LOGIN_MAX_FAILURES = 5
#: The window of the login limit (s): 15 minutes.
LOGIN_WINDOW_S = 15 * 60
#: The environment variable through which ``opensirt serve --workers N`` hands the settings
#: to its worker processes (JSON; holds no secret: the registry URL is the one given by
#: ``--db`` or ``OPENSIRT_DB``).
SETTINGS_ENV = "OPENSIRT_SERVE_SETTINGS"
#: Threads that run the service's (synchronous) request handlers in one worker process. Few
#: threads that each finish their request beat many that share the interpreter's lock: with
#: 50 connections on the patient list and timelines of a 10,000-patient registry
#: (benchmarks/api_load.py, 2 cores), 4 threads served 94 requests/s at 13 ms CPU per
#: request and p95 0.6 s, 8 threads 76/s, 16 ms, 1.0 s, anyio's default of 40 49/s, 28 ms,
#: 1.7 s. A long upload or job start holds one thread while it reads.
REQUEST_THREADS = 4


@dataclass(frozen=True)
class Settings:
    """How the service runs.

    Parameters
    ----------
    db : str or None
        The registry: a SQLite file path or an SQLAlchemy URL; ``None`` for ``OPENSIRT_DB`` or
        the default file (as every ``opensirt registry`` command).
    cache_dir : pathlib.Path
        Folder for the plan jobs (``jobs/ID``: the upload and the plan's outputs, whose
        report paths the registry keeps, so it must last) and the viewer's NIfTI volumes
        (``plan-version-ID-INPUTS``, derived, may be deleted).
    secure_cookie : bool, optional
        Send cookies only over HTTPS (``Secure``); set it whenever the service is reached
        through HTTPS (a reverse proxy). Default false, for http://127.0.0.1.
    session_idle_s : float, optional
        Idle time (s) after which a session ends (default 8 h).
    login_max_failures : int, optional
        Failed logins per user name and per client address within ``login_window_s`` before
        further attempts get 429 (default 5).
    login_window_s : float, optional
        The window of the login limit (s, default 15 min).
    max_upload_bytes : int, optional
        The largest request body accepted (bytes, default 512 MiB); larger gets 413.
    sites : bool, optional
        Scope the data by site (``opensirt serve --sites``): a user sees only the patients
        of the user's site (:mod:`opensirt.registry.sites`). Default false (single centre).
    request_threads : int, optional
        Threads running the request handlers per worker process (``opensirt serve
        --threads``; default :data:`REQUEST_THREADS`).
    """

    db: str | None
    cache_dir: Path
    secure_cookie: bool = False
    session_idle_s: float = SESSION_IDLE_S
    login_max_failures: int = LOGIN_MAX_FAILURES
    login_window_s: float = LOGIN_WINDOW_S
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    sites: bool = False
    request_threads: int = REQUEST_THREADS

    def to_environment(self) -> None:
        """Put these settings in the environment (:data:`SETTINGS_ENV`) for worker processes."""
        fields = dataclasses.asdict(self)
        fields["cache_dir"] = str(self.cache_dir)
        os.environ[SETTINGS_ENV] = json.dumps(fields)

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings that :meth:`to_environment` put in the environment.

        Returns
        -------
        Settings
            As the parent process made them.

        Raises
        ------
        KeyError
            If :data:`SETTINGS_ENV` is not set (not started by ``opensirt serve``).
        """
        fields = json.loads(os.environ[SETTINGS_ENV])
        fields["cache_dir"] = Path(fields["cache_dir"])
        return cls(**fields)
