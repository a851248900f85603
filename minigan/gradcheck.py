"""Gradient checks: compare backprop's gradients with finite differences.

The derivative of f at x is approximately the central difference

    (f(x + eps) - f(x - eps)) / (2 eps)      (error O(eps^2))

so nudging each input element in turn and watching every output element gives the whole
Jacobian *numerically*, while one backward pass per output element gives it *analytically*.
If an op's backward rule is right the two agree to about 1e-7 in float64. (In float32 the
rounding error of f, about 1e-7 |f| / eps, swamps the difference: always check in float64.)

A student who writes a new op checks it in three lines::

    x = minigan.randn(3, 4, dtype="float64", requires_grad=True)
    minigan.gradcheck(lambda x: my_op(x), (x,))       # first derivatives
    minigan.gradgradcheck(lambda x: my_op(x), (x,))   # second derivatives
"""
from __future__ import annotations

from . import backend
from .autograd import Tensor, grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jacobian",
           "analytical_jacobian", "jacobian_errors"]

np = backend.np


class GradcheckError(AssertionError):
    """Raised when analytic and numeric derivatives disagree; the message says where."""


def _as_tuple(x):
    return x if isinstance(x, (tuple, list)) else (x,)


def _prepare(inputs):
    """Float64 copies of the inputs (a float32 check would measure rounding, not the rule)."""
    prepared, wrt = [], []
    any_requires = any(isinstance(x, Tensor) and x.requires_grad for x in inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            t = Tensor(x.array.astype(np.float64, copy=True))
            if x.requires_grad or not any_requires:
                t.requires_grad_(True)
                wrt.append(len(prepared))
            prepared.append(t)
        else:
            prepared.append(x)
    return prepared, wrt


def _outputs(fn, inputs):
    out = _as_tuple(fn(*inputs))
    for o in out:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got {type(o).__name__}")
    return out


def _flat_outputs(fn, inputs):
    # Not under no_grad(): for gradgradcheck, fn itself calls grad() and needs a graph.
    outs = _outputs(fn, inputs)
    return np.concatenate([backend.to_numpy(o.array).astype(np.float64).ravel() for o in outs])


def numerical_jacobian(fn, inputs, wrt, eps):
    """One (n_out, n_in) matrix per checked input, by central differences."""
    jac = []
    n_out = _flat_outputs(fn, inputs).size
    for i in wrt:
        arr = inputs[i].array
        cols = []
        # Index the array itself, element by element in C order (the order of ravel()): a
        # reshape(-1) of a non-contiguous input (a transposed view) would be a *copy*, and
        # nudging a copy would leave x unchanged -- a numerical gradient of 0.
        for idx in np.ndindex(*arr.shape):
            old = arr[idx].item()
            arr[idx] = old + eps
            plus = _flat_outputs(fn, inputs)
            arr[idx] = old - eps
            minus = _flat_outputs(fn, inputs)
            arr[idx] = old
            cols.append((plus - minus) / (2 * eps))
        jac.append(np.stack(cols, axis=1) if cols else np.zeros((n_out, 0)))
    return jac


def analytical_jacobian(fn, inputs, wrt):
    """One (n_out, n_in) matrix per checked input, one backward pass per output element."""
    outs = _outputs(fn, inputs)
    sizes = [o.numel() for o in outs]
    n_out = sum(sizes)
    jac = [np.zeros((n_out, inputs[i].numel())) for i in wrt]
    row = 0
    for o, n in zip(outs, sizes):
        xp = backend.xp_of(o.array)
        for k in range(n):
            seed = xp.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[k] = 1
            if o.requires_grad:
                gs = grad(o, [inputs[i] for i in wrt], grad_outputs=Tensor(seed),
                          retain_graph=True, materialize_grads=True)
                for j, g in enumerate(gs):
                    jac[j][row] = backend.to_numpy(g.array).ravel()
            row += 1
    return jac


def _report(kind, index, shape, a, n, atol, rtol):
    if a.shape != n.shape:
        return (f"{kind} check failed for input {index}: analytic Jacobian of shape {a.shape} vs "
                f"numeric {n.shape}")
    finite = np.isfinite(a) & np.isfinite(n)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        where = tuple(int(v) for v in np.unravel_index(c, shape)) if shape else ()
        return (f"{kind} check failed for input {index} (shape {shape}): non-finite values at "
                f"element {where}, output element {int(r)}: analytic {a[r, c]} vs numeric "
                f"{n[r, c]}. Is the function infinite or undefined there (log(0), a window "
                "that lies entirely in padding ...)?")
    bad = np.abs(a - n) > atol + rtol * np.abs(n)
    r, c = np.argwhere(bad)[0]
    worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
    where = tuple(int(v) for v in np.unravel_index(c, shape)) if shape else ()
    return (f"{kind} check failed for input {index} (shape {shape}) at element {where}, "
            f"output element {int(r)}: analytic {a[r, c]:.8g} vs numeric {n[r, c]:.8g}.\n"
            f"{int(bad.sum())} of {bad.size} Jacobian entries disagree beyond atol={atol} + "
            f"rtol={rtol}*|numeric|; the largest difference is {abs(a[worst] - n[worst]):.3g}.")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check first derivatives of ``fn(*inputs)`` against central differences, in float64.

    Checks the inputs with ``requires_grad=True`` (all floating inputs if none has it).
    Returns True, or raises ``GradcheckError`` with a report of the first disagreement
    (returns False instead with ``raise_exception=False``).
    """
    inputs, wrt = _prepare(_as_tuple(inputs))
    if not wrt:
        raise ValueError("gradcheck: no floating-point input to differentiate")
    analytic = analytical_jacobian(fn, inputs, wrt)
    numeric = numerical_jacobian(fn, inputs, wrt, eps)
    for i, a, n in zip(wrt, analytic, numeric):
        if a.shape != n.shape or not np.allclose(a, n, atol=atol, rtol=rtol):
            if not raise_exception:
                return False
            raise GradcheckError(_report("gradient", i, inputs[i].shape, a, n, atol, rtol))
    return True


def _first_derivative_problem(fn, inputs, grad_outputs, seed):
    """Turn a second-order check into a first-order one.

    Returns ``(g, args)`` where ``g(*args)`` = d(fn)/d(inputs) . v, built with
    ``create_graph=True``; ``args`` are the float64 inputs followed by the output gradients ``v``
    (random, seeded, unless given), all of which ``g`` is differentiated with respect to.
    """
    inputs, wrt = _prepare(_as_tuple(inputs))
    outs = _outputs(fn, inputs)     # with a graph: fn may itself call grad() (a penalty)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor(backend.as_array(rng.standard_normal(o.shape), dtype=np.float64,
                                                device=o.device)) for o in outs]
    else:
        grad_outputs = [Tensor(g.array.astype(np.float64)) for g in _as_tuple(grad_outputs)]
    for g in grad_outputs:
        g.requires_grad_(True)
    n_in = len(inputs)

    def first_derivatives(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = _outputs(fn, xs)
        live = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        return grad([y for y, _ in live], [xs[i] for i in wrt],
                    grad_outputs=[v for _, v in live], create_graph=True,
                    materialize_grads=True)

    return first_derivatives, tuple(inputs) + tuple(grad_outputs)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of ``v -> d(fn)/d(inputs) . v`` built with
    ``create_graph=True``. The output gradients ``v`` are random (seeded) unless given."""
    g, args = _first_derivative_problem(fn, inputs, grad_outputs, seed)
    return gradcheck(g, args, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


def jacobian_errors(fn, inputs, eps=1e-6, seed=0):
    """The largest |analytic - numeric| Jacobian entry at first and at second order.

    What a gradient check measures, as numbers to print in class: in float64 both are
    typically 1e-8 or smaller for a correct rule, and O(1) for a wrong one.
    """
    def worst(f, args):
        prepared, wrt = _prepare(_as_tuple(args))
        a = analytical_jacobian(f, prepared, wrt)
        n = numerical_jacobian(f, prepared, wrt, eps)
        return max((float(np.abs(x - y).max()) if x.size else 0.0) for x, y in zip(a, n))

    first = worst(fn, inputs)
    second = worst(*_first_derivative_problem(fn, inputs, None, seed))
    return first, second
