"""Tests of minigan.nn.init: the statistics of each initialiser, its gain table, fan rules
(against PyTorch's private helper when torch is importable) and the DCGAN helper."""
import math

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.nn import init

from .conftest import to_np


def big(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float64))


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")
    torch = pytest.importorskip("torch")
    for nl, p in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("leaky_relu", None),
                  ("selu", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))


def test_fan_in_fan_out_rules():
    assert init._calculate_fan_in_and_fan_out(big(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(big(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(big(4))
    torch = pytest.importorskip("torch")
    for shape in [(5, 3), (8, 4, 3, 3), (2, 7, 4, 1)]:
        assert init._calculate_fan_in_and_fan_out(big(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_uniform_normal_constant():
    t = big(200, 100)
    init.uniform_(t, -2, 3)
    v = to_np(t)
    assert v.min() >= -2 and v.max() < 3 and abs(v.mean() - 0.5) < 0.05
    init.normal_(t, 1.5, 0.5)
    v = to_np(t)
    assert abs(v.mean() - 1.5) < 0.01 and abs(v.std() - 0.5) < 0.01
    init.constant_(t, 0.25)
    assert np.all(to_np(t) == 0.25)
    init.ones_(t)
    assert np.all(to_np(t) == 1)
    init.zeros_(t)
    assert np.all(to_np(t) == 0)
    t32 = nn.Parameter(np.zeros((3, 3), dtype=np.float32))
    p_id = id(t32.array)
    init.normal_(t32)
    assert t32.dtype == np.float32 and id(t32.array) == p_id     # in place


def test_xavier_and_kaiming_statistics():
    t = big(300, 200)                                   # fan_in 200, fan_out 300
    init.xavier_uniform_(t, gain=2.0)
    a = 2.0 * math.sqrt(6 / 500)
    v = to_np(t)
    assert v.max() <= a and v.max() > 0.99 * a and abs(v.std() - a / math.sqrt(3)) < 0.01 * a
    init.xavier_normal_(t)
    assert abs(to_np(t).std() - math.sqrt(2 / 500)) < 0.01 * math.sqrt(2 / 500)
    init.kaiming_uniform_(t, a=0, nonlinearity="relu")
    b = math.sqrt(2) * math.sqrt(3 / 200)
    assert to_np(t).max() <= b and to_np(t).max() > 0.99 * b
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(to_np(t).std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    init.kaiming_uniform_(t, a=math.sqrt(5))         # PyTorch's Linear default: ±1/√fan_in
    assert to_np(t).max() <= 1 / math.sqrt(200) and to_np(t).max() > 0.99 / math.sqrt(200)
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_normal_(t, mode="fan_middle")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3, 3)])
def test_orthogonal(shape):
    t = big(*shape)
    init.orthogonal_(t, gain=1.5)
    m = to_np(t).reshape(shape[0], -1)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, 1.5 ** 2 * np.eye(m.shape[0]), atol=1e-10)
    else:
        np.testing.assert_allclose(m.T @ m, 1.5 ** 2 * np.eye(m.shape[1]), atol=1e-10)


def test_initialisers_follow_the_seed():
    a, b = big(4, 4), big(4, 4)
    minigan.manual_seed(3)
    init.xavier_normal_(a)
    minigan.manual_seed(3)
    init.xavier_normal_(b)
    np.testing.assert_array_equal(to_np(a), to_np(b))


def test_dcgan_init():
    net = nn.Sequential(nn.ConvTranspose2d(8, 64, 4), nn.BatchNorm2d(64), nn.ReLU(),
                        nn.Conv2d(64, 64, 3), nn.Linear(64, 300), nn.Tanh())
    net.apply(init.dcgan_init)
    for m in (net[0], net[3], net[4]):
        w = to_np(m.weight)
        assert abs(w.mean()) < 0.003 and abs(w.std() - 0.02) < 0.002
        assert np.all(to_np(m.bias) == 0)
    g = to_np(net[1].weight)
    assert abs(g.mean() - 1) < 0.01 and abs(g.std() - 0.02) < 0.006
    assert np.all(to_np(net[1].bias) == 0)
    # with spectral norm the trained weight is weight_orig
    sn = nn.spectral_norm(nn.Conv2d(64, 64, 3))
    init.dcgan_init(sn)
    assert abs(to_np(sn.weight_orig).std() - 0.02) < 0.002


def test_init_refuses_non_float():
    with pytest.raises(TypeError):
        init.normal_(minigan.Tensor(np.zeros(3, dtype=np.int64)))
