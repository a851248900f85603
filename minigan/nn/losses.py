"""Loss modules, as in ``torch.nn``: ``criterion = nn.BCEWithLogitsLoss(); loss = criterion(x, y)``.

Each module only stores its options (``reduction``, a class ``weight`` ...) and calls the
function of ``minigan.functional`` in ``forward``; the maths, its numerical care and its
gradients live in ``minigan/ops/loss.py``. The module form exists because PyTorch scripts build
their criterion once, next to the networks, and call it like a layer.

``reduction`` is 'mean' (the default), 'sum' or 'none' (one loss per element, or per sample for
the class losses). The legacy arguments ``size_average`` and ``reduce`` are still understood,
with PyTorch's warning and its translation into ``reduction``. A ``weight`` (and
``pos_weight``) is a buffer: it is saved in ``state_dict()`` and moves with ``.to(device)``.

Which loss for a GAN: a discriminator that outputs logits wants ``BCEWithLogitsLoss`` (stable
for any logit); ``BCELoss`` after a ``Sigmoid`` is the same maths, but a saturated sigmoid
rounds to 0 or 1 and PyTorch's clamp of the log at -100 then caps the loss and zeroes its
gradient.
"""
from __future__ import annotations

import warnings

from .. import functional as F
from ..autograd import Tensor
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's translation of the old ``size_average`` / ``reduce`` flags (None means True):
    both true -> 'mean', reduce only -> 'sum', reduce=False -> 'none'."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _weight(name, cls, w):
    if w is not None and not isinstance(w, Tensor):
        raise TypeError(f"{cls}: {name} must be a Tensor or None, not {type(w).__name__}")
    return w


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = _legacy_reduction(size_average, reduce, reduction)
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             f"reduction (use 'mean', 'sum' or 'none')")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _weight("weight", type(self).__name__, weight))


class MSELoss(_Loss):
    """Mean squared error (x - y)^2: the least-squares GAN's objective, and the reconstruction
    loss of an autoencoder."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - y|: pix2pix's and CycleGAN's reconstruction loss (sharper
    images than the squared error, which averages over plausible outputs)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy -(y log p + (1 - y) log(1 - p)) on *probabilities* p in [0, 1];
    ``weight`` rescales each element's loss. Prefer BCEWithLogitsLoss on logits."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on *logits* x, computed as (1 - y) x - log sigmoid(x): finite and
    exact for any x, which is why GAN discriminators are trained with it.

    ``pos_weight`` (one value per class, broadcast along the last dimension) multiplies the
    positive term y log sigmoid(x): above 1 it trades precision for recall on rare positives.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _weight("weight", "BCEWithLogitsLoss", weight))
        self.register_buffer("pos_weight", _weight("pos_weight", "BCEWithLogitsLoss",
                                                   pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, from *log-probabilities* (N, C, ...) such as
    LogSoftmax's output. ``weight`` (C,) weighs each class; targets equal to
    ``ignore_index`` count for nothing, and 'mean' divides by the summed weight of the
    targets that count (a weighted mean, as PyTorch)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from *logits* (N, C, ...): LogSoftmax and NLLLoss in one stable
    step. ``target`` is class indices (N, ...) or class probabilities (the input's shape);
    ``label_smoothing`` mixes the target with the uniform distribution (Szegedy et al.)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, "
                             f"got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)
