"""Mode collapse in 1-D: a vanilla GAN on four Gaussians finds some modes and never the rest.

Mode collapse (lecture notes 003, "Mode collapse") is when G maps many z to the same few
outputs. It fools D there, so nothing in the game forces it to cover the rest of p_data:
the theory of lessons 04-05 assumes D is optimal and G moves in the space of densities, but
in practice G is a network that follows D's gradient *locally*. A mode far from every G(z)
gets no gradient at all: D says "real" there, but no fake sample is near it to be pushed.
And when D does learn to reject the mode G sits on, G can jump to a neighbouring one and D
chases it: the mass "hops" from mode to mode instead of spreading.

The setup (``minigan.commands.toy_modes``, the same one the remedies of lesson 09 use):
p_data is a mixture of K = 4 Gaussians of sigma 0.5 centred 10 apart (at -15, -5, 5, 15);
z ~ N(0, 1); G and D are 3-layer ReLU MLPs; the minimax loss of the original paper; Adam at a
constant learning rate 1e-3. G starts as a narrow bump at 0.

How it is counted (``minigan.modes``, the PacGAN paper's protocol): draw 2500 samples of G;
a sample is *high quality* (HQ) when it is within 3 sigma of its nearest mode centre; a mode
is *covered* when at least one HQ sample picks it; the reverse KL of the HQ histogram against
the uniform 1/K is 0 for perfect balance and log K when one mode takes everything.

What to watch: the histogram of G(z) over training (one row per snapshot): the bright band
leaves 0 towards one side, settles on a mode or two there, and the modes on the other side,
which no fake sample is near, get no gradient and stay missed at the end of the run.
"""
# %%
from minigan import course

args = course.lesson_args(__doc__, blas_threads=1)


import numpy as np  # noqa: E402

from minigan import modes, plot  # noqa: E402
from minigan.commands import toy_modes  # noqa: E402

# --quick trains for a few seconds only (the study's own --quick: 300 steps; the numbers then
# mostly show the machinery); the full lesson trains the study's 1500-step run with
# the width-64 MLPs (seed 0 drops two of the four modes; over 10 seeds the GAN misses modes
# in 3, see the report).

# %% [markdown]
# ## 1. The settings: those of `python -m minigan toy --dist mix1d --modes 4 --method gan
# --schedule constant`

# %%
flags = ["--dist", "mix1d", "--modes", "4", "--method", "gan", "--schedule", "constant",
         "--device", args.device]
if args.quick:
    flags += ["--quick"]
s = toy_modes.study_settings(flags)
print(f"{s['method']} on mix1d (K={s['modes']}, spacing {s['spacing']}): {s['steps']} G steps, "
      f"MLP {s['depth']}x{s['hidden']} {s['activation']}, batch {s['batch']}, Adam lr {s['lr']:g} "
      f"({s['schedule']})")

# %% [markdown]
# ## 2. Train, keeping 40 snapshots of G's samples and the mode count every 1/40 of the run

# %%
res = toy_modes.train_one(s, args.seed, args.device, snapshots=40,
                          track_every=max(1, s["steps"] // 40))
sc, data = res["score"], res["data"]
centres = modes.centres_of(data)[0][:, 0]
missed = [float(c) for c, n in zip(centres, sc["counts"]) if n == 0]
first_two = next((r["step"] for r in res["track"] if r["modes"] >= 2), None)
print(f"seed {args.seed}: {modes.format_score(sc)}, JSD {sc['jsd']:.4f} nats "
      f"({res['seconds']:.1f} s training)")
print("HQ samples per mode: " + ", ".join(f"x={c:+.0f}: {n}" for c, n in zip(centres,
                                                                          sc["counts"])))
print(f"modes missed at the end: {missed or 'none'}; most modes ever covered during training: "
      f"{max(r['modes'] for r in res['track'])}")

# What the perfect generator scores under the same protocol: 2500 samples of p_data itself.
true_score = modes.mode_metrics(data.sample_numpy(modes.N_SAMPLES, np.random.default_rng(1)),
                                data)
print(f"p_data itself: {modes.format_score(true_score)}")

# %% [markdown]
# ## 3. The figures: the histogram over training (mode hopping), and the counts over time

# %%
fig_hop = plot.hopping_figure(res["snapshots"], data, args.out / "hopping.png",
                              title=f"vanilla GAN on 4 Gaussians, seed {args.seed}, "
                                    f"{s['steps']} steps: {sc['modes']}/4 modes at the end")
fig_curves = plot.mode_curves_figure(res["track"], args.out / "modes_over_training.png",
                                     n_modes=data.k, title="modes covered, HQ %, JSD")

# %%
course.report(args, {
    "steps": s["steps"],
    "modes covered (of 4)": sc["modes"],
    "HQ fraction": sc["hq"],
    "reverse KL [nats]": sc["rev_kl"],
    "JSD [nats]": sc["jsd"],
    "HQ samples per mode": str(sc["counts"]),
    "modes missed (centres)": str(missed),
    "first step with >= 2 modes": first_two if first_two is not None else "never",
    "p_data itself: modes / HQ": f"{true_score['modes']}/4, {true_score['hq']:.3f}",
    "train seconds": res["seconds"],
}, [fig_hop, fig_curves],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
