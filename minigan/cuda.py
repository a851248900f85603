"""``minigan.cuda``: the ``torch.cuda`` calls that training scripts make, answered for CuPy.

minigan reaches an NVIDIA GPU through CuPy (``minigan.backend`` is the one module that imports
it), so "CUDA is available" means: CuPy imports *and* it sees a usable GPU. The usual
device line of a PyTorch script then works unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

Seeding: minigan gives every device its own stream from one seed (the CPU from s, cuda:N from
s + 1 + N), and ``minigan.manual_seed(s)`` seeds them all, as ``torch.manual_seed`` does.
``cuda.manual_seed(s)`` and ``cuda.manual_seed_all(s)`` seed the GPU streams only and leave the
CPU's where it was, as in PyTorch; with one seed for all GPUs the two are the same call.
Nothing here imports CuPy on a machine without it: every answer goes through the backend.
"""
from __future__ import annotations

from . import backend
from .creation import _legacy_type

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "current_device",
           "get_device_name", "synchronize", "empty_cache", "FloatTensor", "DoubleTensor",
           "LongTensor", "IntTensor", "BoolTensor"]


def is_available() -> bool:
    """True when CuPy imports and at least one GPU is usable (driver and device present)."""
    return backend.cupy_available() and device_count() > 0


def device_count() -> int:
    """The number of GPUs CuPy sees; 0 without CuPy or without a GPU."""
    if not backend.cupy_available():
        return 0
    return int(backend.get_xp("cuda").cuda.runtime.getDeviceCount())


def _cupy(what):
    """CuPy, or PyTorch's kind of error when there is no usable GPU."""
    if not is_available():
        raise RuntimeError(f"cuda.{what}: no usable GPU ({backend.cupy_error()}); "
                           "check minigan.cuda.is_available() first")
    return backend.get_xp("cuda")


def manual_seed(seed):
    """Seed the GPU generators (all of them: minigan derives each GPU's stream from one seed);
    the CPU's stream is left as it was. Works, and is remembered, without a GPU too."""
    cpu_state = backend.get_rng_state("cpu")
    backend.manual_seed(seed)            # reseeds every device and sets the seed for new ones
    backend.set_rng_state(cpu_state, "cpu")


def manual_seed_all(seed):
    """Seed every GPU's generator: the same as ``manual_seed`` (one seed serves all GPUs)."""
    manual_seed(seed)


def current_device() -> int:
    """The index of the GPU that CuPy currently works on."""
    return int(_cupy("current_device").cuda.Device().id)


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3' (``device``: an index, 'cuda:N' or None
    for the current GPU)."""
    cp = _cupy("get_device_name")
    if device is None:
        index = cp.cuda.Device().id
    elif isinstance(device, int):
        index = device
    else:
        index = backend.Device(device).index
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None):
    """Wait until the GPU has finished all queued work (for timing: GPU calls return early)."""
    cp = _cupy("synchronize")
    index = cp.cuda.Device().id if device is None else (
        device if isinstance(device, int) else backend.Device(device).index)
    cp.cuda.Device(index).synchronize()


def empty_cache():
    """Give the blocks CuPy's memory pool keeps for reuse back to the driver (so that other
    programs see the memory free); a no-op without a GPU, as in PyTorch."""
    if not is_available():
        return
    pool = getattr(backend.get_xp("cuda"), "get_default_memory_pool", None)
    if pool is not None:
        pool().free_all_blocks()


# The legacy type constructors on the GPU: old scripts write
# ``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor``.
FloatTensor = _legacy_type("FloatTensor", "float32", device="cuda")
DoubleTensor = _legacy_type("DoubleTensor", "float64", device="cuda")
LongTensor = _legacy_type("LongTensor", "int64", device="cuda")
IntTensor = _legacy_type("IntTensor", "int32", device="cuda")
BoolTensor = _legacy_type("BoolTensor", "bool", device="cuda")
