"""Self-attention GAN (Zhang, Goodfellow, Metaxas & Odena 2019) for the digits.

Lecture notes 004, "attention to improve context": a convolution sees a small neighbourhood;
a self-attention block lets every position of a feature map look at every other position
(``nn.SelfAttention2d``: for each query pixel, a softmax over all H·W key pixels). SAGAN puts
one block in the top layers of *both* G and D, here at the 8×8 feature map, and adds the two
stabilisers the paper relies on:

* **spectral normalisation** (``nn.spectral_norm``) of every weight of D and G (the attention's
  1×1 convolutions included): each layer 1-Lipschitz;
* the **hinge loss** (``losses.hinge_d_loss``/``hinge_g_loss``) and **two time-scale updates**
  (TTUR): D learns at 4e-4, G at 1e-4, Adam β = (0, 0.9), one D step per G step.

Shapes (size 8, width w)::

    G: z -> 4w×2×2 -> 2w×4×4 -> w×8×8 -> [self-attention] -> conv 3×3 -> tanh -> 1×8×8
    D: 1×8×8 -> conv 3×3 -> w×8×8 -> [self-attention] -> 2w×4×4 -> 4w×2×2 -> linear -> 1

The attention maps the run draws: for chosen query pixels of a generated digit, where G's
block looked (β_q·, an 8×8 map), and the learned mixing weight γ of each block.
"""
from __future__ import annotations

from .. import backend, nn, optim
from ..autograd import no_grad
from . import losses
from .images import _fixed_z, _noise_sampler, generate, recalibrate_batchnorm
from .image_loop import LoopRun, register

__all__ = ["SAGANGenerator", "SAGANDiscriminator", "SAGANRun"]


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


class SAGANRun(LoopRun):
    """SAGAN: hinge loss, spectral norm, TTUR (D 4e-4, G 1e-4, Adam β (0, 0.9))."""

    def _generator(self):
        G = SAGANGenerator(self.config["z_dim"], self.size, self.config["g_width"])
        return G.to(self.device) if self.device is not None else G

    def build(self):
        from .images import _batch_sampler
        c = self.config
        self.G = self._generator()
        self.D = SAGANDiscriminator(self.size, c["d_width"])
        if self.device is not None:
            self.D.to(self.device)
        self.modules = {"G": self.G, "D": self.D}
        betas = (c["beta1"], c["beta2"])
        self.optims = {"G": optim.Adam(self.G.parameters(), lr=c["lr_g"], betas=betas),
                       "D": optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas)}
        self.real = _batch_sampler(self.data["x_train"])
        self.noise = _noise_sampler(c["z_dim"], self.device)

    def train_step(self):
        m = self.config["batch_size"]
        x = self.real(m)
        with no_grad():
            fake = self.G(self.noise(m))
        d_loss = losses.hinge_d_loss(self.D(x), self.D(fake))
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        g_loss = losses.hinge_g_loss(self.D(self.G(self.noise(m))))
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        return {"d_loss": float(d_loss.item()), "g_loss": float(g_loss.item())}

    def sample_generators(self):
        G = self._generator()
        G.load_state_dict(self.G.state_dict())
        noise = _noise_sampler(self.config["z_dim"], self.device)
        return {self.name: (recalibrate_batchnorm(G, noise), self.config["z_dim"])}

    def extra(self, scorer, report):
        from .. import plot_images2 as P2
        G = self.sample_modules[self.name]
        z = _fixed_z(4, self.config["z_dim"], self.seed + 5, self.device)
        imgs = generate(G, z)
        att_g = backend.to_numpy(G.attn.attention.data)
        self.D.eval()
        from ..autograd import Tensor
        with no_grad():
            self.D(Tensor(backend.as_array(imgs, device=self.device)))
        att_d = backend.to_numpy(self.D.attn.attention.data)
        report["gamma_G"] = float(backend.to_numpy(self.G.attn.gamma.data)[0])
        report["gamma_D"] = float(backend.to_numpy(self.D.attn.gamma.data)[0])
        side = int(round(att_g.shape[-1] ** 0.5))
        queries = [(1, 1), (side // 2, side // 2), (side - 2, side // 4)]
        # how far attention reaches: mean distance (in pixels) from each query to where it looks
        np = backend.np
        yy, xx = np.divmod(np.arange(side * side), side)
        dist = np.sqrt((yy[:, None] - yy[None]) ** 2 + (xx[:, None] - xx[None]) ** 2)
        report["attention_mean_distance_G"] = float((att_g * dist).sum(-1).mean())
        report["attention_mean_distance_uniform"] = float(dist.mean())
        print(f"{self.name}: γ_G = {report['gamma_G']:.3f}, γ_D = {report['gamma_D']:.3f}; "
              f"G's attention reaches {report['attention_mean_distance_G']:.2f} px on average "
              f"(uniform attention: {report['attention_mean_distance_uniform']:.2f} px)")
        for who, att in (("G", att_g), ("D", att_d)):
            report["figures"].append(P2.attention_figure(
                self.out / f"attention_{who}.png", imgs, att, queries,
                title=f"SAGAN {who}: attention of chosen query pixels at the {side}×{side} map "
                      f"(γ = {report['gamma_' + who]:.3f})"))


register("sagan", SAGANRun,
         dict(steps=1500, batch_size=64, lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9, z_dim=32,
              g_width=16, d_width=16),
         dict(steps=40))
