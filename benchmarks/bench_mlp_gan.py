"""One training iteration of a tiny MLP GAN on a 1-D toy: per-op Python overhead, next to PyTorch.

    python -m benchmarks.bench_mlp_gan [--reps 200] [--threads 1] [--stat median|min] [--no-torch]
                                       [--profile]

G: Linear(1->32) -> Tanh -> Linear(32->32) -> Tanh -> Linear(32->1)
D: Linear(1->32) -> LeakyReLU(0.2) -> Linear(32->32) -> LeakyReLU(0.2) -> Linear(32->1)
batch 128, the same iteration as the DCGAN benchmark (D step on real + fake, G step,
non-saturating BCE-with-logits losses, Adam lr 2e-4, betas (0.5, 0.999)), written once with
minigan and once with PyTorch, from the same weights.

The arithmetic is negligible (about 0.1 MFLOP per iteration): the time is what each framework
spends per operation (building the graph, dispatching, allocating small arrays). The table
prints ms/iteration, the number of minigan ops (Function calls, forward and backward) in one
iteration and the time per op, and the ratio to PyTorch (median of interleaved reps: 200 by
default, since one rep is a single iteration of well under a millisecond: runs of the same
code gave ratios 0.64-0.73 with 15 reps, the default until 2026-12-05, and 0.64-0.69 with 200,
seven of eight within 0.67-0.69).
Both run with one thread by default (``--threads``): at this size no op is worth splitting, and
on a loaded machine every wake-up of a second OpenMP/BLAS thread costs PyTorch (or NumPy) a
scheduler time slice, which would measure the machine's load, not the frameworks.
"""
from __future__ import annotations

import argparse
import sys

try:
    from . import _harness as H
except ImportError:                      # run as a script
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _harness as H  # type: ignore

import numpy as np

BATCH, HIDDEN = 128, 32
LR, BETAS = 2e-4, (0.5, 0.999)


def build(nn):
    G = nn.Sequential(nn.Linear(1, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
                      nn.Linear(HIDDEN, 1))
    D = nn.Sequential(nn.Linear(1, HIDDEN), nn.LeakyReLU(0.2), nn.Linear(HIDDEN, HIDDEN),
                      nn.LeakyReLU(0.2), nn.Linear(HIDDEN, 1))
    return G, D


def init_arrays(module, seed):
    rng = np.random.default_rng(seed)
    out = []
    for p in module.parameters():
        fan_in = p.shape[1] if len(p.shape) == 2 else HIDDEN
        bound = 1.0 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32))
    return out


def batches(n_pool=8, seed=2):
    rng = np.random.default_rng(seed)
    real = [rng.normal(4.0, 0.5, (BATCH, 1)).astype(np.float32) for _ in range(n_pool)]
    z = [rng.standard_normal((BATCH, 1)).astype(np.float32) for _ in range(n_pool)]
    return real, z


def minigan_iteration():
    """The iteration written against minigan; returns ``step() -> (loss_D, loss_G)``."""
    return H.build_iteration("minigan", build, init_arrays, batches, BATCH, LR, BETAS, (20, 21))


def torch_iteration(torch):
    """The same iteration against PyTorch: the same ``build``, weights and data."""
    return H.build_iteration("torch", build, init_arrays, batches, BATCH, LR, BETAS, (20, 21),
                             torch)


def count_ops(step):
    """Function calls (forward ops, and the ops the backward rules run) in one ``step()``."""
    from minigan import autograd
    count = [0]
    original = autograd.Function.__call__

    def counting(self, *inputs):
        count[0] += 1
        return original(self, *inputs)
    autograd.Function.__call__ = counting
    try:
        step()
    finally:
        autograd.Function.__call__ = original
    return count[0]


def flops():
    per_pass = 2.0 * BATCH * (HIDDEN + HIDDEN * HIDDEN + HIDDEN)
    return per_pass * (3 * 3 + 3)     # G fwd+bwd (x3), D 3 forward + 3 backward (x3 each)


def run(reps=200, stat="median", use_torch=True, threads=1, out=print):
    limiter = None
    if threads is not None:
        from minigan import backend as _backend  # pins the count (no adaptive default)
        limiter = _backend.blas_threads(threads)
    torch = H.try_torch(threads) if use_torch else None
    fns = {"minigan": minigan_iteration()}
    n_ops = count_ops(fns["minigan"])
    check = None
    if torch is not None:
        fns["torch"] = torch_iteration(torch)
        # same weights, same data: the first iteration's losses agree (the minigan step above
        # already ran once, so compare two fresh instances)
        a, b = minigan_iteration()(), torch_iteration(torch)()
        check = max(abs(x - y) for x, y in zip(a, b))
    gemm, gemm_flops = H.gemm_closure(flops())
    fns["gemm"] = gemm
    times = H.interleave(fns, max(7, reps), warmup=5)
    ms = {k: H.summary(v, stat) for k, v in times.items()}
    roof = ms.pop("gemm") * flops() / gemm_flops
    out(f"tiny-MLP GAN iteration (1-D toy, batch {BATCH}, hidden {HIDDEN}x2, float32, "
        f"D step + G step, Adam), {stat} of {max(7, reps)} interleaved reps")
    out("  " + H.machine_line())
    if check is not None:
        out(f"  PyTorch {torch.__version__}; first-iteration losses agree to {check:.1e}")
    out(f"  {flops() / 1e6:.2f} MFLOP per iteration; GEMM roofline {roof * 1e3:.0f} us; "
        f"{n_ops} minigan ops per iteration; {H.blas_threads()} thread(s)")
    head = f"  {'':10s} {'ms/iter':>9s} {'us/op':>7s}" + (f" {'x torch':>8s}" if torch else "")
    out(head)
    for name in ("minigan", "torch"):
        if name in ms:
            per_op = f"{ms[name] * 1e3 / n_ops:7.1f}" if name == "minigan" else f"{'-':>7s}"
            line = f"  {name:10s} {ms[name]:9.3f} {per_op}"
            if torch is not None:
                line += f" {ms[name] / ms['torch']:8.2f}"
            out(line)
    res = {"ms": ms, "ops": n_ops, "load": H.machine_line(), "roofline_ms": roof}
    if torch is not None:
        res["ratio"] = ms["minigan"] / ms["torch"]
    if limiter is not None:
        limiter.__exit__(None, None, None)   # also a no-op nullcontext
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (1)")
    ap.add_argument("--stat", choices=("median", "min"), default="median")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    if args.profile:
        H.profile(minigan_iteration(), n=300, warmup=5)
        return 0
    run(args.reps, args.stat, not args.no_torch, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
