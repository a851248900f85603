"""One training iteration of the reference DCGAN (28x28, batch 64), minigan next to PyTorch.

    python -m benchmarks.bench_dcgan [--reps 9] [--threads N] [--stat median|min]
                                     [--no-torch] [--no-memory] [--profile]

The iteration is the PyTorch DCGAN example's, written twice, layer for layer (once with
``minigan.nn`` / ``minigan.optim``, once with ``torch.nn`` / ``torch.optim``), both starting
from the same weights:

    D step:  fake = G(z);  loss_D = BCE(D(real), 1) + BCE(D(fake.detach()), 0);  Adam step on D
    G step:  loss_G = BCE(D(fake), 1);  Adam step on G        (Adam lr 2e-4, betas (0.5, 0.999))

    G: ConvT(100->256, k7, s1, p0) -> BN -> ReLU -> ConvT(256->128, k4, s2, p1) -> BN -> ReLU
       -> ConvT(128->1, k4, s2, p1) -> Tanh
    D: Conv(1->64, k4, s2, p1) -> LeakyReLU(0.2) -> Conv(64->128, k4, s2, p1) -> BN
       -> LeakyReLU(0.2) -> Flatten -> Linear(6272->1)

Printed: ms/iteration (median of >= 7 interleaved repetitions: minigan, PyTorch, GEMM, ...),
the GEMM roofline (this machine's float32 ``matmul`` at the iteration's FLOPs, timed in the same
run) and each framework's fraction of it (roofline time / iteration time), the ratio
minigan / PyTorch, and the peak memory of one iteration for both frameworks
(method: ``benchmarks._harness.measure_memory``). The first iteration's losses of the two
implementations are compared, as a check that they compute the same thing.
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

BATCH, Z_DIM, SIZE = 64, 100, 28
G_SPEC = [(100, 256, 7, 1, 0), (256, 128, 4, 2, 1), (128, 1, 4, 2, 1)]   # ConvT layers
D_SPEC = [(1, 64, 4, 2, 1), (64, 128, 4, 2, 1)]                          # Conv layers
LR, BETAS = 2e-4, (0.5, 0.999)


# ------------------------------------------------------------------------------ models
def build(nn, init_seed=0):
    """G and D from an ``nn`` namespace (minigan.nn or torch.nn): the same code for both."""
    (a, b, k1, s1, p1), (c, d, k2, s2, p2), (e, f, k3, s3, p3) = G_SPEC
    G = nn.Sequential(
        nn.ConvTranspose2d(a, b, k1, s1, p1, bias=False), nn.BatchNorm2d(b), nn.ReLU(),
        nn.ConvTranspose2d(c, d, k2, s2, p2, bias=False), nn.BatchNorm2d(d), nn.ReLU(),
        nn.ConvTranspose2d(e, f, k3, s3, p3, bias=True), nn.Tanh())
    (a, b, k1, s1, p1), (c, d, k2, s2, p2) = D_SPEC
    D = nn.Sequential(
        nn.Conv2d(a, b, k1, s1, p1, bias=True), nn.LeakyReLU(0.2),
        nn.Conv2d(c, d, k2, s2, p2, bias=False), nn.BatchNorm2d(d), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(d * 7 * 7, 1))
    return G, D


def dcgan_init_arrays(module, seed):
    """DCGAN initial values (N(0, 0.02) weights, N(1, 0.02) BN scales, zero biases) as NumPy
    arrays, one per parameter in ``parameters()`` order, drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    out = []
    for name, p in module.named_parameters():
        shape = tuple(p.shape)
        if name.endswith("bias"):
            out.append(np.zeros(shape, np.float32))
        elif len(shape) == 1:                       # a batch-norm scale
            out.append((1.0 + 0.02 * rng.standard_normal(shape)).astype(np.float32))
        else:
            out.append((0.02 * rng.standard_normal(shape)).astype(np.float32))
    return out


def batches(n_pool=4, seed=1, batch=BATCH):
    """A few fixed (real, z) batches, cycled: the same numbers for both frameworks."""
    rng = np.random.default_rng(seed)
    real = [rng.uniform(-1, 1, (batch, 1, SIZE, SIZE)).astype(np.float32) for _ in range(n_pool)]
    z = [rng.standard_normal((batch, Z_DIM, 1, 1)).astype(np.float32) for _ in range(n_pool)]
    return real, z


def minigan_iteration():
    """The iteration written against minigan; returns ``step() -> (loss_D, loss_G)``."""
    return H.build_iteration("minigan", build, dcgan_init_arrays, batches, BATCH, LR, BETAS, (10, 11))


def torch_iteration(torch):
    """The same iteration against PyTorch: the same ``build``, weights and data."""
    return H.build_iteration("torch", build, dcgan_init_arrays, batches, BATCH, LR, BETAS, (10, 11), torch)


# ------------------------------------------------------------------------------- FLOPs
def iteration_flops():
    """GEMM FLOPs of one iteration (convs and the linear layer; elementwise work not counted).

    G runs forward once and backward once (no gradient for z, so its first layer has no
    data gradient); D runs forward three times (real, fake.detach(), fake) and backward three
    times; only the G step's pass needs the gradient of D's input (D's first conv).
    """
    n, total = BATCH, 0.0
    hw = 1
    for i, (cin, cout, k, s, p) in enumerate(G_SPEC):      # the adjoint conv's FLOPs
        f = 2.0 * n * cin * hw * hw * cout * k * k
        total += f * (2 + (i > 0))                          # forward, weight grad, data grad
        hw = (hw - 1) * s - 2 * p + k
    hw = SIZE
    for i, (cin, cout, k, s, p) in enumerate(D_SPEC):
        hw = (hw + 2 * p - k) // s + 1
        f = 2.0 * n * cout * hw * hw * cin * k * k
        total += f * (3 + 3 + (1 if i == 0 else 3))
    total += 2.0 * n * 128 * 7 * 7 * (3 + 3 + 3)
    return total


# -------------------------------------------------------------------------------- main
def run(reps=9, threads=None, stat="median", use_torch=True, memory=True, out=print):
    """Time the iteration (and measure memory); returns a dict of the figures."""
    limiter = None
    if threads is not None:
        from minigan import backend as _backend  # pins the count (no adaptive default)
        limiter = _backend.blas_threads(threads)
    torch = H.try_torch(threads) if use_torch else None
    flops = iteration_flops()
    fns = {"minigan": minigan_iteration()}
    if torch is not None:
        fns["torch"] = torch_iteration(torch)
        a, b = fns["minigan"](), fns["torch"]()
        check = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
    gemm, gemm_flops = H.gemm_closure(flops)
    fns["gemm"] = gemm
    times = H.interleave(fns, max(7, reps))
    res = {"flops": flops, "load": H.machine_line()}
    ms = {k: H.summary(v, stat) for k, v in times.items()}
    roof = ms.pop("gemm") * flops / gemm_flops
    res.update(ms=ms, roofline_ms=roof)
    out(f"DCGAN 28x28 training iteration (batch {BATCH}, float32, D step + G step, Adam), "
        f"{stat} of {max(7, reps)} interleaved reps")
    out("  " + res["load"])
    if torch is not None:
        out(f"  PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s); first-iteration "
            f"losses agree to {check:.1e}")
    gemm_rate = gemm_flops / (H.summary(times["gemm"], stat) * 1e-3) / 1e9
    out(f"  {flops / 1e9:.2f} GFLOP of GEMM work per iteration; GEMM roofline {roof:.1f} ms "
        f"(float32 matmul at {gemm_rate:.0f} GFLOP/s)")
    head = f"  {'':10s} {'ms/iter':>9s} {'% of roofline':>14s}"
    if torch is not None:
        head += f" {'x torch':>8s}"
    out(head)
    res["roofline_fraction"] = roof / ms["minigan"]
    for name in ("minigan", "torch"):
        if name in ms:
            line = f"  {name:10s} {ms[name]:9.1f} {100 * roof / ms[name]:13.0f}%"
            if torch is not None:
                line += f" {ms[name] / ms['torch']:8.2f}"
            out(line)
    if torch is not None:
        res["ratio"] = ms["minigan"] / ms["torch"]
    if memory:
        mem = {"minigan": H.measure_memory("benchmarks.bench_dcgan", "minigan")}
        if torch is not None:
            mem["torch"] = H.measure_memory("benchmarks.bench_dcgan", "torch")
        res["memory"] = mem
        out("  peak memory of one iteration above the weights+optimizer state (MiB):")
        mg = mem["minigan"]
        line = (f"    minigan  RSS {mg.get('rss_peak_mib', float('nan')):7.1f}   "
                f"tracemalloc {mg.get('tracemalloc_peak_mib', float('nan')):7.1f}")
        out(line)
        if "torch" in mem:
            tm = mem["torch"]
            out(f"    torch    RSS {tm.get('rss_peak_mib', float('nan')):7.1f}")
            if "rss_peak_mib" in mg and "rss_peak_mib" in tm:
                res["memory_ratio"] = mg["rss_peak_mib"] / tm["rss_peak_mib"]
                out(f"    ratio minigan / torch (RSS): {res['memory_ratio']:.2f}")
    if limiter is not None:
        limiter.__exit__(None, None, None)   # also a no-op nullcontext
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--stat", choices=("median", "min"), default="median")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the minigan iteration")
    ap.add_argument("--memory-child", choices=("minigan", "torch"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        if args.memory_child == "torch":
            step = torch_iteration(H.try_torch())
        else:
            step = minigan_iteration()
        H.memory_child(step, use_tracemalloc=args.memory_child == "minigan")
        return 0
    if args.profile:
        H.profile(minigan_iteration(), n=10)
        return 0
    run(args.reps, args.threads, args.stat, not args.no_torch, not args.no_memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
