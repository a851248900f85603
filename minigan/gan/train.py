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
  (the JSD between p_g and p_data when both densities are known) every ``metrics_every``;
* callbacks after every step (``every(n, fn)`` takes a snapshot every n steps);
* a tqdm progress bar (shown only on a terminal unless you ask);
* checkpoints with ``minigan.save``: both models, both optimizers, the step, the history and
  the random generator's state, so ``resume`` continues *the same run*, bit for bit;
* a guard that stops at the first NaN/inf loss with a message naming the loss and the step,
  keeping the last good checkpoint (a bad step is never saved).

``train(n)`` runs n *more* steps, so "train 500, save, resume, train 500" equals "train 1000".
"""
from __future__ import annotations

import contextlib
import json
import math
import sys

from .. import backend
from ..autograd import no_grad
from ..ops import reduce as R
from ..ops import elementwise as E
from .losses import clip_weights, get_objective, gradient_penalty, r1_penalty

__all__ = ["GANTrainer", "NonFiniteLossError", "every", "fit_discriminator"]


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message names the loss, the step and the checkpoint."""


def every(n, fn):
    """A callback that calls ``fn(trainer)`` after every ``n``-th generator step."""
    if n <= 0:
        raise ValueError(f"every: n must be positive, got {n}")

    def callback(trainer):
        if trainer.step % n == 0:
            fn(trainer)
    callback.__name__ = f"every_{n}_{getattr(fn, '__name__', 'callback')}"
    return callback


def _sampler(source, what):
    """``source`` is a toy Distribution (has ``.sample(n, device)``) or a callable n -> Tensor."""
    if hasattr(source, "sample"):
        return lambda n, device: source.sample(n, device=device)
    if callable(source):
        return lambda n, device: source(n)
    raise TypeError(f"GANTrainer: {what} must be a distribution with .sample(n) or a callable "
                    f"n -> Tensor, not {type(source).__name__}")


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


class GANTrainer:
    """Train ``generator`` against ``discriminator`` with Algorithm 1.

    Parameters
    ----------
    generator, discriminator : nn.Module
        G maps a (N, z_dim) noise batch to samples; D maps samples to one logit (or critic
        score) per example, shape (N, 1) or (N,).
    g_optimizer, d_optimizer : optimizers over G's and D's parameters (any ``minigan.optim``).
    data, noise : a ``minigan.toy`` distribution (``.sample(n, device)``) or a callable
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
    metrics : {name: fn(trainer) -> float}, evaluated every ``metrics_every`` steps (and at
        step 0) into ``history["metrics"]``.
    callbacks : callables ``cb(trainer)`` run after every generator step.
    checkpoint_path, checkpoint_every : save to this .npz every so many steps (and at the end
        of ``train``).
    progress : True / False / None (a bar only when stderr is a terminal).
    schedulers : learning-rate schedulers (``minigan.optim.lr_scheduler``), stepped once per
        generator step and saved in checkpoints.
    """

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, data, noise,
                 objective="nsgan", k=1, batch_size=128, clip_value=0.01, gp_lambda=10.0,
                 r1_gamma=0.0, r1_every=1, g_ema=0.0, device=None, metrics=None,
                 metrics_every=100, callbacks=(), checkpoint_path=None, checkpoint_every=None,
                 progress=None, schedulers=()):
        if int(k) < 1:
            raise ValueError(f"GANTrainer: k (discriminator steps per generator step) must be "
                             f">= 1, got {k}")
        if int(batch_size) < 1:
            raise ValueError(f"GANTrainer: batch_size must be >= 1, got {batch_size}")
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_data = _sampler(data, "data")
        self.sample_noise = _sampler(noise, "noise")
        self.objective = get_objective(objective)
        self.k, self.batch_size = int(k), int(batch_size)
        self.clip_value, self.gp_lambda = clip_value, gp_lambda
        if float(r1_gamma) < 0 or int(r1_every) < 1:
            raise ValueError(f"GANTrainer: r1_gamma must be >= 0 and r1_every >= 1, got "
                             f"{r1_gamma} and {r1_every}")
        self.r1_gamma, self.r1_every = float(r1_gamma), int(r1_every)
        self.d_updates = 0                   # discriminator updates so far (lazy R1's clock)
        if not 0.0 <= float(g_ema) < 1.0:
            raise ValueError(f"GANTrainer: g_ema (the average's decay beta) must be in [0, 1), "
                             f"0 = off; got {g_ema}")
        self.ema = self.G_ema = None
        if g_ema:
            import copy

            from .ema import EMA
            self.ema = EMA(generator, copy.deepcopy(generator), g_ema)
            self.G_ema = self.ema.shadow
        if device is None:
            params = list(generator.parameters())
            device = params[0].device if params else backend.default_device()
        self.device = backend.Device(device)
        self.metrics = dict(metrics or {})
        self.metrics_every = int(metrics_every)
        self.callbacks = list(callbacks)
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.last_checkpoint = None          # (path, step) of the last good save
        self.progress = progress
        self.schedulers = list(schedulers)
        self.step = 0                        # generator steps done so far
        self.history = {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": [],
                        "metrics": []}

    # ------------------------------------------------------------------------ one update each
    def _guard(self, loss, which, d_step=None):
        value = float(loss.item())
        if not math.isfinite(value):
            where = f"step {self.step + 1}"
            if d_step is not None:
                where += f" (discriminator update {d_step + 1} of {self.k})"
            if self.last_checkpoint:
                kept = (f"the last good checkpoint, {self.last_checkpoint[0]} at step "
                        f"{self.last_checkpoint[1]}, is kept")
            else:
                kept = "no checkpoint was written (pass checkpoint_path to keep one)"
            raise NonFiniteLossError(
                f"the {which} loss became {value} at {where}; training stopped before applying "
                f"that update and {kept}. Lower the learning rate, or check the data for "
                "NaNs.")
        return value

    def d_step(self, i=0):
        """One discriminator (critic) update: ascend V on a fresh real batch and fake batch.

        Returns (loss, mean D(x), mean D(G(z))); the D means are sigmoid(logit) for the
        probabilistic objectives and the raw mean scores for the others.
        """
        m = self.batch_size
        x = self.sample_data(m, self.device)
        z = self.sample_noise(m, self.device)
        r1 = self.r1_gamma > 0 and self.d_updates % self.r1_every == 0
        if r1:
            x = x.detach().requires_grad_(True)
        with no_grad():                      # G is fixed during D's update
            fake = self.G(z)
        real_out, fake_out = self.D(x), self.D(fake)
        loss = self.objective.d_loss(real_out, fake_out)
        if self.objective.gp:
            loss = loss + gradient_penalty(self.D, x, fake, lam=self.gp_lambda)
        if r1:
            loss = loss + r1_penalty(real_out, x, self.r1_gamma * self.r1_every)
        value = self._guard(loss, "discriminator", i)
        self.d_optimizer.zero_grad()
        loss.backward()
        self.d_optimizer.step()
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
            loss = self.objective.g_loss(self.D(self.G(z)))
            value = self._guard(loss, "generator")
            self.g_optimizer.zero_grad()
            loss.backward()
        self.g_optimizer.step()
        return value

    def train_step(self):
        """k discriminator updates, then one generator update (one iteration of Algorithm 1)."""
        d_losses = []
        for i in range(self.k):
            d_loss, d_real, d_fake = self.d_step(i)
            d_losses.append(d_loss)
        g_loss = self.g_step()
        if self.ema is not None:
            self.ema.update()
        for sched in self.schedulers:
            sched.step()
        self.step += 1
        h = self.history
        h["step"].append(self.step)
        h["d_loss"].append(sum(d_losses) / len(d_losses))
        h["g_loss"].append(g_loss)
        h["d_real"].append(d_real)
        h["d_fake"].append(d_fake)
        if self.metrics and self.step % self.metrics_every == 0:
            self.evaluate()
        for cb in self.callbacks:
            cb(self)
        if (self.checkpoint_path and self.checkpoint_every
                and self.step % self.checkpoint_every == 0):
            self.save_checkpoint()

    def evaluate(self):
        """Compute every metric now and append {"step": s, name: value, ...} to the history."""
        row = {"step": self.step}
        for name, fn in self.metrics.items():
            row[name] = float(fn(self))
        self.history["metrics"].append(row)
        return row

    def train(self, steps):
        """Run ``steps`` more iterations of Algorithm 1 (continuing from ``self.step``)."""
        steps = int(steps)
        if self.metrics and self.step == 0 and not self.history["metrics"]:
            self.evaluate()
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = None
        if show:
            from tqdm.auto import tqdm
            bar = tqdm(total=steps, desc="GAN", unit="step", leave=False)
        try:
            for _ in range(steps):
                self.train_step()
                if bar is not None:
                    bar.update(1)
                    if self.step % 25 == 0:
                        bar.set_postfix(d_loss=f"{self.history['d_loss'][-1]:.3f}",
                                        g_loss=f"{self.history['g_loss'][-1]:.3f}",
                                        D_x=f"{self.history['d_real'][-1]:.2f}")
        finally:
            if bar is not None:
                bar.close()
        if self.checkpoint_path:
            self.save_checkpoint()
        return self.history

    # --------------------------------------------------------------------- checkpoint/resume
    def state_dict(self):
        """Everything a resumed run needs: models, optimizers, step, history, RNG state.

        The RNG state (a dict holding 128-bit integers) and the history travel as JSON text.
        """
        return {
            "step": self.step,
            "d_updates": self.d_updates,
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(),
            "schedulers": [sch.state_dict() for sch in self.schedulers],
            "rng_json": json.dumps(backend.get_rng_state("cpu")),
            "history_json": json.dumps(self.history),
            **({"g_ema": self.ema.state_dict()} if self.ema is not None else {}),
        }

    def load_state_dict(self, state):
        self._check_ema_matches(state)            # refuse before changing anything
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        for sch, st in zip(self.schedulers, state.get("schedulers", [])):
            sch.load_state_dict(st)
        backend.set_rng_state(json.loads(str(state["rng_json"])), "cpu")
        self.history = json.loads(str(state["history_json"]))
        self.step = int(state["step"])
        # checkpoints written before lazy R1 existed: k D updates per G step so far
        self.d_updates = int(state.get("d_updates", self.step * self.k))
        if self.ema is not None:
            self.ema.load_state_dict(state["g_ema"])

    def _check_ema_matches(self, state):
        """A resumed run keeps the average it saved, with the same beta: resuming without it
        would drop it from the next checkpoint, and a different beta is a different average."""
        saved = state.get("g_ema")
        if self.ema is None and saved is not None:
            raise ValueError(f"resume: the checkpoint holds an EMA of G (beta "
                             f"{float(saved.get('beta', float('nan'))):g}); resume with that "
                             f"g_ema so that it is kept")
        if self.ema is not None and saved is None:
            raise ValueError("resume: the checkpoint has no EMA of G (it was trained with "
                             "g_ema off); resume with g_ema=0 or start a new run")
        if self.ema is not None and "beta" in saved and float(saved["beta"]) != self.ema.beta:
            raise ValueError(f"resume: the checkpoint's EMA of G has beta "
                             f"{float(saved['beta']):g}, this trainer {self.ema.beta:g}")

    def save_checkpoint(self, path=None):
        """Write the state atomically to ``path`` (default ``checkpoint_path``) with minigan.save."""
        from .. import serialization
        path = path or self.checkpoint_path
        if not path:
            raise ValueError("save_checkpoint: no path given and no checkpoint_path set")
        serialization.save(self.state_dict(), path)
        self.last_checkpoint = (str(path), self.step)
        return path

    def resume(self, path=None):
        """Load a checkpoint written by ``save_checkpoint``; ``train(n)`` then goes on from it."""
        from .. import serialization
        path = path or self.checkpoint_path
        self.load_state_dict(serialization.load(path))
        self.last_checkpoint = (str(path), self.step)
        return self


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
    from .losses import d_loss_minimax
    params = list(discriminator.parameters())
    device = params[0].device if params else backend.default_device()
    sample_data, sample_fake = _sampler(data, "data"), _sampler(fake, "fake")
    base = [g["lr"] for g in optimizer.param_groups]
    gamma = final_lr_fraction ** (1.0 / max(steps, 1))
    show = progress if progress is not None else sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="fit D", unit="step", leave=False)
    losses = []
    try:
        for t in range(int(steps)):
            for g, lr0 in zip(optimizer.param_groups, base):
                g["lr"] = lr0 * gamma ** t
            x = sample_data(batch_size, device)
            xf = sample_fake(batch_size, device)
            loss = d_loss_minimax(discriminator(x), discriminator(xf))
            value = float(loss.item())
            if not math.isfinite(value):
                raise NonFiniteLossError(f"the discriminator loss became {value} at step {t + 1} "
                                         "of fit_discriminator; lower the learning rate")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(value)
            if bar is not None:
                bar.update(1)
    finally:
        for g, lr0 in zip(optimizer.param_groups, base):
            g["lr"] = lr0
        if bar is not None:
            bar.close()
    return losses
