"""Mode metrics (minigan.evaluation.modes) and the 2-D toys: true samples score ~99 % HQ and every mode,
collapsed samples one mode, and the reverse KL / JSD behave as their definitions say."""
import math

import numpy as np
import pytest

from minigan.evaluation import modes
from minigan.data import toy


@pytest.mark.parametrize("make, j", [(toy.ring8, 8), (toy.grid25, 25)])
def test_true_samples_score_every_mode_and_about_99_percent(make, j):
    data = make()
    rng = np.random.default_rng(0)
    x = data.sample_numpy(2500, rng)
    s = modes.mode_metrics(x, data)
    assert s.n_modes == j and s.modes == j
    # a 2-D Gaussian has exp(-4.5) = 1.11 % of its mass beyond 3 sigma
    assert 0.980 <= s.hq <= 0.995
    assert s.rev_kl < 0.01 + 0.01 * (j == 25)
    assert sum(s.counts) == round(s.hq * 2500)


def test_centres_are_the_published_ones():
    r, g = toy.ring8(), toy.grid25()
    np.testing.assert_allclose(r.centres[2], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(r.centres, axis=1), 1.0)
    assert r.sigma == 0.01 and g.sigma == 0.05
    assert set(map(tuple, g.centres)) == {(a, b) for a in (-4, -2, 0, 2, 4)
                                          for b in (-4, -2, 0, 2, 4)}
    # the density integrates to one (grid quadrature over a box around one ring mode x 8)
    ax = np.linspace(-0.08, 0.08, 401)
    xx, yy = np.meshgrid(ax + 1.0, ax)
    mass = r.pdf(np.stack([xx, yy], -1)).sum() * (ax[1] - ax[0]) ** 2
    assert abs(mass * 8 - 1.0) < 1e-3


def test_collapsed_samples_score_one_mode():
    data = toy.grid25()
    rng = np.random.default_rng(1)
    x = data.centres[7] + 0.05 * rng.standard_normal((2500, 2))
    s = modes.mode_metrics(x, data)
    assert s.modes == 1 and s.hq > 0.97
    assert s.rev_kl == pytest.approx(math.log(25), rel=1e-9)


def test_scattered_samples_are_low_quality():
    data = toy.ring8()
    rng = np.random.default_rng(2)
    x = rng.uniform(-1.5, 1.5, (2500, 2))
    s = modes.mode_metrics(x, data)
    assert s.hq < 0.01          # 8 discs of radius 0.03 cover 0.25 % of the square


def test_half_the_modes_gives_log2_reverse_kl_and_nan_samples_do_not_count():
    data = toy.ring8()
    rng = np.random.default_rng(3)
    comp = rng.integers(0, 4, 2000)
    x = data.centres[comp] + 0.01 * rng.standard_normal((2000, 2))
    x = np.concatenate([x, np.full((500, 2), np.nan)])
    s = modes.mode_metrics(x, data)
    assert s.modes == 4
    assert s.hq < 0.8
    assert abs(s.rev_kl - math.log(2)) < 0.01


def test_one_d_mixture_metrics_and_jsd():
    data = toy.separated_mixture(4)
    np.testing.assert_allclose(data.means, [-6, -2, 2, 6])
    rng = np.random.default_rng(4)
    x = data.sample_numpy(2500, rng)
    s = modes.mode_metrics(x, data)
    assert s.modes == 4 and s.hq > 0.99            # 1-D: 0.27 % beyond 3 sigma
    assert modes.jsd_1d(x, data) < 0.01
    one = 2.0 + 0.5 * rng.standard_normal(2500)
    s1 = modes.mode_metrics(one, data)
    assert s1.modes == 1
    # p_g = one of the 4 modes: JSD = (1/2)(log 2 ... ) computed by quadrature is large
    assert modes.jsd_1d(one, data) > 0.3
    exact = modes.jsd_1d(lambda t: toy.Gaussian1D(2.0, 0.5).pdf(t), data)
    # analytic: p_g = 4 p_data on its mode, 0 elsewhere: JSD = 1/2 [1/4 log(2/5) + 3/4 log 2
    # + log(8/5)]
    p = 0.25
    ref = 0.5 * (p * math.log(2 * p / (p + 1)) + 3 * p * math.log(2)
                 + math.log(2 / (p + 1)))
    assert exact == pytest.approx(ref, abs=2e-3)


def test_mode_metrics_rejects_wrong_dimension():
    with pytest.raises(ValueError, match="do not match"):
        modes.mode_metrics(np.zeros((10, 3)), toy.ring8())
