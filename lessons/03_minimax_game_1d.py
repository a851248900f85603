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

import minigan  # noqa: E402
from minigan import gan  # noqa: E402
from minigan import functional as F  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments import toy1d  # noqa: E402

dev = args.device
STEPS = 1000 if args.quick else 4000
EVAL_EVERY = STEPS // 25
K, M = 3, 256                   # k discriminator steps per generator step; minibatch size m

# %% [markdown]
# ## 1. The players and the data
# p_data = N(4, 0.5), z ~ N(0, 1). Both networks are 2-layer tanh MLPs of 32 units; D outputs
# a logit t (D = sigmoid(t)), and the losses are computed from logits so they stay finite
# even when D is certain. G starts as a random function centred at x = 0, four units away
# from the data: at first D can tell them apart easily.

# %%
course.section(args, "1. The players and the data",
               "p_data = N(4, 0.5), noise z ~ N(0, 1); G and D are 2-layer tanh MLPs of 32 "
               "units. D outputs a logit t, D(x) = sigmoid(t). G starts centred at x = 0, four "
               "units from the data.")
data, noise = toy.Gaussian1D(4.0, 0.5), toy.GaussianNoise()
x = theory.grid(-2.0, 8.0, 2001)
p_data = data.pdf(x)
G, D = toy1d.players(g_shift=0.0, d_shift=4.0, device=dev)      # the 1-D recipe
opt_g, opt_d, scheds = toy1d.optimizers(G, D, STEPS)   # Adam 5e-4 / 2e-3, decaying to a tenth

# %% [markdown]
# ## 2. Algorithm 1, written out
# Goodfellow et al.'s Algorithm 1 with the engine's own tensors and optimizers. With
# D = sigmoid(t): log D = -softplus(-t) and log(1 - D) = -softplus(t), so
#
#     D's loss  = -(1/m) Σ [log D(x_i) + log(1 - D(G(z_i)))]
#               = mean softplus(-t_real) + mean softplus(t_fake)      (D ascends V)
#     G's loss  = -(1/m) Σ log D(G(z_i)) = mean softplus(-t_fake)     (non-saturating, lesson 06)


# %%
def d_step(G, D, opt_d):
    """One ascent step of D on V: a minibatch of m real samples and m fakes (G held fixed)."""
    x_real = data.sample(M, device=dev)
    z = noise.sample(M, device=dev)
    with minigan.no_grad():                 # G is not being trained in this step
        x_fake = G(z)
    t_real, t_fake = D(x_real), D(x_fake)
    loss = F.softplus(-t_real).mean() + F.softplus(t_fake).mean()    # = -V on the batch
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss, t_real, t_fake


def g_step(G, D, opt_g):
    """One descent step of G: the gradient flows *through* D into G's weights."""
    z = noise.sample(M, device=dev)
    loss = F.softplus(-D(G(z))).mean()      # -log D(G(z)), the non-saturating G loss
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()                             # only G's optimizer steps: D's weights stay put
    return loss


def algorithm1_iteration(G, D, opt_g, opt_d):
    """k ascent steps of D, then one descent step of G."""
    for _ in range(K):
        d_loss, t_real, t_fake = d_step(G, D, opt_d)
    g_loss = g_step(G, D, opt_g)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": F.sigmoid(t_real).mean().item(),
            "d_fake": F.sigmoid(t_fake).mean().item()}


_cache = {}


def densities(step):
    """p_g (exact, change of variables) and D's logits on the grid, for the current players."""
    if _cache.get("step") != step:
        p_g = theory.generator_density(gan.as_numpy_fn(G, device=dev), x, noise.pdf, -8, 8,
                                       n_z=8001)
        _cache.update(step=step, value=(p_g, gan.as_numpy_fn(D, device=dev)(x)))
    return _cache["value"]


def measure(step):
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx exactly on the grid (from D's logits);
    C(G) = max_D V = -log 4 + 2 JSD(p_data || p_g), the best any D could do."""
    p_g, logits = densities(step)
    return {"step": step, "V": theory.value_function(logits, p_data, p_g, x, from_logits=True),
            "C": theory.virtual_criterion(p_data, p_g, x), "jsd": theory.jsd(p_data, p_g, x)}


course.section(args, "2. Algorithm 1, written out",
               f"k = {K} ascent steps of D on a minibatch of m = {M} real and {M} generated "
               f"samples, then one descent step of G on a fresh noise batch; {STEPS} "
               "iterations, Adam with learning rates decaying to a tenth. Every "
               f"{EVAL_EVERY} steps we compute V(D, G) and C(G) exactly on a grid.")
start = {}
start["p_g"], start["logits"] = densities(0)
history = {k: [] for k in ("step", "d_loss", "g_loss", "d_real", "d_fake")}
rows = [measure(0)]
for step in range(1, STEPS + 1):
    values = algorithm1_iteration(G, D, opt_g, opt_d)
    for sched in scheds:
        sched.step()
    history["step"].append(step)
    for k, v in values.items():
        history[k].append(v)
    if step % EVAL_EVERY == 0:
        rows.append(measure(step))

# %% [markdown]
# ## 3. The library's version is the same lines
# ``gan.GANTrainer(G, D, opt_g, opt_d, data, noise, objective="nsgan", k=3)`` runs exactly
# this loop (plus checkpoints, a NaN guard, metrics and a progress bar). From the same
# weights and the same seed, 20 iterations of each land on the same weights.

# %%
course.section(args, "3. The library's version is the same lines",
               "gan.GANTrainer(..., objective='nsgan', k=3) against our loop: same starting "
               "weights, same seed, 20 iterations each.")


def twenty_iterations(use_library):
    minigan.manual_seed(args.seed + 7)
    g, d = toy1d.players(g_shift=0.0, d_shift=4.0, device=dev)
    og, od, _ = toy1d.optimizers(g, d)
    minigan.manual_seed(args.seed + 8)        # the batches: the same draws in the same order
    if use_library:
        gan.GANTrainer(g, d, og, od, data, noise, objective="nsgan", k=K, batch_size=M,
                       device=dev, progress=False).train(20)
    else:
        for _ in range(20):
            algorithm1_iteration(g, d, og, od)
    return np.concatenate([p.numpy().ravel() for p in (*g.parameters(), *d.parameters())])


same = float(np.abs(twenty_iterations(True) - twenty_iterations(False)).max())
course.check(args, "max |weight difference|, library vs written-out loop", same,
             reference="0: the same arithmetic in the same order", ok=same < 1e-6, fmt=".1e")

# %% [markdown]
# ## 4. Where the game ends: the Nash equilibrium p_g = p_data, D = 1/2
# A Nash equilibrium is a pair where neither player gains by changing alone. At
# p_g = p_data: D's best reply is D* = p_data / (p_data + p_g) = 1/2, and against D = 1/2
# every G scores V = log ½ + log ½ = -log 4, so G cannot do better either.

# %%
p_g, logits = densities(STEPS)
d_grid = 1.0 / (1.0 + np.exp(-logits))
rng = np.random.default_rng(args.seed + 1)
g_fn, d_fn = gan.as_numpy_fn(G, device=dev), gan.as_numpy_fn(D, device=dev)
samples = g_fn(noise.sample_numpy(20_000, rng))
mean_d_real = float((1 / (1 + np.exp(-d_fn(data.sample_numpy(20_000, rng))))).mean())
mean_d_fake = float((1 / (1 + np.exp(-d_fn(samples)))).mean())
bulk = (p_data + p_g) >= 0.05
max_dev_half = float(np.abs(d_grid[bulk] - 0.5).max())
final = rows[-1]
# Pointwise, p_data log D + p_g log(1 - D) <= its value at D*, so V <= C(G) exactly; on a grid
# the spike of p_g where a young G folds sharply is under-resolved, worth ~1e-3 nats.
gap = min(r["C"] - r["V"] for r in rows)
below = gap > -1e-2
SHORT = "1000 steps are too short for p_g to settle; the full run (4000) gets there"
course.section(args, "4. Where the game ends: the Nash equilibrium p_g = p_data, D = 1/2",
               "Neither player can gain alone: D's best reply to p_g = p_data is D = 1/2, and "
               "against D = 1/2 every G scores -log 4. How close did the run get?")
course.check(args, "JSD(p_data || p_g) at the end [nats]", final["jsd"],
             reference="0 at the equilibrium (start: "
                       f"{rows[0]['jsd']:.3f})", ok=final["jsd"] < 0.01, fmt=".4f",
             quick_note=SHORT,
             good="p_g is on p_data", bad="p_g has not reached p_data")
course.check(args, "sample mean / std of G(z)", f"{samples.mean():.3f} / {samples.std():.3f}",
             reference="data: 4 / 0.5")
course.check(args, "mean D(x) on real / on generated samples",
             f"{mean_d_real:.3f} / {mean_d_fake:.3f}", reference="1/2 / 1/2 at the equilibrium",
             ok=abs(mean_d_real - 0.5) < 0.05 and abs(mean_d_fake - 0.5) < 0.05,
             good="D can only guess", bad="D still tells them apart")
course.check(args, "max |D(x) - 1/2| where p_data + p_g >= 0.05", max_dev_half,
             reference="0: D* = 1/2 everywhere at p_g = p_data", ok=max_dev_half < 0.1,
             fmt=".3f", quick_note=SHORT,
             good="D is flat where the samples are", bad="D is not flat yet")
course.check(args, "V(D, G) at the end [nats]", final["V"],
             reference=f"-log 4 = {-theory.LOG4:.4f}", ok=abs(final["V"] + theory.LOG4) < 0.01,
             fmt=".4f", quick_note=SHORT)
course.check(args, "what D could still gain, C(G) - V(D, G) [nats]", final["C"] - final["V"],
             reference="0 when D is D*", ok=final["C"] - final["V"] < 0.01,
             fmt=".4f", quick_note=SHORT,
             good="D is (nearly) the best reply")
course.check(args, "smallest C(G) - V over the run [nats]", gap,
             reference=">= 0: no D beats the optimal one (up to quadrature error, < 0.01)",
             ok=below,
             fmt=".1e")

# %% [markdown]
# ## 5. The game over time: D(x) and D(G(z)) meet at 1/2, V and C(G) meet at -log 4

# %%
def smooth(v, w=25):
    v = np.asarray(v, dtype=float)
    return np.convolve(v, np.ones(w) / w, mode="valid") if len(v) > w else v


course.section(args, "5. The game over time", "D wins early, then the two means meet at 1/2; V "
               "and C(G) meet at -log 4.")
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
# ## 6. Before and after: p_g moves onto p_data and D flattens to 1/2

# %%
course.section(args, "6. Before and after", "p_g moves onto p_data and D flattens to 1/2.")
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

# %% [markdown]
# ## 7. Gradient play need not converge: the bilinear game min_x max_y x·y
# The simplest two-player game (notes 001, 003) has its Nash equilibrium at (0, 0). Gradient
# descent on x and ascent on y, *simultaneously* (both gradients taken at the same point),
# multiplies the distance to the equilibrium by sqrt(1 + lr²) at every step: it spirals out.
# *Alternating* updates (x first, then y against the new x), as Algorithm 1 does with D and
# G, stay on a bounded orbit -- they circle the equilibrium without reaching it.

# %%
course.section(args, "7. Gradient play on min_x max_y x*y: simultaneous vs alternating",
               "Both start at (1, 1) with learning rate 0.1 for 200 steps; the equilibrium is "
               "(0, 0). The gradients come from the engine's autograd.")
LR_B, N_B = 0.1, 200


def play(alternating):
    px = minigan.tensor(1.0, dtype="float64", requires_grad=True)
    py = minigan.tensor(1.0, dtype="float64", requires_grad=True)
    path = [(1.0, 1.0)]
    for _ in range(N_B):
        gx, gy = minigan.autograd.grad(px * py, [px, py])
        with minigan.no_grad():
            px -= LR_B * gx                          # x descends V = x*y
        if alternating:                              # y's gradient at the *new* x
            gy = minigan.autograd.grad(px * py, [py])[0]
        with minigan.no_grad():
            py += LR_B * gy                          # y ascends V
        path.append((px.item(), py.item()))
    return np.array(path)


sim, alt = play(False), play(True)
r_sim, r_alt = np.hypot(*sim.T), np.hypot(*alt.T)
predicted = np.sqrt(2.0) * (1 + LR_B ** 2) ** (N_B / 2)
course.check(args, "simultaneous: distance to (0, 0) after 200 steps", float(r_sim[-1]),
             reference=f"sqrt(2)(1 + lr^2)^(n/2) = {predicted:.3f}, growing",
             ok=abs(r_sim[-1] / predicted - 1) < 1e-6, fmt=".3f", good="spirals out as predicted")
course.check(args, "alternating: largest distance over the run", float(r_alt.max()),
             reference=f"bounded (start {r_alt[0]:.3f}): it cycles",
             ok=r_alt.max() < 1.5 * r_alt[0],
             fmt=".3f", good="stays on a bounded orbit")
fig, ax = plt.subplots(figsize=(5.2, 4.6))
ax.plot(*sim.T, color="C3", linewidth=1, label="simultaneous: spirals out")
ax.plot(*alt.T, color="C0", linewidth=1, label="alternating: cycles")
ax.plot([0], [0], "k*", ms=10, label="Nash equilibrium (0, 0)")
ax.set_xlabel("x (minimises x*y)")
ax.set_ylabel("y (maximises x*y)")
ax.set_title("gradient play on x*y, lr 0.1", fontsize=10)
ax.set_aspect("equal")
ax.legend(fontsize=7, loc="lower left")
fig_bilinear = course.save_figure(fig, args, "bilinear_game.png")

# %%
course.report(args, {"steps": STEPS}, [fig_curves, fig_before_after, fig_bilinear])
