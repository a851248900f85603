"""interpolate, pad (PyTorch order) and pixel_shuffle: forward against plain definitions
(and PyTorch), first- and second-order gradient checks, dtypes and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan
import minigan.functional as F
from minigan.ops.shape import pad as numpy_style_pad

from .conftest import fixture_settings, to_np


def plain_bilinear(x, oh, ow, align_corners):
    """Each output pixel from the four input pixels around its source position."""
    N, C, H, W = x.shape
    out = np.zeros((N, C, oh, ow))

    def src(o, n_in, n_out):
        if align_corners:
            return o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return max((o + 0.5) * n_in / n_out - 0.5, 0.0)

    for i in range(oh):
        for j in range(ow):
            sy, sx = src(i, H, oh), src(j, W, ow)
            y0, x0 = min(int(sy), H - 1), min(int(sx), W - 1)
            y1, x1 = min(y0 + 1, H - 1), min(x0 + 1, W - 1)
            ly, lx = sy - y0, sx - x0
            out[:, :, i, j] = ((1 - ly) * (1 - lx) * x[:, :, y0, x0] + (1 - ly) * lx * x[:, :, y0, x1]
                               + ly * (1 - lx) * x[:, :, y1, x0] + ly * lx * x[:, :, y1, x1])
    return out


sizes = st.tuples(st.integers(1, 5), st.integers(1, 5))


@fixture_settings(20)
@given(hw=sizes, out=sizes, align=st.booleans(), seed=st.integers(0, 2**16))
def test_bilinear_matches_plain_definition(device, hw, out, align, seed):
    x = np.random.default_rng(seed).standard_normal((2, 1) + hw)
    y = F.interpolate(minigan.tensor(x, device=device), size=out, mode="bilinear",
                      align_corners=align)
    np.testing.assert_allclose(to_np(y), plain_bilinear(x, *out, align), rtol=1e-12, atol=1e-12)


def test_nearest_upsample_by_two_repeats_pixels(device):
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    y = F.interpolate(minigan.tensor(x, device=device), scale_factor=2)
    np.testing.assert_array_equal(to_np(y)[0, 0], x[0, 0].repeat(2, 0).repeat(2, 1))


def test_interpolate_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    cases = [dict(size=(8, 3)), dict(scale_factor=2), dict(scale_factor=(1.7, 0.6)),
             dict(size=(1, 1)), dict(scale_factor=0.5)]
    for kw in cases:
        for mode, corners in (("nearest", None), ("bilinear", False), ("bilinear", True)):
            ours = F.interpolate(minigan.tensor(x), mode=mode, align_corners=corners, **kw)
            theirs = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode,
                                                     align_corners=corners, **kw)
            assert ours.dtype == np.float32, (kw, mode)
            np.testing.assert_allclose(to_np(ours), theirs.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{kw} {mode} align_corners={corners}")
    x1 = rng.standard_normal((2, 3, 5)).astype(np.float32)
    np.testing.assert_allclose(
        to_np(F.interpolate(minigan.tensor(x1), size=9, mode="linear")),
        torch.nn.functional.interpolate(torch.from_numpy(x1), size=9, mode="linear").numpy(),
        rtol=1e-5, atol=1e-6)


@given(hw=st.tuples(st.integers(1, 3), st.integers(1, 3)), out=st.tuples(st.integers(1, 4),
       st.integers(1, 4)), mode=st.sampled_from(["nearest", "bilinear-False", "bilinear-True"]),
       seed=st.integers(0, 2**16))
@settings(max_examples=12, deadline=None)
def test_interpolate_gradcheck_first_and_second_order(hw, out, mode, seed):
    mode, _, corners = mode.partition("-")
    corners = None if not corners else corners == "True"
    x = minigan.tensor(np.random.default_rng(seed).standard_normal((1, 2) + hw),
                       dtype="float64", requires_grad=True)
    f = lambda x: F.interpolate(x, size=out, mode=mode, align_corners=corners) ** 2  # noqa
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(f, (x,))


def plain_pad(x, pad, mode, value=0.0):
    """NumPy's np.pad with the pairs put back in NumPy's order (first dimension first)."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=np_mode)


@fixture_settings(25)
@given(shape=st.sampled_from([(2, 4), (1, 2, 3), (2, 1, 3, 4)]), mode=st.sampled_from(
       ["constant", "reflect", "replicate", "circular"]), data=st.data())
def test_pad_matches_numpy_in_pytorch_order(device, shape, mode, data):
    npairs = data.draw(st.integers(1, min(len(shape) - 1, 2)))
    pad = []
    for i in range(npairs):
        n = shape[len(shape) - 1 - i]
        hi = {"reflect": n - 1, "circular": n}.get(mode, 3)
        pad += [data.draw(st.integers(0, hi)), data.draw(st.integers(0, hi))]
    x = np.random.default_rng(0).standard_normal(shape)
    y = F.pad(minigan.tensor(x, device=device), tuple(pad), mode=mode)
    np.testing.assert_array_equal(to_np(y), plain_pad(x, pad, mode))


def test_pad_constant_value_negative_crop_and_numpy_style_unchanged(device):
    x = minigan.tensor(np.arange(12.0).reshape(1, 3, 4), device=device)
    y = F.pad(x, (1, -2, -1, 0), value=7.0)
    np.testing.assert_array_equal(to_np(y)[0], [[7, 4, 5], [7, 8, 9]])
    # minigan.ops.shape.pad keeps NumPy's convention (first dimension first)
    assert numpy_style_pad(x, ((0, 0), (1, 0), (0, 0))).shape == (1, 4, 4)
    assert F.pad(x, (1, 0)).shape == (1, 3, 5)


def test_pad_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for pad, mode in (((1, 2), "constant"), ((1, 2, 3, 0), "reflect"),
                      ((3, 1, 0, 2), "replicate"), ((2, 1, 1, 1), "circular"),
                      ((-1, 2, 1, -2), "constant")):
        ours = F.pad(minigan.tensor(x), pad, mode)
        theirs = torch.nn.functional.pad(torch.from_numpy(x), pad, mode)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(to_np(ours), theirs.numpy(), err_msg=f"{pad} {mode}")


@pytest.mark.parametrize("mode,pad", [("constant", (1, 2, 0, 1)), ("reflect", (2, 1, 1, 2)),
                                      ("replicate", (3, 0, 1, 1)), ("circular", (1, 2, 2, 0))])
def test_pad_gradcheck_first_and_second_order(mode, pad):
    x = minigan.tensor(np.random.default_rng(2).standard_normal((1, 1, 3, 3)), dtype="float64",
                       requires_grad=True)
    f = lambda x: F.pad(x, pad, mode) ** 2  # noqa: E731
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(f, (x,))


def test_pixel_shuffle_roundtrip_and_pytorch(device):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 3, 2))
    y = F.pixel_shuffle(minigan.tensor(x, device=device), 2)
    assert y.shape == (2, 2, 6, 4)
    # out[n, c, h*r + i, w*r + j] = in[n, c*r*r + i*r + j, h, w]
    np.testing.assert_array_equal(to_np(y)[1, 1, 2 * 2 + 1, 1 * 2 + 0], x[1, 1 * 4 + 1 * 2 + 0, 2, 1])
    np.testing.assert_array_equal(to_np(F.pixel_unshuffle(y, 2)), x)
    X = minigan.tensor(x[:1, :4, :2, :1], dtype="float64", requires_grad=True)
    assert minigan.gradgradcheck(lambda X: F.pixel_shuffle(X, 2) ** 2, (X,))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(to_np(y), torch.nn.functional.pixel_shuffle(
        torch.from_numpy(x), 2).numpy())


def test_errors():
    x = minigan.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, size=4, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, size=4, align_corners=True)
    with pytest.raises(ValueError, match="needs a 4-D input"):
        F.interpolate(minigan.randn(1, 2, 3), size=4, mode="bilinear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=4, mode="bicubic")
    with pytest.raises(ValueError, match="must be less than its size 4"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="divisible by upscale_factor"):
        F.pixel_shuffle(x, 2)
