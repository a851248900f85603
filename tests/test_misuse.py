"""One case per kind of misuse or edge case: PyTorch's answer (its subgradient conventions
included) or a clear error that names the problem -- never a silent wrong number or a raw
NumPy traceback from deep inside."""
import math

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn, optim

from .conftest import to_np


# ------------------------------------------------------------------ silent wrong answers
def test_std_at_zero_variance_has_gradient_zero():
    x = minigan.tensor([2.0, 2.0, 2.0], requires_grad=True)
    s = x.std()
    s.backward()
    assert s.item() == 0.0
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_norm_at_zero_has_gradient_zero(p):
    x = minigan.tensor([0.0, 0.0], requires_grad=True)
    x.norm(p=p).backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0])


def test_norm_of_tiny_and_huge_values_does_not_under_or_overflow():
    x = minigan.tensor([1e-200], dtype="float64", requires_grad=True)
    n = x.norm()
    n.backward()
    assert n.item() == pytest.approx(1e-200, rel=1e-12)
    np.testing.assert_allclose(to_np(x.grad), [1.0])
    big = minigan.tensor([3e200, 4e200], dtype="float64")
    assert big.norm().item() == pytest.approx(5e200, rel=1e-12)
    h = minigan.tensor([3e30, 4e30])                       # float32: squares would overflow
    assert math.isfinite(h.norm().item()) and h.norm().item() == pytest.approx(5e30, rel=1e-6)


def test_norm_keeps_its_value_and_derivatives():
    x = minigan.randn(3, 4, dtype="float64", requires_grad=True)
    np.testing.assert_allclose(x.norm(dim=1).numpy(), np.linalg.norm(x.numpy(), axis=1))
    np.testing.assert_allclose(x.norm(p=3).item(), np.sum(np.abs(x.numpy()) ** 3) ** (1 / 3))
    assert minigan.gradgradcheck(lambda t: t.norm(dim=1, keepdim=True), (x,))
    assert minigan.gradgradcheck(lambda t: t.norm(p=3), (x,))


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "max", "logsumexp"])
def test_empty_dim_tuple_reduces_over_every_dim(op):
    x = minigan.randn(2, 3, dtype="float64")
    np.testing.assert_allclose(getattr(x, op)(dim=()).numpy(), getattr(x, op)().numpy())


def test_flatten_with_start_after_end_is_refused():
    with pytest.raises(ValueError, match="start_dim 1 comes after end_dim 0"):
        minigan.randn(2, 1, 3).flatten(1, 0)


@pytest.mark.parametrize("fn", ["sigmoid", "tanh", "exp", "log", "sqrt", "softplus"])
def test_float_functions_of_integer_tensors_give_floats(fn):
    x = minigan.tensor([1, 2, 3])
    y = getattr(minigan, fn)(x) if hasattr(minigan, fn) else getattr(F, fn)(x)
    assert y.dtype == minigan.float32
    ref = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "exp": np.exp,
           "log": np.log, "sqrt": np.sqrt, "softplus": lambda v: np.log1p(np.exp(v))}[fn]
    np.testing.assert_allclose(y.numpy(), ref(np.array([1.0, 2.0, 3.0])), rtol=1e-6)


@pytest.mark.parametrize("opt, kw", [("Adam", {"lr": float("nan")}),
                                     ("Adam", {"eps": float("nan")}),
                                     ("Adam", {"betas": (float("nan"), 0.9)}),
                                     ("SGD", {"lr": float("nan")}),
                                     ("SGD", {"lr": 0.1, "momentum": float("nan")}),
                                     ("RMSprop", {"lr": float("nan")})])
def test_optimizers_refuse_nan_hyper_parameters(opt, kw):
    with pytest.raises(ValueError, match="nan"):
        getattr(optim, opt)(nn.Linear(2, 2).parameters(), **kw)


def test_batch_norm_with_eps_zero_is_refused_not_nan():
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(minigan.ones(4, 2), None, None, training=True, eps=0.0)


def test_grad_of_an_output_that_does_not_use_the_input_raises():
    x = minigan.randn(3, requires_grad=True)
    y = minigan.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="was not used"):
        minigan.grad((y * 2).sum(), x)


def test_a_gradient_penalty_under_no_grad_raises_instead_of_becoming_a_constant():
    from minigan.gan import losses
    D = nn.Linear(2, 1)
    with minigan.no_grad():
        with pytest.raises(RuntimeError, match="does not require grad"):
            losses.gradient_penalty(D, minigan.randn(4, 2), minigan.randn(4, 2))


# --------------------------------------------------------- raw errors where PyTorch answers
def test_mean_over_an_empty_batch_is_nan_and_its_backward_works():
    logits = minigan.zeros(0, 1, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, minigan.zeros(0, 1))
    assert math.isnan(loss.item())
    loss.backward()
    assert logits.grad.shape == (0, 1)


def test_log_softmax_and_logsumexp_over_a_size_zero_dim():
    x = minigan.zeros(2, 0)
    np.testing.assert_array_equal(x.logsumexp(dim=1).numpy(), [-np.inf, -np.inf])
    assert minigan.log_softmax(x, dim=1).shape == (2, 0)
    assert minigan.softmax(x, dim=1).shape == (2, 0)


def test_reductions_of_a_zero_dim_tensor_accept_dim_0_and_minus_1():
    t = minigan.tensor(3.0)
    assert t.sum(dim=0).item() == 3.0 and t.mean(dim=-1).item() == 3.0
    assert math.isnan(t.var(dim=0).item())          # one element, n - 1 = 0: NaN as in PyTorch
    with pytest.raises(IndexError, match="dimension 1 of a tensor with 0 dimensions"):
        t.sum(dim=1)


@pytest.mark.parametrize("fn", ["randn", "rand"])
def test_half_precision_random_tensors(fn):
    x = getattr(minigan, fn)(3, 2, dtype="float16")
    assert x.dtype == minigan.float16 and x.shape == (3, 2)


# ----------------------------------------------------------------- misleading errors
def test_a_numpy_array_given_to_a_layer_is_named_as_such():
    with pytest.raises(TypeError, match="argument 0 is a numpy.ndarray, not a minigan Tensor"):
        nn.Linear(3, 4)(np.ones((2, 3), np.float32))
