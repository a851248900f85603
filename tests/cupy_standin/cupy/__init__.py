"""A strict stand-in for CuPy, pure NumPy underneath, so that minigan's GPU path runs in CI.

minigan never runs on a GPU in its own CI. What can be checked without one is the part of the
GPU path that most often breaks: *where arrays live*. CuPy refuses to mix host and device
arrays; this package refuses in the same places, so a tensor created on the CPU by mistake,
a NumPy array handed to a device op, or a device array handed to matplotlib fails here as it
would on a GPU. It is activated by putting this folder first on the path::

    PYTHONPATH=tests/cupy_standin MINIGAN_DEVICE=cuda python -m minigan tour --quick

(``MINIGAN_FAKE_CUPY=1`` does that for a pytest run; see ``tests/conftest.py``.)

The rules it enforces (``_core``): no implicit device-to-host conversion (``np.asarray`` of a
device array is a TypeError: use ``.get()``/``cupy.asnumpy``); no NumPy array inside a device
ufunc, operator or routine (scalars are fine); views where CuPy gives views (an integer index
gives a 0-d view, not a scalar copy); reductions return 0-d device arrays; only CuPy's dtypes;
only CuPy's random ``Generator`` methods (no ``permutation``, ``choice``, ``normal``,
``shuffle``); ``cupyx.scatter_add`` with CuPy's dtype limits. It is stricter than CuPy in one
way: a host array passed to *any* device routine is refused, where some CuPy routines happen
to accept one.

What it cannot show: kernel speed, asynchronous execution (every call here has finished when
it returns), cuRAND's random streams (draws come from NumPy's PCG64, so GPU runs do not
reproduce these numbers), the GPU's rounding (fused multiply-adds, cuBLAS's summation
order), memory limits, and several devices (there is one, ``cuda:0``).

Only names that CuPy has are defined; an unlisted name is an AttributeError, as it is on a
CuPy without that name. The legacy global-state random functions (``cupy.random.randn`` ...)
are left out on purpose: minigan draws from its own generators.
"""
from __future__ import annotations

import numpy as _np

from . import _core
from ._core import _UFUNCS, _deep, _from_host, _function, _wrap, ndarray, ufunc  # noqa: F401

__version__ = "13.0.0+standin"      # the CuPy API it follows; "+standin" says what it is

# ------------------------------------------------------------------- borrowed from NumPy
for _n in ("bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 intp uintp float16 float32 "
           "float64 complex64 complex128 dtype iinfo finfo promote_types can_cast issubdtype "
           "isscalar floating integer signedinteger unsignedinteger number inexact generic "
           "complexfloating newaxis inf nan pi e").split():
    globals()[_n] = getattr(_np, _n)
half, single, double = _np.float16, _np.float32, _np.float64

# ---------------------------------------------------------------------------------- ufuncs
for _n, _u in _UFUNCS.items():
    if not _n.startswith("_"):
        globals()[_n] = _u
abs = _UFUNCS["absolute"]                 # noqa: A001 (CuPy's alias)
bitwise_not = _UFUNCS["invert"]
conj = _UFUNCS["conjugate"]

# -------------------------------------------------------------- routines on device arrays
_ROUTINES = (
    "where clip concatenate stack vstack hstack dstack column_stack split array_split pad "
    "transpose swapaxes moveaxis rollaxis reshape ravel squeeze expand_dims broadcast_to "
    "broadcast_arrays atleast_1d atleast_2d atleast_3d copy flip fliplr flipud roll rot90 "
    "repeat tile sum prod mean var std amax amin max min argmax argmin all any cumsum "
    "cumprod diff ptp dot vdot inner outer tensordot einsum trace diag diagonal diagflat tril "
    "triu sort argsort partition argpartition unique nonzero argwhere flatnonzero "
    "count_nonzero take take_along_axis put searchsorted bincount histogram percentile "
    "quantile median average nanmean nansum nanmax nanmin nanargmax nanargmin nan_to_num "
    "isclose allclose array_equal around round fix cross kron convolve interp meshgrid "
    "zeros_like ones_like empty_like full_like shape ndim may_share_memory shares_memory "
    "real imag angle sinc select choose compress extract").split()
for _n in _ROUTINES:
    globals()[_n] = _function(getattr(_np, _n), _n)


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got "
                        f"{type(a).__name__})")
    return _wrap(_np.ascontiguousarray(a._a, dtype=dtype))


def copyto(dst, src, casting="same_kind", where=True):
    if not isinstance(dst, ndarray):
        raise TypeError("copyto: dst must be a cupy.ndarray")
    _np.copyto(dst._a, _deep(src, "cupy.copyto"), casting=casting,
               where=_deep(where, "cupy.copyto"))


# ---------------------------------------------------------------- creation (no host data)
for _n in ("zeros ones empty full eye identity arange linspace logspace tri indices").split():
    globals()[_n] = _function(getattr(_np, _n), _n)


# ------------------------------------------------------------------- host <-> device copies
def asarray(a, dtype=None, order=None):
    """Host data to the device (a copy), or a device array as it is (cast if asked)."""
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _from_host(a, dtype)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    if isinstance(obj, ndarray):
        out = _wrap(_np.array(obj._a, dtype=dtype, copy=copy, ndmin=ndmin))
        return out
    out = _from_host(obj, dtype)
    return _wrap(_np.array(out._a, ndmin=ndmin, copy=False)) if ndmin else out


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """A NumPy copy of a device array (host data is returned as NumPy)."""
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return __import__(__name__) if any(isinstance(a, ndarray) for a in args) else _np


def result_type(*arrays_and_dtypes):
    return _np.result_type(*[a.dtype if isinstance(a, ndarray) else a
                             for a in arrays_and_dtypes])


def is_available():
    from . import cuda
    return cuda.is_available()


from . import cuda, linalg, random  # noqa: E402
from . import lib  # noqa: E402


def _namespace(np_func):
    """The stand-in's twin of a NumPy function (for ``__array_function__``), or None."""
    mod = getattr(np_func, "__module__", "") or ""
    if not mod.startswith("numpy"):
        return None
    target = globals()
    if mod.startswith("numpy.linalg"):
        target = vars(linalg)
    elif mod.startswith("numpy.lib.stride_tricks") or mod.startswith("numpy.lib._stride"):
        target = vars(lib.stride_tricks)
    mine = target.get(np_func.__name__)
    return mine if callable(mine) and mine is not np_func else None
