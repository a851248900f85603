"""Adaptive instance normalisation (AdaIN), the style operation of StyleGAN.

Huang & Belongie (2017) observed that the *style* of an image, for a convolutional network,
lives in the per-channel mean and standard deviation of its feature maps, and the *content*
in what remains once those are normalised away. AdaIN swaps one for another::

    AdaIN(x, γ, β)[n, c] = γ[n, c] · (x[n, c] - μ[n, c]) / sqrt(σ²[n, c] + eps) + β[n, c]

with μ and σ² the mean and (biased) variance of channel c of sample n over its pixels: an
instance norm (``ops.norm.instance_norm``) whose scale and shift are not learned constants but
*inputs*, one pair per sample. In StyleGAN (Karras, Laine & Aila 2019) they are an affine map
of the style vector w, so every block of the generator is told, by w, which statistics its
features must have.

It is a composition of differentiable ops (instance norm, which is exact at every order,
times γ plus β), so its gradients with respect to x, γ and β, and their gradients, come with
no rule of its own.
"""
from __future__ import annotations

from .norm import instance_norm

__all__ = ["adaptive_instance_norm"]


def adaptive_instance_norm(input, scale, shift, eps=1e-5):
    """AdaIN of ``input`` (N, C, *spatial) with per-sample ``scale`` and ``shift`` (N, C)."""
    if input.ndim < 3:
        raise ValueError(f"adaptive_instance_norm: expected an input (N, C, *spatial), got "
                         f"{input.shape}")
    n, c = input.shape[:2]
    for name, t in (("scale", scale), ("shift", shift)):
        if tuple(t.shape) != (n, c):
            raise ValueError(f"adaptive_instance_norm: {name} must have shape ({n}, {c}) "
                             f"for an input of shape {input.shape}, got {tuple(t.shape)}")
    stats = (n, c) + (1,) * (input.ndim - 2)
    return instance_norm(input, eps=eps) * scale.reshape(stats) + shift.reshape(stats)
