"""``python -m minigan info --check-gpu``: what a user with an NVIDIA GPU runs once, to see
that minigan's GPU path works on that machine.

minigan's CI has no GPU: it runs the suite on a strict CuPy stand-in (NumPy underneath) that
checks where every array lives, but not kernel speed, asynchrony, cuRAND's streams or the
GPU's rounding. This check runs on the real thing, in three steps, each reported as ok,
FAILED or skipped:

1. the device tests: a small subset of the suite with ``MINIGAN_DEVICE=cuda`` (placement,
   gradient checks of the layers, checkpoints with the GPU's random state);
2. one DCGAN training iteration (the reference DCGAN of ``benchmarks/bench_dcgan.py``,
   28x28, batch 64, D step + G step with Adam) timed on the GPU, next to PyTorch on the same
   GPU from the same weights when PyTorch with CUDA is installed;
3. one short lesson (``12_dcgan_digits --quick``) on the GPU.

The tests, the benchmark and the lessons live in the source checkout (``pip install -e .``
from a clone), not in an installed wheel; a step whose files are missing is skipped and says
so. Without CuPy or without a GPU nothing runs and the message says what to install.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from . import course

ROOT = course.ROOT
DEVICE_TESTS = ["tests/test_device.py", "tests/test_backend.py", "tests/test_nn.py",
                "tests/test_embedding.py", "tests/test_serialization.py"]
LESSON = "12"


def gpu_problem(device="cuda"):
    """None when CuPy and a GPU are usable for ``device``, else a message saying what is
    missing and what to do about it."""
    from .. import backend
    dev = backend.Device(device)
    if dev.type != "cuda":
        return f"--check-gpu checks a CUDA device, not {dev}."
    err = backend.cupy_error()
    if isinstance(err, ImportError):
        return (f"CuPy is not installed ({type(err).__name__}: {err}). On a machine with an "
                "NVIDIA GPU and its driver: pip install -e .[gpu] (CUDA 12) or "
                "pip install -e .[gpu-cuda13] (CUDA 13).")
    if err is not None:
        return (f"CuPy is installed but cannot use a GPU ({type(err).__name__}: {err}). Check "
                "that `nvidia-smi` sees the GPU and that the CuPy wheel matches the driver's "
                "CUDA version (cupy-cuda12x or cupy-cuda13x).")
    count = dev.xp.cuda.runtime.getDeviceCount()
    if dev.index >= count:
        return f"{dev} does not exist here: CuPy sees {count} GPU(s)."
    return None


def _step(name, fn, out):
    out(f"\n[{name}]")
    t0 = time.perf_counter()
    try:
        status, detail = fn()
    except Exception as exc:                          # a step's failure is reported, not raised
        status, detail = "FAILED", f"{type(exc).__name__}: {exc}"
    out(f"  -> {status}" + (f": {detail}" if detail else "")
        + f" ({time.perf_counter() - t0:.1f} s)")
    return status


def device_tests(device, out=print, timeout=900):
    """Run the device subset of the suite on ``device``; ('ok' | 'FAILED' | 'skipped', why)."""
    files = [f for f in DEVICE_TESTS if (ROOT / f).is_file()]
    if not files:
        return "skipped", f"no tests under {ROOT / 'tests'} (they are in the source checkout)"
    try:
        import pytest  # noqa: F401
    except ImportError:
        return "skipped", "pytest is not installed (pip install -e .[test])"
    env = {**os.environ, "MINIGAN_DEVICE": str(device), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *files], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    last = lines[-1] if lines else "(no output)"
    if proc.returncode != 0:
        out("\n".join("  | " + ln for ln in lines[-30:]))
        return "FAILED", last
    return "ok", last


def dcgan_iteration(device, reps=7, out=print):
    """Time one training iteration of the reference DCGAN on ``device`` (and PyTorch's on
    the same GPU when available); ('ok' | 'FAILED' | 'skipped', summary)."""
    if not (ROOT / "benchmarks" / "bench_dcgan.py").is_file():
        return "skipped", "benchmarks/ is in the source checkout"
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import _harness as H
        from benchmarks import bench_dcgan as B
        from benchmarks import bench_gpu as G
    finally:
        sys.path.remove(str(ROOT))
    steps = {"minigan": G.minigan_step(B.BATCH, device)}
    torch = _torch_cuda()
    if torch is not None:
        steps["torch"] = G.torch_step(torch, B.BATCH, device)
    first = {k: fn() for k, fn in steps.items()}          # also the warm-up (kernel compiles)
    times = H.interleave(steps, reps, warmup=1)
    ms = {k: 1e3 * sorted(v)[len(v) // 2] for k, v in times.items()}
    out(f"  DCGAN 28x28, batch {B.BATCH}, D step + G step (Adam), median of {reps} "
        "(each iteration ends with .item(), which waits for the GPU)")
    for k, v in ms.items():
        out(f"    {k:8s} {v:8.1f} ms/iter")
    out(f"    fused kernels: {_fused_kernels()}")
    if torch is None:
        return "ok", f"minigan {ms['minigan']:.1f} ms/iter (PyTorch with CUDA not installed)"
    gap = max(abs(a - b) for a, b in zip(first["minigan"], first["torch"]))
    out(f"    first-iteration losses agree to {gap:.1e}; minigan / PyTorch = "
        f"{ms['minigan'] / ms['torch']:.2f}")
    if gap > 1e-3:
        return "FAILED", f"minigan and PyTorch disagree on the first losses by {gap:.1e}"
    return "ok", f"minigan {ms['minigan']:.1f} ms, PyTorch {ms['torch']:.1f} ms per iteration"


def _fused_kernels():
    """Whether the iteration's Adam ran as minigan's compiled CUDA kernel (``minigan.fused``),
    or as array operations because this CuPy could not build it (slower, the same numbers)."""
    from ..optim import adam
    kernel = adam._ADAM_FAR                  # the form DCGAN's beta1 = 0.5 uses
    if kernel._gpu_ran:
        return "compiled and used (" + ", ".join(sorted(str(d) for d in kernel._gpu_ran)) + ")"
    if kernel._gpu_failed:
        return "not available here; array operations instead (slower, the same numbers)"
    return "not used"


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def short_lesson(device, out=print, timeout=900):
    """Lesson 12 with --quick on ``device``, in a scratch folder; ('ok' | ..., summary)."""
    try:
        num, name, path = course.find_lesson(LESSON)
    except ValueError:
        return "skipped", "lessons/ is in the source checkout"
    with tempfile.TemporaryDirectory(prefix="minigan-gpu-check-") as tmp:
        env = {**os.environ, "MPLBACKEND": "Agg"}
        proc = subprocess.run([sys.executable, str(path), "--quick", "--device", str(device),
                               "--out", os.path.join(tmp, f"{num}_{name}")], env=env,
                              capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        out("\n".join("  | " + ln for ln in (proc.stdout + proc.stderr).splitlines()[-30:]))
        return "FAILED", f"lesson {num} {name} exited with {proc.returncode}"
    return "ok", f"lesson {num} {name} --quick"


def check(device="cuda", out=print):
    """The whole check; the exit code: 0 when every step that ran passed, 1 otherwise
    (also when no GPU is usable, after saying why)."""
    from .. import backend
    problem = gpu_problem(device)
    if problem:
        out(f"GPU check: not run. {problem}")
        return 1
    dev = backend.Device(device)
    cp = dev.xp
    props = cp.cuda.runtime.getDeviceProperties(dev.index)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    out(f"GPU check on {dev}: {name}; CuPy {cp.__version__}")
    results = [
        _step("1/3 device tests", lambda: device_tests(dev, out), out),
        _step("2/3 DCGAN iteration", lambda: dcgan_iteration(dev, out=out), out),
        _step("3/3 short lesson", lambda: short_lesson(dev, out), out),
    ]
    failed = results.count("FAILED")
    out(f"\nGPU check: {3 - failed - results.count('skipped')} ok, {failed} failed, "
        f"{results.count('skipped')} skipped")
    return 1 if failed else 0
