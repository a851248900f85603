"""Convolution, fractionally-strided convolution and batch norm by hand, gradient-checked.

DCGAN's generator climbs from a noise vector to an image with *fractionally-strided*
(transposed) convolutions; its discriminator climbs down with strided convolutions; both use
batch norm (lecture notes 001, "Deep Convolutional GANs": fractionally-strided convolutions
in G, batch normalisation after every layer, ReLU inside G and tanh at its output). On the
8×8 digits (lessons 01 and 02, and the quick runs of 12 and 13) minigan's generator goes
1×1 -> 2×2 -> 4×4 -> 8×8; the full runs of lessons 12 and 13 train the MNIST version,
1×1 -> 7×7 -> 14×14 -> 28×28. This lesson trains nothing: it opens the three kernels on small
random arrays.

1. a convolution is one matrix product once the patches are laid out as columns (im2col),
   and on one channel it equals SciPy's ``correlate2d``;
2. the transposed convolution is the convolution's adjoint, <conv(x), v> = <x, convT(v)>:
   if the convolution is A = C B for a large matrix C, the transposed one computes C^T A
   (notes 000, "fractionally-strided convolutions"). Each input pixel stamps the filter onto
   the output, stride pixels apart; where stamps overlap unevenly (kernel 3, stride 2) a
   checkerboard appears -- the famous artefact;
3. batch norm standardises each channel over the batch, then scales and shifts it;
4. all three pass first- and second-order gradient checks (the critic of WGAN-GP needs the
   second order), which you can re-run in class.

What to watch in the terminal: every by-hand version agrees with the library's to rounding;
kernel 3 with stride 2 covers the output unevenly, kernel 4 evenly; and every gradient check
passes. Read ``minigan/ops/conv.py`` and ``minigan/ops/norm.py`` alongside: their docstrings
derive every gradient used here.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.signal import correlate2d  # noqa: E402

import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402

dev = args.device
rng = np.random.default_rng(args.seed)
ROUNDING = "0 up to float64 rounding"

# %% [markdown]
# ## 1. Convolution = im2col + one matrix product = correlate2d

# %%
course.section(args, "1. Convolution = im2col + one matrix product = correlate2d",
               "A 3×3 filter over a 6×6 image: conv2d against SciPy's correlate2d. Then a "
               "strided, padded, multi-channel convolution written as im2col (every patch a "
               "column, with the engine's slicing) and one matrix product, against F.conv2d.")
img = rng.standard_normal((6, 6))
ker = rng.standard_normal((3, 3))
y = F.conv2d(minigan.tensor(img[None, None], device=dev),
             minigan.tensor(ker[None, None], device=dev))
err_scipy = float(np.abs(y.numpy()[0, 0] - correlate2d(img, ker, mode="valid")).max())
course.check(args, "max |conv2d - scipy correlate2d|, one channel", err_scipy,
             reference=ROUNDING, ok=err_scipy < 1e-12, fmt=".1e")


def conv2d_im2col(x, w, stride, padding):
    """(N, C, H, W) * (O, C, k, k) -> (N, O, H', W') as filters (O, C·k·k) @ columns."""
    n, c, _, _ = x.shape
    o, _, k, _ = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    h_out = (xp.shape[2] - k) // stride + 1
    w_out = (xp.shape[3] - k) // stride + 1
    cols = minigan.stack([xp[:, :, i:i + k, j:j + k].reshape(n, c * k * k)
                          for i in range(0, stride * h_out, stride)
                          for j in range(0, stride * w_out, stride)], dim=2)   # (N, C·k·k, L)
    out = minigan.matmul(w.reshape(o, c * k * k), cols)                         # (N, O, L)
    return out.reshape(n, o, h_out, w_out)


xs = minigan.tensor(rng.standard_normal((2, 3, 7, 7)), device=dev)
ws = minigan.tensor(rng.standard_normal((4, 3, 4, 4)), device=dev)
err_im2col = float((conv2d_im2col(xs, ws, 2, 1) - F.conv2d(xs, ws, stride=2, padding=1))
                   .abs().max().item())
course.check(args, "max |im2col + GEMM - conv2d|, 3 -> 4 channels, k 4, stride 2, pad 1",
             err_im2col, reference=f"library: F.conv2d; {ROUNDING}", ok=err_im2col < 1e-12,
             fmt=".1e")

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4),
                         gridspec_kw=dict(width_ratios=[1, 0.6, 0.75, 2.3]))
axes[0].imshow(img, cmap="gray")
axes[0].set_title("input 6x6")
axes[1].imshow(ker, cmap="coolwarm")
axes[1].set_title("filter 3x3")
axes[2].imshow(y.numpy()[0, 0], cmap="gray")
axes[2].set_title("output 4x4")
# im2col of the one-channel example: each column is one 3x3 patch, flattened.
cols = np.stack([img[i:i + 3, j:j + 3].ravel() for i in range(4) for j in range(4)], axis=1)
axes[3].imshow(cols, cmap="gray", aspect="auto")
axes[3].set_title("im2col: 16 patches as columns (9 x 16);\noutput = filter (1 x 9) @ columns")
axes[3].set_xlabel("patch (output pixel)")
axes[3].set_ylabel("position in patch")
for a in axes[:3]:
    a.set_xticks([])
    a.set_yticks([])
fig_conv = course.save_figure(fig, args, "conv_im2col.png")

# %% [markdown]
# ## 2. The transposed convolution: the adjoint, and where checkerboards come from

# %%
course.section(args, "2. The transposed convolution: the adjoint, and checkerboards",
               "<conv(x), v> must equal <x, convT(v)> for random x, v (the same filter, stride "
               "2). Then a constant input through a transposed convolution of ones: the output "
               "counts how many stamps land on each pixel. With kernel 3 and stride 2 the "
               "interior counts are 1, 2 and 4 (a checkerboard); with kernel 4 every interior "
               "pixel gets 4.")
v = minigan.tensor(rng.standard_normal((2, 4, 3, 3)), device=dev)
lhs = float((F.conv2d(xs, ws, stride=2, padding=1) * v).sum().item())
# output_padding=1 picks the 7x7 input size among those that conv maps to 3x3.
rhs = float((xs * F.conv_transpose2d(v, ws, stride=2, padding=1, output_padding=1)).sum().item())
adjoint_err = abs(lhs - rhs) / abs(lhs)
course.check(args, "|<conv(x), v> - <x, convT(v)>| / |<conv(x), v>|", adjoint_err,
             reference=ROUNDING, ok=adjoint_err < 1e-12, fmt=".1e")

ones = minigan.ones(1, 1, 6, 6, dtype="float64", device=dev)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
stamp = minigan.zeros(1, 1, 3, 3, dtype="float64", device=dev)
stamp.array[0, 0, 1, 1] = 1.0
one_pixel = F.conv_transpose2d(stamp, minigan.ones(1, 1, 4, 4, dtype="float64", device=dev),
                               stride=2)
axes[0].imshow(one_pixel.numpy()[0, 0], cmap="viridis")
axes[0].set_title("one input pixel stamps a 4x4 filter\n(stride 2 on the output)")
ratios = {}
for ax, k in zip(axes[1:], (3, 4)):
    out = F.conv_transpose2d(ones, minigan.ones(1, 1, k, k, dtype="float64", device=dev),
                             stride=2, padding=1).numpy()[0, 0]
    inner = out[2:-2, 2:-2]
    ratios[k] = float(inner.max() / inner.min())
    im = ax.imshow(out, cmap="viridis")
    ax.set_title(f"constant input, kernel {k}, stride 2")
    fig.colorbar(im, ax=ax, fraction=0.046, label="stamps per pixel")
for a in axes:
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle("Uneven overlap (kernel 3, stride 2) makes a checkerboard")
fig_convt = course.save_figure(fig, args, "transposed_conv_checkerboard.png")
course.check(args, "interior max/min of stamps per pixel, kernel 3, stride 2", ratios[3],
             reference="1 or 2 stamps per axis: (2 / 1)² = 4, a checkerboard",
             ok=abs(ratios[3] - 4) < 1e-12, fmt=".2f")
course.check(args, "interior max/min of stamps per pixel, kernel 4, stride 2", ratios[4],
             reference="1: kernel a multiple of the stride, even overlap",
             ok=abs(ratios[4] - 1) < 1e-12, fmt=".2f")

# %% [markdown]
# ## 3. Batch norm: per-channel standardisation over the batch

# %%
course.section(args, "3. Batch norm: per-channel standardisation over the batch",
               "Four channels with different means and spreads. Batch norm by hand, "
               "(x - mean) / sqrt(var + eps) over the batch and both spatial axes, against "
               "F.batch_norm; and its running mean after one step with momentum 0.1, which "
               "must be 0.1 times the batch's channel means (it starts at 0).")
acts = minigan.tensor(rng.standard_normal((256, 4, 5, 5)) * np.array([0.5, 2, 4, 1])[:, None, None]
                      + np.array([3, -1, 0, 6])[:, None, None], dtype="float32", device=dev)
rm, rv = minigan.zeros(4, device=dev), minigan.ones(4, device=dev)
normed = F.batch_norm(acts, rm, rv, training=True)
mean_c = acts.mean(axis=(0, 2, 3), keepdims=True)
var_c = ((acts - mean_c) ** 2).mean(axis=(0, 2, 3), keepdims=True)     # biased, as BN uses
by_hand = (acts - mean_c) / minigan.sqrt(var_c + 1e-5)
bn_err = float((by_hand - normed).abs().max().item())
course.check(args, "max |batch norm by hand - F.batch_norm|", bn_err,
             reference="library: F.batch_norm; 0 up to float32 rounding (~1e-6)",
             ok=bn_err < 1e-5, fmt=".1e")
rm_err = float(np.abs(rm.numpy() - 0.1 * mean_c.numpy().ravel()).max())
course.check(args, "max |running mean - 0.1 · batch mean|", rm_err,
             reference="0 up to float32 rounding", ok=rm_err < 1e-5, fmt=".1e")
out_np = normed.numpy()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for c in range(4):
    axes[0].hist(acts.numpy()[:, c].ravel(), bins=40, histtype="step", label=f"channel {c}")
    axes[1].hist(out_np[:, c].ravel(), bins=40, histtype="step")
axes[0].set_title("activations before batch norm")
axes[1].set_title("after: every channel mean 0, std 1")
for a in axes:
    a.set_xlabel("activation")
axes[0].set_ylabel("count")
axes[0].legend(fontsize=8, loc="upper left")
fig_bn = course.save_figure(fig, args, "batchnorm.png")

# %% [markdown]
# ## 4. Gradient checks for class (float64, first and second order)

# %%
course.section(args, "4. Gradient checks for class (float64, first and second order)",
               "gradcheck compares each backward with central differences; gradgradcheck does "
               "the same for the backward's own backward, which WGAN-GP's penalty needs.")


def grad_checks(name, fn, *shapes):
    ts = [minigan.randn(*s, dtype="float64", device=dev, requires_grad=True) for s in shapes]
    ok1 = minigan.gradcheck(fn, ts, raise_exception=False)
    ok2 = minigan.gradgradcheck(fn, ts, raise_exception=False)
    ok = bool(ok1 and ok2)
    course.check(args, f"{name}: gradcheck and gradgradcheck pass", ok, reference="True",
                 ok=ok)


n = 1 if args.quick else 2
grad_checks("conv2d stride 2, padding 1", lambda x, w: F.conv2d(x, w, stride=2, padding=1),
            (n, 2, 5, 5), (3, 2, 3, 3))
grad_checks("conv_transpose2d stride 2, output_padding 1",
            lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
            (n, 2, 3, 3), (2, 3, 3, 3))
grad_checks("batch_norm (training, affine)",
            lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
            (3, 2, 2, 2), (2,), (2,))

# %%
course.report(args, {}, [fig_conv, fig_convt, fig_bn])
