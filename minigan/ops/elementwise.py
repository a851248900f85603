"""Elementwise operations and their derivatives.

Each ``backward`` is the chain rule for one function of one variable (or two, for the binary
operators): d(loss)/dx = d(loss)/dy * dy/dx, written with Tensor operations so that it can be
differentiated again. Binary operators broadcast like NumPy; their gradients are summed back
to each input's shape (``sum_to``), because a broadcast input was *used* once per copy.

Numerical stability is built in, not bolted on: ``sigmoid`` never evaluates ``exp`` of a large
positive number, ``softplus``/``log_sigmoid`` use ``log1p(exp(-|x|))`` so that a GAN's logits
of ±1000 give finite losses and finite gradients.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, is_grad_enabled
from .shape import sum_to

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "tanh",
           "sigmoid", "relu", "leaky_relu", "softplus", "log_sigmoid", "clip", "clamp",
           "maximum", "minimum", "where", "as_tensor_like", "square", "sin", "cos", "log1p",
           "expm1", "rsqrt", "reciprocal", "sign"]

np = backend.np


def as_tensor_like(value, ref):
    """Wrap a Python number or array as a constant Tensor on ref's device, in ref's dtype.

    This is what keeps float32 float32: ``x * 0.5`` must not promote to float64. (An integer
    tensor combined with a float becomes the default float dtype, as in PyTorch.)
    """
    if isinstance(value, Tensor):
        return value
    xp = backend.xp_of(ref.array)
    dtype = ref.dtype
    if isinstance(value, bool):
        pass
    elif isinstance(value, float) and dtype.kind in "biu":
        dtype = backend.get_default_dtype()
    elif isinstance(value, int) and dtype.kind == "b":
        dtype = np.dtype(np.int64)
    elif not isinstance(value, (int, float)):
        arr = backend.as_array(value, device=ref.device)
        return Tensor(arr)
    return Tensor(xp.asarray(value, dtype=dtype))


def _pair(a, b):
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    if not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    return a, b


class _Binary(Function):
    """Broadcasting binary op: ``grads`` gives the un-reduced gradients, summed to shape here."""

    _grads_arrays = None      # (gy, a, b) -> first-order gradients from arrays, if defined

    def __call__(self, a, b):
        try:
            return Function.__call__(self, a, b)
        except ValueError:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise ValueError(f"{type(self).__name__.lower()}: shapes {a.shape} and {b.shape} "
                                 "cannot be broadcast together") from None
            raise

    def backward(self, gy):
        a, b = self.inputs
        if (not is_grad_enabled() and a.array.shape == b.array.shape == gy.array.shape
                and self._grads_arrays is not None):
            # first order, no broadcasting: the same products on arrays, no Functions
            return self._grads_arrays(gy, a.array, b.array)
        ga, gb = self.grads(gy, a, b)
        need_a, need_b = self.needs_input_grad
        return (sum_to(ga, a.shape) if need_a and ga is not None else None,
                sum_to(gb, b.shape) if need_b and gb is not None else None)


class Add(_Binary):
    saved_inputs = ()              # the gradient is gy (summed to each shape): no values needed

    def forward(self, a, b):
        return a + b

    def grads(self, gy, a, b):
        return gy, gy

    def _grads_arrays(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        return (gy if need_a else None), (gy if need_b else None)


class Sub(_Binary):
    saved_inputs = ()

    def forward(self, a, b):
        return a - b

    def grads(self, gy, a, b):
        return gy, -gy if self.needs_input_grad[1] else None

    def _grads_arrays(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        return (gy if need_a else None), (Tensor(-gy.array) if need_b else None)


class Mul(_Binary):
    def forward(self, a, b):
        return a * b

    def grads(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)

    def _grads_arrays(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        g = gy.array
        return (Tensor(g * b) if need_a else None), (Tensor(g * a) if need_b else None)


class Div(_Binary):
    def forward(self, a, b):
        return a / b

    def grads(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        return (gy / b if need_a else None), (-gy * a / (b * b) if need_b else None)


class Pow(_Binary):
    """a ** b with both as tensors: d/da = b a^(b-1), d/db = a^b log a (0 where a = 0, b >= 0)."""

    saves_output = True

    def forward(self, a, b):
        return a ** b

    def grads(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if need_a:
            ga = gy * b * a ** (b - 1.0)
        if need_b:
            at_zero = Tensor((a.array == 0) & (b.array >= 0))
            safe_a = where(at_zero, 1.0, a)
            gb = where(at_zero, 0.0, gy * self.output() * log(safe_a))
        return ga, gb


class PowScalar(Function):
    """x ** c for a constant c: d/dx = c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * x if self.c == 2 else x ** self.c   # a Python scalar keeps x's dtype

    def backward(self, gy):
        x = self.inputs[0]
        if self.c == 0:
            return gy * 0.0
        if self.c == 2:
            return gy * x * 2.0
        return gy * (x ** (self.c - 1)) * float(self.c)


class Neg(Function):
    saved_inputs = ()

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy if is_grad_enabled() else Tensor(-gy.array)


class Exp(Function):
    saves_output = True

    def forward(self, x):
        return backend.xp_of(x).exp(x)

    def backward(self, gy):
        return gy * self.output()


class Expm1(Function):
    saves_output = True

    def forward(self, x):
        return backend.xp_of(x).expm1(x)

    def backward(self, gy):
        return gy * (self.output() + 1.0)


class Log(Function):
    def forward(self, x):
        return backend.xp_of(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Log1p(Function):
    def forward(self, x):
        return backend.xp_of(x).log1p(x)

    def backward(self, gy):
        return gy / (self.inputs[0] + 1.0)


class Sqrt(Function):
    saves_output = True

    def forward(self, x):
        return backend.xp_of(x).sqrt(x)

    def backward(self, gy):
        return gy / (self.output() * 2.0)


class Sin(Function):
    def forward(self, x):
        return backend.xp_of(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x):
        return backend.xp_of(x).cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


def _const(array):
    return Tensor(array)


class Abs(Function):
    def forward(self, x):
        return backend.xp_of(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * _const(backend.xp_of(x.array).sign(x.array))


class Tanh(Function):
    saved_inputs, saves_output = (), True      # d tanh = 1 - tanh²: the output is enough

    def forward(self, x):
        return backend.xp_of(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        if not is_grad_enabled():       # first order: the same three operations on arrays
            ya = y.array
            return Tensor(gy.array * (ya.dtype.type(1) - ya * ya))
        return gy * (1.0 - y * y)


def _sigmoid_array(x):
    # exp(-|x|) never overflows; the two branches are 1/(1+e^-x) and e^x/(1+e^x).
    xp = backend.xp_of(x)
    e = xp.exp(-xp.abs(x))
    d = 1.0 + e
    return xp.where(x >= 0, 1.0 / d, e / d).astype(x.dtype, copy=False)


def _log_sigmoid_array(x):
    xp = backend.xp_of(x)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


class Sigmoid(Function):
    saved_inputs, saves_output = (), True      # d σ = σ (1 - σ)

    def forward(self, x):
        return _sigmoid_array(x)

    def backward(self, gy):
        y = self.output()
        if not is_grad_enabled():       # first order: the same operations on arrays
            ya = y.array
            return Tensor(gy.array * ya * (ya.dtype.type(1) - ya))
        return gy * y * (1.0 - y)


_UINT_OF_SIZE = {2: "uint16", 4: "uint32", 8: "uint64"}


def _select(xp, condition, a, b):
    """``xp.where(condition, a, b)`` on arrays, bit for bit, but without a branch per element.

    NumPy's ``where`` picks each element with a data-dependent branch; with a random mask
    (the sign pattern of a layer's activations) the CPU mispredicts half of them and ``where``
    runs ~10x slower than an addition. For two floats of the same type we select the *bits*
    instead: ``(a & M) | (b & ~M)`` with ``M`` all ones where the condition holds, which is
    branch-free and gives exactly the same numbers (NaNs and signed zeros included).
    """
    dtype = getattr(a, "dtype", None)
    if (xp is not np or dtype is None or getattr(b, "dtype", None) != dtype
            or dtype.kind != "f" or dtype.itemsize not in _UINT_OF_SIZE
            or getattr(condition, "dtype", None) != bool):
        return xp.where(condition, a, b)
    u = np.dtype(_UINT_OF_SIZE[dtype.itemsize])
    mask = np.negative(condition.astype(u))            # 0 -> 0, 1 -> all ones
    out = np.bitwise_and(a.view(u), mask)
    b_bits = b.view(u)
    if b_bits.ndim == 0 and b_bits == 0 and out.shape == np.broadcast_shapes(
            condition.shape, b.shape):                 # b is +0.0 (ReLU's backward): done
        return out.view(dtype)
    other = np.bitwise_and(b_bits, np.invert(mask))
    if out.shape == other.shape:
        out |= other
    else:                                              # broadcasting: a fresh result
        out = np.bitwise_or(out, other)
    return out.view(dtype)


class ReLU(Function):
    """max(x, 0). The gradient passes where x > 0, which is where the *output* is > 0: the
    op keeps its output and not its input, so the activation before it (often a batch norm's
    output, which nothing else reads) is freed during the forward pass."""
    saved_inputs, saves_output = (), True

    def forward(self, x):
        return backend.xp_of(x).maximum(x, 0)

    def backward(self, gy):
        return where(_const(self.output().array > 0), gy, 0.0)


class LeakyReLU(Function):
    """max(x, slope·x) for 0 < slope <= 1 (which is x for x > 0 and slope·x otherwise).

    The backward multiplies by a constant array of slopes, 1 where x > 0 and ``slope``
    elsewhere: d/dx of the gradient is zero almost everywhere, so this is exact at any order.
    For a slope >= 0, x > 0 exactly where the output is > 0, so the op keeps its output
    instead of its input (see ReLU); a negative slope needs the input.
    """
    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope
        if negative_slope >= 0:
            self.saved_inputs, self.saves_output = (), True

    def forward(self, x):
        xp = backend.xp_of(x)
        y = x * x.dtype.type(self.slope)
        if 0 < self.slope <= 1:     # max(x, s x) is the definition, in two branch-free passes
            return xp.maximum(x, y, out=y if y.ndim else None)
        return xp.where(x > 0, x, y)

    def backward(self, gy):
        x = (self.output() if self.slope >= 0 else self.inputs[0]).array   # same sign pattern
        xp = backend.xp_of(x)
        s = gy.dtype.type(self.slope)
        positive = (x > 0).astype(gy.dtype)               # 1 where x > 0, else 0
        if 0 <= self.slope <= 1:
            # 1 where x > 0, else s: exact
            slopes = xp.maximum(positive, s, out=positive if positive.ndim else None)
        else:
            slopes = xp.where(x > 0, gy.dtype.type(1), s)
        if not is_grad_enabled():       # first order: one multiply, no Function around it
            return Tensor(gy.array * slopes)
        return gy * _const(slopes)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` exactly as PyTorch computes it."""

    def __init__(self, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = backend.xp_of(x)
        bx = x * x.dtype.type(self.beta)
        # log1p(exp(bx)) written as max(bx, 0) + log1p(exp(-|bx|)): no overflow anywhere.
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / x.dtype.type(self.beta)
        return xp.where(bx > self.threshold, x, soft)

    def backward(self, gy):
        x = self.inputs[0]
        linear = _const(x.array * self.beta > self.threshold)
        return where(linear, gy, gy * sigmoid(x * self.beta))


class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): finite for any x, unlike log of sigmoid."""

    def forward(self, x):
        return _log_sigmoid_array(x)

    def backward(self, gy):
        if not is_grad_enabled():       # first order: the same operations on arrays
            return Tensor(gy.array * _sigmoid_array(-self.inputs[0].array))
        return gy * sigmoid(-self.inputs[0])


class Clip(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return backend.xp_of(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.inputs[0].array
        inside = backend.xp_of(x).ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return where(_const(inside), gy, 0.0)


class _Extremum(_Binary):
    """maximum/minimum; at ties the gradient is split in half between a and b, as in PyTorch."""

    def grads(self, gy, a, b):
        xp = backend.xp_of(a.array)
        a_wins = self.pick(a.array, b.array)
        tie = a.array == b.array
        wa = xp.where(tie, 0.5, a_wins.astype(gy.dtype)).astype(gy.dtype)
        return gy * _const(wa), gy * _const((1 - wa).astype(gy.dtype))


class Maximum(_Extremum):
    def forward(self, a, b):
        return backend.xp_of(a).maximum(a, b)

    @staticmethod
    def pick(a, b):
        return a > b


class Minimum(_Extremum):
    def forward(self, a, b):
        return backend.xp_of(a).minimum(a, b)

    @staticmethod
    def pick(a, b):
        return a < b


class Where(_Binary):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return _select(backend.xp_of(a), self.condition, a, b)

    def grads(self, gy, a, b):
        need_a, need_b = self.needs_input_grad
        return ((where(_const(self.condition), gy, 0.0) if need_a else None),
                (where(_const(self.condition), 0.0, gy) if need_b else None))


# --------------------------------------------------------------------------- function forms
def add(a, b):
    return Add()(*_pair(a, b))


def sub(a, b):
    return Sub()(*_pair(a, b))


def mul(a, b):
    return Mul()(*_pair(a, b))


def div(a, b):
    return Div()(*_pair(a, b))


def neg(x):
    return Neg()(x)


def pow(a, b):  # noqa: A001 (PyTorch's name)
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return PowScalar(b)(a)
    return Pow()(*_pair(a, b))


def _floating(x):
    """An integer or boolean input of a float-valued function (exp, sigmoid, ...) becomes the
    default float dtype first, as in PyTorch: sigmoid([1, 2, 3]) is [0.73, 0.88, 0.95], not
    an integer array of zeros."""
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        return Tensor(x.array.astype(backend.get_default_dtype()))
    return x


def square(x):
    return PowScalar(2)(x)


def exp(x):
    return Exp()(_floating(x))


def expm1(x):
    return Expm1()(_floating(x))


def log(x):
    return Log()(_floating(x))


def log1p(x):
    return Log1p()(_floating(x))


def sqrt(x):
    return Sqrt()(_floating(x))


def rsqrt(x):
    return PowScalar(-0.5)(_floating(x))


def reciprocal(x):
    return PowScalar(-1)(x)


def sin(x):
    return Sin()(_floating(x))


def cos(x):
    return Cos()(_floating(x))


def abs(x):  # noqa: A001
    return Abs()(x)


def sign(x):
    """The sign of each element (a constant: its gradient is zero almost everywhere)."""
    return Tensor(backend.xp_of(x.array).sign(x.array))


def tanh(x):
    return Tanh()(_floating(x))


def sigmoid(x):
    return Sigmoid()(_floating(x))


def relu(x):
    return ReLU()(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus(beta, threshold)(_floating(x))


def log_sigmoid(x):
    return LogSigmoid()(_floating(x))


def clip(x, min=None, max=None):  # noqa: A002 (PyTorch's names)
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip(min, max)(x)


clamp = clip


def maximum(a, b):
    return Maximum()(*_pair(a, b))


def minimum(a, b):
    return Minimum()(*_pair(a, b))


def where(condition, a, b):
    """Pick ``a`` where ``condition`` holds, else ``b`` (gradient flows to the picked one).

    The mask goes where the values are: a list or host array is copied to their device (a
    CPU mask would meet GPU values inside the kernel), while a condition Tensor on another
    device is an error, as for any op on tensors from two devices."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a and b must be a Tensor")
    a, b = _pair(a, b)
    dev = a.device
    if isinstance(condition, Tensor):
        if condition.device != dev:
            raise RuntimeError(f"where: all inputs must be on the same device, got condition "
                               f"on {condition.device} and values on {dev}. Move them with "
                               ".to(device) first.")
        condition = condition.array
    if backend.device_of(condition) != dev or getattr(condition, "dtype", None) != bool:
        condition = backend.as_array(condition, dtype=bool, device=dev)
    return Where(condition)(a, b)
