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
one z carries too much that is particular to it.

Everything here calls ``minigan.evaluation.latent`` (lerp, slerp, interpolation_grid, vector_arithmetic)
on the DCGAN of lesson 12, trained on real 28×28 MNIST digits, where a morph from a 3 into a
7 and the stroke weight of a sum are visible (--quick: the 8×8 digits, seconds).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.evaluation import latent as zspace  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains the DCGAN on the 8×8 digits for a few seconds only (150 steps: the walks
# pass through blobs and the numbers just show the machinery); the full lesson trains on
# 28×28 MNIST for 1500 steps, about 4 minutes on one core (lesson 12's budget; the default
# `images --model dcgan --data mnist` run is 3000).
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["dcgan"]["steps"] if args.quick else 1500
STEPS_ALONG = 10

# %% [markdown]
# ## 1. A generator to walk in (lesson 12's DCGAN; its EMA weights, batch norm re-estimated)

# %%
run = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=DATA)
G, z_dim = run.sample_generators()["dcgan_ema"]
scorer = get_scorer(run.data["name"], run.size)
print(f"trained the DCGAN for {STEPS} steps; z_dim = {z_dim}")

# %% [markdown]
# ## 2. The norm along the path: lerp dips to about sqrt(d/2) at the midpoint, slerp does not

# %%
rng = np.random.default_rng(args.seed + 1)
z0, z1 = rng.standard_normal((2, 8, z_dim)).astype(np.float32)
ts = np.linspace(0, 1, 21)
norms = {m: np.array([np.linalg.norm(f(z0, z1, t), axis=1).mean() for t in ts])
         for m, f in (("lerp", zspace.lerp), ("slerp", zspace.slerp))}
mid = len(ts) // 2
print(f"|z| at the ends {norms['lerp'][0]:.2f} (sqrt(d) = {np.sqrt(z_dim):.2f}); at the "
      f"midpoint: lerp {norms['lerp'][mid]:.2f} (sqrt(d/2) = {np.sqrt(z_dim / 2):.2f}), "
      f"slerp {norms['slerp'][mid]:.2f}")

# %% [markdown]
# ## 3. Walks: six rows from one random z to another, decoded; the classifier's confidence
# along the way says whether the path stays among digits

# %%
walks, conf_along = {}, {}
for method in ("lerp", "slerp"):
    grid = zspace.interpolation_grid(z0[:6], z1[:6], steps=STEPS_ALONG, method=method)
    imgs = images.generate(G, Tensor(backend.as_array(grid, device=args.device)))
    walks[method] = imgs
    conf_along[method] = scorer.probs(imgs).max(1).reshape(6, STEPS_ALONG).mean(0)
    print(f"{method}: mean confidence along the walk {conf_along[method].mean():.3f}, at the "
          f"midpoints {conf_along[method][STEPS_ALONG // 2 - 1:STEPS_ALONG // 2 + 1].mean():.3f}")
figs = [P.image_grid_figure(args.out / f"walk_{m}.png", walks[m], nrow=STEPS_ALONG,
                            title=f"z-space walk ({m}): mean confidence "
                                  f"{conf_along[m].mean():.3f}") for m in walks]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for m, c in (("lerp", "C0"), ("slerp", "C3")):
    axes[0].plot(ts, norms[m], color=c, label=m)
    axes[1].plot(np.linspace(0, 1, STEPS_ALONG), conf_along[m], "o-", color=c, ms=3, label=m)
axes[0].axhline(np.sqrt(z_dim), color="0.5", linestyle=":", label="sqrt(d)")
axes[0].axhline(np.sqrt(z_dim / 2), color="0.7", linestyle="--", label="sqrt(d/2)")
axes[0].set_xlabel("t")
axes[0].set_ylabel("mean |z(t)|")
axes[0].set_title("where the walk goes: the Gaussian shell", fontsize=9)
axes[1].set_xlabel("t")
axes[1].set_ylabel("classifier confidence")
axes[1].set_title("does it stay among digits?", fontsize=9)
for ax in axes:
    ax.legend(fontsize=7)
fig_norms = course.save_figure(fig, args, "norm_and_confidence.png")
figs.append(fig_norms)

# %% [markdown]
# ## 4. Arithmetic: bold a - thin a + thin b (three samples per concept, averaged)

# %%
run.out = args.out                     # the run's arithmetic figure goes with this lesson's
arith = run.arithmetic(G, scorer, P)
figs.append(args.out / "arithmetic.png")     # written by the run, into run.out
print(f"{arith['arithmetic']}: decodes to a {arith['arithmetic_class']}; its ink gain over "
      f"the thin b's {arith['arithmetic_ink_gain']:+.3f} (bold a - thin a: "
      f"{arith['arithmetic_expected_gain']:+.3f})")

# %%
course.report(args, {
    "steps": STEPS,
    "|z| at the ends": float(norms["lerp"][0]),
    "lerp |z| at the midpoint": float(norms["lerp"][mid]),
    "slerp |z| at the midpoint": float(norms["slerp"][mid]),
    "lerp mean confidence along the walk": float(conf_along["lerp"].mean()),
    "slerp mean confidence along the walk": float(conf_along["slerp"].mean()),
    "arithmetic": arith["arithmetic"],
    "arithmetic decodes to class": arith["arithmetic_class"],
    "arithmetic ink gain": arith["arithmetic_ink_gain"],
    "expected ink gain (bold a - thin a)": arith["arithmetic_expected_gain"],
}, figs, notes="--quick trains a few seconds only: the numbers then just show the machinery")
