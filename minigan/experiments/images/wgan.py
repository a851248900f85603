"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017) on the digits, with the
critic's Wasserstein estimate as a learning curve.

Lecture notes 003/004: the minimax GAN's losses say nothing about sample quality (D's loss
sits near log 4 whether G draws digits or blobs). The WGAN critic f, kept (roughly)
1-Lipschitz, estimates the earth-mover distance

    W(p_data, p_g) ≈ max_f  E_x f(x) - E_z f(G(z)),

and that estimate *does* fall as the samples improve. We measure it: every ``eval_every``
steps, the critic's gap between held-out real digits and a fixed batch of G(z), next to the
Fréchet distance of the same G (``minigan.evaluation.scoring``), and state their correlation.

* ``wgan``: the critic is DCGAN's discriminator (batch norm included, as in the paper), its
  weights clipped to [-0.01, 0.01] after each update; RMSprop 5e-5; 5 critic updates per G
  update.
* ``wgan-gp``: the clipping is replaced by the gradient penalty λ E(||∇f(x̂)|| - 1)², λ = 10,
  at random points x̂ between real and fake (``losses.gradient_penalty``, per-example ε);
  Adam 1e-4 β (0.5, 0.9), 5 critic updates; **no batch norm in the critic** (the penalty is
  per example, batch norm couples the examples of a batch).

The update rule is ``GANTrainer``'s (Algorithm 1 with k = n_critic and the objective's
clip/penalty); ``ImageRun`` runs it and keeps the learning curves.
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...data.images import batch_sampler
from ...gan.models.wgan import Critic
from ...gan.sampling import fixed_z, noise_sampler, recalibrate_batchnorm
from .base import ImageRun

__all__ = ["WGANRun", "WGANGPRun", "curve_correlation"]


def curve_correlation(a, b):
    """Pearson and Spearman correlation of two curves (host floats)."""
    np = backend.np
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan"), float("nan")
    rank = lambda v: np.argsort(np.argsort(v)).astype(float)   # noqa: E731
    return float(np.corrcoef(a, b)[0, 1]), float(np.corrcoef(rank(a), rank(b))[0, 1])


class WGANRun(ImageRun):
    """WGAN with weight clipping (``objective='wgan'``)."""

    name = "wgan"
    defaults = dict(steps=2000, batch_size=64, lr=5e-5, n_critic=5, clip=0.01, z_dim=32,
                    g_width=32, d_width=32, eval_every=100, eval_n=300)
    quick = dict(steps=60, eval_every=15)

    objective = "wgan"

    def _critic(self):
        from ...gan.models.dcgan import DCGANDiscriminator
        return DCGANDiscriminator(self.size, self.config["d_width"])

    def _optimizer(self, params):
        return optim.RMSprop(params, lr=self.config["lr"])

    def build(self):
        from ...gan.models.dcgan import DCGANGenerator
        from ...gan.train import GANTrainer
        c = self.config
        self.G = DCGANGenerator(c["z_dim"], self.size, c["g_width"])
        self.D = self._critic()
        if self.device is not None:
            self.G.to(self.device)
            self.D.to(self.device)
        self.trainer = GANTrainer(
            self.G, self.D, self._optimizer(self.G.parameters()),
            self._optimizer(self.D.parameters()), data=batch_sampler(self.data["x_train"]),
            noise=noise_sampler(c["z_dim"], self.device), objective=self.objective,
            k=c["n_critic"], batch_size=c["batch_size"], clip_value=c.get("clip", 0.01),
            gp_lambda=c.get("gp_lambda", 10.0),
            metrics=(lambda tr: self.evaluate()) if c.get("eval_every") else None,
            metrics_every=c.get("eval_every") or 1, desc=self.name)
        # the fixed batches of the learning curve: held-out real digits and fixed z
        self.eval_real = Tensor(backend.as_array(self.data["x_test"][:c["eval_n"]],
                                                 device=self.device))
        self.eval_z = fixed_z(c["eval_n"], c["z_dim"], self.seed + 7, self.device)

    def evaluate(self):
        """W estimate = mean f(held-out real) - mean f(G(fixed z)), and the Fréchet distance
        of G(fixed z); modules in train mode as in training, batch-norm buffers restored."""
        saved = [(b, b.array.copy()) for m in (self.G, self.D) for b in m.buffers()]
        with no_grad():
            fake = self.G(self.eval_z)
            w = float(self.D(self.eval_real).array.mean() - self.D(fake).array.mean())
        for b, v in saved:
            b.array[...] = v
        return {"wasserstein": w, "frechet": self.frechet_of(self.G, self.eval_z)}

    def sample_generators(self):
        from ...gan.models.dcgan import DCGANGenerator
        c = self.config
        G = DCGANGenerator(c["z_dim"], self.size, c["g_width"])
        if self.device is not None:
            G.to(self.device)
        G.load_state_dict(self.G.state_dict())
        return {self.name: (recalibrate_batchnorm(G, noise_sampler(c["z_dim"], self.device)),
                            c["z_dim"])}

    def extra(self, scorer, report):
        from ...plots import images as P2
        ev = self.history["metrics"]
        steps = [e["step"] for e in ev]
        w = [e["wasserstein"] for e in ev]
        fd = [e["frechet"] for e in ev]
        pearson, spearman = curve_correlation(w, fd)
        report["curve_steps"], report["curve_wasserstein"], report["curve_frechet"] = steps, w, fd
        report["wasserstein_frechet_pearson"] = pearson
        report["wasserstein_frechet_spearman"] = spearman
        report["final_wasserstein"] = w[-1] if w else float("nan")
        # The estimate is a (lower-bound) distance only once the critic has caught up: from an
        # untrained critic (0 at step 0) it first *rises* while the critic learns. From its
        # peak on, it tracks the generator.
        peak = int(backend.np.argmax(w)) if w else 0
        p_late, s_late = curve_correlation(w[peak:], fd[peak:])
        report["warmup_end_step"] = steps[peak] if steps else 0
        report["wasserstein_frechet_pearson_after_warmup"] = p_late
        report["wasserstein_frechet_spearman_after_warmup"] = s_late
        print(f"{self.name}: W estimate vs Fréchet distance over {len(ev)} evaluations: "
              f"Pearson r = {pearson:.3f}, Spearman ρ = {spearman:.3f}; after the critic's "
              f"warm-up (from step {report['warmup_end_step']}, {len(w) - peak} points): "
              f"r = {p_late:.3f}, ρ = {s_late:.3f}")
        report["figures"].append(P2.wasserstein_curve_figure(
            self.out / "wasserstein_curve.png", self.history["step"],
            # -d_loss: the critic's own (training-batch) estimate E f(x) - E f(G(z)) (+ penalty)
            [-v for v in self.history["d_loss"]], steps, w, fd,
            title=f"{self.name}: critic's W estimate vs Fréchet distance: Pearson r = "
                  f"{pearson:.2f} (all), {p_late:.2f} (from step {report['warmup_end_step']})"))


class WGANGPRun(WGANRun):
    """WGAN-GP: gradient penalty λ = 10, Adam 1e-4 β (0.5, 0.9), critic without batch norm."""

    name = "wgan-gp"
    defaults = dict(steps=2000, batch_size=64, lr=1e-4, n_critic=5, gp_lambda=10.0, z_dim=32,
                    g_width=32, d_width=32, eval_every=100, eval_n=300)
    quick = dict(steps=40, eval_every=10)

    objective = "wgan-gp"

    def _critic(self):
        return Critic(self.size, self.config["d_width"])

    def _optimizer(self, params):
        return optim.Adam(params, lr=self.config["lr"], betas=(0.5, 0.9))
