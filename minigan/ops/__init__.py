"""Differentiable primitives, one family per module, and the Tensor methods built on them.

``install()`` attaches operators (``+ - * / ** @ [] < ==``) and methods (``x.sum()``,
``x.reshape()`` ...) to ``Tensor``, so that the autograd module itself needs no knowledge of
any particular operation (it only knows how to run a graph).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, is_grad_enabled
from . import elementwise as E
from . import matmul as M
from . import reduce as R
from . import shape as S

__all__ = ["install"]


def _compare(ufunc_name):
    def op(a, b):
        if not isinstance(b, Tensor):
            b = E.as_tensor_like(b, a)
        xp = backend.xp_of(a.array)
        return Tensor(getattr(xp, ufunc_name)(a.array, b.array))
    op.__name__ = ufunc_name
    return op


def _reflected(fn):
    def op(self, other):
        return fn(E.as_tensor_like(other, self), self)
    return op


def _inplace(name, fn):
    """In-place arithmetic on a tensor's values (initialisers, optimizers, clipping).

    Refused on a tensor that requires grad while recording: on a leaf as in PyTorch, and on a
    computed tensor because minigan does not record in-place changes (PyTorch does), so the
    gradient would silently miss it. The version counter lets backward() catch a saved tensor
    changed later (under no_grad).
    """
    def op(self, other):
        if self.requires_grad and is_grad_enabled():
            if self._ctx is None:
                raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be changed "
                                   "in place while the graph is recorded; wrap it in "
                                   "minigan.no_grad()")
            raise RuntimeError(f"{name}: an in-place change of a tensor computed in the recorded "
                               "graph is not recorded, so its gradient would be wrong; write it "
                               "out of place (y = y * 2 instead of y.mul_(2)), or change a clone()")
        val = other.array if isinstance(other, Tensor) else other
        xp = backend.xp_of(self.array)
        out = fn(self.array, xp.asarray(val, dtype=self.dtype))
        self.array[...] = out
        self._bump_version()
        return self
    op.__name__ = name
    return op


def _augmented(name, inplace, outofplace):
    """``x += y`` (and -=, *=, /=) as in PyTorch: in place on x's storage, so every alias of x
    (a module's parameter in ``for p in model.parameters(): p -= lr * p.grad``) sees it.

    Without this Python would fall back to ``x = x + y``: a new tensor bound to the name, the
    parameter untouched -- a silent wrong answer. While the graph is recorded and a tensor
    involved requires grad, the result is a new graph node instead; a leaf that requires grad
    is refused by the in-place op's own check, as in PyTorch."""
    def op(self, other):
        other_grad = isinstance(other, Tensor) and other.requires_grad
        leaf = self.requires_grad and self._ctx is None      # refused by ``inplace`` below
        if is_grad_enabled() and (self.requires_grad or other_grad) and not leaf:
            return outofplace(self, other)
        shape = getattr(other, "shape", ())
        full = backend.np.broadcast_shapes(tuple(self.shape), tuple(shape))
        if full != tuple(self.shape):
            raise RuntimeError(f"{name}: the result of shape {full} does not fit the "
                               f"tensor's own shape {tuple(self.shape)}")
        np_ = backend.np
        result = np_.result_type(self.dtype,
                                 other.dtype if isinstance(other, Tensor) else other)
        if name == "__itruediv__" and np_.issubdtype(result, np_.integer):
            result = np_.dtype(np_.float64)             # true division of integers is a float
        if not np_.can_cast(result, self.dtype, "same_kind"):
            raise RuntimeError(f"{name}: the result type {result} cannot be stored in place "
                               f"in a {self.dtype} tensor (convert it first, e.g. x.float())")
        return inplace(self, other)
    op.__name__ = name
    return op


def _to(self, *args, **kwargs):
    """``x.to('cuda')``, ``x.to(dtype)``, ``x.to(device, dtype)``: a copy where something changes."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    for a in args:
        if isinstance(a, (str, backend.Device)):
            device = a
        else:
            dtype = a
    out = self
    if dtype is not None and backend.np.dtype(dtype) != self.dtype:
        out = _cast(out, dtype)
    if device is not None and backend.Device(device) != self.device:
        out = _move(out, device)
    return out


class Cast(Function):
    """Change the dtype; the gradient is cast back to the input's dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        return a.astype(self.dtype)

    def backward(self, gy):
        return _cast(gy, self.inputs[0].dtype)


class Move(Function):
    """Copy to another device; the gradient travels back to where the input lives."""

    def __init__(self, device):
        self.device = device

    def forward(self, a):
        return backend.as_array(a, device=self.device)

    def backward(self, gy):
        return _move(gy, self.inputs[0].device)


def _type(self, dtype=None, non_blocking=False):
    """``x.type()`` names the tensor's type (``'minigan.FloatTensor'``); ``x.type(t)`` casts
    to ``t``: a dtype, a dtype's name, or a legacy constructor like ``minigan.FloatTensor``
    (old PyTorch code writes ``x.type(Tensor)`` with ``Tensor = torch.FloatTensor``)."""
    from ..creation import LEGACY_TYPES
    if dtype is None:
        legacy = LEGACY_TYPES.get(self.dtype)
        if legacy is None:
            return f"minigan.Tensor[{self.dtype}]"
        return legacy.type_name.replace("minigan.", "minigan.cuda.") if self.is_cuda \
            else legacy.type_name
    if isinstance(dtype, str) and dtype.startswith(("torch.", "minigan.")):
        name = dtype.rsplit(".", 1)[-1]
        match = [c for c in LEGACY_TYPES.values() if c.__name__ == name]
        if not match:
            raise TypeError(f"type(): unknown tensor type {dtype!r}")
        dtype = match[0]
    if getattr(dtype, "device", None) is not None:     # minigan.cuda.FloatTensor and kin
        return _to(self, dtype.device, dtype.dtype)
    return _to(self, getattr(dtype, "dtype", dtype))


def _cast(x, dtype):
    return Cast(backend.np.dtype(dtype))(x)


def _move(x, device):
    return Move(backend.Device(device))(x)


def _clone(self):
    return E.mul(self, 1) if self.requires_grad else Tensor(self.array.copy())


def install():
    T = Tensor
    T.__add__, T.__radd__ = E.add, _reflected(E.add)
    T.__sub__, T.__rsub__ = E.sub, _reflected(E.sub)
    T.__mul__, T.__rmul__ = E.mul, _reflected(E.mul)
    T.__truediv__, T.__rtruediv__ = E.div, _reflected(E.div)
    T.__pow__, T.__rpow__ = E.pow, _reflected(E.pow)
    T.__matmul__, T.__rmatmul__ = M.matmul, _reflected(M.matmul)
    T.__neg__ = E.neg
    T.__pos__ = lambda self: self
    T.__abs__ = E.abs
    T.__getitem__ = S.getitem
    T.__setitem__ = S.setitem_
    for name, uf in (("__lt__", "less"), ("__le__", "less_equal"), ("__gt__", "greater"),
                     ("__ge__", "greater_equal"), ("__eq__", "equal"), ("__ne__", "not_equal")):
        setattr(T, name, _compare(uf))
    T.__iter__ = lambda self: (self[i] for i in range(len(self)))
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "log_sigmoid",
                 "clip", "clamp", "square", "sin", "cos", "log1p", "expm1", "rsqrt",
                 "reciprocal", "sign", "abs", "pow", "maximum", "minimum"):
        setattr(T, name, getattr(E, name))
    T.leaky_relu = E.leaky_relu
    for name in ("sum", "mean", "var", "std", "max", "min", "logsumexp", "softmax",
                 "log_softmax", "argmax", "argmin", "norm"):
        setattr(T, name, getattr(R, name))
    for name in ("reshape", "flatten", "permute", "squeeze", "unsqueeze", "broadcast_to",
                 "expand", "split", "chunk", "unflatten", "swapaxes"):
        setattr(T, name, getattr(S, name))
    T.view = S.reshape
    T.transpose = S.transpose
    T.matmul = M.matmul
    T.T = property(lambda self: S.transpose(self))
    T.mT = property(lambda self: S.swapaxes(self, -1, -2))
    T.to = _to
    T.cpu = lambda self: _to(self, "cpu")
    T.cuda = lambda self, device="cuda": _to(self, device)
    T.float = lambda self: _to(self, backend.np.float32)
    T.double = lambda self: _to(self, backend.np.float64)
    T.half = lambda self: _to(self, backend.np.float16)
    T.long = lambda self: _to(self, backend.np.int64)
    T.int = lambda self: _to(self, backend.np.int32)
    T.bool = lambda self: _to(self, backend.np.bool_)
    T.type = _type
    T.astype = lambda self, dtype: _to(self, dtype)
    T.clone = _clone
    T.add_ = _inplace("add_", lambda a, b: a + b)
    T.sub_ = _inplace("sub_", lambda a, b: a - b)
    T.mul_ = _inplace("mul_", lambda a, b: a * b)
    T.div_ = _inplace("div_", lambda a, b: a / b)
    T.__iadd__ = _augmented("__iadd__", T.add_, T.__add__)
    T.__isub__ = _augmented("__isub__", T.sub_, T.__sub__)
    T.__imul__ = _augmented("__imul__", T.mul_, T.__mul__)
    T.__itruediv__ = _augmented("__itruediv__", T.div_, T.__truediv__)
    T.copy_ = _inplace("copy_", lambda a, b: b)
    T.fill_ = _inplace("fill_", lambda a, b: b)
    T.zero_ = lambda self: T.fill_(self, 0)
    T.clamp_ = lambda self, min=None, max=None: _inplace(
        "clamp_", lambda a, _: backend.xp_of(a).clip(a, min, max))(self, 0)
