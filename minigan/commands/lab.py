"""The GAN lab: an interactive window to play the GAN game on 1-D and 2-D toys.

    python -m minigan lab                                   # the window (needs a display)
    python -m minigan lab --dist ring8 --loss wgan-gp --k 5
    python -m minigan lab --dist mix1d --headless --steps 500 --snapshots 4 --out figures/lab

Pick p_data, the loss and the optimizer; Play / Pause / Step D / Step G / Step / Reset; watch
p_data and p_g, D (a curve in 1-D, a heatmap in 2-D), the arrows -d loss_G / dx that push the
fakes, and the loss and JSD curves. With ``--headless`` (or no display) it runs ``--steps``
iterations of Algorithm 1 with the Agg backend and saves the window as PNG(s) in ``--out``:
a slide for a class, and the way the lab is tested.
"""
from __future__ import annotations

import os


def add_arguments(parser):
    from minigan.lab import LOSSES, OPTIMIZERS
    parser.add_argument("--dist", default="gauss1d",
                        help="p_data: gauss1d, mix1d, ring8, grid25 (any 1-D or 2-D toy)")
    parser.add_argument("--loss", choices=list(LOSSES), default="nsgan",
                        help="the GAN objective (default nsgan, non-saturating)")
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate of both players (default: the optimizer's)")
    parser.add_argument("--k", type=int, default=1, help="D steps per G step")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--headless", action="store_true",
                        help="no window: run --steps iterations and save PNG(s) in --out")
    parser.add_argument("--steps", type=int, default=500,
                        help="iterations of Algorithm 1 in headless mode (default 500)")
    parser.add_argument("--snapshots", type=int, default=1,
                        help="headless: PNGs at this many evenly spaced moments (default 1: "
                             "the end)")
    parser.add_argument("--out", default="figures/lab", help="headless: output folder")
    parser.add_argument("--dpi", type=int, default=100)


def run(args):
    from minigan.lab import one_blas_thread
    with one_blas_thread():
        return _run(args)


def _run(args):
    import matplotlib

    from minigan.lab import Lab, distributions
    if args.dist not in distributions():
        raise ValueError(f"unknown distribution {args.dist!r}; choose from "
                         f"{', '.join(distributions())}")
    if args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    if args.snapshots < 1:
        raise ValueError(f"--snapshots must be >= 1, got {args.snapshots}")
    headless = args.headless or (not os.environ.get("DISPLAY") and os.name != "nt")
    if headless:
        if not args.headless:
            print(f"minigan lab: no display; running headless ({args.steps} iterations, "
                  f"PNGs in {args.out})")
        matplotlib.use("Agg")
    from minigan.lab.window import LabWindow
    lab = Lab(args.dist, loss=args.loss, optimizer=args.optimizer, lr=args.lr, k=args.k,
              batch_size=args.batch_size, seed=args.seed)
    window = LabWindow(lab)
    if not headless:
        print("minigan lab: close the window to quit.")
        if window.show():
            return 0
        print("minigan lab: no interactive matplotlib backend; running headless instead.")
    os.makedirs(args.out, exist_ok=True)
    marks = sorted({round(args.steps * (i + 1) / args.snapshots)
                    for i in range(args.snapshots)})
    stem = f"lab_{args.dist}_{args.loss}"
    written = []
    for mark in marks:
        lab.run(mark - lab.n_g)
        window.redraw()
        name = f"{stem}.png" if len(marks) == 1 else f"{stem}_step{mark:05d}.png"
        written.append(window.save(os.path.join(args.out, name), dpi=args.dpi))
    jsd = lab.history["jsd"][-1][1]
    window.close()
    print(f"{lab.describe()}; JSD(p_data, p_g) = {jsd:.4f} nats"
          + (" (binned estimate)" if lab.dim == 2 else ""))
    for path in written:
        print(f"wrote {path}")
    return 0
