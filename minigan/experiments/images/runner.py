"""Run an image model end to end: train it, sample it, score it, draw it.

``python -m minigan images --model dcgan --out runs/dcgan`` (see ``minigan.commands.images``)
calls ``run_images``, which

1. loads the data (the 8×8 digits by default, ``digits16`` for the 16×16 upsampled ones,
   ``mnist:PATH`` for MNIST IDX files),
2. trains the model through the one training loop, checkpointing to ``OUT/checkpoint.npz``
   (a resumed run continues the same run: models, optimizers, EMA weights, step and RNG),
3. writes ``samples.npy`` (1000×C×H×W float32 in [-1, 1] from the final generator, 10 000 at
   28×28: ``ImageRun.n_samples``), sample
   grids and the model's figures (reconstructions; interpolations; GAN inversion; z-space
   arithmetic),
4. scores the samples with the cached digit classifier (``minigan.evaluation.scoring``),
   prints every score next to the real-vs-real baseline, and writes ``summary.json``.

``train_model`` trains without the rest (what the lessons share).
"""
from __future__ import annotations

import json
import pathlib
import time

from ... import backend
from ...serialization import save_array, save_json
from ...data.images import load_image_data
from .autoencoder import AutoencoderRun
from .base import ImageRun
from .registry import MODELS

__all__ = ["train_model", "run_images"]

np = backend.np


def _config(model, quick, overrides, size=8):
    """The settings of a run: the model's defaults, then the 28×28 ones, then --quick's,
    then the caller's."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    run = MODELS[model]
    c = dict(run.defaults)
    if size == 28:
        c.update(run.size28)
    if quick:
        c.update(run.quick)
    c.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(overrides) - set(run.defaults) - {"recon_images"}
    if unknown:
        raise ValueError(f"{model}: unknown settings {sorted(unknown)}")
    return c


def _load_data(model, spec, device):
    """The dataset of a run: ``spec`` itself when it is one already (a dict that
    ``load_image_data`` returned: load once, train several runs on it), else
    ``load_image_data(spec)``, or the model's own ``load_data`` (super-resolution trains on
    photos, not digits)."""
    if isinstance(spec, dict):
        return spec
    loader = getattr(MODELS.get(model), "load_data", None)
    return loader(spec, device) if loader else load_image_data(spec, device)


def train_model(model, steps=None, quick=False, seed=0, device=None, out=None, data="digits",
                progress=False, **overrides):
    """Build ``MODELS[model]`` and train it; returns the trained run (what the lessons share).

    The settings are those of ``python -m minigan images``: the model's ``DEFAULTS``, then
    ``QUICK``'s when ``quick``, then ``steps`` and the ``overrides``. ``data`` is a spec for
    ``load_image_data`` or a dataset it returned (load once, train several models on it).
    With ``out=None`` the checkpoints go to a temporary folder that lives as long as the run
    (``run.scratch``). The training time is kept in ``run.train_seconds``.
    """
    import tempfile
    if steps is not None:
        overrides["steps"] = steps
    dataset = _load_data(model, data, device)
    config = _config(model, quick, overrides, size=dataset["size"])
    scratch = None
    if out is None:
        scratch = tempfile.TemporaryDirectory(prefix=f"minigan-{model}-")
        out = scratch.name
    run = MODELS[model](dataset, config, out, device=device, seed=seed)
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
    dataset = _load_data(model, data, device)
    config = _config(model, quick, overrides, size=dataset["size"])
    run = MODELS[model](dataset, config, out, device=device, seed=seed)
    if resume:
        # what the caller did not set continues as the checkpoint was trained
        run.resume(given={k for k, v in overrides.items() if v is not None})
        config = run.config
        say(f"resumed {model} from {run.checkpoint_path} at step {run.step}")
    t = time.perf_counter()
    run.train_steps(config["steps"], progress=progress)
    train_s = time.perf_counter() - t
    run.save()
    say(f"{model}: trained {config['steps']} steps in {train_s:.1f} s (total {run.step}); "
        f"checkpoint {run.checkpoint_path}")
    ema = getattr(run, "ema", None)
    if ema is not None and ema.updates and ema.decay() < ema.beta:
        # a larger --ema would change nothing in this run: say so rather than let it pass
        say(f"{model}: the EMA's warm-up reached decay {ema.decay():.4f} by the last step; its "
            f"beta {ema.beta:g} takes effect after {ema.updates_to_reach()} steps, so in this "
            f"run any beta above {ema.decay():.4f} gives the same average")
    summary = {"model": model, "data": dataset["name"], "size": run.size, "seed": seed,
               "steps": run.step, "config": config, "train_seconds": train_s, "figures": []}
    t = time.perf_counter()
    if not getattr(run, "digit_scored", True):
        # not a digit generator (super-resolution of photos): the run measures itself
        if score or figures:
            run.extra(None, summary)
    else:
        samples = run.samples(run.n_samples)
        labels = list(samples)
        main = samples[labels[0]]
        if main.shape[-2:] != (run.size, run.size):
            raise ValueError(f"{model} drew {main.shape[-2]}×{main.shape[-1]} images for "
                             f"{run.size}×{run.size} data ({dataset['name']}): this model does "
                             f"not support that image size")
        save_array(run.out / "samples.npy", main.astype(np.float32))
        summary["samples"] = str(run.out / "samples.npy")
        scorer = None
        if score:
            from ...evaluation.scoring import format_scores, get_scorer
            scorer = get_scorer(dataset["name"], run.size)
            base = scorer.baseline()
            summary["baseline"] = base
            summary["scorer_test_accuracy"] = scorer.test_accuracy
            summary["scores"] = {}
            for label in labels:
                summary["scores"][label] = scorer.score(run.scoring_view(samples[label]))
                say(format_scores(summary["scores"][label], base, title=label))
        if figures:
            from ...plots import images as P
            for label in labels:
                summary["figures"].append(P.image_grid_figure(
                    run.out / f"samples_{label}.png", run.scoring_view(samples[label])[:100],
                    nrow=10,
                    title=_grid_title(label, summary.get("scores", {}).get(label))))
            if scorer is not None:
                if model == "dcgan":
                    run.ae_reference = _load_ae_reference(compare_ae, run.out, dataset, device,
                                                          say)
                run.extra(scorer, summary)
    summary["eval_seconds"] = time.perf_counter() - t
    summary["total_seconds"] = time.perf_counter() - t_start
    summary["figures"] = [str(f) for f in summary["figures"]]
    save_json(run.out / "summary.json", _jsonable(summary), indent=1)
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
    from ... import serialization
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
