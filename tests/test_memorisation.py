"""The nearest-training-example check: neighbours are right, copies are caught, new digits
are not mistaken for copies."""
import numpy as np
import pytest

from minigan.data import digits
from minigan.evaluation.memorisation import (
    format_memorisation,
    memorisation_check,
    nearest_training,
)


@pytest.fixture(scope="module")
def split_digits():
    xtr, _ = digits("train", as_tensor=False)
    xte, _ = digits("test", as_tensor=False)
    return xtr.astype(np.float64), xte.astype(np.float64)


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    q, t = rng.normal(size=(37, 1, 3, 3)), rng.normal(size=(53, 1, 3, 3))
    idx, dist = nearest_training(q, t, batch=10)          # several batches
    full = np.linalg.norm(q.reshape(37, 1, -1) - t.reshape(1, 53, -1), axis=2)
    np.testing.assert_array_equal(idx, full.argmin(1))
    np.testing.assert_allclose(dist, full.min(1), rtol=1e-10)
    # a training image is its own nearest neighbour, at distance 0 (never NaN from rounding)
    idx, dist = nearest_training(t[[5, 7]], t)
    np.testing.assert_array_equal(idx, [5, 7])
    assert np.all(dist >= 0) and np.all(dist < 1e-6)


def test_a_copying_generator_is_caught(split_digits):
    """'Samples' that are training digits plus a little noise sit far closer to the training
    set than held-out digits do, in pixels and in features."""
    xtr, xte = split_digits
    rng = np.random.default_rng(1)
    copies = xtr[rng.choice(len(xtr), 200)] + rng.normal(0, 0.05, (200,) + xtr.shape[1:])
    feats = lambda x: np.asarray(x).reshape(len(x), -1)[:, ::2]     # noqa: E731
    r = memorisation_check(copies, xtr, xte, features=feats)
    for space in ("pixels", "features"):
        assert r[space]["ratio"] < 0.3, (space, r[space]["ratio"])
        assert r[space]["near_copies"] > 0.9
    assert r["pixels"]["nearest"].shape == (200,)
    text = format_memorisation(r)
    assert "pixels" in text and "features" in text


def test_new_real_digits_are_not_flagged(split_digits):
    """Half of the held-out digits posing as samples, against the other half: the same
    distances (ratio near 1, near-copies near the 1 % of chance)."""
    xtr, xte = split_digits
    rng = np.random.default_rng(2)
    perm = rng.permutation(len(xte))
    a, b = xte[perm[: len(xte) // 2]], xte[perm[len(xte) // 2:]]
    r = memorisation_check(a, xtr, b)
    assert 0.85 < r["pixels"]["ratio"] < 1.15
    assert r["pixels"]["near_copies"] < 0.05
    assert "features" not in r


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="non-empty"):
        nearest_training(np.zeros((0, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="numbers per item"):
        nearest_training(np.zeros((2, 4)), np.zeros((3, 5)))
