"""Embedding: a lookup table. ``embedding(idx, weight)`` is ``weight[idx]``, row by row.

A conditional GAN feeds the class label to G and D through one: label 3 becomes the learned
vector ``weight[3]``. The gradient of a lookup is a *scatter-add* into a zero table: a label
that occurs five times in the batch collects five gradients in its row (``ops.shape.getitem``
does exactly that, through the backend's scatter-add), and rows not used get zero.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor
from .elementwise import where
from .shape import getitem

__all__ = ["embedding"]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """``F.embedding``: rows of ``weight`` (num_embeddings, dim) picked by integer ``input``;
    the output has shape ``input.shape + (dim,)``. Rows looked up at ``padding_idx`` get no
    gradient, as in PyTorch. Indices on another device than ``weight`` are copied to it."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    # The indices go to the table's device (labels are often drawn on the host); the lookup,
    # its padding mask and the gradient's scatter-add then all run where the table is.
    idx = input.array if isinstance(input, Tensor) else input
    if backend.device_of(idx) != weight.device or not hasattr(idx, "dtype"):
        idx = backend.as_array(idx, device=weight.device)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64 or int32), got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError(f"embedding: index out of range: indices lie in "
                         f"[{int(idx.min())}, {int(idx.max())}] but the table has {n} rows")
    out = getitem(weight, idx)
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"[-{n}, {n - 1}]")
        hit = (idx == padding_idx % n)[..., None]
        if hit.any():
            out = where(hit, Tensor(out.array), out)   # the same values, but no gradient there
    return out
