"""Layers of image-to-image and style-based generators: sub-pixel upsampling and AdaIN.

* ``PixelShuffle(r)`` / ``PixelUnshuffle(r)`` (``F.pixel_shuffle``): the *sub-pixel
  convolution* of Shi et al. (2016). A convolution at low resolution makes r² channels per
  output channel; the shuffle lays each group of r² out as an r×r block of pixels. It is a
  transposed convolution with stride r whose kernels never overlap, so it has none of the
  checkerboard pattern overlapping strided kernels leave, and all the arithmetic happens at
  the low resolution (r² times fewer positions).
* ``AdaIN(num_features, style_dim)``: adaptive instance normalisation (Huang & Belongie 2017,
  StyleGAN's block): each channel of each image is normalised to zero mean and unit variance
  over its pixels, then scaled and shifted by numbers a learned affine map reads off a style
  vector w. The statistics of a feature map are its "style"; AdaIN replaces them with w's.
"""
from __future__ import annotations

from .. import functional as F
from .layers import Linear
from .module import Module

__all__ = ["AdaIN", "PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(N, C·r², H, W) -> (N, C, H·r, W·r), as ``torch.nn.PixelShuffle``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H·r, W·r) -> (N, C·r², H, W), as ``torch.nn.PixelUnshuffle``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = int(downscale_factor)

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class AdaIN(Module):
    """AdaIN(x, w) = (1 + γ(w)) · instance_norm(x) + β(w), with (γ, β) = A·w + b learned.

    ``γ`` is written as 1 + (a learned term) with the affine map's bias starting at zero, so a
    fresh block starts as a plain instance norm and learns how much each style moves it."""

    def __init__(self, num_features, style_dim, eps=1e-5):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.affine = Linear(style_dim, 2 * num_features)
        self.affine.bias.data.zero_()

    def forward(self, x, w):
        gamma, beta = self.affine(w).chunk(2, dim=1)
        return F.adaptive_instance_norm(x, 1.0 + gamma, beta, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, style_dim={self.affine.in_features}"
