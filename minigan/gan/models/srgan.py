"""SRResNet and SRGAN's discriminator (Ledig et al. 2017), small enough for a CPU.

**The generator** maps a low-resolution image (N, C, h, w) to (N, C, scale·h, scale·w):

    conv 3×3 -> ReLU ----------------------------+        (features at low resolution)
      -> [conv 3×3 -> ReLU -> conv 3×3, + input] × blocks   (residual blocks)
      -> conv 3×3, + the features above  ---------+        (the long skip)
      -> [conv 3×3 to 4·c channels -> pixel shuffle ×2 -> ReLU] × log2(scale)
      -> conv 3×3 to C channels, + the bilinear enlargement of the input

Nearly all the arithmetic is at the low resolution; *sub-pixel convolution* (``PixelShuffle``)
is what brings the features up: a convolution makes 4 channels for every output channel and
the shuffle lays each 4 out as a 2×2 block of pixels. Two changes from the paper, for a CPU
budget of minutes: no batch norm in the residual blocks (EDSR, Lim et al. 2017, showed it
only costs memory and accuracy in super-resolution) and an added *global* skip from the
bilinearly enlarged input, so the network learns only the detail that interpolation lacks
(VDSR, Kim et al. 2016: it trains far faster); the upsampling stages are narrower than the
body (``up_width``) because they run at 4× and 16× the positions.

**The discriminator** is a stack of strided convolutions with LeakyReLU(0.2) that halves the
resolution and doubles the width, then averages its logits over the remaining positions (so
it judges patches of any size).
"""
from __future__ import annotations

import math

from ... import functional as F
from ... import nn

__all__ = ["SRResNet", "SRDiscriminator", "ResidualBlock"]


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))): the block learns a correction to its input."""

    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, 1, 1)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class SRResNet(nn.Module):
    """Low resolution -> ``scale``× higher resolution (scale a power of two)."""

    def __init__(self, channels=1, width=32, blocks=4, scale=4, up_width=16):
        super().__init__()
        stages = int(round(math.log2(scale)))
        if scale < 2 or 2 ** stages != scale:
            raise ValueError(f"SRResNet: scale must be a power of two >= 2, not {scale!r}")
        self.channels, self.scale = channels, scale
        self.head = nn.Conv2d(channels, width, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.body_out = nn.Conv2d(width, width, 3, 1, 1)
        up, c = [], width
        for _ in range(stages):
            up += [nn.Conv2d(c, 4 * up_width, 3, 1, 1), nn.PixelShuffle(2), nn.ReLU()]
            c = up_width
        self.upsample = nn.Sequential(*up)
        self.tail = nn.Conv2d(c, channels, 3, 1, 1)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"SRResNet: expected images (N, {self.channels}, h, w), got "
                             f"{x.shape}")
        features = F.relu(self.head(x))
        features = features + self.body_out(self.body(features))
        detail = self.tail(self.upsample(features))
        return detail + F.interpolate(x, scale_factor=self.scale, mode="bilinear")


class SRDiscriminator(nn.Module):
    """HR patch (N, C, H, W) -> (N, 1) logits: ``stages`` strided 4×4 convolutions with
    LeakyReLU(0.2), halving the resolution and doubling the width (width, 2·width, ...), then
    the mean over positions of a 1×1 convolution's logits. The paper's discriminator has a
    3×3 stride-1 convolution before each strided one as well; without them a step costs a
    fifth as much, which is what a CPU budget of minutes allows."""

    def __init__(self, channels=1, width=16, stages=4):
        super().__init__()
        layers, c = [], channels
        for k in range(stages):
            w = width * 2 ** k
            layers += [nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = w
        layers.append(nn.Conv2d(c, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).mean(dim=(2, 3))
