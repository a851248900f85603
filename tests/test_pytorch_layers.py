"""nn.Dropout2d / F.dropout2d, nn.Softmax, nn.LogSoftmax and nn.DataParallel: definitions,
training and evaluation modes, seeding, gradient checks (first and second order, float64),
errors, and parity with torch.nn where torch is installed."""
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn

from .conftest import to_np


# --------------------------------------------------------------------------------- Dropout2d
def test_dropout2d_drops_whole_channels_and_scales_the_rest(device):
    x = minigan.ones(64, 16, 5, 5, device=device)
    y = F.dropout2d(x, p=0.3)
    assert y.device == device and y.dtype == np.float32
    maps = to_np(y).reshape(64, 16, 25)
    first = maps[:, :, :1]
    np.testing.assert_array_equal(maps, np.broadcast_to(first, maps.shape))  # one draw per map
    kept = first[..., 0] != 0
    np.testing.assert_allclose(first[..., 0][kept], 1 / 0.7, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.06              # 1024 draws: sd of the rate 0.014
    assert len({tuple(row) for row in kept}) > 32          # a draw per sample, not per batch


def test_dropout2d_is_seeded_identity_in_eval_and_extremes(device):
    x = minigan.randn(4, 6, 3, 3, device=device)
    minigan.manual_seed(7)
    a = to_np(F.dropout2d(x, 0.5))
    minigan.manual_seed(7)
    np.testing.assert_array_equal(to_np(F.dropout2d(x, 0.5)), a)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    np.testing.assert_array_equal(to_np(F.dropout2d(x, 1.0)), 0)


def test_dropout2d_module_follows_train_and_eval(device):
    m = nn.Dropout2d(0.5)
    assert repr(m) == "Dropout2d(p=0.5, inplace=False)"
    x = minigan.randn(8, 8, 2, 2, device=device)
    assert (to_np(m(x)) == 0).any()
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(x, -0.1)


def test_dropout2d_gradient_is_the_mask():
    x = minigan.randn(3, 4, 2, 2, dtype="float64", requires_grad=True)

    def f(x):
        minigan.manual_seed(1)              # the same mask at every evaluation
        return F.dropout2d(x, 0.4)
    y = f(x)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), to_np(y) / to_np(x), rtol=1e-12)
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(lambda x: f(x) * x, (x,))


def test_dropout2d_other_ranks_as_pytorch():
    x = minigan.ones(6, 5, 40)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        y = to_np(F.dropout2d(x, 0.5))
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :, :1], y.shape))
    with pytest.warns(UserWarning, match="5-D input"):
        F.dropout2d(minigan.ones(2, 3, 2, 2, 2), 0.5)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.dropout2d(minigan.ones(5), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(minigan.ones(2, 3, 4, 4), 0.5)       # 4-D: no warning


def test_dropout2d_matches_pytorch_semantics():
    """Different random streams, so the masks differ; what must agree is their structure:
    whole (n, c) maps of 0 or 1/(1-p), the identity in eval, zeros at p=1."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((32, 8, 3, 3)) + 5
    for p in (0.2, 0.7):
        ours = to_np(nn.Dropout2d(p)(minigan.tensor(x))) / x
        theirs = (torch.nn.Dropout2d(p)(torch.tensor(x)) / torch.tensor(x)).numpy()
        for r in (ours, theirs):
            per_map = r.reshape(32, 8, 9)
            assert np.allclose(per_map, per_map[:, :, :1])
            assert set(np.round(np.unique(per_map), 6)) <= {0.0, round(1 / (1 - p), 6)}
    tm = torch.nn.Dropout2d(0.5).eval()
    np.testing.assert_array_equal(to_np(nn.Dropout2d(0.5).eval()(minigan.tensor(x))),
                                  tm(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(to_np(F.dropout2d(minigan.tensor(x), 1.0)),
                                  torch.nn.functional.dropout2d(torch.tensor(x), 1.0).numpy())


# ---------------------------------------------------------------------- Softmax, LogSoftmax
def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_modules_match_definition(device, dim):
    x = np.random.default_rng(1).standard_normal((3, 4, 5)) * 30     # large logits
    xt = minigan.tensor(x, dtype="float64", device=device)
    np.testing.assert_allclose(to_np(nn.Softmax(dim=dim)(xt)), _softmax(x, dim), rtol=1e-12)
    np.testing.assert_allclose(to_np(nn.LogSoftmax(dim)(xt)), np.log(_softmax(x, dim)),
                               rtol=1e-10, atol=1e-12)
    assert repr(nn.Softmax(dim=dim)) == f"Softmax(dim={dim})"


@pytest.mark.parametrize("shape,implicit", [((5,), 0), ((3, 4), 1), ((2, 3, 4), 0),
                                            ((2, 3, 2, 2), 1)])
def test_softmax_without_dim_uses_pytorchs_implicit_choice(shape, implicit):
    x = np.random.default_rng(2).standard_normal(shape)
    for mod, want in ((nn.Softmax(), _softmax(x, implicit)),
                      (nn.LogSoftmax(), np.log(_softmax(x, implicit)))):
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            got = mod(minigan.tensor(x, dtype="float64"))
        np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-12)


def test_softmax_modules_gradcheck_first_and_second_order():
    x = minigan.randn(3, 5, dtype="float64", requires_grad=True)
    for mod in (nn.Softmax(dim=1), nn.LogSoftmax(dim=0)):
        assert minigan.gradcheck(mod, (x,))
        assert minigan.gradgradcheck(mod, (x,))


def test_softmax_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 4)) * 10
    gy = np.random.default_rng(4).standard_normal((2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # the implicit-dim warnings
        for ours, theirs in ((nn.Softmax(1), torch.nn.Softmax(1)),
                             (nn.LogSoftmax(-1), torch.nn.LogSoftmax(-1)),
                             (nn.Softmax(), torch.nn.Softmax()),
                             (nn.LogSoftmax(), torch.nn.LogSoftmax())):
            xm = minigan.tensor(x, dtype="float64", requires_grad=True)
            xt = torch.tensor(x, requires_grad=True)
            ym, yt = ours(xm), theirs(xt)
            # log-softmax near 0 is x - logsumexp(x) with |x| up to ~30: rounding of ~1e-14
            np.testing.assert_allclose(to_np(ym), yt.detach().numpy(), rtol=1e-12, atol=1e-13)
            (ym * minigan.tensor(gy)).sum().backward()
            (yt * torch.tensor(gy)).sum().backward()
            np.testing.assert_allclose(to_np(xm.grad), xt.grad.numpy(), rtol=1e-10,
                                       atol=1e-13)
            assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------------------ DataParallel
def test_data_parallel_wraps_and_calls_the_module():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    dp = nn.DataParallel(net, device_ids=[0, 1])
    assert dp.module is net and dp.device_ids == [0, 1]
    x = minigan.randn(5, 3)
    np.testing.assert_array_equal(to_np(dp(x)), to_np(net(x)))
    assert [id(p) for p in dp.parameters()] == [id(p) for p in net.parameters()]
    assert list(dp.state_dict()) == ["module." + k for k in net.state_dict()]
    dp.eval()
    assert not net.training
    assert nn.parallel.DataParallel is nn.DataParallel
    with pytest.raises(TypeError, match="wraps an nn.Module"):
        nn.DataParallel(lambda x: x)


def test_data_parallel_state_dict_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.DataParallel(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3),
                                                       torch.nn.BatchNorm2d(2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
