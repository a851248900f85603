"""An exponential moving average of a model's weights (Polyak/EMA averaging of G).

GAN training does not converge to a point: G and D circle each other, so the latest G is one
point on an orbit and carries the noise of the last few updates. Yazıcı et al. (2019, "The
unusual effectiveness of averaging in GAN training") average G's weights over the orbit,

    theta_ema <- beta * theta_ema + (1 - beta) * theta        after every generator step,

which sits near the orbit's centre. It costs one extra copy of G and changes nothing in
training: the averaged G is only *read* (sampled, scored). ``1 / (1 - beta)`` is roughly how
many recent steps it remembers (beta 0.99: ~100 steps; 0.999: ~1000).

What it can and cannot do, measured on the 1-D toy (``minigan toy --ema``): a WGAN-GP at a
constant high learning rate swings its mass from side to side, and the final G is a snapshot
mid-swing; the averaged G is not (all 4 modes in 10/10 seeds instead of 6/10). A collapsed
minimax GAN has no missing mode on its orbit to average in: 3/10 with EMA against 4/10
without. Averaging cures oscillation, not collapse.
"""
from __future__ import annotations

import math

from ..autograd import no_grad

__all__ = ["EMA"]


class EMA:
    """theta_ema <- beta·theta_ema + (1 - beta)·theta after every step, for a copy of a model.

    ``model`` is the trained module, ``copy`` a module of the same architecture that holds the
    average (``copy.deepcopy(model)`` does). The effective decay warms up as
    min(beta, (1 + t)/(10 + t)), so the average is not dominated by the random initial weights
    in short runs. The warm-up is slow: beta = 0.999 takes effect only after 8990 updates
    (``updates_to_reach``), and in a shorter run every beta above (1 + T)/(10 + T) gives the
    same average (6000 steps: any beta above 0.9985). Buffers (batch-norm running statistics)
    are copied, not averaged; ``gan.sampling.recalibrate_batchnorm`` re-estimates them for the
    averaged weights.
    """

    def __init__(self, model, copy, beta=0.999):
        if not 0.0 < float(beta) < 1.0:
            raise ValueError(f"EMA: beta must be in (0, 1), got {beta}")
        self.model, self.shadow, self.beta = model, copy, float(beta)
        self.shadow.load_state_dict(model.state_dict())
        self.updates = 0

    def decay(self, t=None):
        """The decay used at update ``t`` (default: the last one made)."""
        t = self.updates if t is None else t
        return min(self.beta, (1.0 + t) / (10.0 + t))

    def updates_to_reach(self):
        """How many updates the warm-up takes to reach beta: (1 + t)/(10 + t) >= beta."""
        return max(0, math.ceil((10.0 * self.beta - 1.0) / (1.0 - self.beta) - 1e-9))

    def update(self):
        self.updates += 1
        b = self.decay()
        with no_grad():
            for ps, p in zip(self.shadow.parameters(), self.model.parameters()):
                ps.array *= b
                ps.array += (1.0 - b) * p.array
            for bs, bm in zip(self.shadow.buffers(), self.model.buffers()):
                bs.array[...] = bm.array

    def state_dict(self):
        return {"shadow": self.shadow.state_dict(), "updates": self.updates, "beta": self.beta}

    def load_state_dict(self, state):
        self.shadow.load_state_dict(state["shadow"])
        self.updates = int(state["updates"])
