"""instance_norm and nn.InstanceNorm1d/2d: forward against a plain definition, first- and
second-order gradient checks in float64, running statistics (updated in training only when
tracked, used in evaluation only when tracked), unbatched inputs, errors, and PyTorch parity
(skipped without torch)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan
import minigan.functional as F
from minigan import nn

from .conftest import as_installed_torch_repr, fixture_settings, to_np


def t(a, device, requires_grad=False, dtype="float64"):
    return minigan.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def plain_instance_norm(x, w=None, b=None, eps=1e-5):
    """Per sample and channel, over the spatial axes, with the biased variance."""
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    cs = (1, -1) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(cs)
    if b is not None:
        y = y + b.reshape(cs)
    return y


shapes = st.sampled_from([(2, 3, 4), (1, 2, 3, 3), (3, 1, 2, 5), (2, 2, 1, 3), (4, 3, 2)])


@fixture_settings(12)
@given(shape=shapes, affine=st.booleans(), seed=st.integers(0, 2**16))
def test_forward_matches_plain_definition_and_updates_running_stats(device, shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1
    n, c = shape[:2]
    count = int(np.prod(shape[2:]))
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    rm, rv = t(np.zeros(c), device), t(np.ones(c), device)
    y = F.instance_norm(t(x, device), rm, rv, None if w is None else t(w, device),
                        None if b is None else t(b, device), momentum=0.25)
    np.testing.assert_allclose(to_np(y), plain_instance_norm(x, w, b), rtol=1e-10, atol=1e-10)
    axes = tuple(range(2, len(shape)))
    np.testing.assert_allclose(to_np(rm), 0.25 * x.mean(axis=axes).mean(axis=0), rtol=1e-10,
                               atol=1e-12)
    unbiased = x.var(axis=axes) * count / (count - 1)
    np.testing.assert_allclose(to_np(rv), 0.75 + 0.25 * unbiased.mean(axis=0), rtol=1e-10)
    assert y.shape == shape and y.device == device


def test_each_instance_is_normalised_alone(device):
    """Unlike batch norm, a sample's output does not depend on the rest of the batch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 4, 4))
    alone = to_np(F.instance_norm(t(x[:1], device)))
    together = to_np(F.instance_norm(t(x, device)))
    np.testing.assert_allclose(together[:1], alone, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(together.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(together.var(axis=(2, 3)), 1, rtol=1e-4)   # var/(var + eps)


def test_use_input_stats_false_is_the_running_affine_map(device):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 4))
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = t(mean, device), t(var, device)
    y = F.instance_norm(t(x, device), rm, rv, t(w, device), t(b, device), use_input_stats=False)
    cs = (1, -1, 1, 1)
    want = (x - mean.reshape(cs)) / np.sqrt(var.reshape(cs) + 1e-5) * w.reshape(cs) \
        + b.reshape(cs)
    np.testing.assert_allclose(to_np(y), want, rtol=1e-12)
    np.testing.assert_array_equal(to_np(rm), mean)          # left alone
    np.testing.assert_array_equal(to_np(rv), var)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape", [(2, 3, 3, 2), (3, 2, 4)])
def test_gradcheck_first_and_second_order(affine, shape):
    rng = np.random.default_rng(2)
    c = shape[1]
    x = t(rng.standard_normal(shape) * 2 + 0.5, "cpu", requires_grad=True)
    if affine:
        w = t(rng.standard_normal(c), "cpu", requires_grad=True)
        b = t(rng.standard_normal(c), "cpu", requires_grad=True)
        args = (x, w, b)

        def f(x, w, b):
            return F.instance_norm(x, weight=w, bias=b, eps=1e-3)
    else:
        args = (x,)

        def f(x):
            return F.instance_norm(x, eps=1e-3)
    assert minigan.gradcheck(f, args)
    assert minigan.gradgradcheck(f, args)


def test_gradcheck_with_running_stats_and_in_eval_mode():
    rng = np.random.default_rng(3)
    x = t(rng.standard_normal((2, 2, 3, 3)), "cpu", requires_grad=True)
    w = t(rng.standard_normal(2), "cpu", requires_grad=True)
    b = t(rng.standard_normal(2), "cpu", requires_grad=True)
    rm, rv = t(rng.standard_normal(2), "cpu"), t(rng.random(2) + 0.5, "cpu")

    def train(x, w, b):       # the running-stat update is a side effect, not in the graph
        return F.instance_norm(x, t(np.zeros(2), "cpu"), t(np.ones(2), "cpu"), w, b)

    def evaluate(x, w, b):
        return F.instance_norm(x, rm, rv, w, b, use_input_stats=False)
    for f in (train, evaluate):
        assert minigan.gradcheck(f, (x, w, b))
        assert minigan.gradgradcheck(f, (x, w, b))


def _constant_stats_op(x):
    """(x - mean) / std with the mean and std cut from the graph: the right values, the
    wrong gradient (the classic mistake of a hand-written normalisation rule)."""
    m = x.detach().mean(axis=(2, 3), keepdims=True)
    s = minigan.sqrt(x.detach().var(axis=(2, 3), keepdims=True, unbiased=False) + 1e-5)
    return (x - m) / s


def test_the_gradient_check_can_fail():
    x = t(np.random.default_rng(4).standard_normal((2, 2, 3, 3)), "cpu", requires_grad=True)
    np.testing.assert_allclose(to_np(_constant_stats_op(x)), to_np(F.instance_norm(x)),
                               rtol=1e-12)
    with pytest.raises(minigan.GradcheckError):
        minigan.gradcheck(_constant_stats_op, (x,))
    assert minigan.gradcheck(F.instance_norm, (x,))


def test_float32_stays_float32(device):
    x = minigan.randn(2, 3, 4, 4, device=device)
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True, device=device)
    y = m(x)
    assert y.dtype == np.float32 and m.running_mean.dtype == np.float32
    x.requires_grad_(True)
    (m(x) ** 2).sum().backward()
    assert x.grad.dtype == np.float32 and m.weight.grad.dtype == np.float32


# ------------------------------------------------------------------------------------ modules
def test_module_defaults_and_state():
    m = nn.InstanceNorm2d(4)
    assert (m.eps, m.momentum, m.affine, m.track_running_stats) == (1e-5, 0.1, False, False)
    assert m.weight is None and m.bias is None and m.running_mean is None
    assert list(m.state_dict()) == [] and list(m.parameters()) == []
    m = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
    assert sorted(m.state_dict()) == ["bias", "num_batches_tracked", "running_mean",
                                      "running_var", "weight"]
    np.testing.assert_array_equal(to_np(m.weight), 1)
    np.testing.assert_array_equal(to_np(m.bias), 0)
    assert repr(m) == ("InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                       "track_running_stats=True)")


def test_module_running_stats_follow_train_and_eval(device):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 4, 4)) * 2 + 3
    m = nn.InstanceNorm2d(2, track_running_stats=True, device=device, dtype="float64")
    m(t(x, device))                                    # training: updated
    rm1, rv1 = to_np(m.running_mean).copy(), to_np(m.running_var).copy()
    np.testing.assert_allclose(rm1, 0.1 * x.mean(axis=(2, 3)).mean(axis=0), rtol=1e-10)
    m.eval()
    y = m(t(x, device))                                # evaluation: used, not updated
    np.testing.assert_array_equal(to_np(m.running_mean), rm1)
    np.testing.assert_array_equal(to_np(m.running_var), rv1)
    want = (x - rm1.reshape(1, -1, 1, 1)) / np.sqrt(rv1.reshape(1, -1, 1, 1) + 1e-5)
    np.testing.assert_allclose(to_np(y), want, rtol=1e-10)
    assert int(m.num_batches_tracked.item()) == 0      # PyTorch's instance norm never counts


def test_module_without_tracking_uses_instance_stats_in_eval(device):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 3, 3))
    m = nn.InstanceNorm2d(3, device=device, dtype="float64").eval()
    np.testing.assert_allclose(to_np(m(t(x, device))), plain_instance_norm(x), rtol=1e-10)


def test_momentum_none_leaves_running_stats(device):
    m = nn.InstanceNorm2d(2, momentum=None, track_running_stats=True, device=device)
    m(minigan.randn(2, 2, 3, 3, device=device) * 5 + 2)
    np.testing.assert_array_equal(to_np(m.running_mean), 0)
    np.testing.assert_array_equal(to_np(m.running_var), 1)


def test_unbatched_input_is_a_batch_of_one(device):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 5))
    w = rng.standard_normal(3)
    m = nn.InstanceNorm2d(3, affine=True, device=device, dtype="float64")
    m.weight.array[...] = t(w, device).array
    y = m(t(x, device))
    assert y.shape == (3, 4, 5)
    np.testing.assert_allclose(to_np(y), plain_instance_norm(x[None], w)[0], rtol=1e-10)
    m1 = nn.InstanceNorm1d(3, device=device, dtype="float64")
    np.testing.assert_allclose(to_np(m1(t(x[:, :, 0], device))),
                               plain_instance_norm(x[None, :, :, 0])[0], rtol=1e-10)


def test_errors():
    x = minigan.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(minigan.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(minigan.randn(2, 3))
    with pytest.raises(ValueError, match="has 5 channels"):
        nn.InstanceNorm2d(3, affine=True)(minigan.randn(2, 5, 4, 4))
    with pytest.warns(UserWarning, match="num_features is not used"):
        nn.InstanceNorm2d(3)(minigan.randn(2, 5, 4, 4))
    with pytest.raises(ValueError, match=r"instance_norm: weight has shape \(2,\)"):
        F.instance_norm(x, weight=minigan.ones(2))
    with pytest.raises(ValueError, match="must be given when use_input_stats=False"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.instance_norm(x, eps=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm2d(3)(x)                          # a matching input warns nothing


# ------------------------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
def test_module_matches_pytorch_over_train_and_eval_steps(affine, track):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    m = nn.InstanceNorm2d(3, affine=affine, track_running_stats=track, momentum=0.3,
                          dtype="float64")
    tm = torch.nn.InstanceNorm2d(3, affine=affine, track_running_stats=track,
                                 momentum=0.3).double()
    if affine:
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        m.weight.array[...] = minigan.backend.as_array(w, device=m.weight.device)
        m.bias.array[...] = minigan.backend.as_array(b, device=m.bias.device)
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            tm.bias.copy_(torch.tensor(b))
    for mode, shape in [("train", (4, 3, 5, 5)), ("train", (2, 3, 3, 4)), ("eval", (2, 3, 4, 4)),
                        ("train", (3, 5, 2)), ("eval", (3, 4, 4))]:
        getattr(m, mode)()
        getattr(tm, mode)()
        x = rng.standard_normal(shape) * 2 + 1
        xm = minigan.tensor(x, dtype="float64", requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        gy = rng.standard_normal(shape)
        y, yt = m(xm), tm(xt)
        np.testing.assert_allclose(to_np(y), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        (y * minigan.tensor(gy)).sum().backward()
        (yt * torch.tensor(gy)).sum().backward()
        np.testing.assert_allclose(to_np(xm.grad), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        if affine:
            np.testing.assert_allclose(to_np(m.weight.grad), tm.weight.grad.numpy(), rtol=1e-8)
            np.testing.assert_allclose(to_np(m.bias.grad), tm.bias.grad.numpy(), rtol=1e-8)
            m.zero_grad()
            tm.zero_grad()
        if track:
            np.testing.assert_allclose(to_np(m.running_mean), tm.running_mean.numpy(),
                                       rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(to_np(m.running_var), tm.running_var.numpy(), rtol=1e-10)
    assert sorted(m.state_dict()) == sorted(tm.state_dict())
    assert as_installed_torch_repr(repr(m), torch) == repr(tm)


def test_functional_matches_pytorch_second_derivative():
    """The double-backward a gradient penalty takes through an instance-normed critic."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal(3)
    gy = rng.standard_normal((2, 3, 4, 4))
    xm = minigan.tensor(x, dtype="float64", requires_grad=True)
    wm = minigan.tensor(w, dtype="float64", requires_grad=True)
    (g,) = minigan.grad((F.instance_norm(xm, weight=wm) * minigan.tensor(gy)).sum(), [xm],
                        create_graph=True)
    (g ** 2).sum().backward()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (gt,) = torch.autograd.grad((torch.nn.functional.instance_norm(xt, weight=wt)
                                 * torch.tensor(gy)).sum(), [xt], create_graph=True)
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(to_np(g), gt.detach().numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(to_np(xm.grad), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(to_np(wm.grad), wt.grad.numpy(), rtol=1e-7, atol=1e-9)
