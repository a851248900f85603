"""Second derivatives against PyTorch, in float64, on the same inputs.

PyTorch is never a dependency: this file is skipped where it is not installed. Students move
on to PyTorch, so our numbers must be its numbers (to float64 rounding). Forward values and
first derivatives of every op are compared with PyTorch over drawn shapes by
``tests/test_op_table.py``; here every case of the op table (``tests/op_cases.py``) that has a
PyTorch counterpart and a second derivative worth checking is compared at its fixed example
through a double backward (the derivative of <grad, w> with respect to the inputs and to the
output gradient), and one composite of several ops is checked the same way.
"""
import numpy as np
import pytest

import minigan

from .conftest import to_np
from .op_cases import CASES, as_tuple

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-11, atol=1e-12)
# PyTorch's own double backward is the less accurate one here (the table's gradgradcheck
# covers ours): for binary_cross_entropy on probabilities it is off by 1.5e-11 relative at
# the table's example, where ours agrees with a 40-digit evaluation to 4e-16.
TORCH_LESS_ACCURATE = {"bce"}
SECOND = [c for c in CASES if c.torch is not None and c.second_order and c.backward
          and c.name not in TORCH_LESS_ACCURATE]


def _double_backward(grad_fn, outs, inputs, seeds, weights, make, zeros_like):
    """d/d(inputs, seeds) of sum_i <d(outs . seeds)/d(input_i), weight_i>."""
    gs = grad_fn(outs, inputs, seeds, create_graph=True)
    total = sum((g * make(w)).sum() for g, w in zip(gs, weights) if g is not None)
    wrt = list(inputs) + list(seeds)
    if not getattr(total, "requires_grad", False):        # x ** 0: nothing depends on anything
        return [zeros_like(x) for x in wrt]
    return [zeros_like(x) if g is None else g for g, x in zip(grad_fn(total, wrt), wrt)]


def _ours_grad(outs, wrt, seeds=None, create_graph=False):
    return minigan.grad(outs, wrt, grad_outputs=seeds, create_graph=create_graph,
                        materialize_grads=True)


def _torch_grad(outs, wrt, seeds=None, create_graph=False):
    return torch.autograd.grad(outs, wrt, seeds, create_graph=create_graph, allow_unused=True)


@pytest.mark.parametrize("case", SECOND, ids=[c.name for c in SECOND])
def test_second_derivatives_match_pytorch(case):
    ex = case.example
    arrays = case.arrays(ex, 2)
    ours = [minigan.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs = case.call(ours, ex)
    touts = as_tuple(case.torch(torch, *theirs, **ex.params))
    rng = np.random.default_rng(3)
    seeds = [rng.standard_normal(o.shape) for o in outs]
    weights = [rng.standard_normal(a.shape) for a in arrays]
    # the output gradients are variables too: for a linear op the result is d/d(seeds) alone
    v_ours = [minigan.tensor(s, requires_grad=True) for s in seeds]
    v_theirs = [torch.tensor(s, requires_grad=True) for s in seeds]
    got = _double_backward(_ours_grad, outs, ours, v_ours, weights, minigan.tensor,
                           lambda x: minigan.zeros(*x.shape, dtype="float64"))
    want = _double_backward(_torch_grad, list(touts), theirs, v_theirs, weights, torch.tensor,
                            torch.zeros_like)
    for g, w in zip(got, want):
        np.testing.assert_allclose(to_np(g), w.detach().numpy(force=True), **TOL)


def test_second_derivative_of_a_composite_matches_pytorch():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 4))
    x = minigan.tensor(x0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    f = lambda m, a: (m.log_softmax(a * a, 1) * a.tanh()).sum()  # noqa: E731
    (g,) = minigan.grad(f(minigan, x), x, create_graph=True)
    (gt,) = torch.autograd.grad(f(torch, xt), xt, create_graph=True)
    (gg,) = minigan.grad((g * g).sum(), x)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), **TOL)
