"""Algorithm 1 of Goodfellow et al. (2014): minibatch stochastic gradient training of a GAN.

    for number of training iterations:
        for k steps:
            sample m noise vectors z ~ p_z and m examples x ~ p_data
            update D by *ascending* its stochastic gradient of
                1/m sum [log D(x_i) + log(1 - D(G(z_i)))]
        sample m noise vectors z ~ p_z
        update G by *descending* its stochastic gradient of
                1/m sum log(1 - D(G(z_i)))          (or the non-saturating -log D(G(z_i)))

(lecture notes 000, "Algorithm 1"). ``GANTrainer`` is that loop, with what a real run needs:

* any objective from ``minigan.gan.losses`` (minimax, non-saturating, WGAN with clipping or
  gradient penalty, hinge, least squares) and any optimizer;
* ``k`` discriminator steps per generator step;
* a history: the losses, mean D(x) and mean D(G(z)) every step, and any *metrics* you pass
  (the JSD between p_g and p_data when both densities are known) every ``metrics_every``.

It is a ``minigan.gan.loop.Trainer``: the progress bar, the NaN guard, callbacks,
checkpoints and ``resume`` are the one training loop's, shared with every other model.
``train(n)`` runs n *more* steps, so "train 500, save, resume, train 500" equals "train 1000".
"""
from __future__ import annotations

import contextlib

from .. import backend
from ..autograd import no_grad
from ..ops import elementwise as E
from ..ops import reduce as R
from .loop import NonFiniteLossError, Trainer, every
from .losses import LazyR1, clip_weights, d_loss_minimax, get_objective, gradient_penalty
from .techniques import HistoricalAverage, d_loss_one_sided_smoothing, feature_matching_loss

__all__ = ["GANTrainer", "NonFiniteLossError", "every", "fit_discriminator", "frozen"]


def _sampler(source, what):
    """``source`` is a toy Distribution (has ``.sample(n, device)``) or a callable n -> Tensor."""
    if hasattr(source, "sample"):
        return lambda n, device: source.sample(n, device=device)
    if callable(source):
        return lambda n, device: source(n)
    raise TypeError(f"GANTrainer: {what} must be a distribution with .sample(n) or a callable "
                    f"n -> Tensor, not {type(source).__name__}")


def _device_of(module):
    params = list(module.parameters())
    return params[0].device if params else backend.default_device()


@contextlib.contextmanager
def frozen(module):
    """Switch off ``requires_grad`` on ``module``'s parameters for the block, then restore each
    parameter's own flag (a parameter frozen on purpose stays frozen)."""
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield module
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


class GANTrainer(Trainer):
    """Train ``generator`` against ``discriminator`` with Algorithm 1.

    Parameters
    ----------
    generator, discriminator : nn.Module
        G maps a (N, z_dim) noise batch to samples; D maps samples to one logit (or critic
        score) per example, shape (N, 1) or (N,).
    g_optimizer, d_optimizer : optimizers over G's and D's parameters (any ``minigan.optim``).
    data, noise : a ``minigan.data.toy`` distribution (``.sample(n, device)``) or a callable
        ``n -> Tensor``. Sample through minigan's seeded generator for reproducible runs.
    objective : "gan" (saturating minimax), "nsgan", "wgan", "wgan-gp", "hinge", "lsgan",
        or a ``losses.Objective``.
    k : discriminator steps per generator step (Algorithm 1's k; WGAN uses 5).
    batch_size : m, the minibatch size of both players.
    clip_value : WGAN's weight clipping bound c. gp_lambda : WGAN-GP's λ.
    r1_gamma : γ of the R1 penalty γ/2 E||∇D(x)||² on real data (``losses.r1_penalty``;
        0 = off). r1_every : apply it on every r1_every-th D update only, with γ scaled by
        r1_every ("lazy" R1, as StyleGAN2): the double backward is the expensive part. Like
        WGAN-GP's penalty it is part of the logged ``d_loss``. ``UnrolledGANTrainer``'s
        look-ahead steps do not include it (G would plan against a different D): use R1
        with the plain trainer.
    g_ema : beta of an exponential moving average of G's weights (``gan.ema.EMA``; 0 = off),
        updated after every generator step and kept in ``trainer.G_ema`` (a copy of G that is
        only read: sample it, score it). Averaging cancels G's oscillation around an
        equilibrium; it does not bring back a mode that G has collapsed away from.
    g_ema_copy : the module that holds the average (default ``copy.deepcopy(generator)``).
    label_smoothing, feature_matching, historical_averaging : three of Salimans et al.'s
        improved techniques (``minigan.gan.techniques``): D's target for real data is
        1 - label_smoothing (one-sided; probabilistic objectives only); G matches the mean of
        D's ``features(x)`` on real and fake batches instead of its objective's G loss; each
        player's loss gets historical_averaging · ||θ - θ̄||², θ̄ its past parameters' mean.
        All off by default.
    The rest (metrics, callbacks, checkpoints, progress, schedulers) are ``Trainer``'s.
    """

    history_keys = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, data, noise,
                 objective="nsgan", k=1, batch_size=128, clip_value=0.01, gp_lambda=10.0,
                 r1_gamma=0.0, r1_every=1, g_ema=0.0, g_ema_copy=None, device=None,
                 metrics=None, metrics_every=100, callbacks=(), checkpoint_path=None,
                 checkpoint_every=None, progress=None, schedulers=(), desc="GAN",
                 label_smoothing=0.0, feature_matching=False, historical_averaging=0.0):
        if int(k) < 1:
            raise ValueError(f"GANTrainer: k (discriminator steps per generator step) must be "
                             f">= 1, got {k}")
        if int(batch_size) < 1:
            raise ValueError(f"GANTrainer: batch_size must be >= 1, got {batch_size}")
        if not 0.0 <= float(g_ema) < 1.0:
            raise ValueError(f"GANTrainer: g_ema (the average's decay beta) must be in [0, 1), "
                             f"0 = off; got {g_ema}")
        ema = None
        if g_ema:
            import copy

            from .ema import EMA
            ema = EMA(generator, g_ema_copy if g_ema_copy is not None
                      else copy.deepcopy(generator), g_ema)
        tricks = _techniques(generator, discriminator, get_objective(objective),
                             label_smoothing, feature_matching, historical_averaging)
        super().__init__({"generator": generator, "discriminator": discriminator,
                          **tricks["histories"]},
                         {"generator": g_optimizer, "discriminator": d_optimizer},
                         schedulers=schedulers, ema=ema, metrics=metrics,
                         metrics_every=metrics_every, callbacks=callbacks,
                         checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every,
                         progress=progress, desc=desc)
        self.G, self.D = generator, discriminator
        self.G_ema = ema.shadow if ema is not None else None
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_data = _sampler(data, "data")
        self.sample_noise = _sampler(noise, "noise")
        self.objective = get_objective(objective)
        self.label_smoothing = float(label_smoothing)
        self.feature_matching = bool(feature_matching)
        self.g_history = tricks["histories"].get("g_history")
        self.d_history = tricks["histories"].get("d_history")
        self.k, self.batch_size = int(k), int(batch_size)
        self.clip_value, self.gp_lambda = clip_value, gp_lambda
        self.r1 = LazyR1(r1_gamma, r1_every)
        self.d_updates = 0                   # discriminator updates so far (lazy R1's clock)
        self.device = backend.Device(device if device is not None else _device_of(generator))

    @property
    def r1_gamma(self):
        return self.r1.gamma

    @property
    def r1_every(self):
        return self.r1.every

    # ------------------------------------------------------------------------ one update each
    def d_step(self, i=0):
        """One discriminator (critic) update: ascend V on a fresh real batch and fake batch.

        Returns (loss, mean D(x), mean D(G(z))); the D means are sigmoid(logit) for the
        probabilistic objectives and the raw mean scores for the others.
        """
        m = self.batch_size
        x = self.sample_data(m, self.device)
        z = self.sample_noise(m, self.device)
        r1 = self.r1.due(self.d_updates)
        if r1:
            x = x.detach().requires_grad_(True)
        with no_grad():                      # G is fixed during D's update
            fake = self.G(z)
        real_out, fake_out = self.D(x), self.D(fake)
        if self.label_smoothing:
            loss = d_loss_one_sided_smoothing(real_out, fake_out, self.label_smoothing)
        else:
            loss = self.objective.d_loss(real_out, fake_out)
        if self.d_history is not None:
            loss = loss + self.d_history.penalty()
        if self.objective.gp:
            loss = loss + gradient_penalty(self.D, x, fake, lam=self.gp_lambda)
        if r1:
            loss = loss + self.r1(real_out, x)
        value = self.finite(loss, "discriminator",
                            f"discriminator update {i + 1} of {self.k}")
        self.d_optimizer.zero_grad()
        loss.backward()
        self.d_optimizer.step()
        if self.d_history is not None:
            self.d_history.update()
        self.d_updates += 1
        if self.objective.clip:
            clip_weights(self.D.parameters(), self.clip_value)
        return value, self._mean_d(real_out), self._mean_d(fake_out)

    def _mean_d(self, out):
        with no_grad():
            if self.objective.probabilistic:
                out = E.sigmoid(out)
            return float(R.mean(out).item())

    def g_step(self):
        """One generator update: descend the generator loss on a fresh noise batch.

        D's weights are frozen meanwhile: the loss still backpropagates *through* D to the
        fakes, but D's own weight gradients (which D's next update would zero anyway) are
        never computed -- the saving is one GEMM per D layer (8 % of a 2-D toy step).
        """
        z = self.sample_noise(self.batch_size, self.device)
        with frozen(self.D):
            if self.feature_matching:
                with no_grad():
                    real_f = self.D.features(self.sample_data(self.batch_size, self.device))
                loss = feature_matching_loss(real_f, self.D.features(self.G(z)))
            else:
                loss = self.objective.g_loss(self.D(self.G(z)))
            if self.g_history is not None:
                loss = loss + self.g_history.penalty()
            value = self.finite(loss, "generator")
            self.g_optimizer.zero_grad()
            loss.backward()
        self.g_optimizer.step()
        if self.g_history is not None:
            self.g_history.update()
        return value

    def train_step(self):
        """k discriminator updates, then one generator update (one iteration of Algorithm 1)."""
        d_losses = []
        for i in range(self.k):
            d_loss, d_real, d_fake = self.d_step(i)
            d_losses.append(d_loss)
        g_loss = self.g_step()
        return {"d_loss": sum(d_losses) / len(d_losses), "g_loss": g_loss,
                "d_real": d_real, "d_fake": d_fake}

    def extra_state(self):
        return {"d_updates": self.d_updates}

    def load_extra_state(self, state):
        self.d_updates = int(state["d_updates"])


def _techniques(G, D, objective, label_smoothing, feature_matching, historical_averaging):
    """Check the improved-technique switches; build the historical averages if asked."""
    if label_smoothing and not objective.probabilistic:
        raise ValueError(f"GANTrainer: one-sided label smoothing needs a probabilistic "
                         f"objective (gan, nsgan), not {objective.name}")
    if feature_matching and not callable(getattr(D, "features", None)):
        raise ValueError("GANTrainer: feature matching needs a discriminator with a "
                         "features(x) method (the layer whose mean statistics G matches)")
    histories = {}
    if historical_averaging:
        histories = {"g_history": HistoricalAverage(G, historical_averaging),
                     "d_history": HistoricalAverage(D, historical_averaging)}
    return {"histories": histories}


def fit_discriminator(discriminator, optimizer, data, fake, steps=2000, batch_size=512,
                      final_lr_fraction=0.05, progress=None):
    """Algorithm 1's inner loop run to convergence: train D with the generator held fixed.

    ``data`` and ``fake`` are distributions (or callables n -> Tensor) for p_data and p_g.
    The loss is the minimax D loss -V(D, G) on fresh batches every step, so this is stochastic
    gradient descent on the *population* objective, whose maximiser is D* = p_data / (p_data
    + p_g). The learning rate decays geometrically to ``final_lr_fraction`` of its start,
    which lets the iterate settle instead of jittering around D* by the step noise.
    Returns the list of losses.
    """
    device = _device_of(discriminator)
    sample_data, sample_fake = _sampler(data, "data"), _sampler(fake, "fake")
    base = [g["lr"] for g in optimizer.param_groups]
    gamma = final_lr_fraction ** (1.0 / max(steps, 1))

    def step(trainer):
        for g, lr0 in zip(optimizer.param_groups, base):
            g["lr"] = lr0 * gamma ** trainer.step
        x = sample_data(batch_size, device)
        xf = sample_fake(batch_size, device)
        loss = d_loss_minimax(discriminator(x), discriminator(xf))
        value = trainer.finite(loss, "discriminator")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return {"d_loss": value}

    trainer = Trainer({"discriminator": discriminator}, {"discriminator": optimizer}, step=step,
                      progress=progress, desc="fit D")
    try:
        trainer.train(steps)
    finally:
        for g, lr0 in zip(optimizer.param_groups, base):
            g["lr"] = lr0
    return trainer.history["d_loss"]
