"""The WGAN-GP critic: DCGAN's discriminator without batch norm (a per-example gradient
penalty needs each score to depend on its own image only)."""
from __future__ import annotations

from ... import nn

__all__ = ["Critic"]


class Critic(nn.Module):
    """DCGAN's discriminator without batch norm: strided Conv2d + LeakyReLU(0.2), then a
    Linear layer to one unbounded score per image (size 8: 1×8×8 -> w×4×4 -> 2w×2×2 -> 1;
    size 16 adds 4w×2×2)."""

    def __init__(self, size=8, width=32, channels=1):
        super().__init__()
        layers, c_in, side, mult = [], channels, size, 1
        while side > 2:
            layers += [nn.Conv2d(c_in, mult * width, 4, 2, 1), nn.LeakyReLU(0.2)]
            c_in, side, mult = mult * width, side // 2, mult * 2
        layers += [nn.Flatten(), nn.Linear(c_in * side * side, 1)]
        self.net = nn.Sequential(*layers)
        self.net.apply(nn.init.dcgan_init)

    def forward(self, x):
        return self.net(x)
