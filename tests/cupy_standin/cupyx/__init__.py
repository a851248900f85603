"""``cupyx.scatter_add``: ``a[slices] += value`` with repeated indices accumulating.

As on CuPy, only int32, float16, float32, float64, uint32 and uint64 values can be added
(CUDA's atomicAdd has no int64), and the value must be a device array or a scalar.
"""
import numpy as _np

from cupy._core import _SCALARS, _index, _refuse, ndarray

_ADDABLE = (_np.int32, _np.float16, _np.float32, _np.float64, _np.uint32, _np.uint64)


def scatter_add(a, slices, value):
    if not isinstance(a, ndarray):
        raise TypeError(f"scatter_add: a must be a cupy.ndarray, not {type(a).__name__}")
    if isinstance(value, ndarray):
        value = value._a
    elif not isinstance(value, _SCALARS):
        _refuse(value, "cupyx.scatter_add")
    if not issubclass(a.dtype.type, _ADDABLE):
        raise TypeError("scatter_add only supports int32, float16, float32, float64, uint32, "
                        "uint64, as data type")
    key = _index(slices)
    if key and key[-1] is Ellipsis:
        key = key[:-1]
    _np.add.at(a._a, key, _np.asarray(value, dtype=a.dtype))
