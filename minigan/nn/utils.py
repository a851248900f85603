"""Helpers around modules and gradients (``minigan.nn.utils``), as in ``torch.nn.utils``.

``clip_grad_norm_`` rescales all gradients together so that their joint norm is at most
``max_norm``: the direction of the step is kept, only its length is capped. (GAN training
sometimes uses it to survive an occasional exploding discriminator gradient.)
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Tensor
from .gan_layers import remove_spectral_norm, spectral_norm  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "spectral_norm",
           "remove_spectral_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    return params


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients so that ‖(g_1, ..., g_k)‖ ≤ max_norm; return the norm before.

    The total norm is the norm of the per-parameter norms (what PyTorch computes); each
    gradient is multiplied by min(1, max_norm / (total + 1e-6)). The ``.grad`` tensors are
    replaced, never changed in place (another tensor may share the old array).
    """
    params = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return Tensor(backend.np.array(0.0, dtype=backend.get_default_dtype()))
    xp = backend.xp_of(params[0].grad.array)
    if math.isinf(norm_type):
        norms = [xp.abs(p.grad.array).max() for p in params]
        total = xp.max(xp.stack(norms))
    else:
        norms = [(xp.abs(p.grad.array) ** norm_type).sum() ** (1.0 / norm_type) for p in params]
        total = (xp.stack(norms) ** norm_type).sum() ** (1.0 / norm_type)
    total_f = float(total)
    if error_if_nonfinite and not math.isfinite(total_f):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is "
                           f"{total_f}, so they cannot be clipped (error_if_nonfinite=True)")
    coef = min(max_norm / (total_f + 1e-6), 1.0)
    for p in params:
        g = p.grad.array
        p.grad = Tensor(g * g.dtype.type(coef))
    return Tensor(total)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value]."""
    for p in _grads(parameters):
        xp = backend.xp_of(p.grad.array)
        p.grad = Tensor(xp.clip(p.grad.array, -clip_value, clip_value))


def parameters_to_vector(parameters):
    """All parameters concatenated into one 1-D Tensor (a copy)."""
    params = list(parameters)
    xp = backend.xp_of(params[0].array)
    return Tensor(xp.concatenate([p.array.reshape(-1) for p in params]))
