"""``python -m minigan info --check-gpu``: a clear message without CuPy or without a GPU, and
the whole check passing on the CuPy stand-in (which is all this project's CI can run)."""
import os
import subprocess
import sys

import pytest

from .conftest import STANDIN

# Blocking the name in sys.modules makes ``import cupy`` fail as on a machine without CuPy,
# even where CuPy (or the stand-in, on the stand-in run) would be importable.
NO_CUPY = ("import sys; sys.modules['cupy'] = None; from minigan.commands.cli import main; "
           "sys.exit(main(sys.argv[1:]))")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINIGAN_DEVICE")}
    env.update(MPLBACKEND="Agg", **extra)
    return env


def test_without_cupy_the_check_says_what_to_install():
    proc = subprocess.run([sys.executable, "-c", NO_CUPY, "info", "--check-gpu"],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 1
    assert proc.stdout.startswith("GPU check: not run. CuPy is not installed")
    assert "pip install -e .[gpu]" in proc.stdout and "Traceback" not in proc.stderr


def test_with_cupy_but_no_gpu_the_check_says_so():
    proc = subprocess.run([sys.executable, "-m", "minigan", "info", "--check-gpu"],
                          capture_output=True, text=True, timeout=120,
                          env=_env(PYTHONPATH=STANDIN, CUPY_STANDIN_DEVICES="0"))
    assert proc.returncode == 1
    assert "CuPy is installed but cannot use a GPU" in proc.stdout
    assert "no CUDA-capable device" in proc.stdout and "nvidia-smi" in proc.stdout


def test_a_device_that_is_not_a_gpu_is_refused():
    proc = subprocess.run([sys.executable, "-m", "minigan", "info", "--check-gpu",
                           "--device", "cpu"], capture_output=True, text=True, timeout=120,
                          env=_env())
    assert proc.returncode == 1 and "checks a CUDA device, not cpu" in proc.stdout


@pytest.mark.not_on_standin(reason="runs the stand-in itself, in a subprocess")
def test_the_whole_check_passes_on_the_stand_in():
    proc = subprocess.run([sys.executable, "-m", "minigan", "info", "--check-gpu"],
                          capture_output=True, text=True, timeout=900,
                          env=_env(PYTHONPATH=STANDIN))
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-2000:]
    assert "GPU check on cuda:0: CuPy stand-in" in out
    assert out.count("-> ok") == 3 and "3 ok, 0 failed, 0 skipped" in out
    assert "ms/iter" in out and "lesson 12 dcgan_digits --quick" in out
    # the stand-in has no CUDA compiler: the fused Adam says it ran as array operations
    assert "fused kernels: not available here" in out
