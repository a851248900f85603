"""``minigan.backends``: the ``torch.backends`` switches that scripts set, kept as no-ops.

PyTorch scripts often write ``torch.backends.cudnn.benchmark = True`` or ask
``torch.backends.mps.is_available()``. minigan uses neither cuDNN nor Apple's MPS (its
convolutions are im2col and one matrix product, on NumPy or CuPy), so these modules only hold
the attributes, settable and without effect, for such scripts to run unchanged.
"""
from . import cudnn, mps  # noqa: F401

__all__ = ["cudnn", "mps"]
