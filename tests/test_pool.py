"""avg_pool2d and max_pool2d: forward against naive loops over output pixels (and PyTorch),
first- and second-order gradient checks over hypothesis-drawn geometries, dtypes and errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan
import minigan.functional as F

from .conftest import fixture_settings, to_np
from .op_cases import pool_ref

plain_pool = pool_ref          # the op table's definition, one output pixel at a time


@st.composite
def geometries(draw, dilation=False):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    p = tuple(draw(st.integers(0, e // 2)) for e in eff)
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers(max(1, eff[0] - 2 * p[0]), 6))
    W = draw(st.integers(max(1, eff[1] - 2 * p[1]), 6))
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (N, C, H, W), k, s, p, d


def distinct_values(shape, seed):
    """Values at least 0.1 apart: no ties, so the argmax is stable under finite differences."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.01, n)).reshape(shape)


@fixture_settings(25)
@given(geom=geometries(), include=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool2d_forward_matches_plain(device, geom, include, seed):
    shape, k, s, p, _ = geom
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.avg_pool2d(minigan.tensor(x, device=device), k, s, p, count_include_pad=include)
    np.testing.assert_allclose(to_np(y), plain_pool(x, k, s, p, count_include_pad=include),
                               rtol=1e-12, atol=1e-12)


@fixture_settings(25)
@given(geom=geometries(dilation=True), seed=st.integers(0, 2**16))
def test_max_pool2d_forward_matches_plain(device, geom, seed):
    shape, k, s, p, d = geom
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.max_pool2d(minigan.tensor(x, device=device), k, s, p, d)
    np.testing.assert_array_equal(to_np(y), plain_pool(x, k, s, p, d, kind="max"))


def test_default_stride_is_kernel_and_3d_input(device):
    x = minigan.tensor(np.arange(2 * 4 * 6, dtype=np.float64).reshape(2, 4, 6), device=device)
    y = F.max_pool2d(x, 2)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(to_np(y)[0, 0], [7, 9, 11])
    assert F.avg_pool2d(x, (2, 3)).shape == (2, 2, 2)


def test_matches_pytorch_with_indices_and_ties():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (2, 3, 7, 6)).astype(np.float32)      # many ties
    gy = rng.standard_normal((2, 3, 4, 3)).astype(np.float32)
    X = minigan.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(X, 3, 2, 1, return_indices=True)
    (y * minigan.tensor(gy)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
    (ty * torch.from_numpy(gy)).sum().backward()
    assert y.dtype == np.float32 and X.grad.dtype == np.float32
    np.testing.assert_array_equal(to_np(y), ty.detach().numpy())
    np.testing.assert_array_equal(to_np(idx), tidx.numpy())
    np.testing.assert_allclose(to_np(X.grad), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    for include in (True, False):
        X.grad = None
        tx.grad = None
        y = F.avg_pool2d(X, (3, 2), (1, 2), (1, 1), count_include_pad=include)
        ty = torch.nn.functional.avg_pool2d(tx, (3, 2), (1, 2), (1, 1), count_include_pad=include)
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        assert y.dtype == np.float32
        np.testing.assert_allclose(to_np(y), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_np(X.grad), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


@given(geom=geometries(), include=st.booleans(), seed=st.integers(0, 2**16))
@settings(max_examples=12, deadline=None)
def test_avg_pool2d_gradcheck_first_and_second_order(geom, include, seed):
    shape, k, s, p, _ = geom
    assume(np.prod(shape) <= 24)
    x = minigan.tensor(np.random.default_rng(seed).standard_normal(shape), dtype="float64",
                       requires_grad=True)
    f = lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=include) ** 2  # noqa: E731
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(f, (x,))


@given(geom=geometries(dilation=True), seed=st.integers(0, 2**16))
@settings(max_examples=12, deadline=None)
def test_max_pool2d_gradcheck_first_and_second_order(geom, seed):
    shape, k, s, p, d = geom
    assume(np.prod(shape) <= 24)
    x = minigan.tensor(distinct_values(shape, seed), dtype="float64", requires_grad=True)
    f = lambda x: F.max_pool2d(x, k, s, p, d) ** 2  # noqa: E731
    # A window lying entirely in the padding gives -inf (as in PyTorch): nothing to check there.
    assume(np.all(np.isfinite(F.max_pool2d(x, k, s, p, d).numpy())))
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(f, (x,))


def test_max_pool2d_gradient_goes_to_argmax_and_accumulates(device):
    x = minigan.tensor(np.array([[[[1.0, 5.0, 2.0],
                                   [0.0, 3.0, 4.0],
                                   [6.0, 1.0, 0.5]]]]), device=device, requires_grad=True)
    y = F.max_pool2d(x, 2, stride=1)          # windows overlap; 5 wins twice
    np.testing.assert_array_equal(to_np(y)[0, 0], [[5, 5], [6, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad)[0, 0], [[0, 2, 0], [0, 0, 1], [1, 0, 0]])


def test_float32_stays_float32(device):
    x = minigan.randn(2, 3, 5, 5, device=device, requires_grad=True)
    for y in (F.avg_pool2d(x, 3, 2, 1), F.max_pool2d(x, 3, 2, 1)):
        assert y.dtype == np.float32
        (g,) = minigan.grad((y * y).sum(), x)
        assert g.dtype == np.float32


def test_errors():
    x = minigan.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match="at most half"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        F.avg_pool2d(minigan.randn(4, 4), 2)
    with pytest.raises(ValueError, match="must be positive"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(NotImplementedError, match="ceil_mode"):
        F.max_pool2d(x, 2, ceil_mode=True)
