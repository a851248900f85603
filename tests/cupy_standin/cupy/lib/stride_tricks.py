"""``cupy.lib.stride_tricks.as_strided``: a strided view of a device array."""
import numpy as _np

from .._core import _wrap, ndarray


def as_strided(x, shape=None, strides=None):
    if not isinstance(x, ndarray):
        raise TypeError(f"as_strided needs a cupy.ndarray, not {type(x).__name__}")
    return _wrap(_np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides))
