"""Autoencoders and variational autoencoders: the generative models GANs are compared with.

An **autoencoder** (lecture notes 000 and 004) squeezes an image x through a small code
z = enc(x) and rebuilds it, x̂ = dec(z), minimising the squared error ||x - x̂||². The decoder
here is exactly a DCGAN generator, so the only difference from a GAN is *how the decoder is
trained*:

* The AE's loss is the pixel-wise L2. When the code cannot tell which of several plausible
  images was meant (a slightly thicker or thinner stroke, shifted a pixel), the L2-optimal
  answer is their *average*: a blur. "The image is compressed through blurring, not concept
  abstraction" (notes 004). ``metrics.sharpness`` measures it.
* A plain AE says nothing about *where* in z-space the codes live, so decoding a random z
  gives junk ("Where should you sample z?", notes 004).

A **variational autoencoder** (Kingma & Welling 2014) answers the second point. The encoder
outputs a Gaussian q(z|x) = N(mu(x), diag sigma²(x)); a code is *drawn* from it with the
reparameterisation trick

    z = mu + sigma * eps,   eps ~ N(0, I)

(the randomness is moved into eps, so gradients flow through mu and sigma), and the loss is
the negative evidence lower bound

    ||x - dec(z)||² / (2 s²)  +  KL(N(mu, sigma²) || N(0, I)),
    KL = 1/2 sum(mu² + sigma² - 1 - log sigma²)

where s is the decoder's assumed pixel noise (``recon_weight`` = 1/(2 s²)). The KL term pulls
every q(z|x) towards the prior N(0, I), so decoding z ~ N(0, I) gives digits; the price is
that neighbouring codes overlap, and the L2 term then averages them: VAE samples are blurrier
still. Both are measured in ``minigan.experiments.images.base``.
"""
from __future__ import annotations

from ... import nn
from ...ops import elementwise as E
from ...ops import reduce as R
from .dcgan import DCGANDiscriminator, DCGANGenerator

__all__ = ["Encoder", "Autoencoder", "VAE", "kl_to_standard_normal", "reconstruction_error"]


class Encoder(nn.Module):
    """x -> ``out_dim`` numbers: the DCGAN discriminator's conv stack with a wider last layer.

    (Strided Conv2d -> BatchNorm2d -> LeakyReLU(0.2), then a Linear layer.)
    """

    def __init__(self, out_dim, size=8, width=32, channels=1):
        super().__init__()
        body = DCGANDiscriminator(size, width, channels).net
        layers = list(body)
        last = layers[-1]                              # Linear(features -> 1): replace it
        layers[-1] = nn.Linear(last.in_features, out_dim)
        self.net = nn.Sequential(*layers)
        self.net.apply(nn.init.dcgan_init)
        self.size, self.channels = size, channels

    def forward(self, x):
        return self.net(x)


def reconstruction_error(x, x_hat):
    """Sum over pixels of (x - x̂)², averaged over the batch (a scalar Tensor)."""
    d = x - x_hat
    return R.mean(R.sum((d * d).reshape(d.shape[0], -1), axis=1))


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over dimensions, averaged over the batch."""
    kl = 0.5 * R.sum(mu * mu + E.exp(logvar) - 1.0 - logvar, axis=1)
    return R.mean(kl)


class Autoencoder(nn.Module):
    """enc: x -> z (``z_dim`` numbers), dec: z -> x̂ (a ``DCGANGenerator``). Loss: L2."""

    variational = False

    def __init__(self, z_dim=32, size=8, width=32, channels=1):
        super().__init__()
        self.z_dim, self.size = z_dim, size
        self.encoder = Encoder(z_dim, size, width, channels)
        self.decoder = DCGANGenerator(z_dim, size, width, channels)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def loss(self, x):
        """(total loss, {name: float}) for a batch: the reconstruction error alone."""
        rec = reconstruction_error(x, self(x))
        return rec, {"recon": float(rec.item())}


class VAE(Autoencoder):
    """The encoder outputs (mu, log sigma²); z = mu + sigma·eps; loss = weighted L2 + KL.

    ``recon_weight`` is 1/(2 s²) for an assumed pixel noise s: larger means sharper
    reconstructions but codes that stray further from N(0, I) (worse samples), smaller the
    opposite. ``beta`` scales the KL (beta-VAE; 1 is the ELBO).
    """

    variational = True

    def __init__(self, z_dim=32, size=8, width=32, channels=1, recon_weight=2.0, beta=1.0):
        super().__init__(z_dim, size, width, channels)
        self.encoder = Encoder(2 * z_dim, size, width, channels)
        self.recon_weight, self.beta = recon_weight, beta

    def encode_stats(self, x):
        h = self.encoder(x)
        return h[:, :self.z_dim], h[:, self.z_dim:]

    def encode(self, x):
        """The mean code mu(x) (what reconstructions and GAN comparisons use)."""
        return self.encode_stats(x)[0]

    def reparameterize(self, mu, logvar):
        """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) drawn from minigan's generator."""
        from ... import creation
        eps = creation.randn(*mu.shape, dtype=mu.dtype, device=mu.device)
        return mu + E.exp(0.5 * logvar) * eps

    def loss(self, x):
        mu, logvar = self.encode_stats(x)
        z = self.reparameterize(mu, logvar)
        rec = reconstruction_error(x, self.decode(z))
        kl = kl_to_standard_normal(mu, logvar)
        total = self.recon_weight * rec + self.beta * kl
        return total, {"recon": float(rec.item()), "kl": float(kl.item())}
