"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y), both told the class y.

Lecture notes 001/004, "conditional image generation": feed the label to *both* players.
G then has to produce a digit that D accepts *as a y*; D rejects a perfect 3 that was
presented as a 7. The generator learns p(x | y), and at sampling time we choose y.

The label enters each network through a learned lookup table (``nn.Embedding``); the
networks are in ``minigan.gan.models.conditional``.

Measured: the classifier of ``minigan.evaluation.scoring`` agrees with the *requested* label on the
samples (the headline score), and the grid "same z, every label" shows style (slant, stroke
width) held by z while the class changes with y.
"""
from __future__ import annotations

import time

from ... import backend, nn
from ...autograd import Tensor, no_grad
from ...data.images import labeled_batches, labels_tensor, random_labels
from ...gan import losses
from ...gan.ema import EMA
from ...gan.models.conditional import ConditionalDiscriminator, ConditionalGenerator
from ...gan.sampling import (
    SAMPLE_SEED_OFFSET,
    fixed_z,
    noise_sampler,
    recalibrate_batchnorm,
)
from ...serialization import save_array
from .base import N_SAMPLES, ImageRun

__all__ = ["CGANRun"]

np = backend.np      # host-side bookkeeping (labels.npy, agreement); the maths is in the engine


class _RandomLabels(nn.Module):
    """z -> G(z, random y): lets ``recalibrate_batchnorm`` drive a conditional generator."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G(z, random_labels(z.shape[0], self.G.classes, z.device))


class CGANRun(ImageRun):
    """Conditional DCGAN, non-saturating loss, Adam 2e-4 β1 0.5, EMA of G (as DCGANRun)."""

    name = "cgan"
    defaults = dict(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, z_dim=32,
                    g_width=32, d_width=32, ema=0.999)
    quick = dict(steps=150)

    def _generator(self):
        c = self.config
        return self.on_device(ConditionalGenerator(c["z_dim"], self.size, c["g_width"]))

    def build(self):
        c = self.config
        self.adversarial_pair(self._generator(), ConditionalDiscriminator(self.size, c["d_width"]),
                              betas=(c["beta1"], 0.999))
        self.ema = EMA(self.G, self._generator(), c["ema"]) if c.get("ema") else None
        self.real = labeled_batches(self.data["x_train"], self.data["y_train"])
        self.noise = noise_sampler(c["z_dim"], self.device)

    def train_step(self):
        m = self.config["batch_size"]
        x, y = self.real(m)
        yf = random_labels(m, 10, self.device)
        with no_grad():
            fake = self.G(self.noise(m), yf)
        d_loss = losses.d_loss_minimax(self.D(x, y), self.D(fake, yf))
        d_value = self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        yg = random_labels(m, 10, self.device)
        g_loss = losses.g_loss_nonsaturating(self.D(self.G(self.noise(m), yg), yg))
        g_value = self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        return {"d_loss": d_value, "g_loss": g_value}

    def sample_generators(self):
        """{label: G}, batch norm re-estimated for the final weights (on copies, so the
        checkpointed running statistics stay those of training); the EMA one first."""
        noise = noise_sampler(self.config["z_dim"], self.device)
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
                out.append(backend.to_numpy(G(Tensor(z.array[i:i + batch]),
                                              labels_tensor(y[i:i + batch], self.device)).array))
        return np.clip(np.concatenate(out).astype(np.float32), -1.0, 1.0)

    def samples(self, n=N_SAMPLES):
        """n samples per generator, labels 0, 1, ..., 9, 0, 1, ... (also in labels.npy)."""
        self.sample_labels = np.arange(n, dtype=np.int64) % 10
        save_array(self.out / "labels.npy", self.sample_labels)
        z = fixed_z(n, self.config["z_dim"], self.seed + SAMPLE_SEED_OFFSET, self.device)
        self.sample_modules = self.sample_generators()
        self.sample_images = {k: self.generate(G, z, self.sample_labels)
                              for k, G in self.sample_modules.items()}
        return self.sample_images

    def extra(self, scorer, report):
        from ...plots import images as P
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
        z = fixed_z(rows, self.config["z_dim"], self.seed + 1, self.device)
        zz = Tensor(backend.as_array(np.repeat(backend.to_numpy(z.array), 10, axis=0),
                                     device=self.device))
        grid = self.generate(G, zz, np.tile(np.arange(10), rows))
        same = float((scorer.predict(grid) == np.tile(np.arange(10), rows)).mean())
        report["same_z_grid_agreement"] = same
        report["figures"].append(P.image_grid_figure(
            self.out / "same_z_every_label.png", grid, nrow=10,
            title=f"cGAN: same z per row, label 0-9 per column "
                  f"(classifier agrees on {same:.0%})"))
        report["extra_seconds"] = time.perf_counter() - t
