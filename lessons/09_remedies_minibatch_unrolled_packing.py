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
mixture as lesson 08, scored the same way (``minigan.evaluation.modes``: modes covered,
high-quality %, reverse KL, JSD). The unrolled D takes ten look-ahead steps at a sixth of
D's learning rate (``--unroll 10 --unroll-lr 5e-4``): unrolled at D's full 3e-3, the
look-ahead D has already moved on to punish any spreading, and G settles on fewer modes;
with too few steps it does worse than no unrolling at all (the 10-seed study in
docs/results/mode_collapse.md).

Section 1 writes each remedy's key lines with the engine's own ops and checks them against
the library; section 2 trains every method on one seed; section 3 tells a collapse from an
*oscillation*: the moving average of G's weights brings back the modes an oscillating
WGAN-GP drops for a while, not those a collapsed GAN has left.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import minigan  # noqa: E402
from minigan import autograd, nn  # noqa: E402
from minigan.evaluation import modes  # noqa: E402
from minigan.experiments import mode_study as toy_modes  # noqa: E402
from minigan.gan import losses, remedies  # noqa: E402
from minigan.gan.models.mlp import mlp_discriminator, mlp_generator  # noqa: E402
from minigan.plots import toys as plot  # noqa: E402

# Over ten seeds (python -m minigan toy --dist mix1d --modes 4 --schedule constant --lr 3e-3
# --method M --seeds 10; the table is in docs/results/mode_collapse.md): how often each method
# covers all four modes, the reference for this lesson's one seed.
TEN_SEEDS = {"gan": "4/10", "minibatch": "8/10", "pacgan": "10/10",
             "unrolled": "9/10 (8/10 on seeds 10-19)"}
TEN_SEEDS_EMA = {"gan": "last G 4/10, EMA 3/10", "wgan-gp": "last G 6/10, EMA 10/10"}

# %% [markdown]
# ## 1. The key lines of each remedy, written out
#
# Each remedy changes one thing of Algorithm 1, in a few lines:
#
# * PacGAN changes D's *input*: a batch (N, d) becomes N/m packs (N/m, m·d), each pack m
#   samples side by side, all real or all fake;
# * minibatch discrimination adds *features*: M_i = f(x_i) T (B kernels of C numbers), and
#   o(x_i)_b = mean_{j≠i} exp(-||M_{i,b} - M_{j,b}||_1), appended to f(x_i);
# * the unrolled GAN changes G's *loss*: theta_{k+1} = theta_k - lr·∇L_D(theta_k) for K steps,
#   with ``create_graph=True`` so that theta_K is a function of G's fakes, and
#   L_G = L_G(D_{theta_K}(G(z))).

# %%
course.section(args, "1. The remedies' key lines, written out",
               "Each remedy in a few lines of engine ops (packs by a reshape, the minibatch "
               "closeness features, K look-ahead steps of D kept in the graph), each checked "
               "against the library's version with the same weights.")
minigan.manual_seed(args.seed)
N, PACK = 16, 4
x = minigan.randn(N, 1)                                   # 16 one-dimensional samples

# PacGAN: D sees m samples side by side.
inner = mlp_discriminator(PACK, hidden=16)
mine = inner(x.reshape(N // PACK, PACK))                  # (4, 4): one row per pack
lib = remedies.Packed(inner, PACK)(x)
course.check(args, "packed D input: max |lesson - library|", float((mine - lib).abs().max()),
             reference="0: the same reshape", ok=float((mine - lib).abs().max()) == 0.0,
             fmt=".1e")

# Minibatch discrimination: closeness of every sample to the others of its batch.
mbd = nn.MinibatchDiscrimination(1, 8, 4, mean=True)
M = (x @ mbd.T.reshape(1, 8 * 4)).reshape(N, 1, 8, 4)      # (N, 1, B, C)
l1 = (M - M.reshape(1, N, 8, 4)).abs().sum(axis=3)          # (N, N, B): ||M_i,b - M_j,b||_1
o = (minigan.exp(-l1).sum(axis=1) - 1.0) / (N - 1)          # drop j = i (exp(0) = 1)
diff = float((minigan.cat([x, o], dim=1) - mbd(x)).abs().max())
course.check(args, "minibatch features: max |lesson - library|", diff,
             reference="0 up to float32 rounding", ok=diff < 1e-6, fmt=".1e")

# Unrolled GAN: G's loss against D after K more plain gradient steps of D.
K, LR = 5, 0.05
G, D = mlp_generator(1, 1, hidden=16), mlp_discriminator(1, hidden=16)
reals = [minigan.randn(N, 1) * 0.5 + 2.0 for _ in range(K)]
zs = [minigan.randn(N, 1) for _ in range(K)]
z = minigan.randn(N, 1)


def unrolled_g_loss(second_order):
    theta = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
    for xk, zk in zip(reals, zs):
        fake = G(zk) if second_order else G(zk).detach()
        d_loss = losses.d_loss_minimax(remedies.functional_call(D, theta, xk),
                                       remedies.functional_call(D, theta, fake))
        grads = autograd.grad(d_loss, list(theta.values()), create_graph=second_order)
        theta = {n: t - LR * g for (n, t), g in zip(theta.items(), grads)}
    return losses.g_loss_nonsaturating(remedies.functional_call(D, theta, G(z)))


def g_grads(loss):
    return autograd.grad(loss, list(G.parameters()))


mine = g_grads(unrolled_g_loss(second_order=True))
lib = g_grads(remedies.unrolled_generator_loss(G, D, "nsgan", reals, zs, z, LR))
diff = max(float((a - b).abs().max()) for a, b in zip(mine, lib))
course.check(args, "unrolled G gradient: max |lesson - library|", diff,
             reference="0 up to float32 rounding", ok=diff < 1e-6, fmt=".1e")
plain = g_grads(unrolled_g_loss(second_order=False))
size = sum(float((a * a).sum()) for a in mine) ** 0.5
change = sum(float(((a - b) ** 2).sum()) for a, b in zip(mine, plain)) ** 0.5 / size
course.check(args, "share of G's unrolled gradient that comes through D's look-ahead steps",
             change, reference="> 0: G sees how D will react to its move", ok=change > 1e-3,
             fmt=".3f")

# %% [markdown]
# ## 2. The same budget for every method
#
# Every method on the same seed, steps, batch, MLP sizes and Adam at a constant 3e-3, lesson
# 08's collapse setting. One seed is an anecdote: each line's reference is the method's rate
# over ten seeds.

# %%
course.section(args, "2. Every method on one seed, the same budget",
               "The minimax GAN, minibatch discrimination, PacGAN (m = 4) and the unrolled GAN "
               "(10 look-ahead steps at a sixth of D's rate) on lesson 08's four Gaussians. "
               "Diversity-aware discriminators find the modes and pay with mass between them "
               "(a lower high-quality fraction); the unrolled GAN keeps most of the GAN's "
               "quality.")
BASE = dict(dist="mix1d", modes=4, schedule="constant", lr=3e-3, unroll=10, unroll_lr=5e-4,
            device=args.device)       # lesson 08's collapse setting
# --quick: the GAN and PacGAN still train the full 1500 steps (a few seconds: fewer steps do
# not collapse); minibatch discrimination (~10x a plain step) trains 300 and the unrolled GAN
# (10 second-order look-ahead steps, ~25x) is left out.
CHOICES = ["gan", "pacgan", "minibatch"] + ([] if args.quick else ["unrolled"])
results = {}
for method in CHOICES:
    short = args.quick and method == "minibatch"
    s = toy_modes.config(**BASE, method=method, quick=short)
    r = results[method] = toy_modes.train_one(s, args.seed, args.device, snapshots=40,
                                              track_every=max(1, s["steps"] // 40))
    sc = r["score"]
    course.check(args, f"{method}: modes covered (seed {args.seed})", f"{sc['modes']}/4",
                 reference=f"all 4 modes in {TEN_SEEDS[method]} seeds",
                 quick_note="300 steps: too short to judge" if short else None)
    course.check(args, f"{method}: high-quality fraction", sc["hq"], fmt=".3f",
                 reference="the plain GAN's" if method != "gan" else "within 3 sigma of a mode",
                 quick_note="300 steps: too short to judge" if short else None)
gan_modes = results["gan"]["score"]["modes"]
best_remedy = max(r["score"]["modes"] for m, r in results.items() if m != "gan")
course.check(args, "a remedy covers more modes than the GAN on this seed",
             best_remedy > gan_modes, reference="True where the GAN collapsed",
             ok=best_remedy > gan_modes)

data = results["gan"]["data"]
figs = [plot.mode_curves_figure({m: r["track"] for m, r in results.items()},
                                args.out / "modes_over_training.png", n_modes=data.k,
                                title=f"4 Gaussians, seed {args.seed}")]
for m, r in results.items():
    figs.append(plot.hopping_figure(r["snapshots"], data, args.out / f"hopping_{m}.png",
                                    title=f"{m}: {modes.format_score(r['score'])}"))
print(f"  figures: {args.out}/modes_over_training.png and hopping_<method>.png", flush=True)

# %% [markdown]
# ## 3. Collapse or oscillation? The average of G's weights tells them apart
#
# The WGANs of lesson 10 are remedies too. At this learning rate the gradient-penalty WGAN
# misses a mode in some seeds -- but not the way the GAN does. Its G *oscillates*: the
# mass swings from side to side and a mode empties for a few dozen steps, then fills again;
# the final G is one snapshot of that orbit. An exponential moving average of G's weights,
# theta_ema <- 0.99 theta_ema + 0.01 theta after every step (``GANTrainer(g_ema=0.99)``,
# ``minigan toy --ema 0.99``; it only reads G, training is unchanged), sits inside the orbit.
# A collapsed G has no mode on its orbit to average in. Seed ``--seed`` + 1 (seed 1 by
# default) is one where the last WGAN-GP generator misses a mode.

# %%
ema_seed = args.seed + 1
course.section(args, "3. Collapse or oscillation: the average of G's weights",
               f"The GAN and WGAN-GP on seed {ema_seed}, each scored twice: the last G and the "
               "moving average of its weights (EMA 0.99). An oscillating G's average sits "
               "inside its orbit and covers the modes; a collapsed G's does not.")
averaged = {}
for method in ["gan", "wgan-gp"]:
    se = toy_modes.config(**BASE, method=method, ema=0.99, quick=args.quick)
    r = averaged[method] = toy_modes.train_one(se, ema_seed, args.device,
                                               track_every=max(1, se["steps"] // 40))
    late = [(a["modes"], b["modes"]) for a, b in zip(r["track"], r["track_ema"])
            if a["step"] >= se["steps"] // 4]
    note = "300 steps: too short to collapse or oscillate" if args.quick else None
    course.check(args, f"{method}: modes of the last G / of its average (seed {ema_seed})",
                 f"{r['score']['modes']}/4 / {r['ema']['score']['modes']}/4",
                 reference=f"10 seeds: {TEN_SEEDS_EMA[method]}", quick_note=note)
    course.check(args, f"{method}: checkpoints missing a mode, last G / average",
                 f"{sum(a < data.k for a, _ in late)} / {sum(b < data.k for _, b in late)} "
                 f"of {len(late)}", reference="from a quarter of training on", quick_note=note)
figs.append(plot.mode_curves_figure(
    {f"{m}: {who}": r[key] for m, r in averaged.items()
     for who, key in (("G", "track"), ("EMA of G", "track_ema"))},
    args.out / "modes_over_training_ema.png", n_modes=data.k,
    title=f"last G and its average, seed {ema_seed}"))
print(f"  figure: {args.out}/modes_over_training_ema.png", flush=True)

# %% [markdown]
# Averaging cures oscillation, not collapse: over ten seeds the WGAN-GP's average covers every
# mode where its last G does not, and the minimax GAN's average does not get its lost modes
# back (docs/results/mode_collapse.md).

# %%
full = toy_modes.config(**BASE, method="gan")
course.report(args, {"steps (section 2)": full["steps"], "batch": full["batch"],
                     "MLP": f"{full['depth']}x{full['hidden']}"}, figs)
