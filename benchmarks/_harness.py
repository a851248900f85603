"""Shared pieces of the training-iteration benchmarks (``bench_dcgan``, ``bench_mlp_gan``).

* ``interleave``: time several closures rep by rep (A B C A B C ...), so every one of them sees
  the same machine load; the summary is the median (or min) per closure.
* ``gemm_ms``: the time this machine's float32 GEMM needs for a given number of FLOPs (a square
  ``matmul`` with that many FLOPs, timed in the same run): the roofline of GEMM-bound work.
* ``memory_child`` / ``measure_memory``: the peak memory of one training iteration, measured in
  a fresh subprocess per framework (see ``measure_memory`` for the method).
* ``machine_line``: load average, cores, BLAS kernels, ``OPENBLAS_CORETYPE``: what a reader
  needs to judge a timing taken on a shared machine.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

# PyTorch's OpenMP threads spin-wait after each op by default; on a small machine they then
# steal the cores from the NumPy/BLAS run that follows. Passive waiting keeps the comparison fair.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def try_torch(threads=None):
    """PyTorch (reference only, never a dependency) or None; same thread count as BLAS."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or blas_threads())
    return torch


def blas_threads():
    from benchmarks.bench_kernels import _blas_threads
    return _blas_threads()


def blas_arch():
    try:
        from threadpoolctl import threadpool_info
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            return f"{blas[0].get('internal_api')} {blas[0].get('architecture')}"
    except ImportError:
        pass
    return "?"


def machine_line():
    la = os.getloadavg()
    core = os.environ.get("OPENBLAS_CORETYPE", "unset")
    return (f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} cores; "
            f"BLAS {blas_arch()} x{blas_threads()} threads; OPENBLAS_CORETYPE={core}")


def interleave(fns, reps, warmup=2):
    """``{name: [seconds per rep]}`` for closures ``fns`` ({name: fn}), reps interleaved."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def gan_iteration(G, D, optG, optD, real, z, ones, zeros, bce):
    """``step()``: one GAN training iteration as in the PyTorch DCGAN example, for either
    framework (the same code runs on minigan's and PyTorch's objects):

        D step: fake = G(z); loss_D = bce(D(real), 1) + bce(D(fake.detach()), 0); optD.step()
        G step: loss_G = bce(D(fake), 1); optG.step()

    ``real`` and ``z`` are lists of batches, cycled. Returns (loss_D, loss_G) as floats."""
    it = [0]

    def step():
        i = it[0] % len(real)
        it[0] += 1
        optD.zero_grad()
        fake = G(z[i])
        loss_d = bce(D(real[i]), ones) + bce(D(fake.detach()), zeros)
        loss_d.backward()
        optD.step()
        optG.zero_grad()
        loss_g = bce(D(fake), ones)
        loss_g.backward()
        optG.step()
        return float(loss_d.item()), float(loss_g.item())
    return step


def build_iteration(framework, build, init, batches, batch, lr, betas, seeds, torch=None):
    """The GAN iteration for ``framework`` ('minigan' or 'torch'): networks from ``build(nn)``
    (the same function for both, so the two are the same layers), initial values from
    ``init(module, seed)`` (NumPy arrays, one per parameter), data from ``batches()``, Adam."""
    if framework == "torch":
        nn, Adam, F = torch.nn, torch.optim.Adam, torch.nn.functional
        as_tensor, ones, zeros = torch.from_numpy, torch.ones, torch.zeros

        def copy_into(p, arr):
            with torch.no_grad():
                p.copy_(torch.from_numpy(arr))
    else:
        import minigan
        from minigan import nn, optim
        import minigan.functional as F
        Adam, as_tensor, ones, zeros = optim.Adam, minigan.Tensor, minigan.ones, minigan.zeros

        def copy_into(p, arr):
            p.array[...] = arr
    G, D = build(nn)
    for mod, seed in zip((G, D), seeds):
        for p, arr in zip(mod.parameters(), init(mod, seed)):
            copy_into(p, arr)
    real, z = batches()
    return gan_iteration(G, D, Adam(G.parameters(), lr=lr, betas=betas),
                         Adam(D.parameters(), lr=lr, betas=betas),
                         [as_tensor(r) for r in real], [as_tensor(v) for v in z],
                         ones(batch, 1), zeros(batch, 1), F.binary_cross_entropy_with_logits)


def profile(step, n, top=30, warmup=2):
    """cProfile of ``n`` calls of ``step`` (after ``warmup``), sorted by own time."""
    import cProfile
    import pstats
    for _ in range(warmup):
        step()
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(n):
        step()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


def summary(ts, stat="median"):
    return (statistics.median(ts) if stat == "median" else min(ts)) * 1e3


def gemm_closure(flops, seed=0):
    """A square float32 GEMM with (about) ``flops`` FLOPs, and its exact FLOP count."""
    import numpy as np
    m = max(8, int(round((flops / 2.0) ** (1.0 / 3.0))))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, m)).astype(np.float32)
    b = rng.standard_normal((m, m)).astype(np.float32)
    return (lambda: np.matmul(a, b)), 2.0 * m ** 3


# ----------------------------------------------------------------------------- memory
def _status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_hwm():
    """Reset the kernel's peak-RSS counter (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def memory_child(step, use_tracemalloc, warmup=2):
    """Run in the subprocess: warm up (Adam states exist, first-call caches are built), then
    measure one iteration. Prints one JSON line."""
    import gc
    for _ in range(warmup):
        step()
    gc.collect()
    out = {}
    if _reset_hwm():
        base = _status_kb("VmRSS")
        step()
        out["rss_peak_mib"] = (_status_kb("VmHWM") - base) / 1024
        out["rss_base_mib"] = base / 1024
    if use_tracemalloc:
        import tracemalloc
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        out["tracemalloc_peak_mib"] = (tracemalloc.get_traced_memory()[1] - base) / 2 ** 20
        tracemalloc.stop()
    print("MEMORY " + json.dumps(out), flush=True)


def measure_memory(module, framework, extra_args=()):
    """Peak memory of one iteration of ``framework`` ('minigan' or 'torch'), in a fresh process.

    Method (the same for both frameworks): in a subprocess with glibc told to serve every
    allocation of 64 KiB or more by ``mmap`` (``MALLOC_MMAP_THRESHOLD_``; freed blocks go back
    to the kernel at once, so the resident set follows the live arrays instead of the
    allocator's cache), the models and optimizer are built and two iterations run; then the
    kernel's peak-RSS counter is reset (``/proc/self/clear_refs``), one iteration runs, and
    the peak is ``VmHWM - VmRSS`` before it: the memory the iteration needed on top of the
    weights, optimizer state and data. For minigan, ``tracemalloc`` (NumPy reports its array
    buffers to it) measures the same iteration's peak of Python+NumPy allocations as a check.
    """
    # MINIGAN_MALLOC_TUNING=0: minigan's own allocator tuning (minigan/allocator.py) would
    # otherwise raise the thresholds again on import and keep freed blocks resident
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0",
               MINIGAN_MALLOC_TUNING="0")
    cmd = [sys.executable, "-m", module, "--memory-child", framework, *extra_args]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in res.stdout.splitlines():
        if line.startswith("MEMORY "):
            return json.loads(line[len("MEMORY "):])
    raise RuntimeError(f"memory child failed: {res.stderr[-2000:]}")
