"""Self-attention GAN: every pixel may look at every other pixel, measured against DCGAN.

A convolution sees a small neighbourhood: one 3×3 layer lets an output pixel depend on 9
input pixels, and information crosses an image only through a stack of layers. "Attention to
improve context" (lecture notes 004; Zhang, Goodfellow, Metaxas & Odena 2019, SAGAN): for
each pixel location compute an attention map over *all* locations, multiply it with the
features, and use such a block in the top layers of both G and D. With 1×1 convolutions f
(query), g (key) and h (value) over the N = H·W positions of a feature map x
(``nn.SelfAttention2d``)::

    s_ij = f(x_i)ᵀ g(x_j),    β_ij = softmax_j(s_ij),    o_i = Σ_j β_ij h(x_j),
    y = γ·o + x               (γ learned, initialised at 0: the block starts as the identity).

Row i of β is where position i looks: the *attention map of query pixel i*. The cost is an
N×N matrix per image (N² instead of the convolution's 9·N), cheap at 8×8 (N = 64).

SAGAN adds the stabilisers it relies on (``minigan.experiments.images.sagan``): spectral normalisation of
every weight, the hinge loss, and two time scales (D at 4e-4, G at 1e-4, Adam β (0, 0.9)).

Measured here: the receptive field of one output pixel with and without attention (by
autograd), SAGAN's samples scored next to a DCGAN of the same widths trained for the same
number of steps, the learned γ of each block, the attention maps of chosen query pixels of a
generated digit (and how far they reach), and what a step costs.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend, nn  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains each GAN for a few seconds only (40 steps: the samples are blobs and the
# numbers just show the machinery); the full lesson trains each for 1500 steps (the default
# of `python -m minigan images --model sagan`).
STEPS = images.QUICK["sagan"]["steps"] if args.quick else images.DEFAULTS["sagan"]["steps"]
width = images.DEFAULTS["sagan"]["g_width"]        # 16, in G and D of both GANs

# %% [markdown]
# ## 1. What attention adds: the receptive field of one output pixel
# Feed a random 8-channel 8×8 feature map through a 3×3 convolution, and through a
# self-attention block (γ set to 1 so that the attention path counts), and ask autograd which
# input pixels the output pixel (4, 4) depends on: d y(4,4) / d x is non-zero exactly there.

# %%
def receptive_field(layer, x):
    """Input positions whose gradient reaches the centre output pixel (an 8×8 boolean map)."""
    xt = Tensor(backend.as_array(x, device=args.device), requires_grad=True)
    layer(xt)[0, :, 4, 4].sum().backward()
    return np.abs(backend.to_numpy(xt.grad.array))[0].sum(0) > 0


x_demo = np.random.default_rng(args.seed).standard_normal((1, 8, 8, 8)).astype(np.float32)
conv = nn.Conv2d(8, 8, 3, 1, 1)
attn = nn.SelfAttention2d(8)
y0 = attn(Tensor(backend.as_array(x_demo, device=args.device)))
identity_err = float(np.abs(backend.to_numpy(y0.array) - x_demo).max())
row_sums = backend.to_numpy(attn.attention.array).sum(-1)
attn.gamma.array[...] = 1.0
field = {"conv 3×3": receptive_field(conv, x_demo), "self-attention": receptive_field(attn, x_demo)}
print(f"self-attention at γ = 0: max |y - x| = {identity_err:.1e} (the identity); each row of β "
      f"sums to 1 (max error {np.abs(row_sums - 1).max():.1e}); β has shape "
      f"{tuple(attn.attention.shape)} = (batch, N, N) for N = 8·8")
for name, f in field.items():
    print(f"{name}: output pixel (4, 4) depends on {int(f.sum())} of 64 input pixels")


def ms_per_pass(layer, x, reps=20):
    """Forward + backward of one layer on x, in milliseconds (median of ``reps``)."""
    import time
    xt = Tensor(backend.as_array(x, device=args.device), requires_grad=True)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        layer(xt).sum().backward()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


# %% [markdown]
# The price: an N×N matrix per image. Forward + backward of an attention block alone and of a
# 3×3 convolution, on a batch shaped like SAGAN G's 8×8 feature maps (width 16).

# %%
fmap = np.random.default_rng(args.seed).standard_normal((64, width, 8, 8)).astype(np.float32)
layer_ms = {"attention": ms_per_pass(nn.SelfAttention2d(width).to(args.device), fmap),
            "conv 3×3": ms_per_pass(nn.Conv2d(width, width, 3, 1, 1).to(args.device), fmap)}
print(f"on a batch of 64 {width}×8×8 maps, forward + backward: self-attention block "
      f"{layer_ms['attention']:.2f} ms, 3×3 convolution {layer_ms['conv 3×3']:.2f} ms")

# %% [markdown]
# ## 2. Train SAGAN, and a DCGAN of the same widths for the same number of steps
# ``images.MODELS["sagan"]``: G and D of widths 16, one attention block each at the 8×8 map.
# The DCGAN is lesson 12's recipe at widths 16 with its EMA off, so both are scored on their
# last generator.

# %%
data = images.load_image_data("digits", device=args.device)
runs = {"sagan": images.train_model("sagan", STEPS, quick=args.quick, seed=args.seed,
                                    device=args.device, data=data),
        "dcgan": images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed,
                                    device=args.device, data=data, g_width=width,
                                    d_width=width, ema=0)}
params = {k: (sum(p.array.size for p in r.G.parameters()),
              sum(p.array.size for p in r.D.parameters())) for k, r in runs.items()}
ms_step = {k: 1000 * r.train_seconds / STEPS for k, r in runs.items()}
for k, r in runs.items():
    print(f"{k}: G {params[k][0]} parameters, D {params[k][1]}; {STEPS} steps in "
          f"{r.train_seconds:.1f} s = {ms_step[k]:.1f} ms a step")
print(f"SAGAN costs {ms_step['sagan'] / ms_step['dcgan']:.2f}× DCGAN's time per step. The two "
      "attention blocks do not explain it alone (section 1): spectral norm adds a power "
      "iteration per weight at every call, and SAGAN's D has "
      f"{params['sagan'][1] / params['dcgan'][1]:.1f}× the parameters of DCGAN's")


# %% [markdown]
# ## 3. Score both against real digits (classes covered, confidence, Fréchet distance)

# %%
scorer = get_scorer("digits", 8)
base = scorer.baseline()
samples = {k: r.samples(1000)[k] for k, r in runs.items()}
scores = {k: scorer.score(s) for k, s in samples.items()}
for k, sc in scores.items():
    print(f"{k:<6s} classes covered {sc['coverage']}/10, confidence {sc['confidence']:.3f}, "
          f"Fréchet {sc['frechet']:.3f} (real vs real: {base['frechet']:.3f})")
figs = [P.image_grid_figure(args.out / f"samples_{k}.png", s[:100], nrow=10,
                            title=f"{k.upper()} after {STEPS} steps (width {width}): "
                                  f"{scores[k]['coverage']} classes, Fréchet "
                                  f"{scores[k]['frechet']:.2f}")
        for k, s in samples.items()]

# %% [markdown]
# ## 4. Where does a query pixel look? The attention maps of G and D, and γ
# For three query pixels of four generated digits: the row β_q· as an 8×8 map (the run's
# figures). The mean distance from a query to where it looks, next to that of uniform
# attention, says whether G's block learned something other than "look everywhere".

# %%
run = runs["sagan"]
run.out = args.out                      # the run's figures go with this lesson's
report = {"figures": []}
run.extra(scorer, report)               # prints γ_G, γ_D and the reach of G's attention
figs += report["figures"]
att = backend.to_numpy(run.sample_modules["sagan"].attn.attention.array)   # (4, 64, 64)
entropy = float(-(att * np.log(att + 1e-12)).sum(-1).mean())
print(f"entropy of G's attention rows {entropy:.3f} nats (uniform over 64 pixels: "
      f"{np.log(64):.3f})")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
for ax, (name, f) in zip(axes[:2], field.items()):
    ax.imshow(f, cmap="Blues", vmin=0, vmax=1.5)
    ax.plot(4, 4, "o", color="tab:red")
    ax.set_title(f"{name}: y(4,4) depends on {int(f.sum())}/64", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
names = ["SAGAN", "DCGAN", "real"]
vals = [scores["sagan"]["frechet"], scores["dcgan"]["frechet"], base["frechet"]]
axes[2].bar(names, vals, color=["C3", "C0", "black"])
for i, v in enumerate(vals):
    axes[2].text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
axes[2].set_ylabel("Fréchet distance to real (lower is better)")
axes[2].set_title(f"same widths, {STEPS} steps: {ms_step['sagan']:.0f} vs "
                  f"{ms_step['dcgan']:.0f} ms a step", fontsize=9)
fig_field = course.save_figure(fig, args, "receptive_field_and_scores.png")
figs.append(fig_field)

# %%
course.report(args, {
    "steps": STEPS,
    "input pixels seen by one output pixel (conv 3×3 / attention)":
        f"{int(field['conv 3×3'].sum())} / {int(field['self-attention'].sum())} of 64",
    "Fréchet SAGAN": scores["sagan"]["frechet"],
    "Fréchet DCGAN (same widths, steps)": scores["dcgan"]["frechet"],
    "Fréchet real": base["frechet"],
    "classes covered (SAGAN / DCGAN)":
        f"{scores['sagan']['coverage']} / {scores['dcgan']['coverage']}",
    "confidence SAGAN": scores["sagan"]["confidence"],
    "confidence DCGAN": scores["dcgan"]["confidence"],
    "gamma G": report["gamma_G"],
    "gamma D": report["gamma_D"],
    "G attention reach (px; uniform)":
        f"{report['attention_mean_distance_G']:.2f} ({report['attention_mean_distance_uniform']:.2f})",
    "G attention entropy (nats)": entropy,
    "uniform attention entropy (nats)": float(np.log(64)),
    "ms per step SAGAN": ms_step["sagan"],
    "ms per step DCGAN": ms_step["dcgan"],
    "ms attention block / conv 3×3 (fwd + bwd, batch 64)":
        f"{layer_ms['attention']:.2f} / {layer_ms['conv 3×3']:.2f}",
}, figs, notes="--quick trains a few seconds only: the numbers then just show the machinery")
