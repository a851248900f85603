"""Adam (Kingma & Ba 2015), the optimizer of DCGAN and most GANs since (with β1 = 0.5).

PyTorch's update, exactly (t = step count starting at 1)::

    g  ← g + λ·p                                     (L2 weight decay, *not* AdamW)
    m  ← m + (1 - β1)·(g - m)                        (= β1·m + (1 - β1)·g)
    v  ← β2·v + (1 - β2)·g²
    v̂max ← max(v̂max, v)                              (amsgrad only; then use v̂max for v)
    p  ← p - (lr / (1 - β1^t)) · m / (√v / √(1 - β2^t) + eps)

The bias corrections undo the zero initialisation of m and v; eps is added *after* the
square root and the correction, which is why the numbers differ slightly from the paper's
algorithm box.
"""
from __future__ import annotations

import math

from .. import backend
from .optimizer import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if not lr >= 0.0:      # (NaN fails every comparison)
            raise ValueError(f"invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"invalid beta parameters: {betas}")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _step_param(self, p, g, group):
        xp = backend.xp_of(p.array)
        beta1, beta2 = group["betas"]
        state = self._count_step(p)
        m = self._state_array(state, "exp_avg", p.array)
        v = self._state_array(state, "exp_avg_sq", p.array)
        if group["amsgrad"]:
            vmax = self._state_array(state, "max_exp_avg_sq", p.array)
        t = state["step"]
        self._lerp_(m, g, 1 - beta1)
        # The same operations as the formulas above, in one scratch buffer (out=) instead of
        # six fresh temporaries per parameter.
        tmp = xp.multiply(g, g)
        v *= beta2
        tmp *= 1 - beta2
        v += tmp
        for key in ("exp_avg", "exp_avg_sq"):
            state[key]._bump_version()
        bc2_sqrt = math.sqrt(1 - beta2 ** t)
        step_size = group["lr"] / (1 - beta1 ** t)
        if group["amsgrad"]:
            xp.maximum(vmax, v, out=vmax)
        denom = xp.sqrt(vmax if group["amsgrad"] else v, out=tmp)
        denom /= bc2_sqrt
        denom += group["eps"]
        update = xp.divide(m, denom, out=denom)        # m / denom
        update *= step_size
        xp.subtract(p.array, update, out=p.array)
        p._bump_version()
