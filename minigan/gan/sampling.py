"""Sampling a trained generator: fixed codes, batched evaluation, batch norm re-estimated.

**Batch norm at sampling time.** A DCGAN generator has batch norm. In training it
normalises with the statistics of the *current* batch; at sampling time we want a fixed
function of z (``eval()`` mode, running statistics). The running averages, though, mix
statistics from generators of many past steps. So before sampling we *re-estimate* them for
the final weights with a cumulative average over a few dozen batches of fresh z
(``recalibrate_batchnorm``): cheap, and essential for a moving average of G, whose weights
never ran a forward pass in training.
"""
from __future__ import annotations

from .. import backend, nn
from ..autograd import Tensor, no_grad

__all__ = ["SAMPLE_SEED_OFFSET", "fixed_z", "noise_sampler", "recalibrate_batchnorm",
           "generate"]

np = backend.np

# Scored samples draw their z from a stream of their own, seed + SAMPLE_SEED_OFFSET, apart
# from training's: a resumed run, or a run of another length, is scored on the same z.
SAMPLE_SEED_OFFSET = 10_000


def fixed_z(n, z_dim, seed, device=None):
    """n codes from their own seeded stream (independent of training's RNG)."""
    z = np.random.default_rng(seed).standard_normal((n, z_dim))
    return Tensor(backend.as_array(z.astype(backend.get_default_dtype()), device=device))


def noise_sampler(z_dim, device):
    """n -> (n, z_dim) standard normal codes from minigan's seeded generator."""
    from .. import creation

    def sample(n):
        return creation.randn(n, z_dim, device=device)
    return sample


def recalibrate_batchnorm(model, make_input, batches=40, batch_size=128):
    """Re-estimate every BatchNorm's running mean/variance for the model's current weights:
    a cumulative average (momentum=None) over ``batches`` forward passes in train mode, then
    ``eval()``. ``make_input(n)`` draws the inputs (z for a generator)."""
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    if not bns:
        model.eval()
        return model
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with no_grad():
        for _ in range(batches):
            model(make_input(batch_size))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()
    return model


def generate(model, z, batch=500):
    """G(z) in eval mode, in batches, as a host float32 array."""
    model.eval()
    out = []
    with no_grad():
        for i in range(0, z.shape[0], batch):
            out.append(backend.to_numpy(model(Tensor(z.array[i:i + batch])).array))
    return np.concatenate(out).astype(np.float32)
