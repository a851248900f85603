"""Normalisation layers: batch norm (the DCGAN workhorse), instance norm and layer norm.

Batch norm, per channel c, over the batch and every spatial position (n of them):

    mean = (1/n) sum x            var = (1/n) sum (x - mean)^2        (the *biased* variance)
    x_hat = (x - mean) / sqrt(var + eps)        y = gamma * x_hat + beta

In training the statistics come from the batch, and the running estimates PyTorch keeps for
evaluation are updated in place: ``running = (1 - momentum) * running + momentum * batch``,
with the *unbiased* variance (times n / (n - 1)) for ``running_var``. In evaluation the running
estimates are used instead, and batch norm is just a per-channel affine map.

The gradient in closed form. With g = dL/dy * gamma and means over the same n values,

    dL/dx = (1 / sqrt(var + eps)) * (g - mean(g) - x_hat * mean(g * x_hat))

(the two subtracted terms are what the dependence of mean and var on x contributes), and
dL/dgamma = sum(dL/dy * x_hat), dL/dbeta = sum(dL/dy).

Why this is *exact at second order* here (DeZero's is not): x_hat and 1/sqrt(var + eps) are
functions of x. A backward rule that uses them as saved constant arrays gives the right first
derivative but loses their dependence on x, so differentiating the gradient again (a WGAN-GP
penalty through a critic with batch norm) is wrong. Our rule uses the saved arrays (mean and
1/std; x_hat is recomputed from them rather than kept, which saves one activation-sized array
per layer until the backward pass) only when no graph is being recorded (first order, fast);
under ``create_graph=True`` it rebuilds x_hat and
the inverse standard deviation from x with Tensor ops, so the formula above is differentiated
with every dependence in place.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, is_grad_enabled, no_grad
from .. import fused
from ..fused import ElementwiseKernel
from . import reduce as R
from .elementwise import rsqrt
from .shape import broadcast_to, reshape

__all__ = ["batch_norm", "instance_norm", "layer_norm"]


def _stat_axes(ndim):
    """Batch norm normalises over every axis except the channel axis 1."""
    return (0,) + tuple(range(2, ndim))


def _batch_last(ndim):
    """The axis order (C, *spatial, N): the memory order of conv outputs (see ops/conv.py)."""
    return (1,) + tuple(range(2, ndim)) + (0,)


def _channel_rows(a):
    """``a (N, C, *spatial)`` as a ``(C, M)`` view when its memory is batch-last (each channel
    one contiguous block, as convolutions return it), else None. Reductions over a channel
    are then along contiguous rows: the fast case for NumPy and for a GPU."""
    if a.ndim < 2 or a.size == 0:
        return None
    t = a.transpose(_batch_last(a.ndim))
    return t.reshape(a.shape[1], -1) if t.flags.c_contiguous else None


def _from_rows(r, shape):
    """The inverse of ``_channel_rows``: ``(C, M)`` rows as an ``(N, C, *spatial)`` view."""
    n, c = shape[:2]
    inv = (len(shape) - 1,) + tuple(range(len(shape) - 1))
    return r.reshape((c,) + tuple(shape[2:]) + (n,)).transpose(inv)


def _row_dot(a, b):
    """``sum(a * b, axis=1)`` of two ``(C, M)`` row arrays. NumPy's ``einsum`` does it without
    an array of products; CuPy's costs about 0.2 ms of host time per call (it plans the
    contraction in Python), so on a GPU the product and the sum are two plain launches."""
    xp = backend.xp_of(a)
    if xp is backend.np:
        return xp.einsum("ij,ij->i", a, b)
    return (a * b).sum(axis=1)


# dL/dx of ``_backward_rows`` in one pass: the array path's operations in its order,
# ((gy * a) - (x - mean) * coef) - a * mean(gy), with per-channel a, coef and a * mean(gy).
_BN_GRAD_X = ElementwiseKernel("T g, T x, T mu, T a, T coef, T am", "T gx",
                               "gx = g * a - (x - mu) * coef - am;", "minigan_bn_grad_x")


def _channel_shape(ndim, c):
    """(1, C, 1, 1, ...): the shape that broadcasts a per-channel vector against the input."""
    return (1, c) + (1,) * (ndim - 2)


class BatchNormTrain(Function):
    """Batch norm with batch statistics. Inputs: x, and optionally weight and bias (C,)."""

    def __init__(self, eps, has_weight, has_bias):
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        rows = _channel_rows(x)
        if rows is not None and all(a.dtype == x.dtype for a in affine):
            return self._forward_rows(x, rows, affine)
        axes = _stat_axes(x.ndim)
        cs = _channel_shape(x.ndim, x.shape[1])
        # The statistics in one sweep: the centred array is made once and serves both the
        # variance and x_hat (a textbook E[x^2] - E[x]^2 would also be one sweep, but it
        # cancels catastrophically in float32 when |mean| >> std).
        xp = backend.xp_of(x)
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        sq = xc * xc
        var = sq.mean(axis=axes, keepdims=True)
        invstd = 1 / xp.sqrt(var + x.dtype.type(self.eps))
        x_hat = xp.multiply(xc, invstd, out=xc)         # the same numbers, one buffer fewer
        self.batch_mean, self.batch_var = mean.reshape(-1), var.reshape(-1)
        self.mean, self.invstd = mean, invstd
        if not (self.has_weight or self.has_bias):
            self.x_hat = x_hat                          # it is the output: free to keep
            return x_hat
        self.x_hat = None     # recomputed in backward: one activation-sized array less alive
        if any(a.dtype != x.dtype for a in affine):     # mixed dtypes: NumPy's promotion
            y = x_hat * affine[0].reshape(cs) if self.has_weight else x_hat
            return y + affine[-1].reshape(cs) if self.has_bias else y
        y = sq                                          # reuse the squares' buffer for y
        if self.has_weight:
            xp.multiply(x_hat, affine[0].reshape(cs), out=y)
        else:
            y[...] = x_hat
        if self.has_bias:
            xp.add(y, affine[-1].reshape(cs), out=y)
        return y

    def _forward_rows(self, x, rows, affine):
        """The forward on the ``(C, M)`` rows of a batch-last input: every statistic is a
        reduction along contiguous memory, the variance one pass (``einsum`` of the centred
        rows with themselves, no array of squares), and gamma/beta folded into one
        per-channel scale and shift, so y costs two passes over the centred rows."""
        xp = backend.xp_of(x)
        c, m = rows.shape
        mean = rows.mean(axis=1, keepdims=True)
        xc = rows - mean
        var = _row_dot(xc, xc).reshape(c, 1) / x.dtype.type(m)
        invstd = 1 / xp.sqrt(var + x.dtype.type(self.eps))
        cs = _channel_shape(x.ndim, c)
        self.batch_mean, self.batch_var = mean.reshape(-1), var.reshape(-1)
        self.mean, self.invstd = mean.reshape(cs), invstd.reshape(cs)
        scale = invstd * affine[0].reshape(c, 1) if self.has_weight else invstd
        y = xp.multiply(xc, scale, out=xc)
        if self.has_bias:
            y += affine[-1].reshape(c, 1)
        self.x_hat = None if (self.has_weight or self.has_bias) else _from_rows(y, x.shape)
        return _from_rows(y, x.shape)

    def _x_hat_array(self):
        """x_hat as the forward computed it (the same two operations, so the same numbers)."""
        if self.x_hat is not None:
            return self.x_hat
        x = self.inputs[0].array
        xc = x - self.mean
        return backend.xp_of(x).multiply(xc, self.invstd, out=xc)

    def _stats(self):
        """(x_hat, invstd) as Tensors: constants for a first-order pass, functions of x when a
        graph is recorded (so that the gradient below can be differentiated exactly)."""
        x = self.inputs[0]
        if not (is_grad_enabled() and x.requires_grad):
            return Tensor(self._x_hat_array()), Tensor(self.invstd)
        axes = _stat_axes(x.ndim)
        xc = x - R.mean(x, axis=axes, keepdims=True)
        invstd = rsqrt(R.mean(xc * xc, axis=axes, keepdims=True) + self.eps)
        return xc * invstd, invstd

    def _backward_arrays(self, gy):
        """First order (no graph recorded): the formulas of ``backward`` below, operation for
        operation, on arrays with reused buffers (a third of the temporaries)."""
        x = self.inputs[0]
        rows = _channel_rows(x.array)
        if rows is not None and gy.dtype == x.dtype:
            return self._backward_rows(gy, rows)
        xp = backend.xp_of(gy)
        axes = _stat_axes(x.ndim)
        cs = _channel_shape(x.ndim, x.shape[1])
        x_hat, invstd = self._x_hat_array(), self.invstd
        need = self.needs_input_grad
        weight = self.inputs[1].array if self.has_weight else None
        grads = []
        tmp = xp.empty_like(gy)
        if need[0]:
            g = gy * weight.reshape(cs) if weight is not None else gy.copy()
            mean_g = g.mean(axis=axes, keepdims=True)
            mean_gx = xp.multiply(g, x_hat, out=tmp).mean(axis=axes, keepdims=True)
            xp.subtract(g, mean_g, out=g)
            g -= xp.multiply(x_hat, mean_gx, out=tmp)
            grads.append(Tensor(xp.multiply(invstd, g, out=g)))
        else:
            grads.append(None)
        if self.has_weight:
            grads.append(Tensor(xp.multiply(gy, x_hat, out=tmp).sum(axis=axes))
                         if need[1] else None)
        if self.has_bias:
            grads.append(Tensor(gy.sum(axis=axes)) if need[-1] else None)
        return tuple(grads)

    def _backward_rows(self, gy, rows):
        """First order on the ``(C, M)`` rows of a batch-last input. The formula of
        ``backward`` rearranged per channel: with a = gamma * invstd,

            dL/dx = a * gy - a * mean(gy) - (a * invstd^2 * mean(gy * xc)) * xc,

        (xc = x - mean, so x_hat = xc * invstd): two reductions (sum of gy, and the dot of gy
        with xc, which also gives dL/dgamma) and three passes to build dL/dx."""
        x = self.inputs[0]
        xp = backend.xp_of(gy)
        c, m = rows.shape
        dt = gy.dtype.type
        need = self.needs_input_grad
        g = _channel_rows(gy)
        if g is None:                        # a gradient in another layout: one copy
            g = xp.ascontiguousarray(gy.transpose(_batch_last(gy.ndim))).reshape(c, m)
        invstd = self.invstd.reshape(c, 1)
        mean = self.mean.reshape(c, 1)
        xc = rows - mean
        sum_g = g.sum(axis=1, keepdims=True)
        dot_gxc = _row_dot(g, xc).reshape(c, 1)
        grads = []
        if need[0]:
            a = invstd * self.inputs[1].array.reshape(c, 1) if self.has_weight else invstd
            coef = a * invstd * invstd * (dot_gxc / dt(m))
            if fused.use_kernels(xp):
                gx = _BN_GRAD_X(g, rows, mean, a, coef, a * (sum_g / dt(m)),
                                xp.empty_like(g))[0]
            else:
                xc *= coef
                gx = xp.multiply(g, a, out=xp.empty_like(g))
                gx -= xc
                gx -= a * (sum_g / dt(m))
            grads.append(Tensor(_from_rows(gx, x.shape)))
        else:
            grads.append(None)
        if self.has_weight:
            grads.append(Tensor((dot_gxc * invstd).reshape(-1)) if need[1] else None)
        if self.has_bias:
            grads.append(Tensor(sum_g.reshape(-1)) if need[-1] else None)
        return tuple(grads)

    def backward(self, gy):
        x = self.inputs[0]
        if not is_grad_enabled():
            return self._backward_arrays(gy.array)
        axes = _stat_axes(x.ndim)
        c = x.shape[1]
        cs = _channel_shape(x.ndim, c)
        x_hat, invstd = self._stats()
        need = self.needs_input_grad
        weight = self.inputs[1] if self.has_weight else None
        grads = []
        if need[0]:
            g = gy * reshape(weight, cs) if weight is not None else gy
            mean_g = R.mean(g, axis=axes, keepdims=True)
            mean_gx = R.mean(g * x_hat, axis=axes, keepdims=True)
            grads.append(invstd * (g - mean_g - x_hat * mean_gx))
        else:
            grads.append(None)
        if self.has_weight:
            grads.append(R.sum(gy * x_hat, axis=axes) if need[1] else None)
        if self.has_bias:
            grads.append(R.sum(gy, axis=axes) if need[-1] else None)
        return tuple(grads)


def _check_vector(name, t, c, what, op="batch_norm"):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, not {type(t).__name__}")
    if t.shape != (c,):
        raise ValueError(f"{op}: {name} has shape {t.shape}, but the input has {c} "
                         f"channels (dimension 1 of {what}), so it must have shape ({c},)")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """``F.batch_norm`` with PyTorch's semantics, for inputs (N, C), (N, C, L) or (N, C, H, W).

    training=True: normalise with the batch's mean and biased variance, and (when they are
    given) update ``running_mean`` / ``running_var`` in place with momentum and the unbiased
    variance. training=False: normalise with the running estimates.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    if not eps > 0:
        raise ValueError(f"batch_norm: eps must be positive, got {eps}: it is what keeps "
                         "1/sqrt(var + eps) finite on a channel with zero variance")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vector(name, t, c, input.shape)
    cs = _channel_shape(input.ndim, c)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in "
                             "evaluation mode (training=False)")
        # An affine map per channel; the running estimates are constants (no gradient).
        scale = rsqrt(Tensor(running_var.array.astype(input.dtype, copy=False)) + eps)
        if weight is not None:
            scale = scale * weight
        shift = -Tensor(running_mean.array.astype(input.dtype, copy=False)) * scale
        if bias is not None:
            shift = shift + bias
        return input * reshape(scale, cs) + reshape(shift, cs)

    n = input.numel() // max(c, 1)
    if n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {input.shape}")
    affine = [t for t in (weight, bias) if t is not None]
    fn = BatchNormTrain(eps, weight is not None, bias is not None)
    y = fn(input, *affine)
    if running_mean is not None or running_var is not None:
        with no_grad():
            m = float(momentum)
            if running_mean is not None:
                rm = running_mean.array
                rm[...] = (1 - m) * rm + m * fn.batch_mean.astype(rm.dtype, copy=False)
                running_mean._bump_version()
            if running_var is not None:
                rv = running_var.array
                unbiased = fn.batch_var.astype(rv.dtype, copy=False) * (n / (n - 1))
                rv[...] = (1 - m) * rv + m * unbiased
                running_var._bump_version()
    fn.batch_mean = fn.batch_var = None
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """``F.instance_norm`` with PyTorch's semantics, for inputs (N, C, L), (N, C, H, W), ...

    Instance norm (Ulyanov et al. 2016; the norm of CycleGAN and style transfer) normalises
    every channel of every sample on its own, over its spatial positions: the statistics of
    one image never depend on the others in the batch, unlike batch norm's.

    It *is* batch norm on the input seen as one sample with N·C channels: the reshape
    (N, C, *S) -> (1, N·C, *S) is a view, and batch norm's statistics over the axes (0, *S)
    are then exactly the per-(n, c) statistics. So it reuses ``BatchNormTrain``, whose
    backward is exact at every order, and needs no gradient rule of its own; the per-channel
    weight and bias are repeated N times, and their gradients sum over the batch through that
    repeat. PyTorch computes it the same way.

    use_input_stats=True: normalise with each instance's mean and biased variance; a given
    ``running_mean`` / ``running_var`` is updated in place with ``momentum``, from the batch
    average of the instance means and unbiased variances. use_input_stats=False: normalise with
    the running estimates, a fixed affine map per channel (batch norm in evaluation).
    """
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, ...), got "
                         f"{input.shape}")
    if not eps > 0:
        raise ValueError(f"instance_norm: eps must be positive, got {eps}: it is what keeps "
                         "1/sqrt(var + eps) finite on a constant channel")
    n, c = input.shape[0], input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vector(name, t, c, input.shape, op="instance_norm")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var must be given when "
                             "use_input_stats=False")
        return batch_norm(input, running_mean, running_var, weight, bias, training=False,
                          eps=eps)
    spatial = input.shape[2:]
    count = 1
    for s in spatial:
        count *= s
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {input.shape}: one value has no variance")
    x = reshape(input, (1, n * c) + spatial)
    affine = [reshape(broadcast_to(t, (n, c)), (n * c,)) for t in (weight, bias)
              if t is not None]
    fn = BatchNormTrain(eps, weight is not None, bias is not None)
    y = reshape(fn(x, *affine), input.shape)
    if running_mean is not None or running_var is not None:
        with no_grad():
            m = float(momentum)
            if running_mean is not None:
                rm = running_mean.array
                batch = fn.batch_mean.reshape(n, c).mean(axis=0)
                rm[...] = (1 - m) * rm + m * batch.astype(rm.dtype, copy=False)
                running_mean._bump_version()
            if running_var is not None:
                rv = running_var.array
                unbiased = fn.batch_var.reshape(n, c).mean(axis=0) * (count / (count - 1))
                rv[...] = (1 - m) * rv + m * unbiased.astype(rv.dtype, copy=False)
                running_var._bump_version()
    fn.batch_mean = fn.batch_var = None
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm``: normalise each sample over its last ``len(normalized_shape)`` axes.

    A composite of Tensor ops (mean, biased variance, rsqrt), so its derivatives of every
    order come from the ops it is made of.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.shape[input.ndim - k:] != normalized_shape or input.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} must equal the last "
                         f"dimensions of the input, whose shape is {input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != normalized_shape:
            raise ValueError(f"layer_norm: {name} has shape {t.shape}, expected "
                             f"{normalized_shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    xc = input - R.mean(input, axis=axes, keepdims=True)
    y = xc * rsqrt(R.mean(xc * xc, axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
