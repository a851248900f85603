"""Every core op, gradient-checked at first and second order in float64 over shapes that
hypothesis draws (broadcasting included)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan
from minigan import functional as F

from .strategies import array, broadcastable_pair, leaf, shapes

SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**31 - 1)

# name -> (function, value options). Values avoid points where the function has a kink or
# is undefined, since finite differences straddling a kink measure nothing useful.
UNARY = {
    "neg": (lambda x: -x, {}),
    "exp": (minigan.exp, {}),
    "log": (minigan.log, dict(low=0.2, high=3.0)),
    "sqrt": (minigan.sqrt, dict(low=0.2, high=3.0)),
    "abs": (minigan.abs, dict(away_from=[0.0])),
    "tanh": (minigan.tanh, {}),
    "sigmoid": (minigan.sigmoid, {}),
    "relu": (minigan.relu, dict(away_from=[0.0])),
    "leaky_relu": (lambda x: minigan.leaky_relu(x, 0.2), dict(away_from=[0.0])),
    "softplus": (minigan.softplus, {}),
    "softplus_beta": (lambda x: minigan.softplus(x, beta=2.0, threshold=3.0),
                      dict(away_from=[1.5])),
    "log_sigmoid": (minigan.log_sigmoid, {}),
    "clip": (lambda x: minigan.clip(x, -0.5, 0.7), dict(away_from=[-0.5, 0.7])),
    "pow_scalar": (lambda x: x ** 3, {}),
    "pow_frac": (lambda x: x ** 1.5, dict(low=0.2, high=2.0)),
    "square": (minigan.square, {}),
    "rsub_scalar": (lambda x: 2.0 - x, {}),
    "rdiv_scalar": (lambda x: 2.0 / x, dict(low=0.5, high=2.0)),
    "rpow": (lambda x: 2.0 ** x, {}),
    "sin": (minigan.sin, {}),
    "log1p": (minigan.log1p, dict(low=-0.5, high=2.0)),
    "expm1": (minigan.expm1, {}),
}

BINARY = {
    "add": (lambda a, b: a + b, {}, {}),
    "sub": (lambda a, b: a - b, {}, {}),
    "mul": (lambda a, b: a * b, {}, {}),
    "div": (lambda a, b: a / b, {}, dict(low=0.5, high=2.0)),
    "pow": (lambda a, b: a ** b, dict(low=0.3, high=2.0), {}),
    "maximum": (minigan.maximum, {}, {}),
    "minimum": (minigan.minimum, {}, {}),
    "where": (lambda a, b: minigan.where(a.data > 0, a, b), {}, {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes(0, 3), seed=seeds)
def test_unary_first_and_second_order(name, shape, seed):
    fn, opts = UNARY[name]
    x = leaf(seed, shape, **opts)
    assert minigan.gradcheck(fn, (x,))
    assert minigan.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(pair=broadcastable_pair(), seed=seeds)
def test_binary_broadcasting_first_and_second_order(name, pair, seed):
    fn, opts_a, opts_b = BINARY[name]
    a = leaf(seed, pair[0], **opts_a)
    b = leaf(seed + 1, pair[1], **opts_b)
    if name in ("maximum", "minimum"):
        # Ties are a kink: the check is only meaningful where a and b are apart.
        gap = np.abs(np.broadcast_to(a.data, np.broadcast_shapes(a.shape, b.shape)) - b.data)
        assume(gap.min() > 0.05)
    assert minigan.gradcheck(fn, (a, b))
    assert minigan.gradgradcheck(fn, (a, b))


@st.composite
def shape_and_axis(draw):
    shape = draw(shapes(1, 3))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=2,
                                   unique=True).map(tuple)))
    return shape, axis, draw(st.booleans())


REDUCTIONS = {
    "sum": lambda x, a, k: x.sum(axis=a, keepdims=k),
    "mean": lambda x, a, k: x.mean(axis=a, keepdims=k),
    "var": lambda x, a, k: x.var(axis=a, keepdims=k),
    "var_biased": lambda x, a, k: x.var(axis=a, keepdims=k, unbiased=False),
    "max": lambda x, a, k: x.max(axis=a, keepdims=k),
    "min": lambda x, a, k: x.min(axis=a, keepdims=k),
    "logsumexp": lambda x, a, k: x.logsumexp(axis=a, keepdims=k),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(sa=shape_and_axis(), seed=seeds)
def test_reductions(name, sa, seed):
    shape, axis, keep = sa
    x = leaf(seed, shape)
    axes = tuple(range(len(shape))) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([shape[a] for a in axes]))
    if name.startswith("var") and name == "var" and n < 2:
        return  # the unbiased variance of one value is NaN (as in PyTorch)
    fn = lambda t: REDUCTIONS[name](t, axis, keep)  # noqa: E731
    assert minigan.gradcheck(fn, (x,))
    assert minigan.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [minigan.softmax, minigan.log_softmax])
@SETTINGS
@given(shape=shapes(1, 3), seed=seeds, data=st.data())
def test_softmax_family(fn, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(seed, shape)
    assert minigan.gradcheck(lambda t: fn(t, axis=axis), (x,))
    assert minigan.gradgradcheck(lambda t: fn(t, axis=axis), (x,))


@SETTINGS
@given(data=st.data(), seed=seeds)
def test_matmul_batched_broadcasting(data, seed):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch_a = data.draw(shapes(0, 2, 3))
    batch_b = tuple(1 if data.draw(st.booleans()) else s for s in batch_a)[
        data.draw(st.integers(0, len(batch_a))):]
    a_shape = batch_a + (n, k) if data.draw(st.booleans()) or not batch_a else (k,)
    b_shape = batch_b + (k, m) if data.draw(st.booleans()) or a_shape == (k,) else (k,)
    if a_shape == (k,) and b_shape == (k,):
        b_shape = (k, m)
    a, b = leaf(seed, a_shape), leaf(seed + 1, b_shape)
    assert minigan.gradcheck(minigan.matmul, (a, b))
    assert minigan.gradgradcheck(minigan.matmul, (a, b))


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(-1),
    "flatten": lambda x: x.flatten(),
    "transpose": lambda x: x.T,
    "permute": lambda x: x.permute(*reversed(range(x.ndim))),
    "swap": lambda x: x.transpose(0, -1),
    "unsqueeze_squeeze": lambda x: x.unsqueeze(1).squeeze(1) * x.unsqueeze(0).squeeze(0),
    "broadcast_to": lambda x: x.broadcast_to((2,) + x.shape),
    "index_basic": lambda x: x[..., ::2] if x.ndim else x * 1.0,
    "index_int": lambda x: x[0] if x.ndim else x * 1.0,
    "index_repeats": lambda x: x[[0, 0, -1]] if x.ndim else x * 1.0,
    "index_bool": lambda x: x[x.data > 0] if x.ndim else x * 1.0,
    "concat": lambda x: minigan.cat([x, x * 2.0], dim=0) if x.ndim else x * 1.0,
    "stack": lambda x: minigan.stack([x, x.exp()], axis=-1),
    "split": lambda x: minigan.split(x, 1, dim=0)[-1] * 3.0 if x.ndim else x * 1.0,
    "pad": lambda x: minigan.pad(x, 1, value=0.5),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@SETTINGS
@given(shape=shapes(1, 3), seed=seeds)
def test_shape_ops(name, shape, seed):
    x = leaf(seed, shape)
    assert minigan.gradcheck(SHAPE_OPS[name], (x,))
    assert minigan.gradgradcheck(SHAPE_OPS[name], (x,))


def test_repeated_index_gradient_accumulates():
    x = minigan.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


LOSSES = {
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid()),
    "bce_logits_pos_weight": lambda x, t: F.binary_cross_entropy_with_logits(
        x, t.sigmoid(), pos_weight=minigan.tensor([2.0], dtype=x.dtype), reduction="sum"),
    "bce": lambda x, t: F.binary_cross_entropy(x.sigmoid(), t.sigmoid()),
    "mse": lambda x, t: F.mse_loss(x, t),
    "l1": lambda x, t: F.l1_loss(x, t + 5.0),
    "cross_entropy_probs": lambda x, t: F.cross_entropy(x, t.softmax(dim=1)),
    "linear": lambda x, t: F.linear(x, t.T[:2] if t.shape[1] >= 1 else t, None).sum(),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(2, 4), seed=seeds)
def test_losses(name, n, c, seed):
    x, t = leaf(seed, (n, c)), leaf(seed + 1, (n, c))
    fn = LOSSES[name]
    if name == "linear":
        w = leaf(seed + 2, (3, c))
        fn, t = (lambda x, w: F.linear(x, w, None)), w
    assert minigan.gradcheck(fn, (x, t))
    assert minigan.gradgradcheck(fn, (x, t))


@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(2, 4), seed=seeds, smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_class_indices(n, c, seed, smoothing):
    x = leaf(seed, (n, c))
    target = np.random.default_rng(seed).integers(0, c, size=n)
    w = minigan.tensor(np.linspace(0.5, 2.0, c))
    fn = lambda x: F.cross_entropy(x, target, weight=w, label_smoothing=smoothing)  # noqa
    assert minigan.gradcheck(fn, (x,))
    assert minigan.gradgradcheck(fn, (x,))


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
            return gy * minigan.Tensor(3 * self.inputs[0].data ** 2)

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
