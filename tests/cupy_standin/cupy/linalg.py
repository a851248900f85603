"""``cupy.linalg``: NumPy's linear algebra on device arrays (host arrays refused)."""
import numpy as _np

from ._core import _function

for _n in ("norm qr svd eigh eigvalsh inv pinv solve det slogdet cholesky lstsq matrix_power "
           "matrix_rank").split():
    globals()[_n] = _function(getattr(_np.linalg, _n), f"linalg.{_n}")
