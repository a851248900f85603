"""Scaled dot-product attention: the kernel under SAGAN's self-attention layer.

Self-attention lets every position of a feature map look at every other one, which a
convolution (a local window) cannot: SAGAN (Zhang et al., 2019) adds it to the generator and
the discriminator so that, say, the two eyes of a generated face can agree with each other.

With queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev):

    scores = Q K^T * scale                     (..., L, S): how well query i matches key j
    A      = softmax(scores, over the S keys)  each row is a probability distribution
    out    = A V                               (..., L, Ev): each query's weighted mix of values

``scale`` defaults to 1 / sqrt(E): for random unit-variance vectors a dot product of E terms
has variance E, and without the scaling the softmax would saturate (one weight near 1, the
others near 0, vanishing gradients). In SAGAN a feature map (N, C, H, W) is flattened to
L = S = H*W positions; Q, K, V are 1x1 convolutions of it, and ``gamma * out + x`` (gamma
starts at 0) is added back to the input.

A mask says which keys a query may attend to: a boolean mask is True where a pair *takes
part* (the others get score -inf, hence weight 0); a float mask is *added* to the scores. The
softmax subtracts each row's maximum before exponentiating (``ops.reduce.softmax``), so large
scores never overflow. Everything is batched matmuls, a softmax and elementwise ops, each with
a differentiable backward, so the attention is differentiable to any order (a gradient penalty
through a SAGAN critic needs the second order).
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Tensor
from .dropout import dropout
from .elementwise import where
from .matmul import matmul
from .reduce import softmax
from .shape import swapaxes

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    """``F.scaled_dot_product_attention`` (PyTorch's argument order):
    softmax(Q K^T * scale + mask) V for Q (..., L, E), K (..., S, E), V (..., S, Ev)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} needs at least 2 dimensions "
                             f"(..., length, features), got shape {t.shape}")
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != E:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape} and key "
                         f"{key.shape} must have the same feature size (last dimension)")
    if value.shape[-2] != S:
        raise ValueError(f"scaled_dot_product_attention: key {key.shape} and value "
                         f"{value.shape} must have the same length (dimension -2)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if scale is None:
        scale = 1.0 / math.sqrt(E)
    scores = matmul(query, swapaxes(key, -1, -2)) * float(scale)       # (..., L, S)
    xp = backend.xp_of(query.array)
    if is_causal:
        attn_mask = Tensor(xp.tril(xp.ones((L, S), dtype=bool)))
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = Tensor(backend.as_array(attn_mask, device=query.device))
        try:
            backend.np.broadcast_shapes(attn_mask.shape, scores.shape)   # shapes only
        except ValueError:
            raise ValueError(f"scaled_dot_product_attention: attn_mask of shape "
                             f"{attn_mask.shape} does not broadcast to the scores' shape "
                             f"{scores.shape} (..., L, S)") from None
        if attn_mask.dtype == bool:
            # where() broadcasts; keys that do not take part get -inf, i.e. weight exp(-inf) = 0.
            scores = where(attn_mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = softmax(scores, axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)
