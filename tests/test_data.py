"""Tests of minigan.data: the digits (range, split, upsampling) and the DataLoader (batches,
shuffling from the global seed, drop_last)."""
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.data import DataLoader, TensorDataset, digits, upsample_bilinear


def test_digits_shapes_range_and_split():
    x, y = digits("train")
    xt, yt = digits("test")
    xa, ya = digits("all")
    assert x.shape == (1437, 1, 8, 8) and xt.shape == (360, 1, 8, 8) and xa.shape[0] == 1797
    assert x.dtype == np.float32 and y.dtype == np.int64
    for arr in (x, xt):
        v = arr.numpy()
        assert v.min() == -1.0 and v.max() == 1.0
    assert np.bincount(yt.numpy(), minlength=10).tolist() == [36] * 10
    # train and test are disjoint and together are all the digits
    tr = {a.tobytes() + bytes([int(l)]) for a, l in zip(x.numpy(), y.numpy())}
    te = {a.tobytes() + bytes([int(l)]) for a, l in zip(xt.numpy(), yt.numpy())}
    al = {a.tobytes() + bytes([int(l)]) for a, l in zip(xa.numpy(), ya.numpy())}
    assert tr | te == al and len(tr & te) <= 5        # the UCI data has a few duplicate images
    # scaling: grey level g in 0..16 becomes g/8 - 1
    from sklearn.datasets import load_digits
    np.testing.assert_array_equal(xa.numpy()[:, 0], (load_digits().images / 8 - 1)
                                  .astype(np.float32))


def test_split_is_fixed_regardless_of_seed():
    minigan.manual_seed(1)
    a = digits("test", as_tensor=False)[1]
    minigan.manual_seed(2)
    b = digits("test", as_tensor=False)[1]
    np.testing.assert_array_equal(a, b)


def test_upsampled_digits():
    x16, y16 = digits("train", size=16, dtype="float64")
    x8, y8 = digits("train", dtype="float64")
    assert x16.shape == (1437, 1, 16, 16) and x16.dtype == np.float64
    v = x16.numpy()
    assert v.min() >= -1 and v.max() <= 1
    np.testing.assert_array_equal(y16.numpy(), y8.numpy())
    # 2x2 block averages of the bilinear upsampling follow the original pixels (blurred a
    # little: bilinear interpolation smooths the sharp 8x8 strokes)
    pooled = v.reshape(-1, 1, 8, 2, 8, 2).mean(axis=(3, 5))
    assert np.abs(pooled - x8.numpy()).mean() < 0.2
    assert np.corrcoef(pooled.ravel(), x8.numpy().ravel())[0, 1] > 0.95
    with pytest.raises(ValueError, match="size"):
        digits(size=12)
    with pytest.raises(ValueError, match="split"):
        digits("validation")


def test_upsample_bilinear_matches_torch_and_constants():
    img = np.random.default_rng(0).standard_normal((2, 8, 8))
    np.testing.assert_allclose(upsample_bilinear(np.full((1, 8, 8), 0.3), 16), 0.3)
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.interpolate(torch.tensor(img)[:, None], size=(16, 16),
                                          mode="bilinear", align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(upsample_bilinear(img, 16), ref, atol=1e-12)


def test_dataloader_batches_and_drop_last():
    x = minigan.arange(10)
    y = minigan.arange(10) * 2
    dl = DataLoader((x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), np.arange(10))
    for bx, by in batches:
        np.testing.assert_array_equal(by.numpy(), 2 * bx.numpy())
    dl = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[0]) for b in dl] == [4, 4]
    with pytest.raises(ValueError):
        DataLoader((x,), batch_size=0)
    with pytest.raises(ValueError, match="different lengths"):
        TensorDataset(x, minigan.arange(3))


def test_dataloader_shuffle_follows_global_seed():
    x = minigan.arange(50)
    dl = DataLoader((x,), batch_size=50, shuffle=True)
    minigan.manual_seed(7)
    e1, e2 = next(iter(dl))[0].numpy(), next(iter(dl))[0].numpy()
    assert sorted(e1.tolist()) == list(range(50))
    assert not np.array_equal(e1, e2)                 # a new order every pass
    minigan.manual_seed(7)
    np.testing.assert_array_equal(next(iter(dl))[0].numpy(), e1)
    # and the order can be resumed from a saved RNG state
    state = backend.get_rng_state()
    a = next(iter(dl))[0].numpy()
    backend.set_rng_state(state)
    np.testing.assert_array_equal(next(iter(dl))[0].numpy(), a)


def test_data_module_is_light():
    code = ("import sys, minigan.data; minigan.data.digits(); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
