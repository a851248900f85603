"""Resampling and padding of feature maps: ``interpolate``, ``pad``, ``pixel_shuffle``.

All three are *linear maps that pick (and mix) input elements*: each output element is one
input element (nearest, pad, pixel shuffle) or a fixed weighted sum of two per axis (linear /
bilinear). We build them from indexing along one axis at a time (``ops.shape.getitem``) and
products with constant weights. Indexing's gradient is a scatter-*add*, so an input element
used by several outputs (nearest upsampling, reflect padding) collects all their gradients;
and since every piece is differentiable, so is the result, to any order.

Index conventions follow PyTorch exactly, because a student comparing numbers with PyTorch
must get the same ones:

* nearest: output position o reads input floor(o * scale), scale = in/out (or 1/scale_factor
  when that was given), clipped to in - 1.
* linear, align_corners=True: the corner pixels of input and output are aligned, so position
  o sits at o * (in - 1)/(out - 1) of the input.
* linear, align_corners=False (default): pixels are squares and their *centres* are aligned:
  o sits at (o + 0.5) * scale - 0.5, clamped at 0 (and the upper neighbour at in - 1).
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Tensor
from .shape import getitem, pad as _pad_numpy_style, permute, reshape

__all__ = ["interpolate", "pad", "pixel_shuffle", "pixel_unshuffle"]

np = backend.np

_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


def _take(x, axis, idx):
    """x indexed by the integer array ``idx`` along ``axis`` (other axes whole)."""
    idx = backend.as_array(idx, device=x.device)
    return getitem(x, (slice(None),) * axis + (idx,))


def _along(shape_len, axis, w, x):
    """A constant weight vector shaped to broadcast along ``axis`` of x."""
    shape = [1] * shape_len
    shape[axis] = len(w)
    return Tensor(backend.as_array(w.reshape(shape), dtype=x.dtype, device=x.device))


def _scale(n_in, n_out, scale_factor, align_corners):
    """PyTorch's ``area_pixel_compute_scale``."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return n_in / n_out


def _nearest_index(n_in, n_out, scale_factor):
    scale = np.float32(_scale(n_in, n_out, scale_factor, False))
    src = np.floor(np.arange(n_out, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(src, n_in - 1)


def _linear_weights(n_in, n_out, scale_factor, align_corners):
    """Lower/upper neighbour and their weights for each output position along one axis."""
    scale = _scale(n_in, n_out, scale_factor, align_corners)
    o = np.arange(n_out, dtype=np.float64)
    src = o * scale if align_corners else np.maximum((o + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    w_hi = src - lo
    return lo, hi, 1.0 - w_hi, w_hi


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """``F.interpolate`` for modes 'nearest' (any number of spatial axes) and 'linear' /
    'bilinear' / 'trilinear' (3-D / 4-D / 5-D inputs), with PyTorch's index conventions."""
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"interpolate: expected an input (N, C, *spatial), got {input.shape}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the "
                             "interpolating modes linear | bilinear | trilinear")
    elif mode in _LINEAR.values():
        if _LINEAR.get(input.ndim) != mode:
            raise ValueError(f"interpolate: mode '{mode}' needs a {_dims(mode)}-D input, got "
                             f"shape {input.shape}")
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (use "
                                  "'nearest', 'linear', 'bilinear' or 'trilinear')")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = input.shape[2:]
    if size is not None:
        sizes = (size,) * nd if isinstance(size, int) else tuple(size)
        factors = (None,) * nd
    else:
        factors = ((scale_factor,) * nd if isinstance(scale_factor, (int, float))
                   else tuple(scale_factor))
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        if recompute_scale_factor:
            factors = (None,) * nd
    if len(sizes) != nd or len(factors) != nd:
        raise ValueError(f"interpolate: input of shape {input.shape} has {nd} spatial "
                         f"dimensions, but size/scale_factor gives {len(sizes)}")
    if min(sizes) < 1:
        raise ValueError(f"interpolate: output size {sizes} must be positive (input "
                         f"{input.shape})")
    y = input
    for k, (n_in, n_out, f) in enumerate(zip(spatial, sizes, factors)):
        axis = 2 + k
        if n_in == n_out and (mode == "nearest" or f is None or f == 1):
            continue
        if mode == "nearest":
            y = _take(y, axis, _nearest_index(n_in, n_out, f))
        else:
            lo, hi, w_lo, w_hi = _linear_weights(n_in, n_out, f, align_corners)
            y = (_take(y, axis, lo) * _along(y.ndim, axis, w_lo, y)
                 + _take(y, axis, hi) * _along(y.ndim, axis, w_hi, y))
    return y


def _dims(mode):
    return {v: k for k, v in _LINEAR.items()}[mode]


# --------------------------------------------------------------------------------- padding
def _source_index(n, lo, hi, mode):
    """For modes reflect / replicate / circular: the input index of each padded position."""
    j = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    if mode == "circular":
        return j % n
    r = np.abs(j)                                  # reflect (the edge is not repeated)
    return np.where(r > n - 1, 2 * (n - 1) - r, r)


def pad(input, pad, mode="constant", value=None):
    """``F.pad`` with PyTorch's order: ``pad`` lists (before, after) pairs starting from the
    *last* dimension, e.g. (left, right, top, bottom) for an image. Modes 'constant'
    (negative amounts crop), 'reflect', 'replicate' and 'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: the padding {pad} must have an even length of at most "
                         f"2 * {input.ndim} (two numbers per padded dimension)")
    pairs = {input.ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    if mode == "constant":
        value = 0.0 if value is None else value
        widths = tuple((max(lo, 0), max(hi, 0)) for lo, hi in
                       (pairs.get(a, (0, 0)) for a in range(input.ndim)))
        y = _pad_numpy_style(input, widths, value) if any(map(any, widths)) else input
        crop = tuple(slice(max(-lo, 0), y.shape[a] - max(-hi, 0)) for a, (lo, hi) in
                     ((a, pairs.get(a, (0, 0))) for a in range(input.ndim)))
        if any(min(pairs.get(a, (0, 0))) < 0 for a in range(input.ndim)):
            if any(s.start >= s.stop for s in crop):
                raise ValueError(f"pad: cropping {pad} leaves nothing of shape {input.shape}")
            y = getitem(y, crop)
        return y
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"not {mode!r}")
    if value not in (None, 0):
        raise ValueError(f"pad: a fill value only makes sense in 'constant' mode, not {mode!r}")
    if not 1 <= len(pairs) <= 3 or input.ndim < len(pairs) + 1:
        raise ValueError(f"pad: mode '{mode}' pads the last 1 to 3 dimensions of an input with "
                         f"at least one more (batch/channel) dimension; got padding {pad} for "
                         f"shape {input.shape}")
    y = input
    for axis, (lo, hi) in sorted(pairs.items()):
        n = input.shape[axis]
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative padding {pad} is only supported in constant mode")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(lo, hi) > limit:
            raise ValueError(f"pad: {mode} padding ({lo}, {hi}) of dimension {axis} must be "
                             f"{'less than' if mode == 'reflect' else 'at most'} its size {n} "
                             f"(input shape {input.shape})")
        if lo or hi:
            y = _take(y, axis, _source_index(n, lo, hi, mode))
    return y


# --------------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): sub-pixel convolution's rearrangement."""
    r = int(upscale_factor)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: the channel dimension of {input.shape} must be "
                         f"divisible by upscale_factor^2 = {r * r}")
    *lead, c, h, w = input.shape
    b = len(lead)
    x = reshape(input, tuple(lead) + (c // (r * r), r, r, h, w))
    x = permute(x, *range(b), b, b + 3, b + 1, b + 4, b + 2)
    return reshape(x, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: (*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if input.ndim < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise ValueError(f"pixel_unshuffle: height and width of {input.shape} must be "
                         f"divisible by downscale_factor = {r}")
    *lead, c, hr, wr = input.shape
    b = len(lead)
    x = reshape(input, tuple(lead) + (c, hr // r, r, wr // r, r))
    x = permute(x, *range(b), b, b + 2, b + 4, b + 1, b + 3)
    return reshape(x, tuple(lead) + (c * r * r, hr // r, wr // r))
