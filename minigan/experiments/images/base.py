"""What every image run shares: ``ImageRun``, one model trained on one image dataset.

A model's run says only what differs:

* ``build()``: its networks in ``self.modules`` ({name: Module}), its optimizers in
  ``self.optims`` and, if it keeps one, a moving average of G in ``self.ema``; or a
  ready ``self.trainer`` (the DCGAN builds Algorithm 1's ``GANTrainer``);
* ``train_step()``: one iteration, returning ``{loss name: float}``; it calls
  ``self.finite(loss, name)`` before applying an update;
* ``sample_generators()`` / ``samples()``: what to sample for ``samples.npy``;
* ``extra(scorer, report)``: its own figures and numbers.

Training goes through the one loop, ``minigan.gan.loop.Trainer``: its progress bar, its
NaN guard, a checkpoint to ``OUT/checkpoint.npz`` every quarter of the run (at least every
250 steps) and at the end, and ``resume()`` -- every network, optimizer, moving average,
the step, the history and the RNG state, so a resumed run continues the same run.

**EMA of the generator** (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN
training"). GAN training does not converge to a point: G and D circle each other, and the
latest G carries the noise of the last few updates. An exponential moving average of G's
weights, theta_ema <- beta·theta_ema + (1-beta)·theta, averages that circling out. It costs
one extra copy of G and changes nothing in training; the run scores both generators.
"""
from __future__ import annotations

import json
import pathlib
import sys

from ... import backend, optim
from ...autograd import no_grad
from ...gan.loop import Trainer, refuse_changed_settings
from ...gan.sampling import SAMPLE_SEED_OFFSET, fixed_z, generate
from ...serialization import output_dir

__all__ = ["ImageRun", "N_SAMPLES", "N_SAMPLES_28"]

np = backend.np      # host-side bookkeeping only (samples.npy, JSON); the maths is in the engine

N_SAMPLES = 1000     # samples.npy and the scores (8×8 and 16×16 digits)
N_SAMPLES_28 = 10000  # ... for 28×28 MNIST, the sample count MNIST papers score
# What a resumed run may change: how many more steps, and how it is evaluated afterwards.
RESUME_MAY_CHANGE = {"steps", "steps_planned", "inversion_images", "inversion_steps",
                     "inversion_restarts", "recon_images", "mode_samples",
                     "eval_every", "eval_n"}       # what is measured, not how it trains


class ImageRun:
    """One model trained on one image dataset, with checkpoints in ``out``.

    Class attributes: ``name`` (its ``--model`` name), ``defaults`` (its settings),
    ``quick`` (what ``--quick`` changes), ``size28`` (what 28×28 images change).
    """

    name = "?"
    defaults, quick, size28 = {}, {}, {}
    ema = None                 # a gan.ema.EMA when the run keeps a moving average of G

    # settings added after checkpoints were written: {name: the value those checkpoints mean}
    SETTINGS_BEFORE = {}

    def __init__(self, data, config, out, device=None, seed=0):
        self.data, self.config, self.out = data, dict(config), pathlib.Path(out)
        self.device, self.seed = device, seed
        self.size = data["size"]
        output_dir(self.out)
        self.checkpoint_path = self.out / "checkpoint.npz"
        backend.manual_seed(seed)
        self._setup()

    def _setup(self):
        """Build the model, and its trainer unless ``build`` made one."""
        self.trainer = None
        self.build()
        if self.trainer is None:
            eval_every = int(self.config.get("eval_every") or 0)
            self.trainer = Trainer(self.modules, self.optims, step=lambda tr: self.train_step(),
                                   ema=self.ema,
                                   metrics=(lambda tr: self.evaluate()) if eval_every else None,
                                   metrics_every=eval_every or 1, desc=self.name)
        self.trainer.checkpoint_path = self.checkpoint_path
        self.trainer.meta = {"config_json": json.dumps(self.config), "model_name": self.name}

    # -- written by each model
    def build(self):
        raise NotImplementedError

    def train_step(self):
        raise NotImplementedError

    def evaluate(self):
        """Measured every ``config['eval_every']`` steps (if set): {name: float}."""
        return {}

    def sample_generators(self):
        """{label: (module, z_dim)}: the generators to sample, the first one for samples.npy."""
        raise NotImplementedError

    def extra(self, scorer, report):
        pass

    @staticmethod
    def scoring_view(images):
        """The (N, 1, H, W) digits the scores and the sample grid judge for a generator's
        ``images`` (the images themselves; stacked digits show their channels)."""
        return images

    # -- shared
    def on_device(self, module):
        """``module`` on the run's device (where it is when the run has none)."""
        return module.to(self.device) if self.device is not None else module

    def adversarial_pair(self, G, D, betas, g_also=()):
        """The usual two players: ``self.G``, ``self.D`` on the run's device, and Adam for
        each at the config's ``lr_g`` / ``lr_d``; G's optimizer also moves the parameters of
        the modules in ``g_also`` (InfoGAN's Q head)."""
        c = self.config
        self.G, self.D = self.on_device(G), self.on_device(D)
        g_params = list(self.G.parameters()) + [p for m in g_also for p in m.parameters()]
        self.modules = {"G": self.G, "D": self.D}
        self.optims = {"G": optim.Adam(g_params, lr=c["lr_g"], betas=betas),
                       "D": optim.Adam(self.D.parameters(), lr=c["lr_d"], betas=betas)}

    def frechet_of(self, G, z):
        """The Fréchet distance of G(z) to the held-out real digits (classifier features), G
        run in train mode as in training. Its batch-norm buffers are put back afterwards:
        measuring a learning curve must not change the run it measures."""
        from ...evaluation import metrics
        from ...evaluation.scoring import get_scorer
        saved = [(b, b.array.copy()) for b in G.buffers()]
        with no_grad():
            images = backend.to_numpy(G(z).array).clip(-1, 1)
        for b, v in saved:
            b.array[...] = v
        scorer = get_scorer(self.data["name"], self.size)
        return float(metrics.frechet_distance(scorer.test_features(), scorer.features(images)))

    @property
    def step(self):
        return self.trainer.step

    @property
    def history(self):
        return self.trainer.history

    def finite(self, loss, which):
        """The loss as a float; a NaN/inf stops the run before the update (``Trainer.finite``)."""
        return self.trainer.finite(loss, f"{self.name} {which}")

    def train_steps(self, n, progress=None):
        """n more steps through the one loop, checkpointing every quarter of them."""
        self.trainer.progress = progress if progress is not None else sys.stderr.isatty()
        self.trainer.checkpoint_every = max(int(n) // 4, 250)
        self.trainer.train(n)

    def save(self):
        self.trainer.save_checkpoint(self.checkpoint_path)

    def resume(self, given=None):
        """Load the checkpoint and continue that run. ``given``: the settings the caller
        chose (the command line's); every other training setting continues as the checkpoint
        was trained, even where the model's default has changed since. Without ``given``, a
        setting that differs from the checkpoint's is refused."""
        from ... import serialization
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        state = serialization.load(self.checkpoint_path)
        if str(state.get("model_name")) != self.name:
            raise ValueError(f"--resume: {self.checkpoint_path} holds a {state.get('model_name')} "
                             f"run, not {self.name}")
        saved = json.loads(str(state["config_json"]))
        older = {k: v for k, v in self.SETTINGS_BEFORE.items() if k not in saved}
        # a checkpoint from before a setting existed resumes as the model it holds
        saved.update(older)
        kept = dict(older)
        if given is not None:
            kept.update({k: v for k, v in saved.items() if k not in given
                         and k not in RESUME_MAY_CHANGE and self.config.get(k) != v})
        if kept:
            self.config.update(kept)
            self._setup()
        if "decay_from" in saved and saved.get("steps") != self.config.get("steps"):
            # the learning-rate schedule was planned for the first call's steps: keep it
            self.config["steps_planned"] = saved.get("steps_planned", saved["steps"])
            self._setup()
        # e.g. --lr: the optimizers' state would silently keep the old learning rates
        refuse_changed_settings(self.checkpoint_path, saved, self.config, RESUME_MAY_CHANGE)
        self.trainer.resume(self.checkpoint_path, state=state)
        return self

    @property
    def n_samples(self):
        """How many samples ``samples.npy`` holds and the scores use (a run may override)."""
        return N_SAMPLES_28 if self.size == 28 else N_SAMPLES

    def samples(self, n=N_SAMPLES):
        """{label: (n, 1, H, W) float32 host array} for every generator of the run."""
        out, self.sample_modules = {}, {}
        for label, (module, z_dim) in self.sample_generators().items():
            z = fixed_z(n, z_dim, self.seed + SAMPLE_SEED_OFFSET, self.device)
            out[label] = np.clip(generate(module, z), -1.0, 1.0)
            self.sample_modules[label] = module
        return out
