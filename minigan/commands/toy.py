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
see ``minigan/commands/toy_modes.py``.
"""
from __future__ import annotations

import json
import os
import time

from minigan import backend
from minigan.experiments import (GeneratorDistribution, measure_optimal_discriminator,
                                 measure_saturation)

# Per distribution: the noise, the standardisation of the networks, the x range of plots and
# the fixed p_g family of the D* / C(G) experiments. 2-D toys add their entries here.
DIST_CONFIG = {
    "gauss1d": dict(noise="gaussian", shift=4.0, scale=1.0, x_range=(1.0, 7.0),
                    family=lambda toy: [("N(3.5,0.8)", toy.Gaussian1D(3.5, 0.8)),
                                        ("N(4.5,0.4)", toy.Gaussian1D(4.5, 0.4)),
                                        ("mix(3,5)", toy.Mixture1D((3.0, 5.0), (0.4, 0.6))),
                                        ("N(2.5,0.5)", toy.Gaussian1D(2.5, 0.5))]),
    "mix1d": dict(noise="gaussian", shift=0.0, scale=2.0, x_range=(-4.5, 4.5),
                  family=lambda toy: [("N(0,2)", toy.Gaussian1D(0.0, 2.0)),
                                      ("N(2,0.5)", toy.Gaussian1D(2.0, 0.5)),
                                      ("mix(-1.5,1.5)", toy.Mixture1D((-1.5, 1.5), 0.7)),
                                      ("N(-1,1)", toy.Gaussian1D(-1.0, 1.0))]),
}

# The methods this command trains: name -> GAN objective. Later: "minibatch", "unrolled",
# "wgan", "wgan-gp", "pacgan" (each may also change the models or the trainer).
METHODS = {"gan": "gan", "nsgan": "nsgan"}
# The mode-collapse study (minigan/commands/toy_modes.py) adds the remedies.
ALL_METHODS = ("gan", "nsgan", "minibatch", "unrolled", "unrolled1", "wgan", "wgan-gp",
               "pacgan", "nsgan-r1")

FULL = dict(steps=3000, d_fit_steps=2000, d_fit_batch=512, family=4, snapshots=30)
G_STEPS_PANEL_C = 5          # small SGD steps of G against the frozen D of panel (b)
QUICK = dict(steps=800, d_fit_steps=1000, d_fit_batch=512, family=1, snapshots=8)


def add_arguments(parser):
    parser.add_argument("--dist", choices=["gauss1d", "mix1d", "ring8", "grid25"],
                        default="gauss1d", help="the data distribution p_data")
    parser.add_argument("--method", choices=list(ALL_METHODS), default=None,
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


# ------------------------------------------------------------------------------ experiments
def _copy_state(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def run(args):
    from . import toy_modes
    with backend.blas_threads(1):
        if toy_modes.is_mode_study(args):
            return toy_modes.run(args)
        study_only = toy_modes.extra_flags(args)
        if study_only:
            raise ValueError(f"{', '.join(study_only)}: only the mode study (ring8, grid25, "
                             "mix1d with > 2 modes, a remedy, or --seeds) scores extra rows")
        if args.method is None:
            args.method = "nsgan"
        if args.batch_size is None:
            args.batch_size = 512
        if args.k is None:
            args.k = 3
        return _run(args)


def _run(args):
    import numpy as np

    import minigan
    from minigan import gan, optim, theory, toy
    from minigan.optim import lr_scheduler

    t_start = time.perf_counter()
    cfg = DIST_CONFIG[args.dist]
    size = QUICK if args.quick else FULL
    steps = args.steps if args.steps is not None else size["steps"]
    if steps < 1:
        raise ValueError(f"--steps must be positive, got {steps}")
    device = args.device or "cpu"
    os.makedirs(args.out, exist_ok=True)
    minigan.manual_seed(args.seed)
    data = toy.get_distribution(args.dist)
    noise = toy.get_noise(args.noise or cfg["noise"])
    x = theory.grid(*cfg["x_range"], 1201)
    x_wide = theory.grid(*data.support(), 2001)
    progress = True if args.progress else False
    summary = {"dist": args.dist, "method": args.method, "seed": args.seed, "steps": steps,
               "noise": noise.name, "quick": bool(args.quick)}

    # ---------------------------------------------------------------- (a) and (b): D* and C(G)
    t0 = time.perf_counter()
    family = cfg["family"](toy)[:size["family"]]
    rows, fits = measure_optimal_discriminator(data, family, x_wide, size["d_fit_steps"],
                                               size["d_fit_batch"], device, progress)
    summary["optimal_discriminator"] = rows
    summary["seconds_d_star"] = time.perf_counter() - t0
    print(f"(a)+(b) a discriminator trained to convergence on fixed p_data = {data.name}:")
    for r in rows:
        print(f"  p_g = {r['label']:<13} max|D-D*| = {r['max_err']:.4f} (p_data+p_g >= 0.05), "
              f"mean = {r['mean_err']:.4f} (>= 0.01);  trained max_D V = {r['v_trained']:.4f}, "
              f"C(G) = -log4 + 2 JSD = {r['c_of_g']:.4f}, |diff| = "
              f"{abs(r['v_trained'] - r['c_of_g']):.4f} nats")

    # ----------------------------------------------------------------------- (c): the GAN
    minigan.manual_seed(args.seed)
    G = gan.mlp_generator(z_dim=noise.dim, hidden=32, activation="tanh", shift=cfg["shift"],
                          scale=cfg["scale"]).to(device)
    D = gan.mlp_discriminator(hidden=32, activation="tanh", shift=cfg["shift"],
                              scale=cfg["scale"]).to(device)
    opt_g = optim.Adam(G.parameters(), lr=args.lr_g, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-3 if args.lr_d is None else args.lr_d,
                       betas=(0.5, 0.999))
    decay = 0.1 ** (1.0 / steps)
    scheds = [lr_scheduler.ExponentialLR(o, decay) for o in (opt_g, opt_d)]
    z_lo, z_hi = noise.support()

    def jsd_metric(tr):
        p_g = theory.generator_density(gan.as_numpy_fn(tr.G, device=device), x_wide,
                                       noise.pdf, z_lo, z_hi, n_z=8001)
        return theory.jsd(data.pdf(x_wide), p_g, x_wide)

    snaps, saved = [], {}
    n_snap = size["snapshots"]
    snap_every = max(1, steps // n_snap)
    panel_a_step = max(1, steps // 8)

    def snapshot(tr):
        if not args.no_figures:
            from minigan import plot
            snaps.append(plot.take_snapshot(tr.G, tr.D, data, noise, x, label=f"step {tr.step}"))
        if tr.step == panel_a_step:
            saved["a"] = (_copy_state(tr.G), _copy_state(tr.D), tr.step)

    callbacks = [gan.every(snap_every, snapshot)]
    if panel_a_step % snap_every:
        callbacks.append(gan.every(panel_a_step, lambda tr: snapshot(tr)
                                   if tr.step == panel_a_step else None))
    trainer = gan.GANTrainer(G, D, opt_g, opt_d, data, noise, objective=METHODS[args.method],
                             k=args.k, batch_size=args.batch_size, device=device,
                             metrics={"jsd": jsd_metric}, metrics_every=max(1, steps // 20),
                             callbacks=callbacks, progress=progress, schedulers=scheds,
                             checkpoint_path=os.path.join(args.out, "checkpoint.npz"),
                             checkpoint_every=max(1, steps // 4))
    # Measured before any training: the per-example gradient each G loss sends to the logit.
    measured = measure_saturation(trainer, data, noise, device)
    if not args.no_figures:
        from minigan import plot
        snaps.append(plot.take_snapshot(G, D, data, noise, x, label="step 0"))
    t0 = time.perf_counter()
    trainer.train(steps)
    summary["seconds_train"] = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed + 1)
    g_fn, d_fn = gan.as_numpy_fn(G, device=device), gan.as_numpy_fn(D, device=device)
    samples = g_fn(noise.sample_numpy(2500, rng)).reshape(2500, 1).astype(np.float32)
    np.save(os.path.join(args.out, "samples.npy"), samples)
    big_z = noise.sample_numpy(20_000, rng)
    d_real = float((1 / (1 + np.exp(-d_fn(data.sample_numpy(20_000, rng))))).mean())
    d_fake = float((1 / (1 + np.exp(-d_fn(g_fn(big_z))))).mean())
    final_jsd = jsd_metric(trainer)
    kde_jsd = theory.jsd(data.pdf(x_wide), theory.kde_density(g_fn(big_z), x_wide), x_wide)
    summary.update(final_jsd=final_jsd, final_jsd_kde=kde_jsd, mean_d_real=d_real,
                   mean_d_fake=d_fake, sample_mean=float(samples.mean()),
                   sample_std=float(samples.std()))
    print(f"(c) {args.method} on {data.name}, z ~ {noise.name}, {steps} steps (k={args.k}, "
          f"batch {args.batch_size}) in {summary['seconds_train']:.1f} s:")
    print(f"  JSD(p_data, p_g) = {final_jsd:.4f} nats (p_g exact by change of variables; "
          f"KDE cross-check {kde_jsd:.4f})")
    print(f"  mean D(x) = {d_real:.3f}, mean D(G(z)) = {d_fake:.3f} (|D - 1/2| = "
          f"{max(abs(d_real - 0.5), abs(d_fake - 0.5)):.3f}); samples mean "
          f"{samples.mean():.3f}, std {samples.std():.3f}")

    # -------------------------------------------------------------------------- figures
    if not args.no_figures:
        t0 = time.perf_counter()
        _figures(args, summary, trainer, saved, snaps, fits, rows, measured, data, noise, x,
                 cfg, device, size)
        summary["seconds_figures"] = time.perf_counter() - t0
    summary["seconds_total"] = time.perf_counter() - t_start
    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump({"summary": summary, "history": trainer.history}, f)
    print(f"(d) total {summary['seconds_total']:.1f} s; wrote {args.out}/samples.npy, "
          "history.json" + ("" if args.no_figures else
                            ", figure1.png, evolution.gif, saturation.png, criterion.png, "
                            "d_star.png"))
    return 0


def _figures(args, summary, trainer, saved, snaps, fits, rows, measured, data, noise, x, cfg,
             device, size):
    from minigan import gan, optim, plot
    out = args.out
    # Panels (a)-(c) replay the run from its early snapshot: (b) D trained to convergence
    # with G fixed (the inner loop), (c) then generator steps against that D.
    final = plot.take_snapshot(trainer.G, trainer.D, data, noise, x, label="(d) end")
    panels = []
    if "a" in saved:
        g_state, d_state, s_a = saved["a"]
        G = gan.mlp_generator(z_dim=noise.dim, hidden=32, activation="tanh",
                              shift=cfg["shift"], scale=cfg["scale"]).to(device)
        D = gan.mlp_discriminator(hidden=32, activation="tanh", shift=cfg["shift"],
                                  scale=cfg["scale"]).to(device)
        G.load_state_dict(g_state)
        D.load_state_dict(d_state)
        panels.append(plot.take_snapshot(G, D, data, noise, x, label=f"(a) step {s_a}"))
        gen_dist = GeneratorDistribution(G, noise, device)
        gan.fit_discriminator(D, optim.Adam(D.parameters(), lr=2e-3), data, gen_dist,
                              steps=size["d_fit_steps"] // 2, batch_size=512)
        panels.append(plot.take_snapshot(G, D, data, noise, x, label="(b) D trained, G fixed"))
        opt_g = optim.SGD(G.parameters(), lr=0.05)
        for _ in range(G_STEPS_PANEL_C):
            z = noise.sample(512, device=device)
            loss = gan.g_loss_nonsaturating(D(G(z)))
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
        panels.append(plot.take_snapshot(G, D, data, noise, x, label=f"(c) after {G_STEPS_PANEL_C} G steps"))
    panels.append(final)
    plot.figure1(panels, os.path.join(out, "figure1.png"),
                 title=f"{args.method} on {data.name} (p_data dotted, p_g green, D dashed, "
                       "D* grey)")
    if snaps:
        plot.evolution_gif(snaps + [final], os.path.join(out, "evolution.gif"),
                           fps=6 if len(snaps) > 10 else 3)
    plot.saturation_figure(os.path.join(out, "saturation.png"), measured=measured)
    plot.criterion_figure(rows, os.path.join(out, "criterion.png"))
    plot.discriminator_fit_figure(fits, os.path.join(out, "d_star.png"))
