"""The classifier-based scores: cache location, real-vs-real sanity, collapse and noise."""
import numpy as np
import pytest

from minigan.evaluation import scoring


@pytest.fixture(scope="module")
def scorer():
    """The scorer every image run uses (from the user's cache; trained there if missing)."""
    return scoring.get_scorer("digits", 8)


def test_cache_dir_honours_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "a"))
    assert scoring.cache_dir() == tmp_path / "a" and (tmp_path / "a").is_dir()
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert scoring.cache_dir() == tmp_path / "xdg" / "minigan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert scoring.cache_dir() == tmp_path / "home" / ".cache" / "minigan"


def test_the_judge_is_accurate(scorer):
    assert scorer.path.exists()
    assert scorer.test_accuracy > 0.96


def test_missing_cache_trains_then_loads_and_corrupt_cache_retrains(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))
    first = scoring.Scorer("digits", 8, epochs=1)      # a 1-epoch judge: the mechanism only
    assert first.trained_now and first.path.parent == tmp_path and first.path.exists()
    again = scoring.Scorer("digits", 8)                # same cache: loads, does not retrain
    assert not again.trained_now
    x = first.x_test[:50]
    np.testing.assert_allclose(again.features(x), first.features(x), atol=1e-5)
    first.path.write_bytes(b"not a checkpoint")
    s = scoring.Scorer("digits", 8, epochs=1)
    assert s.trained_now and s.path.stat().st_size > 1000


def test_the_judge_does_not_depend_on_the_blas_thread_count(tmp_path, monkeypatch):
    """Every machine must cache the same judge, or every score would depend on the load of
    the machine that trained it. A float32 training run sums in another order with two BLAS
    threads than with one, and the differences grow over the training steps; the judge is
    trained in float64, where they stay below float32's rounding of the final weights."""
    pytest.importorskip("threadpoolctl")     # what sets the BLAS thread count
    from minigan import backend
    weights = []
    for threads in (1, 2):
        monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / str(threads)))
        with backend.blas_threads(threads):
            s = scoring.Scorer("digits", 8, epochs=2)
        assert s.trained_now
        weights.append({k: backend.to_numpy(v.array) for k, v in s.model.state_dict().items()})
    assert all(w.dtype == np.float32 for w in weights[0].values() if w.dtype.kind == "f")
    # float64 runs 1e-10 apart can round to neighbouring float32 values; float32 training
    # fails this by far (its weights end up to 0.035 apart after a full training)
    for k in weights[0]:
        if weights[0][k].dtype.kind == "f":
            np.testing.assert_array_max_ulp(weights[0][k], weights[1][k], maxulp=1)
        else:
            np.testing.assert_array_equal(weights[0][k], weights[1][k], err_msg=k)


def test_building_the_judge_leaves_the_callers_random_numbers_alone(scorer):
    """Loading the cached judge (or training it) draws nothing from the caller's generator: a
    run measured on the way gets the same random numbers whether or not the judge was built
    earlier in the process."""
    from minigan import backend
    def draws():
        return [backend.to_numpy(backend.generator(d).standard_normal(4))
                for d in ("cpu", backend.default_device())]
    backend.manual_seed(5)
    expected = draws()
    backend.manual_seed(5)
    scoring.Scorer("digits", 8)                         # a new judge (built on the CPU)
    for got, want in zip(draws(), expected):
        np.testing.assert_array_equal(got, want)


def test_features_are_at_most_32_dims_and_standardised(scorer):
    f = scorer.features(scorer.x_train)
    assert f.shape == (len(scorer.x_train), scoring.FEATURE_DIM) and scoring.FEATURE_DIM <= 32
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-4)
    assert abs(np.sqrt((f ** 2).mean()) - 1) < 1e-3


def test_real_vs_real_is_near_zero_and_far_from_bad_batches(scorer):
    base = scorer.baseline()
    assert base["coverage"] == 10 and base["confidence"] > 0.95
    assert base["digit_score"] > 8.5 and base["kl_uniform"] < 0.02
    assert base["frechet"] < 0.5 and abs(base["kid"]) < 0.05
    assert base["precision"] > 0.9 and base["recall"] > 0.9
    noise = np.random.default_rng(0).uniform(-1, 1, (1000, 1, 8, 8)).astype(np.float32)
    s = scorer.score(noise)
    assert s["frechet"] > 20 * base["frechet"] and s["kid"] > 0.3
    assert s["recall"] < 0.5


def test_a_collapsed_batch_covers_one_class(scorer):
    one = np.repeat(scorer.x_test[:1], 400, axis=0)
    s = scorer.score(one)
    assert s["coverage"] == 1
    assert s["digit_score"] < 1.01                    # every sample the same class
    assert s["kl_uniform"] > 2.0                      # log 10 = 2.30 for a single class
    assert s["recall"] < 0.1 and s["prdc_coverage"] < 0.1
    base = scorer.baseline()
    assert s["frechet"] > 50 * base["frechet"]


def test_two_classes_only_is_seen_as_such(scorer):
    keep = np.isin(scorer.y_test, [0, 1])
    s = scorer.score(scorer.x_test[keep])
    assert s["coverage"] == 2
    assert s["frechet"] > 10 * scorer.baseline()["frechet"]


def test_bad_input_is_refused(scorer):
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        scorer.score(np.zeros((10, 1, 16, 16), np.float32))
    with pytest.raises(ValueError, match="unknown data"):
        scoring.Scorer("cifar")


def test_format_scores_prints_the_baseline(scorer):
    text = scoring.format_scores(scorer.baseline(), scorer.baseline(), title="real")
    assert "Fréchet distance" in text and text.count("\n") >= 10
