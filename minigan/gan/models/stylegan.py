"""A small StyleGAN (Karras, Laine & Aila 2019) for 28×28 digits.

The DCGAN feeds z in at the bottom and lets it travel up through every layer. StyleGAN
separates *what is drawn* from *how it is fed in*:

* **Mapping network** f: z -> w, an MLP (z normalised to the unit sphere's radius √d first).
  z must follow a fixed prior (Gaussian), so where the data have a gap (no digit halfway
  between a 1 and an 8) the map from z to images must stretch and tear; w has no prior to
  follow, so f can unwarp it: images should change more evenly along lines in w
  (``path_length``, measured in ``experiments.images.stylegan``).
* **Synthesis network** g: a *learned constant* 7×7 input (nothing of z enters here), then
  blocks at 7×7, 14×14, 28×28, each a 3×3 convolution followed by
  **per-layer noise** (one N(0, 1) image per layer, scaled per channel by a learned weight:
  the stochastic detail -- exact stroke texture -- that need not be decided by the style) and
  **AdaIN** (``nn.AdaIN``): the features' per-channel mean and standard deviation are set by an
  affine map of w. Every layer gets its own copy of w, so different layers can be given
  *different* w: coarse layers (7×7) decide the digit's shape and pose, fine ones (28×28) the
  stroke's thickness and texture -- **style mixing**.
* **Truncation**: sampling w' = w̄ + ψ(w - w̄) with ψ < 1 (w̄ the mean of w over training)
  pulls samples towards the average: higher quality, less variety.

Layers and their styles (``n_styles`` = 6)::

    const 64×7×7  -> noise, AdaIN[0] -> conv -> noise, AdaIN[1]            (coarse)
    up 2× -> conv 32 -> noise, AdaIN[2] -> conv -> noise, AdaIN[3]          (middle, 14×14)
    up 2× -> conv 16 -> noise, AdaIN[4] -> conv -> noise, AdaIN[5]          (fine, 28×28)
    1×1 conv -> tanh -> 1×28×28
"""
from __future__ import annotations

from ... import backend, creation, nn
from ... import functional as F
from ...autograd import Tensor, no_grad

__all__ = ["MappingNetwork", "SynthesisNetwork", "StyleGenerator"]

np = backend.np      # the host-side mixing mask


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): z scaled to norm √z_dim, then ``layers`` Linear +
    LeakyReLU(0.2).

    ``init``: "he" draws each weight from N(0, 2 / ((1 + 0.2²) fan_in)) (Kaiming's, for the
    LeakyReLU), which keeps the activations' scale from layer to layer, so w varies from
    sample to sample as much as z does -- StyleGAN's equalised learning rate does the same at
    run time. "default" keeps nn.Linear's own start (uniform ±1/√fan_in), which shrinks the
    scale about 3× per layer: after four layers w is nearly the same for every z (its spread
    is ~2 % of z's), the untrained generator draws one image for all z, and training has to
    grow the style pathway from almost nothing while the per-layer noise, whose weights start
    at zero but get a direct gradient, grows faster and ends up deciding the digit."""

    def __init__(self, z_dim=32, w_dim=64, layers=4, init="he"):
        super().__init__()
        if init not in ("he", "default"):
            raise ValueError(f"MappingNetwork: init must be 'he' or 'default', not {init!r}")
        mods, d = [], z_dim
        for _ in range(layers):
            mods += [nn.Linear(d, w_dim), nn.LeakyReLU(0.2)]
            d = w_dim
        if init == "he":
            for m in mods[::2]:
                nn.init.kaiming_normal_(m.weight, a=0.2)
                nn.init.zeros_(m.bias)
        self.net = nn.Sequential(*mods)
        self.z_dim = z_dim

    def forward(self, z):
        z = z * (z.shape[1] / ((z * z).sum(dim=1, keepdim=True) + 1e-8)).sqrt()
        return self.net(z)


class NoiseInjection(nn.Module):
    """x + strength[c] · noise, one N(0, 1) noise image per sample shared by the channels
    (drawn with minigan's seeded generator on x's device); strength starts at zero."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(Tensor(creation.zeros(1, channels, 1, 1).array))

    def forward(self, x):
        n, _, h, w = x.shape
        return x + self.weight * creation.randn(n, 1, h, w, device=x.device, dtype=x.dtype)


def upsample2x(x):
    """Nearest-neighbour 2× upsampling as a broadcast: each pixel becomes a 2×2 block. Its
    gradient sums each block (the broadcast's adjoint), with no scatter-add."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h, 1, w, 1).expand(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w)


class StyleLayer(nn.Module):
    """[up 2×] -> [conv 3×3] -> [noise] -> LeakyReLU(0.2) -> AdaIN(w)."""

    def __init__(self, c_in, c_out, w_dim, conv=True, up=False, noise=True):
        super().__init__()
        self.up = up
        self.conv = nn.Conv2d(c_in, c_out, 3, 1, 1) if conv else None
        self.noise = NoiseInjection(c_out) if noise else None
        self.adain = nn.AdaIN(c_out, w_dim)

    def forward(self, x, w):
        if self.up:
            x = upsample2x(x)
        if self.conv is not None:
            x = self.conv(x)
        if self.noise is not None:
            x = self.noise(x)
        return self.adain(F.leaky_relu(x, 0.2), w)


class SynthesisNetwork(nn.Module):
    """Styles (N, n_styles, w_dim) -> images (N, 1, 28, 28): see the module docstring.

    ``noise_from``: the first layer that gets per-layer noise (0: all, StyleGAN's choice; 2:
    none at 7×7). ``const_init``: the constant input's start, "ones" (StyleGAN's) or "randn"
    (StyleGAN2's). Both matter for *what* w controls: instance normalisation of a constant
    that is flat in space gives zero, so with "ones" and noise at 7×7 the noise is the only
    spatial pattern the first layers see, and it -- not w -- ends up choosing the digit."""

    def __init__(self, w_dim=64, widths=(64, 32, 16), base=7, channels=1, noise_from=0,
                 const_init="ones"):
        super().__init__()
        if const_init not in ("ones", "randn"):
            raise ValueError(f"SynthesisNetwork: const_init must be 'ones' or 'randn', not "
                             f"{const_init!r}")
        c0 = widths[0]
        start = creation.ones if const_init == "ones" else creation.randn
        self.const = nn.Parameter(Tensor(start(1, c0, base, base).array))
        # (in, out, conv, up) per layer: two at each resolution, the first one without a conv
        specs, c = [(c0, c0, False, False), (c0, c0, True, False)], c0
        for width in widths[1:]:
            specs += [(c, width, True, True), (width, width, True, False)]
            c = width
        layers = [StyleLayer(a, b, w_dim, conv=conv, up=up, noise=i >= noise_from)
                  for i, (a, b, conv, up) in enumerate(specs)]
        self.layers = nn.ModuleList(layers)
        self.to_image = nn.Conv2d(c, channels, 1)
        self.n_styles = len(layers)

    def forward(self, styles):
        if styles.ndim != 3 or styles.shape[1] != self.n_styles:
            raise ValueError(f"SynthesisNetwork: expected styles (N, {self.n_styles}, w_dim), "
                             f"got {styles.shape}")
        n = styles.shape[0]
        x = self.const.expand(n, *self.const.shape[1:])
        for i, layer in enumerate(self.layers):
            x = layer(x, styles[:, i])
        return F.tanh(self.to_image(x))


class StyleGenerator(nn.Module):
    """G(z) = g(f(z)). In training mode it also keeps ``w_avg`` (a buffer: the moving average
    of the training batches' w, the centre of truncation) and applies **style-mixing
    regularisation**: with probability ``mixing_prob`` a sample's styles switch, at a random
    layer, from w1 = f(z1) to w2 = f(z2) of a second code, so no layer can count on its
    neighbours having seen the same w (which is what makes the styles separable). In
    evaluation mode every layer gets the same (optionally truncated) w."""

    def __init__(self, z_dim=32, w_dim=64, mapping_layers=4, widths=(64, 32, 16),
                 mixing_prob=0.9, w_avg_beta=0.995, noise_from=0, const_init="ones",
                 mapping_init="he"):
        super().__init__()
        self.z_dim, self.w_dim = z_dim, w_dim
        self.mixing_prob, self.w_avg_beta = float(mixing_prob), float(w_avg_beta)
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, init=mapping_init)
        self.synthesis = SynthesisNetwork(w_dim, widths, noise_from=noise_from,
                                          const_init=const_init)
        self.n_styles = self.synthesis.n_styles
        self.register_buffer("w_avg", creation.zeros(w_dim))

    def broadcast(self, w):
        """(N, w_dim) -> (N, n_styles, w_dim): the same style at every layer."""
        return w.unsqueeze(1).expand(w.shape[0], self.n_styles, self.w_dim)

    def truncate(self, w, psi):
        """w̄ + ψ (w - w̄): ψ = 1 leaves w, ψ = 0 is the average image."""
        return w if psi == 1 else self.w_avg + psi * (w - self.w_avg)

    def mix(self, w1, w2, cut):
        """Styles (N, n_styles, w_dim): w1 for the layers before ``cut[n]`` (host integers),
        w2 from there on (cut = n_styles: w1 throughout)."""
        layers = np.arange(self.n_styles)
        mask = (layers[None, :] < np.asarray(cut)[:, None]).astype(np.float32)[..., None]
        m = Tensor(backend.as_array(mask, dtype=w1.dtype, device=w1.device))
        return self.broadcast(w1) * m + self.broadcast(w2) * (1.0 - m)

    def forward(self, z, psi=1.0):
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"StyleGenerator: expected z of shape (N, {self.z_dim}), got "
                             f"{z.shape}")
        w = self.mapping(z)
        if not self.training:
            return self.synthesis(self.broadcast(self.truncate(w, psi)))
        with no_grad():             # w̄ follows the batches' mean w
            self.w_avg.array[...] = (self.w_avg_beta * self.w_avg.array
                                     + (1 - self.w_avg_beta) * w.array.mean(axis=0))
        if self.mixing_prob <= 0:
            return self.synthesis(self.broadcast(w))
        rng, n = backend.generator("cpu"), z.shape[0]
        cut = np.where(rng.random(n) < self.mixing_prob,
                       rng.integers(1, self.n_styles, size=n), self.n_styles)
        w2 = self.mapping(creation.randn(n, self.z_dim, device=z.device, dtype=z.dtype))
        return self.synthesis(self.mix(w, w2, cut))
