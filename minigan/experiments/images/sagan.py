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

from ... import backend
from ...autograd import no_grad
from ...data.images import batch_sampler
from ...gan import losses
from ...gan.models.sagan import SAGANDiscriminator, SAGANGenerator
from ...gan.sampling import fixed_z, generate, noise_sampler, recalibrate_batchnorm
from .base import ImageRun

__all__ = ["SAGANRun"]


class SAGANRun(ImageRun):
    """SAGAN: hinge loss, spectral norm, TTUR (D 4e-4, G 1e-4, Adam β (0, 0.9))."""

    name = "sagan"
    defaults = dict(steps=1500, batch_size=64, lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9,
                    z_dim=32, g_width=16, d_width=16)
    quick = dict(steps=40)

    def _generator(self):
        return self.on_device(SAGANGenerator(self.config["z_dim"], self.size,
                                             self.config["g_width"]))

    def build(self):
        c = self.config
        self.adversarial_pair(self._generator(), SAGANDiscriminator(self.size, c["d_width"]),
                              betas=(c["beta1"], c["beta2"]))
        self.real = batch_sampler(self.data["x_train"])
        self.noise = noise_sampler(c["z_dim"], self.device)

    def train_step(self):
        m = self.config["batch_size"]
        x = self.real(m)
        with no_grad():
            fake = self.G(self.noise(m))
        d_loss = losses.hinge_d_loss(self.D(x), self.D(fake))
        d_value = self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        g_loss = losses.hinge_g_loss(self.D(self.G(self.noise(m))))
        g_value = self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        return {"d_loss": d_value, "g_loss": g_value}

    def sample_generators(self):
        G = self._generator()
        G.load_state_dict(self.G.state_dict())
        noise = noise_sampler(self.config["z_dim"], self.device)
        return {self.name: (recalibrate_batchnorm(G, noise), self.config["z_dim"])}

    def extra(self, scorer, report):
        from ...plots import images as P2
        G = self.sample_modules[self.name]
        z = fixed_z(4, self.config["z_dim"], self.seed + 5, self.device)
        imgs = generate(G, z)
        att_g = backend.to_numpy(G.attn.attention.array)
        self.D.eval()
        from ...autograd import Tensor
        with no_grad():
            self.D(Tensor(backend.as_array(imgs, device=self.device)))
        att_d = backend.to_numpy(self.D.attn.attention.array)
        report["gamma_G"] = float(backend.to_numpy(self.G.attn.gamma.array)[0])
        report["gamma_D"] = float(backend.to_numpy(self.D.attn.gamma.array)[0])
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
