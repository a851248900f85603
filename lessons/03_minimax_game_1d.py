"""The minimax game in 1-D: V(D, G), Algorithm 1 on N(4, 0.5), and the equilibrium D = 1/2.

A GAN is a two-player game (lecture notes 000, "the minimax game"). The discriminator D(x)
is the probability that x came from the data rather than from the generator; the generator
G(z) turns noise z ~ p_z into samples. Both play for the same number, the value function

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))],

D to *maximise* it (say "real" to real samples and "fake" to fakes), G to *minimise* it
(make D wrong): min_G max_D V(D, G). Algorithm 1 plays it by alternating small gradient
steps: k ascent steps of D, then one descent step of G. In practice G descends the
non-saturating -log D(G(z)) instead of log(1 - D(G(z))) (lesson 06): same fixed point,
stronger gradients when D wins.

What to watch in this lesson:

1. everything about a 1-D GAN is computable: p_g exactly by the change of variables,
   so V(D, G) is an integral on a grid, not a noisy batch average, and max_D V is the
   closed form C(G) = -log 4 + 2 JSD (lessons 04-05). V(D, G) <= C(G) at every step: D is
   never better than the best discriminator;
2. early on D wins: mean D(x) climbs towards 1 and mean D(G(z)) falls towards 0. As p_g
   moves onto p_data the two means meet at 1/2;
3. at the equilibrium p_g = p_data, D* = p_data / (p_data + p_g) = 1/2 everywhere: the
   discriminator can only guess, and V = log(1/2) + log(1/2) = -log 4.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import gan  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments import toy1d  # noqa: E402

dev = args.device
STEPS = 1000 if args.quick else 4000
EVAL_EVERY = STEPS // 25

# %% [markdown]
# ## 1. The players and the data
# p_data = N(4, 0.5), z ~ N(0, 1). Both networks are 2-layer tanh MLPs of 32 units; D outputs
# a logit t (D = sigmoid(t)), and the losses are computed from logits so they stay finite
# even when D is certain. G starts as a random function centred at x = 0, four units away
# from the data: at first D can tell them apart easily.

# %%
data, noise = toy.Gaussian1D(4.0, 0.5), toy.GaussianNoise()
x = theory.grid(-2.0, 8.0, 2001)
p_data = data.pdf(x)
G, D = toy1d.players(g_shift=0.0, d_shift=4.0, device=dev)      # the 1-D recipe
opt_g, opt_d, scheds = toy1d.optimizers(G, D, STEPS)   # Adam 5e-4 / 2e-3, decaying to a tenth


_cache = {}


def densities(tr):
    """p_g (exact, change of variables) and D's logits on the grid, for the current players."""
    if _cache.get("step") != tr.step:
        p_g = theory.generator_density(gan.as_numpy_fn(tr.G, device=dev), x, noise.pdf, -8, 8,
                                       n_z=8001)
        _cache.update(step=tr.step, value=(p_g, gan.as_numpy_fn(tr.D, device=dev)(x)))
    return _cache["value"]


def value_now(tr):
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx, exactly on the grid (from D's logits)."""
    p_g, logits = densities(tr)
    return theory.value_function(logits, p_data, p_g, x, from_logits=True)


def criterion_now(tr):
    """C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g): the best any D could do."""
    return theory.virtual_criterion(p_data, densities(tr)[0], x)


def jsd_now(tr):
    return theory.jsd(p_data, densities(tr)[0], x)


start = {"p_g": None}
trainer = gan.GANTrainer(G, D, opt_g, opt_d, data, noise, objective="nsgan", k=3,
                         batch_size=256, device=dev, schedulers=scheds, progress=False,
                         metrics={"V": value_now, "C": criterion_now, "jsd": jsd_now},
                         metrics_every=EVAL_EVERY)
start["p_g"], start["logits"] = densities(trainer)

# %% [markdown]
# ## 2. Algorithm 1: k = 3 ascent steps of D, one descent step of G, repeated

# %%
history = trainer.train(STEPS)
p_g, logits = densities(trainer)
d_grid = 1.0 / (1.0 + np.exp(-logits))
rng = np.random.default_rng(args.seed + 1)
g_fn, d_fn = gan.as_numpy_fn(G, device=dev), gan.as_numpy_fn(D, device=dev)
samples = g_fn(noise.sample_numpy(20_000, rng))
mean_d_real = float((1 / (1 + np.exp(-d_fn(data.sample_numpy(20_000, rng))))).mean())
mean_d_fake = float((1 / (1 + np.exp(-d_fn(samples)))).mean())
bulk = (p_data + p_g) >= 0.05
max_dev_half = float(np.abs(d_grid[bulk] - 0.5).max())
rows = history["metrics"]
final = rows[-1]
gap = min(r["C"] - r["V"] for r in rows)
# Pointwise, p_data log D + p_g log(1 - D) <= its value at D*, so V <= C(G) exactly; on a grid
# the spike of p_g where a young G folds sharply is under-resolved, worth ~1e-3 nats.
print(f"smallest C(G) - V over the checks: {gap:.2e} (>= 0 up to the grid's quadrature error)")
below = gap > -1e-2
print(f"after {STEPS} steps: mean D(x) = {mean_d_real:.3f}, mean D(G(z)) = {mean_d_fake:.3f}; "
      f"max |D(x) - 1/2| = {max_dev_half:.3f} where p_data + p_g >= 0.05")
print(f"V(D, G) = {final['V']:.4f}, C(G) = max_D V = {final['C']:.4f}, -log 4 = "
      f"{-theory.LOG4:.4f}; JSD = {final['jsd']:.4f} nats; V <= C(G) at every check: {below}")
print(f"samples of G: mean {samples.mean():.3f} (data 4), std {samples.std():.3f} (data 0.5)")

# %% [markdown]
# ## 3. The game over time: D(x) and D(G(z)) meet at 1/2, V and C(G) meet at -log 4

# %%
def smooth(v, w=25):
    v = np.asarray(v, dtype=float)
    return np.convolve(v, np.ones(w) / w, mode="valid") if len(v) > w else v


steps = np.asarray(history["step"])
w = 5
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
ax = axes[0]
ax.plot(steps[w - 1:], smooth(history["d_real"], w), color="black", label="mean D(x), real batch")
ax.plot(steps[w - 1:], smooth(history["d_fake"], w), color="green",
        label="mean D(G(z)), fake batch")
ax.axhline(0.5, color="0.5", linestyle="--", linewidth=1, label="equilibrium D = 1/2")
ax.set_xscale("log")
ax.set_xlabel("generator step (log scale)")
ax.set_ylabel("D (probability 'real')")
ax.set_ylim(0, 1)
ax.set_title(f"D wins early, then can only guess\nend: D(x)={mean_d_real:.2f}, "
             f"D(G(z))={mean_d_fake:.2f}", fontsize=9)
ax.legend(fontsize=7)
ax = axes[1]
ms = [r["step"] for r in rows]
ax.plot(ms, [r["C"] for r in rows], "o-", color="C1", ms=3, label=r"$C(G)=\max_D V$ (analytic)")
ax.plot(ms, [r["V"] for r in rows], "s-", color="C0", ms=3, label="V(D, G), trained D (exact)")
ax.plot(steps[w - 1:], -smooth(history["d_loss"], w), color="C0", alpha=0.3, linewidth=0.6,
        label="V on each batch (-D loss)")
ax.axhline(-theory.LOG4, color="0.3", linestyle=":", label=r"$-\log 4$")
ax.set_xlabel("generator step")
ax.set_ylabel("V [nats]")
ax.set_title(f"the value function: V <= C(G) -> -log 4\nend: V={final['V']:.3f}, "
             f"C(G)={final['C']:.3f}", fontsize=9)
ax.legend(fontsize=7)
ax = axes[2]
ax.semilogy(ms, [max(r["jsd"], 1e-6) for r in rows], "o-", color="purple", ms=3)
ax.set_xlabel("generator step")
ax.set_ylabel(r"JSD($p_{data}$ || $p_g$) [nats]")
ax.set_title(f"G minimises JSD: end {final['jsd']:.4f} nats", fontsize=9)
fig.suptitle(f"Algorithm 1 (k=3, non-saturating G loss) on {data.name}", fontsize=10)
fig_curves = course.save_figure(fig, args, "game_curves.png")

# %% [markdown]
# ## 4. Before and after: p_g moves onto p_data and D flattens to 1/2

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (title, pg, lg) in zip(axes, [("step 0 (random G)", start["p_g"], start["logits"]),
                                      (f"step {STEPS}", p_g, logits)]):
    ax.plot(x, p_data, color="black", linestyle=":", linewidth=2, label=r"$p_{data}$ = N(4, 0.5)")
    ax.plot(x, pg, color="green", linewidth=2, label=r"$p_g$ (exact)")
    ax.plot(x, 1 / (1 + np.exp(-lg)), color="blue", linestyle="--", label="D(x)")
    ax.plot(x, theory.optimal_discriminator(p_data, pg), color="0.6", linewidth=1,
            label=r"$D^* = p_{data}/(p_{data}+p_g)$")
    ax.axhline(0.5, color="0.8", linewidth=0.8)
    ax.set_xlabel("x")
    ax.set_title(f"{title}: JSD = {theory.jsd(p_data, pg, x):.3f} nats", fontsize=9)
    ax.set_ylim(0, 1.2)
axes[1].hist(samples, bins=80, density=True, color="green", alpha=0.2, label="G(z) samples")
axes[0].set_ylabel("density / probability")
axes[0].legend(fontsize=7, loc="center right")
axes[1].legend(fontsize=7, loc="upper left")
axes[1].text(5.6, 0.3, f"max |D - 1/2| = {max_dev_half:.3f}\nwhere p_data+p_g >= 0.05",
             fontsize=8)
fig_before_after = course.save_figure(fig, args, "before_after.png")

# %%
course.report(args, {
    "steps": STEPS,
    "final mean D(x)": mean_d_real,
    "final mean D(G(z))": mean_d_fake,
    "max |D - 1/2| where p_data+p_g >= 0.05": max_dev_half,
    "final V(D, G) [nats]": final["V"],
    "final C(G) = max_D V [nats]": final["C"],
    "-log 4": -theory.LOG4,
    "final JSD [nats]": final["jsd"],
    "V <= C(G) at every check (to 0.01 nats)": below,
    "sample mean": float(samples.mean()),
    "sample std": float(samples.std()),
}, [fig_curves, fig_before_after])
