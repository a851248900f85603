"""The 1-D theory runs: what ``minigan toy`` on gauss1d / mix1d and the theory lessons measure.

* ``theory_run``: the whole ``minigan toy`` 1-D run -- (a)+(b) a D trained to convergence
  against fixed p_g, compared with D* and C(G); (c) Algorithm 1 on p_data, JSD(p_data, p_g)
  and mean D at the end; Goodfellow et al.'s Figure 1, the evolution GIF and the other
  figures;
* ``measure_optimal_discriminator``: outcomes (a) and (b) of the theory lab -- a D trained to
  convergence against fixed p_g, compared with D* = p_data / (p_data + p_g) and C(G);
* ``measure_saturation``: the per-example gradient of both generator losses at the current D;
* ``GeneratorDistribution``: a frozen generator used as a fixed p_g sampler.

Host-side (NumPy arrays for densities and figures); the training runs on the engine.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

from ..gan.loop import resume_state
from ..serialization import output_dir, save_array, save_json

__all__ = ["theory_run", "players", "optimizers", "DIST_CONFIG", "measure_optimal_discriminator",
           "measure_saturation", "GeneratorDistribution"]

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

FULL = dict(steps=3000, d_fit_steps=2000, d_fit_batch=512, family=4, snapshots=30)
G_STEPS_PANEL_C = 5          # small SGD steps of G against the frozen D of panel (b)
QUICK = dict(steps=800, d_fit_steps=1000, d_fit_batch=512, family=1, snapshots=8)


def measure_optimal_discriminator(data, family, x, steps, batch, device=None, progress=False,
                                  n_samples=100_000):
    """Outcomes (a) and (b): a D trained to convergence against each fixed p_g in ``family``."""
    from .. import gan, optim
    from ..evaluation import theory
    rows, fits = [], []
    rng = np.random.default_rng(12345)
    for label, pg in family:
        t0 = time.perf_counter()
        D = gan.mlp_discriminator(hidden=64, activation="tanh", shift=float(data.mean()),
                                  scale=1.0).to(device or "cpu")
        opt = optim.Adam(D.parameters(), lr=3e-3)
        gan.fit_discriminator(D, opt, data, pg, steps=steps, batch_size=batch, progress=progress)
        d_fn = gan.as_numpy_fn(D, device=device)
        p_data, p_g = data.pdf(x), pg.pdf(x)
        d_star = theory.optimal_discriminator(p_data, p_g)
        d = 1.0 / (1.0 + np.exp(-d_fn(x)))
        total = p_data + p_g
        err = np.abs(d - d_star)
        c = theory.virtual_criterion(p_data, p_g, x)
        v = theory.value_from_logits(d_fn(data.sample_numpy(n_samples, rng)),
                                     d_fn(pg.sample_numpy(n_samples, rng)))
        row = dict(label=label, max_err=float(err[total >= 0.05].max()),
                   mean_err=float(err[total >= 0.01].mean()), jsd=theory.jsd(p_data, p_g, x),
                   c_of_g=c, v_trained=v, seconds=time.perf_counter() - t0)
        rows.append(row)
        fits.append(dict(row, x=x, p_data=p_data, p_g=p_g, d=d, d_star=d_star))
    return rows, fits


def measure_saturation(trainer, data, noise, device, n=256):
    """|dL/dt| per example for both G losses at the current D and G (t = D's logit)."""
    import minigan
    from minigan.gan import losses as L
    out = {}
    with minigan.no_grad():
        fake = trainer.G(noise.sample(n, device=device))
    logits = trainer.D(fake).detach()
    for name, fn in (("gan", L.g_loss_saturating), ("nsgan", L.g_loss_nonsaturating)):
        t = minigan.tensor(logits.numpy(), requires_grad=True)
        (g,) = minigan.grad(fn(t) * float(n), t)      # undo the batch mean: per example
        dgz = 1 / (1 + np.exp(-logits.numpy().ravel().astype(np.float64)))
        out[name] = (dgz, np.abs(g.numpy().ravel()))
    return out


class GeneratorDistribution:
    """A frozen generator as a sampler (for fitting D against a fixed p_g)."""

    def __init__(self, G, noise, device):
        self.G, self.noise, self.device = G, noise, device

    def sample(self, n, device=None):
        import minigan
        with minigan.no_grad():
            return self.G(self.noise.sample(n, device=device or self.device))


# Algorithm 1 on a 1-D toy, the recipe the theory run and lessons 03, 06 and 07 share: tanh
# MLPs of 32 units, Adam with beta1 = 0.5, D learning four times faster than G.
LR_G, LR_D, BETAS = 5e-4, 2e-3, (0.5, 0.999)


def players(g_shift=0.0, d_shift=4.0, scale=1.0, z_dim=1, device="cpu"):
    """G and D of the 1-D runs: 2-layer tanh MLPs of 32 units. G's output starts around
    ``g_shift`` (times ``scale``); D's input is standardised as (x - d_shift) / scale, so
    both networks start in their sensitive range wherever the data sit."""
    from .. import gan
    G = gan.mlp_generator(z_dim=z_dim, hidden=32, activation="tanh", shift=g_shift,
                          scale=scale).to(device)
    D = gan.mlp_discriminator(hidden=32, activation="tanh", shift=d_shift, scale=scale).to(device)
    return G, D


def optimizers(G, D, steps=None, lr_g=LR_G, lr_d=LR_D):
    """Adam for both players; with ``steps``, both learning rates decay geometrically to a
    tenth of their start over the run. Returns (opt_g, opt_d, schedulers)."""
    from .. import optim
    from ..optim import lr_scheduler
    opt_g = optim.Adam(G.parameters(), lr=lr_g, betas=BETAS)
    opt_d = optim.Adam(D.parameters(), lr=lr_d, betas=BETAS)
    scheds = ([lr_scheduler.ExponentialLR(o, 0.1 ** (1.0 / steps)) for o in (opt_g, opt_d)]
              if steps else [])
    return opt_g, opt_d, scheds


def _copy_state(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def theory_run(opts):
    """The 1-D theory run (``minigan toy`` on gauss1d or a 2-mode mix1d): outcomes (a)-(c)
    and the figures; ``opts`` is a ``ToyOptions``. Returns the summary dict (also in
    ``OUT/history.json``)."""
    import numpy as np

    import minigan

    from .. import gan
    from ..data import toy
    from ..evaluation import theory
    from ..gan.remedies import METHODS

    t_start = time.perf_counter()
    cfg = DIST_CONFIG[opts.dist]
    size = QUICK if opts.quick else FULL
    steps = opts.steps if opts.steps is not None else size["steps"]
    if steps < 1:
        raise ValueError(f"--steps must be positive, got {steps}")
    device = opts.device or "cpu"
    output_dir(opts.out)
    minigan.manual_seed(opts.seed)
    data = toy.get_distribution(opts.dist)
    noise = toy.get_noise(opts.noise or cfg["noise"])
    x = theory.grid(*cfg["x_range"], 1201)
    x_wide = theory.grid(*data.support(), 2001)
    progress = True if opts.progress else False
    settings = {"dist": opts.dist, "method": opts.method, "seed": opts.seed, "steps": steps,
                "noise": noise.name, "quick": bool(opts.quick), "k": opts.k,
                "batch_size": opts.batch_size, "lr_g": opts.lr_g, "lr_d": opts.lr_d}
    summary = dict(settings)

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
    minigan.manual_seed(opts.seed)
    G, D = players(cfg["shift"], cfg["shift"], cfg["scale"], noise.dim, device)
    opt_g, opt_d, scheds = optimizers(G, D, steps, lr_g=opts.lr_g,
                                      lr_d=LR_D if opts.lr_d is None else opts.lr_d)
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
        if not opts.no_figures:
            from ..plots import toys as plot
            snaps.append(plot.take_snapshot(tr.G, tr.D, data, noise, x, label=f"step {tr.step}"))
        if tr.step == panel_a_step:
            saved["a"] = (_copy_state(tr.G), _copy_state(tr.D), tr.step)

    callbacks = [gan.every(snap_every, snapshot)]
    if panel_a_step % snap_every:
        callbacks.append(gan.every(panel_a_step, lambda tr: snapshot(tr)
                                   if tr.step == panel_a_step else None))
    trainer = gan.GANTrainer(G, D, opt_g, opt_d, data, noise, objective=METHODS[opts.method][0],
                             k=opts.k, batch_size=opts.batch_size, device=device,
                             metrics={"jsd": jsd_metric}, metrics_every=max(1, steps // 20),
                             callbacks=callbacks, progress=progress, schedulers=scheds,
                             checkpoint_path=os.path.join(opts.out, "checkpoint.npz"),
                             checkpoint_every=max(1, steps // 4))
    # What the figures need travels in every checkpoint, so a resumed run draws them whole.
    trainer.meta = {"settings_json": json.dumps(settings), "snapshots": snaps, "panel_a": saved}
    if opts.resume:
        state = resume_state(trainer.checkpoint_path, settings)
        trainer.resume(state=state)
        snaps[:], measured = state["snapshots"], state["measured"]
        saved.update(state["panel_a"])
        print(f"resumed from {trainer.checkpoint_path} at step {trainer.step} of {steps}")
    else:
        # Measured before any training: the per-example gradient each G loss sends to the logit.
        measured = measure_saturation(trainer, data, noise, device)
        if not opts.no_figures:
            from ..plots import toys as plot
            snaps.append(plot.take_snapshot(G, D, data, noise, x, label="step 0"))
    trainer.meta["measured"] = measured
    t0 = time.perf_counter()
    trainer.train(steps - trainer.step)
    summary["seconds_train"] = time.perf_counter() - t0

    rng = np.random.default_rng(opts.seed + 1)
    g_fn, d_fn = gan.as_numpy_fn(G, device=device), gan.as_numpy_fn(D, device=device)
    samples = g_fn(noise.sample_numpy(2500, rng)).reshape(2500, 1).astype(np.float32)
    save_array(os.path.join(opts.out, "samples.npy"), samples)
    big_z = noise.sample_numpy(20_000, rng)
    d_real = float((1 / (1 + np.exp(-d_fn(data.sample_numpy(20_000, rng))))).mean())
    d_fake = float((1 / (1 + np.exp(-d_fn(g_fn(big_z))))).mean())
    final_jsd = jsd_metric(trainer)
    kde_jsd = theory.jsd(data.pdf(x_wide), theory.kde_density(g_fn(big_z), x_wide), x_wide)
    summary.update(final_jsd=final_jsd, final_jsd_kde=kde_jsd, mean_d_real=d_real,
                   mean_d_fake=d_fake, sample_mean=float(samples.mean()),
                   sample_std=float(samples.std()))
    print(f"(c) {opts.method} on {data.name}, z ~ {noise.name}, {steps} steps (k={opts.k}, "
          f"batch {opts.batch_size}) in {summary['seconds_train']:.1f} s:")
    print(f"  JSD(p_data, p_g) = {final_jsd:.4f} nats (p_g exact by change of variables; "
          f"KDE cross-check {kde_jsd:.4f})")
    print(f"  mean D(x) = {d_real:.3f}, mean D(G(z)) = {d_fake:.3f} (|D - 1/2| = "
          f"{max(abs(d_real - 0.5), abs(d_fake - 0.5)):.3f}); samples mean "
          f"{samples.mean():.3f}, std {samples.std():.3f}")

    # -------------------------------------------------------------------------- figures
    if not opts.no_figures:
        t0 = time.perf_counter()
        _figures(opts, summary, trainer, saved, snaps, fits, rows, measured, data, noise, x,
                 cfg, device, size)
        summary["seconds_figures"] = time.perf_counter() - t0
    summary["seconds_total"] = time.perf_counter() - t_start
    save_json(os.path.join(opts.out, "history.json"),
              {"summary": summary, "history": trainer.history})
    print(f"(d) total {summary['seconds_total']:.1f} s; wrote {opts.out}/samples.npy, "
          "history.json" + ("" if opts.no_figures else
                            ", figure1.png, evolution.gif, saturation.png, criterion.png, "
                            "d_star.png"))
    return summary


def _figures(opts, summary, trainer, saved, snaps, fits, rows, measured, data, noise, x, cfg,
             device, size):
    from .. import gan, optim
    from ..plots import toys as plot
    out = opts.out
    # Panels (a)-(c) replay the run from its early snapshot: (b) D trained to convergence
    # with G fixed (the inner loop), (c) then generator steps against that D.
    final = plot.take_snapshot(trainer.G, trainer.D, data, noise, x, label="(d) end")
    panels = []
    if "a" in saved:
        g_state, d_state, s_a = saved["a"]
        G, D = players(cfg["shift"], cfg["shift"], cfg["scale"], noise.dim, device)
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
        panels.append(plot.take_snapshot(G, D, data, noise, x,
                                          label=f"(c) after {G_STEPS_PANEL_C} G steps"))
    panels.append(final)
    plot.figure1(panels, os.path.join(out, "figure1.png"),
                 title=f"{opts.method} on {data.name} (p_data dotted, p_g green, D dashed, "
                       "D* grey)")
    if snaps:
        plot.evolution_gif(snaps + [final], os.path.join(out, "evolution.gif"),
                           fps=6 if len(snaps) > 10 else 3)
    plot.saturation_figure(os.path.join(out, "saturation.png"), measured=measured)
    plot.criterion_figure(rows, os.path.join(out, "criterion.png"))
    plot.discriminator_fit_figure(fits, os.path.join(out, "d_star.png"))
