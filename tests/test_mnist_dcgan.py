"""The 28×28 DCGAN (the classic MNIST layout) and the MNIST scorer."""
import numpy as np
import pytest

import minigan
from minigan.experiments.images import base
from minigan.gan.models.dcgan import dcgan_pair


def test_classic_layout_z_to_7_14_28_and_d_mirrored():
    from minigan.experiments.images import DEFAULTS
    from minigan.experiments.images.registry import MODELS
    c = {**DEFAULTS["dcgan"], **MODELS["dcgan"].size28}
    G, D = dcgan_pair(28, z_dim=c["z_dim"], g_width=c["g_width"], d_width=c["d_width"])
    x = minigan.randn(3, c["z_dim"]).reshape(3, c["z_dim"], 1, 1)
    sides, kinds = [], []
    for layer in G.net:
        x = layer(x)
        if type(layer).__name__ == "ConvTranspose2d":
            sides.append(x.shape[2:])
        kinds.append(type(layer).__name__)
    assert sides == [(7, 7), (14, 14), (28, 28)] and x.shape == (3, 1, 28, 28)
    assert kinds.count("BatchNorm2d") == 2 and kinds[-1] == "Tanh"
    y, sides = x, []
    for layer in D.net:
        y = layer(y)
        if type(layer).__name__ == "Conv2d":
            sides.append(y.shape[2:])
    assert sides == [(14, 14), (7, 7)] and y.shape == (3, 1)
    assert D.features(x).shape == (3, 2 * c["d_width"] * 49)


def test_mnist_runs_write_at_least_10000_samples(tmp_path, monkeypatch):
    from minigan.experiments.images import run_images
    assert base.N_SAMPLES_28 >= 10000
    monkeypatch.setattr(base, "N_SAMPLES_28", 64)      # the same path, fewer samples (speed)
    s = run_images("dcgan", steps=2, quick=True, data="mnist", out=tmp_path, score=False,
                   figures=False, verbose=False, ema=0.0)
    assert s["run"].n_samples == 64 and s["size"] == 28 and s["config"]["z_dim"] == 100
    x = np.load(tmp_path / "samples.npy")
    assert x.shape == (64, 1, 28, 28) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0


@pytest.mark.not_on_standin("trains a classifier for an epoch; the scorer's device path is "
                            "tested on the digits")
def test_mnist_scorer_learns_the_held_out_digits_and_is_cached(tmp_path, monkeypatch):
    from minigan.evaluation import scoring
    real = scoring._load_real("mnist", 28)
    assert [len(a) for a in real] == [4500, 4500, 500, 500]
    assert real[0].shape[1:] == (1, 28, 28) and real[0].min() >= -1 and real[0].max() <= 1
    # the judge's training on a third of the digits for one epoch (the default: all 4500 for
    # 8 epochs, 98 % held-out accuracy): the same code path in a few seconds
    monkeypatch.setattr(scoring, "_load_real", lambda data, size: (real[0][::3], real[1][::3],
                                                                    real[2], real[3]))
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))
    sc = scoring.Scorer("mnist", 28, epochs=1)
    assert sc.path.name.startswith("scorer_mnist28") and sc.path.exists()
    assert sc.test_accuracy > 0.85
    again = scoring.Scorer("mnist", 28)                  # read from the cache, not retrained
    assert not again.trained_now and again.test_accuracy == sc.test_accuracy
    base_scores = sc.baseline()
    assert base_scores["coverage"] == 10 and base_scores["confidence"] > 0.8
    noise = np.random.default_rng(0).uniform(-1, 1, (300, 1, 28, 28)).astype(np.float32)
    assert sc.score(noise)["frechet"] > 5 * base_scores["frechet"]
    with pytest.raises(ValueError, match="28, 28"):
        sc.score(noise[:, :, :8, :8])
