"""Shared fixtures. Tests that take ``device`` run once per backend: on the CPU always, and
on CUDA when CuPy and a GPU are present (``MINIGAN_DEVICE=cuda`` restricts the run to CUDA).

``MINIGAN_FAKE_CUPY=1`` runs the suite on the strict CuPy stand-in (``tests/cupy_standin``,
NumPy underneath) as the "cuda" device: the folder goes first on ``sys.path`` and on
``PYTHONPATH`` (so the lessons and commands the tests start as subprocesses get it too), and
the default device becomes cuda. Tests marked ``not_on_standin`` (long training runs whose
outcome the NumPy run already checks) are skipped there.
"""
import os
import pathlib
import sys

STANDIN = str(pathlib.Path(__file__).resolve().parent / "cupy_standin")
FAKE_CUPY = os.environ.get("MINIGAN_FAKE_CUPY", "") == "1"
if FAKE_CUPY:
    if STANDIN not in sys.path:
        sys.path.insert(0, STANDIN)
    _path = os.environ.get("PYTHONPATH", "")
    if STANDIN not in _path.split(os.pathsep):
        os.environ["PYTHONPATH"] = STANDIN + (os.pathsep + _path if _path else "")
    os.environ.setdefault("MINIGAN_DEVICE", "cuda")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minigan  # noqa: E402
from minigan import backend  # noqa: E402

_want = os.environ.get("MINIGAN_DEVICE", "")
DEVICES = ["cuda"] if _want.startswith("cuda") else ["cpu", "cuda"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "not_on_standin(reason): skipped on the CuPy stand-in run (a long training "
        "run whose outcome the NumPy run checks; on the stand-in it would repeat the same "
        "placements at a higher cost)")


def pytest_collection_modifyitems(config, items):
    if not FAKE_CUPY:
        return
    for item in items:
        mark = item.get_closest_marker("not_on_standin")
        if mark is not None:
            reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
            item.add_marker(pytest.mark.skip(reason=f"NumPy only: {reason}"))


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
        x = x.array
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def as_installed_torch_repr(text, torch):
    """minigan's repr follows PyTorch 2.13, whose norm layers take a ``bias`` argument and
    print it; an older PyTorch (2.11, for one) prints no ``bias=`` field
    there. ``text`` as that PyTorch would print it, to compare with it."""
    import inspect
    import re
    if "bias" in inspect.signature(torch.nn.BatchNorm2d).parameters:
        return text
    return re.sub(r"(Norm\dd\([^)]*affine=\w+), bias=\w+", r"\1", text)


def on_device(values, like):
    """``values`` (a list or NumPy array) as an array on ``like``'s device, in its dtype: what a
    test assigns into ``tensor.array[...]`` (a GPU array refuses a host array there)."""
    return backend.as_array(np.asarray(values), dtype=like.dtype, device=like.device)


def fixture_settings(n):
    """Hypothesis settings for a test that also takes the (function-scoped) device fixture."""
    from hypothesis import HealthCheck, settings
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

