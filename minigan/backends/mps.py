"""``torch.backends.mps``: Apple's Metal GPUs, which minigan does not run on.

Recent PyTorch scripts choose their device with
``"cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else
"cpu"``; here the answer is always no, so such a script falls through to the CPU.
"""
from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: minigan computes with NumPy (CPU) or CuPy (NVIDIA GPU), never with Metal."""
    return False


def is_built() -> bool:
    """False: there is no Metal support to build."""
    return False
