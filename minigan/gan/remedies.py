"""Remedies for mode collapse: unrolled GANs, PacGAN packing, minibatch discrimination, WGAN.

Mode collapse (lecture notes 003): G finds a few outputs that fool the current D and sends
most z there. D then learns to reject exactly those points, G *hops* to other ones, and the
two chase each other around the modes instead of converging. Each remedy attacks one cause:

* **Unrolled GAN** (Metz et al. 2017). G's myopia is the cause: it optimises against the
  current D, not against how D will *react*. So G's loss is evaluated against a D unrolled K
  optimisation steps ahead, theta_K(theta_G), and G backpropagates *through those K updates*::

      theta_0 = theta_D,   theta_{k+1} = theta_k - eta * grad_theta L_D(theta_k; x_k, G(z_k))
      L_G^unrolled(theta_G) = L_G(D_{theta_K}(G(z)))

  dL/dtheta_G then contains the term "if I move here, D will move there, and then I lose":
  the derivative of grad_theta L_D with respect to the fakes, a *second-order* gradient
  (``minigan.grad(..., create_graph=True)``). ``second_order=False`` drops that term (each
  theta_{k+1} is computed from detached gradients): G still plays against the look-ahead D
  but no longer sees how its own move shapes it -- cheaper, and weaker.
  Only G uses the unrolled D; the real D is updated as usual.

* **PacGAN** (Lin et al. 2018). D judges *packs* of m samples concatenated, (x_1, ..., x_m):
  a collapsed G's packs are m near-copies of one another, easy to tell from real packs of m
  independent draws. ``Packed(D_inner, m)`` reshapes (N, d) -> (N/m, m d) before D.

* **Minibatch discrimination** (Salimans et al. 2016): ``nn.MinibatchDiscrimination`` gives D
  features measuring how close each sample is to the rest of its batch (the same idea as
  packing, with a learned closeness).

* **WGAN / WGAN-GP** (Arjovsky et al. 2017; Gulrajani et al. 2017): the critic estimates the
  Wasserstein distance, whose gradient does not vanish when the supports are disjoint, so G
  is pulled towards *every* mode it misses (``losses.wasserstein_*`` with weight clipping or
  the gradient penalty; the trainer already applies both).

* **R1** (Mescheder et al. 2018), ``nsgan-r1``: not a collapse remedy by design but a
  convergence one -- the penalty gamma/2 E||grad D(x)||^2 on real data keeps D flat where the
  data is, so G's samples are not flung past the modes and back. On the 25-mode grid that
  oscillation is what drops modes (``losses.r1_penalty``; ``GANTrainer(r1_gamma=...)``).

``build_method(name, ...)`` assembles G, D and the trainer class for each method, for the
``minigan toy`` command and the lessons.
"""
from __future__ import annotations

import contextlib

from .. import autograd
from .losses import get_objective
from .train import GANTrainer

__all__ = ["functional_call", "unrolled_d_params", "unrolled_generator_loss",
           "UnrolledGANTrainer", "Packed", "minibatch_discriminator", "METHODS",
           "build_method"]


# ------------------------------------------------------------------ functional parameters
@contextlib.contextmanager
def _swapped(module, params):
    """Temporarily replace ``module``'s parameters by the Tensors in ``params`` (by name)."""
    saved = []
    owners = dict(module.named_modules())
    try:
        for name, value in params.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = owners[owner_name]
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = value
        yield module
    finally:
        for owner, leaf, old in reversed(saved):
            owner._parameters[leaf] = old


def functional_call(module, params, *args, **kwargs):
    """``module(*args)`` computed with the parameters ``params`` ({name: Tensor}) instead of
    its own -- as ``torch.func.functional_call``. The Tensors may be non-leaf results of a
    graph (theta_k of an unrolled optimiser), so the output is differentiable with respect to
    whatever produced them."""
    with _swapped(module, params):
        return module(*args, **kwargs)


def unrolled_d_params(D, d_loss, real_batches, fake_batches, lr, second_order=True,
                      adam=None):
    """theta_K after K gradient steps on D's loss, as {name: Tensor}.

    The steps are plain SGD, theta <- theta - lr * g, unless ``adam`` is given: then they are
    Adam steps continuing D's own optimizer (``adam`` = that ``optim.Adam``; its moments m, v
    and step count t are the starting point, as in Metz et al.'s code). Adam matters here: an
    SGD step of D's learning rate moves D's weights by lr * |g|, a few 1e-6 with GAN-sized
    gradients, so a 5-step look-ahead barely differs from D itself; an Adam step moves every
    weight by about lr whatever the gradient's scale. Every operation of the Adam update is a
    Tensor op, so the second-order path runs through m, v and the square root too.

    ``real_batches``/``fake_batches`` are K batches each; the fakes should *not* be detached
    (they carry G's graph). With ``second_order`` the gradients are computed with
    ``create_graph=True`` so theta_K is a differentiable function of G's parameters (through
    the fakes); otherwise each gradient is a constant and only the first step's fakes would
    matter -- so we detach them too and theta_K is just a look-ahead copy of D.
    """
    names = [n for n, _ in D.named_parameters()]
    theta = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
    step = _adam_stepper(D, adam, lr) if adam is not None else (lambda n, g: lr * g)
    for x, fake in zip(real_batches, fake_batches):
        if not second_order:
            fake = fake.detach()
        loss = d_loss(functional_call(D, theta, x), functional_call(D, theta, fake))
        grads = autograd.grad(loss, [theta[n] for n in names], create_graph=second_order)
        if second_order:
            theta = {n: theta[n] - step(n, g) for n, g in zip(names, grads)}
        else:
            theta = {n: (theta[n] - step(n, g.detach())).detach().requires_grad_(True)
                     for n, g in zip(names, grads)}
    return theta


def _adam_stepper(D, adam, lr):
    """A function (name, g) -> Adam's update for that parameter, continuing ``adam``'s state
    (PyTorch's formula, as in ``optim.Adam``) in Tensor ops, with its own copies of m, v, t."""
    from ..autograd import Tensor
    group = adam.param_groups[0]
    b1, b2 = group["betas"]
    eps = group["eps"]
    state = {}
    for n, p in D.named_parameters():
        st = adam.state.get(p, {})
        m, v = st.get("exp_avg"), st.get("exp_avg_sq")
        state[n] = [Tensor(m.array) if m is not None else 0.0,
                    Tensor(v.array) if v is not None else 0.0, int(st.get("step", 0))]

    def step(n, g):
        s = state[n]
        s[0] = s[0] * b1 + g * (1 - b1)
        s[1] = s[1] * b2 + (g * g) * (1 - b2)
        s[2] += 1
        t = s[2]
        denom = (s[1] * (1.0 / (1 - b2 ** t)) + 1e-30).sqrt() + eps
        return s[0] * (lr / (1 - b1 ** t)) / denom
    return step


def unrolled_generator_loss(G, D, objective, real_batches, z_batches, z, lr,
                            second_order=True, adam=None):
    """L_G evaluated against D unrolled len(real_batches) steps ahead (Metz et al. 2017).

    Backpropagating this loss into G's parameters includes the second-order term (how G's
    fakes steer D's next updates) when ``second_order`` is true.
    """
    obj = get_objective(objective)
    fakes = [G(zk) for zk in z_batches]
    theta = unrolled_d_params(D, obj.d_loss, real_batches, fakes, lr, second_order, adam)
    return obj.g_loss(functional_call(D, theta, G(z)))


class UnrolledGANTrainer(GANTrainer):
    """Algorithm 1 with the unrolled generator step; D's own updates are unchanged.

    ``unroll`` K (Metz et al. use 5-10), ``unroll_lr`` the step size of the unrolled steps
    (default: the D optimizer's current learning rate), ``second_order`` as above.
    ``unroll_with``: "adam" (the default when D's optimizer is ``optim.Adam``) unrolls Adam
    steps that continue D's optimizer state; "sgd" unrolls plain gradient steps.
    """

    def __init__(self, *args, unroll=5, unroll_lr=None, second_order=True, unroll_with=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if int(unroll) < 1:
            raise ValueError(f"UnrolledGANTrainer: unroll must be >= 1, got {unroll}")
        from ..optim import Adam
        if unroll_with is None:
            unroll_with = "adam" if isinstance(self.d_optimizer, Adam) else "sgd"
        if unroll_with not in ("adam", "sgd"):
            raise ValueError(f"UnrolledGANTrainer: unroll_with must be 'adam' or 'sgd', got "
                             f"{unroll_with!r}")
        if unroll_with == "adam" and not isinstance(self.d_optimizer, Adam):
            raise ValueError("UnrolledGANTrainer: unroll_with='adam' continues D's Adam state, "
                             f"but D's optimizer is {type(self.d_optimizer).__name__}")
        self.unroll, self.unroll_lr, self.second_order = int(unroll), unroll_lr, second_order
        self.unroll_with = unroll_with

    def g_step(self):
        m = self.batch_size
        lr = self.unroll_lr
        if lr is None:
            lr = self.d_optimizer.param_groups[0]["lr"]
        xs = [self.sample_data(m, self.device) for _ in range(self.unroll)]
        zs = [self.sample_noise(m, self.device) for _ in range(self.unroll)]
        z = self.sample_noise(m, self.device)
        loss = unrolled_generator_loss(
            self.G, self.D, self.objective, xs, zs, z, lr, self.second_order,
            adam=self.d_optimizer if self.unroll_with == "adam" else None)
        value = self.finite(loss, "generator")
        self.g_optimizer.zero_grad()
        self.D.zero_grad()
        loss.backward()
        self.D.zero_grad()            # theta_0 was detached, but be safe: D learns only in d_step
        self.g_optimizer.step()
        return value


# ------------------------------------------------------------------------------- PacGAN
def _packed_module():
    from .. import nn

    class Packed(nn.Module):
        """PacGAN: D sees packs of ``m`` samples, (N, d) -> (N/m, m*d) -> D_inner.

        N must be a multiple of m. Real packs hold m independent draws from p_data, fake
        packs m independent draws from p_g; a collapsed G makes packs of near-duplicates.
        """

        def __init__(self, inner, m):
            super().__init__()
            if int(m) < 1:
                raise ValueError(f"Packed: pack size m must be >= 1, got {m}")
            self.inner, self.m = inner, int(m)

        def forward(self, x):
            n = x.shape[0]
            if n % self.m:
                raise ValueError(f"Packed(m={self.m}): batch of {n} is not a multiple of "
                                 f"the pack size")
            return self.inner(x.reshape(n // self.m, -1))

        def extra_repr(self):
            return f"m={self.m}"
    return Packed


def Packed(inner, m):                                    # noqa: N802 (a class factory)
    """PacGAN's packing wrapper around a discriminator (see the module docstring)."""
    return _packed_module()(inner, m)


def _grouped_mbd():
    from .. import nn
    from ..ops import elementwise as E
    from ..ops import shape as S

    class GroupedMinibatchDiscrimination(nn.Module):
        """``nn.MinibatchDiscrimination`` computed within groups of ``group`` samples.

        The closeness features o(x_i)_b = mean_{j != i} exp(-||M_{i,b} - M_{j,b}||_1) compare
        each sample with the others of its group (the whole batch when ``group`` >= N). The
        pairwise tensor costs N * group * B * C numbers instead of N^2 * B * C, which is what
        makes batch 512 affordable on a CPU; a collapsed G is just as visible in a group of
        64 near-duplicates. The learned tensor T is the wrapped layer's, so the maths (and
        the layer's own tests) are shared.
        """

        def __init__(self, in_features, out_features, kernel_dims, group=64):
            super().__init__()
            self.layer = nn.MinibatchDiscrimination(in_features, out_features, kernel_dims,
                                                    mean=True)
            self.group = int(group)

        def forward(self, x):
            n = x.shape[0]
            if n <= self.group or n % self.group:
                return self.layer(x)
            a, b, c = (self.layer.in_features, self.layer.out_features,
                       self.layer.kernel_dims)
            gsz, ng = self.group, n // self.group
            m = (x @ self.layer.T.reshape(a, b * c)).reshape(ng, gsz, 1, b, c)
            diff = m - S.reshape(m, (ng, 1, gsz, b, c))
            o = (E.exp(-diff.abs().sum(axis=4)).sum(axis=2) - 1.0) * (1.0 / (gsz - 1))
            return S.cat([x, o.reshape(n, b)], dim=1)
    return GroupedMinibatchDiscrimination


def minibatch_discriminator(x_dim=2, hidden=128, depth=3, activation="relu", kernels=8,
                            kernel_dims=4, shift=0.0, scale=1.0, group=64):
    """An MLP D whose last hidden features go through minibatch discrimination.

    (N, x_dim) -> MLP -> (N, hidden) -> minibatch discrimination (``kernels`` closeness
    features, ``kernel_dims`` each, within groups of ``group`` samples) -> (N, hidden +
    kernels) -> Linear -> one logit. The features are means over the group (``mean=True``),
    so they stay O(1) whatever the batch size.
    """
    from .. import nn
    from .models.mlp import _activation, affine
    layers = []
    if shift != 0.0 or scale != 1.0:
        layers.append(affine(shift, scale))
    sizes = [x_dim] + [hidden] * depth
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), _activation(nn, activation)]
    layers += [_grouped_mbd()(hidden, kernels, kernel_dims, group),
               nn.Linear(hidden + kernels, 1)]
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------- methods
R1_GAMMA = 0.1          # nsgan-r1's default gamma (the grid25 setting measured in the README)
# name -> (objective, description). The toy command builds models from these.
METHODS = {
    "gan": ("gan", "minimax GAN, saturating G loss log(1 - D(G(z)))"),
    "nsgan": ("nsgan", "non-saturating GAN, G loss -log D(G(z))"),
    "minibatch": ("nsgan", "non-saturating GAN, D with minibatch discrimination"),
    "unrolled": ("nsgan", "non-saturating GAN, G against D unrolled K steps (2nd order)"),
    "unrolled1": ("nsgan", "unrolled GAN, first-order variant (no gradient through D's steps)"),
    "wgan": ("wgan", "WGAN, critic weights clipped to [-c, c]"),
    "wgan-gp": ("wgan-gp", "WGAN-GP, gradient penalty lambda = 10"),
    "pacgan": ("nsgan", "non-saturating GAN, PacGAN D on packs of m samples"),
    "nsgan-r1": ("nsgan", "non-saturating GAN, R1 penalty gamma/2 E|grad D(x)|^2 on real x"),
}


def build_method(method, x_dim, z_dim, hidden, depth, activation="relu", shift=0.0, scale=1.0,
                 pack=4, unroll=5, mbd_kernels=8, mbd_dims=4, r1=R1_GAMMA,
                 r1_every=1):
    """(G, D, objective, trainer class, trainer kwargs) for a method name in ``METHODS``."""
    from .models.mlp import mlp_discriminator, mlp_generator
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    objective = METHODS[method][0]
    G = mlp_generator(z_dim=z_dim, x_dim=x_dim, hidden=hidden, depth=depth,
                      activation=activation, shift=shift, scale=scale)
    if method == "minibatch":
        D = minibatch_discriminator(x_dim, hidden, depth, activation, mbd_kernels, mbd_dims,
                                    shift, scale)
    elif method == "pacgan":
        from .. import nn
        from .models.mlp import affine
        inner = mlp_discriminator(x_dim * pack, hidden=hidden, depth=depth,
                                  activation=activation)
        D = Packed(inner, pack)
        if shift != 0.0 or scale != 1.0:
            D = nn.Sequential(affine(shift, scale), D)
    else:
        D = mlp_discriminator(x_dim, hidden=hidden, depth=depth, activation=activation,
                              shift=shift, scale=scale)
    trainer_cls, kwargs = GANTrainer, {}
    if method in ("unrolled", "unrolled1"):
        trainer_cls = UnrolledGANTrainer
        kwargs = dict(unroll=unroll, second_order=(method == "unrolled"))
    elif method == "nsgan-r1":
        kwargs = dict(r1_gamma=r1, r1_every=r1_every)
    return G, D, objective, trainer_cls, kwargs
