"""Dropout: during training, zero each element with probability p and scale the survivors.

"Inverted" dropout multiplies the kept elements by 1 / (1 - p) at training time, so that the
expected value of every element is unchanged and evaluation needs no rescaling at all: in
``training=False`` dropout is the identity. The mask comes from the device's generator
(``backend.generator``), so ``minigan.manual_seed`` makes it repeat. The gradient is the same
mask times the same scale: the op is ``x * m`` for a constant m, differentiable to any order.

``dropout2d`` drops whole channels instead (Tompson et al. 2015): neighbouring pixels of a
feature map are strongly correlated, so zeroing single pixels hardly removes information,
while zeroing a whole map does. It draws one Bernoulli per (sample, channel) and broadcasts
it over the spatial positions.
"""
from __future__ import annotations

import warnings

from .. import backend
from ..autograd import Tensor

__all__ = ["dropout", "dropout2d"]


def _check_p(name, p):
    if isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{name}: probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input, p=0.5, training=True):
    """``F.dropout``: zero elements with probability ``p`` (training only), scale by 1/(1-p)."""
    p = _check_p("dropout", p)
    if not training or p == 0.0:
        return input
    xp = backend.xp_of(input.array)
    if p == 1.0:
        return input * Tensor(xp.zeros(input.shape, dtype=input.dtype))
    keep = backend.generator(input.device).random(input.shape) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor(mask)


def _uniform_on(device, shape):
    """Uniform draws in [0, 1) made on ``device`` by that device's generator (on a GPU inside
    the device's context, so the mask is born where the input lives)."""
    gen = backend.generator(device)
    if device.type == "cpu":
        return gen.random(shape)
    with device.xp.cuda.Device(device.index):
        return gen.random(shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """``F.dropout2d``: zero whole channels with probability ``p`` (training only), scale the
    kept ones by 1/(1-p); the identity in evaluation.

    The input is (N, C, H, W). As in PyTorch, a 3-D input is read as (N, C, L) (channel-wise
    1-D dropout), with PyTorch's warning, and other ranks from 2 up work with a warning.
    ``inplace`` is accepted for PyTorch's signature; the result is always a new tensor.
    """
    p = _check_p("dropout2d", p)
    if input.ndim < 2:
        raise ValueError(f"dropout2d: feature dropout needs an input with at least 2 "
                         f"dimensions (N, C, ...), got shape {input.shape}")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated in PyTorch; dropout2d is for (N, C, H, W) inputs",
                      stacklevel=2)
    elif input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim (as PyTorch does)",
                      stacklevel=2)
    if not training or p == 0.0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if p == 1.0:
        xp = backend.xp_of(input.array)
        return input * Tensor(xp.zeros(mask_shape, dtype=input.dtype))
    keep = _uniform_on(input.device, mask_shape) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor(mask)
