"""Figures of images: sample grids, z-space walks, reconstructions, GAN inversion, arithmetic,
WGAN learning curves, SAGAN attention maps, InfoGAN code grids, CycleGAN translations.

Host-side: every function takes NumPy arrays (N, 1, H, W) or (N, H, W) with values in [-1, 1]
(the generator's tanh range; shown as white ink on black, like the digits), writes a PNG and
returns its path. matplotlib is imported inside the functions (``import minigan`` stays
light), with the file-only Agg backend when no display is set.
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

__all__ = ["tile", "image_grid_figure", "labelled_rows_figure", "reconstruction_figure",
           "arithmetic_figure", "wasserstein_curve_figure", "attention_figure",
           "rgb_rows_figure"]


def _plt():
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    if not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _images(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"expected one channel, got shape {x.shape}")
        x = x[:, 0]
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected images (N, 1, H, W) or (N, H, W), got shape {x.shape}")
    return x


def tile(images, nrow=10, pad=1, fill=-1.0):
    """Arrange N images into one 2-D array, ``nrow`` per row, ``pad`` pixels apart."""
    x = _images(images)
    n, h, w = x.shape
    if n == 0 or nrow < 1:
        raise ValueError(f"tile: nothing to draw ({n} images, {nrow} per row)")
    rows = -(-n // nrow)
    out = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), fill)
    for i in range(n):
        r, c = divmod(i, nrow)
        out[pad + r * (h + pad):pad + r * (h + pad) + h,
            pad + c * (w + pad):pad + c * (w + pad) + w] = x[i]
    return out


def _save(fig, path):
    from ..serialization import output_dir
    from .toys import _savefig
    path = pathlib.Path(path)
    output_dir(path.parent)
    _savefig(fig, path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def image_grid_figure(path, images, nrow=10, title=None):
    """A grid of images (e.g. 100 samples, or interpolation rows of ``nrow`` steps)."""
    plt = _plt()
    grid = tile(images, nrow)
    scale = 0.45 if _images(images).shape[-1] <= 8 else 0.6
    fig, ax = plt.subplots(figsize=(max(3.0, nrow * scale),
                                    max(2.0, grid.shape[0] / grid.shape[1] * nrow * scale)))
    ax.imshow(grid, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def labelled_rows_figure(path, rows, ncol, title=None):
    """Several image grids stacked, each with a label on its left ({label: images})."""
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 1, figsize=(max(4.0, ncol * 0.45),
                                                    sum(-(-len(_images(v)) // ncol) * 0.5 + 0.3
                                                        for v in rows.values())))
    axes = np.atleast_1d(axes)
    for ax, (label, block) in zip(axes, rows.items()):
        ax.imshow(tile(block, nrow=ncol), cmap="gray", vmin=-1, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        axes[0].set_title(title, fontsize=9)
    return _save(fig, path)


def reconstruction_figure(path, originals, rows, title=None):
    """Originals in the first row, then one row per method ({label: images}): AE, VAE,
    G(z*) of GAN inversion ..."""
    return labelled_rows_figure(path, {"real": originals, **rows}, ncol=len(_images(originals)),
                                title=title)


def arithmetic_figure(path, plus, minus, base, result, title=None):
    """Radford et al.'s layout: three examples of each concept, their average, and the
    image decoded from mean(plus) - mean(minus) + mean(base)."""
    plt = _plt()
    groups = [("+", _images(plus)), ("-", _images(minus)), ("+", _images(base))]
    widths = [len(b) for _, b in groups] + [1]          # every image drawn at the same scale
    fig, axes = plt.subplots(1, 4, figsize=(1.0 * sum(widths), 1.8),
                             gridspec_kw={"width_ratios": widths})
    for ax, (sign, block) in zip(axes[:3], groups):
        ax.imshow(tile(block, nrow=len(block)), cmap="gray", vmin=-1, vmax=1,
                  interpolation="nearest")
        ax.set_title(sign, fontsize=12)
        ax.axis("off")
    axes[3].imshow(tile(_images(result)[:1], nrow=1), cmap="gray", vmin=-1, vmax=1,
                   interpolation="nearest")
    axes[3].set_title("=", fontsize=12)
    axes[3].axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


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
