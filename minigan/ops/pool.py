"""Pooling: ``avg_pool2d`` and ``max_pool2d`` over NCHW feature maps.

A pooling window of kernel (kH, kW) slides with a stride over the (padded) input. Instead of a
Python loop over the batch or over output pixels, we loop over the kH*kW *kernel offsets*
(i, j): for a fixed offset, the input values that offset sees for every output pixel form one
strided slice ``x_pad[:, :, i*d : ... : s, j*d : ... : s]`` of the output's size. So

    avg_pool2d(x) = (1 / (kH*kW)) * sum over offsets of those slices
    max_pool2d(x) = the elementwise maximum over offsets of those slices

Gradients. Average pooling is linear, and its gradient is its *adjoint*: each output gradient
is spread back, divided by the window size, onto the slice it came from (a col2im: the slices
overlap when stride < kernel, so they are accumulated). The adjoint's own gradient is average
pooling again, so the pair is differentiable to any order.

Max pooling routes each output gradient to the *argmax* of its window (ties: the first offset
wins, as in PyTorch). With the argmax held fixed, max pooling is a linear "gather" and its
gradient the matching "scatter"; the scatter's gradient is the gather again. That is the exact
second derivative wherever the maximum is unique (the function is piecewise linear).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["avg_pool2d", "max_pool2d"]


def _pair(v, name, op):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


class _Windows:
    """The geometry of a 2-D pooling window: sizes, padding, and the strided slices."""

    def __init__(self, op, shape, kernel_size, stride, padding, dilation=1):
        self.in_shape = shape
        self.k = _pair(kernel_size, "kernel_size", op)
        self.s = _pair(self.k if stride is None or stride == () or stride == [] else stride,
                       "stride", op)
        self.p = _pair(padding, "padding", op)
        self.d = _pair(dilation, "dilation", op)
        H, W = shape[-2:]
        if min(self.k) < 1 or min(self.s) < 1 or min(self.d) < 1 or min(self.p) < 0:
            raise ValueError(f"{op}: kernel_size {self.k}, stride {self.s} and dilation "
                             f"{self.d} must be positive and padding {self.p} non-negative")
        eff = tuple(d * (k - 1) + 1 for k, d in zip(self.k, self.d))
        if any(2 * p > e for p, e in zip(self.p, eff)):
            raise ValueError(f"{op}: padding should be at most half of the effective kernel "
                             f"size, got padding={self.p}, kernel_size={self.k}, "
                             f"dilation={self.d}")
        self.out = tuple((n + 2 * p - e) // s + 1
                         for n, p, e, s in zip((H, W), self.p, eff, self.s))
        if min(self.out) < 1:
            raise ValueError(f"{op}: the kernel {self.k} (dilation {self.d}) is larger than the "
                             f"padded input {H + 2 * self.p[0]}x{W + 2 * self.p[1]} (input "
                             f"{H}x{W}, padding {self.p}); the output would be empty")

    @property
    def padded(self):
        H, W = self.in_shape[-2:]
        return self.in_shape[:-2] + (H + 2 * self.p[0], W + 2 * self.p[1])

    def offsets(self):
        """(number, index) for each kernel offset: the slice it sees in the padded input."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.k, self.s, self.d, self.out
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, (Ellipsis, slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                                   slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))

    def pad(self, x, value):
        if not any(self.p):
            return x
        xp = backend.xp_of(x)
        out = xp.full(self.padded, value, dtype=x.dtype)
        out[self.interior] = x
        return out

    @property
    def interior(self):
        H, W = self.in_shape[-2:]
        return (Ellipsis, slice(self.p[0], self.p[0] + H), slice(self.p[1], self.p[1] + W))

    def scatter(self, parts, dtype, xp):
        """col2im: accumulate one (N, C, oH, oW) array per offset into the padded input's
        shape, and crop the padding. ``parts`` yields (index, array)."""
        g = xp.zeros(self.padded, dtype=dtype)
        for index, part in parts:
            g[index] += part
        return g[self.interior] if any(self.p) else g


# ------------------------------------------------------------------------------ average
class _AvgPool(Function):
    """Sum of the window's values times ``scale`` (1/kernel size, or a per-pixel array)."""

    def __init__(self, win, scale):
        self.win, self.scale = win, scale

    def forward(self, x):
        xp_ = self.win.pad(x, 0)
        y = None
        for _, index in self.win.offsets():
            y = xp_[index].copy() if y is None else y + xp_[index]
        return y * self._scale(y)

    def _scale(self, like):
        s = self.scale
        return like.dtype.type(s) if isinstance(s, float) else s.astype(like.dtype, copy=False)

    def backward(self, gy):
        return _AvgPoolAdjoint(self.win, self.scale)(gy)


class _AvgPoolAdjoint(_AvgPool):
    """The transpose of average pooling: spread each output gradient over its window."""

    def forward(self, gy):
        g = gy * self._scale(gy)
        xp = backend.xp_of(gy)
        return self.win.scatter(((index, g) for _, index in self.win.offsets()), gy.dtype, xp)

    def backward(self, ggx):
        return _AvgPool(self.win, self.scale)(ggx)


def _batched(op, input):
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{input.shape}")
    return input.ndim == 3


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """``F.avg_pool2d``: the mean of each window. Padding counts as zeros in the mean
    (``count_include_pad=True``, PyTorch's default) unless told otherwise."""
    if ceil_mode:
        raise NotImplementedError("avg_pool2d: ceil_mode=True is not supported")
    _batched("avg_pool2d", input)
    win = _Windows("avg_pool2d", input.shape, kernel_size, stride, padding)
    if divisor_override:
        scale = 1.0 / float(divisor_override)
    elif count_include_pad or not any(win.p):
        scale = 1.0 / (win.k[0] * win.k[1])
    else:
        # How many real (unpadded) pixels each window covers: pool a map of ones.
        np = backend.np
        H, W = input.shape[-2:]
        ones = _Windows("avg_pool2d", (H, W), kernel_size, stride, padding)
        cover = _AvgPool(ones, 1.0).forward(np.ones((H, W)))
        scale = backend.as_array(1.0 / cover, device=input.device)
    return _AvgPool(win, scale)(input)


# ---------------------------------------------------------------------------------- max
class _MaxPoolGather(Function):
    """With the winning offset ``arg`` of every window fixed, pick those values (linear)."""

    def __init__(self, win, arg, result=None):
        self.win, self.arg, self.result = win, arg, result

    def forward(self, x):
        if self.result is not None:          # max_pool2d already has the maxima
            y, self.result = self.result, None
            return y
        xp = backend.xp_of(x)
        xp_ = self.win.pad(x, 0)
        y = xp.zeros(self.arg.shape, dtype=x.dtype)
        for k, index in self.win.offsets():
            y = xp.where(self.arg == k, xp_[index], y)
        return y

    def backward(self, gy):
        return _MaxPoolScatter(self.win, self.arg)(gy)


class _MaxPoolScatter(Function):
    """The transpose of the gather: each gradient goes to its window's argmax (accumulated
    where windows overlap and share a winner)."""

    def __init__(self, win, arg):
        self.win, self.arg = win, arg

    def forward(self, gy):
        xp = backend.xp_of(gy)
        zero = gy.dtype.type(0)
        parts = ((index, xp.where(self.arg == k, gy, zero)) for k, index in self.win.offsets())
        return self.win.scatter(parts, gy.dtype, xp)

    def backward(self, ggx):
        return _MaxPoolGather(self.win, self.arg)(ggx)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``F.max_pool2d``: the maximum of each window (padding never wins: it is -inf).

    With ``return_indices=True`` also returns, as PyTorch does, the flat index ``h * W + w``
    of each maximum in its input plane (int64).
    """
    if ceil_mode:
        raise NotImplementedError("max_pool2d: ceil_mode=True is not supported")
    _batched("max_pool2d", input)
    if input.dtype.kind != "f":
        raise TypeError(f"max_pool2d: expected a floating-point input, got {input.dtype}")
    win = _Windows("max_pool2d", input.shape, kernel_size, stride, padding, dilation)
    x = win.pad(input.array, -backend.np.inf)
    xp = backend.xp_of(x)
    best = arg = None
    for k, index in win.offsets():
        v = x[index]
        if best is None:
            best, arg = v.copy(), xp.zeros(v.shape, dtype=xp.int64)
            continue
        better = (v > best) | xp.isnan(v)     # the first maximum wins; NaN propagates
        best = xp.where(better, v, best)
        arg = xp.where(better, k, arg)
    y = _MaxPoolGather(win, arg, result=best)(input)
    if not return_indices:
        return y
    (kw, (sh, sw), (dh, dw), (ph, pw)) = win.k[1], win.s, win.d, win.p
    oh, ow = win.out
    rows = xp.arange(oh).reshape(-1, 1) * sh - ph + (arg // kw) * dh
    cols = xp.arange(ow).reshape(1, -1) * sw - pw + (arg % kw) * dw
    return y, Tensor((rows * input.shape[-1] + cols).astype(xp.int64))
