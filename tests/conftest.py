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
def _seed_and_one_blas_thread():
    # One BLAS thread for every test: the matrices are small, and with pytest-xdist's 2 workers
    # on 2 cores a 2-thread BLAS pool per worker oversubscribes the machine (a 6 s training
    # test took 44 s). Results are also the same whatever the machine's core count.
    minigan.manual_seed(0)
    with backend.blas_threads(1):
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

