"""Measuring Salimans et al.'s improved techniques on MNIST: each one alone against the plain
DCGAN, on the same budget, over seeds.

``measure_technique(name, seed, steps)`` trains the 28×28 DCGAN (``images --model dcgan --data
mnist`` on the study's recipe, ``STUDY_RECIPE``) for ``steps`` steps with one technique on,
samples 10 000 digits from the moving average of G and from the last G, and scores both with the
MNIST scorer (Fréchet distance in classifier features, classes covered, mean confidence). Every
variant of one seed starts from the same weights and draws the same batches until the
technique makes them differ (the RNG is seeded identically), so seed for seed the comparison
is paired.

``summarise(rows)`` turns the rows into one line per technique: mean and spread (half the range
over seeds) of each score, and the change of the mean Fréchet distance relative to plain. A
technique "helped" when its mean Fréchet distance is lower than plain's by more than the
spread of both (a difference the seeds do not explain); the rows say whether it did.

``benchmarks/mnist_techniques.py`` runs the study one (technique, seed) per process and
writes ``docs/results/mnist_techniques.json``, which lesson 19 reads.
"""
from __future__ import annotations

import time

from ... import backend
from .dcgan import CLASSIC_RECIPE, TECHNIQUES

__all__ = ["STUDY_RECIPE", "TECHNIQUE_NAMES", "measure_technique", "summarise"]

np = backend.np

# The recipe the study measures the techniques on: the 28×28 DCGAN as it was before R1 and the
# larger learning rate became its defaults (Adam 2e-4 with an EMA of G, the learning rates
# decaying over the second half). Pinned, so the study's numbers can be reproduced as published.
STUDY_RECIPE = CLASSIC_RECIPE
# short name -> (settings of the dcgan run, what it is)
TECHNIQUE_NAMES = {
    "plain": ({}, "the DCGAN of STUDY_RECIPE (EMA of G, learning rates decaying over the "
                  "second half)"),
    "fm": ({"feature_matching": TECHNIQUES["feature_matching"]}, "feature matching"),
    "ls": ({"label_smoothing": TECHNIQUES["label_smoothing"]},
           "one-sided label smoothing (real target 0.9)"),
    "ha": ({"historical_averaging": TECHNIQUES["historical_averaging"]},
           "historical averaging (λ = 1e-2)"),
    "vbn": ({"virtual_batchnorm": TECHNIQUES["virtual_batchnorm"]},
            "virtual batch norm in G (reference batch of 32)"),
    "mbd": ({"minibatch_kernels": TECHNIQUES["minibatch_kernels"]},
            "minibatch discrimination in D (16 kernels)"),
}
SCORES = ("frechet", "coverage", "confidence")


def measure_technique(name, seed=0, steps=1000, data="mnist", device=None):
    """Train the dcgan run with technique ``name`` (a key of ``TECHNIQUE_NAMES``) and score it;
    returns a JSON-ready dict (the scores of the EMA generator and of the last G)."""
    from ...evaluation.scoring import get_scorer
    from .runner import train_model
    if name not in TECHNIQUE_NAMES:
        raise ValueError(f"unknown technique {name!r}; choose from {', '.join(TECHNIQUE_NAMES)}")
    settings, _ = TECHNIQUE_NAMES[name]
    t = time.perf_counter()
    run = train_model("dcgan", steps, seed=seed, device=device, data=data,
                      **{**STUDY_RECIPE, **settings})
    train_s = time.perf_counter() - t
    samples = run.samples(run.n_samples)
    scorer = get_scorer(run.data["name"], run.size)
    row = {"technique": name, "seed": seed, "steps": steps, "train_seconds": train_s,
           "samples": len(next(iter(samples.values())))}
    for label, x in samples.items():
        sc = scorer.score(x)
        row[label] = {k: float(sc[k]) for k in SCORES}
    return row


def _spread(values):
    return float((max(values) - min(values)) / 2) if values else float("nan")


def summarise(rows, generator="dcgan_ema"):
    """{technique: {score: (mean, spread), "seeds": n, "frechet_change": relative change of
    the mean Fréchet distance against plain, "helped": bool}} for ``generator``'s scores."""
    by = {}
    for r in rows:
        by.setdefault(r["technique"], []).append(r)
    if "plain" not in by:
        raise ValueError("summarise: the rows hold no 'plain' runs to compare with")
    out = {}
    for name, rs in by.items():
        entry = {"seeds": len(rs), "train_seconds": float(np.mean([r["train_seconds"]
                                                                    for r in rs]))}
        for k in SCORES:
            v = [r[generator][k] for r in rs]
            entry[k] = (float(np.mean(v)), _spread(v))
        out[name] = entry
    plain_fd, plain_spread = out["plain"]["frechet"]
    for name, entry in out.items():
        fd, spread = entry["frechet"]
        entry["frechet_change"] = fd / plain_fd - 1.0
        entry["helped"] = bool(name != "plain" and plain_fd - fd > plain_spread + spread)
        entry["hurt"] = bool(name != "plain" and fd - plain_fd > plain_spread + spread)
    return out
