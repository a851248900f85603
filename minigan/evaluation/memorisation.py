"""Does the GAN memorise? The nearest-training-example check (lecture notes 000).

A generator that only copied its training images would score very well on every sample-quality
number (its samples *are* real digits) while having learnt nothing about the distribution. The
classic check: for each generated sample, find the nearest training image and look at the pair.
Copies show up as pairs that are (nearly) the same image.

"Near" needs a yardstick, and the yardstick is *held-out real digits*: they were drawn from the
same distribution as the training set but never seen in training, so their distance to the
nearest training image is what "a new digit, not a copy" looks like. A generator that
memorises puts its samples much *closer* to the training set than held-out digits are; one that
generalises sits at about the same distance (or further, when its samples are worse).

Two distances, because each fools in its own way:

* **pixels** (root mean squared difference per pixel): a copy shifted by one pixel is far in
  pixels, and two different digits of the same thickness can be close;
* **classifier features** (the scoring classifier's 32 standardised bottleneck features,
  ``Scorer.features``): close when the classifier sees "the same digit in the same style",
  however the pixels moved.

``nearest_training`` finds the neighbours; ``memorisation_check`` compares generated and
held-out digits and returns the numbers and the pairs to draw; ``format_memorisation``
prints them. Host-side (NumPy arrays in, NumPy arrays and floats out).
"""
from __future__ import annotations

from .. import backend

np = backend.np      # host-side measurement on image arrays

__all__ = ["nearest_training", "memorisation_check", "format_memorisation"]


def _flat(images, name):
    x = np.asarray(images, dtype=np.float64)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"memorisation: {name} must be a non-empty batch (N, ...), got "
                         f"shape {x.shape}")
    return x.reshape(len(x), -1)


def nearest_training(queries, train, batch=1000):
    """For each row of ``queries`` (N, ...), the nearest row of ``train`` (M, ...) in
    Euclidean distance: ``(index (N,) int, distance (N,) float)``.

    Both are flattened; the squared distances come from |q|² + |t|² - 2 q·t (one matrix
    product per ``batch`` queries, so M × batch numbers at a time, never N × M).
    """
    q, t = _flat(queries, "queries"), _flat(train, "train")
    if q.shape[1] != t.shape[1]:
        raise ValueError(f"nearest_training: queries have {q.shape[1]} numbers per item, the "
                         f"training set {t.shape[1]}")
    t_sq = (t * t).sum(1)
    idx, dist = [], []
    for i in range(0, len(q), batch):
        qb = q[i:i + batch]
        d2 = (qb * qb).sum(1)[:, None] + t_sq[None, :] - 2.0 * qb @ t.T
        j = d2.argmin(1)
        idx.append(j)
        # rounding can make the expansion slightly negative for identical rows
        dist.append(np.sqrt(np.maximum(d2[np.arange(len(qb)), j], 0.0)))
    return np.concatenate(idx), np.concatenate(dist)


def _summary(gen, held):
    """Medians, the ratio, and the fraction of generated samples closer to the training set
    than the 1st percentile of held-out digits (near-copies)."""
    q01 = float(np.quantile(held, 0.01))
    return {"generated_median": float(np.median(gen)), "held_out_median": float(np.median(held)),
            "ratio": float(np.median(gen) / np.median(held)) if np.median(held) > 0 else np.inf,
            "held_out_q01": q01, "near_copies": float((gen < q01).mean()),
            "generated": gen, "held_out": held}


def memorisation_check(generated, train, held_out, features=None):
    """Distance to the nearest training image for ``generated`` samples against ``held_out``
    real ones (all (N, C, H, W) in [-1, 1]).

    ``features``: a function images -> (N, d) features (``Scorer.features``); when given,
    the check is also made in that space. Returns {"pixels": ..., "features": ...}, each with

    * ``generated_median`` / ``held_out_median``: median distance to the nearest training
      image (pixels: root mean squared difference per pixel, so the number reads on the
      [-1, 1] pixel scale);
    * ``ratio``: generated / held-out medians (about 1: no sign of copying; well below 1:
      the samples sit closer to the training set than new real digits do);
    * ``near_copies``: the fraction of generated samples closer than 99 % of held-out digits
      (about 0.01 when G copies no more than chance would);
    * ``generated`` / ``held_out``: every distance; ``nearest``: the index of each generated
      sample's nearest training image (to draw the pairs).
    """
    gen, tr, held = (np.asarray(a, dtype=np.float64) for a in (generated, train, held_out))
    pixels = gen[0].size
    out = {}
    j, d_gen = nearest_training(gen, tr)
    _, d_held = nearest_training(held, tr)
    out["pixels"] = _summary(d_gen / np.sqrt(pixels), d_held / np.sqrt(pixels))
    out["pixels"]["nearest"] = j
    if features is not None:
        f_tr = np.asarray(features(tr))
        j, d_gen = nearest_training(np.asarray(features(gen)), f_tr)
        _, d_held = nearest_training(np.asarray(features(held)), f_tr)
        out["features"] = _summary(d_gen, d_held)
        out["features"]["nearest"] = j
    return out


def format_memorisation(result):
    """The check as a small table: one row per space."""
    lines = [f"{'distance to nearest training image':<36s} {'generated':>10s} "
             f"{'held-out real':>14s} {'ratio':>7s} {'near-copies':>12s}"]
    for space, r in result.items():
        lines.append(f"{'median, ' + space:<36s} {r['generated_median']:>10.4f} "
                     f"{r['held_out_median']:>14.4f} {r['ratio']:>7.3f} "
                     f"{r['near_copies']:>12.1%}")
    lines.append("(ratio about 1 and near-copies about 1 %: no sign of copying; near-copies: "
                 "generated samples closer than 99 % of held-out digits)")
    return "\n".join(lines)
