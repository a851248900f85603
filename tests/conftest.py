"""Shared fixtures. Tests that take ``device`` run once per backend: on the CPU always, and
on CUDA when CuPy and a GPU are present (``MINIGAN_DEVICE=cuda`` restricts the run to CUDA)."""
import os

import numpy as np
import pytest

import minigan
from minigan import backend

_want = os.environ.get("MINIGAN_DEVICE", "")
DEVICES = ["cuda"] if _want.startswith("cuda") else ["cpu", "cuda"]


@pytest.fixture(params=DEVICES)
def device(request):
    if request.param == "cuda" and not backend.cupy_available():
        pytest.skip("CuPy with a GPU is not available")
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigan.manual_seed(0)
    yield


def to_np(x):
    """A Tensor or array as a float64 NumPy array, for comparisons."""
    if isinstance(x, minigan.Tensor):
        x = x.data
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def fixture_settings(n):
    """Hypothesis settings for a test that also takes the (function-scoped) device fixture."""
    from hypothesis import HealthCheck, settings
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def pytest_configure(config):
    # Under pytest-xdist each worker is one process: with 2 workers on 2 cores, a BLAS pool of
    # 2 threads per worker oversubscribes the machine (measured: a 6 s training test took 44 s).
    import os
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits
        config._minigan_blas_limit = threadpool_limits(1)
