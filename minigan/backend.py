"""The one door to the array libraries: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every other module asks this one for its array module instead of importing NumPy or CuPy
itself. A kernel gets its module from the arrays it was handed::

    xp = backend.xp_of(x)        # numpy or cupy, whichever owns x
    y = xp.maximum(x, 0)

so the same source runs on both devices. This module also owns the default device (where a
tensor goes when nothing says otherwise: ``with Device(...)``, ``$MINIGAN_DEVICE``, the CPU),
the default floating dtype (float32, as in PyTorch), the random generators behind
``minigan.manual_seed`` (one per device; their states go into checkpoints), and the operations
the two libraries do differently: scatter-add (``np.add.at``; on a GPU a fixed-order one-hot
product for rows, ``cupy.add.at``'s atomics otherwise) and random permutations.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np

__all__ = [
    "np", "Device", "device_of", "xp_of", "get_xp", "to_numpy", "as_array",
    "default_dtype", "set_default_dtype", "get_default_dtype", "manual_seed", "generator",
    "get_rng_state", "set_rng_state", "fork_rng", "scatter_add", "cupy_available", "cupy_error",
    "default_device", "permutation", "blas_threads", "auto_blas_threads", "idle_cores",
]

_cupy = None          # the cupy module, once imported
_cupy_error = None    # why importing it failed, for the error message


def _import_cupy():
    """Import CuPy on first use, so ``import minigan`` stays light and CPU-only machines work."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy  # noqa: WPS433 (the backend is the one module allowed to do this)
            cupy.cuda.runtime.getDeviceCount()   # fails early without a driver / GPU
            _cupy = cupy
        except Exception as exc:  # ImportError, CUDARuntimeError, ...
            _cupy_error = exc
    if _cupy is None:
        raise RuntimeError(
            "device 'cuda' needs CuPy and an NVIDIA GPU, but they are not usable here "
            f"({type(_cupy_error).__name__}: {_cupy_error}). Install the GPU extra with "
            "`pip install -e .[gpu]` on a machine with CUDA, or use device='cpu'.")
    return _cupy


def cupy_error():
    """None when CuPy imports and sees a GPU, else the exception that says why not (an
    ImportError when CuPy is not installed, a CUDA runtime error when there is no GPU or
    driver), for messages that tell the user what to fix."""
    try:
        _import_cupy()
        return None
    except RuntimeError:
        return _cupy_error


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _import_cupy()
        return True
    except RuntimeError:
        return False


# ----------------------------------------------------------------------------------- devices
class Device:
    """A device name, as in PyTorch: ``Device('cpu')``, ``Device('cuda')``, ``Device('cuda:1')``.

    Compares equal to its string form, so ``x.device == 'cpu'`` reads naturally. As in
    PyTorch, ``with Device('cpu'):`` makes it the default device inside the block: a network
    built there is created (and initialised, from that device's generator) on it, instead of
    being made on ``$MINIGAN_DEVICE`` and moved.
    """
    __slots__ = ("type", "index")

    def __init__(self, spec="cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"a device is a string like 'cpu' or 'cuda:0', not {spec!r}")
        kind, _, idx = spec.strip().lower().partition(":")
        if kind not in ("cpu", "cuda", "gpu"):
            raise ValueError(f"unknown device {spec!r}: use 'cpu', 'cuda' or 'cuda:N'")
        self.type = "cuda" if kind == "gpu" else kind
        if idx and not idx.isdigit():
            raise ValueError(f"bad device index in {spec!r}")
        self.index = int(idx) if idx else (0 if self.type == "cuda" else None)

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except (ValueError, TypeError):
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device('{self}')"

    def __enter__(self):
        _device_stack.append(self)
        return self

    def __exit__(self, *exc):
        _device_stack.pop()
        return False

    @property
    def xp(self):
        """The array module of this device."""
        return np if self.type == "cpu" else _import_cupy()


CPU = Device("cpu")
_device_stack = []      # the devices of the ``with Device(...)`` blocks we are in


def default_device() -> Device:
    """The device new tensors go to when none is named: the innermost ``with Device(...)``
    block's, else ``$MINIGAN_DEVICE`` (``cpu`` or ``cuda``), else the CPU.

    The one rule for where minigan creates a tensor: the device it is told (an argument),
    else the device of the module or the input it is made for, else this default -- never
    the CPU behind the default's back."""
    if _device_stack:
        return _device_stack[-1]
    return Device(os.environ.get("MINIGAN_DEVICE", "cpu") or "cpu")


def xp_of(array):
    """The array module (numpy or cupy) that owns ``array``."""
    if isinstance(array, np.ndarray) or np.isscalar(array) or isinstance(array, np.generic):
        return np
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    mod = type(array).__module__
    if mod.startswith("cupy"):
        return _import_cupy()
    return np


def get_xp(device=None):
    """The array module for a device (the default device when None)."""
    return (Device(device) if device is not None else default_device()).xp


def device_of(array) -> Device:
    """The Device that holds ``array``."""
    if xp_of(array) is np:
        return CPU
    return Device(f"cuda:{array.device.id}")


def to_numpy(array):
    """A NumPy array with the same values, copied from the GPU if needed."""
    if isinstance(array, np.ndarray):
        return array
    if xp_of(array) is np:
        return np.asarray(array)
    return array.get()


def as_array(data, dtype=None, device=None):
    """Turn data (list, scalar, NumPy or CuPy array) into an array on ``device``."""
    dev = Device(device) if device is not None else None
    src_xp = xp_of(data)
    if dev is None:
        dev = device_of(data) if src_xp is not np else default_device()
    if dev.type == "cpu":
        out = np.asarray(to_numpy(data), dtype=dtype)
    else:
        cp = _import_cupy()
        with cp.cuda.Device(dev.index):
            out = cp.asarray(data, dtype=dtype)
    return out


# ----------------------------------------------------------------------------------- dtypes
_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype):
    """Set the floating dtype new tensors get (float32 unless you ask for float64)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64, np.float16):
        raise TypeError(f"the default dtype must be a floating type, not {dtype}")
    _default_dtype = dtype


def get_default_dtype():
    return _default_dtype


default_dtype = get_default_dtype


# -------------------------------------------------------------------------------------- RNG
_generators = {}     # device string -> generator
_seed = None         # the last manual_seed, so generators made later start from it too


def _make_generator(dev: Device):
    # Each device gets its own stream: the CPU starts from the seed, cuda:N from seed + 1 + N.
    seed = None if _seed is None else _seed + (0 if dev.type == "cpu" else 1 + dev.index)
    if dev.type == "cpu":
        return np.random.Generator(np.random.PCG64(seed))
    cp = _import_cupy()
    with cp.cuda.Device(dev.index):
        return cp.random.default_rng(seed)


def generator(device=None):
    """The random generator of a device (fresh entropy until ``manual_seed`` is called)."""
    dev = Device(device) if device is not None else default_device()
    key = str(dev)
    if key not in _generators:
        _generators[key] = _make_generator(dev)
    return _generators[key]


def manual_seed(seed: int):
    """Seed every device's generator, so that a run repeats bit for bit (on the CPU)."""
    global _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"a seed is a non-negative integer, not {seed!r}")
    _seed = int(seed)
    for key in list(_generators):
        _generators[key] = _make_generator(Device(key))
    return _seed


@contextlib.contextmanager
def fork_rng(seed):
    """Run a block on freshly seeded generators, then put every generator back as it was.

    For work that must be the same whatever ran before it and must not disturb what runs
    after it (training the scoring classifier in the middle of a GAN run, say). The old
    generator objects are set aside untouched and restored, on every device, together with
    the seed that generators created later start from.
    """
    global _seed
    saved, saved_seed = dict(_generators), _seed
    try:
        manual_seed(seed)
        yield
    finally:
        _generators.clear()
        _generators.update(saved)
        _seed = saved_seed


def _cuda_state_buffer(gen):
    """The device array holding a CuPy generator's state (one cuRAND state per GPU thread).

    CuPy's bit generators (XORWOW, MRG32k3a, Philox) keep it in ``bit_generator._state``; its
    kernels read and write that buffer at every draw, so copying it out and back saves and
    restores the stream exactly. CuPy has no public call for this, hence the check."""
    buf = getattr(getattr(gen, "bit_generator", None), "_state", None)
    if buf is None or xp_of(buf) is np or not hasattr(buf, "get"):
        raise RuntimeError("this CuPy keeps its random generator's state where minigan cannot "
                           "reach it (bit_generator._state); the GPU's random stream cannot be "
                           "saved or restored with this version")
    return buf


def get_rng_state(device="cpu"):
    """The state of a device's generator, to store in a checkpoint.

    CPU: PCG64's state, a dict of ints and strings (JSON-serialisable). CUDA: a dict with the
    device, the bit generator's name and ``state``, a NumPy copy of the generator's state
    buffer (``minigan.save`` stores it as an array)."""
    dev = Device(device)
    gen = generator(dev)
    if dev.type == "cpu":
        return gen.bit_generator.state
    buf = _cuda_state_buffer(gen)
    return {"device": str(dev), "bit_generator": type(gen.bit_generator).__name__,
            "state": buf.get()}


def set_rng_state(state, device="cpu"):
    """Put a state from ``get_rng_state(device)`` back, so the stream continues from there."""
    dev = Device(device)
    gen = generator(dev)
    if dev.type == "cpu":
        if not isinstance(state, dict) or "bit_generator" not in state or "device" in state:
            raise ValueError(f"set_rng_state: not a CPU generator state: {type(state).__name__}")
        gen.bit_generator.state = state
        return
    if not isinstance(state, dict) or "device" not in state or "state" not in state:
        raise ValueError("set_rng_state: not a CUDA generator state (a dict with 'state', as "
                         "get_rng_state('cuda') returns)")
    buf = _cuda_state_buffer(gen)
    saved = to_numpy(state["state"])          # a NumPy array, or wherever load() put it
    name = type(gen.bit_generator).__name__
    if str(state.get("bit_generator", name)) != name or saved.shape != buf.shape \
            or saved.dtype != buf.dtype:
        raise ValueError(f"set_rng_state: the saved {state.get('bit_generator')} state "
                         f"({saved.size} bytes) does not fit {dev}'s {name} generator "
                         f"({buf.size} bytes): it was saved with another CuPy version or generator")
    cp = _import_cupy()
    with cp.cuda.Device(dev.index):
        buf[...] = cp.asarray(saved)


def permutation(n, device=None):
    """A random permutation of 0..n-1 (int64) on ``device``, from that device's generator.

    NumPy's generator has ``permutation``; CuPy's has not (its Generator offers the
    distributions, not shuffling), so on a GPU the permutation is the order that sorts n
    uniform draws: every order is equally likely (ties have probability ~n²/2⁵³)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"randperm: n must be >= 0, got {n}")
    dev = Device(device) if device is not None else default_device()
    gen = generator(dev)
    if dev.type == "cpu":
        return gen.permutation(n).astype(np.int64)
    xp = dev.xp
    with xp.cuda.Device(dev.index):
        return xp.argsort(gen.random(n)).astype(np.int64)


# ------------------------------------------------------------------------------- scatter-add
def scatter_add(target, index, values):
    """``target[index] += values`` where repeated indices accumulate (the gradient of indexing).

    NumPy's fancy ``+=`` would keep only the last of repeated indices; ``add.at`` adds them
    all. On a GPU, ``cupy.add.at`` adds with atomic instructions, in whatever order the
    threads arrive: the same inputs can give sums that differ in the last bit from one run to
    the next, so a resumed run would drift from the uninterrupted one. The common case, whole
    rows picked by one integer array (an embedding's lookup, a batch drawn by index), is done
    there as a product with a one-hot matrix instead, whose sums have a fixed order
    (``_scatter_add_rows``); other indices, and products too large to be cheap, keep ``add.at``.
    """
    xp = xp_of(target)
    if xp is np:
        np.add.at(target, index, values)
        return target
    rows = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if (hasattr(rows, "dtype") and rows.dtype.kind in "iu" and target.ndim >= 1
            and rows.size * target.shape[0] <= _ONE_HOT_MAX
            and rows.size * target.size <= _ONE_HOT_MAX_WORK):
        return _scatter_add_rows(target, rows, values)
    _add_at(xp, target, index, values)
    return target


_ONE_HOT_MAX = 2 ** 24        # one-hot entries (64 MiB in float32) ...
_ONE_HOT_MAX_WORK = 2 ** 31   # ... and multiply-adds of its product, above which atomics are used


def _add_at(xp, target, index, values):
    add_at = getattr(xp.add, "at", None)
    if add_at is not None:
        add_at(target, index, values)
    else:                                    # CuPy before 12 has only the cupyx name
        import cupyx
        cupyx.scatter_add(target, index, values)


def _scatter_add_rows(target, rows, values):
    """``target[rows] += values`` for an integer array ``rows`` of row numbers, repeats
    adding up, as one matrix product: ``onehot (R, B) @ values (B, rest)`` where
    ``onehot[r, b] = (rows[b] == r)``. Each row's sum runs in the GEMM's fixed order, so the
    result is the same on every run (not the same rounding as ``add.at``'s sequential sums).

    An infinite or NaN value would poison every row of the product (0 * inf is NaN), so the
    product gets the finite values only, and the others are added with ``add.at``: adding an
    inf or a NaN gives the same result in any order, so that part needs no fixed order."""
    xp = xp_of(target)
    n = target.shape[0]
    if rows.size == 0 or target.size == 0:            # nothing picked: nothing to add
        return target
    flat = rows.reshape(-1)
    flat = xp.where(flat < 0, flat + n, flat)                      # x[-1] is the last row
    onehot = (flat[None, :] == xp.arange(n, dtype=flat.dtype)[:, None]).astype(target.dtype)
    if not hasattr(values, "shape"):                               # a Python number
        values = xp.asarray(values, dtype=target.dtype)
    vals = xp.broadcast_to(values, rows.shape + target.shape[1:]).reshape(flat.size, -1)
    vals = vals.astype(target.dtype, copy=False)
    finite = xp.isfinite(vals)
    zero = xp.zeros((), dtype=target.dtype)
    target += xp.matmul(onehot, xp.where(finite, vals, zero)).reshape(target.shape)
    rest = xp.where(finite, zero, vals).reshape((flat.size,) + target.shape[1:])
    _add_at(xp, target, flat, rest)
    return target


# ------------------------------------------------------------------------------ BLAS threads
# The default: as many BLAS threads as there are idle cores, decided again every so often.
#
# Measured on a 2-core machine (benchmarks/README.md): on a quiet machine two OpenBLAS threads
# make the DCGAN iteration much faster than one; with one other CPU-bound process running, two
# threads make it several times *slower*, because OpenBLAS splits each GEMM statically in two
# and waits for the half whose thread the scheduler has put aside. No fixed number is within
# 10 % of the better choice in both cases, so the default follows the machine: before a large
# GEMM, at most every ``_AUTO_PERIOD`` seconds, count the runnable tasks of *other* processes
# (``/proc/loadavg``'s instantaneous "running" field minus this process's own running threads,
# which include BLAS's spinning workers) and use the cores they leave idle, at least one.
# An explicit choice always wins: ``$OPENBLAS_NUM_THREADS`` / ``$OMP_NUM_THREADS`` /
# ``$MKL_NUM_THREADS`` (what job schedulers and most clusters set), ``$MINIGAN_BLAS_THREADS=N``, or
# a ``blas_threads(n)`` block. ``MINIGAN_BLAS_THREADS=auto`` (the default) or unset: adaptive.
_AUTO_PERIOD = 0.05
_auto = {"next": 0.0, "current": None, "controllers": None}
_pinned = [0]           # > 0 while a blas_threads(n) block holds the threads


def _auto_enabled():
    if _pinned[0] or not sys.platform.startswith("linux"):
        return False
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").strip():
            return False
    return os.environ.get("MINIGAN_BLAS_THREADS", "auto").strip().lower() in ("", "auto")


def _own_running_threads():
    n = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1][1:2] == b"R":
                    n += 1
    except OSError:
        return 1
    return max(n, 1)


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def idle_cores():
    """Cores not taken by other processes' runnable tasks right now (at least 1)."""
    with open("/proc/loadavg") as fh:
        running = int(fh.read().split()[3].split("/")[0])
    cores = _cores()
    return max(1, min(cores, cores - (running - _own_running_threads())))


def _blas_controllers():
    if _auto["controllers"] is None:
        try:
            from threadpoolctl import ThreadpoolController
            ctl = ThreadpoolController().select(user_api="blas")
            _auto["controllers"] = list(ctl.lib_controllers)
        except (ImportError, OSError, AttributeError, ValueError):   # no threadpoolctl, no BLAS
            _auto["controllers"] = []
    return _auto["controllers"]


def auto_blas_threads(now=None):
    """Called by the GEMM-heavy kernels (convolutions, matmul) before their products: set the
    BLAS thread count to ``idle_cores()`` (at most the cores this process may use), at most
    every ``_AUTO_PERIOD`` seconds. Does nothing when the user chose a number (see above).
    Returns the thread count in use, or None when it was left alone."""
    now = time.monotonic() if now is None else now
    if now < _auto["next"]:
        return _auto["current"]
    _auto["next"] = now + _AUTO_PERIOD
    if not _auto_enabled():
        _auto["current"] = None
        return None
    try:
        ctls = _blas_controllers()
        n = min(idle_cores(), _cores())
    except (OSError, ValueError, IndexError):            # no /proc: leave BLAS alone
        return None
    if n != _auto["current"]:
        for c in ctls:
            c.set_num_threads(n)
        _auto["current"] = n
    return n


class _Pinned:
    """``blas_threads(n)``: threadpoolctl's limit, plus the adaptive default paused."""

    def __init__(self, limiter):
        self._limiter = limiter
        self._active = True
        _pinned[0] += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore_original_limits()
        return False

    def restore_original_limits(self):
        if self._active:
            self._active = False
            _pinned[0] -= 1
            _auto["current"], _auto["next"] = None, 0.0
            self._limiter.restore_original_limits()


def blas_threads(n):
    """A context (and immediate setting) limiting the BLAS library to ``n`` threads.

    The matrices of small networks are too small for several BLAS threads to pay off, and when
    the CPU is shared (tests in parallel, a second run), OpenBLAS's spinning threads made steps
    up to ten times slower here. ``None`` changes nothing (the adaptive default above stays).
    While the block is active the adaptive default is paused. threadpoolctl ships with
    scikit-learn; without it this is a no-op.
    """
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                                   # pragma: no cover
        return contextlib.nullcontext()
    return _Pinned(threadpool_limits(limits=int(n), user_api="blas"))
