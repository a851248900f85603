"""InfoGAN's discriminator: DCGAN's body with two heads, D's logit and Q's code estimates."""
from __future__ import annotations

from ... import nn
from .dcgan import DCGANDiscriminator

__all__ = ["InfoDiscriminator", "CATEGORIES", "CONTINUOUS"]

CATEGORIES, CONTINUOUS = 10, 2      # the categorical code c1 and the continuous codes c2, c3


class InfoDiscriminator(nn.Module):
    """DCGAN's discriminator body, two heads: D (one logit) and Q (10 code logits + the
    means of the 2 continuous codes). ``forward(x)`` -> (d_logit, q_out)."""

    def __init__(self, size=8, width=32, q_hidden=64):
        super().__init__()
        layers = list(DCGANDiscriminator(size, width).net)
        self.body = nn.Sequential(*layers[:-1])
        self.d_head = layers[-1]
        self.q_head = nn.Sequential(nn.Linear(layers[-1].in_features, q_hidden),
                                    nn.LeakyReLU(0.2),
                                    nn.Linear(q_hidden, CATEGORIES + CONTINUOUS))

    def forward(self, x):
        h = self.body(x)
        return self.d_head(h), self.q_head(h)
