"""Hypothesis strategies shared by the tests: small shapes, broadcastable pairs, and arrays
drawn from a seeded NumPy generator (much faster than element-wise hypothesis arrays)."""
import numpy as np
from hypothesis import strategies as st

import minigan


def shapes(min_dims=0, max_dims=3, max_side=4, min_side=1):
    """Shapes of ``min_dims`` to ``max_dims`` dimensions, each of ``min_side`` to ``max_side``
    (``min_side=0`` draws empty tensors too)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def broadcastable_pair(draw, max_dims=3, max_side=4, min_dims=1, min_side=1):
    """Two shapes that broadcast together: the second drops leading dims and sets some to 1.
    With ``min_dims=0`` either may be 0-d; with ``min_side=0`` sizes of 0 occur (0 against
    0 or against a broadcast 1)."""
    a = draw(shapes(min_dims, max_dims, max_side, min_side))
    drop = draw(st.integers(0, max(len(a) - 1, 0) if min_dims else len(a)))
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


def distinct_arrays(seed, shapes, dtype=np.float64):
    """Arrays of the given shapes whose values, all of them together, are at least 0.1 apart:
    no ties anywhere, so max/min, pooling, maximum(a, b) and |a - b| keep their winners and
    signs under finite differences (and under rounding to float32)."""
    sizes = [int(np.prod(s)) for s in shapes]
    n = sum(sizes)
    rng = np.random.default_rng(seed)
    step = max(0.14, 6.0 / max(n, 1))                # spread over about [-3, 3]
    # neighbours on the grid differ by step, less at most a quarter step of jitter: >= 0.1
    values = (rng.permutation(n) - (n - 1) / 2) * step + rng.uniform(0, step / 4, n)
    out, start = [], 0
    for s, k in zip(shapes, sizes):
        out.append(values[start:start + k].reshape(s).astype(dtype))
        start += k
    return out


def leaf(seed, shape, **kw):
    return minigan.tensor(array(seed, shape, **kw), requires_grad=True)
