"""Hypothesis strategies shared by the tests: small shapes, broadcastable pairs, and arrays
drawn from a seeded NumPy generator (much faster than element-wise hypothesis arrays)."""
import numpy as np
from hypothesis import strategies as st

import minigan


def shapes(min_dims=0, max_dims=3, max_side=4):
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_pair(draw, max_dims=3, max_side=4):
    """Two shapes that broadcast together: the second drops leading dims and sets some to 1."""
    a = draw(shapes(1, max_dims, max_side))
    drop = draw(st.integers(0, len(a) - 1))
    b = tuple(1 if draw(st.booleans()) else s for s in a[drop:])
    if draw(st.booleans()):
        a, b = b, a
    return a, b


def array(seed, shape, low=None, high=None, away_from=None, dtype=np.float64):
    """Standard normal values (or uniform in [low, high]); with ``away_from`` the values keep
    at least 0.1 distance from each given point (kinks of relu, abs, clip ...)."""
    rng = np.random.default_rng(seed)
    if low is not None:
        x = rng.uniform(low, high, size=shape)
    else:
        x = rng.standard_normal(shape)
    for k in away_from or ():
        near = np.abs(x - k) < 0.1
        x = np.where(near, k + np.where(x >= k, 0.1, -0.1) + (x - k), x)
    return x.astype(dtype)


def leaf(seed, shape, **kw):
    return minigan.tensor(array(seed, shape, **kw), requires_grad=True)
