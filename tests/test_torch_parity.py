"""Forward values and gradients against PyTorch, in float64, on the same inputs.

PyTorch is never a dependency: this file is skipped where it is not installed. Students move
on to PyTorch, so our numbers must be its numbers (to float64 rounding)."""
import numpy as np
import pytest

import minigan
from minigan import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

T_IDX = np.array([1, 0, 3, -100])
T_2D = np.array([[1, 0], [3, 2]])
W5 = np.array([1.0, 2.0, 3.0, 0.5, 1.0])
PW = minigan.tensor([0.5, 2.0, 3.0], dtype="float64")

CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(3, 1, 4), (2, 4)], False),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (4,)], True),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [(3, 4), (3, 4)], True),
    "softplus": (lambda a: minigan.softplus(a * 15), lambda a: TF.softplus(a * 15), [(50,)], False),
    "softplus_beta": (lambda a: minigan.softplus(a * 15, beta=2, threshold=5),
                      lambda a: TF.softplus(a * 15, beta=2, threshold=5), [(50,)], False),
    "log_sigmoid": (lambda a: minigan.log_sigmoid(a * 300), lambda a: TF.logsigmoid(a * 300),
                    [(50,)], False),
    "sigmoid": (lambda a: minigan.sigmoid(a * 40), lambda a: torch.sigmoid(a * 40), [(50,)], False),
    "tanh": (minigan.tanh, torch.tanh, [(7,)], False),
    "leaky_relu": (lambda a: minigan.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2),
                   [(9,)], False),
    "var": (lambda a: a.var(axis=1), lambda a: a.var(dim=1), [(3, 5)], False),
    "std_all": (lambda a: a.std(), lambda a: a.std(), [(3, 4)], False),
    "logsumexp": (lambda a: a.logsumexp(axis=(0, 2)), lambda a: a.logsumexp(dim=(0, 2)),
                  [(3, 5, 2)], False),
    "softmax": (lambda a: a.softmax(0), lambda a: a.softmax(0), [(3, 5)], False),
    "log_softmax": (lambda a: a.log_softmax(1), lambda a: a.log_softmax(1), [(3, 5)], False),
    "matmul_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], False),
    "matmul_vector": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (2, 4, 3)], False),
    "index_advanced": (lambda a: a[[0, 0, 2], 1:], lambda a: a[[0, 0, 2], 1:], [(3, 4)], False),
    "amax": (lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(3, 4)], False),
    "clamp": (lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(20,)], False),
    "maximum": (minigan.maximum, torch.maximum, [(20,), (20,)], False),
    "where": (lambda a, b: minigan.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
              [(3, 4), (4,)], False),
    "linear": (F.linear, TF.linear, [(5, 3), (2, 3), (2,)], False),
    "norm": (lambda a: a.norm(), lambda a: a.norm(), [(3, 4)], False),
    "bce_logits": (lambda a, b: F.binary_cross_entropy_with_logits(a * 100, b.sigmoid()),
                   lambda a, b: TF.binary_cross_entropy_with_logits(a * 100, b.sigmoid()),
                   [(4, 3), (4, 3)], False),
    "bce_logits_pos_weight": (
        lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=PW),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=torch.tensor(PW.numpy())),
        [(4, 3), (4, 3)], False),
    "bce": (lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()),
            lambda a, b: TF.binary_cross_entropy(a.sigmoid(), b.sigmoid()), [(4, 3), (4, 3)], False),
    "cross_entropy": (lambda a: F.cross_entropy(a, T_IDX),
                      lambda a: TF.cross_entropy(a, torch.tensor(T_IDX)), [(4, 5)], False),
    "cross_entropy_weight_smoothing": (
        lambda a: F.cross_entropy(a, T_IDX, weight=minigan.tensor(W5), label_smoothing=0.2),
        lambda a: TF.cross_entropy(a, torch.tensor(T_IDX), weight=torch.tensor(W5),
                                   label_smoothing=0.2), [(4, 5)], False),
    "cross_entropy_spatial": (lambda a: F.cross_entropy(a, T_2D),
                              lambda a: TF.cross_entropy(a, torch.tensor(T_2D)), [(2, 5, 2)], False),
    "cross_entropy_probs": (
        lambda a, b: F.cross_entropy(a, b.softmax(1), label_smoothing=0.1),
        lambda a, b: TF.cross_entropy(a, b.softmax(1), label_smoothing=0.1), [(4, 5), (4, 5)], False),
    "mse": (F.mse_loss, TF.mse_loss, [(4, 3), (4, 3)], False),
    "l1_sum": (lambda a, b: F.l1_loss(a, b, reduction="sum"),
               lambda a, b: TF.l1_loss(a, b, reduction="sum"), [(4, 3), (4, 3)], False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch_in_float64(name):
    f_ours, f_torch, shapes, positive = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    xs = [rng.standard_normal(s) for s in shapes]
    if positive:
        xs = [np.abs(x) + 0.1 for x in xs]
    ours = [minigan.tensor(x, requires_grad=True) for x in xs]
    theirs = [torch.tensor(x, requires_grad=True) for x in xs]
    y, yt = f_ours(*ours), f_torch(*theirs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = rng.standard_normal(tuple(yt.shape))
    y.backward(minigan.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_second_derivative_matches_pytorch():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 4))
    x = minigan.tensor(x0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    f = lambda m, a: (m.log_softmax(a * a, 1) * a.tanh()).sum()  # noqa: E731
    (g,) = minigan.grad(f(minigan, x), x, create_graph=True)
    (gt,) = torch.autograd.grad(f(torch, xt), xt, create_graph=True)
    (gg,) = minigan.grad((g * g).sum(), x)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-11, atol=1e-12)
