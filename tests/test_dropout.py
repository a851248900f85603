"""dropout: inverted scaling, seeded masks, evaluation is the identity, gradients, errors."""
import numpy as np
import pytest

import minigan
import minigan.functional as F

from .conftest import to_np


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest(device):
    x = minigan.ones(200, 50, device=device)
    y = to_np(F.dropout(x, p=0.3))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.02           # 10,000 draws: sd of the rate 0.005
    assert abs(y.mean() - 1.0) < 0.04                   # the expectation is kept
    assert F.dropout(x, 0.3).dtype == np.float32


def test_dropout_is_seeded_and_identity_in_eval(device):
    x = minigan.randn(4, 5, device=device)
    minigan.manual_seed(7)
    a = to_np(F.dropout(x, 0.5))
    minigan.manual_seed(7)
    b = to_np(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(to_np(F.dropout(x, 1.0)), 0)


def test_dropout_gradient_is_the_same_mask(device):
    x = minigan.randn(6, 7, device=device, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = to_np(y) / to_np(x)
    np.testing.assert_allclose(to_np(x.grad), mask, rtol=1e-6)


def test_dropout_errors():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(minigan.randn(3), 1.5)
