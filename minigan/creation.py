"""Making tensors: from data, filled with constants, ranges, and random draws.

Floating tensors get the default dtype (float32) unless you ask otherwise; integer data stays
integer (int64), as in PyTorch. Random constructors draw from the device's generator, which
``minigan.manual_seed`` resets, so a seeded run repeats exactly.
"""
from __future__ import annotations

from . import backend
from .autograd import Tensor

np = backend.np

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "zeros_like", "ones_like", "full_like", "randn", "rand",
           "randint", "normal", "uniform", "randn_like", "rand_like", "randperm",
           "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"]


def _infer_dtype(data, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    if isinstance(data, Tensor):
        return data.dtype
    if hasattr(data, "dtype"):                # NumPy/CuPy arrays keep their dtype (as PyTorch)
        return data.dtype
    kind = np.asarray(data).dtype.kind
    if kind == "f":
        return backend.get_default_dtype()
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "b":
        return np.dtype(bool)
    if kind == "c":
        return np.dtype(np.complex64)
    raise TypeError(f"cannot make a tensor from {type(data).__name__} data of kind {kind!r}")


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of ``data`` (list, number, NumPy/CuPy array or Tensor)."""
    if isinstance(data, Tensor):
        data = data.array
    dt = _infer_dtype(data, dtype)
    arr = backend.as_array(data, dtype=dt, device=device)
    if arr is data:
        arr = arr.copy()
    return Tensor(arr, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy/CuPy array when nothing needs to change."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        data = data.array
    return Tensor(backend.as_array(data, dtype=_infer_dtype(data, dtype), device=device))


def from_numpy(array):
    return Tensor(np.asarray(array))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _as_shape(size):
    """``3`` or ``(2, 3)`` as a shape tuple."""
    return (int(size),) if isinstance(size, int) else tuple(int(s) for s in size)


def _filled(fill, size, dtype, device, requires_grad):
    xp = backend.get_xp(device)
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    dev = backend.Device(device) if device is not None else backend.default_device()
    if xp is np:
        arr = np.full(size, fill, dtype=dtype)
    else:
        with xp.cuda.Device(dev.index):
            arr = xp.full(size, fill, dtype=dtype)
    return Tensor(arr, requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(0, _size(size), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(1, _size(size), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled(fill_value, _as_shape(size), dtype, device, requires_grad)


def _like(x, dtype, device):
    return (dtype if dtype is not None else x.dtype,
            device if device is not None else x.device)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return _filled(0, x.shape, dtype, device, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return _filled(1, x.shape, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return _filled(fill_value, x.shape, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        floaty = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.get_default_dtype() if floaty else np.int64
    xp = backend.get_xp(device)
    return Tensor(xp.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    xp = backend.get_xp(device)
    dtype = dtype or backend.get_default_dtype()
    return Tensor(xp.linspace(start, end, steps, dtype=dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    xp = backend.get_xp(device)
    return Tensor(xp.eye(n, m, dtype=dtype or backend.get_default_dtype()),
                  requires_grad=requires_grad)


# ------------------------------------------------------------------------------------ random
def _float_dtype(dtype):
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"random floats need a floating dtype, not {dtype}")
    return dtype


def _draw_dtype(dtype):
    """NumPy's generators draw float32 or float64 only: half precision is drawn in float32,
    then rounded."""
    return np.float32 if np.dtype(dtype).itemsize < 4 else dtype


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples N(0, 1)."""
    dtype = _float_dtype(dtype)
    arr = backend.generator(device).standard_normal(_size(size), dtype=_draw_dtype(dtype))
    return Tensor(arr.astype(dtype, copy=False), requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    dtype = _float_dtype(dtype)
    arr = backend.generator(device).random(_size(size), dtype=_draw_dtype(dtype))
    return Tensor(arr.astype(dtype, copy=False), requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Integers uniform on [low, high) (PyTorch's argument order: ``randint(low, high, size)``)."""
    if high is None:
        low, high = 0, low
    arr = backend.generator(device).integers(low, high, size=_as_shape(size))
    return Tensor(arr.astype(dtype or np.int64))


def randperm(n, device=None):
    """A random permutation of 0..n-1 (int64) on ``device``, drawn from its generator."""
    return Tensor(backend.permutation(n, device))


def normal(mean=0.0, std=1.0, size=(), dtype=None, device=None, requires_grad=False):
    """Normal samples with the given mean and standard deviation."""
    x = randn(*_as_shape(size), dtype=dtype, device=device)
    x.array *= x.dtype.type(std)
    x.array += x.dtype.type(mean)
    return x.requires_grad_(requires_grad) if requires_grad else x


def uniform(low=0.0, high=1.0, size=(), dtype=None, device=None, requires_grad=False):
    """Uniform samples on [low, high)."""
    x = rand(*_as_shape(size), dtype=dtype, device=device)
    x.array *= x.dtype.type(high - low)
    x.array += x.dtype.type(low)
    return x.requires_grad_(requires_grad) if requires_grad else x


def randn_like(x, dtype=None, device=None):
    dtype, device = _like(x, dtype, device)
    return randn(*x.shape, dtype=dtype, device=device)


def rand_like(x, dtype=None, device=None):
    dtype, device = _like(x, dtype, device)
    return rand(*x.shape, dtype=dtype, device=device)


# ------------------------------------------------------------ PyTorch's legacy type constructors
def _legacy_type(name, dtype, device=None):
    """``FloatTensor(64, 1)`` (a shape: zeros) or ``FloatTensor(data)`` (a copy in the type's
    dtype), as old PyTorch code writes them; ``x.type(FloatTensor)`` casts to it. Thin
    constructors, not classes: ``isinstance(x, FloatTensor)`` is not supported."""
    def construct(*args, device=device):
        if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=dtype, device=device)
        if len(args) == 1:
            return tensor(args[0], dtype=dtype, device=device)
        if not args:
            return zeros(0, dtype=dtype, device=device)
        raise TypeError(f"{name}(*sizes) or {name}(data), not {name}{args}")
    construct.__name__ = construct.__qualname__ = name
    construct.dtype = np.dtype(dtype)
    construct.device = device
    construct.type_name = f"minigan.{'cuda.' if device else ''}{name}"
    return construct


FloatTensor = _legacy_type("FloatTensor", np.float32)
DoubleTensor = _legacy_type("DoubleTensor", np.float64)
LongTensor = _legacy_type("LongTensor", np.int64)
IntTensor = _legacy_type("IntTensor", np.int32)
BoolTensor = _legacy_type("BoolTensor", bool)
LEGACY_TYPES = {c.dtype: c for c in (FloatTensor, DoubleTensor, LongTensor, IntTensor,
                                     BoolTensor)}
