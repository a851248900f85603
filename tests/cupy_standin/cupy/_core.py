"""The stand-in's device array: a NumPy array behind a wall that CuPy's rules put there.

``ndarray`` holds a NumPy array in ``_a`` and lets nothing cross between host and device by
accident, as CuPy does:

* ``numpy.asarray(device_array)`` raises TypeError (CuPy: "Implicit conversion to a NumPy
  array is not allowed"); the way to the host is ``.get()`` or ``cupy.asnumpy``, and the way
  to the device is ``cupy.asarray``, each a copy;
* a NumPy array inside a device ufunc, operator or routine raises TypeError; Python and NumPy
  *scalars* are fine, as on CuPy;
* basic indexing gives views (an integer index gives a 0-d array that moves with its base, not
  a scalar copy), reductions give 0-d device arrays, not NumPy scalars;
* a NumPy function called on device arrays runs the stand-in's function of the same name if
  CuPy has one (``__array_function__`` / ``__array_ufunc__``, as CuPy does), else TypeError.

Only names that CuPy has are defined; the package ``__init__`` lists them.
"""
from __future__ import annotations

import numpy

_SCALARS = (bool, int, float, complex, numpy.generic)
_HINT = ("; a NumPy (host) array cannot enter a device computation: move it with "
         "cupy.asarray(x) or bring the device array back with .get()")


class CUDARuntimeError(RuntimeError):
    """What CuPy raises when the CUDA runtime fails (no device, bad ordinal)."""


def _refuse(x, where):
    raise TypeError(f"Unsupported type {type(x)} in {where}" +
                    (_HINT if isinstance(x, numpy.ndarray) else ""))


_FAST = {int, float, bool, str, type(None), slice, type(Ellipsis)}   # passed as they are


def _strict(x, where):
    """One ufunc/operator operand: a device array's NumPy array, or a scalar."""
    if type(x) is ndarray or isinstance(x, ndarray):
        return x._a
    if isinstance(x, _SCALARS):
        return x
    _refuse(x, where)


def _deep(x, where):
    """Arguments of a routine: device arrays unwrapped (inside lists and tuples too); host
    arrays and foreign array-likes refused; everything else (shapes, dtypes, strings, None)
    passed through."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t in _FAST:
        return x
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_deep(v, where) for v in x)
    if isinstance(x, dict):
        return {k: _deep(v, where) for k, v in x.items()}
    if isinstance(x, numpy.ndarray) or (
            not isinstance(x, (_SCALARS, type, numpy.dtype, str, slice))
            and x is not None and x is not Ellipsis
            and (hasattr(x, "__array__") or hasattr(x, "__array_interface__")
                 or hasattr(x, "__cuda_array_interface__"))):
        _refuse(x, where)
    return x


def _check_dtype(a):
    """CuPy's dtypes: bool, integers, float16/32/64, complex64/128 (no objects, strings or
    long doubles)."""
    kind, size = a.dtype.kind, a.dtype.itemsize
    if kind not in "biufc" or (kind == "f" and size > 8) or (kind == "c" and size > 16):
        raise ValueError(f"Unsupported dtype {a.dtype}")
    return a


def _wrap(r):
    """A NumPy result as the device result CuPy would give (scalars become 0-d arrays)."""
    if type(r) is numpy.ndarray or isinstance(r, numpy.ndarray):
        out = object.__new__(ndarray)
        out._a = r
        return out
    if isinstance(r, numpy.generic):
        out = object.__new__(ndarray)
        out._a = numpy.asarray(r)
        return out
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


def _from_host(obj, dtype=None, copy=True):
    """Host data (NumPy array, list, scalar) copied to the device."""
    if isinstance(obj, (list, tuple)):
        obj = _deep(obj, "cupy.asarray") if any(isinstance(v, ndarray) for v in obj) else obj
    a = numpy.array(obj, dtype=dtype, copy=True)
    return _wrap(_check_dtype(a))


# ------------------------------------------------------------------------------------ ufuncs
class ufunc:
    """A device ufunc: device arrays and scalars in, a device array out (``out=`` a device
    array). NumPy arrays are refused, as CuPy refuses them."""

    def __init__(self, np_ufunc, name=None):
        self._f = np_ufunc
        self.__name__ = name or np_ufunc.__name__
        self._where = f"cupy.{self.__name__}"
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def __call__(self, *args, **kwargs):
        where = self._where
        if not kwargs:                       # the common case, kept short (it is the hot path)
            a = [x._a if type(x) is ndarray else _strict(x, where) for x in args]
            return _wrap(self._f(*a))
        a = [_strict(x, where) for x in args]
        out = kwargs.get("out")
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            for o in outs:
                if not isinstance(o, ndarray):
                    raise TypeError(f"{where}: out must be a cupy.ndarray, not {type(o)}")
            kwargs["out"] = tuple(o._a for o in outs) if isinstance(out, tuple) else out._a
        for k in ("where",):
            if k in kwargs and kwargs[k] is not True:
                kwargs[k] = _strict(kwargs[k], where)
        r = self._f(*a, **kwargs)
        if out is not None:
            return out
        return _wrap(r)

    def at(self, a, indices, b=None):
        """``ufunc.at``: only ``add.at`` on the stand-in, with ``cupyx.scatter_add``'s limits
        (CuPy implements ``add.at`` with the same atomicAdd)."""
        if self._f is not numpy.add or b is None:
            raise NotImplementedError(f"the stand-in has add.at only, not {self.__name__}.at")
        from cupyx import scatter_add
        scatter_add(a, indices, b)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


def _function(np_func, name):
    """A device routine built from a NumPy one: device arrays in, device arrays out."""
    where = f"cupy.{name}"

    def fn(*args, **kwargs):
        if kwargs:
            kwargs = _deep(kwargs, where)
        return _wrap(np_func(*_deep(args, where), **kwargs))
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"The stand-in's ``{where}``: NumPy's ``{np_func.__name__}`` on device arrays."
    return fn


# ------------------------------------------------------------------------------------ ndarray
def _is_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (ndarray, numpy.ndarray, list)) or isinstance(k, (bool, numpy.bool_))
               for k in keys)


def _index(key):
    """An index for the NumPy array underneath. Device and NumPy integer/bool arrays and lists
    are accepted (CuPy copies host indices to the device). A basic index gets an Ellipsis so
    that NumPy returns a 0-d *view* where it would return a scalar copy: CuPy gives views."""
    keys = key if isinstance(key, tuple) else (key,)
    out = []
    for k in keys:
        if isinstance(k, ndarray):
            k = k._a
        elif isinstance(k, list):
            k = numpy.asarray(_deep(k, "indexing"))
        out.append(k)
    if not _is_advanced(key) and not any(k is Ellipsis for k in out):
        out.append(Ellipsis)
    return tuple(out)


class _Interface(dict):
    """``__cuda_array_interface__``: its ``typestr`` and ``data`` entries are filled in on
    first lookup."""

    def __init__(self, a, **fields):
        super().__init__(**fields)
        self._array = a

    def __missing__(self, key):
        if key == "typestr":
            self[key] = self._array.dtype.str
        elif key == "data":
            self[key] = (self._array.__array_interface__["data"][0], False)
        else:
            raise KeyError(key)
        return self[key]


class _Flags:
    def __init__(self, a):
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]


class _MemoryPointer:
    """``ndarray.data`` on CuPy is a device pointer, not a buffer."""

    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]


def _rebuild(host):
    return _wrap(numpy.array(host))


def _op(name, reflected=False, inplace=False):
    compare = name in ("equal", "not_equal")

    def method(self, other):
        if type(other) is ndarray:                        # the hot path
            uf = _UFUNCS[name]
            if inplace:
                return uf(self, other, out=self)
            return uf(other, self) if reflected else uf(self, other)
        if not isinstance(other, (ndarray, numpy.ndarray) + _SCALARS) and (
                compare or getattr(type(other), "__array_ufunc__", 0) is None
                or getattr(other, "__array_priority__", -1e300) > self.__array_priority__):
            return NotImplemented         # e.g. a Tensor: its reflected operator runs
        uf = _UFUNCS[name]
        if inplace:
            return uf(self, other, out=self)
        return uf(other, self) if reflected else uf(self, other)
    return method


class ndarray:
    """A device array (NumPy underneath). Build one with ``cupy.asarray`` / ``cupy.zeros``."""

    __slots__ = ("_a", "_cai", "__weakref__")
    __array_priority__ = 100           # CuPy's value

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = _check_dtype(numpy.empty(shape, dtype=dtype, order=order))

    # ---- the wall between host and device
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        mine = _UFUNCS.get(uf.__name__)
        if mine is None:
            return NotImplemented
        if "out" in kwargs:
            out = kwargs["out"]
            kwargs["out"] = out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return mine(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import _namespace
        mine = _namespace(func)
        if mine is None:
            return NotImplemented
        return mine(*args, **kwargs)

    @property
    def __cuda_array_interface__(self):
        # minigan asks hasattr() of every array it wraps, so this is built cheaply (cached;
        # the data pointer is looked up when someone reads it).
        try:
            return self._cai
        except AttributeError:
            a = self._a
            self._cai = _Interface(a, shape=a.shape, version=3,
                                   strides=None if a.flags.c_contiguous else a.strides)
            return self._cai

    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy on the host."""
        if out is not None:
            if not isinstance(out, numpy.ndarray):
                raise TypeError("out must be a numpy.ndarray")
            numpy.copyto(out, self._a)
            return out
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy a NumPy array of the same shape into this device array."""
        if not isinstance(arr, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, not {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError(f"Shape mismatch: {self._a.shape} and {arr.shape}")
        if arr.dtype != self._a.dtype:
            raise TypeError(f"{self._a.dtype} array cannot be set to {arr.dtype} array")
        self._a[...] = arr

    # ---- properties
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value
        try:
            del self._cai
        except AttributeError:
            pass

    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: _wrap(self._a.T))
    mT = property(lambda self: _wrap(numpy.swapaxes(self._a, -1, -2)))
    real = property(lambda self: _wrap(self._a.real))
    imag = property(lambda self: _wrap(self._a.imag))
    flags = property(lambda self: _Flags(self._a))
    data = property(lambda self: _MemoryPointer(self._a))

    @property
    def base(self):
        b = self._a.base
        return _wrap(b) if isinstance(b, numpy.ndarray) else None

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    # ---- conversion to Python scalars (a synchronising copy on a GPU)
    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    def tobytes(self, order="C"):
        return self._a.tobytes(order)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __copy__(self):
        return _wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return _wrap(self._a.copy())

    def __reduce__(self):
        return _rebuild, (self._a.copy(),)

    # ---- indexing
    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, ndarray):
            value = value._a
        elif isinstance(value, numpy.ndarray):
            # CuPy copies a host value for advanced indexing, but a basic (slice) assignment
            # goes through ``fill``, which takes only scalars.
            if not _is_advanced(key) and value.ndim != 0:
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        elif isinstance(value, list):
            if not _is_advanced(key):
                raise TypeError(f"Unsupported type {type(value)} for fill")
            value = _deep(value, "setitem")
        elif not isinstance(value, _SCALARS):
            _refuse(value, "setitem")
        self._a[_index(key)] = value

    # ---- operators
    __add__, __radd__, __iadd__ = _op("add"), _op("add", True), _op("add", inplace=True)
    __sub__, __rsub__ = _op("subtract"), _op("subtract", True)
    __isub__ = _op("subtract", inplace=True)
    __mul__, __rmul__ = _op("multiply"), _op("multiply", True)
    __imul__ = _op("multiply", inplace=True)
    __truediv__, __rtruediv__ = _op("true_divide"), _op("true_divide", True)
    __itruediv__ = _op("true_divide", inplace=True)
    __floordiv__, __rfloordiv__ = _op("floor_divide"), _op("floor_divide", True)
    __ifloordiv__ = _op("floor_divide", inplace=True)
    __mod__, __rmod__ = _op("remainder"), _op("remainder", True)
    __pow__, __rpow__ = _op("power"), _op("power", True)
    __ipow__ = _op("power", inplace=True)
    __matmul__, __rmatmul__ = _op("matmul"), _op("matmul", True)
    __and__, __rand__ = _op("bitwise_and"), _op("bitwise_and", True)
    __iand__ = _op("bitwise_and", inplace=True)
    __or__, __ror__ = _op("bitwise_or"), _op("bitwise_or", True)
    __ior__ = _op("bitwise_or", inplace=True)
    __xor__, __rxor__ = _op("bitwise_xor"), _op("bitwise_xor", True)
    __lshift__, __rshift__ = _op("left_shift"), _op("right_shift")
    __lt__, __le__ = _op("less"), _op("less_equal")
    __gt__, __ge__ = _op("greater"), _op("greater_equal")
    __eq__, __ne__ = _op("equal"), _op("not_equal")
    __hash__ = None

    def __neg__(self):
        return _wrap(-self._a)

    def __pos__(self):
        return _wrap(+self._a)

    def __abs__(self):
        return _wrap(abs(self._a))

    def __invert__(self):
        return _wrap(~self._a)

    # ---- methods (CuPy's ndarray methods, on the NumPy array underneath)
    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        kw = {} if casting is None else {"casting": casting}
        return _wrap(_check_dtype(self._a.astype(dtype, order=order, copy=copy, **kw)))

    def view(self, dtype=None):
        return _wrap(self._a.view() if dtype is None else self._a.view(dtype))

    def fill(self, value):
        if isinstance(value, numpy.ndarray) and value.ndim != 0:
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a.fill(_strict(value, "fill") if not isinstance(value, numpy.ndarray) else value)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _wrap(self._a.reshape(shape, order=order))

    def transpose(self, *axes):
        return _wrap(self._a.transpose(*axes))


def _method(name):
    where = f"cupy.ndarray.{name}"

    def method(self, *args, **kwargs):
        if kwargs:
            kwargs = _deep(kwargs, where)
        return _wrap(getattr(self._a, name)(*_deep(args, where), **kwargs))
    method.__name__ = name
    return method


for _name in ("all any argmax argmin argpartition argsort clip compress conj conjugate copy "
              "cumprod cumsum diagonal dot flatten max mean min nonzero partition prod put "
              "ravel repeat round sort squeeze std sum swapaxes take trace var").split():
    setattr(ndarray, _name, _method(_name))

# The ufuncs CuPy has, by name (NumPy's implementations underneath).
_UFUNC_NAMES = (
    "add subtract multiply divide true_divide floor_divide power float_power remainder mod "
    "fmod divmod negative positive absolute fabs sign exp exp2 expm1 log log2 log10 log1p "
    "sqrt square cbrt reciprocal sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh "
    "arcsinh arccosh arctanh hypot deg2rad rad2deg degrees radians maximum minimum fmax fmin "
    "greater greater_equal less less_equal equal not_equal logical_and logical_or "
    "logical_xor logical_not isnan isinf isfinite signbit copysign nextafter ldexp frexp "
    "modf floor ceil trunc rint bitwise_and bitwise_or bitwise_xor invert left_shift "
    "right_shift logaddexp logaddexp2 conjugate heaviside matmul").split()
_UFUNCS = {n: ufunc(getattr(numpy, n), n) for n in _UFUNC_NAMES}
# NumPy reports some ufuncs under another name (np.abs is "absolute", np.true_divide is
# "divide", np.conj is "conjugate"); register those names too, for __array_ufunc__.
for _n in _UFUNC_NAMES:
    _UFUNCS.setdefault(getattr(numpy, _n).__name__, _UFUNCS[_n])
