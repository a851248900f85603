"""How smoothly a generator's images change along a line in its latent space: a perceptual
path length (Karras, Laine & Aila 2019, section 4).

Cut an interpolation path from a to b into pieces of length ε; the path length is the
expected squared distance, in a perceptual feature space, between the images at t and t + ε,
divided by ε²::

    PL = E_{a, b, t ~ U(0, 1)} [ |φ(G(interp(a, b, t))) - φ(G(interp(a, b, t + ε)))|² / ε² ]

A space in which images change evenly has a small PL; a space that must squeeze a jump (from
one digit class to another) into a short stretch of the path has a large one, because the
squared distance punishes one big step more than many small ones. StyleGAN compares its z
(a fixed Gaussian prior, interpolated spherically) with its w (learned by the mapping
network, interpolated linearly) and finds w's paths shorter. The paper's φ is a VGG feature
space; ours is the digit classifier's features (``evaluation.scoring``). As in the paper,
the pairs beyond the 1st and 99th percentiles are dropped before averaging (a few paths
through a class boundary dominate the mean otherwise).
"""
from __future__ import annotations

from .. import backend

__all__ = ["path_length"]

np = backend.np


def path_length(render, features, a, b, interpolate, eps=1e-2, seed=0):
    """(mean with 1%/99% outliers dropped, every pair's value) along ``interpolate(a, b, t)``.

    ``render(codes)`` -> images (host array), called twice (at t and t + ε; it must use the
    same per-layer noise both times); ``features(images)`` -> (n, f) host features; ``a``,
    ``b`` host arrays (n, d) of endpoints; ``interpolate(a, b, t)`` with t of shape (n, 1)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"path_length: endpoints must be two (n, d) arrays, got {a.shape} and "
                         f"{b.shape}")
    t = np.random.default_rng(seed).uniform(0.0, 1.0 - eps, size=(len(a), 1)).astype(a.dtype)
    f0 = np.asarray(features(render(interpolate(a, b, t))), np.float64)
    f1 = np.asarray(features(render(interpolate(a, b, t + eps))), np.float64)
    d = ((f0 - f1) ** 2).sum(axis=1) / eps ** 2
    lo, hi = np.percentile(d, [1, 99])
    return float(d[(d >= lo) & (d <= hi)].mean()), d
