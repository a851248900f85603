"""Convolution, fractionally-strided convolution and batch norm by hand, gradient-checked.

DCGAN's generator climbs from a noise vector to an image with *fractionally-strided*
(transposed) convolutions (minigan's MNIST DCGAN: 1x1 -> 7x7 -> 14x14 -> 28x28; on the 8x8
digits 1x1 -> 2x2 -> 4x4 -> 8x8); its discriminator climbs down with strided convolutions; both use
batch norm (lecture notes, "DCGAN": no pooling, strided convs in D, fractionally-strided convs
in G, batchnorm in both). This lesson opens those three kernels:

1. a convolution is one matrix product once the patches are laid out as columns (im2col),
   and it equals SciPy's ``correlate2d`` on one channel;
2. the transposed convolution is the convolution's adjoint: <conv(x), v> = <x, convT(v)>.
   Each input pixel stamps the filter onto the output, stride pixels apart; where stamps
   overlap unevenly (kernel 3, stride 2) a checkerboard appears -- the famous artefact;
3. batch norm standardises each channel over the batch, then scales and shifts it;
4. all three pass first- and second-order gradient checks (the critic of WGAN-GP needs the
   second order), which you can re-run in class.

Read ``minigan/ops/conv.py`` and ``minigan/ops/norm.py`` alongside: their docstrings derive
every gradient used here.
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

# %% [markdown]
# ## 1. Convolution = im2col + one matrix product = correlate2d

# %%
img = rng.standard_normal((6, 6))
ker = rng.standard_normal((3, 3))
y = F.conv2d(minigan.tensor(img[None, None], device=dev), minigan.tensor(ker[None, None], device=dev))
scipy_y = correlate2d(img, ker, mode="valid")
err_scipy = float(np.abs(y.numpy()[0, 0] - scipy_y).max())
print(f"conv2d vs scipy.signal.correlate2d: max |diff| = {err_scipy:.2e}")

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), gridspec_kw=dict(width_ratios=[1, 0.6, 0.75, 2.3]))
axes[0].imshow(img, cmap="gray")
axes[0].set_title("input 6x6")
axes[1].imshow(ker, cmap="coolwarm")
axes[1].set_title("filter 3x3")
axes[2].imshow(y.numpy()[0, 0], cmap="gray")
axes[2].set_title("output 4x4")
# im2col by hand: each column is one 3x3 patch, flattened (16 patches of 9 numbers).
cols = np.stack([img[i:i + 3, j:j + 3].ravel() for i in range(4) for j in range(4)], axis=1)
axes[3].imshow(cols, cmap="gray", aspect="auto")
axes[3].set_title("im2col: 16 patches as columns (9 x 16);\noutput = filter (1 x 9) @ columns")
axes[3].set_xlabel("patch (output pixel)")
axes[3].set_ylabel("position in patch")
for a in axes[:3]:
    a.set_xticks([])
    a.set_yticks([])
err_im2col = float(np.abs(ker.ravel() @ cols - y.numpy()[0, 0].ravel()).max())
print(f"filter @ im2col columns vs conv2d: max |diff| = {err_im2col:.2e}")
fig_conv = course.save_figure(fig, args, "conv_im2col.png")

# %% [markdown]
# ## 2. The transposed convolution: the adjoint, and where checkerboards come from

# %%
x = minigan.tensor(rng.standard_normal((2, 3, 7, 7)), device=dev)
w = minigan.tensor(rng.standard_normal((4, 3, 4, 4)), device=dev)
v = minigan.tensor(rng.standard_normal((2, 4, 3, 3)), device=dev)
lhs = float((F.conv2d(x, w, stride=2, padding=1) * v).sum().item())
# output_padding=1 picks the 7x7 input size among those that conv maps to 3x3.
rhs = float((x * F.conv_transpose2d(v, w, stride=2, padding=1, output_padding=1)).sum().item())
adjoint_err = abs(lhs - rhs) / abs(lhs)
print(f"<conv(x), v> = {lhs:.6f}, <x, convT(v)> = {rhs:.6f} (relative difference {adjoint_err:.1e})")

ones = minigan.ones(1, 1, 6, 6, dtype="float64", device=dev)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
stamp = minigan.zeros(1, 1, 3, 3, dtype="float64", device=dev)
stamp.array[0, 0, 1, 1] = 1.0
one_pixel = F.conv_transpose2d(stamp, minigan.ones(1, 1, 4, 4, dtype="float64", device=dev), stride=2)
axes[0].imshow(one_pixel.numpy()[0, 0], cmap="viridis")
axes[0].set_title("one input pixel stamps a 4x4 filter\n(stride 2 on the output)")
ratios = {}
for ax, k in zip(axes[1:], (3, 4)):
    out = F.conv_transpose2d(ones, minigan.ones(1, 1, k, k, dtype="float64", device=dev),
                             stride=2, padding=1).numpy()[0, 0]
    inner = out[2:-2, 2:-2]
    ratios[k] = float(inner.max() / inner.min())
    im = ax.imshow(out, cmap="viridis")
    ax.set_title(f"constant input, kernel {k}, stride 2:\ninterior max/min = {ratios[k]:.2f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
for a in axes:
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle("Fractionally-strided convolution: uneven overlap (k=3, s=2) makes a checkerboard")
fig_convt = course.save_figure(fig, args, "transposed_conv_checkerboard.png")
print(f"checkerboard: interior max/min of overlaps {ratios[3]:.2f} for k=3 vs {ratios[4]:.2f} for k=4")

# %% [markdown]
# ## 3. Batch norm: per-channel standardisation over the batch

# %%
acts = minigan.tensor(rng.standard_normal((256, 4, 5, 5)) * np.array([0.5, 2, 4, 1])[:, None, None]
                      + np.array([3, -1, 0, 6])[:, None, None], dtype="float32", device=dev)
rm, rv = minigan.zeros(4, device=dev), minigan.ones(4, device=dev)
normed = F.batch_norm(acts, rm, rv, training=True)
out_np = normed.numpy()
bn_mean = float(np.abs(out_np.mean(axis=(0, 2, 3))).max())
bn_std = float(np.abs(out_np.std(axis=(0, 2, 3)) - 1).max())
print(f"after batch norm: max |channel mean| = {bn_mean:.1e}, max |channel std - 1| = {bn_std:.1e}")
print(f"running mean after one step (momentum 0.1): {np.round(rm.numpy(), 3)}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for c in range(4):
    axes[0].hist(acts.numpy()[:, c].ravel(), bins=40, histtype="step", label=f"channel {c}")
    axes[1].hist(out_np[:, c].ravel(), bins=40, histtype="step")
axes[0].set_title("activations before batch norm")
axes[1].set_title("after: every channel mean 0, std 1")
axes[0].legend(fontsize=8)
fig_bn = course.save_figure(fig, args, "batchnorm.png")

# %% [markdown]
# ## 4. Gradient checks for class (float64, first and second order)

# %%
def check(name, fn, *shapes):
    ts = [minigan.randn(*s, dtype="float64", device=dev, requires_grad=True) for s in shapes]
    ok1 = minigan.gradcheck(fn, ts)
    ok2 = minigan.gradgradcheck(fn, ts)
    print(f"  {name:<40s} gradcheck {ok1}  gradgradcheck {ok2}")
    return ok1 and ok2


n = 1 if args.quick else 2
checks = {
    "conv2d stride 2, padding 1": check("conv2d stride 2, padding 1",
        lambda x, w: F.conv2d(x, w, stride=2, padding=1), (n, 2, 5, 5), (3, 2, 3, 3)),
    "conv_transpose2d stride 2": check("conv_transpose2d stride 2, output_padding 1",
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
        (n, 2, 3, 3), (2, 3, 3, 3)),
    "batch_norm training": check("batch_norm (training, affine)",
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), (3, 2, 2, 2), (2,), (2,)),
}
all_pass = all(checks.values())

# %%
course.report(args, {
    "conv2d vs correlate2d max error": err_scipy,
    "im2col GEMM vs conv2d max error": err_im2col,
    "adjoint identity relative error": adjoint_err,
    "checkerboard interior max/min, k=3 s=2": ratios[3],
    "checkerboard interior max/min, k=4 s=2": ratios[4],
    "batch-norm max |channel mean|": bn_mean,
    "gradchecks (1st and 2nd order) pass": all_pass,
}, [fig_conv, fig_convt, fig_bn])
