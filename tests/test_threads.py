"""The thread policy of the math libraries (opensirt._threads)."""

from __future__ import annotations

import pytest
import threadpoolctl

from opensirt._threads import THREADS_ENV_VAR, fft_workers, limited_threads, thread_count
from opensirt.errors import InputError


def _blas_threads() -> set[int]:
    return {int(i["num_threads"]) for i in threadpoolctl.threadpool_info()}


def test_default_is_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV_VAR, raising=False)
    assert thread_count() == 1
    with limited_threads() as count:
        assert count == 1
        assert _blas_threads() == {1}
        assert fft_workers() == 1


def test_environment_sets_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV_VAR, "3")
    with limited_threads() as count:
        assert count == 3
        assert fft_workers() == 3
    monkeypatch.setenv(THREADS_ENV_VAR, "all")
    assert thread_count() is None
    with limited_threads() as count:
        assert count is None
        assert fft_workers() == -1


def test_limit_is_restored_and_nests(monkeypatch: pytest.MonkeyPatch) -> None:
    import SimpleITK as sitk

    monkeypatch.delenv(THREADS_ENV_VAR, raising=False)
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    blas_before = _blas_threads()
    with limited_threads(2):
        assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 2
        with limited_threads(1):
            assert fft_workers() == 1
            assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 1
        with limited_threads() as kept:  # an entry point inside the block keeps its limit
            assert kept == 2
            assert fft_workers() == 2
            assert _blas_threads() == {2}
        assert fft_workers() == 2
    assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == before
    assert _blas_threads() == blas_before


@pytest.mark.parametrize("value", ["-2", "two", "1.5"])
def test_bad_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(THREADS_ENV_VAR, value)
    with pytest.raises(InputError, match=f"OPENSIRT_THREADS is '{value}', expected a positive"):
        thread_count()


def test_negative_count_is_refused() -> None:
    with pytest.raises(InputError, match="count is -1"), limited_threads(-1):
        pass
