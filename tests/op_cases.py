"""The one table of op cases: every op of minigan's engine (dropout aside: its mask is random),
how to draw its inputs, and what to compare it with.

``tests/test_op_table.py`` runs every case of ``CASES`` four ways: the forward against the
NumPy/SciPy reference (float64, tight tolerance), a first-order gradient check (and a
second-order one where the case says so), float32 in -> float32 out for the values and the
gradients, and float64 agreement with PyTorch when it is installed.
``tests/test_gradcheck_table.py`` prints the gradient-check error table from the same cases
(at each case's fixed ``example``), ``tests/test_torch_parity.py`` compares second derivatives
with PyTorch, and ``tests/test_ops_gradcheck.py`` derives from them the per-family views
(``UNARY``, ``BINARY``, ...) that older tests import.

How to add an op: append one ``OpCase`` to ``CASES`` (usually through a family helper:
``unary``, ``binary``, ``reduction``, or ``OpCase(...)`` directly) with

* ``name``: a unique id (the pytest id and the row of the printed table);
* ``fn(*tensors, **params)``: the minigan call; tensors are the differentiable inputs, params
  the rest (dims, strides, index arrays, masks), as drawn;
* ``ref(*arrays, **params)``: the same thing written plainly with NumPy/SciPy on float64
  arrays (a definition, loops if need be, not a copy of the kernel);
* ``draw``: a hypothesis strategy of ``Example(shapes, params)``; include size-0, size-1,
  0-d and broadcast shapes wherever the op allows them;
* ``example``: the fixed ``Example`` of the printed gradient-check table;
* ``args``: one ``Arg`` per input giving its value range and the kinks to stay away from
  (``Arg(low=0.2, high=3)`` for log, ``Arg(away_from=(0,))`` for abs), or ``distinct=True``
  when no two values may tie (max, max-pooling, maximum);
* ``torch(T, *tensors, **params)``: the PyTorch call (``T`` is the torch module), if any,
  and ``torch_when(example)`` if PyTorch itself is wrong on some examples (say which);
* ``second_order=False`` if its second derivative is not worth checking, ``gradcheck=False``
  if the gradient is deliberately not the derivative (embedding's ``padding_idx``),
  ``backward=False`` if the op has no gradient at all (sign);
* ``family``: "unary", "binary", "reduce", "shape", "loss", ... (the views of
  ``test_ops_gradcheck.py`` select by it).

An input on which minigan disagrees with NumPy or PyTorch (an engine bug) is kept out of the
case's strategy and written as a strict expected failure in ``test_op_table.py``, whose
reason says what is wrong, until the engine is fixed.

For instance, a new elementwise function is one line::

    unary("erf", minigan.erf, special.erf, lambda T, x: T.erf(x))

and from then on it is checked against SciPy, by finite differences at both orders, in
float32 and against PyTorch, over every shape the elementwise strategy draws, and it has a
row in the printed gradient-check table. An op with parameters draws them with its shapes::

    @st.composite
    def roll_examples(draw):
        shape = draw(shapes(1, 3, 3, min_side=0))
        return Example((shape,), dict(shifts=draw(st.integers(-3, 3)),
                                      dims=draw(st.integers(-len(shape), len(shape) - 1))))

    CASES.append(OpCase("roll", minigan.roll, lambda x, shifts, dims: np.roll(x, shifts, dims),
                        roll_examples(), just((3, 4), shifts=1, dims=0), (Arg(),),
                        lambda T, x, **kw: T.roll(x, **kw), family="shape"))

Parameters that are arrays (class weights, masks) are NumPy float64 arrays in ``params``;
``fn`` makes them tensors with ``like(value, x)`` so that a float32 run stays float32 and a GPU
run stays on the GPU.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import strategies as st
from scipy import special

import minigan
from minigan import functional as F

from .strategies import array, broadcastable_pair, distinct_arrays, shapes


# ------------------------------------------------------------------------------ the record
@dataclasses.dataclass(frozen=True)
class Example:
    """One drawn input: a shape per tensor input and the keyword parameters of the call."""
    shapes: tuple
    params: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Arg:
    """The values of one input: standard normal, or uniform in [low, high]; ``away_from``
    keeps them at least 0.1 from each point (kinks, thresholds)."""
    low: Optional[float] = None
    high: Optional[float] = None
    away_from: tuple = ()

    def opts(self):
        """The keyword arguments of ``strategies.array`` for these values."""
        out = {}
        if self.low is not None:
            out.update(low=self.low, high=self.high)
        if self.away_from:
            out["away_from"] = list(self.away_from)
        return out

    def values(self, seed, shape):
        return array(seed, shape, **self.opts())


@dataclasses.dataclass(frozen=True)
class OpCase:
    """One op: see the module docstring for what each field means."""
    name: str
    fn: Callable
    ref: Callable
    draw: Any
    example: Example
    args: tuple = ()
    torch: Optional[Callable] = None
    second_order: bool = True
    gradcheck: bool = True
    backward: bool = True
    distinct: bool = False
    family: str = "other"
    torch_when: Optional[Callable] = None     # examples PyTorch itself gets right, if not all

    def arrays(self, example, seed):
        """The float64 input values for ``example`` (seeded)."""
        if self.distinct:
            return distinct_arrays(seed, example.shapes)
        args = self.args or (Arg(),) * len(example.shapes)
        return [args[min(i, len(args) - 1)].values(seed + i, s)
                for i, s in enumerate(example.shapes)]

    def call(self, tensors, example):
        """The outputs of ``fn`` as a tuple."""
        return as_tuple(self.fn(*tensors, **example.params))

    def reference(self, arrays, example):
        return tuple(np.asarray(r, dtype=np.float64) for r in
                     as_tuple(self.ref(*arrays, **example.params)))


def as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def like(value, x):
    """A constant parameter (NumPy array or number) as a Tensor in ``x``'s dtype and device."""
    return minigan.tensor(np.asarray(value, dtype=np.float64), dtype=x.dtype, device=x.device)


def just(*shapes_, **params):
    return Example(tuple(shapes_), params)


def _examples(shape_strategies, params=None):
    """Examples with one shape per strategy and fixed or drawn params."""
    params = params if params is not None else st.just({})
    return st.builds(lambda s, p: Example(tuple(s), p), st.tuples(*shape_strategies), params)


# --------------------------------------------------------------------- NumPy helpers
def _np_axis(dim, ndim):
    """minigan/PyTorch dims -> NumPy axis: None and () mean every axis; a 0-d array has none."""
    if dim is None or dim == () or ndim == 0:
        return None
    return dim


def _torch_dim(dim, ndim):
    """Explicit dims for PyTorch (some of its reductions take no None or ())."""
    if ndim == 0:
        return 0 if dim is None or dim == () else dim
    if dim is None or dim == ():
        return tuple(range(ndim))
    return dim


def _log_softmax(x, axis):
    if x.size == 0:
        return x.copy()
    return special.log_softmax(x, axis=axis)


def _softmax(x, axis):
    if x.size == 0:
        return x.copy()
    return special.softmax(x, axis=axis)


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


# ----------------------------------------------------------------------------- elementwise
ELEMENTWISE = shapes(0, 3, max_side=3, min_side=0)          # 0-d, empty, size-1, ...
CASES = []


def unary(name, fn, ref, torch=None, arg=Arg(), **kw):
    CASES.append(OpCase(name, fn, ref, _examples([ELEMENTWISE]), just((2, 3)), (arg,), torch,
                        family="unary", **kw))


def _softplus_ref(beta, threshold):
    return lambda x: np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


unary("neg", lambda x: -x, np.negative, lambda T, x: -x)
unary("exp", minigan.exp, np.exp, lambda T, x: T.exp(x))
unary("expm1", minigan.expm1, np.expm1, lambda T, x: T.expm1(x))
unary("log", minigan.log, np.log, lambda T, x: T.log(x), Arg(0.2, 3.0))
unary("log1p", minigan.log1p, np.log1p, lambda T, x: T.log1p(x), Arg(-0.5, 2.0))
unary("sqrt", minigan.sqrt, np.sqrt, lambda T, x: T.sqrt(x), Arg(0.2, 3.0))
unary("rsqrt", minigan.rsqrt, lambda x: 1.0 / np.sqrt(x), lambda T, x: T.rsqrt(x),
      Arg(0.2, 3.0))
unary("reciprocal", lambda x: x.reciprocal(), np.reciprocal, lambda T, x: T.reciprocal(x),
      Arg(away_from=(0.0,)))
unary("sin", minigan.sin, np.sin, lambda T, x: T.sin(x))
unary("cos", minigan.cos, np.cos, lambda T, x: T.cos(x))
unary("abs", minigan.abs, np.abs, lambda T, x: T.abs(x), Arg(away_from=(0.0,)))
unary("tanh", minigan.tanh, np.tanh, lambda T, x: T.tanh(x))
unary("sigmoid", minigan.sigmoid, special.expit, lambda T, x: T.sigmoid(x))
unary("sigmoid_wide", minigan.sigmoid, special.expit, lambda T, x: T.sigmoid(x),
      Arg(-40.0, 40.0))
unary("relu", minigan.relu, lambda x: np.maximum(x, 0.0), lambda T, x: T.relu(x),
      Arg(away_from=(0.0,)))
unary("leaky_relu", lambda x: minigan.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
      lambda T, x: T.nn.functional.leaky_relu(x, 0.2), Arg(away_from=(0.0,)))
unary("leaky_relu_default", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x),
      lambda T, x: T.nn.functional.leaky_relu(x), Arg(away_from=(0.0,)))
unary("leaky_relu_steep", lambda x: minigan.leaky_relu(x, 2.0),
      lambda x: np.where(x > 0, x, 2.0 * x),
      lambda T, x: T.nn.functional.leaky_relu(x, 2.0), Arg(away_from=(0.0,)))
unary("softplus", minigan.softplus, _softplus_ref(1.0, 20.0),
      lambda T, x: T.nn.functional.softplus(x))
unary("softplus_beta", lambda x: minigan.softplus(x, beta=2.0, threshold=3.0),
      _softplus_ref(2.0, 3.0), lambda T, x: T.nn.functional.softplus(x, beta=2.0, threshold=3.0),
      Arg(away_from=(1.5,)))
unary("softplus_wide", minigan.softplus, _softplus_ref(1.0, 20.0),
      lambda T, x: T.nn.functional.softplus(x), Arg(-45.0, 45.0, away_from=(20.0,)))
unary("softplus_beta_wide", lambda x: minigan.softplus(x, beta=2, threshold=5),
      _softplus_ref(2.0, 5.0), lambda T, x: T.nn.functional.softplus(x, beta=2, threshold=5),
      Arg(-45.0, 45.0, away_from=(2.5,)))
unary("log_sigmoid", minigan.log_sigmoid, special.log_expit,
      lambda T, x: T.nn.functional.logsigmoid(x))
unary("log_sigmoid_wide", F.logsigmoid, special.log_expit,
      lambda T, x: T.nn.functional.logsigmoid(x), Arg(-300.0, 300.0))
unary("clamp", lambda x: minigan.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
      lambda T, x: T.clamp(x, -0.5, 0.7), Arg(away_from=(-0.5, 0.7)))
unary("clamp_min", lambda x: x.clamp(min=-0.3), lambda x: np.maximum(x, -0.3),
      lambda T, x: T.clamp(x, min=-0.3), Arg(away_from=(-0.3,)))
unary("clamp_max", lambda x: minigan.clip(x, max=0.4), lambda x: np.minimum(x, 0.4),
      lambda T, x: T.clamp(x, max=0.4), Arg(away_from=(0.4,)))
unary("square", minigan.square, np.square, lambda T, x: T.square(x))
unary("pow_scalar", lambda x: x ** 3, lambda x: x ** 3, lambda T, x: x ** 3)
unary("pow_frac", lambda x: x ** 1.5, lambda x: x ** 1.5, lambda T, x: x ** 1.5, Arg(0.2, 2.0))
unary("pow_negative", lambda x: minigan.pow(x, -2), lambda x: x ** -2.0, lambda T, x: x ** -2,
      Arg(0.5, 2.0))
unary("pow_zero", lambda x: x ** 0, np.ones_like, lambda T, x: x ** 0)
unary("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, lambda T, x: 2.0 - x)
unary("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, lambda T, x: 2.0 / x, Arg(0.5, 2.0))
unary("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, lambda T, x: 2.0 ** x)
unary("sign", minigan.sign, np.sign, lambda T, x: T.sign(x), Arg(away_from=(0.0,)),
      backward=False, gradcheck=False, second_order=False)


def binary(name, fn, ref, torch=None, args=(Arg(), Arg()), **kw):
    draw = broadcastable_pair(max_dims=3, max_side=3, min_dims=0, min_side=0).map(
        lambda p: Example(tuple(p), {}))
    CASES.append(OpCase(name, fn, ref, draw, just((2, 3), (3,)), args, torch,
                        family="binary", **kw))


binary("add", lambda a, b: a + b, np.add, lambda T, a, b: a + b)
binary("sub", lambda a, b: a - b, np.subtract, lambda T, a, b: a - b)
binary("mul", lambda a, b: a * b, np.multiply, lambda T, a, b: a * b)
binary("div", lambda a, b: a / b, np.divide, lambda T, a, b: a / b,
       (Arg(), Arg(away_from=(0.0,))))
binary("pow", lambda a, b: a ** b, np.power, lambda T, a, b: a ** b, (Arg(0.3, 2.0), Arg()))
binary("maximum", minigan.maximum, np.maximum, lambda T, a, b: T.maximum(a, b), distinct=True)
binary("minimum", minigan.minimum, np.minimum, lambda T, a, b: T.minimum(a, b), distinct=True)
binary("where", lambda a, b: minigan.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
       lambda T, a, b: T.where(a > 0, a, b), (Arg(away_from=(0.0,)), Arg()))


# ------------------------------------------------------------------------------ reductions
@st.composite
def reduction_examples(draw, min_count=1, min_side=0):
    """A shape, the dims to reduce (None, (), an int or a tuple) and keepdim, with at least
    ``min_count`` elements in every reduced group (2 for an unbiased variance)."""
    shape = list(draw(shapes(0, 3, 3, min_side)))
    nd = len(shape)
    options = [st.none(), st.just(()), st.integers(-max(nd, 1), max(nd, 1) - 1)]
    if nd:
        options.append(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                unique=True).map(tuple))
    dim = draw(st.one_of(*options))
    if dim is None or dim == () or nd == 0:
        axes = tuple(range(nd))
    else:
        axes = tuple(d % nd for d in ((dim,) if isinstance(dim, int) else dim))
    if math.prod(shape[a] for a in axes) < min_count:
        if nd == 0:
            shape, dim = [min_count], None
        for a in axes:
            shape[a] = max(shape[a], min_count)
    return Example((tuple(shape),), dict(dim=dim, keepdim=draw(st.booleans())))


def reduction(name, method, ref, torch=None, min_count=1, min_side=0, arg=Arg(), **kw):
    """``x.method(dim=..., keepdim=...)`` (or ``method(x, dim, keepdim)``) against
    ``ref(x, axis, keepdims)`` with NumPy's axis, and ``torch(T, x, dim, keepdim)`` with
    explicit dims."""
    fn = method if callable(method) else (lambda x, dim, keepdim: getattr(x, method)(
        dim=dim, keepdim=keepdim))
    CASES.append(OpCase(
        name, fn, lambda x, dim, keepdim: ref(x, _np_axis(dim, x.ndim), keepdim),
        reduction_examples(min_count, min_side), just((2, 3), dim=1, keepdim=False), (arg,),
        None if torch is None else (lambda T, x, dim, keepdim: torch(
            T, x, _torch_dim(dim, x.ndim), keepdim)),
        family="reduce", **kw))


def _logsumexp_ref(x, axis, keepdims):
    """log(sum(exp(x))) with the maximum taken out (SciPy's fails on empty inputs)."""
    shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    if x.size == 0:
        return np.zeros(shape)               # groups are never empty here: no groups at all
    m = np.max(x, axis=axis, keepdims=True)
    return (np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m).reshape(shape)


def _norm_ref(p):
    return lambda x, axis, keepdims: np.sum(np.abs(x) ** p, axis=axis,
                                            keepdims=keepdims) ** (1.0 / p)


reduction("sum", "sum", lambda x, a, k: np.sum(x, axis=a, keepdims=k),
          lambda T, x, d, k: x.sum(dim=d, keepdim=k), min_count=0)
reduction("mean", "mean", lambda x, a, k: np.mean(x, axis=a, keepdims=k),
          lambda T, x, d, k: x.mean(dim=d, keepdim=k))
reduction("var", "var", lambda x, a, k: np.var(x, axis=a, keepdims=k, ddof=1),
          lambda T, x, d, k: x.var(dim=d, keepdim=k), min_count=2)
reduction("var_biased", lambda x, dim, keepdim: x.var(dim=dim, keepdim=keepdim, unbiased=False),
          lambda x, a, k: np.var(x, axis=a, keepdims=k),
          lambda T, x, d, k: x.var(dim=d, keepdim=k, unbiased=False))
reduction("var_correction2", lambda x, dim, keepdim: x.var(dim=dim, keepdim=keepdim,
                                                           correction=2),
          lambda x, a, k: np.var(x, axis=a, keepdims=k, ddof=2),
          lambda T, x, d, k: T.var(x, dim=d, keepdim=k, correction=2), min_count=3)
reduction("std", "std", lambda x, a, k: np.std(x, axis=a, keepdims=k, ddof=1),
          lambda T, x, d, k: x.std(dim=d, keepdim=k), min_count=2)
reduction("std_biased", lambda x, dim, keepdim: x.std(dim=dim, keepdim=keepdim, unbiased=False),
          lambda x, a, k: np.std(x, axis=a, keepdims=k),
          lambda T, x, d, k: x.std(dim=d, keepdim=k, unbiased=False))
reduction("max", "max", lambda x, a, k: np.max(x, axis=a, keepdims=k),
          lambda T, x, d, k: T.amax(x, dim=d, keepdim=k), min_side=1, distinct=True)
reduction("min", "min", lambda x, a, k: np.min(x, axis=a, keepdims=k),
          lambda T, x, d, k: T.amin(x, dim=d, keepdim=k), min_side=1, distinct=True)
reduction("logsumexp", "logsumexp", _logsumexp_ref,
          lambda T, x, d, k: T.logsumexp(x, dim=d, keepdim=k))
for _p in (1, 2, 3):
    reduction(f"norm_p{_p}", (lambda p: lambda x, dim, keepdim: x.norm(
        p=p, dim=dim, keepdim=keepdim))(_p), _norm_ref(_p),
        (lambda p: lambda T, x, d, k: T.linalg.vector_norm(x, ord=p, dim=d, keepdim=k))(_p),
        min_count=0 if _p == 1 else 1,     # p > 1 over an empty group: see test_op_table
        arg=Arg(away_from=(0.0,)))


@st.composite
def softmax_examples(draw):
    shape = draw(shapes(1, 3, 3, min_side=0))
    return Example((shape,), dict(dim=draw(st.integers(-len(shape), len(shape) - 1))))


CASES += [
    OpCase("softmax", lambda x, dim: minigan.softmax(x, dim=dim),
           lambda x, dim: _softmax(x, dim), softmax_examples(), just((2, 4), dim=1),
           torch=lambda T, x, dim: T.softmax(x, dim=dim), family="reduce"),
    OpCase("log_softmax", lambda x, dim: x.log_softmax(dim),
           lambda x, dim: _log_softmax(x, dim), softmax_examples(), just((2, 4), dim=1),
           torch=lambda T, x, dim: T.log_softmax(x, dim=dim), family="reduce"),
]


# ----------------------------------------------------------------------- shapes, indexing
ANY = shapes(0, 3, 3, min_side=0)
NONEMPTY_LEAD = shapes(1, 3, 3, min_side=1)


def shape_op(name, fn, ref, draw, example, torch=None, arg=Arg(), **kw):
    CASES.append(OpCase(name, fn, ref, draw, example, (arg,), torch, family="shape", **kw))


def _with(shape_strategy, make_params):
    """Examples whose params depend on the drawn shape: ``make_params(draw, shape)``."""
    @st.composite
    def draw_it(draw):
        shape = draw(shape_strategy)
        return Example((shape,), make_params(draw, shape))
    return draw_it()


def _reshape_targets(draw, shape):
    n = math.prod(shape)
    return dict(shape=draw(st.sampled_from([(-1,), tuple(reversed(shape)), shape + (1,),
                                            (1,) + shape, (n, 1)])))


shape_op("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape),
         _with(ANY, _reshape_targets), just((3, 4), shape=(-1,)),
         lambda T, x, shape: x.reshape(shape))


def _flatten_dims(draw, shape):
    nd = max(len(shape), 1)
    s = draw(st.integers(0, nd - 1))
    e = draw(st.integers(s, nd - 1))
    return dict(start_dim=s - nd * draw(st.booleans()), end_dim=e - nd * draw(st.booleans()))


def _flatten_ref(x, start_dim, end_dim):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


shape_op("flatten", lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim), _flatten_ref,
         _with(ANY, _flatten_dims), just((3, 4), start_dim=0, end_dim=-1),
         lambda T, x, start_dim, end_dim: x.flatten(start_dim, end_dim))


def _unflatten_sizes(draw, shape):
    d = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[d]
    return dict(dim=d, sizes=draw(st.sampled_from([(1, n), (n, 1), (n,)])))


shape_op("unflatten", lambda x, dim, sizes: x.unflatten(dim, sizes),
         lambda x, dim, sizes: x.reshape(x.shape[:dim % x.ndim] + sizes
                                         + x.shape[dim % x.ndim + 1:]),
         _with(shapes(1, 3, 3, min_side=0), _unflatten_sizes), just((3, 4), dim=1, sizes=(2, 2)),
         lambda T, x, dim, sizes: x.unflatten(dim, sizes))
shape_op("transpose", lambda x: x.T, np.transpose, _examples([ANY]), just((3, 4)),
         lambda T, x: x.permute(tuple(reversed(range(x.ndim)))))
shape_op("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
         _with(ANY, lambda draw, s: dict(dims=tuple(draw(st.permutations(range(len(s))))))),
         just((3, 4), dims=(1, 0)), lambda T, x, dims: x.permute(tuple(dims)))


def _two_dims(draw, shape):
    nd = len(shape)
    return dict(dim0=draw(st.integers(-nd, nd - 1)), dim1=draw(st.integers(-nd, nd - 1)))


shape_op("swapaxes", lambda x, dim0, dim1: x.transpose(dim0, dim1),
         lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
         _with(shapes(1, 3, 3, min_side=0), _two_dims), just((3, 4), dim0=0, dim1=-1),
         lambda T, x, dim0, dim1: x.transpose(dim0, dim1))
shape_op("unsqueeze", lambda x, dim: x.unsqueeze(dim), lambda x, dim: np.expand_dims(x, dim),
         _with(ANY, lambda draw, s: dict(dim=draw(st.integers(-len(s) - 1, len(s))))),
         just((3, 4), dim=1), lambda T, x, dim: x.unsqueeze(dim))


def _squeeze_ref(x, dim):
    if dim is None:
        return np.squeeze(x)
    if x.ndim and x.shape[dim] == 1:
        return np.squeeze(x, axis=dim)
    return x


shape_op("squeeze", lambda x, dim: x.squeeze(dim), _squeeze_ref,
         _with(shapes(0, 3, 2, min_side=0), lambda draw, s: dict(dim=draw(st.one_of(
             st.none(), st.integers(-len(s), max(len(s), 1) - 1))))),  # 0-d: dim -1 xfails
         just((3, 4), dim=None), lambda T, x, dim: x.squeeze() if dim is None else x.squeeze(dim))


def _broadcast_target(draw, shape):
    lead = draw(shapes(0, 2, 2, min_side=0))
    return dict(shape=lead + tuple(draw(st.integers(0, 3)) if s == 1 else s for s in shape))


shape_op("broadcast_to", lambda x, shape: x.broadcast_to(shape),
         lambda x, shape: np.broadcast_to(x, shape), _with(ANY, _broadcast_target),
         just((3, 4), shape=(2, 3, 4)), lambda T, x, shape: x.broadcast_to(shape))
shape_op("expand", lambda x, lead: x.expand(*lead, *([-1] * x.ndim)),
         lambda x, lead: np.broadcast_to(x, tuple(lead) + x.shape),
         _with(ANY, lambda draw, s: dict(lead=draw(shapes(0, 2, 3, min_side=1)))),
         just((3, 4), lead=(2,)), lambda T, x, lead: x.expand(tuple(lead) + (-1,) * x.ndim))


@st.composite
def _basic_index(draw, shape):
    """Slices (positive steps: PyTorch has no others) and ints for the leading dims, None
    (a new axis) anywhere, and sometimes a trailing Ellipsis."""
    parts = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        if n and draw(st.booleans()):
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            parts.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2]))))
    for _ in range(draw(st.integers(0, 1))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()):
        parts.append(Ellipsis)
    return tuple(parts)


shape_op("index_basic", lambda x, index: x[index], lambda x, index: x[index],
         _with(ANY, lambda draw, s: dict(index=draw(_basic_index(s)))),
         just((3, 4), index=(Ellipsis, slice(None, None, 2))), lambda T, x, index: x[index])


def _torch_index(T, index):
    return tuple(T.as_tensor(i) if isinstance(i, np.ndarray) else i for i in index)


@st.composite
def _advanced_index(draw, shape):
    """Integer arrays (repeats, negatives, empty, 2-D) on the first dim or on the first two,
    then a slice."""
    n0 = shape[0]
    ishape = draw(st.sampled_from([(3,), (0,), (2, 2), ()]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    index = [rng.integers(-n0, n0, size=ishape)]
    if len(shape) >= 2 and draw(st.booleans()):
        if shape[1]:
            index.append(rng.integers(-shape[1], shape[1], size=ishape))
    elif len(shape) >= 2:
        index.append(slice(1, None))
    return tuple(index)


shape_op("index_advanced", lambda x, index: x[index], lambda x, index: x[index],
         _with(NONEMPTY_LEAD, lambda draw, s: dict(index=draw(_advanced_index(s)))),
         just((3, 4), index=(np.array([0, 0, 2]), slice(1, None))),
         lambda T, x, index: x[_torch_index(T, index)])
shape_op("index_bool", lambda x: x[x > 0], lambda x: x[x > 0], _examples([ANY]), just((3, 4)),
         lambda T, x: x[x > 0], Arg(away_from=(0.0,)))


def _row_mask(draw, shape):
    return dict(mask=np.array(draw(st.lists(st.booleans(), min_size=shape[0],
                                            max_size=shape[0])), dtype=bool))


shape_op("index_mask_rows", lambda x, mask: x[mask], lambda x, mask: x[mask],
         _with(shapes(1, 3, 3, min_side=0), _row_mask),
         just((3, 4), mask=np.array([True, False, True])),
         lambda T, x, mask: x[T.as_tensor(mask)])


@st.composite
def cat_examples(draw):
    base = list(draw(shapes(1, 3, 3, min_side=0)))
    dim = draw(st.integers(-len(base), len(base) - 1))
    other = list(base)
    other[dim] = draw(st.integers(0, 3))
    return Example((tuple(base), tuple(other)), dict(dim=dim))


CASES.append(OpCase("cat", lambda a, b, dim: minigan.cat([a, b], dim=dim),
                    lambda a, b, dim: np.concatenate([a, b], axis=dim), cat_examples(),
                    just((3, 4), (3, 2), dim=1), (Arg(), Arg()),
                    lambda T, a, b, dim: T.cat([a, b], dim=dim), family="shape"))


@st.composite
def stack_examples(draw):
    shape = draw(ANY)
    return Example((shape, shape), dict(dim=draw(st.integers(-len(shape) - 1, len(shape)))))


CASES.append(OpCase("stack", lambda a, b, dim: minigan.stack([a, b], dim=dim),
                    lambda a, b, dim: np.stack([a, b], axis=dim), stack_examples(),
                    just((3, 4), (3, 4), dim=-1), (Arg(), Arg()),
                    lambda T, a, b, dim: T.stack([a, b], dim=dim), family="shape"))


def _split_args(draw, shape):
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    if draw(st.booleans()):
        size = draw(st.integers(1, 3))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        size = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    return dict(size=size, dim=dim)


def _split_ref(x, size, dim):
    n = x.shape[dim]
    sizes = [min(size, n - s) for s in range(0, n, size)] if isinstance(size, int) else size
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))


shape_op("split", lambda x, size, dim: minigan.split(x, size, dim=dim), _split_ref,
         _with(shapes(1, 3, 3, min_side=1), _split_args), just((3, 4), size=1, dim=0),
         lambda T, x, size, dim: T.split(x, size, dim=dim))


def _chunk_ref(x, chunks, dim):
    return _split_ref(x, -(-x.shape[dim] // chunks), dim)


shape_op("chunk", lambda x, chunks, dim: x.chunk(chunks, dim=dim), _chunk_ref,
         _with(shapes(1, 3, 4, min_side=1), lambda draw, s: dict(
             chunks=draw(st.integers(1, 4)), dim=draw(st.integers(-len(s), len(s) - 1)))),
         just((3, 4), chunks=2, dim=1), lambda T, x, chunks, dim: T.chunk(x, chunks, dim=dim))


def _torch_pad_order(widths):
    """NumPy's ((before, after) per dim) as PyTorch's flat list from the last dim."""
    return [v for pair in reversed(widths) for v in pair]


shape_op("pad", lambda x, widths, value: minigan.pad(x, widths, value=value),
         lambda x, widths, value: np.pad(x, widths, constant_values=value),
         _with(shapes(1, 3, 3, min_side=0), lambda draw, s: dict(
             widths=tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in s),
             value=draw(st.sampled_from([0.0, 0.5])))),
         just((3, 4), widths=((1, 1), (0, 2)), value=0.5),
         lambda T, x, widths, value: T.nn.functional.pad(x, _torch_pad_order(widths),
                                                         value=value))


@st.composite
def _pad_constant(draw):
    """F.pad in PyTorch's order, negative amounts crop (never everything)."""
    shape = draw(shapes(1, 3, 3, min_side=1))
    k = draw(st.integers(1, len(shape)))
    pad = []
    for n in reversed(shape[len(shape) - k:]):
        lo = draw(st.integers(-1, 2))
        hi = draw(st.integers(-1, 2))
        while n + lo + hi < 1:
            lo, hi = lo + 1, hi + 1
        pad += [lo, hi]
    return Example((shape,), dict(pad=tuple(pad), value=draw(st.sampled_from([0.0, -1.5]))))


def _np_pad_torch_order(x, pad, mode, value=None):
    """F.pad's meaning, with NumPy: pad by the positive amounts, then crop the negative."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    modes = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    y = (np.pad(x, grow, constant_values=value) if mode == "constant"
         else np.pad(x, grow, mode=modes[mode]))
    return y[tuple(slice(max(-a, 0), y.shape[i] - max(-b, 0))
                   for i, (a, b) in enumerate(widths))]


CASES.append(OpCase("F.pad_constant", lambda x, pad, value: F.pad(x, pad, value=value),
                    lambda x, pad, value: _np_pad_torch_order(x, pad, "constant", value),
                    _pad_constant(), just((3, 4), pad=(1, -1, 2, 0), value=-1.5), (Arg(),),
                    lambda T, x, pad, value: T.nn.functional.pad(x, pad, value=value),
                    family="shape"))


@st.composite
def _pad_mode(draw, mode):
    k = draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(k))
    shape = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2)))) + spatial
    limit = {"reflect": -1, "circular": 0, "replicate": 2}[mode]
    pad = []
    for n in reversed(spatial):
        top = min(2, n + limit) if mode != "replicate" else 2
        pad += [draw(st.integers(0, top)), draw(st.integers(0, top))]
    return Example((shape,), dict(pad=tuple(pad)))


for _mode in ("reflect", "replicate", "circular"):
    CASES.append(OpCase(
        f"F.pad_{_mode}", (lambda m: lambda x, pad: F.pad(x, pad, mode=m))(_mode),
        (lambda m: lambda x, pad: _np_pad_torch_order(x, pad, m))(_mode), _pad_mode(_mode),
        just((2, 3, 4), pad=(1, 2, 2, 1)), (Arg(),),
        (lambda m: lambda T, x, pad: T.nn.functional.pad(x, pad, mode=m))(_mode),
        family="shape"))


def _pixel_shuffle_ref(x, r):
    *lead, c, h, w = x.shape
    y = np.zeros(tuple(lead) + (c // (r * r), h * r, w * r))
    for k in range(c):
        i, j = divmod(k % (r * r), r)
        y[..., k // (r * r), i::r, j::r] = x[..., k, :, :]
    return y


def _pixel_unshuffle_ref(x, r):
    *lead, c, hr, wr = x.shape
    y = np.zeros(tuple(lead) + (c * r * r, hr // r, wr // r))
    for k in range(c * r * r):
        i, j = divmod(k % (r * r), r)
        y[..., k, :, :] = x[..., k // (r * r), i::r, j::r]
    return y


@st.composite
def _shuffle_examples(draw, up):
    r = draw(st.integers(1, 2))
    lead = draw(shapes(0, 1, 2, min_side=0))
    c, h, w = (draw(st.integers(1, 2)) for _ in range(3))
    shape = lead + ((c * r * r, h, w) if up else (c, h * r, w * r))
    return Example((shape,), dict(r=r))


CASES += [
    OpCase("pixel_shuffle", lambda x, r: F.pixel_shuffle(x, r), _pixel_shuffle_ref,
           _shuffle_examples(True), just((1, 4, 2, 3), r=2), (Arg(),),
           lambda T, x, r: T.nn.functional.pixel_shuffle(x, r), family="shape",
           # PyTorch's backward fails on an empty batch ("invalid gradient")
           torch_when=lambda example: math.prod(example.shapes[0]) > 0),
    OpCase("pixel_unshuffle", lambda x, r: F.pixel_unshuffle(x, r), _pixel_unshuffle_ref,
           _shuffle_examples(False), just((1, 1, 4, 2), r=2), (Arg(),),
           lambda T, x, r: T.nn.functional.pixel_unshuffle(x, r), family="shape",
           # PyTorch returns an empty batch unchanged, shape (0, C, H*r, W*r)
           torch_when=lambda example: math.prod(example.shapes[0]) > 0),
]


def _resample_matrix(n_in, n_out, mode, align_corners):
    """(n_out, n_in) weights of one axis, from PyTorch's documented index conventions."""
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        if mode == "nearest":
            m[o, min(int(math.floor(o * n_in / n_out)), n_in - 1)] = 1.0
            continue
        if align_corners:
            src = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
        lo = min(int(math.floor(src)), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        m[o, lo] += 1.0 - (src - lo)
        m[o, hi] += src - lo
    return m


def _interpolate_ref(x, size, mode, align_corners):
    for k, n_out in enumerate(size):
        axis = 2 + k
        m = _resample_matrix(x.shape[axis], n_out, mode, align_corners)
        x = np.moveaxis(np.tensordot(m, np.moveaxis(x, axis, 0), axes=(1, 0)), 0, axis)
    return x


@st.composite
def _interpolate_examples(draw):
    mode = draw(st.sampled_from(["nearest", "linear", "bilinear"]))
    nd = 1 if mode == "linear" else draw(st.integers(1, 2)) if mode == "nearest" else 2
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    size = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    align = None if mode == "nearest" else draw(st.booleans())
    return Example(((n, c) + spatial,), dict(size=size, mode=mode, align_corners=align))


CASES.append(OpCase(
    "interpolate", lambda x, size, mode, align_corners: F.interpolate(
        x, size=size, mode=mode, align_corners=align_corners), _interpolate_ref,
    _interpolate_examples(), just((1, 1, 2, 3), size=(3, 5), mode="bilinear",
                                  align_corners=False), (Arg(),),
    lambda T, x, size, mode, align_corners: T.nn.functional.interpolate(
        x, size=size, mode=mode, align_corners=align_corners), family="shape"))


# ---------------------------------------------------------------------- matmul and linear
@st.composite
def matmul_examples(draw):
    """Batched, broadcasting, vector operands, and zero sizes."""
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    batch_a = draw(shapes(0, 2, 3))
    batch_b = tuple(1 if draw(st.booleans()) else s for s in batch_a)[
        draw(st.integers(0, len(batch_a))):]
    if draw(st.booleans()):
        batch_a, batch_b = batch_b, batch_a
    a = batch_a + (n, k) if draw(st.booleans()) or not batch_a else (k,)
    b = batch_b + (k, m) if draw(st.booleans()) or a == (k,) else (k,)
    if a == (k,) and b == (k,) and draw(st.booleans()):
        b = (k, m)
    return Example((a, b))


CASES.append(OpCase("matmul", minigan.matmul, np.matmul, matmul_examples(),
                    just((2, 3, 4), (4, 2)), (Arg(), Arg()), lambda T, a, b: a @ b,
                    family="matmul"))


@st.composite
def linear_examples(draw):
    fin, fout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    lead = draw(st.sampled_from([(), (draw(st.integers(0, 3)),), (2, draw(st.integers(1, 2)))]))
    shapes_ = (lead + (fin,), (fout, fin)) + (((fout,),) if draw(st.booleans()) else ())
    return Example(shapes_)


CASES.append(OpCase("linear", F.linear, lambda x, w, b=None: x @ w.T + (0 if b is None else b),
                    linear_examples(), just((3, 4), (2, 4), (2,)), (Arg(),) * 3,
                    lambda T, x, w, b=None: T.nn.functional.linear(x, w, b), family="matmul"))


# ------------------------------------------------------------------------ convolutions
def conv2d_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Cross-correlation one output pixel at a time."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for g in range(groups):
        xs, ws = xp[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        for i in range(ho):
            for j in range(wo):
                patch = xs[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, g * og:(g + 1) * og, i, j] = np.einsum("nckl,ockl->no", patch, ws)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv_transpose2d_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                         groups=1, dilation=(1, 1)):
    """Every input pixel stamps its filter onto the output, ``stride`` pixels apart; then the
    padding is cropped."""
    n, c, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, cog * groups, ph + ho + ph + 1, pw + wo + pw + 1))
    cg = c // groups
    for g in range(groups):
        for i in range(h):
            for j in range(wd):
                stamp = np.einsum("nc,cokl->nokl", x[:, g * cg:(g + 1) * cg, i, j],
                                  w[g * cg:(g + 1) * cg])
                full[:, g * cog:(g + 1) * cog, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                     j * sw:j * sw + dw * (kw - 1) + 1:dw] += stamp
    y = full[:, :, ph:ph + ho, pw:pw + wo]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


@st.composite
def conv_examples(draw, transposed):
    groups = draw(st.integers(1, 2))
    n = draw(st.integers(0, 2))                                  # an empty batch too
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    params = dict(stride=s, padding=p, dilation=d, groups=groups)
    if transposed:
        op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
        hw = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        out = [(h - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
               for h, si, pi, di, ki, oi in zip(hw, s, p, d, k, op)]
        if min(out) < 1:
            params["padding"] = (0, 0)
        params["output_padding"] = op
        shapes_ = ((n, c) + hw, (c, o // groups) + k)
    else:
        hw = tuple(max(draw(st.integers(1, 5)), di * (ki - 1) + 1 - 2 * pi)
                   for di, ki, pi in zip(d, k, p))
        shapes_ = ((n, c) + hw, (o, c // groups) + k)
    if draw(st.booleans()):
        shapes_ += ((o,),)
    return Example(shapes_, params)


CASES += [
    OpCase("conv2d", lambda x, w, b=None, **kw: F.conv2d(x, w, b, **kw), conv2d_ref,
           conv_examples(False),
           just((1, 2, 5, 5), (2, 1, 3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1),
                groups=2), (Arg(),) * 3,
           lambda T, x, w, b=None, **kw: T.nn.functional.conv2d(x, w, b, **kw), family="conv"),
    OpCase("conv_transpose2d", lambda x, w, b=None, **kw: F.conv_transpose2d(x, w, b, **kw),
           conv_transpose2d_ref, conv_examples(True),
           just((1, 2, 3, 3), (2, 2, 3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1),
                groups=1, output_padding=(1, 1)), (Arg(),) * 3,
           lambda T, x, w, b=None, **kw: T.nn.functional.conv_transpose2d(x, w, b, **kw),
           family="conv"),
]


# ------------------------------------------------------------------------- normalisation
# Batch, instance and layer norm draw distinct values: a group of nearly equal values has a variance far
# below eps, where the gradient is ill-conditioned and PyTorch's own rounding reaches 1e-12.
def batch_norm_ref(x, w=None, b=None, affine="", eps=1e-5, running=None):
    axes = (0,) + tuple(range(2, x.ndim))
    cs = (1, -1) + (1,) * (x.ndim - 2)
    if running is None:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = running[0].reshape(cs), running[1].reshape(cs)
    y = (x - mean) / np.sqrt(var + eps)
    args = dict(zip(affine, [a for a in (w, b) if a is not None]))
    if "w" in args:
        y = y * args["w"].reshape(cs)
    if "b" in args:
        y = y + args["b"].reshape(cs)
    return y


def _affine(tensors, affine):
    named = dict(zip(affine, tensors))
    return named.get("w"), named.get("b")


def _batch_norm(x, *wb, affine="", eps=1e-5, running=None):
    w, b = _affine(wb, affine)
    if running is None:
        return F.batch_norm(x, None, None, w, b, training=True, eps=eps)
    return F.batch_norm(x, like(running[0], x), like(running[1], x), w, b, training=False,
                        eps=eps)


def _torch_batch_norm(T, x, *wb, affine="", eps=1e-5, running=None):
    w, b = _affine(wb, affine)
    if running is None:
        return T.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=eps)
    return T.nn.functional.batch_norm(x, T.tensor(running[0]), T.tensor(running[1]), w, b,
                                      training=False, eps=eps)


@st.composite
def batch_norm_examples(draw, training):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    spatial = draw(shapes(0, 2, 3))
    if training and n * math.prod(spatial) < 2:
        n = 2
    affine = draw(st.sampled_from(["", "w", "b", "wb"]))
    params = dict(affine=affine, eps=draw(st.sampled_from([1e-5, 0.1])))
    if not training:
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        params["running"] = (rng.standard_normal(c), rng.uniform(0.2, 2.0, c))
    return Example(((n, c) + spatial,) + ((c,),) * len(affine), params)


CASES += [
    OpCase("batch_norm_train", _batch_norm, batch_norm_ref, batch_norm_examples(True),
           just((3, 2, 2, 2), (2,), (2,), affine="wb"), (Arg(),) * 3, _torch_batch_norm,
           family="norm", distinct=True),
    OpCase("batch_norm_eval", _batch_norm, batch_norm_ref, batch_norm_examples(False),
           just((3, 2, 2), (2,), affine="w", running=(np.array([0.5, -1.0]),
                                                      np.array([1.5, 0.3]))),
           (Arg(),) * 3, _torch_batch_norm, family="norm"),
]


def instance_norm_ref(x, *wb, affine="", eps=1e-5):
    """Each (sample, channel) normalised over its own spatial positions."""
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    cs = (1, -1) + (1,) * (x.ndim - 2)
    w, b = _affine(wb, affine)
    return y * (1 if w is None else w.reshape(cs)) + (0 if b is None else b.reshape(cs))


def _draw_spatial(draw):
    """1-2 spatial dims with at least 2 positions: a per-(sample, channel) variance needs 2."""
    spatial = draw(shapes(1, 2, 3))
    return spatial if math.prod(spatial) >= 2 else (2,) + spatial[1:]


@st.composite
def instance_norm_examples(draw):
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    spatial = _draw_spatial(draw)
    affine = draw(st.sampled_from(["", "w", "b", "wb"]))
    return Example(((n, c) + spatial,) + ((c,),) * len(affine),
                   dict(affine=affine, eps=draw(st.sampled_from([1e-5, 0.1]))))


CASES.append(OpCase(
    "instance_norm", lambda x, *wb, affine="", eps=1e-5: F.instance_norm(
        x, None, None, *_affine(wb, affine), eps=eps),
    instance_norm_ref, instance_norm_examples(), just((2, 2, 3, 2), (2,), (2,), affine="wb"),
    (Arg(),) * 3, lambda T, x, *wb, affine="", eps=1e-5: T.nn.functional.instance_norm(
        x, None, None, *_affine(wb, affine), eps=eps), family="norm", distinct=True,
    # PyTorch's instance_norm of an empty batch with a weight raises IndexError in select()
    torch_when=lambda example: example.shapes[0][0] > 0))


def adain_ref(x, scale, shift, eps=1e-5):
    """AdaIN: each (sample, channel) normalised over its pixels, then scaled and shifted by
    that sample's own numbers."""
    cs = x.shape[:2] + (1,) * (x.ndim - 2)
    return instance_norm_ref(x, eps=eps) * scale.reshape(cs) + shift.reshape(cs)


@st.composite
def adain_examples(draw):
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    spatial = _draw_spatial(draw)
    return Example(((n, c) + spatial, (n, c), (n, c)),
                   dict(eps=draw(st.sampled_from([1e-5, 0.1]))))


def _torch_adain(T, x, scale, shift, eps=1e-5):
    cs = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    return (T.nn.functional.instance_norm(x, eps=eps) * scale.reshape(cs)
            + shift.reshape(cs))


CASES.append(OpCase(
    "adaptive_instance_norm", lambda x, scale, shift, eps=1e-5: F.adaptive_instance_norm(
        x, scale, shift, eps=eps), adain_ref, adain_examples(),
    just((2, 3, 3, 2), (2, 3), (2, 3)), (Arg(),) * 3, _torch_adain, family="norm",
    distinct=True, torch_when=lambda example: example.shapes[0][0] > 0))


def layer_norm_ref(x, *wb, k=1, affine="", eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    w, b = _affine(wb, affine)
    return y * (1 if w is None else w) + (0 if b is None else b)


@st.composite
def layer_norm_examples(draw):
    shape = draw(shapes(1, 3, 3))
    k = draw(st.integers(1, len(shape)))
    affine = draw(st.sampled_from(["", "w", "b", "wb"]))
    return Example((shape,) + (shape[len(shape) - k:],) * len(affine),
                   dict(k=k, affine=affine, eps=draw(st.sampled_from([1e-5, 0.1]))))


def _layer_norm(x, *wb, k=1, affine="", eps=1e-5):
    return F.layer_norm(x, x.shape[x.ndim - k:], *_affine(wb, affine), eps=eps)


CASES.append(OpCase(
    "layer_norm", _layer_norm, layer_norm_ref, layer_norm_examples(),
    just((2, 3, 4), (3, 4), (3, 4), k=2, affine="wb"), (Arg(),) * 3,
    lambda T, x, *wb, k=1, affine="", eps=1e-5: T.nn.functional.layer_norm(
        x, x.shape[x.ndim - k:], *_affine(wb, affine), eps=eps), family="norm",
    distinct=True,
    # PyTorch normalises a single value to about 1e-13 (its rounding times 1/sqrt(eps)), not 0
    torch_when=lambda example: math.prod(example.shapes[0][-example.params["k"]:]) > 1))


# ---------------------------------------------------------------------------- pooling
def pool_ref(x, kernel_size, stride, padding, dilation=(1, 1), kind="avg",
             count_include_pad=True):
    """One output pixel at a time, from the definition (padding never wins a max)."""
    batched = x.ndim == 4
    x = x if batched else x[None]
    k, s, p, d = kernel_size, stride, padding, dilation
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * p[0], W + 2 * p[1]), -np.inf if kind == "max" else 0.0)
    xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    real = np.zeros(xp.shape[2:])
    real[p[0]:p[0] + H, p[1]:p[1] + W] = 1
    oh = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = i * s[0] + d[0] * np.arange(k[0])
            cols = j * s[1] + d[1] * np.arange(k[1])
            win = xp[:, :, rows][:, :, :, cols]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = k[0] * k[1] if count_include_pad else real[np.ix_(rows, cols)].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return out if batched else out[0]


@st.composite
def pool_examples(draw, dilation):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    p = tuple(draw(st.integers(0, min(kk // 2, e // 2))) for kk, e in zip(k, eff))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers(max(1, eff[0] - 2 * p[0]), 5))
    W = draw(st.integers(max(1, eff[1] - 2 * p[1]), 5))
    hw = [H, W]
    for a in range(2):      # a window wholly in the padding has no maximum (PyTorch crashes)
        taps = [o * s[a] - p[a] + d[a] * np.arange(k[a])
                for o in range((hw[a] + 2 * p[a] - eff[a]) // s[a] + 1)]
        if not all(((t >= 0) & (t < hw[a])).any() for t in taps):
            p = p[:a] + (0,) + p[a + 1:]
            hw[a] = max(hw[a], eff[a])
    H, W = hw
    lead = draw(st.sampled_from([(1,), (2,), (1, 2), (2, 1), (0, 1)]))
    params = dict(kernel_size=k, stride=s, padding=p)
    if dilation:
        params["dilation"] = d
    else:
        params["count_include_pad"] = draw(st.booleans())
    return Example((lead + (H, W),), params)


CASES += [
    OpCase("avg_pool2d", F.avg_pool2d, lambda x, **kw: pool_ref(x, **kw), pool_examples(False),
           just((1, 1, 4, 4), kernel_size=(2, 2), stride=(2, 2), padding=(0, 0),
                count_include_pad=True), (Arg(),),
           lambda T, x, **kw: T.nn.functional.avg_pool2d(x, **kw), family="pool"),
    OpCase("max_pool2d", F.max_pool2d, lambda x, **kw: pool_ref(x, kind="max", **kw),
           pool_examples(True),
           just((1, 1, 4, 4), kernel_size=(2, 2), stride=(2, 2), padding=(0, 0),
                dilation=(1, 1)), (Arg(),),
           lambda T, x, **kw: T.nn.functional.max_pool2d(x, **kw), family="pool",
           distinct=True),
]


# -------------------------------------------------------------------------- attention
def attention_ref(q, k, v, mask=None, scale=None, is_causal=False):
    """One query at a time: the weights are a softmax of the scaled scores over the keys."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q, k, v = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        mask = np.tril(np.ones((L, S), dtype=bool))
    if mask is not None:
        mask = np.broadcast_to(mask, batch + (L, S))
    out = np.zeros(batch + (L, v.shape[-1]))
    for b in np.ndindex(*batch):
        for i in range(L):
            s = np.array([q[b][i] @ k[b][j] * scale for j in range(S)])
            if mask is not None and mask.dtype == bool:
                s = np.where(mask[b][i], s, -np.inf)
            elif mask is not None:
                s = s + mask[b][i]
            e = np.exp(s - s.max())
            out[b][i] = (e / e.sum()) @ v[b]
    return out


@st.composite
def attention_examples(draw):
    bq, bk = draw(st.sampled_from([((), ()), ((2,), (2,)), ((2, 1), (3,)), ((1,), (2, 1)),
                                    ((0,), (1,))]))
    L, S, E, Ev = (draw(st.integers(1, 3)) for _ in range(4))
    kind = draw(st.sampled_from([None, "bool", "float", "causal"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    params = dict(scale=draw(st.sampled_from([None, 0.3])))
    if kind == "bool":
        mask = rng.random((L, S)) > 0.4
        mask[:, 0] = True                       # every query sees at least one key
        params["mask"] = mask
    elif kind == "float":
        params["mask"] = rng.standard_normal((L, S))
    elif kind == "causal":
        params["is_causal"] = True
    return Example((bq + (L, E), bk + (S, E), bk + (S, Ev)), params)


def _mask(mask, q):
    return None if mask is None else mask if mask.dtype == bool else like(mask, q)


CASES.append(OpCase(
    "attention", lambda q, k, v, mask=None, scale=None, is_causal=False:
    F.scaled_dot_product_attention(q, k, v, _mask(mask, q), scale=scale, is_causal=is_causal),
    attention_ref, attention_examples(), just((1, 3, 2), (1, 4, 2), (1, 4, 2)), (Arg(),) * 3,
    lambda T, q, k, v, mask=None, scale=None, is_causal=False:
    T.nn.functional.scaled_dot_product_attention(
        q, k, v, None if mask is None else T.as_tensor(mask), scale=scale, is_causal=is_causal),
    family="attention"))


# -------------------------------------------------------------------------- embedding
@st.composite
def embedding_examples(draw, padding):
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    idx = np.asarray(rng.integers(0, n, size=draw(shapes(0, 2, 3, min_side=0))))
    params = dict(idx=idx)
    if padding:
        params["padding_idx"] = draw(st.integers(-n, n - 1))
    return Example(((n, d),), params)


def _embedding_ref(w, idx, padding_idx=None):
    return w[idx]


CASES += [
    OpCase("embedding", lambda w, idx: F.embedding(idx, w), _embedding_ref,
           embedding_examples(False), just((5, 3), idx=np.array([[1, 3, 1], [1, 0, 4]])),
           (Arg(),), lambda T, w, idx: T.nn.functional.embedding(T.as_tensor(idx), w),
           family="embedding"),
    # The rows at padding_idx get no gradient, as in PyTorch: not the derivative, so no
    # finite-difference check; the PyTorch column checks the gradient.
    OpCase("embedding_padding_idx",
           lambda w, idx, padding_idx: F.embedding(idx, w, padding_idx=padding_idx),
           _embedding_ref, embedding_examples(True),
           just((4, 2), idx=np.array([0, 2, 2, 3]), padding_idx=2), (Arg(),),
           lambda T, w, idx, padding_idx: T.nn.functional.embedding(
               T.as_tensor(idx), w, padding_idx=padding_idx),
           gradcheck=False, second_order=False, family="embedding"),
]


# ------------------------------------------------------------------------------ losses
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def pairwise_loss_examples(draw, weight=False, pos_weight=False):
    """Input and target of one shape (at least one element: a mean over none is NaN)."""
    shape = draw(shapes(1, 3, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    params = dict(reduction=draw(st.sampled_from(REDUCTIONS)))
    if weight and draw(st.booleans()):
        params["weight"] = rng.uniform(0.5, 2.0, shape[len(shape) - 1:])
    if pos_weight and draw(st.booleans()):
        params["pos_weight"] = rng.uniform(0.5, 3.0, shape[-1:])
    return Example((shape, shape), params)


def _bce_logits_ref(x, t, reduction="mean", weight=None, pos_weight=None):
    """The definition: -(pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))."""
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * t * special.log_expit(x) + (1 - t) * special.log_expit(-x))
    return _reduce(loss * (1.0 if weight is None else weight), reduction)


def _bce_logits(x, t, reduction="mean", weight=None, pos_weight=None):
    return F.binary_cross_entropy_with_logits(
        x, t, None if weight is None else like(weight, x), reduction,
        None if pos_weight is None else like(pos_weight, x))


def _torch_bce_logits(T, x, t, reduction="mean", weight=None, pos_weight=None):
    return T.nn.functional.binary_cross_entropy_with_logits(
        x, t, None if weight is None else T.tensor(weight), reduction=reduction,
        pos_weight=None if pos_weight is None else T.tensor(pos_weight))


def _bce(p, t, reduction="mean", weight=None):
    return F.binary_cross_entropy(p, t, None if weight is None else like(weight, p), reduction)


def _bce_ref(p, t, reduction="mean", weight=None):
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return _reduce(loss * (1.0 if weight is None else weight), reduction)


def _torch_bce(T, p, t, reduction="mean", weight=None):
    return T.nn.functional.binary_cross_entropy(
        p, t, None if weight is None else T.tensor(weight), reduction=reduction)


CASES += [
    OpCase("bce_with_logits", _bce_logits, _bce_logits_ref,
           pairwise_loss_examples(weight=True, pos_weight=True), just((3, 4), (3, 4)),
           (Arg(), Arg(0.0, 1.0)), _torch_bce_logits, family="loss"),
    OpCase("bce_with_logits_wide", _bce_logits, _bce_logits_ref,
           pairwise_loss_examples(pos_weight=True), just((3, 4), (3, 4), pos_weight=np.array(
               [0.5, 2.0, 3.0, 1.0])), (Arg(-300.0, 300.0), Arg(0.0, 1.0)), _torch_bce_logits,
           family="loss"),
    OpCase("bce", _bce, _bce_ref, pairwise_loss_examples(weight=True), just((3, 4), (3, 4)),
           (Arg(0.05, 0.95), Arg(0.0, 1.0)), _torch_bce, family="loss"),
    OpCase("mse", lambda x, t, reduction: F.mse_loss(x, t, reduction=reduction),
           lambda x, t, reduction: _reduce((x - t) ** 2, reduction), pairwise_loss_examples(),
           just((3, 4), (3, 4), reduction="mean"), (Arg(), Arg()),
           lambda T, x, t, reduction: T.nn.functional.mse_loss(x, t, reduction=reduction),
           family="loss"),
    OpCase("l1", lambda x, t, reduction: F.l1_loss(x, t, reduction=reduction),
           lambda x, t, reduction: _reduce(np.abs(x - t), reduction), pairwise_loss_examples(),
           just((3, 4), (3, 4), reduction="sum"), (Arg(), Arg()),
           lambda T, x, t, reduction: T.nn.functional.l1_loss(x, t, reduction=reduction),
           family="loss", distinct=True),
]


def _class_axis_last(a, ndim):
    """(N, C, d1, ...) -> (N*d1*..., C); (C,) -> (1, C)."""
    return a.reshape(1, -1) if ndim == 1 else np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _ce_ref(logp, target, weight=None, ignore_index=-100, reduction="mean",
            label_smoothing=0.0):
    """PyTorch's documented nll/cross-entropy of class indices on log-probabilities."""
    C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    lp = _class_axis_last(logp, logp.ndim)
    t = np.asarray(target).reshape(-1)
    w = np.ones(C) if weight is None else weight
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    nll = -lp[np.arange(len(t)), ts] * w[ts] * valid
    smooth = -(lp * w).sum(axis=1) * valid
    if reduction == "none":
        return ((1 - label_smoothing) * nll + label_smoothing / C * smooth).reshape(
            np.shape(target))
    denom = (w[ts] * valid).sum() if reduction == "mean" else 1.0
    return (1 - label_smoothing) * nll.sum() / denom + label_smoothing / C * smooth.sum() / denom


@st.composite
def class_index_examples(draw, smoothing):
    shape = draw(st.sampled_from([(), (0,), (1,), (2,), (3,), (2, 2), (1, 3)]))  # N, spatial
    C = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    target = np.asarray(rng.integers(0, C, size=shape))
    if target.size and draw(st.booleans()):
        target[rng.random(target.shape) < 0.3] = -100                 # ignored positions
    reduction = draw(st.sampled_from(REDUCTIONS))
    if reduction == "mean" and (target != -100).sum() == 0:
        target = np.zeros_like(target)
        if target.size == 0:
            reduction = "sum"
    in_shape = (C,) if shape == () else shape[:1] + (C,) + shape[1:]
    params = dict(target=target, reduction=reduction)
    if draw(st.booleans()):
        params["weight"] = rng.uniform(0.5, 2.0, C)
    if smoothing:
        params["label_smoothing"] = draw(st.sampled_from([0.0, 0.2]))
    return Example((in_shape,), params)


def _ce(x, target, weight=None, reduction="mean", label_smoothing=0.0):
    return F.cross_entropy(x, target, None if weight is None else like(weight, x),
                           reduction=reduction, label_smoothing=label_smoothing)


def _nll(x, target, weight=None, reduction="mean"):
    return F.nll_loss(x, target, None if weight is None else like(weight, x),
                      reduction=reduction)


def _torch_ce(T, x, target, weight=None, reduction="mean", label_smoothing=0.0):
    return T.nn.functional.cross_entropy(x, T.as_tensor(target),
                                         None if weight is None else T.tensor(weight),
                                         reduction=reduction, label_smoothing=label_smoothing)


def _torch_nll(T, x, target, weight=None, reduction="mean"):
    return T.nn.functional.nll_loss(x, T.as_tensor(target),
                                    None if weight is None else T.tensor(weight),
                                    reduction=reduction)


def _ce_probs_ref(x, t, weight=None, reduction="mean", label_smoothing=0.0):
    cax = 1 if x.ndim > 1 else 0
    C = x.shape[cax]
    t = t * (1 - label_smoothing) + label_smoothing / C
    w = 1.0 if weight is None else weight.reshape((1, -1) + (1,) * (x.ndim - 2)) \
        if x.ndim > 1 else weight
    return _reduce(-(_log_softmax(x, cax) * t * w).sum(axis=cax), reduction)


@st.composite
def class_probability_examples(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 4), (2, 3, 2)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    params = dict(reduction=draw(st.sampled_from(REDUCTIONS)),
                  label_smoothing=draw(st.sampled_from([0.0, 0.1])))
    if draw(st.booleans()):
        params["weight"] = rng.uniform(0.5, 2.0, shape[1] if len(shape) > 1 else shape[0])
    return Example((shape, shape), params)


CASES += [
    OpCase("cross_entropy", _ce, lambda x, target, **kw: _ce_ref(
        _log_softmax(x, 1 if x.ndim > 1 else 0), target, **kw), class_index_examples(True),
        just((4, 5), target=np.array([1, 0, 3, -100]), weight=np.array([1.0, 2, 3, 0.5, 1]),
             label_smoothing=0.2), (Arg(),), _torch_ce, family="loss"),
    OpCase("nll_loss", _nll, _ce_ref, class_index_examples(False),
           just((4, 5), target=np.array([1, 0, 3, -100])), (Arg(),), _torch_nll, family="loss"),
    OpCase("cross_entropy_probs", _ce, _ce_probs_ref, class_probability_examples(),
           just((3, 4), (3, 4), label_smoothing=0.1), (Arg(), Arg(0.0, 1.0)), _torch_ce,
           family="loss"),
]

NAMES = [c.name for c in CASES]
assert len(set(NAMES)) == len(NAMES), "two op cases share a name"
BY_NAME = {c.name: c for c in CASES}
