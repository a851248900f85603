"""RMSprop (Hinton's lecture 6e): divide the gradient by a running RMS of recent gradients.
WGAN (Arjovsky et al. 2017) trained its critic with it, because momentum-based methods were
unstable with weight clipping.

PyTorch's update, exactly (α = alpha, μ = momentum, λ = weight decay)::

    g  ← g + λ·p
    s  ← α·s + (1 - α)·g²                          (square_avg)
    centered:  ḡ ← ḡ + (1 - α)·(g - ḡ),  d = √(s - ḡ²) + eps
    otherwise: d = √s + eps
    μ > 0:     b ← μ·b + g / d,  p ← p - lr·b
    otherwise: p ← p - lr·g / d
"""
from __future__ import annotations

from .. import backend
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        if not lr >= 0.0:      # (NaN fails every comparison)
            raise ValueError(f"invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"invalid epsilon value: {eps}")
        if not momentum >= 0.0:
            raise ValueError(f"invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay value: {weight_decay}")
        if not alpha >= 0.0:
            raise ValueError(f"invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _step_param(self, p, g, group):
        xp = backend.xp_of(p.array)
        alpha, eps, mu, lr = group["alpha"], group["eps"], group["momentum"], group["lr"]
        state = self._count_step(p)
        s = self._state_array(state, "square_avg", p.array)
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            ga = self._state_array(state, "grad_avg", p.array)
            self._lerp_(ga, g, 1 - alpha)
            avg = xp.sqrt(s - ga * ga) + eps
        else:
            avg = xp.sqrt(s) + eps
        if mu > 0:
            buf = self._state_array(state, "momentum_buffer", p.array)
            buf *= mu
            buf += g / avg
            self._update(p, p.array - lr * buf)
        else:
            self._update(p, p.array - lr * (g / avg))
