"""Remedies for mode collapse: minibatch discrimination, unrolled GANs, packing (PacGAN).

Lesson 08's GAN drops modes because D judges one sample at a time: a G that puts all its mass
on one good mode makes every single sample look real. The remedies (lecture notes 003,
"Solutions to mode collapse"; PacGAN is Lin et al. 2018) give D a way to see *diversity*, or
give G foresight:

* **Minibatch discrimination** (Salimans et al. 2016): a layer inside D computes, for each
  sample, how close it is to the other samples of its batch (features f(x_i) projected by a
  learned tensor T, closeness sum_j exp(-||M_i - M_j||_1)) and appends it to D's features. A
  collapsed batch has every sample close to all the others: D sees it at once.
* **Unrolled GAN** (Metz et al. 2017): G's loss is computed against D *after k more of D's
  own updates*, D_k(theta_D), and G differentiates through those updates. G then sees how D
  would react to a move onto a single mode and is discouraged from making it.
* **PacGAN** (Lin et al. 2018): D judges *packs* of m samples concatenated, all real or all
  fake. The distribution of m-tuples of a collapsed G is far from that of the data, so D can
  tell them apart, which it cannot one sample at a time.

Everything here is ``minigan.gan.remedies`` through the mode study of
``minigan.experiments.mode_study``: every method on the same seed, the same budget (steps,
batch, MLP sizes, Adam at a constant 3e-3 -- lesson 08's collapse setting), the same 4-mode
mixture as lesson 08, scored the same way (``minigan.evaluation.modes``: modes covered, high-quality %,
reverse KL, JSD). The unrolled D takes ten look-ahead steps at a sixth of D's learning rate
(``--unroll 10 --unroll-lr 5e-4``): unrolled at D's full 3e-3, the look-ahead D has already
moved on to punish any spreading, and G settles on fewer modes (K = 5: 3/10 seeds with all
four); with too few steps (K = 3 at 1e-3) it does worse than no unrolling at all (1/10).

Section 4 tells a collapse from an *oscillation*: the gradient-penalty WGAN's last generator
misses modes in 4/10 seeds at this learning rate, the moving average of its weights in none;
the GAN's average does not get its lost modes back.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


from minigan.evaluation import modes  # noqa: E402
from minigan.plots import toys as plot  # noqa: E402
from minigan.experiments import mode_study as toy_modes  # noqa: E402
from minigan.gan.remedies import METHODS  # noqa: E402

# --quick trains for a few seconds only (the study's --quick: 300 steps) and leaves out the
# unrolled GAN (10 unrolled D steps with second-order gradients cost ~20x a plain step); the
# numbers then just show the machinery. The full lesson trains all four methods for the
# study's 1500 steps (lesson 08's budget).
CHOICES = ["gan", "minibatch", "pacgan"] + ([] if args.quick else ["unrolled"])

# %% [markdown]
# ## 1. The same budget for every method

# %%
BASE = dict(dist="mix1d", modes=4, schedule="constant", lr=3e-3, unroll=10, unroll_lr=5e-4,
            device=args.device, quick=args.quick)      # lesson 08's collapse setting
results, lines = {}, []
for method in CHOICES:
    s = toy_modes.config(**BASE, method=method)
    r = toy_modes.train_one(s, args.seed, args.device, snapshots=40,
                            track_every=max(1, s["steps"] // 40))
    results[method] = r
    lines.append(f"{method:<10s} {modes.format_score(r['score'])}, JSD {r['score']['jsd']:.4f}"
                 f" nats, HQ per mode {r['score']['counts']} ({r['seconds']:.1f} s): "
                 f"{METHODS[method][1]}")
    print(lines[-1], flush=True)
print(f"all methods: {s['steps']} steps, MLP {s['depth']}x{s['hidden']}, batch {s['batch']}, "
      f"seed {args.seed}")

# %% [markdown]
# ## 2. Figures: modes covered over training for every method, and each method's histogram

# %%
data = results["gan"]["data"]
figs = [plot.mode_curves_figure({m: r["track"] for m, r in results.items()},
                                args.out / "modes_over_training.png", n_modes=data.k,
                                title=f"4 Gaussians, seed {args.seed}, {s['steps']} steps")]
for m, r in results.items():
    figs.append(plot.hopping_figure(r["snapshots"], data, args.out / f"hopping_{m}.png",
                                    title=f"{m}: {modes.format_score(r['score'])}"))

# %% [markdown]
# ## 3. One seed is an anecdote: the same study over 10 seeds
#
# `python -m minigan toy --dist mix1d --modes 4 --schedule constant --lr 3e-3 --method M
# --seeds 10` (this 2-core CPU, 2026-11-23; "all 4" = seeds whose 2500 samples hit every mode):
#
# | method | all 4 modes | mean HQ | mean rev-KL | s / seed |
# |---|---|---|---|---|
# | gan (minimax) | 4/10 | 76.2 % | 0.40 | 3.6 |
# | minibatch discrimination | 8/10 | 44.1 % | 0.49 | 28 |
# | PacGAN (m = 4) | 10/10 | 30.2 % | 0.08 | 3 |
# | unrolled (K = 10, --unroll-lr 5e-4) | 9/10 (8/10 on 10-19, 8/10 on 20-29) | 80.8 % | 0.21 | 81 |
# | unrolled (K = 5, --unroll-lr 3e-4) | 7/10 | 82.4 % | 0.22 | 50 |
# | unrolled (K = 5, unrolled at D's 3e-3) | 3/10 | 82.0 % | 0.96 | 47 |
#
# Read it as a class: diversity-aware discriminators (minibatch features, packs) find the
# modes and pay with mass *between* them (their HQ falls to 30-44 %). The unrolled GAN keeps
# most of the plain GAN's quality and covers more modes, but only with many gentle look-ahead
# steps: a D unrolled at its full learning rate punishes every spreading move and G settles
# on fewer modes. Remedies are measured claims, not guarantees (lesson 10 has the
# WGANs; the README's "Mode collapse, measured" has all tables, 2-D included).

# %% [markdown]
# ## 4. Collapse or oscillation? The average of G's weights tells them apart
#
# The WGANs of lesson 10 are remedies too. At this learning rate the gradient-penalty WGAN
# misses a mode in 4 of 10 seeds -- but not the way the GAN does. Its G *oscillates*: the
# mass swings from side to side and a mode empties for a few dozen steps, then fills again;
# the final G is one snapshot of that orbit. An exponential moving average of G's weights,
# theta_ema <- 0.99 theta_ema + 0.01 theta after every step (``GANTrainer(g_ema=0.99)``,
# ``minigan toy --ema 0.99``; it only reads G, training is unchanged), sits inside the orbit.
# A collapsed G has no mode on its orbit to average in. Seed ``--seed`` + 1 (seed 1 by
# default) is one where the last WGAN-GP generator misses a mode.

# %%
ema_seed = args.seed + 1
averaged = {}
for method in ["gan", "wgan-gp"]:
    se = toy_modes.config(**BASE, method=method, ema=0.99)
    r = toy_modes.train_one(se, ema_seed, args.device, track_every=max(1, se["steps"] // 40))
    averaged[method] = r
    print(f"{method:<8s} seed {ema_seed}: last G {modes.format_score(r['score'])}; "
          f"EMA of G {modes.format_score(r['ema']['score'])}", flush=True)
    late = [(a["modes"], b["modes"]) for a, b in zip(r["track"], r["track_ema"])
            if a["step"] >= se["steps"] // 4]
    print(f"         from step {se['steps'] // 4} on, a mode is missing at "
          f"{sum(a < data.k for a, _ in late)} of {len(late)} checkpoints for G, "
          f"{sum(b < data.k for _, b in late)} for its average", flush=True)
figs.append(plot.mode_curves_figure(
    {f"{m}: {who}": r[key] for m, r in averaged.items()
     for who, key in (("G", "track"), ("EMA of G", "track_ema"))},
    args.out / "modes_over_training_ema.png", n_modes=data.k,
    title=f"the last G and the average of G's weights, seed {ema_seed}"))

# %% [markdown]
# Over 10 seeds (the README's table): WGAN-GP all 4 modes in 6/10, its average in 10/10;
# the minimax GAN 4/10, its average 3/10; the unrolled GAN with K = 5 at 3e-4, 7/10 either
# way. Averaging cures oscillation, not collapse.

# %%
numbers = {"steps": s["steps"]}
for m, r in averaged.items():
    numbers[f"{m} seed {ema_seed}: modes of the last G"] = r["score"]["modes"]
    numbers[f"{m} seed {ema_seed}: modes of the EMA of G"] = r["ema"]["score"]["modes"]
for m, r in results.items():
    sc = r["score"]
    numbers[f"{m}: modes (of 4)"] = sc["modes"]
    numbers[f"{m}: HQ fraction"] = sc["hq"]
    numbers[f"{m}: reverse KL"] = sc["rev_kl"]
    numbers[f"{m}: train seconds"] = r["seconds"]
course.report(args, numbers, figs,
              notes="--quick trains a few seconds only (and skips the unrolled GAN): the "
                    "numbers then just show the machinery")
