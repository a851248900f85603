"""Forward+backward timings of minigan's kernels at the shapes of the reference DCGAN.

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
import os
import statistics
import sys
import time

# PyTorch's OpenMP threads spin-wait after each op by default; on a small machine they then
# steal the cores from the NumPy/BLAS run that follows. Passive waiting keeps the comparison fair.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):          # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigan  # noqa: E402
from minigan import backend  # noqa: E402
import minigan.functional as F  # noqa: E402

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
def kernels(r, n):
    """(name, minigan closure, torch closure-factory or None, FLOPs of forward+backward)."""
    out = []

    def conv_case(name, cin, cout, k, s, p, hw, transposed):
        x = r.randn(n, cin, hw, hw)
        if transposed:
            w = r.randn(cin, cout, k, k, scale=0.05)
            ho = (hw - 1) * s - 2 * p + k
            fwd_flops = conv_flops(n, cin, cout, (k, k), (hw, hw))   # the adjoint conv's FLOPs
        else:
            w = r.randn(cout, cin, k, k, scale=0.05)
            ho = (hw + 2 * p - k) // s + 1
            fwd_flops = conv_flops(n, cout, cin, (k, k), (ho, ho))
        b = r.randn(cout)
        gy = r.randn(n, cout, ho, ho, requires_grad=False)
        op = F.conv_transpose2d if transposed else F.conv2d

        def run():
            for t in (x, w, b):
                t.grad = None
            y = op(x, w, b, stride=s, padding=p)
            y.backward(gy)

        def torch_factory(torch):
            tf = torch.nn.functional
            tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
            tg = torch.tensor(gy.numpy())
            top = tf.conv_transpose2d if transposed else tf.conv2d

            def trun():
                for t in (tx, tw, tb):
                    t.grad = None
                top(tx, tw, tb, stride=s, padding=p).backward(tg)
            return trun
        out.append((name, run, torch_factory, 3 * fwd_flops))

    conv_case("G ConvT 100->256 k7 s1 p0 1->7", 100, 256, 7, 1, 0, 1, True)
    conv_case("G ConvT 256->128 k4 s2 p1 7->14", 256, 128, 4, 2, 1, 7, True)
    conv_case("G ConvT 128->1 k4 s2 p1 14->28", 128, 1, 4, 2, 1, 14, True)
    conv_case("D Conv 1->64 k4 s2 p1 28->14", 1, 64, 4, 2, 1, 28, False)
    conv_case("D Conv 64->128 k4 s2 p1 14->7", 64, 128, 4, 2, 1, 14, False)

    # Linear(6272 -> 1)
    x, w, b = r.randn(n, 6272), r.randn(1, 6272, scale=0.01), r.randn(1)
    gy = r.randn(n, 1, requires_grad=False)

    def run_linear():
        for t in (x, w, b):
            t.grad = None
        F.linear(x, w, b).backward(gy)

    def torch_linear(torch):
        tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
        tg = torch.tensor(gy.numpy())

        def trun():
            for t in (tx, tw, tb):
                t.grad = None
            torch.nn.functional.linear(tx, tw, tb).backward(tg)
        return trun
    out.append(("D Linear 6272->1", run_linear, torch_linear, 3 * 2.0 * n * 6272))

    missing = [name for name in ("batch_norm", "scaled_dot_product_attention", "leaky_relu")
               if not hasattr(F, name)]
    if hasattr(F, "batch_norm"):
        out.append(_batch_norm_case(r, n))
    if hasattr(F, "leaky_relu"):
        out.append(_leaky_case(r, n))
    if hasattr(F, "scaled_dot_product_attention"):
        out.append(_attention_case(r, n))
    return out, missing


def _batch_norm_case(r, n):
    c, hw = 128, 14                       # the BN after G's second ConvT
    x, w, b = r.randn(n, c, hw, hw), r.randn(c), r.randn(c)
    gy = r.randn(n, c, hw, hw, requires_grad=False)
    rm = minigan.Tensor(r.xp.zeros(c, dtype=np.float32))
    rv = minigan.Tensor(r.xp.ones(c, dtype=np.float32))

    def run():
        for t in (x, w, b):
            t.grad = None
        F.batch_norm(x, rm, rv, w, b, training=True).backward(gy)

    def torch_factory(torch):
        tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
        trm, trv, tg = torch.zeros(c), torch.ones(c), torch.tensor(gy.numpy())

        def trun():
            for t in (tx, tw, tb):
                t.grad = None
            torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True).backward(tg)
        return trun
    return (f"F.batch_norm train ({n},{c},{hw},{hw})", run, torch_factory, 20.0 * x.numel())


def _leaky_case(r, n):
    shape = (n, 64, 14, 14)               # D's first activation
    x = r.randn(*shape)
    gy = r.randn(*shape, requires_grad=False)

    def run():
        x.grad = None
        F.leaky_relu(x, 0.2).backward(gy)

    def torch_factory(torch):
        tx, tg = torch.tensor(x.numpy(), requires_grad=True), torch.tensor(gy.numpy())

        def trun():
            tx.grad = None
            torch.nn.functional.leaky_relu(tx, 0.2).backward(tg)
        return trun
    return (f"F.leaky_relu {shape}", run, torch_factory, 3.0 * x.numel())


def _attention_case(r, n):
    # SAGAN-style self-attention over D's 14x14 feature map: L = 196, d_k = 16, d_v = 64
    L, dk, dv = 196, 16, 64
    q, k, v = r.randn(n, L, dk), r.randn(n, L, dk), r.randn(n, L, dv)
    gy = r.randn(n, L, dv, requires_grad=False)

    def run():
        for t in (q, k, v):
            t.grad = None
        F.scaled_dot_product_attention(q, k, v).backward(gy)

    def torch_factory(torch):
        tq, tk, tv = (torch.tensor(t.numpy(), requires_grad=True) for t in (q, k, v))
        tg = torch.tensor(gy.numpy())

        def trun():
            for t in (tq, tk, tv):
                t.grad = None
            torch.nn.functional.scaled_dot_product_attention(tq, tk, tv).backward(tg)
        return trun
    flops = 3 * 2.0 * n * L * L * (dk + dv)
    return (f"F.sdp_attention L={L} dk={dk} dv={dv}", run, torch_factory, flops)


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
    args = ap.parse_args(argv)
    reps = max(7, args.reps)
    r = Runner(args.device)
    torch = None
    threads = _blas_threads()
    if not args.no_torch and r.device == "cpu":
        try:
            import torch  # noqa: F811  (reference only)
            torch.set_num_threads(threads)
        except ImportError:
            torch = None
    table, missing = kernels(r, args.batch)
    print(f"minigan kernels, forward+backward, batch {args.batch}, float32, device {args.device}, "
          f"{threads} BLAS thread(s), median of {reps}")
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
        ms = statistics.median(mine) * 1e3
        gf = flops / (ms * 1e-3) / 1e9
        gemm_gf = gemm_flops / statistics.median(ref) / 1e9
        line = f"{name:40s} {ms:9.3f} {gf:9.1f} {gemm_gf:10.1f} {gf / gemm_gf:8.0%}"
        if trun:
            tms = statistics.median(tt) * 1e3
            line += f" {tms:9.3f} {ms / tms:8.2f}"
        print(line, flush=True)
    for name in missing:
        print(f"(F.{name} is not in minigan.functional yet: skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
