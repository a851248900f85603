"""Loss functions, computed the numerically stable way.

A GAN discriminator's logits can reach ±1000 when it wins; a loss written as
``-log(sigmoid(x))`` then gives ``-log(0) = inf`` and the run dies. Written from the logits,
``-log sigmoid(x) = softplus(-x) = max(-x, 0) + log1p(exp(-|x|))``, it stays finite and so does
its gradient ``sigmoid(x) - 1``. That is why GAN code uses ``binary_cross_entropy_with_logits``.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, is_grad_enabled
from . import elementwise as E
from . import reduce as R
from .shape import getitem, permute, reshape

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "nll_loss", "mse_loss", "l1_loss", "reduce_loss"]


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def reduce_loss(loss, reduction):
    """Apply PyTorch's ``reduction`` argument: 'mean', 'sum' or 'none'."""
    _check_reduction(reduction)
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _check_same_shape(name, input, target):
    if input.shape != target.shape:
        raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                         f"{target.shape} must have the same shape")


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) on probabilities, with PyTorch's clamps: each log is
    clamped at -100 and the gradient's denominator p(1 - p) at 1e-12."""

    def forward(self, p, t):
        xp = backend.xp_of(p)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("binary_cross_entropy: all elements of input must be probabilities "
                             "in [0, 1]; for logits use binary_cross_entropy_with_logits")
        with backend.np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log1p(-p), -100)
        return -(t * log_p + (1 - t) * log_1mp)

    def backward(self, gy):
        p, t = self.inputs
        gp = gt = None
        if self.needs_input_grad[0]:
            gp = gy * (p - t) / E.maximum(p * (1.0 - p), 1e-12)
        if self.needs_input_grad[1]:
            gt = gy * (E.clip(E.log1p(-p), -100.0) - E.clip(E.log(p), -100.0))
        return gp, gt


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    target = E.as_tensor_like(target, input)
    _check_same_shape("binary_cross_entropy", input, target)
    loss = BinaryCrossEntropy()(input, target)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """l(x, t) = (1 - t) x - log sigmoid(x) elementwise, then PyTorch's ``reduction``, as one op.

    Its gradient is the famous one: dl/dx = (1 - t) - sigmoid(-x) = sigmoid(x) - t, the
    predicted probability minus the label (dl/dt = -x), times the reduction's d(loss)/dl (1/n
    for a mean). One op instead of the five the formula takes as Tensor arithmetic (1 - t, a
    product, log sigmoid, a difference, the mean), because a GAN computes three of these per
    iteration and a small one spends its time per op, not on arithmetic. The gradient is
    computed as those ops would compute it, (1 - t) g + sigmoid(-x) (-g), so the numbers are
    bit for bit those of the formula written out, and differentiable again (create_graph)
    for unrolled GANs.
    """

    def __init__(self, reduction="mean"):
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, x, t):
        loss = (1.0 - t) * x - E._log_sigmoid_array(x)
        if self.reduction == "none":
            return loss
        reducer = R.Mean if self.reduction == "mean" else R.Sum
        return reducer(tuple(range(loss.ndim)), False).forward(loss)

    def _scale(self, shape):
        """d(reduced loss)/d(each element's loss): Mean's 1/n, or 1 for a sum or none."""
        if self.reduction != "mean":
            return 1.0
        return 1.0 / max(R.prod_shape(shape, range(len(shape))), 1)

    def backward(self, gy):
        x, t = self.inputs
        need_x, need_t = self.needs_input_grad
        scale = self._scale(x.shape)
        if not is_grad_enabled():       # first order: the same products on arrays
            g = gy.array * gy.dtype.type(scale) if scale != 1.0 else gy.array
            xa = x.array             # (t has x's shape, so the products have it too)
            gx = Tensor(g * (1.0 - t.array) + (-g) * E._sigmoid_array(-xa)) if need_x else None
            return gx, (Tensor(-(g * xa)) if need_t else None)
        g = gy * scale if scale != 1.0 else gy
        # a reduced loss's g is 0-d: the products broadcast it, and their gradients sum it back
        gx = g * (1.0 - t) + (-g) * E.sigmoid(-x) if need_x else None
        return gx, (-(g * x) if need_t else None)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE on logits x: (1 - t) x - log sigmoid(x), finite and exact for any x."""
    target = E.as_tensor_like(target, input)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if pos_weight is None:
        if target.dtype == input.dtype:
            if weight is None:
                return BinaryCrossEntropyWithLogits(reduction)(input, target)
            loss = BinaryCrossEntropyWithLogits("none")(input, target)
        else:                           # mixed dtypes: the formula promotes as PyTorch does
            loss = (1.0 - target) * input - E.log_sigmoid(input)
    else:
        loss = (1.0 - target) * input - (1.0 + (pos_weight - 1.0) * target) * E.log_sigmoid(input)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _classes_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0]))
    if x.ndim == 2:
        return x
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return reshape(permute(x, *perm), (-1, x.shape[1]))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices given log-probabilities ``input`` (N, C, ...)."""
    if isinstance(target, Tensor):
        target = target.array
    xp = backend.xp_of(input.array)
    target = xp.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold class indices (integers), not {target.dtype}")
    n_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    expected = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"nll_loss: input of shape {input.shape} needs a target of shape "
                         f"{expected}, got {target.shape}")
    logp = _classes_last(input)
    t = target.reshape(-1)
    valid = t != ignore_index
    if bool(((t < 0) | (t >= n_classes))[valid].any()):
        raise IndexError(f"nll_loss: target holds a class outside [0, {n_classes})")
    t_safe = xp.where(valid, t, 0)
    picked = getitem(logp, (xp.arange(t.shape[0]), t_safe))
    w = xp.ones(n_classes, dtype=input.dtype) if weight is None else \
        (weight.array if isinstance(weight, Tensor) else xp.asarray(weight, dtype=input.dtype))
    wt = Tensor(xp.where(valid, w[t_safe], 0).astype(input.dtype))
    loss = -picked * wt
    if reduction == "mean":
        return R.sum(loss) / Tensor(wt.array.sum())
    if reduction == "none":
        return reshape(loss, target.shape)
    return reduce_loss(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy from logits; ``target`` is class indices or class probabilities."""
    class_axis = 1 if input.ndim > 1 else 0
    logp = R.log_softmax(input, axis=class_axis)
    is_probs = isinstance(target, Tensor) and target.dtype.kind == "f"
    n_classes = input.shape[class_axis]
    if is_probs:
        _check_same_shape("cross_entropy", input, target)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
        terms = logp * target if weight is None else logp * target * _class_weight(weight, input)
        loss = -R.sum(terms, axis=class_axis)
        return reduce_loss(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    # PyTorch: (1 - eps) * nll + eps / C * (sum over classes of -w_c log p_c), same reduction.
    xp = backend.xp_of(input.array)
    tgt = xp.asarray(target.array if isinstance(target, Tensor) else target)
    valid = Tensor((tgt != ignore_index).astype(input.dtype))
    terms = logp if weight is None else logp * _class_weight(weight, input)
    smooth = -R.sum(terms, axis=class_axis) * valid
    if reduction == "mean":
        if weight is None:
            smooth = R.sum(smooth) / Tensor(valid.array.sum())
        else:
            w = weight.array if isinstance(weight, Tensor) else xp.asarray(weight)
            wsum = (w[xp.where(tgt != ignore_index, tgt, 0)] * valid.array).sum()
            smooth = R.sum(smooth) / Tensor(xp.asarray(wsum, dtype=input.dtype))
    else:
        smooth = reduce_loss(smooth, reduction)
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _class_weight(weight, input):
    """Shape a (C,) weight to broadcast along the class axis of ``input``."""
    w = weight if isinstance(weight, Tensor) else E.as_tensor_like(weight, input)
    if input.ndim <= 1:
        return w
    return reshape(w, (1, -1) + (1,) * (input.ndim - 2))


def mse_loss(input, target, reduction="mean"):
    target = E.as_tensor_like(target, input)
    d = input - target
    return reduce_loss(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    target = E.as_tensor_like(target, input)
    return reduce_loss(E.abs(input - target), reduction)
