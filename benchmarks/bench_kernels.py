"""Forward+backward timings of minigan's kernels at the shapes of the reference DCGAN
(and of the small StyleGAN's 3x3 convolutions).

    python -m benchmarks.bench_kernels [--device cpu|cuda] [--reps 9] [--batch 64]
    python benchmarks/bench_kernels.py

For each kernel it prints the median time of ``--reps`` forward+backward passes (every input
requires a gradient, so a conv does three GEMM-sized products), the GFLOP/s that implies, the
fraction of this machine's float32 GEMM rate (a plain ``matmul`` with the same FLOPs, timed in
the same run: the roofline a GEMM-based kernel can hope for) and, when PyTorch imports, the
time ratio minigan / PyTorch on the CPU with the same number of threads (reps interleaved, so
both see the same machine load). PyTorch is never a dependency of minigan.

FLOPs of the elementwise kernels (batch norm, leaky ReLU) are nominal counts: they are
memory-bound, so their GEMM fraction is small by nature; the PyTorch ratio is the measure there.
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

# PyTorch's OpenMP threads spin-wait after each op by default; on a small machine they then
# steal the cores from the NumPy/BLAS run that follows. Passive waiting keeps the comparison fair.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):          # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigan
import minigan.functional as F
from minigan import backend

np = backend.np


# ------------------------------------------------------------------------- helpers
def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def _blas_note():
    """Which BLAS and which CPU kernels it picked, with a hint when it under-uses the CPU."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ""
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not blas:
        return ""
    p = blas[0]
    arch = p.get("architecture") or "?"
    note = f"BLAS: {p.get('internal_api')} {p.get('version') or ''} kernels for {arch}"
    try:
        with open("/proc/cpuinfo") as fh:
            avx512 = " avx512f" in fh.read()
    except OSError:
        avx512 = False
    if avx512 and p.get("internal_api") == "openblas" and arch.lower() in ("haswell", "zen"):
        note += ("\n  (this CPU has AVX-512 but OpenBLAS chose AVX2 kernels; "
                 "OPENBLAS_CORETYPE=SkylakeX may make every GEMM here up to ~2x faster)")
    return note


class Runner:
    def __init__(self, device):
        self.device = device
        self.xp = backend.get_xp(device)

    def sync(self):
        if self.device != "cpu":
            self.xp.cuda.Device().synchronize()

    def randn(self, *shape, requires_grad=True, scale=1.0):
        rng = np.random.default_rng(len(shape) + sum(shape))
        arr = (rng.standard_normal(shape) * scale).astype(np.float32)
        return minigan.Tensor(backend.as_array(arr, device=self.device),
                              requires_grad=requires_grad)


def conv_flops(n, o, cg, k, out_hw):
    return 2.0 * n * o * out_hw[0] * out_hw[1] * cg * k[0] * k[1]


# ---------------------------------------------------------------- the kernel table
def fwd_bwd_case(name, inputs, gy, ours, theirs, flops):
    """One table row: ``ours(*inputs)`` (minigan) and ``theirs(torch, *inputs)`` (PyTorch,
    on copies of the same values), each followed by a backward pass with gradient ``gy``."""
    def run():
        for t in inputs:
            t.grad = None
        ours(*inputs).backward(gy)

    def torch_factory(torch):
        tts = [torch.tensor(t.numpy(), requires_grad=t.requires_grad) for t in inputs]
        tg = torch.tensor(gy.numpy())

        def trun():
            for t in tts:
                t.grad = None
            theirs(torch, *tts).backward(tg)
        return trun
    return (name, run, torch_factory, flops)


def kernels(r, n):
    """Rows of (name, minigan closure, torch closure-factory, FLOPs of forward+backward)."""
    out = []
    for name, cin, cout, k, s, p, hw, transposed in (
            ("G ConvT 100->256 k7 s1 p0 1->7", 100, 256, 7, 1, 0, 1, True),
            ("G ConvT 256->128 k4 s2 p1 7->14", 256, 128, 4, 2, 1, 7, True),
            ("G ConvT 128->1 k4 s2 p1 14->28", 128, 1, 4, 2, 1, 14, True),
            ("D Conv 1->64 k4 s2 p1 28->14", 1, 64, 4, 2, 1, 28, False),
            ("D Conv 64->128 k4 s2 p1 14->7", 64, 128, 4, 2, 1, 14, False),
            # the small StyleGAN's 3x3 layers (stride 1): few channels on many pixels, where
            # the GEMM has 16-64 rows and the 9x column matrix costs as much as the product
            ("StyleGAN Conv 64->64 k3 s1 p1 7x7", 64, 64, 3, 1, 1, 7, False),
            ("StyleGAN Conv 64->32 k3 s1 p1 14x14", 64, 32, 3, 1, 1, 14, False),
            ("StyleGAN Conv 32->16 k3 s1 p1 28x28", 32, 16, 3, 1, 1, 28, False),
            ("StyleGAN Conv 16->16 k3 s1 p1 28x28", 16, 16, 3, 1, 1, 28, False)):
        if transposed:
            w = r.randn(cin, cout, k, k, scale=0.05)
            ho = (hw - 1) * s - 2 * p + k
            flops = conv_flops(n, cin, cout, (k, k), (hw, hw))   # the adjoint conv's FLOPs
        else:
            w = r.randn(cout, cin, k, k, scale=0.05)
            ho = (hw + 2 * p - k) // s + 1
            flops = conv_flops(n, cout, cin, (k, k), (ho, ho))
        name_fn = "conv_transpose2d" if transposed else "conv2d"
        ours = functools.partial(getattr(F, name_fn), stride=s, padding=p)

        def theirs(torch, x, w, b, _fn=name_fn, _s=s, _p=p):
            return getattr(torch.nn.functional, _fn)(x, w, b, stride=_s, padding=_p)
        out.append(fwd_bwd_case(name, [r.randn(n, cin, hw, hw), w, r.randn(cout)],
                                r.randn(n, cout, ho, ho, requires_grad=False), ours, theirs,
                                3 * flops))

    out.append(fwd_bwd_case(
        "D Linear 6272->1", [r.randn(n, 6272), r.randn(1, 6272, scale=0.01), r.randn(1)],
        r.randn(n, 1, requires_grad=False), F.linear,
        lambda torch, x, w, b: torch.nn.functional.linear(x, w, b), 3 * 2.0 * n * 6272))

    missing = [name for name in ("batch_norm", "scaled_dot_product_attention", "leaky_relu")
               if not hasattr(F, name)]
    if hasattr(F, "batch_norm"):
        c, hw = 128, 14                   # the BN after G's second ConvT
        inputs = [r.randn(n, c, hw, hw), r.randn(c), r.randn(c),
                  minigan.Tensor(r.xp.zeros(c, dtype=np.float32)),
                  minigan.Tensor(r.xp.ones(c, dtype=np.float32))]
        out.append(fwd_bwd_case(
            f"F.batch_norm train ({n},{c},{hw},{hw})", inputs,
            r.randn(n, c, hw, hw, requires_grad=False),
            lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True),
            lambda torch, x, w, b, rm, rv: torch.nn.functional.batch_norm(
                x, rm, rv, w, b, training=True),
            20.0 * n * c * hw * hw))
    if hasattr(F, "leaky_relu"):
        shape = (n, 64, 14, 14)           # D's first activation
        out.append(fwd_bwd_case(
            f"F.leaky_relu {shape}", [r.randn(*shape)], r.randn(*shape, requires_grad=False),
            lambda x: F.leaky_relu(x, 0.2),
            lambda torch, x: torch.nn.functional.leaky_relu(x, 0.2),
            3.0 * n * 64 * 14 * 14))
    if hasattr(F, "scaled_dot_product_attention"):
        # SAGAN-style self-attention over D's 14x14 feature map: L = 196, d_k = 16, d_v = 64
        L, dk, dv = 196, 16, 64
        out.append(fwd_bwd_case(
            f"F.sdp_attention L={L} dk={dk} dv={dv}",
            [r.randn(n, L, dk), r.randn(n, L, dk), r.randn(n, L, dv)],
            r.randn(n, L, dv, requires_grad=False), F.scaled_dot_product_attention,
            lambda torch, q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v),
            3 * 2.0 * n * L * L * (dk + dv)))
    return out, missing


def gemm_case(r, flops):
    """A square float32 GEMM with (about) the given FLOPs."""
    m = max(8, int(round((flops / 2.0) ** (1.0 / 3.0))))
    a = r.xp.asarray(np.random.default_rng(0).standard_normal((m, m)), dtype=np.float32)
    bm = r.xp.asarray(np.random.default_rng(1).standard_normal((m, m)), dtype=np.float32)
    return (lambda: r.xp.matmul(a, bm)), 2.0 * m ** 3


# ---------------------------------------------------------------------------- main
def _timed(fn, sync):
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--reps", type=int, default=9, help="timed repetitions (median; >= 7)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS (and PyTorch) threads; default: what BLAS uses now. 1 gives "
                         "stable numbers on a shared machine")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="summary of the reps (min is robust to other load on the machine)")
    args = ap.parse_args(argv)
    reps = max(7, args.reps)
    r = Runner(args.device)
    torch = None
    limiter = None
    if args.threads is not None:
        limiter = backend.blas_threads(args.threads)     # pinned: no adaptive default
    threads = _blas_threads()
    if not args.no_torch and r.device == "cpu":
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            torch = None
    table, missing = kernels(r, args.batch)
    summary = statistics.median if args.stat == "median" else min
    print(f"minigan kernels, forward+backward, batch {args.batch}, float32, device {args.device}, "
          f"{threads} BLAS thread(s), {args.stat} of {reps}")
    note = _blas_note()
    if note:
        print(note)
    if torch is not None:
        print(f"PyTorch {torch.__version__} on the CPU with {torch.get_num_threads()} thread(s)")
    head = f"{'kernel':40s} {'ms':>9s} {'GFLOP/s':>9s} {'GEMM GF/s':>10s} {'of GEMM':>8s}"
    head += f" {'torch ms':>9s} {'x torch':>8s}" if torch is not None else ""
    print(head)
    print("-" * len(head))
    for name, run, torch_factory, flops in table:
        gemm, gemm_flops = gemm_case(r, flops)
        trun = torch_factory(torch) if torch is not None else None
        for _ in range(2):                                  # warm-up
            run(), gemm()
            if trun:
                trun()
        r.sync()
        mine, ref, tt = [], [], []
        for _ in range(reps):                               # interleaved reps
            mine.append(_timed(run, r.sync))
            ref.append(_timed(gemm, r.sync))
            if trun:
                tt.append(_timed(trun, lambda: None))
        ms = summary(mine) * 1e3
        gf = flops / (ms * 1e-3) / 1e9
        gemm_gf = gemm_flops / summary(ref) / 1e9
        line = f"{name:40s} {ms:9.3f} {gf:9.1f} {gemm_gf:10.1f} {gf / gemm_gf:8.0%}"
        if trun:
            tms = summary(tt) * 1e3
            line += f" {tms:9.3f} {ms / tms:8.2f}"
        print(line, flush=True)
    for name in missing:
        print(f"(F.{name} is not in minigan.functional yet: skipped)")
    if limiter is not None:
        limiter.__exit__(None, None, None)   # also a no-op nullcontext
    return 0


if __name__ == "__main__":
    sys.exit(main())
