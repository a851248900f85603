"""The one training loop: every run in minigan -- a toy GAN, an image GAN, an autoencoder,
CycleGAN -- trains through ``Trainer.train(n)``.

What differs between models is one step: a function that draws its batches, computes its
losses, updates its networks and returns ``{loss name: float}``. What every model shares
is written here once:

* the **progress bar** (tqdm; shown only on a terminal unless asked for);
* the **NaN/inf guard**: a step calls ``trainer.finite(loss, "generator")`` before it
  applies an update, and a non-finite loss stops training with a message that names the
  loss, the step and the last good checkpoint (a bad update is never applied or saved);
* the **history**: every returned value per step (``history[name]``), and the metrics rows
  (``history["metrics"]``, every ``metrics_every`` steps);
* the **checkpoint rule**: save every ``checkpoint_every`` steps and at the end of
  ``train``, atomically, with ``minigan.save``: every network, every optimizer and
  scheduler, the moving average of a network if there is one, the step, the history and the
  random generator's state;
* the **resume path**: ``resume()`` loads all of that, so that "train 500, save, resume,
  train 500" is the same run as "train 1000", bit for bit on the CPU. The random state
  saved is the CPU's (data batches are drawn there) and that of every GPU the networks are
  on, so a resumed GPU run draws the same random numbers as an uninterrupted one.

``train(n)`` runs n *more* steps. A model either passes its step as ``step=fn`` (``fn`` gets
the trainer) or subclasses ``Trainer`` and writes ``train_step()``, as ``GANTrainer``
(Algorithm 1, ``minigan.gan.train``) does.
"""
from __future__ import annotations

import json
import math
import os
import sys

from .. import backend

__all__ = ["Trainer", "NonFiniteLossError", "every", "resume_state", "refuse_changed_settings"]


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message names the loss, the step and the checkpoint."""


def every(n, fn):
    """A callback that calls ``fn(trainer)`` after every ``n``-th step."""
    if n <= 0:
        raise ValueError(f"every: n must be positive, got {n}")

    def callback(trainer):
        if trainer.step % n == 0:
            fn(trainer)
    callback.__name__ = f"every_{n}_{getattr(fn, '__name__', 'callback')}"
    return callback


class Trainer:
    """Train ``modules`` with ``optimizers`` by repeating one step.

    Parameters
    ----------
    modules : {name: nn.Module}, every network the step trains (saved in checkpoints).
    optimizers : {name: optimizer}, saved with them.
    step : ``fn(trainer) -> {name: float}``, one training iteration (or override
        ``train_step``). Call ``trainer.finite(loss, name)`` before applying an update.
    schedulers : learning-rate schedulers, stepped once after every step.
    ema : a ``gan.ema.EMA`` (a moving average of one network's weights), updated after every
        step and saved; ``None`` for none.
    metrics : {name: fn(trainer) -> float}, or one ``fn(trainer) -> {name: float}``,
        evaluated at step 0 and every ``metrics_every`` steps into ``history["metrics"]``.
    callbacks : ``cb(trainer)`` after every step (``every(n, fn)`` for every n-th).
    checkpoint_path, checkpoint_every : where and how often to save (and at the end of
        ``train``); no path, no checkpoints.
    progress : True / False / None (a bar only when stderr is a terminal). desc : its label.
    meta : extra entries saved in every checkpoint (the settings of the run, say).
    """

    history_keys = ()          # keys the history has from the start (for readers at step 0)

    def __init__(self, modules, optimizers, step=None, schedulers=(), ema=None, metrics=None,
                 metrics_every=100, callbacks=(), checkpoint_path=None, checkpoint_every=None,
                 progress=None, desc="train", meta=None):
        self.modules, self.optimizers = dict(modules), dict(optimizers)
        self._step_fn = step
        self.schedulers = list(schedulers)
        self.ema = ema
        self.metrics = metrics or {}
        if int(metrics_every) < 1:
            raise ValueError(f"Trainer: metrics_every must be >= 1, got {metrics_every}")
        self.metrics_every = int(metrics_every)
        self.callbacks = list(callbacks)
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.progress, self.desc = progress, desc
        self.meta = dict(meta or {})
        self.last_checkpoint = None          # (path, step) of the last good save or load
        self.step = 0                        # steps done so far
        self.history = {"step": [], "metrics": [], **{k: [] for k in self.history_keys}}

    # ------------------------------------------------------------------------ one step
    def train_step(self):
        """One training iteration: ``{name: float}`` (the losses, and anything to log)."""
        if self._step_fn is None:
            raise NotImplementedError("Trainer: pass step=fn or override train_step()")
        return self._step_fn(self)

    def finite(self, loss, which, where=""):
        """``loss`` as a float, or ``NonFiniteLossError`` if it is NaN or infinite.

        Call it before applying the update the loss drives: the error then says, truthfully,
        that the update was not applied and which checkpoint holds the last good state.
        ``where`` adds detail to the step ("discriminator update 2 of 5")."""
        value = float(loss.item()) if hasattr(loss, "item") else float(loss)
        if not math.isfinite(value):
            at = f"step {self.step + 1}" + (f" ({where})" if where else "")
            raise NonFiniteLossError(
                f"the {which} loss became {value} at {at}; training stopped before applying "
                f"that update and {self._kept()}. Lower the learning rate, or check the data "
                "for NaNs.")
        return value

    def _kept(self):
        if self.last_checkpoint:
            return (f"the last good checkpoint, {self.last_checkpoint[0]} at step "
                    f"{self.last_checkpoint[1]}, is kept")
        if self.checkpoint_path:
            return "no checkpoint had been written yet"
        return "no checkpoint was written (pass checkpoint_path to keep one)"

    # ------------------------------------------------------------------------ the loop
    def evaluate(self):
        """Compute the metrics now; append ``{"step": s, name: value, ...}`` to the history."""
        if callable(self.metrics):
            values = self.metrics(self)
        else:
            values = {name: fn(self) for name, fn in self.metrics.items()}
        row = {"step": self.step, **{k: float(v) for k, v in values.items()}}
        self.history["metrics"].append(row)
        for m in self.modules.values():          # a metric may have switched to eval()
            m.train()
        return row

    def _record(self, values):
        h = self.history
        for name, v in values.items():
            v = float(v)
            if not math.isfinite(v):         # a step that logged without finite()-checking
                raise NonFiniteLossError(
                    f"the {name} loss became {v} at step {self.step}; training stopped and "
                    f"{self._kept()}. Lower the learning rate.")
            h.setdefault(name, []).append(v)
        h["step"].append(self.step)

    def train(self, steps):
        """Run ``steps`` more steps (continuing from ``self.step``); returns the history."""
        steps = int(steps)
        if steps < 0:
            raise ValueError(f"train: steps must be >= 0, got {steps}")
        for m in self.modules.values():
            m.train()
        if self.metrics and self.step == 0 and not self.history["metrics"]:
            self.evaluate()
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = None
        if show:
            from tqdm.auto import tqdm
            bar = tqdm(total=steps, desc=self.desc, unit="step", leave=False)
        try:
            for _ in range(steps):
                values = self.train_step()
                if self.ema is not None:
                    self.ema.update()
                for sched in self.schedulers:
                    sched.step()
                self.step += 1
                self._record(values)
                if self.metrics and self.step % self.metrics_every == 0:
                    self.evaluate()
                for cb in self.callbacks:
                    cb(self)
                if (self.checkpoint_path and self.checkpoint_every
                        and self.step % self.checkpoint_every == 0):
                    self.save_checkpoint()
                if bar is not None:
                    bar.update(1)
                    if self.step % 25 == 0:
                        bar.set_postfix(**{k: f"{float(v):.3f}" for k, v in values.items()})
        finally:
            if bar is not None:
                bar.close()
        if self.checkpoint_path:
            self.save_checkpoint()
        return self.history

    # ------------------------------------------------------------------ checkpoint/resume
    def extra_state(self):
        """Model-specific counters to checkpoint (a subclass adds its own)."""
        return {}

    def load_extra_state(self, state):
        pass

    def state_dict(self):
        """Everything a resumed run needs. The CPU's RNG state (a dict holding 128-bit
        integers) and the history travel as JSON text; a GPU's RNG state is an array."""
        state = {
            "step": self.step,
            "models": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": [s.state_dict() for s in self.schedulers],
            "rng_json": json.dumps(backend.get_rng_state("cpu")),
            "history_json": json.dumps(self.history),
            **self.extra_state(), **self.meta,
        }
        gpus = self._devices()
        if gpus:            # the GPU's stream too (weight init, dropout, noise drawn there)
            state["rng_devices"] = {str(d): backend.get_rng_state(d) for d in gpus}
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def _devices(self):
        """The devices other than the CPU that this run's networks are on, whose generators
        its steps may draw from (the CPU's is always saved: data batches come from it)."""
        found = []
        for m in self.modules.values():
            for p in m.parameters():
                if p.device.type != "cpu" and p.device not in found:
                    found.append(p.device)
        return found

    def load_state_dict(self, state):
        if "models" not in state:
            raise ValueError("resume: this checkpoint was written by an older minigan whose "
                             "trainer saved another layout; it cannot be resumed (start a new "
                             "run)")
        self._check_ema_matches(state)            # refuse before changing anything
        missing = sorted(set(self.modules) - set(state["models"]))
        if missing:
            raise ValueError(f"resume: the checkpoint has no weights for {missing} (it holds "
                             f"{sorted(state['models'])})")
        for k, m in self.modules.items():
            m.load_state_dict(state["models"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        for sch, st in zip(self.schedulers, state.get("schedulers", [])):
            sch.load_state_dict(st)
        backend.set_rng_state(json.loads(str(state["rng_json"])), "cpu")
        self._load_device_rng(state.get("rng_devices") or {})
        self.history = json.loads(str(state["history_json"]))
        self.step = int(state["step"])
        self.load_extra_state(state)
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])

    def _load_device_rng(self, saved):
        """Restore the GPU generators this run uses from the checkpoint. A state that does not
        fit (another CuPy version or bit generator), or none at all (a CPU checkpoint resumed on
        a GPU), cannot continue the same stream: the run goes on with the generator it has, and
        says so. (A GPU checkpoint resumed on the CPU needs no GPU stream.)"""
        import warnings
        for dev in self._devices():
            st = saved.get(str(dev))
            try:
                if st is None:
                    raise ValueError(f"the checkpoint holds no random state for {dev}")
                backend.set_rng_state(st, dev)
            except (ValueError, RuntimeError) as exc:
                warnings.warn(f"resume: {exc}; the run continues from the current {dev} "
                              "random stream, so it will not repeat the uninterrupted run "
                              "exactly", UserWarning, stacklevel=3)

    def _check_ema_matches(self, state):
        """A resumed run keeps the average it saved, with the same beta: resuming without it
        would drop it from the next checkpoint, and a different beta is a different average."""
        saved = state.get("ema")
        if self.ema is None and saved is not None:
            raise ValueError(f"resume: the checkpoint holds an EMA of the weights (beta "
                             f"{float(saved.get('beta', float('nan'))):g}); resume with that "
                             "EMA so that it is kept")
        if self.ema is not None and saved is None:
            raise ValueError("resume: the checkpoint has no EMA of the weights (it was trained "
                             "with the EMA off); resume with it off or start a new run")
        if self.ema is not None and "beta" in saved and float(saved["beta"]) != self.ema.beta:
            raise ValueError(f"resume: the checkpoint's EMA has beta {float(saved['beta']):g}, "
                             f"this run {self.ema.beta:g}")

    def save_checkpoint(self, path=None):
        """Write the state atomically to ``path`` (default ``checkpoint_path``)."""
        from .. import serialization
        path = path or self.checkpoint_path
        if not path:
            raise ValueError("save_checkpoint: no path given and no checkpoint_path set")
        serialization.save(self.state_dict(), path)
        self.last_checkpoint = (str(path), self.step)
        return path

    def resume(self, path=None, state=None):
        """Load a checkpoint written by ``save_checkpoint`` (or its already loaded ``state``);
        ``train(n)`` then goes on from it."""
        from .. import serialization
        path = path or self.checkpoint_path
        self.load_state_dict(state if state is not None else serialization.load(path))
        self.last_checkpoint = (str(path), self.step)
        return self


def refuse_changed_settings(path, saved, now, may_change=()):
    """A setting given with ``--resume`` is applied or refused, never silently ignored: raise
    if ``now`` differs from the checkpoint's ``saved`` settings outside ``may_change``."""
    changed = sorted(k for k in set(saved) | set(now)
                     if k not in may_change and saved.get(k) != now.get(k))
    if changed:
        said = ", ".join(f"{k}={saved.get(k)!r} (now {now.get(k)!r})" for k in changed)
        raise ValueError(f"--resume: {path} was trained with {said}; resume with the run's own "
                         "settings, or start a new run in another --out")


def resume_state(path, settings, key="settings_json"):
    """The checkpoint at ``path`` of the run to resume, after checking that it is this run
    (the same ``settings``, saved as JSON under ``key``)."""
    from .. import serialization
    path = os.fspath(path) if path else path
    if not path or not os.path.exists(path):
        raise FileNotFoundError(f"--resume: no checkpoint at {path}")
    state = serialization.load(path)
    refuse_changed_settings(path, json.loads(str(state.get(key, "{}"))), settings)
    return state
