"""DCGAN on digits as an image run: Algorithm 1 (``GANTrainer``) with an EMA of G, then
z-space walks, stroke-weight arithmetic and GAN inversion next to an autoencoder."""
from __future__ import annotations

import time

from ... import backend, optim
from ...autograd import Tensor
from ...data.images import batch_sampler
from ...gan.sampling import (
    SAMPLE_SEED_OFFSET,
    fixed_z,
    generate,
    noise_sampler,
    recalibrate_batchnorm,
)
from .base import N_SAMPLES, ImageRun

__all__ = ["DCGANRun", "CLASSIC_RECIPE", "TECHNIQUES", "TECHNIQUES_OFF"]

np = backend.np

# Salimans et al.'s improved techniques (``minigan.gan.techniques``) as settings of the run,
# each off by default; the value each takes when switched on by name (lesson 19, the CLI):
# feature matching on, D's real target 0.9, historical averaging λ, VBN in G, and B minibatch-
# discrimination kernels in D. λ = 1e-2 (untuned): Adam moves a weight by about lr = 2e-4 a
# step, so after a few hundred steps θ - θ̄ is ~0.05 and the pull 2λ(θ - θ̄) ~ 1e-3 is of the
# order of a weight's loss gradient; 1e-3 barely changed a run.
TECHNIQUES_OFF = dict(feature_matching=0, label_smoothing=0.0, historical_averaging=0.0,
                      virtual_batchnorm=0, minibatch_kernels=0)
TECHNIQUES = dict(feature_matching=1, label_smoothing=0.1, historical_averaging=1e-2,
                  virtual_batchnorm=1, minibatch_kernels=16)


# The classic recipe: the DCGAN paper's optimiser (Adam 2e-4, β1 0.5, no penalty on D) with the
# run's EMA of G and learning rates decaying over the second half; the 8×8 digits' default, and
# the 28×28 default before R1 (size28). Lessons 12, 13 and 18 teach with it (its G loss says
# nothing about sample quality, which is lesson 12's point), the techniques study measures on it.
CLASSIC_RECIPE = dict(lr_g=2e-4, lr_d=2e-4, beta1=0.5, ema=0.999, decay_from=0.5, final_lr=0.1,
                      r1_gamma=0.0, r1_every=1)


class DCGANRun(ImageRun):
    """DCGAN trained with Algorithm 1 (``GANTrainer``), optional EMA of G's weights."""

    name = "dcgan"
    # The 8×8 digits, not the 16×16 upsampled ones: the upsampling adds no information, and a
    # DCGAN step costs about 3× more at 16×16 (measured: 16 vs 54 ms per step, batch 64), so
    # 8×8 buys 3× more steps in the same 5 minutes. The DCGAN follows the paper (Adam 2e-4,
    # beta1 0.5, N(0, 0.02) init) with width 32 (one BLAS thread: about 17 ms a step on an
    # idle core), 10 000 steps, the learning rates decaying linearly to 10% over the second
    # half, and an EMA of G.
    defaults = dict(steps=10000, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, z_dim=32,
                    g_width=32, d_width=32, ema=0.999, objective="nsgan", decay_from=0.5,
                    final_lr=0.1, inversion_images=200, inversion_steps=300,
                    inversion_restarts=4, eval_every=0, eval_n=500, r1_gamma=0.0, r1_every=1,
                    **TECHNIQUES_OFF)
    # checkpoints from before R1 was a setting of the run were trained without it
    SETTINGS_BEFORE = dict(r1_gamma=0.0, r1_every=1)
    quick = dict(steps=150, inversion_images=40, inversion_steps=60, inversion_restarts=2)
    # 28×28 (MNIST): the classic layout z (100) -> 4w×7×7 -> 2w×14×14 -> 1×28×28, D mirrored,
    # with w = 32 (128 and 64 channels in G, 32 and 64 in D): at w = 64 (the benchmarks'
    # reference shapes) a step costs 2.3× more on one core (288 vs 128 ms, batch 64). At w = 32
    # a step takes 53-80 ms on two idle cores, so 6000 steps fit the 10-minute budget with
    # the evaluation (7 min 52 s measured). The inversion is smaller than on the 8×8 digits (each
    # step runs G at 28×28).
    # The recipe: the paper's Adam 2e-4 draws 7-8 classes after 3000 steps (Fréchet 3.4-3.8,
    # seed 0). An R1 penalty on D's gradient at real digits (Mescheder et al. 2018; γ = 1,
    # applied every 4th D step) keeps D smooth where the data is, and with it the learning
    # rate can rise 16× without the game blowing up: on seed 0, R1 alone 2.06, R1 + 4e-4 1.45,
    # + 8e-4 1.05, + 1.6e-3 0.91 (EMA of G, 10 classes); γ = 5 was worse (2.65), β1 = 0 made
    # no difference. Constant learning rates (decaying them slowed a run that is still
    # improving). A second round of seed-0 pilots took the rate to 3.2e-3 with an EMA of 0.999
    # (0.851 against 0.905; 6.4e-3 was worse, 0.931), and the ten held-out seeds 10-19 confirmed
    # it: Fréchet lower in 10 of 10 (mean 0.949 against 1.011), confidence higher in 10 of 10
    # (0.876 against 0.872). Then the budget: on seed 0 the Fréchet distance kept falling with
    # more steps at the same rate (3000: 0.86, 6000: 0.64, 9000: 0.55) and the confidence kept
    # rising, slowly (0.883, 0.894, 0.902), while a wider G or D, a batch of 128 or a decaying
    # rate did not help; so the default trains 6000 steps, the most that fit 10 minutes.
    # docs/results/mnist.md has the pilots and the held-out seeds.
    size28 = dict(z_dim=100, g_width=32, d_width=32, steps=6000, inversion_images=50,
                  inversion_steps=200, inversion_restarts=2, lr_g=3.2e-3, lr_d=3.2e-3,
                  r1_gamma=1.0, r1_every=4, decay_from=1.0, ema=0.999)

    def _pair(self):
        """A fresh (G, D) of this run's architecture, on its device."""
        from ...gan.models.dcgan import dcgan_pair
        c = self.config
        return dcgan_pair(self.size, z_dim=c["z_dim"], g_width=c["g_width"],
                          d_width=c["d_width"], device=self.device,
                          g_norm="virtual" if c.get("virtual_batchnorm") else "batch",
                          minibatch_kernels=int(c.get("minibatch_kernels") or 0))

    def build(self):
        from ...gan.train import GANTrainer
        c = self.config
        self.G, self.D = self._pair()
        betas = (c["beta1"], 0.999)
        opt_g = optim.Adam(self.G.parameters(), lr=c["lr_g"], betas=betas)
        opt_d = optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas)
        shadow = None
        if c.get("ema"):
            shadow, _ = self._pair()
        # Learning rates: constant, then (from decay_from of the planned steps) linearly down to
        # final_lr of the start at the planned end, and constant after it (resumed extra steps).
        horizon = int(c.get("steps_planned", c["steps"]))
        start = int(c.get("decay_from", 1.0) * horizon)
        final = float(c.get("final_lr", 1.0))

        def factor(t):
            if t <= start or horizon <= start:
                return 1.0
            return 1.0 - (1.0 - final) * min(1.0, (t - start) / (horizon - start))
        schedulers = [optim.lr_scheduler.LambdaLR(o, factor) for o in (opt_g, opt_d)]
        self.trainer = GANTrainer(
            self.G, self.D, opt_g, opt_d, data=batch_sampler(self.data["x_train"]),
            noise=noise_sampler(c["z_dim"], self.device), objective=c["objective"],
            batch_size=c["batch_size"], schedulers=schedulers, g_ema=c.get("ema") or 0.0,
            g_ema_copy=shadow, desc=self.name,
            label_smoothing=c.get("label_smoothing") or 0.0,
            feature_matching=bool(c.get("feature_matching")),
            historical_averaging=c.get("historical_averaging") or 0.0,
            r1_gamma=c.get("r1_gamma") or 0.0, r1_every=c.get("r1_every") or 1,
            metrics=(lambda tr: self.evaluate()) if c.get("eval_every") else None,
            metrics_every=c.get("eval_every") or 1)
        self.ema = self.trainer.ema
        # a learning curve on request (eval_every): the Fréchet distance of G and of its EMA
        # on fixed codes from their own stream, so measuring leaves training's RNG alone
        self.eval_z = fixed_z(c["eval_n"], c["z_dim"], self.seed + 7, self.device)

    def evaluate(self):
        """{"frechet": of G(fixed z), "frechet_ema": of the EMA of G} (train mode, as D sees
        G's samples in training), every ``eval_every`` steps into ``history["metrics"]``."""
        out = {"frechet": self.frechet_of(self.G, self.eval_z)}
        if self.ema is not None:
            out["frechet_ema"] = self.frechet_of(self.ema.shadow, self.eval_z)
        return out

    @property
    def z_dim(self):
        return self.config["z_dim"]

    def sample_generators(self):
        """The generators to sample, batch norm re-estimated for their final weights: the EMA
        one first (it writes samples.npy) when EMA is on."""
        noise = noise_sampler(self.z_dim, self.device)
        gens = {}
        if self.ema is not None:
            gens["dcgan_ema"] = (recalibrate_batchnorm(self.ema.shadow, noise), self.z_dim)
        # recalibrate a copy, so the training G's running stats stay those of the checkpoint
        G, _ = self._pair()
        G.load_state_dict(self.G.state_dict())
        gens["dcgan"] = (recalibrate_batchnorm(G, noise), self.z_dim)
        return gens

    def extra(self, scorer, report):
        from ...evaluation import latent as zspace
        from ...evaluation.inversion import invert
        from ...plots import images as P
        c = self.config
        G = next(iter(self.sample_modules.values()))     # the generator of samples.npy
        # z-space walks: rows from one random z to another, linear and spherical
        z0 = fixed_z(6, self.z_dim, self.seed + 1, self.device)
        z1 = fixed_z(6, self.z_dim, self.seed + 2, self.device)
        for method in ("lerp", "slerp"):
            grid = zspace.interpolation_grid(z0, z1, steps=10, method=method)
            imgs = generate(G, grid)
            p = scorer.probs(imgs)
            report[f"interp_{method}_confidence"] = float(p.max(1).mean())
            report["figures"].append(P.image_grid_figure(
                self.out / f"interpolation_{method}.png", imgs, nrow=10,
                title=f"DCGAN z-space walk ({method}): mean confidence "
                      f"{report[f'interp_{method}_confidence']:.3f}"))
        # vector arithmetic on stroke weight: bold a - thin a + thin b ≈ bold b
        arith = self.arithmetic(G, scorer, P)
        if "figure" in arith:
            report["figures"].append(arith.pop("figure"))
        report.update(arith)
        # inversion of held-out digits, next to an autoencoder's reconstructions if given
        n = min(c["inversion_images"], len(self.data["x_test"]))
        x = self.data["x_test"][:n]
        t = time.perf_counter()
        inv = invert(G, Tensor(backend.as_array(x, device=self.device)), z_dim=self.z_dim,
                     steps=c["inversion_steps"], restarts=c["inversion_restarts"],
                     seed=self.seed + 3)
        x_inv = backend.to_numpy(inv["images"].array).astype(np.float32)
        report["inversion_mse"] = float(inv["errors"].mean())
        report["inversion_agreement"] = float((scorer.predict(x_inv) == scorer.predict(x)).mean())
        report["inversion_seconds"] = time.perf_counter() - t
        rows = {"G(z*)": x_inv[:16]}
        if self.ae_reference is not None:
            rec = self.ae_reference.reconstruct(x)
            report["ae_recon_mse"] = float(((rec - x) ** 2).mean())
            report["ae_recon_agreement"] = float((scorer.predict(rec) == scorer.predict(x)).mean())
            rows["AE"] = rec[:16]
        report["figures"].append(P.reconstruction_figure(
            self.out / "inversion.png", x[:16], rows,
            title=f"GAN inversion: MSE {report['inversion_mse']:.3f}, same class "
                  f"{report['inversion_agreement']:.0%}"))

    ae_reference = None      # an AutoencoderRun whose reconstructions the inversion faces

    def arithmetic(self, G, scorer, P):
        """Pick bold and thin samples by ink (mean pixel value) within classes and do
        mean z(bold a) - mean z(thin a) + mean z(thin b): is the result a bold b?

        ``G`` is the generator to use (one of ``sample_generators()``), ``scorer`` the digit
        classifier, ``P`` ``minigan.plots.images``; writes ``arithmetic.png`` into ``self.out``
        and returns the measured numbers with the figure's path under ``"figure"``."""
        z = fixed_z(N_SAMPLES, self.z_dim, self.seed + SAMPLE_SEED_OFFSET, self.device)
        imgs = generate(G, z)
        zh = backend.to_numpy(z.array)
        labels = scorer.predict(imgs)
        ink = imgs.reshape(len(imgs), -1).mean(1)
        counts = np.bincount(labels, minlength=10)
        a, b = [int(c) for c in np.argsort(-counts)[:2]]    # the two most frequent classes
        k = 3
        if counts[a] < 2 * k or counts[b] < k:
            # a collapsed or barely trained G: too few samples of a second class to average
            return {"arithmetic": f"skipped: the two most frequent classes have only "
                                  f"{counts[a]} and {counts[b]} of {len(labels)} samples "
                                  f"(needs {2 * k} and {k})"}

        def pick(cls, bold, n=k):
            idx = np.flatnonzero(labels == cls)
            order = idx[np.argsort(ink[idx])]
            return order[-n:] if bold else order[:n]
        bold_a, thin_a, thin_b = pick(a, True), pick(a, False), pick(b, False)
        from ...evaluation import latent as zspace
        zr = zspace.vector_arithmetic(zh[bold_a], zh[thin_a], zh[thin_b])
        out = generate(G, Tensor(backend.as_array(zr[None].astype(zh.dtype),
                                                  device=self.device)))
        fig = P.arithmetic_figure(
            self.out / "arithmetic.png", imgs[bold_a], imgs[thin_a], imgs[thin_b], out[0],
            title=f"bold {a} - thin {a} + thin {b}")
        thin_b_ink = float(ink[thin_b].mean())
        res_ink = float(out.mean())
        # One sum is an anecdote: the same recipe on random triples drawn from the `pool`
        # boldest a, thinnest a and thinnest b gives a rate.
        pool, trials = max(k, min(10, counts[a] // 2, counts[b])), 20
        pools = pick(a, True, pool), pick(a, False, pool), pick(b, False, pool)
        rng = np.random.default_rng(self.seed + 11)
        sums = np.stack([zspace.vector_arithmetic(*(zh[rng.choice(q, k, replace=False)]
                                                    for q in pools)) for _ in range(trials)])
        outs = generate(G, Tensor(backend.as_array(sums.astype(zh.dtype), device=self.device)))
        return {"arithmetic": f"bold {a} - thin {a} + thin {b}",
                "arithmetic_class": int(scorer.predict(out)[0]),
                "arithmetic_ink_gain": res_ink - thin_b_ink,
                "arithmetic_expected_gain": float(ink[bold_a].mean() - ink[thin_a].mean()),
                "arithmetic_rate": float(np.mean(scorer.predict(outs) == b)),
                "arithmetic_trials": f"{trials} random triples from the {pool} boldest {a}, "
                                     f"thinnest {a} and thinnest {b}",
                "figure": fig}
