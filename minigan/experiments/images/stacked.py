"""Stacked MNIST: mode collapse on images, measured (Metz et al. 2017; VEEGAN; PacGAN).

An image is three independently drawn digits stacked as three channels, so the data has
10 × 10 × 10 = 1000 equally likely *modes* (the triple of classes). A generator that covers
the data covers all 1000 with the frequencies uniform; a collapsing one misses modes or
over-produces some. We classify each channel of N generated images with the digit classifier
(``minigan.evaluation.scoring``), and report

* modes covered: triples that occur at least once among N samples (out of 1000),
* KL(mode histogram || uniform over 1000) in nats,

next to the same numbers for N real stacked images (a finite sample of the data does not
reach 1000 or KL 0 either: with N = 26 000 the histogram's own noise is about
(1000 - 1) / (2 N) ≈ 0.02 nats) and next to the published rows (PacGAN, Lin et al. 2018,
Table 2, 26 000 samples, ``PUBLISHED``).

One run trains one ``method`` (a name of ``minigan.gan.remedies.METHODS``):

* ``nsgan`` (the default on 28×28 MNIST, with R1): the plain DCGAN on 3-channel images,
  non-saturating loss;
* ``pacgan`` (the default on the 8×8 digits): the same G, with PacGAN's remedy (Lin et al.
  2018): D judges *packs* of ``pack`` samples concatenated along the channel axis
  (3·pack channels), so a G that repeats itself is easy to spot (near-identical fakes in one
  pack look unlike independent real ones). D sees ``batch_size`` packs (``pack`` ×
  ``batch_size`` samples) per step, as in the paper;
* ``minibatch``: the plain DCGAN whose D ends in Salimans et al.'s minibatch
  discrimination (``nn.MinibatchDiscrimination``, ``mbd_kernels`` × ``mbd_dims``): each
  sample also gets, per kernel, how close it is to the rest of its batch. A class that G
  over-produces crowds its fake batches, which a per-sample D cannot see and this D can.

All keep a moving average of G's weights (``ema``, see ``base``): G's class frequencies
swing from step to step as D chases whatever G over-produces; the average of the weights
averages those swings out, which is what the KL measures. Each can add Mescheder et al.'s
R1 penalty on D's gradient at real images (``r1_gamma``; ``losses.r1_penalty``), which on
stacked MNIST did more for the mode count than packing (docs/results/stacked_mnist.md).

PacGAN on the same budget: ``run_images("stacked", data="mnist", method="pacgan",
batch_size=32)`` (32 packs of 2: the same 64 images a step).
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...gan import losses
from ...gan.remedies import METHODS
from ...gan.sampling import (
    SAMPLE_SEED_OFFSET,
    fixed_z,
    generate,
    noise_sampler,
    recalibrate_batchnorm,
)
from .base import N_SAMPLES, ImageRun

__all__ = ["StackedRun", "mode_scores", "label_scores", "stack_digits", "PUBLISHED",
           "STACKED_METHODS"]

np = backend.np      # host-side mode counting; the maths is in the engine

STACKED_METHODS = ("nsgan", "pacgan", "minibatch")   # the METHODS this run implements
# PacGAN (Lin et al. 2018) Table 2: stacked MNIST, 26 000 samples -> (modes of 1000, KL)
PUBLISHED = {"DCGAN": (99, 3.40), "Unrolled GAN": (48.7, 4.32), "VEEGAN": (150, 2.95),
             "PacDCGAN2": (1000, 0.06), "PacDCGAN4": (1000, 0.07)}


def stack_digits(x, n, rng):
    """n stacked images (n, 3, H, W) from single digits x (M, 1, H, W), each channel an
    independent uniform draw (host arrays)."""
    idx = rng.integers(0, len(x), size=(n, 3))
    return np.concatenate([x[idx[:, c]] for c in range(3)], axis=1)


def mode_scores(scorer, stacked):
    """Classify each channel of (N, 3, H, W) images: modes covered (of 1000) and
    KL(mode histogram || uniform) in nats; also the worst channel's KL(class histogram ||
    uniform over 10), which says whether the KL comes from one channel's class balance."""
    n = len(stacked)
    if n == 0 or np.ndim(stacked) != 4 or np.shape(stacked)[1] != 3:
        raise ValueError(f"mode_scores: need stacked images (N, 3, H, W), got "
                         f"{np.shape(stacked)}")
    labels = scorer.predict(stacked.reshape(n * 3, 1, *stacked.shape[2:])).reshape(n, 3)
    return label_scores(labels)


def label_scores(labels):
    """``mode_scores`` from the classes already predicted for each channel, (N, 3) ints."""
    labels = np.asarray(labels)
    n = len(labels)
    modes = labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]
    hist = np.bincount(modes, minlength=1000) / n
    nz = hist > 0
    kl = float((hist[nz] * np.log(hist[nz] * 1000)).sum())
    per_channel = []
    for c in range(3):
        h = np.bincount(labels[:, c], minlength=10) / n
        per_channel.append(float((h[h > 0] * np.log(h[h > 0] * 10)).sum()))
    return {"modes_covered": int(nz.sum()), "kl_modes_uniform": kl,
            "kl_channel_max": max(per_channel)}


def method_label(method, pack):
    """The published row's name for a run: DCGAN, PacDCGAN<pack>, or DCGAN + minibatch
    discrimination."""
    if method == "pacgan":
        return f"PacDCGAN{pack}"
    return "DCGAN + minibatch discr." if method == "minibatch" else "DCGAN"


class StackedRun(ImageRun):
    """A DCGAN (``method="nsgan"``) or a PacDCGAN (``"pacgan"``) on stacked digits."""

    name = "stacked"
    defaults = dict(method="pacgan", pack=2, steps=2500, batch_size=64, lr=2e-4, beta1=0.5,
                    z_dim=32, g_width=32, d_width=32, ema=0.999, mode_samples=10000,
                    r1_gamma=0.0, r1_every=4, mbd_kernels=100, mbd_dims=5)
    # checkpoints from before R1 was a setting were trained without it; those from before
    # the minibatch method were not trained with it, so its sizes cannot matter to them
    SETTINGS_BEFORE = dict(r1_gamma=0.0, r1_every=4, mbd_kernels=100, mbd_dims=5)
    quick = dict(steps=100, mode_samples=2000)
    # 28×28 (MNIST): 26 000 samples as in the published table. The method is the single-digit
    # DCGAN's recipe (R1 γ 1 every 4th D step, Adam 3.2e-3 constant, EMA 0.999) on the plain
    # DCGAN with 64 samples a step, width 32, z of 64, 6000 steps. In the seed-0 pilot the
    # mode KL fell with the steps (0.45 at 1500, 0.24 at 3000, 0.18 at 6000); the default
    # run covered 1000 modes with KL 0.167-0.178 in seeds 0-2, against 999-1000 and 0.27-0.31
    # for the earlier default (width 48, 2200 steps, Adam 1.2e-3, EMA 0.99). The price: 7.5
    # minutes on two idle cores, but 640-682 s on one busy core (the earlier default kept
    # under 10 minutes there). PacDCGAN2 with the earlier default's R1 and rate covered 992
    # modes, KL 0.50; both methods without R1 (lr 3e-4, EMA 0.999) 919-943, KL 0.72-0.89
    # (docs/results/stacked_mnist.md). method="minibatch" (100 kernels) lowers the KL
    # by 36-53 % in seeds 0-2 (0.079-0.114 at 6000 steps) but takes 1.6-1.7x the time, over
    # the budget, so it is an option, not the default.
    size28 = dict(steps=6000, g_width=32, d_width=32, z_dim=64, method="nsgan", batch_size=64,
                  lr=3.2e-3, ema=0.999, r1_gamma=1.0, r1_every=4, mode_samples=26000)

    def build(self):
        from ...gan.ema import EMA
        c = self.config
        if c["method"] not in STACKED_METHODS:
            known = ", ".join(f"{k} ({METHODS[k][1]})" for k in STACKED_METHODS)
            raise ValueError(f"stacked: method {c['method']!r} is not implemented for stacked "
                             f"digits; choose from {known}")
        self.pack = int(c["pack"]) if c["method"] == "pacgan" else 1
        if self.pack < 1:
            raise ValueError(f"stacked: pack must be >= 1, got {c['pack']}")
        self.mbd_kernels = int(c["mbd_kernels"]) if c["method"] == "minibatch" else 0
        if c["method"] == "minibatch" and self.mbd_kernels < 1:
            raise ValueError(f"stacked: minibatch discrimination needs mbd_kernels >= 1, got "
                             f"{c['mbd_kernels']}")
        self.label = method_label(c["method"], self.pack)
        self.G, self.D = self._generator(), self._discriminator()
        betas = (c["beta1"], 0.999)
        self.modules = {"G": self.G, "D": self.D}
        self.optims = {"G": optim.Adam(self.G.parameters(), lr=c["lr"], betas=betas),
                       "D": optim.Adam(self.D.parameters(), lr=c["lr"], betas=betas)}
        self.ema = EMA(self.G, self._generator(), c["ema"]) if c.get("ema") else None
        self.x_single = backend.to_numpy(self.data["x_train"].array)
        self.noise = noise_sampler(c["z_dim"], self.device)
        self.r1 = losses.LazyR1(c.get("r1_gamma") or 0.0, c["r1_every"])   # on D, lazily

    def _generator(self):
        from ...gan.models.dcgan import DCGANGenerator
        c = self.config
        return self.on_device(DCGANGenerator(c["z_dim"], self.size, c["g_width"], channels=3))

    def _discriminator(self):
        from ...gan.models.dcgan import DCGANDiscriminator
        c = self.config
        # PacGAN: the pack's samples side by side along the channel axis
        return self.on_device(DCGANDiscriminator(self.size, c["d_width"], channels=3 * self.pack,
                                                 minibatch_kernels=self.mbd_kernels,
                                                 kernel_dims=int(c["mbd_dims"])))

    def _real(self, n):
        """n real stacked images, drawn with minigan's seeded (checkpointed) CPU generator."""
        x = stack_digits(self.x_single, n, backend.generator("cpu"))
        return Tensor(backend.as_array(x, device=self.device))

    def _packed(self, x):
        n, c, h, w = x.shape
        return x.reshape(n // self.pack, c * self.pack, h, w) if self.pack > 1 else x

    def train_step(self):
        c = self.config
        n = c["batch_size"] * self.pack   # batch_size packs of `pack` samples
        x = self._real(n)
        r1 = self.r1.due(self.step)
        if r1:
            x = x.requires_grad_(True)
        with no_grad():
            fake = self.G(self.noise(n))
        real_out = self.D(self._packed(x))
        d_loss = losses.d_loss_minimax(real_out, self.D(self._packed(fake)))
        if r1:
            d_loss = d_loss + self.r1(real_out, x)
        out = {"d_loss": self.finite(d_loss, "discriminator")}
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        g_loss = losses.g_loss_nonsaturating(self.D(self._packed(self.G(self.noise(n)))))
        out["g_loss"] = self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        return out

    def sample_generators(self):
        """The EMA generator when kept (else the trained one), batch norm re-estimated for
        its final weights on a copy (the checkpoint's running statistics stay as they are)."""
        G = self._generator()
        G.load_state_dict((self.ema.shadow if self.ema is not None else self.G).state_dict())
        tag = "_ema" if self.ema is not None else ""
        return {f"stacked_{self.config['method']}{tag}": (recalibrate_batchnorm(G, self.noise),
                                                           self.config["z_dim"])}

    @property
    def n_samples(self):
        """samples.npy holds every sample the modes are counted on."""
        return self.config["mode_samples"]

    def samples(self, n=None):
        """``mode_samples`` stacked images (N, 3, H, W) in [-1, 1] from the final generator
        (they go to samples.npy; ``n`` is ignored: the mode count needs them all)."""
        label, (G, z_dim) = next(iter(self.sample_generators().items()))
        z = fixed_z(self.config["mode_samples"], z_dim, self.seed + SAMPLE_SEED_OFFSET,
                    self.device)
        self.sample_modules = {label: G}
        self.stacked = np.clip(generate(G, z), -1, 1)
        return {label: self.stacked}

    @staticmethod
    def scoring_view(images):
        """What the single-digit scores judge: the channels of the first N_SAMPLES / 3
        stacked images as (N, 1, H, W) digits."""
        k = -(-N_SAMPLES // 3)
        return images[:k].reshape(-1, 1, *images.shape[2:])

    def extra(self, scorer, report):
        from ...plots import images as P2
        n = len(self.stacked)
        # N real stacked held-out digits: each digit is classified once, and a stacked
        # image's classes are its three digits' (the same as classifying the stacks)
        idx = np.random.default_rng(self.seed + 4).integers(0, len(scorer.x_test), (n, 3))
        report["modes_real"] = label_scores(scorer.predict(scorer.x_test)[idx])
        real = np.concatenate([scorer.x_test[idx[:20, c]] for c in range(3)], axis=1)
        report["modes"] = mode_scores(scorer, self.stacked)
        report["method"] = self.label
        rows = [(f"real ({n} stacked held-out digits)", report["modes_real"]),
                (f"{self.label} (minigan, seed {self.seed}, {self.step} steps)",
                 report["modes"])]
        print(format_modes(rows, n))
        report["figures"].append(P2.rgb_rows_figure(
            self.out / "stacked_samples.png",
            {"real": real, self.label: self.stacked[:20]},
            title=f"stacked digits (3 digits as RGB): {self.label} "
                  f"{report['modes']['modes_covered']} modes, KL "
                  f"{report['modes']['kl_modes_uniform']:.3f}; real "
                  f"{report['modes_real']['modes_covered']}, "
                  f"{report['modes_real']['kl_modes_uniform']:.3f}"))


def format_modes(rows, n):
    """A table of modes covered and KL for measured rows ([(label, mode_scores)]), the
    published rows of PacGAN's Table 2 below them."""
    w = max([44] + [len(label) for label, _ in rows])     # the label column fits the longest
    lines = [f"stacked digits, {n} samples: modes covered (of 1000), KL(mode histogram || "
             "uniform) in nats, worst channel's KL(class histogram || uniform over 10)",
             f"{'':<{w}s} {'modes':>7s} {'KL':>7s} {'channel KL':>11s}"]
    for label, s in rows:
        lines.append(f"{label:<{w}s} {s['modes_covered']:>7d} {s['kl_modes_uniform']:>7.3f} "
                     f"{s['kl_channel_max']:>11.4f}")
    for label, (modes, kl) in PUBLISHED.items():
        lines.append(f"{'published (PacGAN Table 2): ' + label:<{w}s} {modes:>7g} {kl:>7.2f}")
    return "\n".join(lines)
