"""Experiments the theory lessons and the ``toy`` command share.

* ``measure_optimal_discriminator``: outcomes (a) and (b) of the theory lab -- a D trained to
  convergence against fixed p_g, compared with D* = p_data / (p_data + p_g) and C(G);
* ``measure_saturation``: the per-example gradient of both generator losses at the current D;
* ``GeneratorDistribution``: a frozen generator used as a fixed p_g sampler.

Host-side (NumPy arrays for densities and figures); the training runs on the engine.
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["measure_optimal_discriminator", "measure_saturation", "GeneratorDistribution"]


def measure_optimal_discriminator(data, family, x, steps, batch, device=None, progress=False,
                                  n_samples=100_000):
    """Outcomes (a) and (b): a D trained to convergence against each fixed p_g in ``family``."""
    from minigan import gan, optim, theory
    rows, fits = [], []
    rng = np.random.default_rng(12345)
    for label, pg in family:
        t0 = time.perf_counter()
        D = gan.mlp_discriminator(hidden=64, activation="tanh", shift=float(data.mean()),
                                  scale=1.0).to(device or "cpu")
        opt = optim.Adam(D.parameters(), lr=3e-3)
        gan.fit_discriminator(D, opt, data, pg, steps=steps, batch_size=batch, progress=progress)
        d_fn = gan.as_numpy_fn(D, device=device)
        p_data, p_g = data.pdf(x), pg.pdf(x)
        d_star = theory.optimal_discriminator(p_data, p_g)
        d = 1.0 / (1.0 + np.exp(-d_fn(x)))
        total = p_data + p_g
        err = np.abs(d - d_star)
        c = theory.virtual_criterion(p_data, p_g, x)
        v = theory.value_from_logits(d_fn(data.sample_numpy(n_samples, rng)),
                                     d_fn(pg.sample_numpy(n_samples, rng)))
        row = dict(label=label, max_err=float(err[total >= 0.05].max()),
                   mean_err=float(err[total >= 0.01].mean()), jsd=theory.jsd(p_data, p_g, x),
                   c_of_g=c, v_trained=v, seconds=time.perf_counter() - t0)
        rows.append(row)
        fits.append(dict(row, x=x, p_data=p_data, p_g=p_g, d=d, d_star=d_star))
    return rows, fits


def measure_saturation(trainer, data, noise, device, n=256):
    """|dL/dt| per example for both G losses at the current D and G (t = D's logit)."""
    import minigan
    from minigan.gan import losses as L
    out = {}
    with minigan.no_grad():
        fake = trainer.G(noise.sample(n, device=device))
    logits = trainer.D(fake).detach()
    for name, fn in (("gan", L.g_loss_saturating), ("nsgan", L.g_loss_nonsaturating)):
        t = minigan.tensor(logits.numpy(), requires_grad=True)
        (g,) = minigan.grad(fn(t) * float(n), t)      # undo the batch mean: per example
        dgz = 1 / (1 + np.exp(-logits.numpy().ravel().astype(np.float64)))
        out[name] = (dgz, np.abs(g.numpy().ravel()))
    return out


class GeneratorDistribution:
    """A frozen generator as a sampler (for fitting D against a fixed p_g)."""

    def __init__(self, G, noise, device):
        self.G, self.noise, self.device = G, noise, device

    def sample(self, n, device=None):
        import minigan
        with minigan.no_grad():
            return self.G(self.noise.sample(n, device=device or self.device))
