"""Stacked digits: mode collapse on images, measured (the Stacked-MNIST test of VEEGAN and
PacGAN, on the 8×8 digits).

An image is three independently drawn digits stacked as three channels, so the data has
10 × 10 × 10 = 1000 equally likely *modes* (the triple of classes). A generator that covers
the data covers all 1000 with the frequencies uniform; a collapsing one misses modes or
over-produces some. We classify each channel of N generated images with the digit classifier
(``minigan.evaluation.scoring``), and report

* modes covered: triples that occur at least once among N samples (out of 1000),
* KL(mode histogram || uniform over 1000) in nats,

next to the same numbers for N real stacked images (a finite sample of the data does not
reach 1000 or KL 0 either), for two models trained side by side on the same budget:

* ``dcgan``: DCGAN on 3-channel images (``dcgan_pair(channels=3)``), non-saturating loss;
* ``pacgan2``: the same G, with PacGAN's remedy (Lin et al. 2018): D judges *packs* of two
  samples concatenated along the channel axis (6 channels), so a G that repeats itself is
  easy to spot (two near-identical fakes in one pack look unlike two independent real ones).
  D sees ``batch_size`` packs (so 2 × batch_size samples) per step, as in the paper.
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...gan import losses
from ...gan.sampling import (
    SAMPLE_SEED_OFFSET,
    fixed_z,
    generate,
    noise_sampler,
    recalibrate_batchnorm,
)
from ...serialization import save_array
from .base import ImageRun

__all__ = ["StackedRun", "mode_scores", "stack_digits"]

np = backend.np      # host-side mode counting; the maths is in the engine
MODELS = ("dcgan", "pacgan2")


def stack_digits(x, n, rng):
    """n stacked images (n, 3, H, W) from single digits x (M, 1, H, W), each channel an
    independent uniform draw (host arrays)."""
    idx = rng.integers(0, len(x), size=(n, 3))
    return np.concatenate([x[idx[:, c]] for c in range(3)], axis=1)


def mode_scores(scorer, stacked):
    """Classify each channel of (N, 3, H, W) images: modes covered (of 1000) and
    KL(mode histogram || uniform) in nats."""
    n = len(stacked)
    labels = scorer.predict(stacked.reshape(n * 3, 1, *stacked.shape[2:])).reshape(n, 3)
    modes = labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]
    hist = np.bincount(modes, minlength=1000) / n
    nz = hist > 0
    kl = float((hist[nz] * np.log(hist[nz] * 1000)).sum())
    return {"modes_covered": int(nz.sum()), "kl_modes_uniform": kl}


class StackedRun(ImageRun):
    """DCGAN and PacGAN2 trained side by side on stacked digits (one step of each per step)."""

    name = "stacked"
    defaults = dict(steps=2500, batch_size=64, lr=2e-4, beta1=0.5, z_dim=32, g_width=32, d_width=32,
                    mode_samples=10000)
    quick = dict(steps=100, mode_samples=2000)

    def _pair(self, pack):
        from ...gan.models.dcgan import DCGANDiscriminator, DCGANGenerator
        c = self.config
        G = DCGANGenerator(c["z_dim"], self.size, c["g_width"], channels=3)
        D = DCGANDiscriminator(self.size, c["d_width"], channels=3 * pack)
        if self.device is not None:
            G.to(self.device)
            D.to(self.device)
        return G, D

    def build(self):
        c = self.config
        self.modules, self.optims, self.packs = {}, {}, {"dcgan": 1, "pacgan2": 2}
        betas = (c["beta1"], 0.999)
        for name in MODELS:
            G, D = self._pair(self.packs[name])
            self.modules[f"G_{name}"], self.modules[f"D_{name}"] = G, D
            self.optims[f"G_{name}"] = optim.Adam(G.parameters(), lr=c["lr"], betas=betas)
            self.optims[f"D_{name}"] = optim.Adam(D.parameters(), lr=c["lr"], betas=betas)
        self.x_single = backend.to_numpy(self.data["x_train"].array)
        self.noise = noise_sampler(c["z_dim"], self.device)

    def _real(self, n):
        idx = backend.generator("cpu").integers(0, len(self.x_single), size=(n, 3))
        x = np.concatenate([self.x_single[idx[:, c]] for c in range(3)], axis=1)
        return Tensor(backend.as_array(x, device=self.device))

    @staticmethod
    def _packed(x, pack):
        n, c, h, w = x.shape
        return x.reshape(n // pack, c * pack, h, w) if pack > 1 else x

    def train_step(self):
        m = self.config["batch_size"]
        out = {}
        for name in MODELS:
            G, D, pack = self.modules[f"G_{name}"], self.modules[f"D_{name}"], self.packs[name]
            n = m * pack             # m packs of `pack` samples (as in the PacGAN paper)
            x = self._real(n)
            with no_grad():
                fake = G(self.noise(n))
            d_loss = losses.d_loss_minimax(D(self._packed(x, pack)), D(self._packed(fake, pack)))
            out[f"d_{name}"] = self.finite(d_loss, f"{name} discriminator")
            self.optims[f"D_{name}"].zero_grad()
            d_loss.backward()
            self.optims[f"D_{name}"].step()
            g_loss = losses.g_loss_nonsaturating(D(self._packed(G(self.noise(n)), pack)))
            out[f"g_{name}"] = self.finite(g_loss, f"{name} generator")
            self.optims[f"G_{name}"].zero_grad()
            g_loss.backward()
            self.optims[f"G_{name}"].step()
        return out

    def sample_generators(self):
        gens = {}
        for name in MODELS:
            G, _ = self._pair(1)
            G.load_state_dict(self.modules[f"G_{name}"].state_dict())
            gens[name] = recalibrate_batchnorm(G, self.noise)
        return gens

    def samples(self, n=None):
        """Per model, the digits of 1000 stacked samples as single images (3000×1×H×W): the
        usual scores then judge the digits; the modes are counted in ``extra``."""
        n_modes = self.config["mode_samples"]
        z = fixed_z(n_modes, self.config["z_dim"], self.seed + SAMPLE_SEED_OFFSET, self.device)
        self.sample_modules = self.sample_generators()
        self.stacked = {k: np.clip(generate(G, z), -1, 1) for k, G in self.sample_modules.items()}
        save_array(self.out / "samples_stacked.npy", self.stacked[MODELS[0]][:1000])
        return {f"stacked_{k}": v[:1000].reshape(-1, 1, *v.shape[2:])
                for k, v in self.stacked.items()}

    def extra(self, scorer, report):
        from ...plots import images as P2
        n = self.config["mode_samples"]
        rng = np.random.default_rng(self.seed + 4)
        real = stack_digits(scorer.x_test, n, rng)
        report["modes_real"] = mode_scores(scorer, real)
        line = [f"real ({n} stacked test digits): {report['modes_real']['modes_covered']} modes, "
                f"KL {report['modes_real']['kl_modes_uniform']:.3f}"]
        for k, v in self.stacked.items():
            report[f"modes_{k}"] = mode_scores(scorer, v)
            line.append(f"{k}: {report[f'modes_{k}']['modes_covered']} modes, KL "
                        f"{report[f'modes_{k}']['kl_modes_uniform']:.3f}")
        print(f"{self.name}: modes covered of 1000 and KL(mode hist || uniform) over {n} "
              "samples -- " + "; ".join(line))
        rows = {"real": real[:20]}
        rows.update({k: v[:20] for k, v in self.stacked.items()})
        report["figures"].append(P2.rgb_rows_figure(
            self.out / "stacked_samples.png", rows,
            title="stacked digits (3 digits as RGB): " + "; ".join(line)))
