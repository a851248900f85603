"""The adaptive BLAS thread default (backend.auto_blas_threads): as many threads as idle
cores, never overriding an explicit choice (environment variables or a blas_threads block)."""
from __future__ import annotations

import os

import pytest

from minigan import backend

threadpoolctl = pytest.importorskip("threadpoolctl")
pytestmark = pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="Linux /proc only")

_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MINIGAN_BLAS_THREADS")


def _blas_threads_now():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


@pytest.fixture
def auto(monkeypatch):
    """The adaptive mode switched on (the test suite otherwise pins one thread)."""
    for var in _VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(backend, "_pinned", [0])
    monkeypatch.setitem(backend._auto, "current", None)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):   # restored afterwards
        yield


def test_idle_cores_is_within_the_machine():
    n = backend.idle_cores()
    assert 1 <= n <= os.cpu_count()


def test_follows_idle_cores_and_rechecks_only_after_the_period(auto, monkeypatch):
    if not backend._blas_controllers():
        pytest.skip("no BLAS library that threadpoolctl can drive")
    most = backend._cores()
    monkeypatch.setattr(backend, "idle_cores", lambda: 1)
    assert backend.auto_blas_threads(now=1e9) == 1 and set(_blas_threads_now()) == {1}
    monkeypatch.setattr(backend, "idle_cores", lambda: 64)
    assert backend.auto_blas_threads(now=1e9 + backend._AUTO_PERIOD / 2) == 1   # not yet
    assert backend.auto_blas_threads(now=1e9 + 2 * backend._AUTO_PERIOD) == most
    assert set(_blas_threads_now()) <= {most}


@pytest.mark.parametrize("var", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MINIGAN_BLAS_THREADS"])
def test_an_explicit_number_in_the_environment_wins(auto, monkeypatch, var):
    monkeypatch.setenv(var, "1")
    monkeypatch.setattr(backend, "idle_cores", lambda: 64)
    assert backend.auto_blas_threads(now=2e9) is None


def test_a_blas_threads_block_wins_and_hands_back(auto, monkeypatch):
    monkeypatch.setattr(backend, "idle_cores", lambda: 1)
    with backend.blas_threads(1):
        assert backend.auto_blas_threads(now=3e9) is None
    assert backend._pinned == [0]
    assert backend.auto_blas_threads(now=4e9) in (1, None)
