"""``cupy.cuda``: the device, its properties and the runtime calls minigan makes.

The stand-in has one device, ``cuda:0``; ``CUPY_STANDIN_DEVICES=0`` makes it behave like CuPy
on a machine without a GPU (``getDeviceCount`` raises ``CUDARuntimeError``), so the message a
user without a GPU sees can be tested.
"""
from __future__ import annotations

import os

from ._core import CUDARuntimeError

_current = [0]


def _count():
    n = int(os.environ.get("CUPY_STANDIN_DEVICES", "1"))
    if n <= 0:
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    return n


class runtime:
    """``cupy.cuda.runtime`` (the calls minigan uses)."""

    CUDARuntimeError = CUDARuntimeError
    is_hip = False

    @staticmethod
    def getDeviceCount():
        return _count()

    @staticmethod
    def getDeviceProperties(device):
        if not 0 <= int(device) < _count():
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        return {"name": b"CuPy stand-in (NumPy on the CPU)", "totalGlobalMem": 0,
                "multiProcessorCount": 1, "major": 0, "minor": 0}

    @staticmethod
    def runtimeGetVersion():
        return 0

    @staticmethod
    def driverGetVersion():
        return 0

    @staticmethod
    def deviceSynchronize():
        _count()

    @staticmethod
    def memGetInfo():
        return 0, 0


class Device:
    """A CUDA device; ``with Device(i):`` makes it current."""

    def __init__(self, device=None):
        self.id = _current[0] if device is None else int(device)
        if not 0 <= self.id < _count():
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._prev = []

    def __enter__(self):
        self._prev.append(_current[0])
        _current[0] = self.id
        return self

    def __exit__(self, *exc):
        _current[0] = self._prev.pop()
        return False

    def use(self):
        _current[0] = self.id

    def synchronize(self):
        """Nothing to wait for: every stand-in call has finished when it returns."""

    @property
    def compute_capability(self):
        return "00"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


def is_available():
    try:
        return _count() > 0
    except CUDARuntimeError:
        return False


def get_device_id():
    return _current[0]


class Event:
    """A CUDA event: on the stand-in, the host clock at ``record()`` (work is synchronous)."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._t = None

    def record(self, stream=None):
        import time
        self._t = time.perf_counter()

    def synchronize(self):
        pass


def get_elapsed_time(start_event, end_event):
    """Milliseconds between two recorded events, as ``cupy.cuda.get_elapsed_time``."""
    return (end_event._t - start_event._t) * 1e3
