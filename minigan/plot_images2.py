"""Figures of the second set of image models: WGAN learning curves, SAGAN attention maps,
InfoGAN code grids, CycleGAN translations.

Host-side, like ``minigan.plot_images`` (whose ``tile``/``_plt``/``_save`` they use): NumPy
arrays in, a PNG written, its path returned. NumPy and matplotlib are imported inside the
functions, so ``import minigan`` stays light.
"""
from __future__ import annotations

from .plot_images import _images, _plt, _save, labelled_rows_figure  # noqa: F401 (re-exported)

__all__ = ["wasserstein_curve_figure", "attention_figure", "labelled_rows_figure",
           "rgb_rows_figure"]


def _smooth(v, k):
    import numpy as np
    v = np.asarray(v, float)
    if len(v) < k or k <= 1:
        return v
    return np.convolve(v, np.ones(k) / k, mode="valid")


def wasserstein_curve_figure(path, train_steps, train_estimate, eval_steps, wasserstein,
                             frechet, title=None):
    """Left axis: the critic's Wasserstein estimate (training batches, smoothed, and on the
    fixed held-out batch); right axis: the Fréchet distance of the same generator."""
    import numpy as np
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    k = max(1, len(train_estimate) // 50)
    sm = _smooth(train_estimate, k)
    ax.plot(np.asarray(train_steps)[len(train_steps) - len(sm):], sm, color="tab:blue",
            alpha=0.35, lw=1,
            label=f"-(critic loss), training batches (mean of {k}; GP: minus penalty)")
    ax.plot(eval_steps, wasserstein, "o-", color="tab:blue", ms=3,
            label="critic estimate, held-out real vs fixed z")
    if len(wasserstein) >= 3:       # the untrained critic at step 0 would squash the axis
        lo, hi = float(np.min(wasserstein[1:])), float(np.max(wasserstein[1:]))
        pad = 0.15 * (hi - lo or abs(hi) or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("generator step")
    ax.set_ylabel("E f(x) - E f(G(z))", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(eval_steps, frechet, "s-", color="tab:red", ms=3, label="Fréchet distance")
    ax2.set_ylabel("Fréchet distance (classifier features)", color="tab:red")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def attention_figure(path, images, attention, queries, title=None):
    """For each image (rows): the image with the query pixels marked, then one attention map
    per query (where that position looks, β_q· reshaped to H×W, upsampled to the image)."""
    import numpy as np
    plt = _plt()
    x = _images(images)
    att = np.asarray(attention, float)          # (B, N, N)
    n_img, h = len(x), x.shape[-1]
    side = int(round(np.sqrt(att.shape[-1])))
    colors = ["tab:red", "tab:green", "tab:orange", "tab:cyan", "tab:purple"]
    fig, axes = plt.subplots(n_img, len(queries) + 1,
                             figsize=(1.4 * (len(queries) + 1), 1.4 * n_img))
    axes = np.atleast_2d(axes)
    scale = h / side
    for i in range(n_img):
        axes[i, 0].imshow(x[i], cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        for j, (r, c) in enumerate(queries):
            col = colors[j % len(colors)]
            axes[i, 0].plot((c + 0.5) * scale - 0.5, (r + 0.5) * scale - 0.5, "o", color=col,
                            ms=5)
            a = att[i, r * side + c].reshape(side, side)
            axes[i, j + 1].imshow(a, cmap="viridis", interpolation="nearest")
            axes[i, j + 1].plot(c, r, "o", color=col, ms=5)
            if i == 0:
                axes[i, j + 1].set_title(f"query ({r},{c})", fontsize=7)
        for ax in axes[i]:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def rgb_rows_figure(path, rows, title=None):
    """One row per label ({label: (N, 3, H, W) in [-1, 1]}), each image shown in colour
    (channel c as colour c: the three stacked digits in red, green and blue)."""
    import numpy as np
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 0.75 * len(rows) + 0.5))
    axes = np.atleast_1d(axes)
    for ax, (label, x) in zip(axes, rows.items()):
        x = (np.asarray(x, float) + 1) / 2
        strip = np.concatenate([np.pad(im.transpose(1, 2, 0), ((1, 1), (1, 1), (0, 0)))
                                for im in x], axis=1)
        ax.imshow(strip.clip(0, 1), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=8)
    return _save(fig, path)
