"""float32 stays float32 through every op and its gradient; GAN losses stay finite when the
discriminator saturates (logits of +-1000)."""
import numpy as np
import pytest

import minigan
from minigan import functional as F

from .test_ops_gradcheck import BINARY, LOSSES, REDUCTIONS, SHAPE_OPS, UNARY


def _f32(seed, shape, low=None, high=None, away_from=None):
    from .strategies import array
    return minigan.tensor(array(seed, shape, low, high, away_from, dtype=np.float32),
                          requires_grad=True)


def _check_f32(out, inputs):
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        assert o.dtype == np.float32, f"output promoted to {o.dtype}"
    total = sum(o.sum() for o in outs)
    total.backward()
    for x in inputs:
        assert x.grad is not None and x.grad.dtype == np.float32, "gradient promoted"


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_keeps_float32(name):
    fn, opts = UNARY[name]
    x = _f32(0, (3, 4), **opts)
    _check_f32(fn(x), [x])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_keeps_float32(name):
    fn, opts_a, opts_b = BINARY[name]
    a, b = _f32(0, (3, 4), **opts_a), _f32(1, (4,), **opts_b)
    _check_f32(fn(a, b), [a, b])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_keep_float32(name):
    x = _f32(0, (3, 4))
    _check_f32(REDUCTIONS[name](x, 1, False), [x])


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops_keep_float32(name):
    x = _f32(0, (3, 4))
    _check_f32(SHAPE_OPS[name](x), [x])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_keep_float32(name):
    x, t = _f32(0, (3, 4)), _f32(1, (3, 4))
    if name == "linear":
        t = _f32(1, (2, 4))
        _check_f32(F.linear(x, t), [x, t])
        return
    _check_f32(LOSSES[name](x, t), [x, t])


def test_misc_keep_float32():
    x = _f32(0, (3, 4))
    _check_f32((x.softmax(1), x.log_softmax(0), x @ x.T, x.norm(), x.std()), [x])
    assert (x * 0.5).dtype == np.float32 and (x / 3).dtype == np.float32
    assert (np.float64(2.0) * x).dtype == np.float32   # a NumPy scalar is a Python-like number
    assert minigan.randn(2).dtype == np.float32 and minigan.zeros(2).dtype == np.float32
    assert minigan.tensor([1.0]).dtype == np.float32
    assert minigan.tensor([1]).dtype == np.int64


def test_float64_on_request():
    x = minigan.randn(3, dtype="float64", requires_grad=True)
    y = (x.sigmoid() * 2.0).sum()
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64
    minigan.set_default_dtype("float64")
    try:
        assert minigan.randn(2).dtype == np.float64
    finally:
        minigan.set_default_dtype("float32")


EXTREME = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dtype=np.float32)


@pytest.mark.parametrize("fn", [
    minigan.log_sigmoid, minigan.softplus, minigan.sigmoid,
    lambda x: F.binary_cross_entropy_with_logits(x, minigan.ones_like(x)),
    lambda x: F.binary_cross_entropy_with_logits(x, minigan.zeros_like(x)),
    lambda x: F.binary_cross_entropy_with_logits(x, minigan.full_like(x, 0.3)),
    lambda x: minigan.logsumexp(x, 0), lambda x: minigan.log_softmax(x, 0),
    lambda x: minigan.softmax(x, 0),
    lambda x: F.cross_entropy(x.reshape(1, -1), [0]),
], ids=["log_sigmoid", "softplus", "sigmoid", "bce1", "bce0", "bce03", "lse", "logsoftmax",
        "softmax", "ce"])
def test_extreme_logits_give_finite_values_and_gradients(fn):
    x = minigan.tensor(EXTREME, requires_grad=True)
    y = fn(x)
    assert np.all(np.isfinite(y.numpy()))
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_log_sigmoid_at_extremes_is_exact():
    x = minigan.tensor([-1000.0, 1000.0], requires_grad=True)
    y = minigan.log_sigmoid(x)
    np.testing.assert_allclose(y.numpy(), [-1000.0, 0.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0])


def test_bce_with_logits_saturated_discriminator():
    # D is sure a fake is fake (logit -1000): the non-saturating G loss is 1000, gradient -1.
    logits = minigan.tensor([-1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, minigan.ones(1))
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    assert logits.grad.item() == pytest.approx(-1.0)
