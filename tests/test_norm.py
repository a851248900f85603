"""batch_norm and layer_norm: forward against a plain definition (and PyTorch when present),
running statistics, first- and second-order gradient checks, dtypes and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan
import minigan.functional as F
from minigan.ops.norm import batch_norm, layer_norm

from .conftest import fixture_settings, to_np


def plain_batch_norm(x, mean, var, w, b, eps=1e-5):
    """The textbook formula with NumPy, channel axis 1."""
    cs = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(cs)) / np.sqrt(var.reshape(cs) + eps)
    if w is not None:
        y = y * w.reshape(cs)
    if b is not None:
        y = y + b.reshape(cs)
    return y


def t(a, device, requires_grad=False, dtype="float64"):
    return minigan.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


shapes = st.sampled_from([(2, 3), (3, 2, 4), (2, 2, 3, 2), (1, 3, 2, 2), (4, 1), (2, 2, 1, 3)])


@fixture_settings(12)
@given(shape=shapes, affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_training_forward_matches_plain_definition(device, shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1
    c = shape[1]
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    axes = (0,) + tuple(range(2, len(shape)))
    rm, rv = t(np.zeros(c), device), t(np.ones(c), device)
    y = batch_norm(t(x, device), rm, rv, None if w is None else t(w, device),
                   None if b is None else t(b, device), training=True)
    want = plain_batch_norm(x, x.mean(axis=axes), x.var(axis=axes), w, b)
    np.testing.assert_allclose(to_np(y), want, rtol=1e-10, atol=1e-10)
    n = x.size // c
    np.testing.assert_allclose(to_np(rm), 0.1 * x.mean(axis=axes), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(rv), 0.9 + 0.1 * x.var(axis=axes) * n / (n - 1),
                               rtol=1e-10)


def test_batch_norm_eval_uses_running_stats(device):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 2, 2))
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = t(mean, device), t(var, device)
    y = batch_norm(t(x, device), rm, rv, t(w, device), t(b, device), training=False)
    np.testing.assert_allclose(to_np(y), plain_batch_norm(x, mean, var, w, b), rtol=1e-12)
    # evaluation leaves the running estimates alone
    np.testing.assert_array_equal(to_np(rm), mean)
    np.testing.assert_array_equal(to_np(rv), var)
    # and differs from training mode, which normalises each batch to mean 0, var 1
    yt = batch_norm(t(x, device), rm, rv, training=True)
    assert not np.allclose(to_np(yt), to_np(batch_norm(t(x, device), rm, rv)))
    np.testing.assert_allclose(to_np(yt).mean(axis=(0, 2, 3)), 0, atol=1e-12)


def test_batch_norm_running_stats_match_pytorch_over_steps(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    c = 4
    rm, rv = minigan.zeros(c, device=device), minigan.ones(c, device=device)
    w = minigan.tensor(rng.standard_normal(c), dtype="float32", device=device)
    b = minigan.tensor(rng.standard_normal(c), dtype="float32", device=device)
    trm, trv = torch.zeros(c), torch.ones(c)
    for step, shape in enumerate([(8, c, 3, 3), (5, c, 2, 4), (16, c), (3, c, 7)]):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        y = F.batch_norm(minigan.tensor(x, device=device), rm, rv, w, b, training=True,
                         momentum=0.2)
        ty = torch.nn.functional.batch_norm(torch.from_numpy(x), trm, trv,
                                            torch.from_numpy(to_np(w).astype(np.float32)),
                                            torch.from_numpy(to_np(b).astype(np.float32)),
                                            training=True, momentum=0.2)
        assert y.dtype == np.float32 and rm.dtype == np.float32 and rv.dtype == np.float32
        np.testing.assert_allclose(to_np(y), ty.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(to_np(rm), trm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_np(rv), trv.numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal((2, c, 3, 3)).astype(np.float32)
    y = F.batch_norm(minigan.tensor(x, device=device), rm, rv, w, b, training=False)
    ty = torch.nn.functional.batch_norm(torch.from_numpy(x), trm, trv,
                                        torch.from_numpy(to_np(w).astype(np.float32)),
                                        torch.from_numpy(to_np(b).astype(np.float32)))
    np.testing.assert_allclose(to_np(y), ty.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(2), rng.standard_normal(2)
    gy = rng.standard_normal(x.shape)
    X, W, B = (minigan.tensor(a, requires_grad=True) for a in (x, w, b))
    (batch_norm(X, None, None, W, B, training=True) * minigan.tensor(gy)).sum().backward()
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
     * torch.tensor(gy)).sum().backward()
    for ours, theirs in ((X, tx), (W, tw), (B, tb)):
        np.testing.assert_allclose(to_np(ours.grad), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


@given(shape=st.sampled_from([(3, 2), (2, 2, 3), (2, 1, 2, 2), (1, 2, 3)]),
       affine=st.sampled_from(["none", "weight", "both"]), seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None)
def test_batch_norm_training_gradcheck_first_and_second_order(shape, affine, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = minigan.tensor(rng.standard_normal(shape) * 2, dtype="float64", requires_grad=True)
    args = [x]
    if affine in ("weight", "both"):
        args.append(minigan.tensor(rng.standard_normal(c), dtype="float64", requires_grad=True))
    if affine == "both":
        args.append(minigan.tensor(rng.standard_normal(c), dtype="float64", requires_grad=True))

    def f(x, *wb):
        return batch_norm(x, None, None, *wb, training=True)

    assert minigan.gradcheck(f, args)
    assert minigan.gradgradcheck(f, args)


def test_batch_norm_eval_gradgradcheck():
    rng = np.random.default_rng(4)
    x, w, b = (minigan.tensor(rng.standard_normal(s), dtype="float64", requires_grad=True)
               for s in ((2, 3, 2), (3,), (3,)))
    rm, rv = minigan.tensor(rng.standard_normal(3)), minigan.tensor(rng.random(3) + 0.5)
    f = lambda x, w, b: batch_norm(x, rm, rv, w, b) ** 2  # noqa: E731
    assert minigan.gradcheck(f, (x, w, b))
    assert minigan.gradgradcheck(f, (x, w, b))


def test_batch_norm_gradient_penalty_is_exact_second_order():
    """The WGAN-GP case: d/dw of ||d out / d x||^2 through a training-mode batch norm, against
    the same network with batch norm written out as plain Tensor ops (always exact)."""
    rng = np.random.default_rng(5)
    x0, w0, v0 = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((4, 3))

    def composite(x, w):
        xc = x - x.mean(axis=0, keepdims=True)
        return xc / ((xc * xc).mean(axis=0, keepdims=True) + 1e-5) ** 0.5 * w

    def penalty(bn):
        x = minigan.tensor(x0, requires_grad=True)
        w = minigan.tensor(w0, requires_grad=True)
        out = (bn(x, w).tanh() * minigan.tensor(v0)).sum()
        (gx,) = minigan.grad(out, x, create_graph=True)
        # d/dx of the penalty needs how x_hat and 1/std depend on x inside the gradient
        return [to_np(g) for g in minigan.grad((gx * gx).sum(), [x, w])]

    ours = penalty(lambda x, w: batch_norm(x, None, None, w, training=True))
    want = penalty(composite)
    for o, w in zip(ours, want):
        np.testing.assert_allclose(o, w, rtol=1e-8, atol=1e-10)
        assert np.abs(w).max() > 1e-3     # a real, non-zero second-order term


def test_batch_norm_float32_stays_float32(device):
    x = minigan.randn(4, 3, 2, 2, device=device, requires_grad=True)
    w, b = minigan.ones(3, device=device, requires_grad=True), minigan.zeros(3, device=device)
    rm, rv = minigan.zeros(3, device=device), minigan.ones(3, device=device)
    for training in (True, False):
        y = batch_norm(x, rm, rv, w, b, training=training)
        assert y.dtype == np.float32
        (gx, gw) = minigan.grad(y.sum() + (y * y).sum(), [x, w])
        assert gx.dtype == np.float32 and gw.dtype == np.float32
    assert rm.dtype == np.float32 and rv.dtype == np.float32


def test_batch_norm_errors():
    x = minigan.randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\).*3 channels"):
        batch_norm(x, minigan.zeros(4), minigan.ones(3), training=True)
    with pytest.raises(ValueError, match=r"weight has shape \(2,\)"):
        batch_norm(x, None, None, minigan.ones(2), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        batch_norm(minigan.randn(1, 3), minigan.zeros(3), minigan.ones(3), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(minigan.randn(1, 3, 1, 1), None, None, training=True)
    # a batch of one is fine with spatial positions to average over, and in evaluation
    batch_norm(minigan.randn(1, 3, 2, 1), None, None, training=True)
    batch_norm(minigan.randn(1, 3), minigan.zeros(3), minigan.ones(3), training=False)
    with pytest.raises(ValueError, match="evaluation mode"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        batch_norm(minigan.randn(3), None, None, training=True)


# ---------------------------------------------------------------------------- layer norm
@fixture_settings(10)
@given(shape=st.sampled_from([(2, 3), (2, 3, 4), (3, 2, 2, 2)]), k=st.integers(1, 2),
       affine=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_norm_forward_matches_plain_definition(device, shape, k, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 3
    ns = shape[-k:]
    w, b = (rng.standard_normal(ns), rng.standard_normal(ns)) if affine else (None, None)
    axes = tuple(range(len(shape) - k, len(shape)))
    want = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                           + 1e-5)
    if affine:
        want = want * w + b
    y = layer_norm(t(x, device), ns, None if w is None else t(w, device),
                   None if b is None else t(b, device))
    np.testing.assert_allclose(to_np(y), want, rtol=1e-10, atol=1e-10)


def test_layer_norm_matches_pytorch_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    y = F.layer_norm(minigan.tensor(x), (4,), minigan.tensor(w), minigan.tensor(b))
    ty = torch.nn.functional.layer_norm(torch.from_numpy(x), (4,), torch.from_numpy(w),
                                        torch.from_numpy(b))
    assert y.dtype == np.float32
    np.testing.assert_allclose(to_np(y), ty.numpy(), rtol=1e-5, atol=1e-5)


def test_layer_norm_gradgradcheck():
    rng = np.random.default_rng(7)
    x, w, b = (minigan.tensor(rng.standard_normal(s), dtype="float64", requires_grad=True)
               for s in ((2, 2, 3), (2, 3), (2, 3)))
    f = lambda x, w, b: layer_norm(x, (2, 3), w, b)  # noqa: E731
    assert minigan.gradcheck(f, (x, w, b))
    assert minigan.gradgradcheck(f, (x, w, b))


def test_layer_norm_errors():
    x = minigan.randn(2, 3, 4)
    with pytest.raises(ValueError, match="must equal the last dimensions"):
        layer_norm(x, (3,))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\)"):
        layer_norm(x, 4, minigan.ones(3))
