"""Dropout: during training, zero each element with probability p and scale the survivors.

"Inverted" dropout multiplies the kept elements by 1 / (1 - p) at training time, so that the
expected value of every element is unchanged and evaluation needs no rescaling at all: in
``training=False`` dropout is the identity. The mask comes from the device's generator
(``backend.generator``), so ``minigan.manual_seed`` makes it repeat. The gradient is the same
mask times the same scale: the op is ``x * m`` for a constant m, differentiable to any order.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor

__all__ = ["dropout"]


def dropout(input, p=0.5, training=True):
    """``F.dropout``: zero elements with probability ``p`` (training only), scale by 1/(1-p)."""
    if isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    p = float(p)
    if not training or p == 0.0:
        return input
    xp = backend.xp_of(input.data)
    if p == 1.0:
        return input * Tensor(xp.zeros(input.shape, dtype=input.dtype))
    keep = backend.generator(input.device).random(input.shape) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor(mask)
