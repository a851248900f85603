"""Stochastic gradient descent with momentum (Goodfellow et al. trained their GANs with it).

PyTorch's update, exactly (g = gradient, μ = momentum, τ = dampening, λ = weight decay)::

    g  ← g + λ·p                              (L2 weight decay)
    b  ← g                   at the first step
    b  ← μ·b + (1 - τ)·g     afterwards         (the momentum buffer)
    g  ← g + μ·b  (nesterov)   or   g ← b
    p  ← p - lr·g

Note the first step copies g into b (no dampening): Sutskever et al.'s form, not the
"velocity = lr·g" form of some textbooks; learning rate and momentum interact differently.
"""
from __future__ import annotations

from ..autograd import Tensor
from .optimizer import Optimizer, required

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr is not required and not lr >= 0.0:
            raise ValueError(f"invalid learning rate: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _step_param(self, p, g, group):
        mu, tau = group["momentum"], group["dampening"]
        if mu != 0:
            state = self.state.setdefault(p, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor(g.copy())
            else:
                buf.array[...] = buf.array * mu + (1 - tau) * g
            g = g + mu * buf.array if group["nesterov"] else buf.array
        self._update(p, p.array - group["lr"] * g)
