"""The GAN lab's model: a generator, a discriminator and the game between them, one click at a time.

``python -m minigan lab`` opens a window in the spirit of GAN Lab (Kahng et al., 2018) on
minigan itself. This module is everything *except* the window (``minigan.lab.window`` draws
it), so it can be tested and scripted without a screen:

* ``Lab`` holds the state: the toy distribution p_data (1-D or 2-D), the noise p_z, G, D,
  their optimizers, the objective and Algorithm 1's k. ``step_d()`` is one discriminator
  update, ``step_g()`` one generator update, ``step()`` one iteration of Algorithm 1 (k D
  updates, then one G update). ``set_loss`` / ``set_optimizer`` / ``set_lr`` / ``set_k``
  change the game *while it runs* (the weights are kept); ``set_distribution`` and ``reset``
  start a new one.
* The views are pure functions of the state (they neither train nor draw the training
  random numbers, so looking never changes a run):

  - ``density_view``: p_data and p_g. In 1-D both are curves: p_g is exact, by the change of
    variables through G (``theory.generator_density``); in 2-D, real and fake samples.
  - ``discriminator_view``: D on a grid: a curve in 1-D, a heatmap in 2-D. For the
    probabilistic objectives this is D(x) = sigmoid(logit); a critic (WGAN-GP, hinge, least
    squares) has unbounded scores, shown rescaled to [0, 1] over the view.
  - ``arrow_view``: the force on each fake sample, -d loss_G / d x at x = G(z): where the
    generator's update will move it. The whole of G's learning signal passes through these
    arrows (chain rule: dL/dθ = sum over samples of dL/dx · dx/dθ).
  - ``jsd_estimate``: JSD(p_data, p_g), exact in 1-D, a binned estimate in 2-D; with the
    losses it is recorded in ``Lab.history``.

Host-side by design (NumPy arrays for the views); BLAS is kept on one thread for these tiny
networks by the command and the window.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend

__all__ = ["Lab", "LOSSES", "OPTIMIZERS", "distributions", "density_view",
           "discriminator_view", "arrow_view", "jsd_estimate", "one_blas_thread"]

# The objectives the lab offers: name in minigan.gan.losses -> label in the window.
LOSSES = {
    "nsgan": "non-saturating",
    "gan": "minimax (saturating)",
    "wgan-gp": "WGAN-GP",
    "lsgan": "least squares",
    "hinge": "hinge",
}

# The optimizers: name -> (label, default learning rate, factory(params, lr)).
OPTIMIZERS = {
    "adam": ("Adam (β1=0.5)", 2e-3,
             lambda optim, params, lr: optim.Adam(params, lr=lr, betas=(0.5, 0.999))),
    "sgd": ("SGD momentum 0.9", 2e-2,
            lambda optim, params, lr: optim.SGD(params, lr=lr, momentum=0.9)),
    "rmsprop": ("RMSprop", 1e-3,
                lambda optim, params, lr: optim.RMSprop(params, lr=lr)),
}


def one_blas_thread():
    """A context keeping BLAS on one thread: threads cost more than these tiny matrices."""
    return backend.blas_threads(1)


# ---------------------------------------------------------------------------- distributions
def distributions():
    """{name: factory} of every toy p_data the lab can show (1-D and 2-D): the one registry,
    ``minigan.data.toy.DISTRIBUTIONS`` (gauss1d, mix1d, ring8, grid25 ...). A new toy appears
    in the lab (its radio buttons and ``--dist``) by being added there; it must have ``dim``
    1 or 2."""
    from ..data.toy import DISTRIBUTIONS
    return dict(DISTRIBUTIONS)


def _make_distribution(name):
    table = distributions()
    if name not in table:
        raise ValueError(f"unknown distribution {name!r}; choose from {', '.join(table)}")
    dist = table[name]()
    if getattr(dist, "dim", 1) not in (1, 2):
        raise ValueError(f"the lab shows 1-D and 2-D distributions; {name} has dim {dist.dim}")
    return dist


def _sample_numpy(dist, n, rng):
    """``n`` samples of ``dist`` as an (n, dim) float64 array from the NumPy Generator ``rng``."""
    if hasattr(dist, "sample_numpy"):
        return np.asarray(dist.sample_numpy(n, rng), dtype=np.float64).reshape(n, -1)
    return np.asarray(dist.sample(n).numpy(), dtype=np.float64).reshape(n, -1)


# ------------------------------------------------------------------------------------ the lab
class Lab:
    """The state of one GAN game, updated one discriminator or generator step at a time.

    Parameters: ``dist`` (a name from ``distributions()``: gauss1d, mix1d, ring8, grid25 ...),
    ``loss`` (a key of ``LOSSES``), ``optimizer`` (a key of ``OPTIMIZERS``), ``lr`` (both
    players; default: the optimizer's), ``k`` (D steps per G step), ``batch_size``,
    ``hidden`` (units per hidden layer; default 32 in 1-D, 64 in 2-D), ``seed``.

    Attributes a view or a test may read: ``data``, ``noise``, ``G``, ``D``, ``objective``,
    ``trainer`` (a ``minigan.gan.GANTrainer`` that performs the updates), ``n_d`` / ``n_g``
    (updates done), ``history`` (lists ``d_loss``, ``g_loss`` as (update, value) pairs and
    ``jsd`` as (update, value); "update" counts D and G updates together).
    """

    def __init__(self, dist="gauss1d", loss="nsgan", optimizer="adam", lr=None, k=1,
                 batch_size=256, hidden=None, seed=0, device=None):
        self.dist_name = dist
        self.loss_name = self._check(loss, LOSSES, "loss")
        self.optimizer_name = self._check(optimizer, OPTIMIZERS, "optimizer")
        self.lr = float(lr) if lr is not None else OPTIMIZERS[optimizer][1]
        self.k = self._check_k(k)
        self.batch_size = int(batch_size)
        self.hidden = hidden
        self.seed = int(seed)
        self.device = device or "cpu"
        self.n_view = 512            # fake/real samples shown, and arrows
        self.reset()

    # ------------------------------------------------------------------------ configuration
    @staticmethod
    def _check(name, table, what):
        if name not in table:
            raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(table)}")
        return name

    @staticmethod
    def _check_k(k):
        if int(k) < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {k}")
        return int(k)

    @property
    def dim(self):
        return int(getattr(self.data, "dim", 1))

    def reset(self, seed=None):
        """New networks (seeded), fresh optimizers, empty history; keeps every setting."""
        import minigan

        from .. import gan
        from ..data import toy
        if seed is not None:
            self.seed = int(seed)
        self.data = _make_distribution(self.dist_name)
        d = self.dim
        self.noise = toy.GaussianNoise(d)
        view_rng = np.random.default_rng(self.seed + 1)    # the views' own random numbers
        big = _sample_numpy(self.data, 20000, view_rng)
        center, spread = big.mean(0), float(big.std(0).mean())
        self.extent = _view_extent(big)
        hidden = self.hidden or (32 if d == 1 else 64)
        minigan.manual_seed(self.seed)
        # Networks work at order 1: D standardises its input, G un-standardises its output.
        shift = float(center[0]) if d == 1 else 0.0
        scale = spread if d == 1 else float(np.abs(big).max() / 2)
        with minigan.Device(self.device):    # made and initialised on the lab's device
            self.G = gan.mlp_generator(z_dim=d, x_dim=d, hidden=hidden, depth=2,
                                       activation="tanh", shift=shift, scale=scale)
            self.D = gan.mlp_discriminator(x_dim=d, hidden=hidden, depth=2,
                                           activation="tanh" if d == 1 else "leaky_relu",
                                           shift=shift, scale=scale)
        self.trainer = gan.GANTrainer(self.G, self.D, None, None, self.data, self.noise,
                                      objective=self.loss_name, k=self.k,
                                      batch_size=self.batch_size, device=self.device)
        self._build_optimizers()
        # Fixed view batches: the same z and real points every frame, so frames do not flicker.
        if d == 1:       # z at evenly spaced quantiles of N(0, 1): arrows spread like Fig. 1
            from scipy.special import ndtri
            self.z_view = ndtri((np.arange(self.n_view) + 0.5) / self.n_view)[:, None]
        else:
            self.z_view = view_rng.standard_normal((self.n_view, d))
        self.real_view = big[:self.n_view]
        self.n_d = self.n_g = 0
        self.history = {"d_loss": [], "g_loss": [], "jsd": []}
        self._record_jsd()
        return self

    def _build_optimizers(self):
        from .. import optim
        make = OPTIMIZERS[self.optimizer_name][2]
        self.trainer.g_optimizer = make(optim, self.G.parameters(), self.lr)
        self.trainer.d_optimizer = make(optim, self.D.parameters(), self.lr)

    def set_distribution(self, name):
        """A new p_data: new networks (the dimension may change) and an empty history."""
        _make_distribution(name)             # fail before touching the state
        self.dist_name = name
        return self.reset()

    def set_loss(self, name):
        """Switch the objective mid-game; the networks and optimizer states are kept."""
        from ..gan.losses import get_objective
        self.loss_name = self._check(name, LOSSES, "loss")
        self.trainer.objective = get_objective(name)

    def set_optimizer(self, name, lr=None):
        """Switch the optimizer (fresh state, the optimizer's default lr unless given)."""
        self.optimizer_name = self._check(name, OPTIMIZERS, "optimizer")
        self.lr = float(lr) if lr is not None else OPTIMIZERS[name][1]
        self._build_optimizers()

    def set_lr(self, lr):
        """A new learning rate for both players, keeping the optimizers' state (momenta)."""
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got {lr}")
        self.lr = float(lr)
        for opt in (self.trainer.g_optimizer, self.trainer.d_optimizer):
            for group in opt.param_groups:
                group["lr"] = self.lr

    def set_k(self, k):
        self.k = self.trainer.k = self._check_k(k)

    @property
    def objective(self):
        return self.trainer.objective

    @property
    def updates(self):
        """D and G updates done so far: the x axis of the loss and JSD curves."""
        return self.n_d + self.n_g

    # ------------------------------------------------------------------------------ updates
    def step_d(self):
        """One discriminator update on a fresh real and fake batch. Returns its loss."""
        loss, _, _ = self.trainer.d_step(self.n_d % self.k)
        self.n_d += 1
        self.history["d_loss"].append((self.updates, loss))
        return loss

    def step_g(self):
        """One generator update on a fresh noise batch. Returns its loss."""
        loss = self.trainer.g_step()
        self.n_g += 1
        self.trainer.step = self.n_g
        self.history["g_loss"].append((self.updates, loss))
        self._record_jsd()
        return loss

    def step(self):
        """One iteration of Algorithm 1: k discriminator updates, then one generator update."""
        for _ in range(self.k):
            self.step_d()
        return self.step_g()

    def run(self, iterations):
        """``iterations`` iterations of Algorithm 1."""
        for _ in range(int(iterations)):
            self.step()
        return self

    def _record_jsd(self):
        self.history["jsd"].append((self.updates, jsd_estimate(self)))

    # ------------------------------------------------------------------------------- views
    def views(self):
        """Everything the window draws, as host-side arrays (see the module's functions)."""
        return {"density": density_view(self), "discriminator": discriminator_view(self),
                "arrows": arrow_view(self), "history": self.history}

    def describe(self):
        """One line: where the game stands."""
        return (f"{self.data.name}  ·  {LOSSES[self.loss_name]}  ·  "
                f"{OPTIMIZERS[self.optimizer_name][0]}, lr {self.lr:.2g}  ·  k = {self.k}  ·  "
                f"{self.n_g} G steps, {self.n_d} D steps")


def _view_extent(samples, pad=0.35):
    """The plotted range: (lo, hi) in 1-D, (x0, x1, y0, y1) square in 2-D, from data samples."""
    lo = np.quantile(samples, 0.0005, axis=0)
    hi = np.quantile(samples, 0.9995, axis=0)
    if samples.shape[1] == 1:
        w = hi[0] - lo[0]
        return (float(lo[0] - pad * w), float(hi[0] + pad * w))
    c, half = (lo + hi) / 2, float((hi - lo).max()) * (0.5 + pad)
    return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


def _grid(lab, n1=600, n2=80):
    """The evaluation grid of the views: (n1,) points in 1-D, an (n2*n2, 2) mesh in 2-D."""
    if lab.dim == 1:
        return np.linspace(*lab.extent, n1)
    x0, x1, y0, y1 = lab.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, n2), np.linspace(y0, y1, n2))
    return np.stack([gx.ravel(), gy.ravel()], 1)


def _fakes(lab, z=None):
    from ..gan.models.mlp import as_numpy_fn
    z = lab.z_view if z is None else z
    return as_numpy_fn(lab.G, device=lab.device)(z).reshape(len(z), lab.dim)


# ------------------------------------------------------------------------------ pure views
def density_view(lab):
    """p_data and p_g.

    1-D: ``{"x": (n,), "p_data": (n,), "p_g": (n,), "fake": (m, 1), "real": (m, 1)}`` with p_g
    exact (change of variables through G). 2-D: ``{"real": (m, 2), "fake": (m, 2)}``.
    """
    fake = _fakes(lab)
    out = {"real": lab.real_view, "fake": fake}
    if lab.dim == 1:
        from ..evaluation import theory
        from ..gan.models.mlp import as_numpy_fn
        x = _grid(lab)
        out.update(x=x, p_data=lab.data.pdf(x),
                   p_g=theory.generator_density(as_numpy_fn(lab.G, device=lab.device), x,
                                                lab.noise.pdf, -6.0, 6.0, n_z=4001))
    return out


def discriminator_view(lab):
    """D on the view grid: ``{"x": grid, "d": values in [0, 1], "raw": logits or scores,
    "probabilistic": bool}``; in 2-D ``d`` and ``raw`` are (n, n) images over ``extent``."""
    from ..gan.models.mlp import as_numpy_fn
    x = _grid(lab)
    raw = as_numpy_fn(lab.D, device=lab.device)(x).reshape(-1)
    if lab.objective.probabilistic:
        d = 1.0 / (1.0 + np.exp(-np.clip(raw, -500, 500)))
    else:                                    # a critic's score: rescale to [0, 1] to show it
        span = raw.max() - raw.min()
        d = (raw - raw.min()) / span if span > 0 else np.full_like(raw, 0.5)
    out = {"x": x, "d": d, "raw": raw, "probabilistic": bool(lab.objective.probabilistic),
           "extent": lab.extent}
    if lab.dim == 2:
        n = int(round(math.sqrt(len(x))))
        out["d"], out["raw"] = d.reshape(n, n), raw.reshape(n, n)
    return out


def arrow_view(lab, x=None):
    """The generator's force on fake samples: ``{"x": (m, dim), "force": (m, dim)}``.

    ``force`` is -d loss_G / d x at each point x (default: the view's fakes G(z)), times the
    batch size so that it is the per-sample gradient of the batch-mean loss. The generator's
    step moves each fake along its arrow (through G's weights, so only approximately).
    """
    import minigan

    from .. import backend
    from ..autograd import grad
    pts = _fakes(lab) if x is None else np.asarray(x, dtype=np.float64).reshape(-1, lab.dim)
    dtype = next(iter(lab.D.parameters())).dtype
    t = minigan.tensor(pts.astype(dtype), device=lab.device, requires_grad=True)
    loss = lab.objective.g_loss(lab.D(t))
    (g,) = grad(loss, t)
    force = -np.asarray(backend.to_numpy(g.array), dtype=np.float64) * len(pts)
    return {"x": pts, "force": force}


def _jsd_discrete(p, q):
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kq = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return float(min(max(0.5 * (kp + kq), 0.0), math.log(2.0)))


_DATA_CELLS = {}


def jsd_estimate(lab, n=4000, bins=40):
    """JSD(p_data, p_g) in nats: exact in 1-D (p_g by the change of variables, on a wide grid);
    in 2-D a binned estimate from ``n`` fakes in ``bins`` x ``bins`` cells (biased up by the
    sampling noise: a few hundredths at a perfect fit)."""
    from ..evaluation import theory
    from ..gan.models.mlp import as_numpy_fn
    if lab.dim == 1:
        lo, hi = lab.extent
        w = hi - lo
        x = np.linspace(lo - 2 * w, hi + 2 * w, 3001)
        p_g = theory.generator_density(as_numpy_fn(lab.G, device=lab.device), x,
                                       lab.noise.pdf, -6.0, 6.0, n_z=4001)
        return theory.jsd(lab.data.pdf(x), p_g, x)
    rng = np.random.default_rng(0)
    fake = _fakes(lab, rng.standard_normal((n, 2)))
    x0, x1, y0, y1 = lab.extent
    ex, ey = np.linspace(x0, x1, bins + 1), np.linspace(y0, y1, bins + 1)
    h, _, _ = np.histogram2d(fake[:, 0], fake[:, 1], bins=[ex, ey])
    outside = n - h.sum()                    # fakes outside the view: one extra cell
    cx, cy = np.meshgrid((ex[:-1] + ex[1:]) / 2, (ey[:-1] + ey[1:]) / 2, indexing="ij")
    key = (lab.dist_name, lab.extent, bins)
    pd = _DATA_CELLS.get(key)
    if pd is None:                           # p_data's mass per cell: fixed, so computed once
        if hasattr(lab.data, "pdf"):
            # a 3x3 midpoint rule inside each cell (the modes are narrow)
            pd = np.zeros_like(h)
            dx, dy = ex[1] - ex[0], ey[1] - ey[0]
            for a in (-1 / 3, 0, 1 / 3):
                for b in (-1 / 3, 0, 1 / 3):
                    pts = np.stack([(cx + a * dx).ravel(), (cy + b * dy).ravel()], 1)
                    pd += np.asarray(lab.data.pdf(pts), dtype=np.float64).reshape(h.shape)
        else:
            r = _sample_numpy(lab.data, 20 * n, rng)
            pd, _, _ = np.histogram2d(r[:, 0], r[:, 1], bins=[ex, ey])
        _DATA_CELLS.clear()
        _DATA_CELLS[key] = pd
    return _jsd_discrete(np.append(pd.ravel(), 0.0), np.append(h.ravel(), outside))
