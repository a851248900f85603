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

SAGAN adds the stabilisers it relies on (``minigan.experiments.images.sagan``): spectral
normalisation of every weight, the hinge loss, and two time scales (D at 4e-4, G at 1e-4,
Adam β (0, 0.9)). On ImageNet the paper lowered the best published FID from 27.62 to 18.65.

The lesson first writes the block in a few lines of engine ops and checks it against
``nn.SelfAttention2d`` with the same weights. Measured: the receptive field of one output
pixel with and without attention (by autograd), SAGAN's samples scored next to a DCGAN of the
same widths trained for the same number of steps, the learned γ of each block, the attention
maps of chosen query pixels of a generated digit (and how far they reach), and what a step
costs.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import contextlib  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend, nn  # noqa: E402
from minigan import functional as F  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# --quick trains each GAN for a few seconds only (40 steps: the samples are blobs and the
# numbers just show the machinery); the full lesson trains each for 1500 steps (the default
# of `python -m minigan images --model sagan`).
STEPS = images.QUICK["sagan"]["steps"] if args.quick else images.DEFAULTS["sagan"]["steps"]
width = images.DEFAULTS["sagan"]["g_width"]        # 16, in G and D of both GANs
QUICK_NOTE = "40 steps: neither GAN draws digits yet"


def tensor(a, grad=False):
    return Tensor(backend.as_array(a, device=args.device), requires_grad=grad)


# %%
def conv1x1(conv, xs):
    """A 1×1 convolution on (B, C, N) positions: the same C_out×C matrix at every position."""
    w = conv.weight.reshape(conv.weight.shape[0], conv.weight.shape[1])
    return w @ xs + conv.bias.reshape(1, -1, 1)


def self_attention(x, block):
    """SAGAN's block written out, with ``block``'s weights (query f, key g, value h, γ)."""
    b, c, hgt, wid = x.shape
    xs = x.reshape(b, c, hgt * wid)                                 # (B, C, N): N positions
    f, g, h = conv1x1(block.query, xs), conv1x1(block.key, xs), conv1x1(block.value, xs)
    beta = F.softmax(f.swapaxes(1, 2) @ g, dim=-1)                  # β_ij = softmax_j f_iᵀ g_j
    o = h @ beta.swapaxes(1, 2)                                     # o_i = Σ_j β_ij h_j
    return block.gamma * o.reshape(b, c, hgt, wid) + x, beta


course.section(args, "1. The self-attention block in a few lines",
               "self_attention (above) takes a block's 1×1 convolutions f, g, h and its γ. "
               "Fed the same 8-channel 8×8 feature map as nn.SelfAttention2d, with γ set to a "
               "non-zero value so that the attention path counts, it must give the same "
               "output; at γ = 0 (the initialisation) the block is the identity.")
x_demo = np.random.default_rng(args.seed).standard_normal((1, 8, 8, 8)).astype(np.float32)
attn = nn.SelfAttention2d(8).to(args.device)
y0 = attn(tensor(x_demo))
identity_err = float(np.abs(backend.to_numpy(y0.array) - x_demo).max())
course.check(args, "max |block(x) - x| at γ = 0", identity_err, "0: the block starts as the "
             "identity", ok=identity_err < 1e-6, fmt=".1e")
attn.gamma.array[...] = 0.7
y_own, beta_own = self_attention(tensor(x_demo), attn)
y_lib = attn(tensor(x_demo))
own_err = float(np.abs(backend.to_numpy((y_own - y_lib).array)).max())
course.check(args, "max |self_attention(x) - nn.SelfAttention2d(x)|, γ = 0.7", own_err,
             "0 up to float32 rounding", ok=own_err < 1e-5, fmt=".1e")
rows = backend.to_numpy(beta_own.array).sum(-1)
course.check(args, "max |row sum of β - 1|", float(np.abs(rows - 1).max()),
             f"0: each of the {rows.shape[-1]} rows is a distribution over positions",
             ok=float(np.abs(rows - 1).max()) < 1e-5, fmt=".1e")


# %%
def receptive_field(layer, x):
    """Input positions whose gradient reaches the centre output pixel (an 8×8 boolean map)."""
    xt = tensor(x, grad=True)
    layer(xt)[0, :, 4, 4].sum().backward()
    return np.abs(backend.to_numpy(xt.grad.array))[0].sum(0) > 0


def ms_per_pass(layer, x, reps=20):
    """Forward + backward of one layer on x, in milliseconds (median of ``reps``)."""
    xt = tensor(x, grad=True)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        layer(xt).sum().backward()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


course.section(args, "2. What attention adds: the receptive field of one output pixel",
               "Which input pixels does output pixel (4, 4) depend on? Autograd answers: "
               "d y(4,4) / d x is non-zero exactly there. Then the price: an N×N matrix per "
               "image, timed forward + backward on a batch shaped like SAGAN G's 8×8 maps.")
conv = nn.Conv2d(8, 8, 3, 1, 1).to(args.device)
attn.gamma.array[...] = 1.0
field = {"conv 3×3": receptive_field(conv, x_demo), "self-attention": receptive_field(attn, x_demo)}
course.check(args, "input pixels seen by output (4, 4), conv 3×3", int(field["conv 3×3"].sum()),
             "3×3 = 9", ok=int(field["conv 3×3"].sum()) == 9)
course.check(args, "input pixels seen by output (4, 4), self-attention",
             int(field["self-attention"].sum()), "all 8·8 = 64",
             ok=int(field["self-attention"].sum()) == 64)
fmap = np.random.default_rng(args.seed).standard_normal((64, width, 8, 8)).astype(np.float32)
layer_ms = {"attention": ms_per_pass(nn.SelfAttention2d(width).to(args.device), fmap),
            "conv 3×3": ms_per_pass(nn.Conv2d(width, width, 3, 1, 1).to(args.device), fmap)}
course.check(args, "ms per pass, attention block / conv 3×3", layer_ms["attention"]
             / layer_ms["conv 3×3"], f"batch 64 of {width}×8×8, forward + backward; conv "
             f"{layer_ms['conv 3×3']:.2f} ms", ok=None, fmt=".2f")

# %%
course.section(args, f"3. Train SAGAN, and a DCGAN of the same widths, {STEPS} steps each",
               "images.MODELS['sagan']: G and D of widths 16, one attention block each at the "
               "8×8 map. The DCGAN is lesson 12's recipe at widths 16 with its EMA off, so both "
               "are scored on their last generator.")
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
    print(f"  {k}: G {params[k][0]} parameters, D {params[k][1]}")
course.check(args, "time per step, SAGAN / DCGAN", ms_step["sagan"] / ms_step["dcgan"],
             f"DCGAN {ms_step['dcgan']:.1f} ms; the attention blocks alone do not explain it: "
             "spectral norm adds a power iteration per weight at every call, and SAGAN's D has "
             f"{params['sagan'][1] / params['dcgan'][1]:.1f}× DCGAN's parameters", ok=None,
             fmt=".2f")

# %%
course.section(args, "4. Score both against real digits",
               "1000 samples of each, read by the digit classifier. Lower Fréchet distance is "
               "better; real vs real is the floor. SAGAN's gain was measured on 128×128 "
               "ImageNet, where distant parts of an image must agree; at 8×8 a few 3×3 "
               "convolutions already see the whole digit, so the test is whether attention "
               "helps at this size at all.")
scorer = get_scorer("digits", 8)
base = scorer.baseline()
samples = {k: r.samples(1000)[k] for k, r in runs.items()}
scores = {k: scorer.score(s) for k, s in samples.items()}
sa, dc = scores["sagan"], scores["dcgan"]
course.check(args, "Fréchet distance, SAGAN", sa["frechet"],
             f"DCGAN {dc['frechet']:.3f}, real vs real {base['frechet']:.3f}",
             ok=sa["frechet"] < dc["frechet"], fmt=".3f", quick_note=QUICK_NOTE)
course.check(args, "classes covered, SAGAN (of 10)", sa["coverage"],
             f"DCGAN {dc['coverage']}, real {base['coverage']}", ok=sa["coverage"] >= 9,
             quick_note=QUICK_NOTE)
course.check(args, "classifier confidence, SAGAN", sa["confidence"],
             f"DCGAN {dc['confidence']:.3f}, real {base['confidence']:.3f}", ok=None, fmt=".3f")
figs = [P.image_grid_figure(args.out / f"samples_{k}.png", s[:100], nrow=10,
                            title=f"{k.upper()} after {STEPS} steps (width {width})")
        for k, s in samples.items()]

# %%
course.section(args, "5. Where does a query pixel look? The attention maps of G and D, and γ",
               "For three query pixels of four generated digits: the row β_q· as an 8×8 map "
               "(the run's figures). The mean distance from a query to where it looks, next to "
               "that of uniform attention, says whether G's block learned something other "
               "than 'look everywhere'.")
run = runs["sagan"]
run.out = args.out                      # the run's figures go with this lesson's
extra = {"figures": []}
with contextlib.redirect_stdout(io.StringIO()):      # its numbers are checked below instead
    run.extra(scorer, extra)
figs += extra["figures"]
for who in ("G", "D"):
    course.check(args, f"γ of {who}'s attention block", extra[f"gamma_{who}"],
                 "0 at the start; away from 0 once the block is used",
                 ok=abs(extra[f"gamma_{who}"]) > 0.01, fmt=".3f",
                 quick_note="40 steps: γ has barely left 0")
course.check(args, "mean distance from a query to where G looks [px]",
             extra["attention_mean_distance_G"],
             f"uniform attention {extra['attention_mean_distance_uniform']:.2f}", ok=None,
             fmt=".2f")
att = backend.to_numpy(run.sample_modules["sagan"].attn.attention.array)   # (4, 64, 64)
entropy = float(-(att * np.log(att + 1e-12)).sum(-1).mean())
course.check(args, "entropy of G's attention rows [nats]", entropy,
             f"uniform over 64 pixels: log 64 = {np.log(64):.3f}", ok=None, fmt=".3f")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
for ax, (name, f) in zip(axes[:2], field.items()):
    ax.imshow(f, cmap="Blues", vmin=0, vmax=1.5)
    ax.plot(4, 4, "o", color="tab:red")
    ax.set_title(f"{name}: what y(4,4) sees", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
names = ["SAGAN", "DCGAN", "real"]
vals = [sa["frechet"], dc["frechet"], base["frechet"]]
axes[2].bar(names, vals, color=["C3", "C0", "black"])
axes[2].set_ylabel("Fréchet distance (lower is better)")
axes[2].set_title(f"same widths, {STEPS} steps", fontsize=9)
figs.append(course.save_figure(fig, args, "receptive_field_and_scores.png"))

# %%
course.report(args, {"steps": STEPS, "width": width, "parameters G (SAGAN / DCGAN)":
                     f"{params['sagan'][0]} / {params['dcgan'][0]}"}, figs,
              notes="--quick trains a few seconds only: the numbers then just show the machinery")
