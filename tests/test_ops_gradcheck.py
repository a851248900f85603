"""The gradient checker itself, and the per-family views of the op table.

Every op is gradient-checked at first and second order, over shapes that hypothesis draws, by
``tests/test_op_table.py`` from the one table in ``tests/op_cases.py``. What stays here is what
that table does not check: that ``gradcheck``/``gradgradcheck`` catch wrong rules and explain
non-finite values, and that repeated indices accumulate.

``UNARY``, ``BINARY``, ``REDUCTIONS``, ``SHAPE_OPS`` and ``LOSSES`` are views of the table for
older tests (``test_dtypes_and_stability.py``), in the form those tests expect: name ->
``(fn, value options)`` for unary ops, ``(fn, options a, options b)`` for binary ones,
``fn(x, axis, keepdims)`` for reductions, ``fn(x)`` for shape ops and ``fn(x, t)`` for losses
(shape ops and losses with the parameters of their table example, on 2-D inputs). They are
derived, never edited: add an op to ``tests/op_cases.py``.
"""
import numpy as np
import pytest

import minigan

from .op_cases import CASES
from .strategies import array


def _bind(case):
    return lambda *xs: case.fn(*xs, **case.example.params)


def _two_d_example(case, n_inputs):
    shapes = case.example.shapes
    return len(shapes) == n_inputs and all(len(s) == 2 for s in shapes) and \
        len(set(shapes)) == 1


UNARY = {c.name: (c.fn, c.args[0].opts()) for c in CASES if c.family == "unary" and c.backward}
BINARY = {c.name: (c.fn, c.args[0].opts() if c.args else {}, c.args[1].opts() if c.args else {})
          for c in CASES if c.family == "binary"}
REDUCTIONS = {c.name: (lambda f: lambda x, axis, keepdims: f(x, dim=axis, keepdim=keepdims))(c.fn)
              for c in CASES if c.family == "reduce" and set(c.example.params) == {"dim",
                                                                                     "keepdim"}}
SHAPE_OPS = {c.name: _bind(c) for c in CASES
             if c.family == "shape" and _two_d_example(c, 1) and c.example.shapes[0] == (3, 4)}
LOSSES = {c.name: _bind(c) for c in CASES
          if c.family == "loss" and _two_d_example(c, 2) and c.args[0].low is None}


def test_views_are_not_empty():
    """The views select by family and example shape: a renamed family would empty one."""
    for view in (UNARY, BINARY, REDUCTIONS, SHAPE_OPS, LOSSES):
        assert len(view) >= 2


def test_repeated_index_gradient_accumulates():
    x = minigan.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_gradcheck_reports_a_wrong_rule():
    class BadSquare(minigan.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0]          # forgot the factor 2

    x = minigan.tensor(array(0, (2, 3)), requires_grad=True)
    with pytest.raises(minigan.GradcheckError, match=r"input 0 \(shape \(2, 3\)\).*analytic"):
        minigan.gradcheck(lambda x: BadSquare()(x), (x,))
    assert minigan.gradcheck(lambda x: BadSquare()(x), (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_made_of_constants():
    class FrozenBackward(minigan.Function):
        """Right first derivative, but the backward uses raw arrays: no second derivative."""
        def forward(self, x):
            return x * x * x

        def backward(self, gy):
            x = self.inputs[0]
            return gy * (3 * x * x).detach()

    x = minigan.tensor(array(1, (3,)), requires_grad=True)
    assert minigan.gradcheck(lambda x: FrozenBackward()(x), (x,))
    with pytest.raises(minigan.GradcheckError):
        minigan.gradgradcheck(lambda x: FrozenBackward()(x), (x,))


def test_gradcheck_explains_non_finite_values():
    x = minigan.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    # log(0) on purpose: NumPy's divide-by-zero warning is expected here, not a bug.
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(minigan.GradcheckError, match="non-finite values at element"):
            minigan.gradcheck(minigan.log, (x,))


def test_gradcheck_nudges_a_non_contiguous_input_itself():
    """A transposed view's reshape(-1) is a copy: the numerical Jacobian must nudge the
    tensor's own elements, or every column would read 0 and a right rule would 'fail'."""
    x = minigan.randn(3, 4, dtype="float64").T.detach().requires_grad_(True)
    assert not x.array.flags["C_CONTIGUOUS"]
    assert minigan.gradcheck(lambda t: (t * t).sum(0), (x,))
    from minigan.gradcheck import numerical_jacobian
    (jac,) = numerical_jacobian(lambda t: (t * t).sum(0), (x,), [0], 1e-6)
    expected = np.zeros((3, 12))
    for r in range(4):          # x is (4, 3): out[c] = sum_r x[r, c]^2, d/dx[r, c] = 2 x[r, c]
        for c in range(3):
            expected[c, r * 3 + c] = 2 * x.numpy()[r, c]
    np.testing.assert_allclose(jac, expected, atol=1e-6)
