"""``cupy.random``: ``default_rng`` and CuPy's ``Generator``, with CuPy's methods only.

CuPy's Generator (on cuRAND) has ``random``, ``uniform``, ``integers``, ``standard_normal``,
``standard_exponential``, ``exponential``, ``gamma``, ``standard_gamma``, ``beta``,
``binomial``, ``poisson``, ``geometric`` and a few more distributions; it has no
``permutation``, ``choice``, ``shuffle`` or ``normal``, so neither has this one.

The bit generator keeps its state in device memory, ``bit_generator._state`` (an int8
device array), as CuPy's cuRAND bit generators do; copying that array out and back restores
the stream. Underneath, the numbers come from NumPy's PCG64 (not cuRAND's XORWOW: the
stand-in proves placement, not the GPU's random numbers).
"""
from __future__ import annotations

import threading

import numpy as _np

from ._core import _SCALARS, _wrap, ndarray

__all__ = ["default_rng", "Generator", "BitGenerator", "XORWOW"]

_NBYTES = 48          # PCG64: state (16 bytes), increment (16), has_uint32 (8), uinteger (8)


def _encode(state):
    s = state["state"]
    raw = (int(s["state"]).to_bytes(16, "little") + int(s["inc"]).to_bytes(16, "little")
           + int(state["has_uint32"]).to_bytes(8, "little")
           + int(state["uinteger"]).to_bytes(8, "little"))
    return _np.frombuffer(raw, dtype=_np.int8)


def _decode(raw):
    b = raw.tobytes()
    return {"bit_generator": "PCG64",
            "state": {"state": int.from_bytes(b[0:16], "little"),
                      "inc": int.from_bytes(b[16:32], "little")},
            "has_uint32": int.from_bytes(b[32:40], "little"),
            "uinteger": int.from_bytes(b[40:48], "little")}


class BitGenerator:
    """The base of CuPy's bit generators (seeded through NumPy's SeedSequence, as CuPy)."""

    def __init__(self, seed=None):
        self.lock = threading.Lock()
        if isinstance(seed, ndarray):
            seed = seed.get()
        self._seed_seq = (seed if isinstance(seed, _np.random.SeedSequence)
                          else _np.random.SeedSequence(seed))
        pcg = _np.random.PCG64(self._seed_seq)
        self._state = _wrap(_encode(pcg.state).copy())   # the state, "in device memory"
        self._gen, self._seen = None, None

    def _numpy(self):
        """A NumPy generator positioned where ``_state`` says (reloaded if it was rewritten)."""
        raw = self._state._a
        if self._gen is None or raw.tobytes() != self._seen:
            pcg = _np.random.PCG64()
            pcg.state = _decode(raw)
            self._gen = _np.random.Generator(pcg)
        return self._gen

    def _store(self):
        self._state._a[...] = _encode(self._gen.bit_generator.state)
        self._seen = self._state._a.tobytes()

    def random_raw(self, size=None, output=True):
        with self.lock:
            out = self._numpy().bit_generator.random_raw(size).astype(_np.int32)
            self._store()
        return _wrap(out) if output else None


class XORWOW(BitGenerator):
    """CuPy's default bit generator (cuRAND XORWOW); here PCG64 underneath."""

    def __init__(self, seed=None, *, size=-1):
        super().__init__(seed)


def _param(x, name):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _SCALARS):
        return x
    raise TypeError(f"{name} is required to be a cupy.ndarray or a scalar")


def _check_out(out, dtype, size):
    if out is None:
        return
    if not isinstance(out, ndarray):
        raise TypeError("out must be a cupy.ndarray")
    if out.dtype != _np.dtype(dtype):
        raise TypeError(f"Supplied output array has the wrong type. Expected "
                        f"{_np.dtype(dtype).name}, got {out.dtype.name}")


class Generator:
    """CuPy's ``Generator``: its methods, each returning a device array."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator

    def _draw(self, fn, out=None):
        with self.bit_generator.lock:
            r = fn(self.bit_generator._numpy())
            self.bit_generator._store()
        r = _np.asarray(r)
        if out is not None:
            out._a[...] = r
            return out
        return _wrap(r)

    def random(self, size=None, dtype=_np.float64, out=None):
        _check_out(out, dtype, size)
        return self._draw(lambda g: g.random(size, dtype=dtype), out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=_np.float64):
        lo, hi = _param(low, "low"), _param(high, "high")
        return self._draw(lambda g: g.uniform(lo, hi, size).astype(dtype, copy=False))

    def integers(self, low, high=None, size=None, dtype=_np.int64, endpoint=False):
        return self._draw(lambda g: g.integers(int(low), None if high is None else int(high),
                                               size, dtype=dtype, endpoint=endpoint))

    def standard_normal(self, size=None, dtype=_np.float64, out=None):
        if _np.dtype(dtype).char not in "fd":
            raise TypeError(f"Unsupported dtype {_np.dtype(dtype).name} for standard_normal")
        _check_out(out, dtype, size)
        return self._draw(lambda g: g.standard_normal(size, dtype=dtype), out)

    def standard_exponential(self, size=None, dtype=_np.float64, method="inv", out=None):
        if method == "zig":
            raise NotImplementedError("Ziggurat method is not supported")
        _check_out(out, dtype, size)
        return self._draw(lambda g: g.standard_exponential(size).astype(dtype), out)

    def exponential(self, scale=1.0, size=None):
        return self.standard_exponential(size) * scale

    def standard_gamma(self, shape, size=None, dtype=_np.float64, out=None):
        k = _param(shape, "shape")
        return self._draw(lambda g: g.standard_gamma(k, size).astype(dtype), out)

    def gamma(self, shape, scale=1.0, size=None):
        return self.standard_gamma(shape, size) * scale

    def beta(self, a, b, size=None, dtype=_np.float64):
        a_, b_ = _param(a, "a"), _param(b, "b")
        return self._draw(lambda g: g.beta(a_, b_, size).astype(dtype))

    def binomial(self, n, p, size=None):
        n_, p_ = _param(n, "n"), _param(p, "p")
        return self._draw(lambda g: g.binomial(n_, p_, size))

    def poisson(self, lam=1.0, size=None):
        lam_ = _param(lam, "lam")
        return self._draw(lambda g: g.poisson(lam_, size))

    def geometric(self, p, size=None):
        p_ = _param(p, "p")
        return self._draw(lambda g: g.geometric(p_, size))


def default_rng(seed=None):
    """A ``Generator`` on a fresh ``XORWOW`` bit generator, as CuPy's ``default_rng``."""
    return Generator(XORWOW(seed))
