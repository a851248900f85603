"""The training loop shared by the second set of image GANs (conditional GAN, WGAN, WGAN-GP,
SAGAN, InfoGAN, CycleGAN): each model writes one ``train_step()``; this module runs it.

``LoopRun`` is an ``ImageRun`` (``minigan.gan.images``) whose networks live in
``self.modules`` ({name: Module}) and optimizers in ``self.optims`` ({name: Optimizer}). It
gives every such model, without repeating it,

* ``train_steps(n)``: the progress bar, the NaN/inf guard (the last good checkpoint is kept),
  a checkpoint every quarter of the run, a per-step history of the losses, and an optional
  ``evaluate()`` every ``config["eval_every"]`` steps (WGAN's learning curves);
* ``state_dict()``/``load_state_dict()``: every network, optimizer, the step, the history and
  the RNG state, so that ``--resume`` continues the same run.

``register(name, cls, defaults, quick)`` adds a model to ``RUNS`` (and so to
``python -m minigan images --model``).
"""
from __future__ import annotations

import json

from .. import backend
from .images import DEFAULTS, QUICK, RUNS, ImageRun, _guard

__all__ = ["LoopRun", "register", "labels_tensor", "random_labels", "labeled_batches"]


def register(name, cls, defaults, quick):
    """Make ``cls`` the run of ``--model name`` with these default and ``--quick`` settings."""
    cls.name = name
    RUNS[name], DEFAULTS[name], QUICK[name] = cls, dict(defaults), dict(quick)
    return cls


def labels_tensor(labels, device=None):
    """Host integer labels -> an int64 Tensor on ``device`` (for ``nn.Embedding``)."""
    from ..autograd import Tensor
    np = backend.np
    return Tensor(backend.as_array(np.asarray(labels, dtype=np.int64), device=device))


def random_labels(n, classes=10, device=None):
    """n labels drawn uniformly with minigan's seeded CPU generator (checkpointed state)."""
    return labels_tensor(backend.generator("cpu").integers(0, classes, size=n), device)


class LoopRun(ImageRun):
    """An ``ImageRun`` whose subclass defines ``build()`` (filling ``self.modules`` and
    ``self.optims``), ``train_step() -> {loss name: float}`` and ``sample_generators()``."""

    def train_step(self):
        raise NotImplementedError

    def evaluate(self):
        """Measured every ``config['eval_every']`` steps (if set): {name: float}."""
        return {}

    def _history(self):
        if not hasattr(self, "history"):
            self.history = {"step": [], "losses": {}, "eval": []}
        return self.history

    def train_steps(self, n, progress=None):
        h = self._history()
        bar = None
        if self._progress(progress):
            from tqdm.auto import tqdm
            bar = tqdm(total=n, desc=self.name, unit="step", leave=False)
        for m in self.modules.values():
            m.train()
        every = max(n // 4, 250)
        eval_every = int(self.config.get("eval_every") or 0)
        if eval_every and not h["eval"]:
            h["eval"].append(dict(step=self.step, **self.evaluate()))
        try:
            for _ in range(n):
                losses = self.train_step()
                for k, v in losses.items():
                    _guard(v, f"{self.name} {k}", self.step + 1, self.checkpoint_path)
                self.step += 1
                h["step"].append(self.step)
                for k, v in losses.items():
                    h["losses"].setdefault(k, []).append(float(v))
                if eval_every and self.step % eval_every == 0:
                    h["eval"].append(dict(step=self.step, **self.evaluate()))
                    for m in self.modules.values():
                        m.train()
                if bar is not None:
                    bar.update(1)
                    if self.step % 25 == 0:
                        bar.set_postfix(**{k: f"{v:.3f}" for k, v in losses.items()})
                if self.step % every == 0:
                    self.save()
        finally:
            if bar is not None:
                bar.close()

    def state_dict(self):
        state = {"step": self.step, "rng_json": json.dumps(backend.get_rng_state("cpu")),
                 "history_json": json.dumps(self._history())}
        for k, m in self.modules.items():
            state[f"model_{k}"] = m.state_dict()
        for k, o in self.optims.items():
            state[f"optim_{k}"] = o.state_dict()
        return state

    def load_state_dict(self, state):
        for k, m in self.modules.items():
            m.load_state_dict(state[f"model_{k}"])
        for k, o in self.optims.items():
            o.load_state_dict(state[f"optim_{k}"])
        backend.set_rng_state(json.loads(str(state["rng_json"])), "cpu")
        self.history = json.loads(str(state["history_json"]))
        self.step = int(state["step"])


def labeled_batches(x, y):
    """n -> (images, labels) batches drawn uniformly from training images ``x`` (a Tensor)
    and their host labels ``y``, with minigan's seeded CPU generator."""
    from ..autograd import Tensor
    np = backend.np
    xp = backend.xp_of(x.data)
    y = np.asarray(y, dtype=np.int64)

    def sample(n):
        idx = backend.generator("cpu").choice(len(y), size=n, replace=False)
        xi = x.data[xp.asarray(idx) if xp is not np else idx]
        return Tensor(xi), labels_tensor(y[idx], x.device)
    return sample
