"""DCGAN (Radford, Metz & Chintala 2016) for the handwritten digits: the generator built from
*fractionally-strided* convolutions, the discriminator from strided convolutions.

The recipe the paper distilled from many failed attempts (section 3 of the paper):

* no pooling: the generator upsamples with ``ConvTranspose2d(stride=2)`` (lecture notes 000,
  "a generator with fractionally-strided convolutions": it is the adjoint ``C^T`` of a strided
  convolution ``C``), the discriminator downsamples with ``Conv2d(stride=2)``;
* batch normalisation in both networks, except at G's output and D's input;
* ReLU in G with a ``tanh`` output (pixels live in [-1, 1]); LeakyReLU(0.2) in D;
* weights drawn from N(0, 0.02) (``nn.init.dcgan_init``), Adam with lr 2e-4 and beta1 0.5.

The generator starts from z seen as a 1×1 image with ``z_dim`` channels, so the first
transposed convolution *is* the "project and reshape" layer of the paper. Shapes::

    size 8  : z (z_dim×1×1) -> 4w×2×2 -> 2w×4×4 -> 1×8×8
    size 16 : z (z_dim×1×1) -> 4w×4×4 -> 2w×8×8 -> 1×16×16
    size 28 : z (100×1×1)   -> 256×7×7 -> 128×14×14 -> 1×28×28   (w = 64: the PyTorch MNIST
              example's shapes, the reference DCGAN of the kernels benchmark)

and the discriminator mirrors them (one logit per image, no sigmoid: the losses in
``minigan.gan.losses`` take logits, which keeps them finite when D saturates)::

    size 8  : 1×8×8 -> w×4×4 -> 2w×2×2 -> linear -> 1
    size 16 : 1×16×16 -> w×8×8 -> 2w×4×4 -> 4w×2×2 -> linear -> 1
    size 28 : 1×28×28 -> 64×14×14 -> 128×7×7 -> linear(6272) -> 1

Two of the "improved techniques" (``minigan.gan.techniques``) change the networks themselves:
``DCGANGenerator(norm="virtual")`` swaps G's batch norms for virtual batch norms (one fixed
reference batch of z, kept as a buffer), and ``DCGANDiscriminator(minibatch_kernels=B)``
puts minibatch discrimination between D's convolutions and its linear layer.
"""
from __future__ import annotations

from ... import nn
from ..techniques import VirtualBatchNorm2d, forward_with_reference

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_pair", "SIZES"]

SIZES = (8, 16, 28)

# (out_channels as a multiple of w (0 = image channels), kernel, stride, padding) per layer
_G_LAYERS = {
    8: [(4, 2, 1, 0), (2, 4, 2, 1), (0, 4, 2, 1)],
    16: [(4, 4, 1, 0), (2, 4, 2, 1), (0, 4, 2, 1)],
    28: [(4, 7, 1, 0), (2, 4, 2, 1), (0, 4, 2, 1)],
}
_D_LAYERS = {            # (out multiple of w, kernel, stride, padding, batch norm?)
    8: [(1, 4, 2, 1, False), (2, 4, 2, 1, True)],
    16: [(1, 4, 2, 1, False), (2, 4, 2, 1, True), (4, 4, 2, 1, True)],
    28: [(1, 4, 2, 1, False), (2, 4, 2, 1, True)],
}


def _check_size(size):
    if size not in SIZES:
        raise ValueError(f"DCGAN: image size must be one of {SIZES}, not {size!r}")


class DCGANGenerator(nn.Module):
    """G: a (N, z_dim) noise batch -> (N, channels, size, size) images in [-1, 1].

    ``width`` (w) sets the channel counts (4w, 2w as in the table above); ``size`` is 8, 16 or
    28. Every hidden layer is ConvTranspose2d -> BatchNorm2d -> ReLU, the last one
    ConvTranspose2d -> Tanh. Call ``reset_parameters()`` to redraw the DCGAN initialisation.

    ``norm="virtual"``: VirtualBatchNorm2d instead of BatchNorm2d, normalising by a reference
    batch of ``reference_size`` codes drawn once (the buffer ``z_ref``) plus each example.
    """

    def __init__(self, z_dim=32, size=8, width=32, channels=1, norm="batch",
                 reference_size=32):
        super().__init__()
        _check_size(size)
        if norm not in ("batch", "virtual"):
            raise ValueError(f"DCGANGenerator: norm must be 'batch' or 'virtual', not {norm!r}")
        self.z_dim, self.size, self.width, self.channels = z_dim, size, width, channels
        self.norm = norm
        Norm = nn.BatchNorm2d if norm == "batch" else VirtualBatchNorm2d  # noqa: N806
        layers, c_in = [], z_dim
        spec = _G_LAYERS[size]
        for i, (mult, k, s, p) in enumerate(spec):
            c_out = mult * width if mult else channels
            last = i == len(spec) - 1
            layers.append(nn.ConvTranspose2d(c_in, c_out, k, s, p, bias=last))
            if last:
                layers.append(nn.Tanh())
            else:
                layers += [Norm(c_out), nn.ReLU()]
            c_in = c_out
        self.net = nn.Sequential(*layers)
        self.reset_parameters()
        if norm == "virtual":
            from ...creation import randn
            self.register_buffer("z_ref", randn(reference_size, z_dim, 1, 1))

    def reset_parameters(self):
        self.net.apply(nn.init.dcgan_init)

    def forward(self, z):
        if z.ndim == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        if z.shape[1] != self.z_dim:
            raise ValueError(f"DCGANGenerator: expected z of {self.z_dim} dimensions, got "
                             f"shape {z.shape}")
        if self.norm == "virtual":
            return forward_with_reference(self.net, self.z_ref, z)
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """D: (N, channels, size, size) images -> (N, 1) logits.

    Conv2d(stride 2) -> [BatchNorm2d] -> LeakyReLU(0.2) per layer (no batch norm on the first,
    as the paper says), then a Linear layer on the flattened features. ``features(x)`` are
    those flattened features (what feature matching compares).

    ``minibatch_kernels`` B > 0 inserts ``nn.MinibatchDiscrimination(F, B, kernel_dims)``
    before the Linear layer: B closeness features that see the whole batch.
    """

    def __init__(self, size=8, width=32, channels=1, minibatch_kernels=0, kernel_dims=5):
        super().__init__()
        _check_size(size)
        self.size, self.width, self.channels = size, width, channels
        layers, c_in, side = [], channels, size
        for mult, k, s, p, bn in _D_LAYERS[size]:
            c_out = mult * width
            layers.append(nn.Conv2d(c_in, c_out, k, s, p, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            c_in, side = c_out, (side + 2 * p - k) // s + 1
        n_feat = c_in * side * side
        layers.append(nn.Flatten())
        if minibatch_kernels:
            mbd = nn.MinibatchDiscrimination(n_feat, minibatch_kernels, kernel_dims)
            # T ~ N(0, 1) (the layer's default) over thousands of features puts every pair of
            # samples so far apart that exp(-L1) is 0 and the layer starts dead: scale T so
            # that each entry of M = f T has a standard deviation of about 1/2.
            nn.init.normal_(mbd.T, 0.0, 0.5 / n_feat ** 0.5)
            layers.append(mbd)
        layers.append(nn.Linear(n_feat + minibatch_kernels, 1))
        self.net = nn.Sequential(*layers)
        self.n_features = n_feat
        self.reset_parameters()

    def reset_parameters(self):
        self.net.apply(nn.init.dcgan_init)

    def _check(self, x):
        if x.ndim != 4 or x.shape[1:] != (self.channels, self.size, self.size):
            raise ValueError(f"DCGANDiscriminator: expected images of shape (N, {self.channels}, "
                             f"{self.size}, {self.size}), got {x.shape}")

    def features(self, x):
        """The flattened features of the last convolution: (N, F)."""
        self._check(x)
        body = self.net[:-2] if isinstance(self.net[-2], nn.MinibatchDiscrimination) \
            else self.net[:-1]
        return body(x)

    def forward(self, x):
        self._check(x)
        return self.net(x)


def dcgan_pair(size=8, z_dim=None, g_width=None, d_width=None, channels=1, device=None,
               g_norm="batch", minibatch_kernels=0):
    """A generator and a discriminator for ``size``×``size`` images, DCGAN-initialised.

    Defaults: z_dim 32 and widths 32 for the digits (8 and 16), the reference shapes
    (z_dim 100, w 64) for 28×28. ``g_norm`` and ``minibatch_kernels``: see the classes.
    """
    _check_size(size)
    ref = size == 28
    z_dim = z_dim or (100 if ref else 32)
    G = DCGANGenerator(z_dim, size, g_width or (64 if ref else 32), channels, norm=g_norm)
    D = DCGANDiscriminator(size, d_width or (64 if ref else 32), channels,
                           minibatch_kernels=minibatch_kernels)
    if device is not None:
        G.to(device)
        D.to(device)
    return G, D
