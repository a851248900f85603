"""The autograd engine's contract: PyTorch's accumulation and graph-lifetime semantics,
higher-order gradients, and an iterative (non-recursive) backward pass."""
import numpy as np
import pytest

import minigan
from minigan import functional as F


def test_grad_accumulates_across_backward_calls():
    x = minigan.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, -4 + 3])


def test_backward_twice_without_retain_graph_fails_clearly():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_pass():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_non_scalar_backward_needs_a_gradient():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2.0).backward()
    (x * 2.0).backward(minigan.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_on_a_constant_explains_itself():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (minigan.tensor([1.0]) * 2.0).sum().backward()


def test_no_grad_records_nothing_and_enable_grad_reenables():
    x = minigan.tensor([1.0], requires_grad=True)
    with minigan.no_grad():
        y = x * 2.0
        with minigan.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf

    @minigan.no_grad()
    def f(t):
        return t * 3.0
    assert not f(x).requires_grad


def test_detach_cuts_the_graph_and_shares_memory():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.array is y.array
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_leaf_grads_do_not_alias_each_other():
    a = minigan.tensor([1.0], requires_grad=True)
    b = minigan.tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.array[0] = 100.0
    assert b.grad.item() == 1.0


def test_grad_returns_without_touching_dot_grad():
    x = minigan.tensor([3.0], requires_grad=True)
    (g,) = minigan.grad((x ** 3).sum(), x)
    assert g.item() == pytest.approx(27.0) and x.grad is None


def test_second_and_third_derivatives():
    x = minigan.tensor([0.7], dtype="float64", requires_grad=True)
    y = minigan.sin(x) * x
    (d1,) = minigan.grad(y.sum(), x, create_graph=True)
    (d2,) = minigan.grad(d1.sum(), x, create_graph=True)
    (d3,) = minigan.grad(d2.sum(), x)
    v = 0.7
    assert d1.item() == pytest.approx(np.cos(v) * v + np.sin(v), rel=1e-12)
    assert d2.item() == pytest.approx(-np.sin(v) * v + 2 * np.cos(v), rel=1e-12)
    assert d3.item() == pytest.approx(-np.cos(v) * v - 3 * np.sin(v), rel=1e-12)


def test_gradient_penalty_pattern_reaches_the_weights():
    """WGAN-GP: a loss made of ||dD/dx|| must send gradients to D's weights (create_graph)."""
    minigan.manual_seed(1)
    w = minigan.randn(1, 3, dtype="float64", requires_grad=True)
    x = minigan.randn(5, 3, dtype="float64", requires_grad=True)
    d = F.linear(minigan.tanh(x), w).sum()
    (gx,) = minigan.grad(d, x, create_graph=True)
    penalty = ((gx.norm(dim=1) - 1.0) ** 2).mean()
    penalty.backward()
    assert w.grad is not None and np.all(np.isfinite(w.grad.numpy()))
    assert np.abs(w.grad.numpy()).max() > 1e-6

    def penalty_of(w_):
        d = F.linear(minigan.tanh(x), w_).sum()
        (gx,) = minigan.grad(d, x, create_graph=True)
        return ((gx.norm(dim=1) - 1.0) ** 2).mean()
    assert minigan.gradcheck(penalty_of, (w,))


def test_unused_inputs_raise_as_in_pytorch_or_give_none_or_zeros_on_request():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = minigan.tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 was not used .* allow_unused=True"):
        minigan.grad((x * 2.0).sum(), [x, y])
    _, none = minigan.grad((x * 2.0).sum(), [x, y], allow_unused=True)
    assert none is None
    _, zero = minigan.grad((x * 2.0).sum(), [x, y], materialize_grads=True)
    np.testing.assert_array_equal(zero.numpy(), [0.0])
    # A first derivative that does not depend on x: its own derivative is undefined (PyTorch
    # raises), and zero when asked for explicitly.
    (g,) = minigan.grad((x * 2.0).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad|was not used"):
        minigan.grad(g.sum(), x)
    if g.requires_grad:
        (gg,) = minigan.grad(g.sum(), x, materialize_grads=True)
        np.testing.assert_array_equal(gg.numpy(), [0.0, 0.0])


def test_grad_of_an_output_computed_under_no_grad_raises():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    with minigan.no_grad():
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match="output 0 does not require grad .* no_grad"):
        minigan.grad(y, x)


def test_grad_on_intermediate_tensor_and_retain_grad():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    x2 = minigan.tensor([1.0, 2.0], requires_grad=True)
    h2 = x2 * 3.0
    (gh,) = minigan.grad((h2 * h2).sum(), h2)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_deep_chain_backpropagates_iteratively():
    """20,000 ops in a chain: a recursive topological sort would overflow Python's stack."""
    x = minigan.tensor([1.0], dtype="float64", requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20000, rel=1e-9)


def test_diamond_graph_visits_each_op_once():
    x = minigan.tensor([2.0], requires_grad=True)
    a = x * x
    b = a + a          # a is used twice
    c = b * a
    c.sum().backward()  # c = 2 x^4 -> 8 x^3
    assert x.grad.item() == pytest.approx(64.0)


def test_in_place_change_of_a_saved_tensor_is_detected():
    w = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with minigan.no_grad():
        w.mul_(0.5)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_on_leaf_requiring_grad_is_refused_while_recording():
    w = minigan.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)


def test_only_float_tensors_require_grad():
    with pytest.raises(RuntimeError, match="floating"):
        minigan.tensor([1, 2], requires_grad=True)


def test_backward_with_inputs_restricts_accumulation():
    a = minigan.tensor([1.0], requires_grad=True)
    b = minigan.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_multi_output_op_with_one_unused_output():
    x = minigan.tensor(np.arange(6.0), requires_grad=True)
    first, second = minigan.split(x, 3)
    (first * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2, 0, 0, 0])


def test_function_subclass_for_a_student_op():
    class Cube(minigan.Function):
        def forward(self, x):
            return x ** 3

        def backward(self, gy):
            x = self.inputs[0]
            return gy * 3.0 * x * x

    x = minigan.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    assert minigan.gradcheck(lambda t: Cube.apply(t), (x,))
    assert minigan.gradgradcheck(lambda t: Cube.apply(t), (x,))


def test_retain_grad_survives_an_in_place_write():
    """x.retain_grad() then x[i] = v: x's creator is now the write, and x.grad is still
    reported (the write's gradient), as in PyTorch."""
    w = minigan.tensor(np.arange(4.0), requires_grad=True)
    x = w * 2.0
    x.retain_grad()
    x[0] = minigan.tensor(5.0)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 6.0, 6.0, 6.0])
    y = minigan.zeros(3)                          # a leaf that becomes computed by the write
    y.retain_grad()
    y[1] = minigan.tensor(2.0, requires_grad=True)
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0, 3.0])


def test_user_functions_with_value_equality_are_distinct_graph_nodes():
    """The engine tells Functions apart by identity: a user's Function that defines == by its
    options (or is unhashable) is still one node per call."""
    from dataclasses import dataclass

    @dataclass
    class Scale(minigan.autograd.Function):        # a dataclass: __eq__ by value, no __hash__
        k: float

        def forward(self, x):
            return x * self.k

        def backward(self, gy):
            return gy * self.k

    x = minigan.tensor(np.ones(2), requires_grad=True)
    Scale(2.0)(Scale(2.0)(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])
