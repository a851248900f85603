"""The reference DCGAN iteration on a GPU: minigan on CuPy next to PyTorch on CUDA.

    python -m benchmarks.bench_gpu [--batches 64,256,1024] [--reps 25] [--profile FILE]

The iteration is ``bench_dcgan``'s (the same layers, initial weights and Adam settings), built
on the GPU for each batch size. Printed:

* the GPU's two ceilings, measured here: the float32 matrix-product rate (CuPy ``matmul``,
  8192^3) and the copy bandwidth (a 1 GiB device-to-device copy, bytes read + written);
* per batch size, ms per iteration for minigan, for PyTorch with float32 arithmetic
  everywhere (``allow_tf32`` off for cuDNN and cuBLAS: the same arithmetic as minigan) and for
  PyTorch's defaults (cuDNN convolutions in TF32); the ratio minigan / PyTorch-float32; the
  GEMM roofline (the iteration's FLOPs at the measured matmul rate) and each one's fraction of it.

Each iteration ends with ``.item()``, which waits for the GPU, so a wall-clock time per
iteration is the GPU's time or the host's, whichever is longer. A small batch on a large GPU
is bound by the host (Python, kernel launches): the batch sweep shows where that ends.
``--profile FILE`` writes a cProfile of 20 minigan iterations at the first batch size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

try:
    from . import _harness as H
    from . import bench_dcgan as B
except ImportError:                      # run as a script
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _harness as H  # type: ignore
    import bench_dcgan as B  # type: ignore


def flops_at(batch):
    """The iteration's GEMM FLOPs scale with the batch (``bench_dcgan`` counts them at 64)."""
    return B.iteration_flops() * batch / B.BATCH


def minigan_step(batch, device="cuda"):
    """The iteration on minigan, its networks made on ``device`` (also ``info --check-gpu``'s)."""
    import minigan
    from minigan import backend, optim
    from minigan import functional as F
    from minigan import nn
    dev = backend.Device(device)
    with dev:                                       # the networks are made on the GPU
        G, D = B.build(nn)
    for mod, seed in zip((G, D), (10, 11)):
        for p, arr in zip(mod.parameters(), B.dcgan_init_arrays(mod, seed)):
            p.array[...] = backend.as_array(arr, dtype=p.dtype, device=dev)
    real, z = B.batches(batch=batch)
    return H.gan_iteration(
        G, D, optim.Adam(G.parameters(), lr=B.LR, betas=B.BETAS),
        optim.Adam(D.parameters(), lr=B.LR, betas=B.BETAS),
        [minigan.tensor(r, device=dev) for r in real], [minigan.tensor(v, device=dev) for v in z],
        minigan.ones(batch, 1, device=dev), minigan.zeros(batch, 1, device=dev),
        F.binary_cross_entropy_with_logits)


def torch_step(torch, batch, device="cuda"):
    """The same iteration on PyTorch, from the same weights and data."""
    dev = torch.device(str(device))
    G, D = B.build(torch.nn)
    G, D = G.to(dev), D.to(dev)
    with torch.no_grad():
        for mod, seed in zip((G, D), (10, 11)):
            for p, arr in zip(mod.parameters(), B.dcgan_init_arrays(mod, seed)):
                p.copy_(torch.from_numpy(arr).to(dev))
    real, z = B.batches(batch=batch)
    return H.gan_iteration(
        G, D, torch.optim.Adam(G.parameters(), lr=B.LR, betas=B.BETAS),
        torch.optim.Adam(D.parameters(), lr=B.LR, betas=B.BETAS),
        [torch.from_numpy(r).to(dev) for r in real], [torch.from_numpy(v).to(dev) for v in z],
        torch.ones(batch, 1, device=dev), torch.zeros(batch, 1, device=dev),
        torch.nn.functional.binary_cross_entropy_with_logits)


def tf32(torch, on):
    """A closure that sets PyTorch's TF32 switches before each call of ``fn``."""
    def wrap(fn):
        def run():
            torch.backends.cudnn.allow_tf32 = on
            torch.backends.cuda.matmul.allow_tf32 = on
            return fn()
        return run
    return wrap


def ceilings(cp, n=8192, reps=10):
    """(float32 matmul FLOP/s, copy bytes/s) measured with CUDA events (median of ``reps``)."""
    def timed(fn):
        fn()
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        ts = []
        for _ in range(reps):
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            ts.append(cp.cuda.get_elapsed_time(start, stop) * 1e-3)
        return statistics.median(ts)
    rng = cp.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=cp.float32)
    b = rng.standard_normal((n, n), dtype=cp.float32)
    rate = 2.0 * n ** 3 / timed(lambda: cp.matmul(a, b))
    a = b = None                                                     # free them
    src = rng.standard_normal(n * n * 4, dtype=cp.float32)           # 1 GiB at n=8192
    dst = cp.empty_like(src)
    bw = 2.0 * src.nbytes / timed(lambda: cp.copyto(dst, src))
    return rate, bw


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--profile", default=None, metavar="FILE")
    ap.add_argument("--gemm-size", type=int, default=8192, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from minigan import backend
    cp = backend.get_xp("cuda")
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    rate, bw = ceilings(cp, args.gemm_size)
    try:
        import torch
        torch = torch if torch.cuda.is_available() else None
    except ImportError:
        torch = None
    print(f"{name}; CuPy {cp.__version__}; "
          + (f"PyTorch {torch.__version__}" if torch else "no PyTorch with CUDA"))
    print(f"ceilings measured here: float32 matmul {rate / 1e12:.1f} TFLOP/s, "
          f"copy {bw / 1e12:.2f} TB/s")
    print(f"DCGAN 28x28 iteration (D step + G step, Adam), median of {args.reps} interleaved "
          "reps, each ending in .item()")
    head = f"{'batch':>6s} {'roofline ms':>12s} {'minigan ms':>11s} {'% roof':>7s}"
    if torch:
        head += f" {'torch fp32 ms':>14s} {'torch tf32 ms':>14s} {'x torch fp32':>13s}"
    print(head)
    for batch in (int(b) for b in args.batches.split(",")):
        fns = {"minigan": minigan_step(batch)}
        if torch:
            fns["torch_fp32"] = tf32(torch, False)(torch_step(torch, batch))
            fns["torch_tf32"] = tf32(torch, True)(torch_step(torch, batch))
            a, b = fns["minigan"](), fns["torch_fp32"]()
            gap = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
            if gap > 1e-3:
                print(f"  batch {batch}: first losses differ by {gap:.1e}: NOT the same "
                      "computation")
        t0 = time.perf_counter()
        times = H.interleave(fns, args.reps, warmup=3)
        ms = {k: H.summary(v) for k, v in times.items()}
        roof = flops_at(batch) / rate * 1e3
        line = f"{batch:6d} {roof:12.3f} {ms['minigan']:11.2f} {100 * roof / ms['minigan']:6.1f}%"
        if torch:
            line += (f" {ms['torch_fp32']:14.2f} {ms['torch_tf32']:14.2f} "
                     f"{ms['minigan'] / ms['torch_fp32']:13.2f}")
        print(line + f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    if args.profile:
        import cProfile
        import pstats
        step = minigan_step(int(args.batches.split(",")[0]))
        for _ in range(3):
            step()
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(20):
            step()
        pr.disable()
        with open(args.profile, "w") as fh:
            st = pstats.Stats(pr, stream=fh)
            st.sort_stats("tottime").print_stats(40)
            st.sort_stats("cumulative").print_stats(40)
        print(f"profile of 20 minigan iterations written to {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
