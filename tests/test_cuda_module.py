"""minigan.cuda (torch.cuda's calls answered through the backend), the no-op
minigan.backends.cudnn / mps switches, and the lazy top-level names PyTorch scripts reach for.

Both answers of ``cuda.is_available()`` are checked in fresh interpreters on the CuPy
stand-in (tests/cupy_standin): with one device, and with none (``CUPY_STANDIN_DEVICES=0``,
how CuPy behaves on a machine without a GPU)."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import backend

STANDIN = str(pathlib.Path(__file__).resolve().parent / "cupy_standin")

PROBE = """
import json, minigan
from minigan import backend, cuda
out = {"available": cuda.is_available(), "count": cuda.device_count()}
try:
    out["current"] = cuda.current_device()
    out["name"] = cuda.get_device_name(0)
    cuda.synchronize()
except RuntimeError as exc:
    out["error"] = str(exc)
cuda.empty_cache()
if out["available"]:
    minigan.manual_seed(3)
    want = minigan.randn(4, device="cuda").numpy().tolist()
    minigan.manual_seed(9)
    cpu_before = backend.get_rng_state("cpu")
    cuda.manual_seed_all(3)
    out["same_stream"] = minigan.randn(4, device="cuda").numpy().tolist() == want
    out["cpu_untouched"] = backend.get_rng_state("cpu") == cpu_before
print(json.dumps(out))
"""


def _probe(devices):
    env = dict(os.environ, PYTHONPATH=STANDIN, CUPY_STANDIN_DEVICES=str(devices))
    env.pop("MINIGAN_DEVICE", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, cwd=str(pathlib.Path(__file__).resolve().parents[1]))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_with_a_gpu_cuda_answers_through_cupy():
    out = _probe(1)
    assert out["available"] is True and out["count"] == 1 and out["current"] == 0
    assert out["name"].startswith("CuPy stand-in")
    assert out["same_stream"] and out["cpu_untouched"]


def test_without_a_gpu_cuda_says_so():
    out = _probe(0)
    assert out["available"] is False and out["count"] == 0
    assert "no usable GPU" in out["error"] and "is_available" in out["error"]


def test_is_available_agrees_with_the_backend():
    assert minigan.cuda.is_available() == backend.cupy_available()
    assert (minigan.cuda.device_count() > 0) == minigan.cuda.is_available()


def test_cuda_manual_seed_seeds_gpu_streams_and_leaves_the_cpu_stream():
    """Without a GPU too: the seed is remembered for GPU generators made later."""
    minigan.manual_seed(1)
    minigan.randn(3, device="cpu")
    state = backend.get_rng_state("cpu")
    after = minigan.randn(5, device="cpu").numpy()
    backend.set_rng_state(state)
    minigan.cuda.manual_seed(123)
    minigan.cuda.manual_seed_all(123)
    np.testing.assert_array_equal(minigan.randn(5, device="cpu").numpy(), after)  # CPU as before
    with pytest.raises(ValueError, match="non-negative integer"):
        minigan.cuda.manual_seed(-1)


def test_cudnn_switches_are_settable_and_mps_is_absent():
    import minigan.backends.cudnn as cudnn
    assert minigan.backends.cudnn is cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (False, True, True)
    old = cudnn.benchmark
    try:
        minigan.backends.cudnn.benchmark = True
        assert cudnn.benchmark is True
    finally:
        cudnn.benchmark = old
    assert cudnn.is_available() is False and cudnn.version() is None
    assert minigan.backends.mps.is_available() is False and minigan.backends.mps.is_built() is False


def test_pytorch_scripts_top_level_names_load_lazily():
    code = ("import sys, minigan as torch\n"
            "assert 'minigan.cuda' not in sys.modules and 'minigan.utils' not in sys.modules\n"
            "dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
            "torch.backends.cudnn.benchmark = True\n"
            "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4)),"
            " batch_size=2)\n"
            "print(dev, len(loader), torch.backends.cudnn.benchmark)\n")
    env = dict(os.environ, PYTHONPATH=STANDIN, CUPY_STANDIN_DEVICES="0")
    env.pop("MINIGAN_DEVICE", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(pathlib.Path(__file__).resolve().parents[1]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["cpu", "2", "True"]
