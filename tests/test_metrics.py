"""Sample-quality scores on cases whose answer is known."""
import numpy as np
import pytest

from minigan.evaluation import metrics


def _gauss(n, d, seed, shift=0.0, scale=1.0):
    return np.random.default_rng(seed).standard_normal((n, d)) * scale + shift


def test_frechet_distance_known_values():
    a = _gauss(4000, 4, 0)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # Same covariance, mean shifted by 1 in every one of 4 dims: distance ~ 4.
    assert metrics.frechet_distance(a, _gauss(4000, 4, 1, shift=1.0)) == pytest.approx(4.0, abs=0.15)
    # Same mean, std 2 vs 1 in d dims: d * (1 + 4 - 2*2) = d.
    assert metrics.frechet_distance(a, _gauss(4000, 4, 2, scale=2.0)) == pytest.approx(4.0, abs=0.3)
    # Two samples of one distribution: small, positive.
    assert 0 <= metrics.frechet_distance(a, _gauss(4000, 4, 3)) < 0.02


def test_frechet_distance_of_a_collapsed_set_is_finite_and_large():
    a = _gauss(500, 3, 0)
    collapsed = np.repeat(a[:1], 500, axis=0) + 1e-9 * _gauss(500, 3, 1)
    fd = metrics.frechet_distance(a, collapsed)
    assert np.isfinite(fd) and fd > 2.0


def test_kernel_distance_same_vs_different():
    a, b = _gauss(600, 8, 0), _gauss(600, 8, 1)
    same, _ = metrics.kernel_distance(a, b, subsets=5, subset_size=300)
    diff, _ = metrics.kernel_distance(a, _gauss(600, 8, 2, shift=0.5), subsets=5, subset_size=300)
    assert abs(same) < 0.02 and diff > 10 * max(abs(same), 0.005)


def test_prdc_identical_and_disjoint():
    a, b = _gauss(400, 2, 0), _gauss(400, 2, 1)
    s = metrics.prdc(a, b)
    assert s["precision"] > 0.8 and s["recall"] > 0.8 and s["coverage"] > 0.8
    assert 0.7 < s["density"] < 1.3
    far = metrics.prdc(a, _gauss(400, 2, 2, shift=20.0))
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    # A generator that covers only half the data: precision high, coverage about half.
    half = a[a[:, 0] > 0] + 0.01 * _gauss(int((a[:, 0] > 0).sum()), 2, 3)
    h = metrics.prdc(a, half)
    assert h["precision"] > 0.9 and 0.3 < h["coverage"] < 0.7


def test_class_scores_on_collapsed_and_uniform_batches():
    eye = np.eye(10)
    uniform_batch = eye[np.arange(1000) % 10]
    collapsed = eye[np.zeros(1000, dtype=int)]
    assert metrics.digit_score(uniform_batch) == pytest.approx(10.0)
    assert metrics.digit_score(collapsed) == pytest.approx(1.0)
    assert metrics.class_coverage(uniform_batch) == 10 and metrics.class_coverage(collapsed) == 1
    assert metrics.kl_to_uniform(uniform_batch) == pytest.approx(0.0)
    assert metrics.kl_to_uniform(collapsed) == pytest.approx(np.log(10))
    assert metrics.mean_confidence(np.full((5, 10), 0.1)) == pytest.approx(0.1)


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.digit_score(np.ones((3, 10)))
    with pytest.raises(ValueError, match="feature dimensions"):
        metrics.frechet_distance(_gauss(10, 2, 0), _gauss(10, 3, 0))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.full((4, 2), np.nan), _gauss(4, 2, 0))


def test_sharpness_orders_blur():
    rng = np.random.default_rng(0)
    sharp = rng.choice([-1.0, 1.0], size=(20, 8, 8))
    blurred = (sharp + np.roll(sharp, 1, 1) + np.roll(sharp, 1, 2) + np.roll(sharp, (1, 1), (1, 2))) / 4
    assert metrics.sharpness(sharp) > 3 * metrics.sharpness(blurred)
    assert metrics.sharpness(np.zeros((3, 1, 8, 8))) == 0.0
