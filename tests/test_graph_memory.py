"""The graph keeps only what backward reads.

ReLU, LeakyReLU (slope >= 0), Tanh and Sigmoid compute their gradient from their *output*;
Add, Sub and Neg need no values at all. They hold their inputs as edges (a place in the
graph, a shape, no values), so the activation before them is freed during the forward
pass. These tests check that it is freed, that every gradient (first and second order) is
bit for bit the one computed with the activation kept alive, and that what a rule does
read is still protected against in-place changes.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.autograd import _node
from minigan.gradcheck import gradgradcheck

DROPPERS = {
    "relu": lambda a: F.relu(a),
    "leaky_relu": lambda a: F.leaky_relu(a, 0.2),
    "leaky_relu_0": lambda a: F.leaky_relu(a, 0.0),
    "tanh": lambda a: minigan.tanh(a),
    "sigmoid": lambda a: minigan.sigmoid(a),
    "add": lambda a: a + 1.5,
    "sub": lambda a: 0.5 - a,
    "neg": lambda a: -a,
}


def _x(seed=0, shape=(4, 6), dtype=np.float64):
    rng = np.random.default_rng(seed)
    return minigan.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def _chain(x, op, keep):
    """sum((op(x * w) * 3)²): ``keep`` collects the intermediate Tensors (holding them alive)."""
    a = x * 1.7
    keep.append(a)
    y = op(a)
    keep.append(y)
    return ((y * 3.0) ** 2).sum()


@pytest.mark.parametrize("name", sorted(DROPPERS))
def test_the_activation_before_the_op_is_freed(name):
    x = _x()
    a = x * 1.7
    ref = weakref.ref(a)
    y = DROPPERS[name](a)
    del a
    gc.collect()
    assert ref() is None, f"{name} still holds its input"
    y.sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


def test_a_negative_slope_keeps_the_input_it_needs():
    x = _x()
    a = x * 1.7
    ref = weakref.ref(a)
    y = F.leaky_relu(a, -0.5)
    del a
    gc.collect()
    assert ref() is not None      # the output's sign no longer says where x > 0
    y.sum().backward()
    xs = x.numpy()
    assert np.array_equal(x.grad.numpy(), np.where(xs > 0, 1.7, -0.5 * 1.7))


@pytest.mark.parametrize("name", sorted(DROPPERS))
def test_gradients_are_those_of_the_kept_graph_at_first_and_second_order(name):
    op = DROPPERS[name]
    results = []
    for keep_alive in (True, False):
        x = _x(seed=3)
        keep = []
        loss = _chain(x, op, keep)
        if not keep_alive:
            keep.clear()        # only the graph holds what it needs now
            gc.collect()
        (g,) = minigan.grad(loss, x, create_graph=True)
        (g * g).sum().backward()
        results.append((g.numpy(), x.grad.numpy()))
    (g1, gg1), (g2, gg2) = results
    assert np.array_equal(g1, g2) and np.array_equal(gg1, gg2)


def test_the_second_order_through_a_freed_output_is_exact():
    # tanh's second derivative reads its output; the output Tensor itself is gone (only the
    # next tanh held it, as an edge), so backward rebuilds it from the saved values
    x = _x(seed=5, shape=(3, 3))
    assert gradgradcheck(
        lambda t: minigan.tanh(minigan.tanh(t * 1.3)).sum(), (x,))


def test_grad_of_a_non_leaf_held_only_as_an_edge():
    # grad(D(x_hat), x_hat) as in WGAN-GP: x_hat is computed, and the first op that uses it
    # holds it as an edge
    x = _x(seed=1)
    x_hat = x * 0.5
    out = F.relu(x_hat + 0.1).sum()
    (g,) = minigan.grad(out, x_hat)
    assert np.array_equal(g.numpy(), (x.numpy() * 0.5 + 0.1 > 0).astype(np.float64))


def test_retain_grad_on_a_non_leaf_held_only_as_an_edge():
    x = _x(seed=2)
    a = (x * 2.0).retain_grad()
    F.relu(a).sum().backward()
    assert np.array_equal(a.grad.numpy(), (x.numpy() > 0).astype(np.float64))


def test_changing_the_input_in_place_is_allowed_when_backward_does_not_read_it():
    # as in PyTorch: relu saved its output, not x * 2, so changing x * 2 later is harmless
    x = _x(seed=4)
    a = x * 2.0
    y = F.relu(a)
    with minigan.no_grad():
        a.mul_(-1.0)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), 2.0 * (x.numpy() > 0))


@pytest.mark.parametrize("drop_the_tensor", [False, True])
def test_changing_a_saved_output_in_place_is_refused(drop_the_tensor):
    # the op is told when its output changes, so it refuses even when the Tensor is gone
    x = _x(seed=4)
    y = F.relu(x * 2.0)
    z = y + 0.0                              # holds y as an edge only
    with minigan.no_grad():
        y.mul_(-1.0)
    loss = z.sum() if drop_the_tensor else (z + y).sum()
    if drop_the_tensor:
        del y
        gc.collect()
    with pytest.raises(RuntimeError, match="output, which its backward reads, was modified"):
        loss.backward()


def test_a_change_through_a_view_of_a_saved_input_is_refused():
    # a view shares its base's version counter (as in PyTorch), so Mul, which reads a, sees
    # the change made through a[1:]
    x = _x(seed=5)
    a = x * 2.0
    y = a * a
    with minigan.no_grad():
        a[1:].mul_(0.0)
    with pytest.raises(RuntimeError, match="saved for backward was modified in place"):
        y.sum().backward()


@pytest.mark.parametrize("view", ["slice", "reshape", "transpose", "detach"])
def test_a_change_through_a_view_of_a_saved_output_is_refused(view):
    x = _x(seed=6)
    y = minigan.tanh(x * 2.0)                   # Tanh's backward reads its output
    with minigan.no_grad():
        v = {"slice": lambda: y[:, 1:], "reshape": lambda: y.reshape(-1),
             "transpose": lambda: y.transpose(0, 1), "detach": lambda: y.detach()}[view]()
        v.add_(1.0)
    with pytest.raises(RuntimeError, match="output, which its backward reads, was modified"):
        y.sum().backward()


def test_changing_a_leaf_an_op_does_not_read_is_harmless():
    # Add reads no values: data (a leaf, held as itself for its place in the graph) may change
    x = _x(seed=8)
    data = minigan.tensor(np.ones((4, 6)))
    y = (data[1:] + x[1:]).sum()
    with minigan.no_grad():
        data.add_(1.0)
    y.backward()
    assert np.array_equal(x.grad.numpy(), np.vstack([np.zeros((1, 6)), np.ones((3, 6))]))


def test_a_change_to_a_copy_is_harmless():
    # an advanced index and a reshape of a transposed tensor copy: their changes touch
    # nothing the graph saved, and the gradient is tanh's
    x = _x(seed=7)
    y = minigan.tanh(x)
    with minigan.no_grad():
        y[[0, 2]].mul_(0.0)
        y.transpose(0, 1).reshape(-1).mul_(0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(x.numpy()) ** 2, rtol=1e-12)


def test_an_unrecorded_in_place_change_in_the_graph_is_refused():
    # minigan does not record in-place ops; changing a computed tensor while recording would
    # leave the graph computing the gradient of something else
    x = _x(seed=4)
    y = x * 1.0
    with pytest.raises(RuntimeError, match="in-place change of a tensor computed in the recorded"):
        y.mul_(2.0)


def test_many_outputs_do_not_share_a_gradient_slot():
    # an op's further outputs are keyed apart from every other op's node (an address past
    # the op's own, id(op) + 64 say, can be a neighbouring op's)
    class Unbind(minigan.autograd.Function):
        def forward(self, x):
            return tuple(x[i].copy() for i in range(x.shape[0]))

        def backward(self, *gys):
            return minigan.stack(list(gys))

    n, kept = 128, []
    expected = np.repeat(np.arange(1.0, n + 1)[:, None], 3, 1)
    for _ in range(30):
        x = minigan.tensor(np.ones((n, 3)), requires_grad=True)
        w = minigan.tensor(np.arange(1.0, n + 1)[:, None])
        parts = Unbind()(x)
        # the deterministic part: a further output's key is not an address at all
        assert not any(isinstance(_node(p), int) for p in parts[1:])
        ys = [p * 1.0 for p in parts]            # n Mul ops, allocated right after Unbind
        loss = (minigan.stack(ys) * w).sum()
        loss.backward()
        assert np.array_equal(x.grad.numpy(), expected)
        kept.append((parts, ys, loss))           # keeps memory busy, so addresses vary


def test_a_custom_op_that_reads_an_unsaved_output_says_so():
    class Square(minigan.autograd.Function):
        saved_inputs = ()                      # claims it needs nothing ...

        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.output() * 0.0   # ... but reads its output without saving it

    x = _x(seed=6)
    loss = F.relu(Square()(x * 1.0)).sum()    # relu holds Square's output as an edge
    gc.collect()
    with pytest.raises(RuntimeError, match="does not set saves_output"):
        loss.backward()


def test_a_dcgan_generator_block_frees_its_batch_norm_output():
    # ConvTranspose -> BatchNorm -> ReLU: the batch norm's output is read by nothing but the
    # ReLU, which keeps its own output instead
    minigan.manual_seed(0)
    conv = minigan.nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False)
    bn = minigan.nn.BatchNorm2d(4)
    z = minigan.randn(2, 8, 3, 3)
    h = bn(conv(z))
    ref = weakref.ref(h)
    y = F.relu(h)
    del h
    gc.collect()
    assert ref() is None
    y.sum().backward()
    assert conv.weight.grad is not None and bn.weight.grad is not None
