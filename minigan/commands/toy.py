"""Train a GAN on a 1-D toy and measure the theory: D*, C(G), JSD, Figure 1 and its GIF.

    python -m minigan toy --dist gauss1d --method nsgan --steps 3000 --seed 0 --out runs/toy

What it does, in order (every number it measures is printed and saved in history.json):

1. (a)+(b) For a few fixed p_g, trains a discriminator to convergence (Algorithm 1's inner
   loop with G frozen) and compares it with D* = p_data / (p_data + p_g): max |D - D*| where
   p_data + p_g >= 0.05, mean where >= 0.01; and the trained max_D V (sample estimate)
   against C(G) = -log 4 + 2 JSD.
2. (c) Trains G and D with Algorithm 1 and reports JSD(p_data, p_g) (p_g exact, by the
   change of variables) and the mean D on real and generated samples at the end.
3. Draws Goodfellow et al.'s Figure 1 from that run, the evolution GIF, the saturating vs
   non-saturating figure, the C(G) figure and the D-vs-D* figure; writes samples.npy
   (2500 x 1 from the final G) and history.json.

The 2-D toys (``--dist ring8/grid25``), mixtures of more than two modes (``--dist mix1d
--modes 4``), the remedies (``--method minibatch/unrolled/wgan/wgan-gp/pacgan``), seed sweeps
(``--seeds N``) and method comparisons (``--compare``) run the mode-collapse study instead:
see ``minigan.experiments.mode_study``. This module only parses the flags; the runs are
``minigan.experiments.toy1d.theory_run`` and ``minigan.experiments.mode_study.run``.
"""
from __future__ import annotations

from minigan import backend


def add_arguments(parser):
    from ..data.toy import DISTRIBUTIONS
    from ..gan.remedies import METHODS
    parser.add_argument("--dist", choices=list(DISTRIBUTIONS),
                        default="gauss1d", help="the data distribution p_data")
    parser.add_argument("--method", choices=list(METHODS), default=None,
                        help="gan: minimax (saturating G loss); nsgan: non-saturating; "
                             "minibatch, unrolled (unrolled1: first order), wgan, wgan-gp, "
                             "pacgan: the mode-collapse remedies; nsgan-r1: nsgan with the R1 "
                             "penalty, a convergence fix (default: the distribution's "
                             "recommended method: nsgan, ring8 pacgan, grid25 nsgan-r1)")
    parser.add_argument("--steps", type=int, default=None,
                        help="generator steps (default 3000, or 800 with --quick; the mode "
                             "study has its own per-distribution and per-method defaults)")
    parser.add_argument("--modes", type=int, default=None,
                        help="mix1d: number of modes K (2: the theory lab; > 2 runs the "
                             "mode-collapse study, default 4 there)")
    parser.add_argument("--spacing", type=float, default=None,
                        help="mix1d mode study: distance between the modes' centres (sigma "
                             "0.5; default 10)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="mode study: sweep seeds S..S+N-1 and write table.md")
    parser.add_argument("--compare", default=None, metavar="M1,M2,...",
                        help="mode study: train these methods on the same seed (each its own "
                             "default steps, or all --steps N) and draw Metz et al.'s Figure 1 "
                             "rows (rows.png)")
    parser.add_argument("--long", action="store_true",
                        help="mode study: the longer budget used for the tables")
    parser.add_argument("--activation", choices=["relu", "leaky_relu", "tanh"], default=None,
                        help="mode study: hidden activation of G and D (default: the "
                             "distribution's; relu in 1-D lets G's units die and misses "
                             "modes more often)")
    parser.add_argument("--hidden", type=int, default=None, help="mode study: MLP width")
    parser.add_argument("--depth", type=int, default=None, help="mode study: hidden layers")
    parser.add_argument("--lr", type=float, default=None,
                        help="mode study: Adam learning rate of G, and of D unless --lr-d "
                             "(default 1e-3)")
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                        help="mode study: cosine decay to 1e-5, or a constant learning rate")
    parser.add_argument("--pack", type=int, default=None,
                        help="pacgan: pack size m (default: the distribution's, else 4)")
    parser.add_argument("--unroll", type=int, default=5, help="unrolled: D steps K")
    parser.add_argument("--r1", type=float, default=None,
                        help="nsgan-r1: gamma of the R1 penalty on real data (default 0.1)")
    parser.add_argument("--r1-every", type=int, default=None,
                        help="nsgan-r1: apply R1 every N-th D update, gamma times N (lazy R1; "
                             "default 4 on grid25, else 1)")
    parser.add_argument("--unroll-lr", type=float, default=None,
                        help="unrolled: step size of the unrolled D updates (Adam steps "
                             "continuing D's optimizer; default: D's learning rate)")
    parser.add_argument("--ema", type=float, default=None, metavar="BETA",
                        help="mode study: also score the exponential moving average of G's "
                             "weights (decay BETA, e.g. 0.99; Yazici et al. 2019) as extra rows "
                             "and samples_ema.npy; training is unchanged")
    parser.add_argument("--drs", action="store_true",
                        help="mode study: also score discriminator rejection sampling of "
                             "the final G (post-hoc, its own rows; gan/nsgan/unrolled fine-tune "
                             "their own D, pacgan reads its packed D one sample at a time, "
                             "wgan/wgan-gp/minibatch train a fresh standard D on the frozen G)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/toy", help="output folder")
    parser.add_argument("--device", default=None, help="cpu or cuda")
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted run from OUT/checkpoint.npz (a single run, "
                             "with the flags it was started with)")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (seconds) for tests and a first look")
    parser.add_argument("--noise", choices=["gaussian", "uniform"], default=None,
                        help="p_z (default: gaussian; uniform is Goodfellow's Figure 1)")
    parser.add_argument("--k", type=int, default=None,
                        help="D steps per G step (default 3; mode study: 5 for the WGANs, "
                             "else 1)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="minibatch size (default 512; mode study: per distribution)")
    parser.add_argument("--lr-g", type=float, default=5e-4)
    parser.add_argument("--lr-d", type=float, default=None,
                        help="D's learning rate (default 2e-3; mode study: --lr times the "
                             "method's D/G ratio on the distribution, see MODE_CONFIG)")
    parser.add_argument("--no-figures", action="store_true", help="measure only")
    parser.add_argument("--progress", action="store_true", help="show progress bars")


def options(args):
    """The run's ``ToyOptions`` from the parsed flags."""
    from ..experiments.toy_options import ToyOptions
    return ToyOptions.from_namespace(args)


def study_settings(argv):
    """The mode study's resolved settings for ``minigan toy`` command-line words, e.g.
    ``["--dist", "ring8", "--method", "pacgan"]`` (what a run with those flags would use)."""
    import argparse

    from ..experiments import mode_study
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return mode_study.settings(options(parser.parse_args(list(argv))))


def run(args):
    from ..experiments import mode_study, toy1d
    opts = options(args)
    with backend.blas_threads(1):
        if mode_study.is_mode_study(opts):
            return mode_study.run(opts)
        study_only = mode_study.extra_flags(opts)
        if study_only:
            raise ValueError(f"{', '.join(study_only)}: only the mode study (ring8, grid25, "
                             "mix1d with > 2 modes, a remedy, or --seeds) scores extra rows")
        if opts.method is None:
            opts.method = "nsgan"
        if opts.batch_size is None:
            opts.batch_size = 512
        if opts.k is None:
            opts.k = 3
        toy1d.theory_run(opts)
        return 0
