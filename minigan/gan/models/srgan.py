"""SRResNet and SRGAN's discriminator (Ledig et al. 2017), small enough for a CPU.

**The generator** maps a low-resolution image (N, C, h, w) to (N, C, scale·h, scale·w):

    conv 3×3 -> ReLU ----------------------------+        (features at low resolution)
      -> [conv 3×3 -> ReLU -> conv 3×3, + input] × blocks   (residual blocks)
      -> conv 3×3, + the features above  ---------+        (the long skip)
      -> [conv 3×3 to 4·c channels -> pixel shuffle ×2 -> ReLU] × log2(scale)
      -> conv 3×3 to C channels, + the bicubic enlargement of the input

Nearly all the arithmetic is at the low resolution; *sub-pixel convolution* (``PixelShuffle``)
is what brings the features up: a convolution makes 4 channels for every output channel and
the shuffle lays each 4 out as a 2×2 block of pixels. Two changes from the paper, for a CPU
budget of minutes: no batch norm in the residual blocks (EDSR, Lim et al. 2017, showed it
only costs memory and accuracy in super-resolution) and an added *global* skip from the
bicubically enlarged input, so the network learns only the detail that interpolation lacks
(VDSR, Kim et al. 2016: it trains far faster); the upsampling stages are narrower than the
body (``up_width``) because they run at 4× and 16× the positions. The bicubic enlargement is
itself a fixed convolution + pixel shuffle (``bicubic_phase_kernels``), and the last layer
starts at zero, so the untrained network is exactly the baseline it is measured against.
Options (``SRResNet(upsampler=, skip=)``): the ESPCN upsampler (one convolution to scale²
channels at low resolution, one shuffle) and the bilinear skip of the first checkpoints.

**The discriminator** is a stack of strided convolutions with LeakyReLU(0.2) that halves the
resolution and doubles the width, then averages its logits over the remaining positions (so
it judges patches of any size).
"""
from __future__ import annotations

import math

from ... import functional as F
from ... import nn
from ... import creation
from ...backend import np

__all__ = ["SRResNet", "SRDiscriminator", "ResidualBlock"]


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))): the block learns a correction to its input."""

    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, 1, 1)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


def bicubic_phase_kernels(scale, a=-0.5):
    """The fixed (scale², 1, 5, 5) filters whose outputs, pixel-shuffled by ``scale``, are the
    bicubic enlargement of the input (Keys' cubic with ``a`` = -0.5, PIL's; even ``scale``).

    Bicubic enlargement is linear and the same at every low-resolution pixel, so it *is* a
    convolution: output pixel (scale·i + r, scale·j + c) reads LR rows i-2..i+2 and columns
    j-2..j+2 with one 5×5 weight pattern per phase (r, c), the outer product of two 1-D cubic
    weight vectors (PIL's centre convention puts phase r at offset (2r + 1 - scale) / (2·scale)
    of a pixel from i). One convolution to scale² channels + one shuffle: the same layout as
    the network's own sub-pixel output, so the two can simply be added."""
    def cubic(d):
        d = abs(d)
        if d < 1:
            return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
        if d < 2:
            return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a
        return 0.0

    taps = range(-2, 3)
    rows = [[cubic(p - (2 * r + 1 - scale) / (2 * scale)) for p in taps] for r in range(scale)]
    return [[[[rows[r][u] * rows[c][v] for v in range(5)] for u in range(5)]]
            for r in range(scale) for c in range(scale)]


class SRResNet(nn.Module):
    """Low resolution -> ``scale``× higher resolution (scale a power of two).

    ``upsampler``: "stages" (default) is the paper's [conv -> shuffle ×2 -> ReLU] per factor
    2, with ``up_width`` channels, which runs its convolutions at 4× and 16× the positions;
    "espcn" makes all ``scale``² sub-pixels of every output pixel with one convolution at the
    low resolution and one shuffle by ``scale`` (Shi et al. 2016). ``skip``: what the
    network's output is added to, the "bicubic" (default) or "bilinear" enlargement of the
    input (the checkpoints made before "bicubic" use bilinear); with "bicubic" the last
    convolution starts at zero, so that the untrained network is bicubic interpolation."""

    def __init__(self, channels=1, width=32, blocks=4, scale=4, up_width=16,
                 upsampler="stages", skip="bicubic"):
        super().__init__()
        stages = int(round(math.log2(scale)))
        if scale < 2 or 2 ** stages != scale:
            raise ValueError(f"SRResNet: scale must be a power of two >= 2, not {scale!r}")
        if upsampler not in ("espcn", "stages") or skip not in ("bicubic", "bilinear"):
            raise ValueError(f"SRResNet: upsampler must be espcn or stages and skip bicubic "
                             f"or bilinear, not {upsampler!r} / {skip!r}")
        self.channels, self.scale, self.upsampler, self.skip = channels, scale, upsampler, skip
        self.head = nn.Conv2d(channels, width, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.body_out = nn.Conv2d(width, width, 3, 1, 1)
        if upsampler == "espcn":
            self.upsample = nn.Sequential()
            self.tail = nn.Conv2d(width, channels * scale * scale, 3, 1, 1)
        else:
            up, c = [], width
            for _ in range(stages):
                up += [nn.Conv2d(c, 4 * up_width, 3, 1, 1), nn.PixelShuffle(2), nn.ReLU()]
                c = up_width
            self.upsample = nn.Sequential(*up)
            self.tail = nn.Conv2d(c, channels, 3, 1, 1)
        if skip == "bicubic":
            # the last layer starts at zero: the untrained network *is* bicubic interpolation,
            # the baseline it is measured against, and training only adds detail to it
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)
            # not trained and not saved (persistent=False): it is a function of `scale` alone
            k = bicubic_phase_kernels(scale)
            self.register_buffer("bicubic", creation.tensor(np.asarray(k, np.float32)),
                                 persistent=False)   # on the default device, as parameters

    @property
    def radius(self):
        """How many LR pixels of context on each side an output pixel depends on: one per
        3×3 convolution at the low resolution (head, 2 per block, body_out, and the first
        upsampling convolution or the ESPCN tail), a fraction of one for the convolutions
        after each shuffle (rounded up to one), and the bicubic skip's 2. Tiles need at
        least this much overlap for their seams to vanish (``upscale``)."""
        low = 1 + 2 * len(self.body) + 1 + 1
        after = 0 if self.upsampler == "espcn" else 1
        return max(low + after, 2 if self.skip == "bicubic" else 1)

    def enlarge(self, x):
        """The fixed enlargement the network corrects: bicubic (as a 5×5 convolution to
        scale² phases, the image's edge repeated) or bilinear, one channel at a time."""
        if self.skip == "bilinear":
            return F.interpolate(x, scale_factor=self.scale, mode="bilinear")
        n, c, h, w = x.shape
        x1 = F.pad(x.reshape(n * c, 1, h, w), (2, 2, 2, 2), mode="replicate")
        phases = F.conv2d(x1, self.bicubic)
        return F.pixel_shuffle(phases, self.scale).reshape(n, c, h * self.scale, w * self.scale)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"SRResNet: expected images (N, {self.channels}, h, w), got "
                             f"{x.shape}")
        features = F.relu(self.head(x))
        features = features + self.body_out(self.body(features))
        detail = self.tail(self.upsample(features))
        if self.upsampler == "espcn":
            detail = F.pixel_shuffle(detail, self.scale)
        return detail + self.enlarge(x)


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
