"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y), both told the class y.

Lecture notes 001/004, "conditional image generation": feed the label to *both* players.
G then has to produce a digit that D accepts *as a y*; D rejects a perfect 3 that was
presented as a 7. The generator learns p(x | y), and at sampling time we choose y.

The label enters each network through a learned lookup table (``nn.Embedding``):

* G: z ⧺ embed_G(y) (a 10-dimensional class vector appended to the noise) goes through the
  DCGAN generator of ``minigan.gan.dcgan`` (it sees a longer z; nothing else changes);
* D: embed_D(y) is a whole size×size *plane*, stacked as a second channel beside the image,
  into the DCGAN discriminator (two input channels). Every convolution of D sees the label at
  every pixel.

Measured: the classifier of ``minigan.scoring`` agrees with the *requested* label on the
samples (the headline score), and the grid "same z, every label" shows style (slant, stroke
width) held by z while the class changes with y.
"""
from __future__ import annotations

import time

from .. import backend, nn, optim
from ..autograd import Tensor, no_grad
from ..ops.shape import cat
from . import losses
from .ema import EMA
from .images import (N_SAMPLES, SAMPLE_SEED_OFFSET, _fixed_z, _noise_sampler,
                     recalibrate_batchnorm)
from .image_loop import LoopRun, labeled_batches, labels_tensor, random_labels, register

__all__ = ["ConditionalGenerator", "ConditionalDiscriminator", "CGANRun"]

np = backend.np      # host-side bookkeeping (labels.npy, agreement); the maths is in the engine


class ConditionalGenerator(nn.Module):
    """G(z, y): (N, z_dim) noise and (N,) integer labels -> (N, 1, size, size) in [-1, 1]."""

    def __init__(self, z_dim=32, size=8, width=32, classes=10, embed_dim=10, channels=1):
        super().__init__()
        from .dcgan import DCGANGenerator
        self.z_dim, self.classes = z_dim, classes
        self.embed = nn.Embedding(classes, embed_dim)
        self.net = DCGANGenerator(z_dim + embed_dim, size, width, channels)

    def forward(self, z, y):
        return self.net(cat([z, self.embed(y)], dim=1))


class ConditionalDiscriminator(nn.Module):
    """D(x, y): images and labels -> (N, 1) logits; the label is a learned plane beside x."""

    def __init__(self, size=8, width=32, classes=10, channels=1, out_features=1):
        super().__init__()
        from .dcgan import DCGANDiscriminator
        self.size = size
        self.embed = nn.Embedding(classes, size * size)
        self.net = DCGANDiscriminator(size, width, channels + 1)

    def forward(self, x, y):
        plane = self.embed(y).reshape(x.shape[0], 1, self.size, self.size)
        return self.net(cat([x, plane], dim=1))


class _RandomLabels(nn.Module):
    """z -> G(z, random y): lets ``recalibrate_batchnorm`` drive a conditional generator."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G(z, random_labels(z.shape[0], self.G.classes, z.device))


class CGANRun(LoopRun):
    """Conditional DCGAN, non-saturating loss, Adam 2e-4 β1 0.5, EMA of G (as DCGANRun)."""

    def _generator(self):
        c = self.config
        G = ConditionalGenerator(c["z_dim"], self.size, c["g_width"])
        return G.to(self.device) if self.device is not None else G

    def build(self):
        c = self.config
        self.G = self._generator()
        self.D = ConditionalDiscriminator(self.size, c["d_width"])
        if self.device is not None:
            self.D.to(self.device)
        betas = (c["beta1"], 0.999)
        self.modules = {"G": self.G, "D": self.D}
        self.optims = {"G": optim.Adam(self.G.parameters(), lr=c["lr_g"], betas=betas),
                       "D": optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas)}
        self.ema = EMA(self.G, self._generator(), c["ema"]) if c.get("ema") else None
        if self.ema is not None:
            self.modules["G_ema"] = self.ema.shadow
        self.real = labeled_batches(self.data["x_train"], self.data["y_train"])
        self.noise = _noise_sampler(c["z_dim"], self.device)

    def train_step(self):
        m = self.config["batch_size"]
        x, y = self.real(m)
        yf = random_labels(m, 10, self.device)
        with no_grad():
            fake = self.G(self.noise(m), yf)
        d_loss = losses.d_loss_minimax(self.D(x, y), self.D(fake, yf))
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        yg = random_labels(m, 10, self.device)
        g_loss = losses.g_loss_nonsaturating(self.D(self.G(self.noise(m), yg), yg))
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        if self.ema is not None:
            self.ema.update()
        return {"d_loss": float(d_loss.item()), "g_loss": float(g_loss.item())}

    def state_dict(self):
        state = super().state_dict()
        if self.ema is not None:
            state["ema_updates"] = self.ema.updates
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if self.ema is not None:
            self.ema.updates = int(state["ema_updates"])

    def sample_generators(self):
        """{label: G}, batch norm re-estimated for the final weights (on copies, so the
        checkpointed running statistics stay those of training); the EMA one first."""
        noise = _noise_sampler(self.config["z_dim"], self.device)
        gens = {}
        sources = ([("cgan_ema", self.ema.shadow)] if self.ema is not None else [])
        sources.append(("cgan", self.G))
        for label, src in sources:
            G = self._generator()
            G.load_state_dict(src.state_dict())
            recalibrate_batchnorm(_RandomLabels(G), noise)
            gens[label] = G
        return gens

    def generate(self, G, z, y, batch=500):
        """G(z, y) in eval mode as a host float32 array in [-1, 1]."""
        G.eval()
        out = []
        with no_grad():
            for i in range(0, z.shape[0], batch):
                out.append(backend.to_numpy(G(Tensor(z.data[i:i + batch]),
                                              labels_tensor(y[i:i + batch], self.device)).data))
        return np.clip(np.concatenate(out).astype(np.float32), -1.0, 1.0)

    def samples(self, n=N_SAMPLES):
        """n samples per generator, labels 0, 1, ..., 9, 0, 1, ... (also in labels.npy)."""
        self.sample_labels = np.arange(n, dtype=np.int64) % 10
        np.save(self.out / "labels.npy", self.sample_labels)
        z = _fixed_z(n, self.config["z_dim"], self.seed + SAMPLE_SEED_OFFSET, self.device)
        self.sample_modules = self.sample_generators()
        self.sample_images = {k: self.generate(G, z, self.sample_labels)
                              for k, G in self.sample_modules.items()}
        return self.sample_images

    def extra(self, scorer, report):
        from .. import plot_images as P
        t = time.perf_counter()
        for label, imgs in self.sample_images.items():
            pred = scorer.predict(imgs)
            agree = pred == self.sample_labels
            report[f"{label}_label_agreement"] = float(agree.mean())
            report[f"{label}_per_class_agreement"] = [
                float(agree[self.sample_labels == k].mean()) for k in range(10)]
            print(f"{label}: classifier agrees with the requested label on "
                  f"{agree.mean():.1%} of {len(agree)} samples (worst class "
                  f"{min(report[f'{label}_per_class_agreement']):.1%})")
        main = next(iter(self.sample_modules))
        G = self.sample_modules[main]
        rows = 8
        z = _fixed_z(rows, self.config["z_dim"], self.seed + 1, self.device)
        zz = Tensor(backend.as_array(np.repeat(backend.to_numpy(z.data), 10, axis=0),
                                     device=self.device))
        grid = self.generate(G, zz, np.tile(np.arange(10), rows))
        same = float((scorer.predict(grid) == np.tile(np.arange(10), rows)).mean())
        report["same_z_grid_agreement"] = same
        report["figures"].append(P.image_grid_figure(
            self.out / "same_z_every_label.png", grid, nrow=10,
            title=f"cGAN: same z per row, label 0-9 per column "
                  f"(classifier agrees on {same:.0%})"))
        report["extra_seconds"] = time.perf_counter() - t


register("cgan", CGANRun,
         dict(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, z_dim=32, g_width=32,
              d_width=32, ema=0.999),
         dict(steps=150))
