"""Discriminator rejection sampling: with D's logit equal to the exact log density ratio, the
kept samples of p_g follow p_data (the rejection-sampling theorem), and bad input fails clearly."""
import math

import numpy as np
import pytest
from scipy import stats

import minigan
from minigan import nn, optim
from minigan.data import toy
from minigan.gan.rejection import fine_tune_discriminator, packed_log_ratio, rejection_sample
from minigan.gan.remedies import Packed


class ExactLogRatio(nn.Module):
    """logit(x) = log N(x; 0, s_data) - log N(x; 0, 1): D* for p_g = N(0, 1)."""

    def __init__(self, s_data):
        super().__init__()
        self.s = s_data

    def forward(self, x):
        return -x * x * (0.5 / self.s ** 2 - 0.5) - math.log(self.s)


def test_kept_samples_follow_p_data():
    minigan.manual_seed(0)
    G = nn.Identity()                                 # p_g = the noise, N(0, 1)
    kept, rate = rejection_sample(G, ExactLogRatio(0.5), toy.GaussianNoise(1), 4000,
                                  rng=np.random.default_rng(0))
    assert kept.shape == (4000, 1)
    # accepting with probability p_data / (M p_g) keeps 1/M of the draws: M = 2 here
    assert abs(rate - 0.5) < 0.03
    assert stats.kstest(kept[:, 0], stats.norm(0, 0.5).cdf).pvalue > 0.01
    assert stats.kstest(kept[:, 0], stats.norm(0, 1).cdf).pvalue < 1e-6


class PackedExactLogRatio(nn.Module):
    """PacGAN's optimal D on packs of m 1-D samples: the sum of the per-sample log ratios."""

    def __init__(self, s_data):
        super().__init__()
        self.one = ExactLogRatio(s_data)

    def forward(self, packs):                         # (N, m) -> (N, 1)
        return self.one(packs).sum(axis=1, keepdims=True)


def test_a_packed_d_read_through_fixed_partners_gives_exact_drs():
    """logit D*(x, y1, y2) = L(x) + L(y1) + L(y2): with fixed partners the constant cancels in
    DRS's logit_max, so the kept samples follow p_data exactly as with the per-sample D*."""
    minigan.manual_seed(0)
    G, noise, m = nn.Identity(), toy.GaussianNoise(1), 3
    D = Packed(PackedExactLogRatio(0.5), m)
    partners = noise.sample(4 * (m - 1))
    score = packed_log_ratio(D, m, partners, repeats=4)
    x = noise.sample(50)
    one = ExactLogRatio(0.5)(x).array
    offset = score(x).array - one
    assert np.allclose(offset, offset[0], atol=1e-5)          # L(x) plus one constant
    kept, rate = rejection_sample(G, score, noise, 4000, rng=np.random.default_rng(0))
    assert abs(rate - 0.5) < 0.03
    assert stats.kstest(kept[:, 0], stats.norm(0, 0.5).cdf).pvalue > 0.01
    assert stats.kstest(kept[:, 0], stats.norm(0, 1).cdf).pvalue < 1e-6
    with pytest.raises(ValueError, match="pack size"):
        packed_log_ratio(D, 1, partners)
    with pytest.raises(ValueError, match="partners need"):
        packed_log_ratio(D, m, partners[:3], repeats=4)


class PackedSlots2D(nn.Module):
    """A packed D on 2-D samples with the per-sample term f(v) = v1 v2 + v1 - 2 v2: the product
    needs both coordinates of one sample in one slot, so a pack laid out coordinate-major
    instead of sample-major shows."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, packs):                         # (N, m * 2) -> (N, 1)
        v = packs.reshape(packs.shape[0], self.m, 2)
        f = v[:, :, 0] * v[:, :, 1] + v[:, :, 0] - 2.0 * v[:, :, 1]
        return f.sum(axis=1, keepdims=True)


def test_packed_log_ratio_keeps_each_sample_whole_in_2d():
    minigan.manual_seed(1)
    m = 3
    D = Packed(PackedSlots2D(m), m)
    partners = toy.GaussianNoise(2).sample(2 * (m - 1))
    x = toy.GaussianNoise(2).sample(40)
    xd = x.array
    own = xd[:, 0] * xd[:, 1] + xd[:, 0] - 2.0 * xd[:, 1]
    offset = packed_log_ratio(D, m, partners, repeats=2)(x).array[:, 0] - own
    assert np.allclose(offset, offset[0], atol=1e-4)


def test_gamma_trades_acceptance_for_strictness():
    minigan.manual_seed(0)
    G, D, noise = nn.Identity(), ExactLogRatio(0.5), toy.GaussianNoise(1)
    loose, r_loose = rejection_sample(G, D, noise, 2000, gamma=-3.0)
    strict, r_strict = rejection_sample(G, D, noise, 2000, gamma=2.0)
    assert r_loose > r_strict
    assert loose.std() > strict.std()


def test_errors():
    G, noise = nn.Identity(), toy.GaussianNoise(1)

    class Never(nn.Module):
        def forward(self, x):                         # rejects everything but the best draw
            return -1e4 * (x * x)
    with pytest.raises(RuntimeError, match="acceptance rate"):
        rejection_sample(G, Never(), noise, 500, gamma=0.0, burn_in=100, max_draws=5000)
    # gamma="auto" shifts the test so about min_rate of each batch is kept, instead of failing
    kept, rate = rejection_sample(G, Never(), noise, 500, burn_in=100)
    assert kept.shape == (500, 1) and rate > 0.03
    assert np.abs(kept).mean() < 0.2              # still the draws D likes best (near 0)
    with pytest.raises(ValueError, match="n must be"):
        rejection_sample(G, ExactLogRatio(0.5), noise, 0)
    D = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="objective"):
        fine_tune_discriminator(G, D, optim.Adam(D.parameters()), toy.Gaussian1D(), noise,
                                steps=1, objective="wgan")


def test_fine_tuning_moves_d_towards_the_log_ratio():
    """A few hundred D steps with G frozen bring D's logit near log p_data/p_g."""
    minigan.manual_seed(1)
    D = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    data = toy.Gaussian1D(mu=0.0, sigma=0.5)
    fine_tune_discriminator(nn.Identity(), D, optim.Adam(D.parameters(), lr=1e-2), data,
                            toy.GaussianNoise(1), steps=400, batch_size=256)
    x = np.linspace(-1, 1, 21).reshape(-1, 1).astype(np.float32)
    got = D(minigan.tensor(x)).numpy()[:, 0]
    want = ExactLogRatio(0.5)(minigan.tensor(x)).numpy()[:, 0]
    assert np.max(np.abs(got - want)) < 0.3
