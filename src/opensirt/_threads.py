"""Thread pools of the math libraries: one policy, set in one place.

numpy and scipy call BLAS (OpenBLAS) and OpenMP, scipy.fft has its own workers and SimpleITK
its own thread pool; by default each starts as many threads as the machine has cores. Next
to another busy process these pools oversubscribe the cores: threads wait for each other at
every synchronisation point (a plan of the demo case was measured at 36 s next to one busy
core, against 8 s single-threaded).

Policy
------
OpenSIRT's heavy work (reading, rasterising, convolving) is not limited by these libraries'
parallelism, so every command and every heavy library entry point runs inside
:func:`limited_threads`, which limits BLAS and OpenMP (threadpoolctl), scipy.fft and
SimpleITK to :func:`thread_count` threads: 1 by default, or the value of the environment
variable ``OPENSIRT_THREADS`` (a positive integer; ``0`` or ``all`` lets the libraries use
every core, as they do by themselves). A run is then never slower than single-threaded,
whatever else the machine is doing.

threadpoolctl: https://github.com/joblib/threadpoolctl (limits the pools of loaded native
libraries through their own APIs, e.g. ``openblas_set_num_threads``, ``omp_set_num_threads``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opensirt.errors import InputError

__all__ = ["THREADS_ENV_VAR", "fft_workers", "limited_threads", "thread_count"]

#: Environment variable holding the number of threads of the math libraries.
THREADS_ENV_VAR = "OPENSIRT_THREADS"
#: ``OPENSIRT_THREADS`` values that leave the libraries' own defaults (every core).
_ALL = ("0", "all")
_active: list[int] = []


def thread_count() -> int | None:
    """Threads the math libraries may use: ``OPENSIRT_THREADS``, 1 if unset; None for all.

    Raises
    ------
    InputError
        ``OPENSIRT_THREADS`` is neither a positive integer nor ``0``/``all``.
    """
    text = os.environ.get(THREADS_ENV_VAR, "1").strip().lower()
    if text in _ALL:
        return None
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 1:
        raise InputError(
            f"{THREADS_ENV_VAR} is {text!r}, expected a positive number of threads "
            "(or 0 / all for every core); unset it to use one thread"
        )
    return count


def fft_workers() -> int:
    """``workers=`` for scipy.fft: the active limit, else :func:`thread_count` (-1: all)."""
    count = _active[-1] if _active else thread_count()
    return -1 if count is None or count < 1 else count


@contextmanager
def limited_threads(count: int | None = None) -> Iterator[int | None]:
    """Limit BLAS, OpenMP, scipy.fft and SimpleITK to ``count`` threads inside the block.

    ``count`` defaults to the limit of an enclosing block, else :func:`thread_count`; 0 lifts
    the limit. A nested block with a count takes it; leaving a block restores the libraries'
    previous settings. numpy's and
    scipy's BLAS and SimpleITK are loaded on entry, so that the limit reaches them (a
    library loaded later inside the block would keep its own default).

    Examples
    --------
    >>> with limited_threads(1):
    ...     fft_workers()
    1
    """
    if count is not None and count < 0:
        raise InputError(f"count is {count}, expected a number of threads >= 0 (0: no limit)")
    if count is None and _active:  # inside a block: keep its limit
        yield None if _active[-1] < 1 else _active[-1]
        return
    limit = thread_count() if count is None else (count or None)
    if limit is None:
        _active.append(-1)
        try:
            yield None
        finally:
            _active.pop()
        return
    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS, so that the limit reaches it)
    import SimpleITK as sitk
    from threadpoolctl import threadpool_limits

    previous = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(limit)
    _active.append(limit)
    try:
        with threadpool_limits(limits=limit):
            yield limit
    finally:
        _active.pop()
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(previous)
