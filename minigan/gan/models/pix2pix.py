"""pix2pix (Isola, Zhu, Zhou & Efros 2017): a U-Net generator and a PatchGAN discriminator.

**U-Net generator.** An encoder halves the resolution twice (strided 4×4 convolutions), a
decoder doubles it back (transposed 4×4 convolutions), and every decoder stage also receives
the encoder's features of the same resolution (*skip connections*, concatenated as channels).
In image translation input and output share their structure -- an edge in x is an edge in y
-- and the skips carry that low-level structure straight across, so the bottleneck only has
to carry what must change. Shapes for 28×28 digits (w = width)::

    x 1×28×28 -> e1 w×14×14 -> e2 2w×7×7 -> bottleneck 2w×7×7
              -> d2 w×14×14 (input: bottleneck ⧺ e2) -> y 1×28×28 (input: d2 ⧺ e1), tanh

**PatchGAN discriminator.** D sees the pair (x, y) as two channels and outputs a *grid* of
logits, each judging one overlapping patch: its receptive field (``receptive_field``). The L1
loss already gets the low frequencies right (the overall shape); the patch discriminator
only has to enforce sharp, realistic local structure, with fewer parameters, on any image
size. The loss is the mean of the per-patch losses.
"""
from __future__ import annotations

from ... import nn
from ...ops.shape import cat

__all__ = ["UNetGenerator", "PatchDiscriminator", "receptive_field"]


def receptive_field(module):
    """The side of the input window one output position of a stack of convolutions sees.

    Walk the ``Conv2d`` layers in order, keeping the *jump* (input pixels between two
    neighbouring positions of the current layer) and the field: a k×k convolution widens the
    field by (k - 1)·jump, and its stride multiplies the jump."""
    field, jump = 1, 1
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            k, s = m.kernel_size, m.stride
            k = k[0] if isinstance(k, tuple) else k
            s = s[0] if isinstance(s, tuple) else s
            field += (k - 1) * jump
            jump *= s
    return field


def _down(c_in, c_out, norm=True):
    layers = [nn.Conv2d(c_in, c_out, 4, 2, 1)]
    if norm:
        layers.append(nn.InstanceNorm2d(c_out, affine=True))
    return nn.Sequential(*layers, nn.LeakyReLU(0.2))


class UNetGenerator(nn.Module):
    """Image (N, C_in, H, W) -> image (N, C_out, H, W) in [-1, 1]; H and W divisible by 4.

    Instance norm in the inner layers (every image normalised on its own, the same in
    training and evaluation)."""

    def __init__(self, in_channels=1, out_channels=1, width=32):
        super().__init__()
        w = width
        self.e1 = _down(in_channels, w, norm=False)
        self.e2 = _down(w, 2 * w)
        self.bottleneck = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, 1, 1),
                                        nn.InstanceNorm2d(2 * w, affine=True), nn.ReLU())
        self.d2 = nn.Sequential(nn.ConvTranspose2d(4 * w, w, 4, 2, 1),
                                nn.InstanceNorm2d(w, affine=True), nn.ReLU())
        self.d1 = nn.Sequential(nn.ConvTranspose2d(2 * w, out_channels, 4, 2, 1), nn.Tanh())
        self.in_channels = in_channels

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"UNetGenerator: expected (N, {self.in_channels}, H, W) with H, W "
                             f"divisible by 4, got {x.shape}")
        e1 = self.e1(x)
        e2 = self.e2(e1)
        b = self.bottleneck(e2)
        d2 = self.d2(cat([b, e2], dim=1))
        return self.d1(cat([d2, e1], dim=1))


class PatchDiscriminator(nn.Module):
    """(condition x, image y) -> (N, 1, h, w) logits, one per patch of ``receptive_field``
    pixels: two strided 4×4 convolutions, then a 3×3 one to the logits."""

    def __init__(self, in_channels=2, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(_down(in_channels, w, norm=False), _down(w, 2 * w),
                                 nn.Conv2d(2 * w, 1, 3, 1, 1))

    @property
    def receptive_field(self):
        return receptive_field(self.net)

    def forward(self, x, y):
        return self.net(cat([x, y], dim=1))
