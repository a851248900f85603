"""``torch.backends.cudnn``'s switches, settable and without effect in minigan.

minigan does not call cuDNN: a convolution is an im2col view and one matrix product, the same
code on NumPy and CuPy. So there is no autotuner for ``benchmark`` to turn on, and the results
are deterministic whatever ``deterministic`` says (a CPU run repeats bit for bit after
``minigan.manual_seed``). The attributes exist so that ``cudnn.benchmark = True`` in a ported
script runs; reading them back gives what was set.
"""
from __future__ import annotations

__all__ = ["benchmark", "deterministic", "enabled", "allow_tf32", "is_available", "version"]

benchmark = False        # PyTorch: let cuDNN time its algorithms per shape. No effect here.
deterministic = True     # PyTorch: only deterministic cuDNN algorithms. minigan has no others.
enabled = True           # PyTorch: use cuDNN at all. No effect here.
allow_tf32 = False       # PyTorch: TF32 tensor cores in cuDNN convolutions. No effect here.


def is_available() -> bool:
    """False: minigan never calls cuDNN (even on a GPU, where CuPy does the maths)."""
    return False


def version():
    """None, as PyTorch answers when cuDNN is not available."""
    return None
