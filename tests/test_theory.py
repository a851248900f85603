"""Theory on a grid: D*, KL, JSD, C(G) = -log 4 + 2 JSD, V(D, G), and p_g of a 1-D generator
by the change of variables (checked against closed forms and against a KDE of samples)."""
import math

import numpy as np
import pytest
from scipy import stats

from minigan.evaluation import theory
from minigan.data import toy

X = theory.grid(-6, 12, 4001)


def normal(mu, s):
    return stats.norm(mu, s).pdf(X)


def test_optimal_discriminator_values():
    d = theory.optimal_discriminator(np.array([1.0, 0.0, 3.0, 0.0]), np.array([1.0, 2.0, 1.0, 0.0]))
    np.testing.assert_allclose(d, [0.5, 0.0, 0.75, 0.5])
    d2 = theory.optimal_discriminator(toy.Gaussian1D().pdf, toy.Gaussian1D(3, 1).pdf, x=X)
    assert d2.shape == X.shape and np.all((d2 >= 0) & (d2 <= 1))


def test_kl_matches_closed_form():
    m1, s1, m2, s2 = 4.0, 0.5, 3.0, 1.2
    exact = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    assert abs(theory.kl(normal(m1, s1), normal(m2, s2), X) - exact) < 1e-8
    assert theory.kl(normal(1, 1), normal(1, 1), X) == pytest.approx(0.0, abs=1e-10)
    u = np.where((X > 0) & (X < 1), 1.0, 0.0)
    assert theory.kl(normal(0.5, 1), u, X) == math.inf     # p has mass where q has none


def test_jsd_properties():
    p, q = normal(4, 0.5), normal(2, 1.0)
    j = theory.jsd(p, q, X)
    assert j == pytest.approx(theory.jsd(q, p, X), abs=1e-12)       # symmetric
    assert 0 < j < math.log(2)
    assert theory.jsd(p, p, X) == pytest.approx(0.0, abs=1e-10)
    # disjoint supports: JSD = log 2, C(G) = 0
    a = np.where((X > -5) & (X < -4), 1.0, 0.0)
    b = np.where((X > 5) & (X < 6), 1.0, 0.0)
    assert theory.jsd(a, b, X) == pytest.approx(math.log(2), abs=2e-3)
    # small shifts: JSD ~ d^2 / (8 s^2)
    assert theory.jsd(normal(4, 0.5), normal(4.05, 0.5), X) == pytest.approx(
        0.05 ** 2 / (8 * 0.25), rel=0.02)


@pytest.mark.parametrize("mu,s", [(4.0, 0.5), (3.5, 0.7), (2.0, 1.0), (6.0, 0.3), (0.5, 1.0)])
def test_value_of_optimal_d_is_virtual_criterion(mu, s):
    """Theorem 1: V(D*, G) = -log 4 + 2 JSD(p_data || p_g); any other D does worse."""
    p_data, p_g = normal(4, 0.5), normal(mu, s)
    d_star = theory.optimal_discriminator(p_data, p_g)
    c = theory.virtual_criterion(p_data, p_g, X)
    assert theory.value_function(d_star, p_data, p_g, X) == pytest.approx(c, abs=1e-6)
    assert c >= -theory.LOG4 - 1e-9
    rng = np.random.default_rng(0)
    worse = np.clip(d_star + 0.05 * rng.standard_normal(X.shape), 1e-6, 1 - 1e-6)
    assert theory.value_function(worse, p_data, p_g, X) < c
    assert theory.value_function(np.full_like(X, 0.5), p_data, p_g, X) == pytest.approx(
        -theory.LOG4, abs=1e-6)


def test_value_from_logits_estimates_c_of_g():
    data, gen = toy.Gaussian1D(4, 0.5), toy.Gaussian1D(3, 1)
    rng = np.random.default_rng(1)
    xr, xf = data.sample_numpy(200_000, rng)[:, 0], gen.sample_numpy(200_000, rng)[:, 0]

    def logit(x):
        return np.log(data.pdf(x)) - np.log(gen.pdf(x))
    v = theory.value_from_logits(logit(xr), logit(xf))
    assert v == pytest.approx(theory.virtual_criterion(data.pdf, gen.pdf, X), abs=0.01)
    # finite at saturated logits
    assert np.isfinite(theory.value_from_logits([1000.0, -1000.0], [-1000.0, 1000.0]))


def test_monotone_pieces():
    assert theory.monotone_pieces([0, 1, 2, 1, 0, 0, 3]) == [(0, 2), (2, 4), (5, 6)]
    assert theory.monotone_pieces([3, 2, 1]) == [(0, 2)]


def test_generator_density_affine_gaussian():
    p = theory.generator_density(lambda z: 4 + 0.5 * z, X, stats.norm.pdf, -8, 8)
    np.testing.assert_allclose(p, normal(4, 0.5), atol=1e-6)


def test_generator_density_decreasing_and_folded():
    u = toy.UniformNoise(1, -1, 1)
    x = theory.grid(-1.5, 1.5, 3001)
    # decreasing, contracting near 0: G(z) = -z^3 gives p(x) = 1/(6 |x|^(2/3)) on [-1, 1]
    p = theory.generator_density(lambda z: -z ** 3, x, u.pdf, -1, 1, n_z=200_001)
    ok = (np.abs(x) > 0.05) & (np.abs(x) < 0.99)
    np.testing.assert_allclose(p[ok], 1 / (6 * np.abs(x[ok]) ** (2 / 3)), rtol=2e-3)
    assert np.all(p[np.abs(x) > 1.01] == 0)
    # folded: G(z) = z^2 on U(-1, 1): both branches land on x, p(x) = 1 / (2 sqrt x) on (0, 1)
    p2 = theory.generator_density(lambda z: z ** 2, x, u.pdf, -1, 1, n_z=200_001)
    ok2 = (x > 0.05) & (x < 0.99)
    np.testing.assert_allclose(p2[ok2], 1 / (2 * np.sqrt(x[ok2])), rtol=2e-3)
    right = x >= 0.01        # the integrable spike at x = 0 is infinite: integrate past it
    assert theory.integrate(p2[right], x[right]) == pytest.approx(0.9, abs=1e-3)


def test_kde_cross_checks_change_of_variables():
    """The exact p_g and a KDE of 20,000 samples of G(z) agree (the KDE blurs a little)."""
    def G(z):
        return 4 + 0.6 * np.tanh(1.5 * z) + 0.2 * z
    u = toy.UniformNoise(1, -1, 1)
    x = theory.grid(2.5, 5.5, 1201)
    exact = theory.generator_density(G, x, u.pdf, -1, 1)
    rng = np.random.default_rng(2)
    kde = theory.kde_density(G(u.sample_numpy(20_000, rng)[:, 0]), x, bandwidth=0.05)
    inner = (x > 3.5) & (x < 4.5)
    assert np.max(np.abs(kde[inner] - exact[inner])) < 0.1 * exact.max()
    assert theory.jsd(exact, kde, x) < 0.02    # mostly the blurred edges


def test_density_validation():
    with pytest.raises(ValueError):
        theory.jsd(np.ones(3), np.ones(4), np.arange(3.0))
    with pytest.raises(ValueError):
        theory.kl(-np.ones(3), np.ones(3), np.arange(3.0))


def test_toy_distributions_sample_and_pdf():
    import minigan
    minigan.manual_seed(3)
    for dist in (toy.get_distribution("gauss1d"), toy.get_distribution("mix1d")):
        lo, hi = dist.support()
        x = theory.grid(lo, hi, 4001)
        assert theory.integrate(dist.pdf(x), x) == pytest.approx(1.0, abs=1e-5)
        s = dist.sample(20_000)
        assert s.shape == (20_000, 1) and s.dtype == minigan.float32
        assert np.asarray(s).mean() == pytest.approx(dist.mean(), abs=0.05)
    minigan.manual_seed(3)
    a = np.asarray(toy.get_distribution("mix1d").sample(10))
    minigan.manual_seed(3)
    assert np.array_equal(a, np.asarray(toy.get_distribution("mix1d").sample(10)))
    z = toy.get_noise("uniform").sample(1000)
    assert float(np.asarray(z).min()) >= -1 and float(np.asarray(z).max()) <= 1
    with pytest.raises(ValueError, match="unknown distribution"):
        toy.get_distribution("ring9")


def test_jsd_is_finite_with_denormal_densities():
    """(p + q) / 2 of a denormal rounds to 0; the JSD must not turn infinite (or log 2) there."""
    x = np.linspace(-5, 5, 2001)
    p = np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)
    q = np.exp(-(x - 1) ** 2 / 2) / np.sqrt(2 * np.pi)
    base = theory.jsd(p, q, x)
    p[0], q[0] = 5e-324, 0.0
    assert abs(theory.jsd(p, q, x) - base) < 1e-8 and base < 0.2
