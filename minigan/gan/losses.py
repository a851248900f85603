"""GAN objectives, every one computed from the discriminator's *logits*.

The discriminator D(x) = sigmoid(t(x)) outputs a probability, but we never form it: when D wins
(logits of ±1000) ``log(sigmoid(t))`` would be ``log(0) = -inf`` and one bad batch kills the
run. The two identities that keep every loss finite (lecture notes 000, "the minimax game"):

    log D(x)       = log sigmoid(t)  = -softplus(-t)
    log(1 - D(x))  = log sigmoid(-t) = -softplus(t)

with ``softplus(t) = max(t, 0) + log1p(exp(-|t|))`` never overflowing, and derivatives
``-sigmoid(t)`` and ``sigmoid(-t)`` that stay in [-1, 1].

The objectives (all are *minimised*; each returns a 0-d Tensor, the batch mean):

=================  =====================================  =========================================
name               discriminator / critic loss            generator loss
=================  =====================================  =========================================
minimax (``gan``)  -E log D(x) - E log(1 - D(G(z)))       E log(1 - D(G(z)))    (saturating)
``nsgan``          same                                   -E log D(G(z))        (non-saturating)
``wgan``           E f(G(z)) - E f(x), clip weights        -E f(G(z))
``wgan-gp``        same + λ E (||∇f(x̂)|| - 1)^2           -E f(G(z))
``hinge``          E relu(1 - f(x)) + E relu(1 + f(G(z)))  -E f(G(z))
``lsgan``          ½ E (f(x) - 1)^2 + ½ E f(G(z))^2       ½ E (f(G(z)) - 1)^2
=================  =====================================  =========================================

Why two generator losses? Early in training D rejects the fakes easily, D(G(z)) ≈ 0. The
saturating loss log(1 - D) then has gradient d/dt log(1 - sigmoid(t)) = -sigmoid(t) = -D ≈ 0
with respect to the logit: G learns nothing. -log D has gradient -(1 - D) ≈ -1 there: the same
fixed point, strong gradients early (Goodfellow et al. 2014, section 3). See
``minigan.plots.toys.saturation_figure``.
"""
from __future__ import annotations

from collections import namedtuple

from .. import autograd
from ..autograd import Tensor, no_grad
from ..ops import elementwise as E
from ..ops import reduce as R
from ..ops import shape as S

__all__ = ["d_loss_minimax", "g_loss_saturating", "g_loss_nonsaturating",
           "wasserstein_critic_loss", "wasserstein_generator_loss", "clip_weights",
           "gradient_penalty", "r1_penalty", "LazyR1", "hinge_d_loss", "hinge_g_loss",
           "lsgan_d_loss", "lsgan_g_loss",
           "Objective", "OBJECTIVES", "get_objective"]


# ------------------------------------------------------------------------- the original GAN
def d_loss_minimax(real_logits, fake_logits):
    """The discriminator's loss, -V(D, G) on a batch: -mean log D(x) - mean log(1 - D(G(z))).

    It is the binary cross-entropy of "real" (label 1) against "fake" (label 0), summed over
    the two halves: mean softplus(-t_real) + mean softplus(t_fake).
    """
    return R.mean(E.softplus(-real_logits)) + R.mean(E.softplus(fake_logits))


def g_loss_saturating(fake_logits):
    """The generator's loss in the minimax game: mean log(1 - D(G(z))), to be *minimised*.

    log(1 - sigmoid(t)) = -softplus(t). Its gradient with respect to t is -sigmoid(t) = -D:
    it *saturates* (vanishes) exactly when D confidently rejects the fakes (D ≈ 0).
    """
    return -R.mean(E.softplus(fake_logits))


def g_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss -mean log D(G(z)) = mean softplus(-t).

    Gradient with respect to t: -(1 - D), close to -1 when D ≈ 0 (strong signal early on).
    """
    return R.mean(E.softplus(-fake_logits))


# ------------------------------------------------------------------------------- Wasserstein
def wasserstein_critic_loss(real_scores, fake_scores):
    """The WGAN critic's loss E f(G(z)) - E f(x): minimising it estimates -W(p_data, p_g).

    The critic's outputs are unbounded scores, not logits; f must be (roughly) 1-Lipschitz,
    which ``clip_weights`` or ``gradient_penalty`` enforce.
    """
    return R.mean(fake_scores) - R.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """The WGAN generator's loss -E f(G(z))."""
    return -R.mean(fake_scores)


def clip_weights(parameters, c=0.01):
    """Clamp every parameter to [-c, c] in place (WGAN's crude Lipschitz constraint).

    Call it after each critic step. Returns the parameters, for chaining.
    """
    if c <= 0:
        raise ValueError(f"clip_weights: c must be positive, got {c}")
    params = list(parameters)
    with no_grad():
        for p in params:
            p.clamp_(-c, c)
    return params


def gradient_penalty(critic, real, fake, lam=10.0, weight=None):
    """WGAN-GP's penalty λ E[(||∇_x̂ f(x̂)||₂ - 1)²] at x̂ = ε x + (1 - ε) G(z).

    Three details that implementations get wrong (see DESIGN.md, "known traps"):

    * ε is drawn **per example**, shape (N, 1, 1, ...), so each x̂ lies on the segment between
      one real and one fake sample (a per-pixel ε would leave those segments).
    * the norm is over **all non-batch axes** (for images: C, H and W together).
    * the gradient is taken with ``create_graph=True``: the penalty is a function of the
      critic's weights *through* a gradient, and the critic's update differentiates it again.

    ``weight`` overrides ε (an (N,) or (N, 1, ...) array/Tensor), for tests. Returns a 0-d
    Tensor. The fake batch is detached: the penalty trains the critic, not the generator.
    """
    from .. import creation
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {real.shape} and fake {fake.shape} batches "
                         "must have the same shape")
    n = real.shape[0]
    eps_shape = (n,) + (1,) * (real.ndim - 1)
    if weight is None:
        eps = creation.rand(*eps_shape, dtype=real.dtype, device=real.device)
    else:
        from .. import backend
        w = weight.array if isinstance(weight, Tensor) else weight
        eps = Tensor(backend.as_array(w, dtype=real.dtype, device=real.device).reshape(eps_shape))
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).detach()
    x_hat.requires_grad_(True)
    scores = critic(x_hat)
    (g,) = autograd.grad(R.sum(scores), x_hat, create_graph=True)
    norms = R.norm(S.reshape(g, (n, -1)), axis=1)
    return R.mean((norms - 1.0) ** 2) * lam


def r1_penalty(real_out, real, gamma):
    """Mescheder et al.'s (2018) R1 penalty γ/2 E ||∇_x D(x)||² on the *real* samples.

    Why it helps: at the equilibrium p_g = p_data the ideal D is flat (D = 1/2 everywhere), so
    a D with steep slopes on the data is only ever a source of overshoot -- G's samples are
    pushed past the modes, D turns, G is pushed back. Penalising D's slope where the data is
    damps that oscillation; a non-saturating GAN with R1 converges locally where the plain one
    circles. Unlike WGAN-GP's penalty it pulls the gradient to 0 (not 1), and only on real x.

    ``real_out`` is D(real) and ``real`` must have ``requires_grad`` set before D was applied
    (the gradient is taken with ``create_graph=True``: D's update differentiates it again).
    The mean is over D's outputs: a PacGAN D's one output per pack of m samples gets the
    squared gradient norm over its m inputs. (A minibatch-discrimination D's output depends
    on the whole batch, so there the penalty is not a per-sample R1.) Returns a 0-d Tensor.
    """
    if not real.requires_grad:
        raise ValueError("r1_penalty: the real batch must require grad before D is applied "
                         "(x = x.detach().requires_grad_(True); out = D(x))")
    (g,) = autograd.grad(R.sum(real_out), real, create_graph=True)
    n = real.shape[0]
    per_output = n / real_out.shape[0]           # m for a packed D, else 1
    squared_norms = R.sum(S.reshape(g * g, (n, -1)), axis=1)
    return R.mean(squared_norms) * (0.5 * float(gamma) * per_output)


class LazyR1:
    """R1 on every ``every``-th discriminator update only, with γ scaled by ``every`` so that
    its average pull is that of R1 on every update ("lazy" regularisation, StyleGAN2): the
    double backward is the expensive part of a D step, and D's slope changes slowly.
    ``gamma`` 0 switches it off. Used as ``if r1.due(n): x.requires_grad_(True)`` before D
    sees the real batch of update n, then ``loss + r1(D(x), x)``."""

    def __init__(self, gamma=0.0, every=1):
        if float(gamma) < 0 or int(every) < 1:
            raise ValueError(f"R1: r1_gamma must be >= 0 and r1_every >= 1, got {gamma} and "
                             f"{every}")
        self.gamma, self.every = float(gamma), int(every)

    def due(self, d_update):
        """Whether D's update number ``d_update`` (from 0) gets the penalty."""
        return self.gamma > 0 and d_update % self.every == 0

    def __call__(self, real_out, real):
        return r1_penalty(real_out, real, self.gamma * self.every)


# -------------------------------------------------------------------------- hinge and LSGAN
def hinge_d_loss(real_scores, fake_scores):
    """The hinge discriminator loss E relu(1 - f(x)) + E relu(1 + f(G(z))) (SAGAN, BigGAN)."""
    return R.mean(E.relu(1.0 - real_scores)) + R.mean(E.relu(1.0 + fake_scores))


def hinge_g_loss(fake_scores):
    """The hinge generator loss -E f(G(z))."""
    return -R.mean(fake_scores)


def lsgan_d_loss(real_scores, fake_scores):
    """Least-squares GAN (Mao et al. 2017), targets 1 for real and 0 for fake."""
    return 0.5 * R.mean((real_scores - 1.0) ** 2) + 0.5 * R.mean(fake_scores ** 2)


def lsgan_g_loss(fake_scores):
    """Least-squares generator loss ½ E (f(G(z)) - 1)²."""
    return 0.5 * R.mean((fake_scores - 1.0) ** 2)


# ------------------------------------------------------------------------------- by name
Objective = namedtuple("Objective", "name d_loss g_loss gp clip probabilistic")
Objective.__doc__ = """A GAN objective: the two losses and what the trainer must add.

``gp``: use ``gradient_penalty``; ``clip``: clip the critic's weights after each step;
``probabilistic``: the D outputs are logits of a probability (so mean D(x) is meaningful)."""

OBJECTIVES = {
    "gan": Objective("gan", d_loss_minimax, g_loss_saturating, False, False, True),
    "nsgan": Objective("nsgan", d_loss_minimax, g_loss_nonsaturating, False, False, True),
    "wgan": Objective("wgan", wasserstein_critic_loss, wasserstein_generator_loss, False, True,
                      False),
    "wgan-gp": Objective("wgan-gp", wasserstein_critic_loss, wasserstein_generator_loss, True,
                         False, False),
    "hinge": Objective("hinge", hinge_d_loss, hinge_g_loss, False, False, False),
    "lsgan": Objective("lsgan", lsgan_d_loss, lsgan_g_loss, False, False, False),
}


def get_objective(name):
    """An ``Objective`` by name: gan, nsgan, wgan, wgan-gp, hinge, lsgan."""
    if isinstance(name, Objective):
        return name
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"unknown GAN objective {name!r}; choose from "
                         f"{', '.join(OBJECTIVES)}") from None
