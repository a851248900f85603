"""Every benchmark, one command:  python -m benchmarks.run_all

    python -m benchmarks.run_all [--reps 9] [--threads N] [--skip-kernels] [--no-memory]
                                 [--default-coretype]

1. the kernel table (``bench_kernels``): forward+backward of each kernel of the reference
   DCGAN, ms, GFLOP/s, fraction of the GEMM rate, ratio to PyTorch;
2. the DCGAN training iteration (``bench_dcgan``): ms/iter next to the GEMM roofline and
   PyTorch, and the peak memory of one iteration for both;
3. the tiny-MLP GAN iteration (``bench_mlp_gan``): per-op overhead, ratio to PyTorch.

Every ratio compares numbers measured in the same run with interleaved repetitions. The
machine's load average is printed with each table: on a shared machine, compare ratios,
not absolute times, and re-run when the load is low.

``--default-coretype``: when ``OPENBLAS_CORETYPE`` is set in the environment (it changes which
GEMM kernels OpenBLAS uses), run the DCGAN and MLP benchmarks a second time without it, in a
subprocess: what a student gets on this machine by default.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

try:
    from . import _harness as H
except ImportError:                      # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _harness as H  # type: ignore  # noqa: F401

from benchmarks import bench_dcgan, bench_kernels, bench_mlp_gan  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=9, help="interleaved repetitions (>= 7)")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS/PyTorch threads for the kernel table and the DCGAN iteration "
                         "(default: minigan's adaptive default, backend.auto_blas_threads; "
                         "PyTorch all cores); the MLP iteration always uses 1")
    ap.add_argument("--skip-kernels", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--default-coretype", action="store_true",
                    help="also run without OPENBLAS_CORETYPE (in a subprocess)")
    args = ap.parse_args(argv)
    reps = max(7, args.reps)
    if not args.skip_kernels:
        kargs = ["--reps", str(reps)]
        if args.threads is not None:
            kargs += ["--threads", str(args.threads)]
        bench_kernels.main(kargs)
        print()
    bench_dcgan.run(reps, args.threads, use_torch=True, memory=not args.no_memory)
    print()
    bench_mlp_gan.run(max(200, reps), threads=1)   # sub-millisecond reps: many of them
    if args.default_coretype and "OPENBLAS_CORETYPE" in os.environ:
        print(f"\n=== again without OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} "
              "(the kernels OpenBLAS picks by itself) ===\n", flush=True)
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        cmd = [sys.executable, "-m", "benchmarks.run_all", "--reps", str(reps), "--skip-kernels"]
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        if args.no_memory:
            cmd.append("--no-memory")
        subprocess.run(cmd, env=env, cwd=H.ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
