"""A small StyleGAN on 28×28 MNIST: the mapping network, AdaIN, noise, style mixing,
truncation (``minigan.gan.models.stylegan``), trained like the DCGAN.

For a fair comparison with the DCGAN it uses the DCGAN's discriminator, objective (non-
saturating), its 28×28 training recipe (R1, Adam 1.6e-3, β1 0.5), batch size, step count and
moving average of G: only the generator differs. What it measures beyond the digit scores
every image run prints:

* **style mixing**: images whose coarse styles (the 7×7 layers) come from one w and the rest
  from another; the classifier says whose *class* the mixture has (the coarse source's if the
  coarse layers decide the shape);
* **truncation**: ψ from 1 to 0, the Fréchet distance and the classes covered at each ψ
  (quality against variety);
* **path length** in z (spherical interpolation) and in w (linear), in the classifier's
  feature space (``evaluation.path_length``).
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...data.images import batch_sampler, load_image_data
from ...gan.sampling import SAMPLE_SEED_OFFSET, fixed_z, noise_sampler
from .base import ImageRun
from .dcgan import DCGANRun

__all__ = ["StyleGANRun", "TRUNCATIONS"]

np = backend.np

TRUNCATIONS = (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)
COARSE = 2                     # the styles of the 7×7 layers


class StyleGANRun(ImageRun):
    """StyleGenerator against DCGAN's discriminator, Algorithm 1 (``GANTrainer``), EMA of G."""

    name = "stylegan"
    # The DCGAN's 28×28 recipe as it was when this run was measured (R1 γ 1 every 4th D step,
    # Adam 1.6e-3, EMA 0.99), so that next to the DCGAN only the generator differs (1500-step
    # runs in docs/results/image_to_image.md). The DCGAN has since moved to 3.2e-3; here that
    # rate gave a worse mean Fréchet distance over seeds 0-4 (3.00 against 2.78) and weaker
    # style separation in all five, so the StyleGAN keeps 1.6e-3. Synthesis widths
    # 8g, 4g, g at 7, 14, 28 pixels: with g = 8 a forward and backward pass of G costs about
    # what the DCGAN's G does (0.17 against 0.14 s, batch 64, one core; g = 16 doubles it),
    # but a whole step 0.34 s against 0.13 (G runs twice a step, and its many small layers
    # cost more than their arithmetic): 1500 steps, not the DCGAN's 2000, fit 10 minutes.
    # The mapping network starts with Kaiming's init (w as varied as z; nn.Linear's start left
    # w nearly constant, and the per-layer noise, not w, came to decide the digit) and learns
    # at 0.01 × G's rate, as in the paper (at G's own rate, with the Kaiming start, G collapsed
    # onto 5 classes). Seeds 0-4: Fréchet lower in all five (mean 2.80 against 3.43), and w
    # decides the digit in every seed: 285-374 of 500 style-mixing pairs differ in class (17-25
    # before in three of the five seeds), the mixture taking the coarse source's class in
    # 54-67 % of them.
    defaults = dict(steps=1500, batch_size=64, beta1=0.5, z_dim=64, w_dim=64, mapping_layers=4,
                    g_width=8, d_width=64, mixing_prob=0.9, objective="nsgan", path_pairs=500,
                    n_samples=10000, sweep_samples=1000, mapping_lr=0.01, noise_from=0,
                    const_init="ones", mapping_init="he", lr_g=1.6e-3, lr_d=1.6e-3, ema=0.99,
                    **{k: DCGANRun.size28[k] for k in ("r1_gamma", "r1_every")})
    # checkpoints from before these settings were trained without R1, with the mapping
    # network at G's learning rate and nn.Linear's init, and noise in every layer
    SETTINGS_BEFORE = dict(r1_gamma=0.0, r1_every=4, mapping_lr=1.0, noise_from=0,
                           const_init="ones", mapping_init="default")
    quick = dict(steps=20, path_pairs=50, n_samples=300, sweep_samples=200)

    @classmethod
    def load_data(cls, spec, device=None):
        """28×28 MNIST by default (the synthesis network's shapes are 7 -> 14 -> 28)."""
        if spec in (None, "digits"):
            spec = "mnist"
        data = load_image_data(spec, device)
        if data["size"] != 28:
            raise ValueError(f"stylegan is built for 28×28 images, not {data['size']}×"
                             f"{data['size']} ({spec})")
        return data

    def _generator(self):
        from ...gan.models.stylegan import StyleGenerator
        c = self.config
        g = c["g_width"]
        return self.on_device(StyleGenerator(c["z_dim"], c["w_dim"], c["mapping_layers"],
                                             (8 * g, 4 * g, g), mixing_prob=c["mixing_prob"],
                                             noise_from=c["noise_from"],
                                             const_init=c["const_init"],
                                             mapping_init=c["mapping_init"]))

    def build(self):
        from ...gan.models.dcgan import DCGANDiscriminator
        from ...gan.train import GANTrainer
        from ... import nn
        c = self.config
        self.G = self._generator()
        self.D = self.on_device(DCGANDiscriminator(self.size, c["d_width"]))
        self.D.net.apply(nn.init.dcgan_init)
        betas = (c["beta1"], 0.999)
        self.trainer = GANTrainer(
            self.G, self.D, optim.Adam(self._g_groups(), lr=c["lr_g"], betas=betas),
            optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas),
            data=batch_sampler(self.data["x_train"]), noise=noise_sampler(c["z_dim"], self.device),
            objective=c["objective"], batch_size=c["batch_size"], g_ema=c.get("ema") or 0.0,
            r1_gamma=c.get("r1_gamma") or 0.0, r1_every=c.get("r1_every") or 1,
            g_ema_copy=self._generator() if c.get("ema") else None, desc=self.name)
        self.ema = self.trainer.ema

    def _g_groups(self):
        """G's parameters for Adam: the mapping network's at ``mapping_lr`` × G's learning
        rate (StyleGAN's 0.01: a z -> w map that moves as fast as the synthesis layers can
        collapse w onto a point), the synthesis network's at G's rate."""
        c = self.config
        return [{"params": list(self.G.mapping.parameters()),
                 "lr": c["lr_g"] * float(c["mapping_lr"])},
                {"params": list(self.G.synthesis.parameters())}]

    @property
    def n_samples(self):
        """As many samples as the 28×28 DCGAN scores (10 000), fewer in --quick."""
        return int(self.config["n_samples"])

    @property
    def z_dim(self):
        return self.config["z_dim"]

    def sample_generators(self):
        gens = {}
        if self.ema is not None:
            gens["stylegan_ema"] = (self.ema.shadow, self.z_dim)
        gens["stylegan"] = (self.G, self.z_dim)
        return gens

    # -- rendering with fixed noise (the same per-layer noise images for every call)
    def render_styles(self, G, styles, noise_seed):
        """Images (host) from styles (N, n_styles, w_dim), the per-layer noise drawn from a
        stream seeded with ``noise_seed``, so two calls differ only by their styles."""
        G.eval()
        with no_grad(), backend.fork_rng(noise_seed):
            out = G.synthesis(Tensor(backend.as_array(styles, device=self.device)))
        return np.clip(backend.to_numpy(out.array), -1.0, 1.0).astype(np.float32)

    def map(self, G, z):
        G.eval()
        with no_grad():
            w = G.mapping(Tensor(backend.as_array(z, device=self.device)))
        return backend.to_numpy(w.array)

    def broadcast(self, G, w):
        return np.repeat(np.asarray(w)[:, None, :], G.n_styles, axis=1)

    def style_mixing(self, G, scorer, rows=5, cols=6, n=500):
        """The mixing grid: cell (i, j) has the coarse styles of column source j and the
        middle and fine ones of row source i. Returns (grid images, agreement numbers)."""
        seed = self.seed + SAMPLE_SEED_OFFSET + 11
        wa = self.map(G, backend.to_numpy(fixed_z(rows, self.z_dim, seed).array))
        wb = self.map(G, backend.to_numpy(fixed_z(cols, self.z_dim, seed + 1).array))
        noise = seed + 2
        src_a = self.render_styles(G, self.broadcast(G, wa), noise)
        src_b = self.render_styles(G, self.broadcast(G, wb), noise)
        styles = self.broadcast(G, np.repeat(wa, cols, axis=0))          # (rows*cols, L, d)
        styles[:, :COARSE] = self.broadcast(G, np.tile(wb, (rows, 1)))[:, :COARSE]
        mixed = self.render_styles(G, styles, noise)
        # a larger sample (n pairs) for the agreement numbers
        w1 = self.map(G, backend.to_numpy(fixed_z(n, self.z_dim, seed + 3).array))
        w2 = self.map(G, backend.to_numpy(fixed_z(n, self.z_dim, seed + 4).array))
        s = self.broadcast(G, w1)
        s[:, :COARSE] = self.broadcast(G, w2)[:, :COARSE]
        pred = {k: scorer.predict(self.render_styles(G, v, noise))
                for k, v in (("mixed", s), ("fine_src", self.broadcast(G, w1)),
                             ("coarse_src", self.broadcast(G, w2)))}
        differ = pred["fine_src"] != pred["coarse_src"]

        def share(source):      # of the pairs that differ, how often the mixture is `source`'s
            agree = pred["mixed"] == pred[source]
            return float(agree[differ].mean()) if differ.any() else float("nan")
        nums = {"mixing_pairs_of_different_class": int(differ.sum()),
                "mixing_class_from_coarse": share("coarse_src"),
                "mixing_class_from_fine": share("fine_src")}
        return src_a, src_b, mixed, nums

    def truncation_sweep(self, G, scorer, n=None):
        """{ψ: scores} and a few samples per ψ (same z and noise for every ψ)."""
        n = n or self.config["sweep_samples"]
        z = backend.to_numpy(fixed_z(n, self.z_dim, self.seed + SAMPLE_SEED_OFFSET).array)
        w = self.map(G, z)
        w_avg = backend.to_numpy(G.w_avg.array)
        res, rows = {}, {}
        for psi in TRUNCATIONS:
            imgs = self.render_styles(G, self.broadcast(G, w_avg + psi * (w - w_avg)),
                                      self.seed + 5)
            sc = scorer.score(imgs)
            res[psi] = {"frechet": float(sc["frechet"]), "coverage": int(sc["coverage"]),
                        "confidence": float(sc["confidence"])}
            rows[psi] = imgs[:10]
        return res, rows

    def path_lengths(self, G, scorer):
        """Path length in z (slerp) and in w (lerp), classifier features, same pairs."""
        from ...evaluation import latent
        from ...evaluation.path_length import path_length
        n, noise = self.config["path_pairs"], self.seed + 6
        za = backend.to_numpy(fixed_z(n, self.z_dim, self.seed + 7).array)
        zb = backend.to_numpy(fixed_z(n, self.z_dim, self.seed + 8).array)
        render_z = lambda z: self.render_styles(G, self.broadcast(G, self.map(G, z)), noise)  # noqa: E731
        render_w = lambda w: self.render_styles(G, self.broadcast(G, w), noise)  # noqa: E731
        pl_z, _ = path_length(render_z, scorer.features, za, zb, latent.slerp, seed=self.seed)
        pl_w, _ = path_length(render_w, scorer.features, self.map(G, za), self.map(G, zb),
                              latent.lerp, seed=self.seed)
        return {"path_length_z": pl_z, "path_length_w": pl_w}

    def extra(self, scorer, report):
        from ...plots import image_to_image as Q
        from ...plots import images as P
        G = next(iter(self.sample_modules.values()))      # the generator of samples.npy
        src_a, src_b, mixed, nums = self.style_mixing(G, scorer)
        report.update(nums)
        report["figures"].append(Q.style_mixing_figure(
            self.out / "style_mixing.png", src_a, src_b, mixed,
            title=f"coarse styles (7×7) from the top row, the rest from the left column: class "
                  f"of the top row's source in {nums['mixing_class_from_coarse']:.0%}"))
        sweep, rows = self.truncation_sweep(G, scorer)
        report["truncation"] = {str(k): v for k, v in sweep.items()}
        report["figures"].append(P.labelled_rows_figure(
            self.out / "truncation.png",
            {f"ψ={psi:g}\nF {sweep[psi]['frechet']:.1f}\n{sweep[psi]['coverage']} classes":
             rows[psi] for psi in TRUNCATIONS}, 10,
            title="truncation: w̄ + ψ(w - w̄), same z in each column"))
        report.update(self.path_lengths(G, scorer))
        print(f"{self.name}: style mixing -- for {nums['mixing_pairs_of_different_class']} pairs "
              f"whose sources differ in class, the mixture has the coarse source's class in "
              f"{nums['mixing_class_from_coarse']:.1%}, the fine source's in "
              f"{nums['mixing_class_from_fine']:.1%}")
        print(f"{self.name}: truncation " + "; ".join(
            f"ψ={p:g}: Fréchet {v['frechet']:.2f}, {v['coverage']} classes"
            for p, v in sweep.items()))
        print(f"{self.name}: path length (classifier features, ε=0.01) in z "
              f"{report['path_length_z']:.1f}, in w {report['path_length_w']:.1f}")
