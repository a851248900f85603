"""Image runs on real digits: train an autoencoder, a VAE or a DCGAN, then measure it.

``python -m minigan images --model dcgan --out runs/dcgan`` (see ``minigan.commands.images``)
calls ``run_images``, which

1. loads the data (the 8×8 digits by default, ``digits16`` for the 16×16 upsampled ones,
   ``mnist:PATH`` for MNIST IDX files),
2. trains the model with a progress bar, checkpointing to ``OUT/checkpoint.npz`` (a resumed
   run continues the same run: models, optimizers, EMA weights, step and RNG state),
3. writes ``samples.npy`` (1000×1×H×W float32 in [-1, 1] from the final generator), sample
   grids and the model's figures (reconstructions; interpolations; GAN inversion; z-space
   arithmetic),
4. scores the samples with the cached digit classifier (``minigan.scoring``) and prints
   every score next to the real-vs-real baseline, and writes ``summary.json``.

Each model is an ``ImageRun`` subclass registered in ``RUNS``; a later model (a conditional
GAN, WGAN-GP, ...) is a new subclass with its own ``build``/``train``/``state_dict``/
``sampler`` and figures, and the command picks it up from ``RUNS``.

**Batch norm at sampling time.** DCGAN's generator has batch norm. In training it normalises
with the statistics of the *current* batch; at sampling time we want a fixed function of z
(``eval()`` mode, running statistics). The running averages, though, mix statistics from
generators of many past steps. So before sampling we *re-estimate* them for the final weights
with a cumulative average over a few dozen batches of fresh z (``recalibrate_batchnorm``):
cheap, and essential for the EMA generator, whose weights never ran a forward pass in
training.

**EMA of the generator** (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN
training"). GAN training does not converge to a point: G and D circle each other, and the
latest G carries the noise of the last few updates. An exponential moving average of G's
weights, theta_ema <- beta·theta_ema + (1-beta)·theta, averages that circling out. It costs
one extra copy of G and changes nothing in training; the run scores both generators.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import sys
import time

from .. import backend, nn, optim
from ..autograd import Tensor, no_grad
from .ema import EMA

__all__ = ["ImageRun", "DCGANRun", "AutoencoderRun", "VAERun", "RUNS", "run_images", "train_model",
           "load_image_data", "recalibrate_batchnorm", "EMA", "blas_threads", "DEFAULTS", "QUICK",
           "SIZE28"]

np = backend.np      # host-side bookkeeping only (samples.npy, JSON); the maths is in the engine

# The defaults. The 8×8 digits, not the 16×16 upsampled ones: the upsampling adds no
# information, and a DCGAN step costs about 3× more at 16×16 (measured: 16 vs 54 ms per step,
# batch 64), so 8×8 buys 3× more steps in the same 5 minutes. The DCGAN follows the paper (Adam
# 2e-4, beta1 0.5, N(0, 0.02) init) with width 32 (one BLAS thread: about 17 ms a step on an
# idle core), 10 000 steps, the learning rates decaying linearly to 10% over the second half,
# and an EMA of G. Scores measured with these settings are in the report.
DEFAULTS = {
    "dcgan": dict(steps=10000, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, z_dim=32,
                  g_width=32, d_width=32, ema=0.999, objective="nsgan", decay_from=0.5,
                  final_lr=0.1,
                  inversion_images=200, inversion_steps=300, inversion_restarts=4),
    "ae": dict(steps=3000, batch_size=64, lr=1e-3, z_dim=32, width=32),
    "vae": dict(steps=3000, batch_size=64, lr=1e-3, z_dim=16, width=32, recon_weight=2.0,
                beta=1.0),
}
# 28×28 (MNIST): the reference DCGAN shapes of the kernels issue (z 100, widths 64). Not tuned
# here (no MNIST files on the development machine): a starting point.
SIZE28 = {
    "dcgan": dict(z_dim=100, g_width=64, d_width=64, steps=2000),
    "ae": dict(width=64),
    "vae": dict(width=64),
}
QUICK = {
    "dcgan": dict(steps=150, inversion_images=40, inversion_steps=60, inversion_restarts=2),
    "ae": dict(steps=200),
    "vae": dict(steps=200),
}
N_SAMPLES = 1000
SAMPLE_SEED_OFFSET = 10_000     # samples use their own seed: a resumed run draws the same z


blas_threads = backend.blas_threads      # kept under this name: the images command uses it


# ------------------------------------------------------------------------------------- data
def load_image_data(spec="digits", device=None):
    """The training images for a run: a dict with ``x_train`` (a Tensor on ``device``),
    ``x_test``/``y_test`` (host arrays), ``size`` and ``name``.

    ``spec``: ``digits`` (8×8), ``digits16`` (16×16 upsampled) or ``mnist:PATH`` (a folder
    holding MNIST's IDX files, raw or .gz; the images are 28×28).
    """
    from .. import data as D
    spec = str(spec)
    if spec in ("digits", "digits8", "digits16"):
        size = 16 if spec == "digits16" else 8
        xtr, ytr = D.digits("train", size=size, as_tensor=False)
        xte, yte = D.digits("test", size=size, as_tensor=False)
        name = "digits16" if size == 16 else "digits"
    elif spec.startswith("mnist:"):
        xtr, ytr = D.mnist(spec[len("mnist:"):], "train", as_tensor=False)
        xte, yte = D.mnist(spec[len("mnist:"):], "test", as_tensor=False)
        size, name = xtr.shape[-1], spec
    else:
        raise ValueError(f"--data must be digits, digits16 or mnist:PATH, not {spec!r}")
    dtype = backend.get_default_dtype()
    return {"x_train": Tensor(backend.as_array(xtr.astype(dtype), device=device)),
            "y_train": ytr, "x_test": xte.astype(dtype), "y_test": yte, "size": int(size),
            "name": name}


def _batch_sampler(x):
    """n -> a batch of n training images drawn uniformly (without replacement within the
    batch) with minigan's CPU generator, so the checkpointed RNG state fixes the batches."""
    xp = backend.xp_of(x.data)
    count = x.shape[0]

    def sample(n):
        idx = backend.generator("cpu").choice(count, size=n, replace=n > count)
        if xp is not np:
            idx = xp.asarray(idx)
        return Tensor(x.data[idx])
    return sample


def _noise_sampler(z_dim, device):
    from .. import creation

    def sample(n):
        return creation.randn(n, z_dim, device=device)
    return sample


def _fixed_z(n, z_dim, seed, device=None):
    """n codes from their own seeded stream (independent of training's RNG)."""
    z = np.random.default_rng(seed).standard_normal((n, z_dim))
    return Tensor(backend.as_array(z.astype(backend.get_default_dtype()), device=device))


# ----------------------------------------------------------------------------- batch norm
def recalibrate_batchnorm(model, make_input, batches=40, batch_size=128):
    """Re-estimate every BatchNorm's running mean/variance for the model's current weights:
    a cumulative average (momentum=None) over ``batches`` forward passes in train mode, then
    ``eval()``. ``make_input(n)`` draws the inputs (z for a generator)."""
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    if not bns:
        model.eval()
        return model
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with no_grad():
        for _ in range(batches):
            model(make_input(batch_size))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()
    return model


def generate(model, z, batch=500):
    """G(z) in eval mode, in batches, as a host float32 array."""
    model.eval()
    out = []
    with no_grad():
        for i in range(0, z.shape[0], batch):
            out.append(backend.to_numpy(model(Tensor(z.data[i:i + batch])).data))
    return np.concatenate(out).astype(np.float32)


# ------------------------------------------------------------------------------- the runs
class ImageRun:
    """One model trained on one image dataset, with checkpoints in ``out``.

    Subclasses define ``build()``, ``train_steps(n, progress)``, ``state_dict()`` /
    ``load_state_dict()``, ``sample_generators()`` ({label: (module, z_dim)}, the first one
    writes samples.npy) and ``extra(scorer, report)`` for their own figures and numbers.
    """

    name = "?"

    def __init__(self, data, config, out, device=None, seed=0):
        self.data, self.config, self.out = data, dict(config), pathlib.Path(out)
        self.device, self.seed = device, seed
        self.size = data["size"]
        self.out.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.out / "checkpoint.npz"
        self.step = 0
        self.timings = {}
        backend.manual_seed(seed)
        self.build()

    # -- to be written by each model
    def build(self):
        raise NotImplementedError

    def train_steps(self, n, progress=None):
        raise NotImplementedError

    def state_dict(self):
        raise NotImplementedError

    def load_state_dict(self, state):
        raise NotImplementedError

    def sample_generators(self):
        raise NotImplementedError

    def extra(self, scorer, report):
        pass

    # -- shared
    def save(self):
        from .. import serialization
        state = self.state_dict()
        state["config_json"] = json.dumps(self.config)
        state["model_name"] = self.name
        serialization.save(state, self.checkpoint_path)

    def resume(self):
        from .. import serialization
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        state = serialization.load(self.checkpoint_path)
        if str(state.get("model_name")) != self.name:
            raise ValueError(f"--resume: {self.checkpoint_path} holds a {state.get('model_name')} "
                             f"run, not {self.name}")
        saved = json.loads(str(state["config_json"]))
        if "decay_from" in saved and saved.get("steps") != self.config.get("steps"):
            # the learning-rate schedule was planned for the first call's steps: keep it
            self.config["steps_planned"] = saved.get("steps_planned", saved["steps"])
            self.build()
        for key in ("z_dim", "width", "g_width", "d_width"):
            if key in saved and saved[key] != self.config.get(key):
                raise ValueError(f"--resume: the checkpoint was trained with {key}={saved[key]}, "
                                 f"this run asks for {self.config.get(key)}")
        self.load_state_dict(state)
        return self

    def _progress(self, progress):
        return progress if progress is not None else sys.stderr.isatty()

    def samples(self, n=N_SAMPLES):
        """{label: (n, 1, H, W) float32 host array} for every generator of the run."""
        out, self.sample_modules = {}, {}
        for label, (module, z_dim) in self.sample_generators().items():
            z = _fixed_z(n, z_dim, self.seed + SAMPLE_SEED_OFFSET, self.device)
            out[label] = np.clip(generate(module, z), -1.0, 1.0)
            self.sample_modules[label] = module
        return out


def _guard(value, what, step, path):
    if not math.isfinite(value):
        from .train import NonFiniteLossError
        kept = (f"the last good checkpoint {path} is kept" if os.path.exists(path)
                else "no checkpoint was written yet")
        raise NonFiniteLossError(f"the {what} loss became {value} at step {step}; training "
                                 f"stopped before applying that update and {kept}. Lower the "
                                 "learning rate.")
    return value


class AutoencoderRun(ImageRun):
    """A convolutional autoencoder trained on the L2 reconstruction error (Adam)."""

    name = "ae"
    model_cls = "Autoencoder"

    def build(self):
        from . import autoencoder
        c = self.config
        kwargs = dict(z_dim=c["z_dim"], size=self.size, width=c["width"])
        if self.model_cls == "VAE":
            kwargs.update(recon_weight=c["recon_weight"], beta=c["beta"])
        self.model = getattr(autoencoder, self.model_cls)(**kwargs)
        if self.device is not None:
            self.model.to(self.device)
        self.opt = optim.Adam(self.model.parameters(), lr=c["lr"])
        self.sample_batch = _batch_sampler(self.data["x_train"])
        self.history = {"step": [], "loss": [], "recon": [], "kl": []}

    def train_steps(self, n, progress=None):
        bar = None
        if self._progress(progress):
            from tqdm.auto import tqdm
            bar = tqdm(total=n, desc=self.name, unit="step", leave=False)
        self.model.train()
        ckpt_every = max(n // 4, 250)
        try:
            for _ in range(n):
                x = self.sample_batch(self.config["batch_size"])
                loss, parts = self.model.loss(x)
                _guard(float(loss.item()), self.name, self.step + 1, self.checkpoint_path)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                self.step += 1
                h = self.history
                h["step"].append(self.step)
                h["loss"].append(float(loss.item()))
                h["recon"].append(parts["recon"])
                h["kl"].append(parts.get("kl", 0.0))
                if bar is not None:
                    bar.update(1)
                    if self.step % 25 == 0:
                        bar.set_postfix(**{k: f"{v:.3f}" for k, v in parts.items()})
                if self.step % ckpt_every == 0:
                    self.save()
        finally:
            if bar is not None:
                bar.close()

    def state_dict(self):
        return {"step": self.step, "model": self.model.state_dict(),
                "optimizer": self.opt.state_dict(),
                "rng_json": json.dumps(backend.get_rng_state("cpu")),
                "history_json": json.dumps(self.history)}

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        backend.set_rng_state(json.loads(str(state["rng_json"])), "cpu")
        self.history = json.loads(str(state["history_json"]))
        self.step = int(state["step"])

    def _code_sampler(self):
        """z for samples: N(0, I) for the VAE (its prior); for the plain AE a Gaussian fitted
        to the training codes (mean and covariance), the best a prior-less AE can do."""
        if self.model.variational:
            return None
        codes = backend.to_numpy(self._encode(self.data["x_train"].data))
        mu, cov = codes.mean(0), np.cov(codes, rowvar=False)
        chol = np.linalg.cholesky(cov + 1e-5 * np.eye(len(mu)))
        return mu, chol

    def _encode(self, x):
        self.model.eval()
        with no_grad():
            return self.model.encode(Tensor(x)).data

    def samples(self, n=N_SAMPLES):
        eps = np.random.default_rng(self.seed + SAMPLE_SEED_OFFSET).standard_normal(
            (n, self.model.z_dim))
        fit = self._code_sampler()
        if fit is not None:
            eps = fit[0] + eps @ fit[1].T
        z = Tensor(backend.as_array(eps.astype(backend.get_default_dtype()), device=self.device))
        return {self.name: np.clip(generate(self.model.decoder, z), -1.0, 1.0)}

    def reconstruct(self, x):
        """x̂ = dec(enc(x)) (the mean code for the VAE) for host images x, as a host array."""
        self.model.eval()
        with no_grad():
            out = self.model(Tensor(backend.as_array(x, device=self.device)))
        return backend.to_numpy(out.data).astype(np.float32)

    def extra(self, scorer, report):
        from .. import metrics
        from .. import plot_images as P
        n = min(self.config.get("recon_images", 200), len(self.data["x_test"]))
        x = self.data["x_test"][:n]
        rec = self.reconstruct(x)
        report["recon_mse"] = float(((rec - x) ** 2).mean())
        agree = scorer.predict(rec) == scorer.predict(x)
        report["recon_agreement"] = float(agree.mean())
        report["recon_sharpness"] = metrics.sharpness(rec)
        report["test_sharpness"] = metrics.sharpness(x)
        report["figures"].append(P.reconstruction_figure(
            self.out / "reconstructions.png", x[:16], {self.name.upper(): rec[:16]},
            title=f"{self.name.upper()} reconstructions of held-out digits "
                  f"(MSE {report['recon_mse']:.3f})"))
        if self.model.variational:
            from .. import zspace
            z0 = _fixed_z(6, self.model.z_dim, self.seed + 1)
            z1 = _fixed_z(6, self.model.z_dim, self.seed + 2)
            grid = zspace.interpolation_grid(z0, z1, steps=10, method="slerp")
            imgs = generate(self.model.decoder, Tensor(backend.as_array(grid.data,
                                                                        device=self.device)))
            report["figures"].append(P.image_grid_figure(
                self.out / "interpolation_slerp.png", imgs, nrow=10,
                title="VAE: slerp between random z (rows)"))


class VAERun(AutoencoderRun):
    """A VAE: reparameterised Gaussian codes, loss = recon_weight·L2 + KL to N(0, I)."""

    name = "vae"
    model_cls = "VAE"


class DCGANRun(ImageRun):
    """DCGAN trained with Algorithm 1 (``GANTrainer``), optional EMA of G's weights."""

    name = "dcgan"

    def build(self):
        from .dcgan import dcgan_pair
        from .train import GANTrainer
        c = self.config
        self.G, self.D = dcgan_pair(self.size, z_dim=c["z_dim"], g_width=c["g_width"],
                                    d_width=c["d_width"], device=self.device)
        betas = (c["beta1"], 0.999)
        self.opt_g = optim.Adam(self.G.parameters(), lr=c["lr_g"], betas=betas)
        self.opt_d = optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas)
        self.ema = None
        callbacks = []
        if c.get("ema"):
            shadow, _ = dcgan_pair(self.size, z_dim=c["z_dim"], g_width=c["g_width"],
                                   d_width=c["d_width"], device=self.device)
            self.ema = EMA(self.G, shadow, c["ema"])
            callbacks.append(lambda trainer: self.ema.update())
        # Learning rates: constant, then (from decay_from of the planned steps) linearly down to
        # final_lr of the start at the planned end, and constant after it (resumed extra steps).
        horizon = int(c.get("steps_planned", c["steps"]))
        start = int(c.get("decay_from", 1.0) * horizon)
        final = float(c.get("final_lr", 1.0))

        def factor(t):
            if t <= start or horizon <= start:
                return 1.0
            return 1.0 - (1.0 - final) * min(1.0, (t - start) / (horizon - start))
        self.schedulers = [optim.lr_scheduler.LambdaLR(o, factor) for o in (self.opt_g, self.opt_d)]
        self.trainer = GANTrainer(
            self.G, self.D, self.opt_g, self.opt_d, data=_batch_sampler(self.data["x_train"]),
            noise=_noise_sampler(c["z_dim"], self.device), objective=c["objective"],
            batch_size=c["batch_size"], callbacks=callbacks, schedulers=self.schedulers)

    @property
    def z_dim(self):
        return self.config["z_dim"]

    def train_steps(self, n, progress=None):
        self.trainer.progress = self._progress(progress)
        self.trainer.checkpoint_path = None
        every = max(n // 4, 250)
        done = 0
        while done < n:                 # in chunks, saving between them (the bar per chunk)
            k = min(every, n - done)
            self.trainer.train(k)
            done += k
            self.step = self.trainer.step
            self.save()

    def state_dict(self):
        state = {"step": self.trainer.step, "trainer": self.trainer.state_dict()}
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state):
        self.trainer.load_state_dict(state["trainer"])
        if self.ema is not None:
            if "ema" not in state:
                raise ValueError("--resume: the checkpoint has no EMA weights (trained with "
                                 "--ema 0); resume with --ema 0")
            self.ema.load_state_dict(state["ema"])
        self.step = self.trainer.step

    def sample_generators(self):
        """The generators to sample, batch norm re-estimated for their final weights: the EMA
        one first (it writes samples.npy) when EMA is on."""
        noise = _noise_sampler(self.z_dim, self.device)
        gens = {}
        if self.ema is not None:
            gens["dcgan_ema"] = (recalibrate_batchnorm(self.ema.shadow, noise), self.z_dim)
        # recalibrate a copy, so the training G's running stats stay those of the checkpoint
        from .dcgan import dcgan_pair
        c = self.config
        G, _ = dcgan_pair(self.size, z_dim=c["z_dim"], g_width=c["g_width"],
                          d_width=c["d_width"], device=self.device)
        G.load_state_dict(self.G.state_dict())
        gens["dcgan"] = (recalibrate_batchnorm(G, noise), self.z_dim)
        return gens

    def extra(self, scorer, report):
        from .. import plot_images as P
        from .. import zspace
        from ..inversion import invert
        c = self.config
        G = next(iter(self.sample_modules.values()))     # the generator of samples.npy
        # z-space walks: rows from one random z to another, linear and spherical
        z0 = _fixed_z(6, self.z_dim, self.seed + 1, self.device)
        z1 = _fixed_z(6, self.z_dim, self.seed + 2, self.device)
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
        report["figures"].append(arith.pop("figure"))
        report.update(arith)
        # inversion of held-out digits, next to an autoencoder's reconstructions if given
        n = min(c["inversion_images"], len(self.data["x_test"]))
        x = self.data["x_test"][:n]
        t = time.perf_counter()
        inv = invert(G, Tensor(backend.as_array(x, device=self.device)), z_dim=self.z_dim,
                     steps=c["inversion_steps"], restarts=c["inversion_restarts"],
                     seed=self.seed + 3)
        x_inv = backend.to_numpy(inv["images"].data).astype(np.float32)
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
        classifier, ``P`` ``minigan.plot_images``; writes ``arithmetic.png`` into ``self.out``
        and returns the measured numbers with the figure's path under ``"figure"``."""
        z = _fixed_z(N_SAMPLES, self.z_dim, self.seed + SAMPLE_SEED_OFFSET, self.device)
        imgs = generate(G, z)
        zh = backend.to_numpy(z.data)
        labels = scorer.predict(imgs)
        ink = imgs.reshape(len(imgs), -1).mean(1)
        counts = np.bincount(labels, minlength=10)
        a, b = [int(c) for c in np.argsort(-counts)[:2]]    # the two most frequent classes
        k = 3

        def pick(cls, bold):
            idx = np.flatnonzero(labels == cls)
            order = idx[np.argsort(ink[idx])]
            return order[-k:] if bold else order[:k]
        bold_a, thin_a, thin_b = pick(a, True), pick(a, False), pick(b, False)
        from .. import zspace
        zr = zspace.vector_arithmetic(zh[bold_a], zh[thin_a], zh[thin_b])
        out = generate(G, Tensor(backend.as_array(zr[None].astype(zh.dtype),
                                                  device=self.device)))
        fig = P.arithmetic_figure(
            self.out / "arithmetic.png", imgs[bold_a], imgs[thin_a], imgs[thin_b], out[0],
            title=f"bold {a} - thin {a} + thin {b}")
        thin_b_ink = float(ink[thin_b].mean())
        res_ink = float(out.mean())
        return {"arithmetic": f"bold {a} - thin {a} + thin {b}",
                "arithmetic_class": int(scorer.predict(out)[0]),
                "arithmetic_ink_gain": res_ink - thin_b_ink,
                "arithmetic_expected_gain": float(ink[bold_a].mean() - ink[thin_a].mean()),
                "figure": fig}


RUNS = {"ae": AutoencoderRun, "vae": VAERun, "dcgan": DCGANRun}


def _config(model, quick, overrides, size=8):
    """The settings of a run: the model's defaults, then the 28×28 ones, then --quick's,
    then the caller's."""
    if model not in RUNS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(RUNS)}")
    c = dict(DEFAULTS[model])
    if size == 28:
        c.update(SIZE28.get(model, {}))
    if quick:
        c.update(QUICK[model])
    c.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(overrides) - set(DEFAULTS[model]) - {"recon_images"}
    if unknown:
        raise ValueError(f"{model}: unknown settings {sorted(unknown)}")
    return c


def train_model(model, steps=None, quick=False, seed=0, device=None, out=None, data="digits",
                progress=False, **overrides):
    """Build ``RUNS[model]`` and train it; returns the trained run (what the lessons share).

    The settings are those of ``python -m minigan images``: the model's ``DEFAULTS``, then
    ``QUICK``'s when ``quick``, then ``steps`` and the ``overrides``. ``data`` is a spec for
    ``load_image_data`` or a dataset it returned (load once, train several models on it).
    With ``out=None`` the checkpoints go to a temporary folder that lives as long as the run
    (``run.scratch``). The training time is kept in ``run.train_seconds``.
    """
    import tempfile
    if steps is not None:
        overrides["steps"] = steps
    dataset = data if isinstance(data, dict) else load_image_data(data, device)
    config = _config(model, quick, overrides, size=dataset["size"])
    scratch = None
    if out is None:
        scratch = tempfile.TemporaryDirectory(prefix=f"minigan-{model}-")
        out = scratch.name
    run = RUNS[model](dataset, config, out, device=device, seed=seed)
    run.scratch = scratch                  # removed with the run
    t = time.perf_counter()
    run.train_steps(config["steps"], progress=progress)
    run.train_seconds = time.perf_counter() - t
    return run


def run_images(model="dcgan", steps=None, seed=0, device=None, out="runs/images",
               data="digits", resume=False, quick=False, progress=None, score=True,
               figures=True, compare_ae=None, verbose=True, **overrides):
    """Train ``model`` on ``data`` for ``steps`` (more) steps and measure it; returns the
    summary dict (also written to ``OUT/summary.json``). See the module docstring."""
    t_start = time.perf_counter()
    if steps is not None:
        overrides["steps"] = steps
    say = print if verbose else (lambda *a, **k: None)
    dataset = load_image_data(data, device)
    config = _config(model, quick, overrides, size=dataset["size"])
    run = RUNS[model](dataset, config, out, device=device, seed=seed)
    if resume:
        run.resume()
        say(f"resumed {model} from {run.checkpoint_path} at step {run.step}")
    t = time.perf_counter()
    run.train_steps(config["steps"], progress=progress)
    train_s = time.perf_counter() - t
    run.save()
    say(f"{model}: trained {config['steps']} steps in {train_s:.1f} s (total {run.step}); "
        f"checkpoint {run.checkpoint_path}")
    summary = {"model": model, "data": dataset["name"], "size": run.size, "seed": seed,
               "steps": run.step, "config": config, "train_seconds": train_s, "figures": []}
    t = time.perf_counter()
    samples = run.samples(N_SAMPLES)
    labels = list(samples)
    main = samples[labels[0]]
    np.save(run.out / "samples.npy", main.astype(np.float32))
    summary["samples"] = str(run.out / "samples.npy")
    scorer = None
    if score:
        from ..scoring import format_scores, get_scorer
        scorer = get_scorer(dataset["name"], run.size)
        base = scorer.baseline()
        summary["baseline"] = base
        summary["scorer_test_accuracy"] = scorer.test_accuracy
        summary["scores"] = {}
        for label in labels:
            summary["scores"][label] = scorer.score(samples[label])
            say(format_scores(summary["scores"][label], base, title=label))
    if figures:
        from .. import plot_images as P
        for label in labels:
            summary["figures"].append(P.image_grid_figure(
                run.out / f"samples_{label}.png", samples[label][:100], nrow=10,
                title=_grid_title(label, summary.get("scores", {}).get(label))))
        if scorer is not None:
            if model == "dcgan":
                run.ae_reference = _load_ae_reference(compare_ae, run.out, dataset, device,
                                                      say)
            run.extra(scorer, summary)
    summary["eval_seconds"] = time.perf_counter() - t
    summary["total_seconds"] = time.perf_counter() - t_start
    summary["figures"] = [str(f) for f in summary["figures"]]
    with open(run.out / "summary.json", "w") as f:
        json.dump(_jsonable(summary), f, indent=1)
    for key in ("recon_mse", "recon_agreement", "recon_sharpness", "test_sharpness",
                "inversion_mse", "inversion_agreement", "ae_recon_mse", "ae_recon_agreement",
                "interp_lerp_confidence", "interp_slerp_confidence", "arithmetic",
                "arithmetic_class", "arithmetic_ink_gain", "arithmetic_expected_gain"):
        if key in summary:
            v = summary[key]
            say(f"{key:<28s} {v:.4f}" if isinstance(v, float) else f"{key:<28s} {v}")
    say(f"{model}: {summary['total_seconds']:.1f} s in all; figures and summary.json in {run.out}")
    summary["run"] = run
    return summary


def _load_ae_reference(compare_ae, out, dataset, device, say):
    """The autoencoder the GAN inversion is compared with: an ``AutoencoderRun``, the folder
    of a finished ``--model ae`` run, or (by default) a sibling folder ``OUT/../ae``."""
    if isinstance(compare_ae, ImageRun):
        return compare_ae
    folder = pathlib.Path(compare_ae) if compare_ae else pathlib.Path(out).parent / "ae"
    ck = folder / "checkpoint.npz"
    if not ck.exists():
        if compare_ae:
            raise FileNotFoundError(f"--compare-ae: no autoencoder checkpoint at {ck}")
        say(f"(no autoencoder run in {folder}: run --model ae --out {folder} first to see the "
            "inversion next to AE reconstructions)")
        return None
    from .. import serialization
    saved = json.loads(str(serialization.load(ck)["config_json"]))
    run = AutoencoderRun(dataset, saved, folder, device=device)
    run.resume()
    say(f"comparing the inversion with the autoencoder in {folder} (step {run.step})")
    return run


def _grid_title(label, scores):
    if not scores:
        return label
    return (f"{label}: {scores['coverage']} classes, confidence {scores['confidence']:.3f}, "
            f"Fréchet {scores['frechet']:.3f}")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items() if k != "run"}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj


from . import images2  # noqa: E402,F401  (registers cgan, wgan, wgan-gp, sagan, ... in RUNS)
