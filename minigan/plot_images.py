"""Figures of images: sample grids, z-space walks, reconstructions, GAN inversion, arithmetic.

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
           "arithmetic_figure"]


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
    rows = -(-n // nrow)
    out = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), fill)
    for i in range(n):
        r, c = divmod(i, nrow)
        out[pad + r * (h + pad):pad + r * (h + pad) + h,
            pad + c * (w + pad):pad + c * (w + pad) + w] = x[i]
    return out


def _save(fig, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
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
