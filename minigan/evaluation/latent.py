"""Walking and doing arithmetic in z-space (Radford et al. 2016; lecture notes 000 and 004).

A trained generator is a map from z-space to images. "Small changes in input generally give
small changes in output" (notes 004), so a straight walk from z0 to z1 should morph one digit
into another without ever leaving the set of plausible digits: a test that G learned a smooth
*manifold* rather than memorising isolated training images.

**Linear or spherical?** For z ~ N(0, I) in d dimensions, |z| concentrates around sqrt(d) (the
Gaussian mass lives in a thin shell). The midpoint (z0 + z1)/2 of two such points has norm
about sqrt(d/2): a point the generator essentially never saw in training. Spherical
interpolation (slerp, Shoemake 1985; White 2016 "Sampling generative networks") walks along the
great circle instead, so the norm stays near sqrt(d) the whole way:

    slerp(z0, z1; t) = sin((1-t)·omega)/sin(omega) · z0 + sin(t·omega)/sin(omega) · z1,
    cos(omega) = <z0, z1> / (|z0| |z1|).

**Vector arithmetic.** Radford et al. averaged the z of three "smiling woman" samples,
subtracted the average of three "neutral woman" and added three "neutral man": the result
decodes to a smiling man. Averaging several samples per concept is essential: one z carries
too much that is particular to it. ``vector_arithmetic(plus, minus, base)`` is that recipe.

The functions take and return arrays or Tensors of shape (d,) or (n, d), on any device
(``backend.xp_of`` picks NumPy or CuPy).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor

__all__ = ["lerp", "slerp", "interpolate", "interpolation_grid", "vector_arithmetic"]


def _unwrap(z):
    return (z.array, True) if isinstance(z, Tensor) else (z, False)


def _wrap(a, was_tensor):
    return Tensor(a) if was_tensor else a


def lerp(z0, z1, t):
    """(1 - t)·z0 + t·z1."""
    a, ta = _unwrap(z0)
    b, _ = _unwrap(z1)
    return _wrap((1.0 - t) * a + t * b, ta)


def slerp(z0, z1, t, eps=1e-7):
    """Spherical interpolation along the great circle from z0 to z1 (rows for 2-D input).

    The norm is interpolated linearly between |z0| and |z1|, the direction along the great
    circle; when z0 and z1 are (anti)parallel, where the circle is not unique or the formula
    divides by sin(omega) ≈ 0, it falls back to linear interpolation.
    """
    a, ta = _unwrap(z0)
    b, _ = _unwrap(z1)
    xp = backend.xp_of(a)
    na = xp.sqrt((a * a).sum(-1, keepdims=True))
    nb = xp.sqrt((b * b).sum(-1, keepdims=True))
    ua, ub = a / xp.maximum(na, eps), b / xp.maximum(nb, eps)
    cos = xp.clip((ua * ub).sum(-1, keepdims=True), -1.0, 1.0)
    omega = xp.arccos(cos)
    so = xp.sin(omega)
    ok = so > 1e-4
    safe = xp.where(ok, so, 1.0)
    direction = xp.where(ok, (xp.sin((1.0 - t) * omega) * ua + xp.sin(t * omega) * ub) / safe,
                         (1.0 - t) * ua + t * ub)
    norm = (1.0 - t) * na + t * nb
    dn = xp.sqrt((direction * direction).sum(-1, keepdims=True))
    out = direction / xp.maximum(dn, eps) * norm
    return _wrap(out.astype(a.dtype, copy=False), ta)


def interpolate(z0, z1, steps=8, method="slerp"):
    """``steps`` points from z0 to z1 (both ends included), as a (steps, d) array/Tensor."""
    if method not in ("lerp", "slerp", "linear", "spherical"):
        raise ValueError(f"interpolate: method must be 'lerp' or 'slerp', not {method!r}")
    if steps < 2:
        raise ValueError(f"interpolate: need at least 2 steps, got {steps}")
    fn = slerp if method in ("slerp", "spherical") else lerp
    a, ta = _unwrap(z0)
    b, _ = _unwrap(z1)
    xp = backend.xp_of(a)
    a, b = a.reshape(1, -1), b.reshape(1, -1)
    out = xp.concatenate([fn(a, b, i / (steps - 1)) for i in range(steps)], axis=0)
    return _wrap(out, ta)


def interpolation_grid(z_start, z_end, steps=8, method="slerp"):
    """For rows of starts and ends (n, d): an (n·steps, d) batch, row by row (for a grid)."""
    a, ta = _unwrap(z_start)
    b, _ = _unwrap(z_end)
    xp = backend.xp_of(a)
    rows = [interpolate(a[i], b[i], steps, method) for i in range(a.shape[0])]
    return _wrap(xp.concatenate(rows, axis=0), ta)


def vector_arithmetic(plus, minus, base):
    """mean(plus) - mean(minus) + mean(base): e.g. bold 7s - thin 7s + thin 1s = bold 1s.

    Each argument is an (n, d) batch of codes (n = 1 allowed, but averaging a few is what
    makes it work); the result is a (d,) code.
    """
    parts = [_unwrap(z) for z in (plus, minus, base)]
    was_tensor = parts[0][1]
    p, m, b = (x.reshape(-1, x.shape[-1]).mean(0) for x, _ in parts)
    return _wrap(p - m + b, was_tensor)
