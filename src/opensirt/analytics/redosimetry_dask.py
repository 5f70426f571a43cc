"""Cohort re-dosimetry on Dask: every case one task of one graph, failures isolated.

:func:`run_cohort` submits every case at once (``Client.map``: one graph of independent
tasks) to a local cluster (:func:`dask_client`: ``n_workers`` processes of one thread each,
the math libraries limited to one thread, :mod:`opensirt._threads`) or to the scheduler of an
existing cluster, and collects the outcomes as they finish:

* a case whose inputs are refused (:class:`~opensirt.errors.OpenSIRTError`: no saved state, a
  damaged one, a case file without images) is a failure at once: the same inputs would fail
  again;
* any other exception (a worker lost, memory, a bug) is retried, up to ``retries`` more
  times, by resubmitting the case; after the last attempt it is a failure with the exception;
* nothing a case does stops the others; every outcome goes to ``on_outcome`` as it comes
  (the command stores them in batches and moves its progress bar).

Workers receive the case as the registry keeps it and read the saved plan state from the
shared file system; they never open the registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from opensirt._threads import THREADS_ENV_VAR, limited_threads
from opensirt.analytics import redosimetry
from opensirt.analytics.redosimetry import CaseDose, CaseFailure, RedoseCase, RedoseSettings
from opensirt.errors import InputError, OpenSIRTError

if TYPE_CHECKING:
    from distributed import Client, Future

#: An outcome of one case.
Outcome = CaseDose | CaseFailure

#: Largest number of retries of a case after an unexpected error.
MAX_RETRIES = 10

#: Dask settings of the local workers. The nanny's default ``MALLOC_TRIM_THRESHOLD_=65536``
#: (returning freed memory to the system at once) turns off glibc's adaptive mmap threshold,
#: so every large temporary array of a case is mapped and page-faulted anew: it made a
#: 64^3 case 1.7 times slower (0.55 against 0.32 s, measured here). Unset, as in a plain
#: process; the thread variables of the default stay. The statistical profiler of each
#: worker (a thread sampling the task's stack every 10 ms) is off: a batch needs no profile.
WORKER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}


@dataclass(frozen=True)
class _Refused:
    """A case refused by the computation (an input error): not worth retrying."""

    error: str


@dataclass(frozen=True)
class CohortRun:
    """What a run did.

    Attributes
    ----------
    done : int
        Cases recomputed.
    failed : int
        Cases that failed (each reported to ``on_outcome``).
    seconds : float
        Wall time from submission to the last outcome.
    workers : int
        Worker threads of the cluster when the run started.
    """

    done: int
    failed: int
    seconds: float
    workers: int


class OneThreadPlugin(WorkerPlugin):
    """Limits the math libraries of a worker process to ``OPENSIRT_THREADS`` (default one)
    threads for the worker's life (:func:`opensirt._threads.limited_threads`): setting the
    limit costs tens of milliseconds, too much to pay per task."""

    name = "opensirt-threads"

    def __init__(self) -> None:
        """Nothing is limited until the plugin is set up on a worker."""
        self._limit: AbstractContextManager[int | None] | None = None

    def setup(self, worker: Any) -> None:
        """Apply the limit on the worker.

        Parameters
        ----------
        worker : distributed.Worker
            The worker (unused).
        """
        self._limit = limited_threads()
        self._limit.__enter__()

    def teardown(self, worker: Any) -> None:
        """Lift the limit when the worker closes.

        Parameters
        ----------
        worker : distributed.Worker
            The worker (unused).
        """
        if self._limit is not None:
            self._limit.__exit__(None, None, None)
            self._limit = None


def redose_task(case: RedoseCase, settings: RedoseSettings) -> CaseDose | _Refused:
    """One case on a worker: :func:`opensirt.analytics.redosimetry.redose_case` with the math
    libraries on one thread (the limit of :class:`OneThreadPlugin` where it is set up, else
    set for the task), an input error returned instead of raised.

    Parameters
    ----------
    case : RedoseCase
        The case.
    settings : RedoseSettings
        The method, kernel and limits.

    Returns
    -------
    CaseDose or _Refused
        The dose, or the reason the inputs were refused.
    """
    with limited_threads():
        try:
            return redosimetry.redose_case(case, settings)
        except OpenSIRTError as exc:
            return _Refused(str(exc))


@contextmanager
def dask_client(
    scheduler: str | None = None, *, n_workers: int = 2, processes: bool = True
) -> Iterator[Client]:
    """A Dask client: of the scheduler at ``scheduler``, else of a new local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers must have OpenSIRT
        installed and see the saved plan states at the paths given.
    n_workers : int, optional
        Worker processes of the local cluster (one thread each; default 2).
    processes : bool, optional
        ``False``: the local workers are threads of this process (tests).

    Yields
    ------
    distributed.Client
        The connected client; the local cluster closes with the block.

    Raises
    ------
    InputError
        If ``n_workers`` is below 1.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    if n_workers < 1:
        raise InputError(f"--workers is {n_workers}, expected 1 or more worker processes")
    extra: dict[str, Any] = {"env": {THREADS_ENV_VAR: "1"}} if processes else {}
    with (
        dask.config.set(WORKER_CONFIG),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            **extra,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _outcome(future: Future[Any], case: RedoseCase, attempt: int) -> Outcome | None:
    """The outcome of a finished future; ``None`` for an error worth another attempt."""
    if future.status == "finished":
        result: CaseDose | _Refused = future.result()
        if isinstance(result, _Refused):
            return CaseFailure(case, result.error, attempt)
        return replace(result, attempts=attempt)
    return None


def _error_text(future: Future[Any]) -> str:
    if future.status != "error":  # cancelled: the cluster lost the task (its workers gone)
        return f"the task was {future.status} by the cluster (its workers stopped or were lost)"
    exc = future.exception()
    return f"{type(exc).__name__}: {exc}"


def run_cohort(
    client: Client,
    cases: Sequence[RedoseCase],
    settings: RedoseSettings,
    *,
    retries: int = 2,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
) -> CohortRun:
    """Recompute every case on the cluster of ``client`` (see the module notes).

    Parameters
    ----------
    client : distributed.Client
        The client (:func:`dask_client`).
    cases : sequence of RedoseCase
        The cases (:func:`opensirt.analytics.redosimetry_registry.select_cases`).
    settings : RedoseSettings
        The method, kernel and limits.
    retries : int, optional
        Further attempts of a case after an unexpected error (0 to :data:`MAX_RETRIES`;
        default 2). Refused inputs are not retried.
    on_outcome : callable, optional
        Called on the client with each outcome as it comes, in the order they finish.

    Returns
    -------
    CohortRun
        The counts and the wall time.

    Raises
    ------
    InputError
        If ``retries`` is out of range.
    """
    from distributed import as_completed

    if not 0 <= retries <= MAX_RETRIES:
        raise InputError(f"--retries is {retries}, expected 0 to {MAX_RETRIES}")
    start = time.perf_counter()
    client.register_plugin(OneThreadPlugin())
    workers = sum(client.nthreads().values())
    token = f"{time.time_ns():x}"
    keys = [f"redose-{token}-{c.plan_version_id}-1" for c in cases]
    futures = client.map(redose_task, cases, settings=settings, key=keys, pure=False)
    pending: dict[Any, tuple[RedoseCase, int]] = {
        f.key: (c, 1) for f, c in zip(futures, cases, strict=True)
    }
    done = failed = 0
    finished = as_completed(futures)
    for future in finished:
        case, attempt = pending.pop(future.key)
        outcome = _outcome(future, case, attempt)
        if outcome is None and attempt <= retries:
            key = f"redose-{token}-{case.plan_version_id}-{attempt + 1}"
            again = client.submit(redose_task, case, settings, key=key, pure=False)
            pending[again.key] = (case, attempt + 1)
            finished.add(again)
            future.release()
            continue
        if outcome is None:
            outcome = CaseFailure(case, _error_text(future), attempt)
        future.release()
        if isinstance(outcome, CaseFailure):
            failed += 1
        else:
            done += 1
        on_outcome(outcome)
    return CohortRun(done, failed, time.perf_counter() - start, workers)
