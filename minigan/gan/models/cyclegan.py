"""CycleGAN's generator: an image-to-image network that starts near the identity."""
from __future__ import annotations

from ... import nn

__all__ = ["TranslationGenerator"]


class TranslationGenerator(nn.Module):
    """Image -> image of the same size: 3×3 convolutions (padding 1) with ReLUs and a residual
    connection, tanh output: y = tanh(2x + net(x)), which starts close to the identity
    (tanh(2x) keeps the ink and the background of a digit), so the cycle loss starts small
    and the adversarial terms only have to learn the change of style."""

    def __init__(self, width=32, depth=4, channels=1):
        super().__init__()
        layers, c = [], channels
        for _ in range(depth - 1):
            layers += [nn.Conv2d(c, width, 3, 1, 1), nn.ReLU()]
            c = width
        layers.append(nn.Conv2d(c, channels, 3, 1, 1))
        self.net = nn.Sequential(*layers)
        self.tanh = nn.Tanh()

    def forward(self, x):
        return self.tanh(2.0 * x + self.net(x))
