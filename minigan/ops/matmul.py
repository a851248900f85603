"""Matrix products: ``matmul`` (batched, broadcasting) and the fused ``linear`` layer op.

For Y = A @ B the chain rule gives dL/dA = dL/dY @ B^T and dL/dB = A^T @ dL/dY: two more
matrix products, each as large as the forward one. Batch dimensions broadcast like NumPy,
so their gradients are summed back to each operand's shape.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, is_grad_enabled
from .reduce import sum as _sum
from .shape import reshape, sum_to, swapaxes

__all__ = ["matmul", "linear"]


class MatMul(Function):
    """A @ B for operands with at least two dimensions (``matmul`` handles vectors)."""

    def forward(self, a, b):
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                             f"({a.shape[-1]} != {b.shape[-2]})")
        backend.auto_blas_threads()       # as many BLAS threads as idle cores (backend.py)
        return backend.xp_of(a).matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = sum_to(matmul(gy, swapaxes(b, -1, -2)), a.shape) if need_a else None
        gb = sum_to(matmul(swapaxes(a, -1, -2), gy), b.shape) if need_b else None
        return ga, gb


def matmul(a, b):
    """NumPy/PyTorch ``matmul``: a vector operand is treated as a row (left) or column (right)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: both operands need at least one dimension; use * for scalars")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = reshape(a, (1, a.shape[0]))
    if squeeze_b:
        b = reshape(b, (b.shape[0], 1))
    y = MatMul()(a, b)
    if squeeze_a and squeeze_b:
        return reshape(y, y.shape[:-2])
    if squeeze_a:
        return reshape(y, y.shape[:-2] + y.shape[-1:])
    if squeeze_b:
        return reshape(y, y.shape[:-1])
    return y


class Linear(Function):
    """y = x W^T + b for a batch of rows x (N, in), W (out, in), b (out,): one op instead of
    three, because small MLPs (the 1-D GANs) spend their time in per-op overhead."""

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1]} features but the weight of shape "
                             f"{w.shape} expects {w.shape[1]}")
        # One input feature (a 1-D toy's first layer): x W^T is an outer product, one
        # multiplication per element, which a broadcast multiply does faster than BLAS (the
        # same values: a sum of one product is that product, up to the sign of an exact zero,
        # which BLAS adds to +0).
        y = x * w.T if w.shape[1] == 1 and x.ndim == 2 else x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        if not is_grad_enabled():
            return self._backward_arrays(gy.array)
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = None
        if need[0]:
            # One output feature (a discriminator's last layer): gy @ W is an outer product,
            # one multiplication per element, which BLAS does ~15x slower than a broadcast
            # multiply computing the same products (the same numbers, bit for bit).
            gx = gy * w if w.shape[0] == 1 else matmul(gy, w)
        gw = matmul(swapaxes(gy, 0, 1), x) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        gb = _sum(gy, axis=0) if need[2] else None
        return gx, gw, gb


    def _backward_arrays(self, gy):
        """First order (no graph recorded): the same products as ``backward`` on raw arrays,
        without the five or so Functions its Tensor form creates (a tiny MLP spends most of
        its time on that per-op overhead, not on arithmetic). Bit for bit the same numbers."""
        x, w = self.inputs[0].array, self.inputs[1].array
        xp = backend.xp_of(gy)
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = Tensor(gy * w if w.shape[0] == 1 else xp.matmul(gy, w))
        if need[1]:
            gw = Tensor(xp.matmul(gy.T, x))
        if len(self.inputs) == 2:
            return gx, gw
        if need[2]:
            gb = Tensor(gy.sum(axis=0))
        return gx, gw, gb


def linear(x, weight, bias=None):
    """``F.linear``: x @ weight.T + bias, with PyTorch's (out_features, in_features) weight."""
    ws = weight.shape
    if len(ws) != 2:
        raise ValueError(f"linear: the weight must be 2-D (out, in), got shape {ws}")
    if bias is not None and bias.shape != ws[:1]:
        raise ValueError(f"linear: bias of shape {bias.shape} for a weight of shape {ws}")
    if x.ndim == 2:
        return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
    y = matmul(x, swapaxes(weight, 0, 1))
    return y if bias is None else y + bias
