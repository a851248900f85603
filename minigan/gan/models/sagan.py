"""SAGAN's networks (Zhang et al. 2019): spectral norm on every layer of both players and
a self-attention block at the full-resolution feature map."""
from __future__ import annotations

from ... import nn

__all__ = ["SAGANGenerator", "SAGANDiscriminator"]


def _sn(module):
    return nn.spectral_norm(module)

def _sn_attention(channels):
    att = nn.SelfAttention2d(channels)
    for conv in (att.query, att.key, att.value):
        _sn(conv)
    return att

class SAGANGenerator(nn.Module):
    """z -> images, self-attention at the size×size map (size 8 or 16)."""

    def __init__(self, z_dim=32, size=8, width=32):
        super().__init__()
        self.z_dim = z_dim
        first = 2 if size == 8 else 4
        self.up = nn.Sequential(
            _sn(nn.ConvTranspose2d(z_dim, 4 * width, first, 1, 0, bias=False)),
            nn.BatchNorm2d(4 * width), nn.ReLU(),
            _sn(nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False)),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            _sn(nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)),
            nn.BatchNorm2d(width), nn.ReLU())
        self.attn = _sn_attention(width)
        self.out = nn.Sequential(_sn(nn.Conv2d(width, 1, 3, 1, 1)), nn.Tanh())

    def forward(self, z):
        if z.ndim == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        return self.out(self.attn(self.up(z)))

class SAGANDiscriminator(nn.Module):
    """images -> (N, 1) scores; self-attention at the full-resolution feature map."""

    def __init__(self, size=8, width=32):
        super().__init__()
        self.inp = nn.Sequential(_sn(nn.Conv2d(1, width, 3, 1, 1)), nn.LeakyReLU(0.1))
        self.attn = _sn_attention(width)
        layers, c, side = [], width, size
        while side > 2:
            layers += [_sn(nn.Conv2d(c, 2 * c, 4, 2, 1)), nn.LeakyReLU(0.1)]
            c, side = 2 * c, side // 2
        layers += [nn.Flatten(), _sn(nn.Linear(c * side * side, 1))]
        self.down = nn.Sequential(*layers)

    def forward(self, x):
        return self.down(self.attn(self.inp(x)))
