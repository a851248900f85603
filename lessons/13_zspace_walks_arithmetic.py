"""Walking and arithmetic in z-space: lerp vs slerp, and bold a - thin a + thin b = bold b.

A trained generator is a map from z-space to images. "Small changes in input generally give
small changes in output" (lecture notes 004), so a walk from z0 to z1 should morph one digit
into another without leaving the set of plausible digits: evidence that G learned a smooth
manifold rather than memorising isolated training images (Radford et al. 2016, notes 000).

**Linear or spherical?** For z ~ N(0, I) in d dimensions |z| concentrates around sqrt(d):
the Gaussian's mass lives in a thin shell. The midpoint of a straight line (lerp),
(z0 + z1)/2, has norm about sqrt(d/2), a place G essentially never saw in training.
Spherical interpolation walks the great circle and keeps the norm near sqrt(d):

    slerp(z0, z1; t) = sin((1-t)·omega)/sin(omega) · z0 + sin(t·omega)/sin(omega) · z1,
    cos(omega) = <z0, z1> / (|z0| |z1|).

**Vector arithmetic.** Radford et al. averaged the z of three "smiling woman" samples,
subtracted three "neutral woman" and added three "neutral man": a smiling man. On digits we
do it with stroke weight: mean z(bold a) - mean z(thin a) + mean z(thin b), with bold/thin
picked by ink among samples the classifier calls a and b. Averaging three per concept matters:
one z carries too much that is particular to it. Even so the sum need not land on b: z-space
directions of "stroke weight" and "digit identity" are not separate axes, and the sum can
decode to a third class. In the full run a share of
0.65 [#sums that decode to b, over random triples] of the sums decoded to b.

Everything here calls ``minigan.evaluation.latent`` (lerp, slerp, interpolation_grid,
vector_arithmetic) on the DCGAN of lesson 12, trained on real 28×28 MNIST digits, where a morph
from one digit into another and the stroke weight of a sum are visible (--quick: the 8×8
digits, seconds). slerp and the arithmetic are also written out in the engine's ops and
checked against the library.

What to watch in the terminal: the norm of the path (lerp sags to about sqrt(d/2) at the
midpoint, slerp stays near sqrt(d)); the classifier's confidence along the walks next to its
confidence on the generator's own samples; and whether the sum decodes to a digit of class b
with the extra ink that bold a - thin a carries.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import backend  # noqa: E402
from minigan.evaluation import latent as zspace  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.dcgan import CLASSIC_RECIPE  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains the DCGAN on the 8×8 digits for a few seconds only (150 steps: the walks
# pass through blobs and the numbers just show the machinery); the full lesson trains on
# 28×28 MNIST for 1500 steps (lesson 12's budget; the default
# `images --model dcgan --data mnist` run is 6000).
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["dcgan"]["steps"] if args.quick else 1500
STEPS_ALONG = 10
QUICK_NOTE = f"{STEPS} steps on 8×8 digits: G draws blobs, not yet digits"

# %% [markdown]
# ## 1. A generator to walk in (lesson 12's DCGAN; its EMA weights, batch norm re-estimated)

# %%
course.section(args, "1. A generator to walk in",
               f"Lesson 12's DCGAN, {STEPS} steps on {DATA}; the walks use its EMA weights "
               "with batch norm re-estimated. The classifier's confidence on 400 of its samples "
               "at z ~ N(0, I) is the baseline for the walks below.")
run = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=DATA, **CLASSIC_RECIPE)
G, z_dim = run.sample_generators()["dcgan_ema"]
scorer = get_scorer(run.data["name"], run.size)
z_rand = np.random.default_rng(args.seed + 2).standard_normal((400, z_dim)).astype(np.float32)
conf_samples = float(scorer.probs(images.generate(
    G, Tensor(backend.as_array(z_rand, device=args.device)))).max(1).mean())

# %% [markdown]
# ## 2. The norm along the path: lerp dips to about sqrt(d/2) at the midpoint, slerp does not

# %%
course.section(args, "2. The norm along the path: lerp sags, slerp stays on the shell",
               f"Eight pairs z0, z1 ~ N(0, I) in d = {z_dim} dimensions. |z| concentrates near "
               "sqrt(d); the straight line's midpoint (z0 + z1)/2 has norm about sqrt(d/2); "
               "slerp keeps it. slerp written out in the engine's ops is checked against "
               "the library's first.")
rng = np.random.default_rng(args.seed + 1)
z0, z1 = rng.standard_normal((2, 8, z_dim)).astype(np.float32)

# slerp by hand for one pair of equal norm (the library also interpolates the norm linearly
# when |z0| != |z1|; for equal norms the two agree).
a = minigan.tensor(z0[0], dtype="float64")
b = minigan.tensor(z1[0], dtype="float64")
b = b * (a.norm() / b.norm())
omega = float(np.arccos((a * b).sum().item() / (a.norm() * b.norm()).item()))
t_hand = 0.3
by_hand = (np.sin((1 - t_hand) * omega) * a + np.sin(t_hand * omega) * b) / np.sin(omega)
slerp_err = float(np.abs(by_hand.numpy() - zspace.slerp(a.numpy(), b.numpy(), t_hand)).max())
course.check(args, "max |slerp by hand - library| at t = 0.3", slerp_err,
             reference="library: latent.slerp; 0 up to float64 rounding",
             ok=slerp_err < 1e-10, fmt=".1e")

ts = np.linspace(0, 1, 21)
norms = {m: np.array([np.linalg.norm(f(z0, z1, t), axis=1).mean() for t in ts])
         for m, f in (("lerp", zspace.lerp), ("slerp", zspace.slerp))}
mid = len(ts) // 2
ends = float(norms["lerp"][0])
# |z| of z ~ N(0, I_d) has mean about sqrt(d - 1/2) and sd about 1/sqrt(2); the lerp midpoint
# (z0 + z1)/2 ~ N(0, I_d / 2) has half of each. Margins: 3 sd of a mean over the 8 pairs.
ends = float(norms["lerp"][0])
course.check(args, "mean |z| at the start of the walks", ends,
             reference=f"sqrt(d - 1/2) = {np.sqrt(z_dim - 0.5):.2f}",
             ok=abs(ends - np.sqrt(z_dim - 0.5)) < 3 * np.sqrt(0.5 / 8), fmt=".2f")
course.check(args, "mean |z| at the midpoint, lerp", float(norms["lerp"][mid]),
             reference=f"sqrt((d - 1/2)/2) = {np.sqrt((z_dim - 0.5) / 2):.2f}: off the shell",
             ok=abs(norms["lerp"][mid] - np.sqrt((z_dim - 0.5) / 2)) < 3 * np.sqrt(0.25 / 8),
             fmt=".2f")
course.check(args, "mean |z| at the midpoint, slerp", float(norms["slerp"][mid]),
             reference="the ends' mean |z| (above): on the shell",
             ok=abs(norms["slerp"][mid] / ends - 1) < 0.05, fmt=".2f")

# %% [markdown]
# ## 3. Walks: six rows from one random z to another, decoded; the classifier's confidence
# along the way says whether the path stays among digits

# %%
course.section(args, "3. Walks: six rows from one random z to another, decoded",
               f"Each walk takes {STEPS_ALONG} steps; the classifier's confidence along it "
               "says whether the path stays among digits. Compare the slerp walk with G's "
               "samples, and the lerp midpoints (off the shell) with slerp's.")
walks, conf_along = {}, {}
for method in ("lerp", "slerp"):
    grid = zspace.interpolation_grid(z0[:6], z1[:6], steps=STEPS_ALONG, method=method)
    imgs = images.generate(G, Tensor(backend.as_array(grid, device=args.device)))
    walks[method] = imgs
    conf_along[method] = scorer.probs(imgs).max(1).reshape(6, STEPS_ALONG).mean(0)
course.check(args, "mean classifier confidence along the slerp walks",
             float(conf_along["slerp"].mean()),
             reference=f"G's samples at z ~ N(0, I): {conf_samples:.3f}",
             ok=conf_along["slerp"].mean() > conf_samples - 0.05, fmt=".3f",
             good="as high (within 0.05): the walk stays among digits",
             bad="lower: the walk leaves the digits", quick_note=QUICK_NOTE)
mids = slice(STEPS_ALONG // 2 - 1, STEPS_ALONG // 2 + 1)
course.check(args, "classifier confidence at the midpoints of the lerp walks",
             float(conf_along["lerp"][mids].mean()),
             reference=f"slerp's midpoints {conf_along['slerp'][mids].mean():.3f}; no pass mark: "
             "what the off-shell midpoint costs depends on G", fmt=".3f")
figs = [P.image_grid_figure(args.out / f"walk_{m}.png", walks[m], nrow=STEPS_ALONG,
                            title=f"z-space walk ({m}): six pairs of random z")
        for m in walks]
print("\n".join(f"  figure: {f}" for f in figs))

fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
for m, c in (("lerp", "C0"), ("slerp", "C3")):
    axes[0].plot(ts, norms[m], color=c, label=m)
    axes[1].plot(np.linspace(0, 1, STEPS_ALONG), conf_along[m], "o-", color=c, ms=3, label=m)
axes[0].axhline(np.sqrt(z_dim), color="0.5", linestyle=":", label="sqrt(d)")
axes[0].axhline(np.sqrt(z_dim / 2), color="0.7", linestyle="--", label="sqrt(d/2)")
axes[1].axhline(conf_samples, color="0.5", linestyle=":", label="G's samples")
axes[0].set_xlabel("t")
axes[0].set_ylabel("mean |z(t)|")
axes[0].set_title("where the walk goes: the Gaussian shell", fontsize=9)
axes[1].set_xlabel("t")
axes[1].set_ylabel("classifier confidence")
axes[1].set_title("does it stay among digits?", fontsize=9)
for ax in axes:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
fig_norms = course.save_figure(fig, args, "norm_and_confidence.png")
figs.append(fig_norms)

# %% [markdown]
# ## 4. Arithmetic: bold a - thin a + thin b (three samples per concept, averaged)

# %%
course.section(args, "4. Arithmetic: bold a - thin a + thin b",
               "Among 400 samples, a and b are the two classes the classifier sees most; the "
               "three inkiest and three thinnest a and the three thinnest b are averaged in "
               "z-space. The sum should decode to a b with the extra ink of bold a - thin a.")
zs = minigan.tensor(z_rand[:9], dtype="float64")
arith_hand = zs[0:3].mean(0) - zs[3:6].mean(0) + zs[6:9].mean(0)
arith_err = float(np.abs(arith_hand.numpy() - zspace.vector_arithmetic(
    z_rand[0:3].astype(np.float64), z_rand[3:6].astype(np.float64),
    z_rand[6:9].astype(np.float64))).max())
course.check(args, "max |mean - mean + mean by hand - library|", arith_err,
             reference="library: latent.vector_arithmetic; 0 up to float64 rounding",
             ok=arith_err < 1e-12, fmt=".1e")
run.out = args.out                     # the run's arithmetic figure goes with this lesson's
arith = run.arithmetic(G, scorer, P)
if "arithmetic_class" in arith:
    figs.append(args.out / "arithmetic.png")     # written by the run, into run.out
    print(f"  figure: {figs[-1]}")
    b_class = int(arith["arithmetic"].split()[-1])
    course.check(args, f"class that {arith['arithmetic']} decodes to", arith["arithmetic_class"],
                 reference=f"b = {b_class}; one sum is an anecdote, the rate below is the "
                           "measurement", quick_note=QUICK_NOTE)
    course.check(args, "sums that decode to b, over random triples", arith["arithmetic_rate"],
                 reference=f"{arith['arithmetic_trials']}; 1 if the recipe always works",
                 ok=arith["arithmetic_rate"] >= 0.5, fmt=".2f",
                 good="most sums are a b", bad="fewer than half the sums are a b",
                 quick_note=QUICK_NOTE)
    course.check(args, "its ink gain over the thin b's (mean pixel value)",
                 arith["arithmetic_ink_gain"],
                 reference=f"bold a - thin a: {arith['arithmetic_expected_gain']:+.3f}",
                 ok=arith["arithmetic_ink_gain"] > 0.5 * arith["arithmetic_expected_gain"] > 0,
                 fmt="+.3f", good="at least half of it carried over",
                 bad="less than half carried over", quick_note=QUICK_NOTE)
else:
    course.check(args, "vector arithmetic", arith["arithmetic"],
                 reference="needs enough samples of two classes", ok=False,
                 quick_note=QUICK_NOTE)

# %%
course.report(args, {"steps": STEPS}, figs)
