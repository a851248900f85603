"""The theory of Goodfellow et al. (2014), as numbers you can compute.

The lecture notes (``shared/seeds/002``) prove two facts about the minimax game

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

1. For a fixed generator, the best discriminator is

       D*_G(x) = p_data(x) / (p_data(x) + p_g(x)),

   because for each x, ``a log y + b log(1 - y)`` is maximised at ``y = a / (a + b)``.

2. Plugging D* back in gives the *virtual training criterion*

       C(G) = max_D V(D, G) = -log 4 + 2 * JSD(p_data || p_g),

   which is minimised (at -log 4) exactly when p_g = p_data. So training G against an optimal
   D minimises the Jensen-Shannon divergence.

This module evaluates every object in those statements on a grid of x values (1-D), so a
student can check them against a *trained* discriminator: ``optimal_discriminator``, ``kl``,
``jsd``, ``virtual_criterion`` (C(G)), ``value_function`` (V from densities) and
``value_from_logits`` (V estimated from samples). It also computes p_g, the density of a
1-D generator's output, exactly by the change of variables (``generator_density``) and, as a
cross-check, by kernel density estimation from samples (``kde_density``).

This is a host-side module: it works on NumPy arrays (densities live on the CPU) and uses
SciPy for integration and kernel densities. All divergences are in nats (natural log).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["LOG4", "grid", "integrate", "optimal_discriminator", "kl", "jsd",
           "virtual_criterion", "value_function", "value_from_logits", "generator_density",
           "kde_density", "monotone_pieces"]

LOG4 = math.log(4.0)   # C(G) at the optimum is -log 4 ~ -1.386


def grid(lo, hi, n=2001):
    """``n`` equally spaced points from ``lo`` to ``hi`` (float64): the x axis of every figure."""
    if not hi > lo:
        raise ValueError(f"grid: need hi > lo, got [{lo}, {hi}]")
    return np.linspace(float(lo), float(hi), int(n))


def integrate(values, x):
    """The integral of sampled ``values`` over the grid ``x`` (Simpson's rule, via SciPy).

    Simpson's rule is exact for cubics on each pair of cells, so with a 2001-point grid the
    quadrature error on smooth densities is far below anything we measure.
    """
    from scipy.integrate import simpson
    return float(simpson(np.asarray(values, dtype=np.float64), x=np.asarray(x, np.float64)))


def _density(p, x):
    """A density given as an array on ``x`` or as a callable ``p(x)``: its values on ``x``."""
    vals = p(x) if callable(p) else p
    vals = np.asarray(vals, dtype=np.float64)
    if vals.shape != np.shape(x):
        raise ValueError(f"a density on a grid of shape {np.shape(x)} has shape {vals.shape}")
    if np.any(vals < 0) or not np.all(np.isfinite(vals)):
        raise ValueError("densities must be finite and non-negative")
    return vals


def optimal_discriminator(p_data, p_g, x=None):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al., Proposition 1).

    ``p_data`` and ``p_g`` are density values on the same points (arrays), or callables when
    ``x`` is given. Where both densities are 0, D* is not determined by the theory (no sample
    ever lands there); we return 1/2 there, the value of a discriminator that cannot tell.
    """
    if x is not None:
        p_data, p_g = _density(p_data, x), _density(p_g, x)
    p_data = np.asarray(p_data, dtype=np.float64)
    p_g = np.asarray(p_g, dtype=np.float64)
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)
    return d


def _xlogy_ratio(p, q):
    """p * log(p / q) with the conventions 0 log(0/q) = 0 and p log(p/0) = +inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) -
                                   np.log(np.where(q > 0, q, 1.0))), 0.0)
        out = np.where((p > 0) & (q <= 0), np.inf, out)
    return out


def kl(p, q, x):
    """KL(p || q) = integral of p log(p / q) dx, in nats, by quadrature on the grid ``x``.

    Infinite when p puts mass where q has none: the reason the original GAN objective, which
    is a JSD and not a KL, is the one that stays finite when p_g and p_data do not overlap.
    """
    p, q = _density(p, x), _density(q, x)
    terms = _xlogy_ratio(p, q)
    if np.isinf(terms).any():
        return math.inf
    return integrate(terms, x)


def jsd(p, q, x):
    """Jensen-Shannon divergence in nats: ½ KL(p || m) + ½ KL(q || m) with m = (p + q) / 2.

    Symmetric, always finite, between 0 (p = q) and log 2 (no overlap at all). Both KLs are
    against the mixture m, which is positive wherever p or q is, so no term is infinite.
    """
    p, q = _density(p, x), _density(q, x)
    # p log(p / m) = ½ (2p) log(2p / (p + q)): no halving, because (p + q) / 2 of a denormal
    # p rounds to 0 and would turn a finite term into inf.
    s = p + q
    val = 0.25 * (integrate(_xlogy_ratio(2 * p, s), x) + integrate(_xlogy_ratio(2 * q, s), x))
    return float(min(max(val, 0.0), math.log(2.0)))   # clip tiny quadrature excursions


def virtual_criterion(p_data, p_g, x):
    """C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g) (Goodfellow et al., Theorem 1)."""
    return -LOG4 + 2.0 * jsd(p_data, p_g, x)


def value_function(d, p_data, p_g, x, from_logits=False):
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx for a discriminator given on the grid.

    ``d`` holds D(x) on ``x`` (probabilities), or D's logits with ``from_logits=True`` (exact
    even where D is saturated). With d = optimal_discriminator(p_data, p_g) this equals
    ``virtual_criterion``: the identity the lecture notes prove, checked numerically.
    Terms where a density is 0 contribute 0 (even if D is exactly 0 or 1 there).
    """
    p_data, p_g = _density(p_data, x), _density(p_g, x)
    d = np.asarray(d, dtype=np.float64)
    if from_logits:
        log_d, log_1md = _log_sigmoid(d), _log_sigmoid(-d)
    else:
        # A probability of exactly 1 in float64 only means 1 - D < 1e-16: clip there, so
        # p_g log(1 - D) is p_g * (-36.7), not p_g * (-inf), where p_g is ~1e-16 of p_data.
        d = np.clip(d, 1e-300, 1.0 - 2.0 ** -53)
        log_d, log_1md = np.log(d), np.log1p(-d)
    a = np.where(p_data > 0, p_data * log_d, 0.0)
    b = np.where(p_g > 0, p_g * log_1md, 0.0)
    return integrate(a + b, x)


def _log_sigmoid(t):
    return np.minimum(t, 0.0) - np.log1p(np.exp(-np.abs(t)))


def value_from_logits(real_logits, fake_logits):
    """The sample estimate of V(D, G) from D's logits on real samples and on G(z) samples.

        V ≈ mean log D(x_i) + mean log(1 - D(G(z_j))),  D = sigmoid(logit)

    computed as log_sigmoid(real) and log_sigmoid(-fake), finite at any logit. Its standard
    error falls like 1/sqrt(n): with 10^5 samples per side it is a few 10^-3 nats.
    """
    r = np.asarray(real_logits, dtype=np.float64).ravel()
    f = np.asarray(fake_logits, dtype=np.float64).ravel()
    return float(_log_sigmoid(r).mean() + _log_sigmoid(-f).mean())


def monotone_pieces(values):
    """Split indices 0..n-1 into maximal runs where ``values`` is strictly monotone.

    Returns a list of (start, stop) index pairs (stop inclusive) that share end points, so the
    pieces cover the whole curve. Flat steps (equal neighbours) end a piece: a generator that
    is constant on an interval puts a point mass there, which no density can describe.
    """
    v = np.asarray(values, dtype=np.float64)
    s = np.sign(np.diff(v))
    pieces, start = [], 0
    for i in range(1, len(s) + 1):
        if i == len(s) or s[i] != s[start] or s[i] == 0:
            if s[start] != 0:
                pieces.append((start, i))
            start = i
    return pieces


def generator_density(G, x, z_pdf, z_lo, z_hi, n_z=20001):
    """The exact density p_g(x) of x = G(z), z ~ p_z on [z_lo, z_hi], by the change of variables.

    For an invertible piece of G, p_g(x) = p_z(z) / |G'(z)| at z = G^{-1}(x): where G
    *contracts* a stretch of z (small |G'|) the samples crowd together and p_g is high (the
    short arrows in Goodfellow's Figure 1). A non-monotone G folds the z line, and every fold
    that lands on x adds its term:

        p_g(x) = sum over z with G(z) = x of p_z(z) / |G'(z)|.

    How: evaluate G on a fine grid of ``n_z`` values of z, split it into monotone pieces,
    and on each piece invert G by linear interpolation; the slope dz/dx of each little chord
    is the exact |1/G'| of the piecewise-linear interpolant of G. (A ReLU network *is*
    piecewise linear; for smooth G the error shrinks like the grid spacing squared.)

    ``G`` maps a float64 array of z to an array of x of the same length (use
    ``minigan.gan.as_numpy_fn(generator)`` for a network). ``z_pdf`` is the noise density.
    For unbounded z (Gaussian), pass a range holding all but a negligible mass (±8).
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.linspace(float(z_lo), float(z_hi), int(n_z))
    gz = np.asarray(G(z), dtype=np.float64).reshape(-1)
    if gz.shape != z.shape:
        raise ValueError(f"generator_density: G returned shape {gz.shape} for {z.shape} inputs")
    pz = np.asarray(z_pdf(z), dtype=np.float64)
    p = np.zeros_like(x)
    for a, b in monotone_pieces(gz):
        zs, xs, ps = z[a:b + 1], gz[a:b + 1], pz[a:b + 1]
        if xs[-1] < xs[0]:                        # a decreasing piece: read it backwards
            zs, xs, ps = zs[::-1], xs[::-1], ps[::-1]
        # Which chord [xs[k], xs[k+1]) holds each x? Its slope is dz/dx on that chord.
        k = np.searchsorted(xs, x, side="right") - 1
        inside = (k >= 0) & (k < len(xs) - 1)
        kk = np.clip(k, 0, len(xs) - 2)
        dx = xs[kk + 1] - xs[kk]
        t = (x - xs[kk]) / dx
        dzdx = np.abs(zs[kk + 1] - zs[kk]) / dx
        pz_at = ps[kk] + t * (ps[kk + 1] - ps[kk])
        p += np.where(inside, pz_at * dzdx, 0.0)
    return p


def kde_density(samples, x, bandwidth=None):
    """p_g estimated from samples by a Gaussian kernel density (SciPy's ``gaussian_kde``).

    A cross-check of ``generator_density``: it needs no access to G, only its outputs, but it
    blurs sharp edges by the kernel width (Scott's rule unless ``bandwidth`` is given).
    """
    from scipy.stats import gaussian_kde
    s = np.asarray(samples, dtype=np.float64).reshape(-1)
    kde = gaussian_kde(s, bw_method=bandwidth)
    return kde(np.asarray(x, dtype=np.float64))
