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
from ..autograd import Function, Tensor, is_grad_enabled
from .elementwise import abs as _abs, exp, where
from .shape import broadcast_to, reshape

__all__ = ["sum", "mean", "var", "std", "max", "min", "logsumexp", "softmax", "log_softmax",
           "argmax", "argmin", "prod_shape", "norm"]


def _axes(axis, ndim):
    """The reduced axes as a sorted tuple. As in PyTorch, ``dim=None`` and ``dim=()`` both mean
    every axis, and a 0-d tensor accepts dim 0 or -1 (it is reduced over nothing)."""
    if axis is None or (isinstance(axis, (tuple, list)) and len(axis) == 0):
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise IndexError(f"reduction over dimension {a} of a tensor with {ndim} dimensions "
                             f"(valid: {-builtins.max(ndim, 1)} to {builtins.max(ndim, 1) - 1})")
        if ndim:
            out.append(a % ndim)
    return tuple(sorted(set(out)))


def _options(axis, keepdims, dim, keepdim):
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


_np = backend.np
_ndarray = _np.ndarray
_SUM_THEN_DIVIDE = (_np.dtype(_np.float32), _np.dtype(_np.float64))


def prod_shape(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _empty_reduction(x, axes, keepdims, value):
    """The result of reducing ``x`` over axes that hold no element: ``value`` everywhere
    (NaN for a mean, -inf for a log-sum-exp), in the reduced shape."""
    shape = (_keep_shape(x.shape, axes) if keepdims
             else tuple(s for i, s in enumerate(x.shape) if i not in axes))
    return backend.xp_of(x).full(shape, value, dtype=x.dtype)


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
    """The mean. Over no elements it is NaN, as in PyTorch (0/0), and its gradient -- an
    empty array -- has nothing to divide."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        n = prod_shape(x.shape, self.axes)
        if n == 0:
            return _empty_reduction(x, self.axes, self.keepdims, float("nan"))
        if type(x) is _ndarray and x.dtype in _SUM_THEN_DIVIDE:
            # NumPy's own mean of a float32/64 array, without its Python wrapper (which costs
            # ~2 us, more than the sum of a small loss): the sum, then a division by the
            # count as an intp, which NumPy computes in float64 and rounds back. Bit for bit
            # ``x.mean(axis, keepdims)`` (tests/test_speed_paths.py).
            total = _np.add.reduce(x, axis=self.axes, keepdims=self.keepdims)
            if type(total) is _ndarray:
                return _np.true_divide(total, _np.intp(n), out=total, casting="unsafe")
            return total.dtype.type(total / _np.intp(n))
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        shape = self.inputs[0].shape
        scale = 1.0 / builtins.max(prod_shape(shape, self.axes), 1)
        if not is_grad_enabled():
            # first order: the same product on arrays (every loss ends in a mean; the Tensor
            # form below costs three ops)
            g = gy.array if self.keepdims else gy.array.reshape(_keep_shape(shape, self.axes))
            xp = backend.xp_of(g)
            out = xp.empty(shape, dtype=g.dtype)    # the product broadcast straight into it
            return Tensor(xp.multiply(g, g.dtype.type(scale), out=out))
        return _expand_back(gy, shape, self.axes, self.keepdims) * scale


class _Extremum(Function):
    """max/min over axes; the gradient goes to the elements equal to the result, split evenly."""
    saves_output = True

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}() of an empty tensor")
        return getattr(x, self.reduce)(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        y = self.output().array
        if not self.keepdims:
            y = y.reshape(_keep_shape(x.shape, self.axes))
        hit = (x.array == y).astype(x.dtype)
        share = hit / hit.sum(axis=self.axes, keepdims=True)
        return _expand_back(gy, x.shape, self.axes, self.keepdims) * Tensor(share)


class Max(_Extremum):
    reduce = "max"


class Min(_Extremum):
    reduce = "min"


def _logsumexp_array(x, axes):
    xp = backend.xp_of(x)
    if prod_shape(x.shape, axes) == 0:          # log of an empty sum: -inf, as in PyTorch
        return _empty_reduction(x, axes, True, -float("inf"))
    m = x.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)      # all -inf rows stay -inf instead of NaN
    return xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m


class LogSumExp(Function):
    saves_output = True

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
    saves_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.xp_of(x)
        if x.size == 0:                          # nothing to normalise
            return x.copy()
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    saves_output = True

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


def _root(v, p=2):
    """v ** (1/p) for v >= 0 with the gradient 0 where v == 0 (PyTorch's subgradient for a
    norm or a standard deviation at zero; the true derivative there is infinite)."""
    pos = Tensor(v.array > 0)
    return where(pos, where(pos, v, 1.0) ** (1.0 / p), 0.0)


def std(x, axis=None, keepdims=False, dim=None, keepdim=None, correction=1, unbiased=None):
    """Standard deviation: the square root of ``var``, with gradient 0 where it is 0 (a
    constant input), as in PyTorch."""
    return _root(var(x, axis, keepdims, dim, keepdim, correction, unbiased))


def max(x, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Max(_axes(axis, x.ndim), keepdims)(x)


def min(x, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Min(_axes(axis, x.ndim), keepdims)(x)


def argmax(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Tensor(x.array.argmax(axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False, dim=None, keepdim=None):
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    return Tensor(x.array.argmin(axis=axis, keepdims=keepdims))


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
    """The p-norm over axes (all by default); its gradient at 0 is 0, as in PyTorch.

    Computed as m · ||x / m||_p with m = max |x| over the reduced axes (a constant): the same
    function for any m > 0, so every derivative is exact, but x / m never under- or
    overflows when squared -- ||1e-200|| is 1e-200, not 0."""
    axis, keepdims = _options(axis, keepdims, dim, keepdim)
    axes = _axes(axis, x.ndim)
    if p == 1:
        return sum(_abs(x), axis=axes, keepdims=keepdims)
    if p <= 0:
        raise ValueError(f"norm: p must be positive, got {p}")
    xp = backend.xp_of(x.array)
    if x.numel() == 0 or prod_shape(x.shape, axes) == 0:
        return sum(x * x, axis=axes, keepdims=keepdims)          # an empty norm is 0
    m = xp.abs(x.array).max(axis=axes, keepdims=True)
    m = xp.where(m > 0, m, 1).astype(x.dtype)                    # all-zero groups: any m works
    scaled = x / Tensor(m)
    powered = scaled * scaled if p == 2 else _abs(scaled) ** p
    r = _root(sum(powered, axis=axes, keepdims=keepdims), p)
    return r * Tensor(m if keepdims else m.reshape(r.shape))
