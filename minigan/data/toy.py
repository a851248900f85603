"""Toy distributions: the p_data a GAN learns and the p_z its generator starts from.

In one dimension everything about a GAN can be *seen* and *measured*: the data density
p_data(x) is known in closed form, the generator's density p_g(x) can be computed exactly
(``minigan.evaluation.theory.generator_density``), so D*, the JSD and C(G) are numbers, not guesses.

* ``Gaussian1D(4, 0.5)``: N(4, 0.5), the target of the classic 1-D GAN demos.
* ``Mixture1D``: K Gaussians with weights, the simplest place where a GAN can drop modes.
* ``separated_mixture(k, spacing)``: K equal Gaussians far apart -- the 1-D mode-collapse toy.
* ``ring8()`` / ``grid25()``: the 2-D benchmarks of Metz et al. and PacGAN (``MixtureGrid2D``):
  8 Gaussians (sigma 0.01) on the unit circle, 25 (sigma 0.05) on {-4, -2, 0, 2, 4}^2.
* ``UniformNoise`` / ``GaussianNoise``: p_z. Goodfellow et al.'s Figure 1 draws z uniform on
  a line under the x axis; Gaussian z is the usual choice in deep GANs.

Every distribution has ``dim``, ``pdf(x)`` (host-side, NumPy, for theory and plots),
``sample(n, device=None)`` (a Tensor, drawn from minigan's seeded generator so that a run and
its checkpoint/resume repeat bit for bit) and ``support()`` (a range holding all but a
negligible mass: the x axis of the figures). ``DISTRIBUTIONS`` maps the CLI names to
factories; the 2-D ones (``dim = 2``) take (n, 2) arrays in ``pdf``. The mode metrics that
score samples against these mixtures live in ``minigan.evaluation.modes``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Distribution", "Gaussian1D", "Mixture1D", "MixtureGrid2D", "UniformNoise",
           "GaussianNoise", "separated_mixture", "ring8", "grid25", "DISTRIBUTIONS", "NOISES",
           "get_distribution", "get_noise"]

_SQRT2PI = math.sqrt(2.0 * math.pi)


def _normal_pdf(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * _SQRT2PI)


def _to_tensor(arr, device, dtype):
    import minigan
    return minigan.tensor(arr.astype(dtype or minigan.get_default_dtype(), copy=False),
                          device=device)


class Distribution:
    """A distribution we can evaluate and sample. Subclasses set ``dim`` and the methods."""
    dim = 1
    name = "distribution"

    def pdf(self, x):
        """The density at the points ``x`` (a NumPy array; shape (n,) in 1-D)."""
        raise NotImplementedError

    def sample_numpy(self, n, rng):
        """``n`` samples, shape (n, dim), float64, drawn from the NumPy Generator ``rng``."""
        raise NotImplementedError

    def support(self):
        """(lo, hi): a range outside which the mass is negligible (< 1e-6)."""
        raise NotImplementedError

    def sample(self, n, device=None, dtype=None):
        """``n`` samples as an (n, dim) Tensor, from minigan's (seeded) CPU generator.

        We always draw on the CPU and then move the batch, so a run gives the same samples on
        every device and the CPU generator's state (saved in checkpoints) is the whole story.
        """
        from .. import backend
        arr = self.sample_numpy(int(n), backend.generator("cpu"))
        return _to_tensor(arr, device, dtype)

    def mean(self):
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Gaussian1D(Distribution):
    """N(mu, sigma) in one dimension (``Gaussian1D()`` is the classic N(4, 0.5))."""

    def __init__(self, mu=4.0, sigma=0.5):
        if sigma <= 0:
            raise ValueError(f"Gaussian1D: sigma must be positive, got {sigma}")
        self.mu, self.sigma = float(mu), float(sigma)
        self.name = f"N({self.mu:g}, {self.sigma:g})"

    def pdf(self, x):
        return _normal_pdf(np.asarray(x, dtype=np.float64), self.mu, self.sigma)

    def sample_numpy(self, n, rng):
        return self.mu + self.sigma * rng.standard_normal((n, 1))

    def support(self):
        return (self.mu - 5.5 * self.sigma, self.mu + 5.5 * self.sigma)

    def mean(self):
        return self.mu


class Mixture1D(Distribution):
    """A mixture of K Gaussians: p(x) = sum_k w_k N(x; mu_k, sigma_k)."""

    def __init__(self, means=(-2.0, 2.0), stds=0.5, weights=None):
        self.means = np.atleast_1d(np.asarray(means, dtype=np.float64))
        k = len(self.means)
        self.stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), (k,)).copy()
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (k,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"Mixture1D: need {k} non-negative weights summing to 1, got {w}")
        if np.any(self.stds <= 0):
            raise ValueError("Mixture1D: standard deviations must be positive")
        self.weights = w
        self.name = f"mixture of {k} Gaussians"

    @property
    def k(self):
        return len(self.means)

    def pdf(self, x):
        x = np.asarray(x, dtype=np.float64)[..., None]
        return (self.weights * _normal_pdf(x, self.means, self.stds)).sum(-1)

    def sample_numpy(self, n, rng):
        comp = rng.choice(self.k, size=n, p=self.weights)
        eps = rng.standard_normal(n)
        return (self.means[comp] + self.stds[comp] * eps)[:, None]

    def support(self):
        return (float((self.means - 5.5 * self.stds).min()),
                float((self.means + 5.5 * self.stds).max()))

    def mean(self):
        return float((self.weights * self.means).sum())


def separated_mixture(k=4, spacing=4.0, sigma=0.5):
    """K equal-weight Gaussians N(mu_j, sigma) with centres ``spacing`` apart, centred on 0.

    With the defaults the modes sit 8 standard deviations apart: the density between two of
    them is ~e^-8 of a peak, so a generator that covers two modes must put (almost) no mass
    in the gap -- it has to *tear* its smooth image of z, which is exactly what a GAN finds
    hard, and why it tends to settle on a subset of the modes. ``k=2`` is the theory lab's
    mix1d (centres ±2).
    """
    if int(k) < 1:
        raise ValueError(f"separated_mixture: need k >= 1 modes, got {k}")
    k = int(k)
    means = spacing * (np.arange(k) - (k - 1) / 2.0)
    m = Mixture1D(means=means, stds=sigma)
    m.name = f"{k} Gaussians {spacing:g} apart (sigma {sigma:g})"
    return m


class MixtureGrid2D(Distribution):
    """Equal-weight isotropic 2-D Gaussians N(c_j, sigma^2 I) at the given centres.

    The two standard mode-collapse benchmarks (Metz et al. 2017; PacGAN, Lin et al. 2018):

    * ``ring8()``:  8 centres (cos 2 pi k/8, sin 2 pi k/8), sigma = 0.01 -- tiny, far apart;
    * ``grid25()``: 25 centres {-4, -2, 0, 2, 4}^2, sigma = 0.05.

    ``centres`` (J, 2) and ``sigma`` are what ``minigan.evaluation.modes`` scores samples against.
    ``pdf`` takes an (n, 2) array (or (..., 2)) and returns (n,) (or (...)).
    """
    dim = 2

    def __init__(self, centres, sigma, name="2-D mixture"):
        self.centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        self.sigma = float(sigma)
        if self.sigma <= 0:
            raise ValueError(f"MixtureGrid2D: sigma must be positive, got {sigma}")
        self.name = name

    @property
    def k(self):
        return len(self.centres)

    def pdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        d2 = ((x[..., None, :] - self.centres) ** 2).sum(-1)
        norm = 1.0 / (2.0 * math.pi * self.sigma ** 2 * self.k)
        return norm * np.exp(-0.5 * d2 / self.sigma ** 2).sum(-1)

    def sample_numpy(self, n, rng):
        comp = rng.integers(0, self.k, size=n)
        return self.centres[comp] + self.sigma * rng.standard_normal((n, 2))

    def support(self):
        lo = float(self.centres.min()) - 6 * self.sigma
        hi = float(self.centres.max()) + 6 * self.sigma
        return (lo, hi)

    def mean(self):
        return self.centres.mean(0)


def ring8(sigma=0.01, radius=1.0):
    """8 Gaussians on a circle: centres (r cos 2 pi k/8, r sin 2 pi k/8), k = 0..7."""
    t = 2.0 * math.pi * np.arange(8) / 8.0
    return MixtureGrid2D(np.stack([radius * np.cos(t), radius * np.sin(t)], 1), sigma,
                         name=f"ring of 8 Gaussians (sigma {sigma:g})")


def grid25(sigma=0.05, spacing=2.0):
    """25 Gaussians on the grid {-4, -2, 0, 2, 4}^2 (``spacing`` 2)."""
    g = spacing * (np.arange(5) - 2.0)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    return MixtureGrid2D(np.stack([xx.ravel(), yy.ravel()], 1), sigma,
                         name=f"grid of 25 Gaussians (sigma {sigma:g})")


class UniformNoise(Distribution):
    """z ~ U(lo, hi)^dim: the noise of Goodfellow et al.'s Figure 1 (the z line)."""

    def __init__(self, dim=1, lo=-1.0, hi=1.0):
        self.dim, self.lo, self.hi = int(dim), float(lo), float(hi)
        self.name = f"U({self.lo:g}, {self.hi:g})"

    def pdf(self, z):
        z = np.asarray(z, dtype=np.float64)
        inside = (z >= self.lo) & (z <= self.hi)
        return np.where(inside, 1.0 / (self.hi - self.lo), 0.0)

    def sample_numpy(self, n, rng):
        return self.lo + (self.hi - self.lo) * rng.random((n, self.dim))

    def support(self):
        return (self.lo, self.hi)

    def mean(self):
        return 0.5 * (self.lo + self.hi)


class GaussianNoise(Distribution):
    """z ~ N(0, I): the usual noise of deep GANs."""

    def __init__(self, dim=1):
        self.dim = int(dim)
        self.name = "N(0, 1)"

    def pdf(self, z):
        return _normal_pdf(np.asarray(z, dtype=np.float64), 0.0, 1.0)

    def sample_numpy(self, n, rng):
        return rng.standard_normal((n, self.dim))

    def support(self):
        return (-6.0, 6.0)

    def mean(self):
        return 0.0


# The names the CLI accepts. mix1d takes the number of modes (2: the theory lab's ±2).
DISTRIBUTIONS = {
    "gauss1d": lambda: Gaussian1D(4.0, 0.5),
    "mix1d": lambda k=2, spacing=4.0: separated_mixture(k, spacing),
    "ring8": ring8,
    "grid25": grid25,
}

NOISES = {
    "uniform": UniformNoise,
    "gaussian": GaussianNoise,
}


def get_distribution(name, modes=None, spacing=None):
    """A toy p_data by its CLI name (``gauss1d``, ``mix1d``, ``ring8``, ``grid25``).

    ``modes`` sets K for ``mix1d`` (default 2), ``spacing`` the distance between its centres
    (default 4, i.e. 8 sigma).
    """
    try:
        factory = DISTRIBUTIONS[name]
    except KeyError:
        raise ValueError(f"unknown distribution {name!r}; choose from "
                         f"{', '.join(sorted(DISTRIBUTIONS))}") from None
    if name == "mix1d" and (modes is not None or spacing is not None):
        return factory(int(modes or 2), float(spacing or 4.0))
    return factory()


def get_noise(name, dim=1):
    """A noise distribution p_z by name (``uniform`` on [-1, 1] or ``gaussian``)."""
    try:
        return NOISES[name](dim)
    except KeyError:
        raise ValueError(f"unknown noise {name!r}; choose from {', '.join(NOISES)}") from None
