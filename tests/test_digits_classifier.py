"""Validation on real data: a small CNN (Conv2d + BatchNorm2d + LeakyReLU + Linear, Adam)
written with minigan reaches >= 97% test accuracy on the handwritten digits, and training
that is checkpointed and resumed ends with the same weights, bit for bit, as a run that was
never interrupted."""
import time

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.evaluation.classifier import DigitsCNN, random_shift, train_digits_classifier


def test_cnn_reaches_97_percent_on_digits():
    t0 = time.perf_counter()
    model, info = train_digits_classifier(epochs=12, seed=0)
    seconds = time.perf_counter() - t0
    print(f"digits CNN: test accuracy {info['test_accuracy']:.4f} in {seconds:.1f} s "
          f"(final train loss {info['train_loss'][-1]:.4f})")
    assert info["test_accuracy"] >= 0.97
    assert info["train_loss"][-1] < info["train_loss"][0] / 3
    kinds = {type(m) for m in model.modules()}
    assert {nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU, nn.Linear} <= kinds


def test_checkpoint_resume_is_bit_exact(tmp_path):
    ck = tmp_path / "digits.npz"
    straight, info_s = train_digits_classifier(epochs=3, seed=1, width=8)
    first, info_1 = train_digits_classifier(epochs=2, seed=1, width=8, checkpoint=ck)
    assert minigan.load(ck)["epoch"] == 2
    # a new process would start from scratch: different seed, fresh model, then resume
    resumed, info_r = train_digits_classifier(epochs=1, seed=99, width=8, checkpoint=ck,
                                              resume=True)
    assert info_r["epoch"] == 3 and minigan.load(ck)["epoch"] == 3
    sd_s, sd_r = straight.state_dict(), resumed.state_dict()
    assert list(sd_s) == list(sd_r)
    for k in sd_s:
        np.testing.assert_array_equal(sd_s[k].numpy(), sd_r[k].numpy(), err_msg=k)
    assert info_r["test_accuracy"] == info_s["test_accuracy"]
    assert info_r["train_loss"] == info_s["train_loss"][2:]
    # and the interrupted run really did differ before resuming (the test can fail)
    assert not np.array_equal(first.head.weight.numpy(), straight.head.weight.numpy())


def test_features_and_shift_augmentation():
    model = DigitsCNN(size=16, width=4)
    x = minigan.randn(3, 1, 16, 16)
    assert model.features(x).shape == (3, 8 * 8 * 8) and model(x).shape == (3, 10)
    img = minigan.Tensor(np.arange(2 * 16, dtype=np.float32).reshape(2, 1, 4, 4))
    out = random_shift(img).numpy()
    for i in range(2):
        src = img.numpy()[i, 0]
        ok = False
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                ref = np.full((6, 6), -1.0, dtype=np.float32)
                ref[1 + dy:5 + dy, 1 + dx:5 + dx] = src
                ok |= np.array_equal(out[i, 0], ref[1:5, 1:5])
        assert ok


@pytest.mark.parametrize("size", [16])
def test_upsampled_digits_train(size):
    _, info = train_digits_classifier(epochs=2, size=size, width=8, seed=0)
    assert info["test_accuracy"] > 0.8
