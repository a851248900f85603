"""Figures of image-to-image and style models: super-resolution crops side by side, and
StyleGAN's style-mixing grid.

Host-side, like ``minigan.plots.images``: arrays in, a PNG written, its path returned.
"""
from __future__ import annotations

import numpy as np

from .images import _images, _plt, tile
from .toys import _save

__all__ = ["comparison_figure", "crop_box", "style_mixing_figure"]


def crop_box(hr, size):
    """The ``size``×``size`` window of ``hr`` with the most detail (largest local variance of
    the Laplacian, on a coarse grid): where the methods differ most. Returns (top, left)."""
    from scipy import ndimage
    h, w = hr.shape
    size = min(size, h, w)
    detail = ndimage.uniform_filter(ndimage.laplace(hr.astype(np.float64)) ** 2, size)
    half = size // 2
    step = max(size // 4, 1)
    ys = np.arange(half, h - size + half + 1, step)
    xs = np.arange(half, w - size + half + 1, step)
    grid = detail[np.ix_(ys, xs)]
    i, j = np.unravel_index(np.argmax(grid), grid.shape)
    return int(ys[i] - half), int(xs[j] - half)


def comparison_figure(path, images, per_photo, crop=96, title=None):
    """One row per photo: a ``crop``×``crop`` window of each method's output (the LR input
    enlarged by pixel repetition first), with its PSNR/SSIM in the panel's title.

    ``images``: {photo: {method: (H, W) array in [0, 1]}} with "ground truth" and "LR" among
    the methods; ``per_photo``: {photo: {method: {"psnr", "ssim", "hf_ratio"}}}."""
    plt = _plt()
    names = list(images)
    methods = list(images[names[0]])
    fig, axes = plt.subplots(len(names), len(methods),
                             figsize=(2.1 * len(methods), 2.3 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        hr = images[name]["ground truth"]
        top, left = crop_box(hr, crop)
        scale = hr.shape[0] // images[name]["LR"].shape[0]
        for c, m in enumerate(methods):
            img = images[name][m]
            if m == "LR":
                img = np.kron(img, np.ones((scale, scale), np.float32))
            ax = axes[r, c]
            ax.imshow(img[top:top + crop, left:left + crop], cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            s = per_photo.get(name, {}).get(m)
            label = (f"{m}\n{s['psnr']:.2f} dB, SSIM {s['ssim']:.3f}\nHF {s['hf_ratio']:.2f}"
                     if s else f"{m}\n{name}" if m == "ground truth" else m)
            ax.set_title(label, fontsize=7)
    return _save(fig, path, suptitle=title)


def style_mixing_figure(path, row_sources, col_sources, mixed, title=None):
    """StyleGAN's grid: the column sources across the top, the row sources down the left,
    and in cell (i, j) the image ``mixed[i·cols + j]`` made from both (digits in [-1, 1])."""
    plt = _plt()
    rows, cols = len(_images(row_sources)), len(_images(col_sources))
    blank = -np.ones_like(_images(row_sources)[:1])
    grid = np.concatenate([blank, _images(col_sources)]
                          + [np.concatenate([_images(row_sources)[i:i + 1],
                                             _images(mixed)[i * cols:(i + 1) * cols]])
                             for i in range(rows)])
    fig, ax = plt.subplots(figsize=(0.6 * (cols + 1) + 0.4, 0.6 * (rows + 1) + 0.6))
    ax.imshow(tile(grid, nrow=cols + 1), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8, wrap=True)
    return _save(fig, path)
