"""Reductions: sum, mean, var, max/min, logsumexp, and the softmax family.

The gradient of a reduction *spreads* the incoming gradient back over the reduced axes: for
``sum`` every element gets it unchanged (a broadcast), for ``mean`` divided by the count, for
``max`` only the winners get it (split evenly between ties). ``logsumexp`` and ``softmax``
subtract the maximum before exponentiating, so they are exact for logits of any size.

Both PyTorch's (``dim``, ``keepdim``) and NumPy's (``axis``, ``keepdims``) keyword names work.
"""
from __future__ import annotations

import builtins

from .. import backend
from ..autograd import Function, Tensor
from .elementwise import abs as _abs, exp, where
from .shape import broadcast_to, reshape

__all__ = ["sum", "mean", "var", "std", "max", "min", "logsumexp", "softmax", "log_softmax",
           "argmax", "argmin", "prod_shape", "norm"]


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise IndexError(f"reduction over dimension {a} of a tensor with {ndim} dimensions")
        out.append(a % builtins.max(ndim, 1))
    return tuple(sorted(set(out)))


def _options(axis, keepdims, dim, keepdim):
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


def prod_shape(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(gy, in_shape, axes, keepdims):
    """Reshape a reduced gradient to keepdims form and broadcast it over the input's shape."""
    if not keepdims:
        gy = reshape(gy, _keep_shape(in_shape, axes))
    return broadcast_to(gy, in_shape)


class Sum(Function):
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand_back(gy, self.inputs[0].shape, self.axes, self.keepdims)


class Mean(Function):
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        shape = self.inputs[0].shape
        n = prod_shape(shape, self.axes)
        return _expand_back(gy, shape, self.axes, self.keepdims) * (1.0 / n)


class _Extremum(Function):
    """max/min over axes; the gradient goes to the elements equal to the result, split evenly."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}() of an empty tensor")
        return getattr(x, self.reduce)(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        y = self.output().data
        if not self.keepdims:
            y = y.reshape(_keep_shape(x.shape, self.axes))
        hit = (x.data == y).astype(x.dtype)
        share = hit / hit.sum(axis=self.axes, keepdims=True)
        return _expand_back(gy, x.shape, self.axes, self.keepdims) * Tensor(share)


class Max(_Extremum):
    reduce = "max"


class Min(_Extremum):
    reduce = "min"


def _logsumexp_array(x, axes):
    xp = backend.xp_of(x)
    m = x.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)      # all -inf rows stay -inf instead of NaN
    return xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m


class LogSumExp(Function):
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        y = _logsumexp_array(x, self.axes)
        return y if self.keepdims else y.reshape(tuple(s for i, s in enumerate(x.shape)
                                                       if i not in self.axes))

    def backward(self, gy):
        x = self.inputs[0]
        y = self.output()
        if not self.keepdims:
            y = reshape(y, _keep_shape(x.shape, self.axes))
        return _expand_back(gy, x.shape, self.axes, self.keepdims) * exp(x - y)


class Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.xp_of(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return x - _logsumexp_array(x, (self.axis,))

    def backward(self, gy):
        y = self.output()
        return gy - exp(y) * sum(gy, axis=self.axis, keepdims=True)


# --------------------------------------------------------------------------- function forms
def sum(x, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Sum(_axes(axis, x.ndim), keepdims)(x)


def mean(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean() needs a floating tensor, not {x.dtype}")
    return Mean(_axes(axis, x.ndim), keepdims)(x)


def var(x, axis=None, keepdims=False, dim=None, keepdim=None, correction=1, unbiased=None):
    """Variance. ``correction=1`` (the default, as in PyTorch) divides by n - 1; pass
    ``unbiased=False`` or ``correction=0`` for the population variance (NumPy's default)."""
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = _axes(axis, x.ndim)
    n = prod_shape(x.shape, axes)
    d = x - mean(x, axis=axes, keepdims=True)
    scale = 1.0 / (n - correction) if n > correction else float("nan")  # PyTorch gives NaN too
    return sum(d * d, axis=axes, keepdims=keepdims) * scale


def std(x, axis=None, keepdims=False, dim=None, keepdim=None, correction=1, unbiased=None):
    return var(x, axis, keepdims, dim, keepdim, correction, unbiased) ** 0.5


def max(x, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Max(_axes(axis, x.ndim), keepdims)(x)


def min(x, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Min(_axes(axis, x.ndim), keepdims)(x)


def argmax(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Tensor(x.data.argmax(axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Tensor(x.data.argmin(axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return LogSumExp(_axes(axis, x.ndim), keepdims)(x)


def softmax(x, axis=-1, dim=None):
    if dim is not None:
        axis = dim
    return Softmax(_axes(axis, x.ndim)[0])(x)


def log_softmax(x, axis=-1, dim=None):
    if dim is not None:
        axis = dim
    return LogSoftmax(_axes(axis, x.ndim)[0])(x)


def norm(x, p=2, axis=None, keepdims=False, dim=None, keepdim=None):
    """The p-norm over axes (all by default). Its gradient at 0 is 0 for p = 2, by convention."""
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    if p == 2:
        sq = sum(x * x, axis=axis, keepdims=keepdims)
        # sqrt'(0) is infinite; PyTorch's norm gives gradient 0 there. Mask it the same way.
        safe = where(Tensor(sq.data > 0), sq, 1.0)
        return where(Tensor(sq.data > 0), safe ** 0.5, 0.0)
    if p == 1:
        return sum(_abs(x), axis=axis, keepdims=keepdims)
    return sum(_abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)
