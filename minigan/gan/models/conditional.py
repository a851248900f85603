"""Conditional GAN networks (Mirza & Osindero 2014): G(z, y) and D(x, y), both told the class y.

The label enters each network through a learned lookup table (``nn.Embedding``):

* G: z ⧺ embed_G(y) (a 10-dimensional class vector appended to the noise) goes through the
  DCGAN generator (it sees a longer z; nothing else changes);
* D: embed_D(y) is a whole size×size *plane*, stacked as a second channel beside the image,
  into the DCGAN discriminator (two input channels). Every convolution of D sees the label at
  every pixel.
"""
from __future__ import annotations

from ... import nn
from ...ops.shape import cat
from .dcgan import DCGANDiscriminator, DCGANGenerator

__all__ = ["ConditionalGenerator", "ConditionalDiscriminator"]


class ConditionalGenerator(nn.Module):
    """G(z, y): (N, z_dim) noise and (N,) integer labels -> (N, 1, size, size) in [-1, 1]."""

    def __init__(self, z_dim=32, size=8, width=32, classes=10, embed_dim=10, channels=1):
        super().__init__()
        self.z_dim, self.classes = z_dim, classes
        self.embed = nn.Embedding(classes, embed_dim)
        self.net = DCGANGenerator(z_dim + embed_dim, size, width, channels)

    def forward(self, z, y):
        return self.net(cat([z, self.embed(y)], dim=1))


class ConditionalDiscriminator(nn.Module):
    """D(x, y): images and labels -> (N, 1) logits; the label is a learned plane beside x."""

    def __init__(self, size=8, width=32, classes=10, channels=1, out_features=1):
        super().__init__()
        self.size = size
        self.embed = nn.Embedding(classes, size * size)
        self.net = DCGANDiscriminator(size, width, channels + 1)

    def forward(self, x, y):
        plane = self.embed(y).reshape(x.shape[0], 1, self.size, self.size)
        return self.net(cat([x, plane], dim=1))
