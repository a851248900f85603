"""Sample-quality scores: every image lesson states a number, not an impression.

All scores here work on *features* or *class probabilities* that a classifier produced for a
batch of images (``minigan.evaluation.classifier`` trains a small digit classifier for that).
They are plain NumPy/SciPy maths on the host:

* **digit score** -- the Inception-score formula exp(E_x KL(p(y|x) || p(y))) with our digit
  classifier: high when each sample is confidently *some* digit and all digits appear (max 10).
* **class coverage** -- how many classes hold at least 5% of the samples (mode collapse shows
  up as a small number), **mean confidence**, and the **KL from the class histogram to uniform**.
* **Fréchet distance** between Gaussians fitted to real and generated features (the FID formula):
  ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)).
* **kernel distance (KID)** -- an unbiased MMD^2 with the cubic polynomial kernel; unlike the
  Fréchet distance it has no bias that depends on the sample size.
* **precision / recall / density / coverage** (Kynkäänniemi et al. 2019; Naeem et al. 2020):
  k-nearest-neighbour balls around real and fake features say whether fakes are realistic
  (precision, density) and whether the real data is covered (recall, coverage).
* **sharpness** -- the variance of the Laplacian, the lecture notes' "why are autoencoders
  blurry", measured.
"""
from __future__ import annotations

import numpy as np

__all__ = ["digit_score", "class_histogram", "class_coverage", "mean_confidence",
           "kl_to_uniform", "frechet_distance", "kernel_distance", "prdc", "sharpness",
           "pairwise_distances"]


def _probs(p):
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"class probabilities must be (N, classes), got shape {p.shape}")
    if np.any(p < -1e-6) or np.any(np.abs(p.sum(1) - 1) > 1e-3):
        raise ValueError("class probabilities must be non-negative rows that sum to 1 "
                         "(pass softmax outputs, not logits)")
    return np.clip(p, 0, 1)


def digit_score(probs, splits=1):
    """exp(E_x KL(p(y|x) || p(y))): from 1 (useless) to the number of classes (perfect).

    With ``splits > 1`` it returns (mean, std) over equal splits, as the Inception score does.
    """
    p = _probs(probs)
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        kl = np.where(part > 0, part * (np.log(np.maximum(part, 1e-30)) -
                                        np.log(np.maximum(marginal, 1e-30))), 0).sum(1)
        scores.append(float(np.exp(kl.mean())))
    return scores[0] if splits == 1 else (float(np.mean(scores)), float(np.std(scores)))


def class_histogram(probs_or_labels, n_classes=10):
    """Fraction of samples assigned to each class (argmax of probabilities, or labels)."""
    a = np.asarray(probs_or_labels)
    labels = a.argmax(1) if a.ndim == 2 else a.astype(int)
    return np.bincount(labels, minlength=n_classes)[:n_classes] / max(len(labels), 1)


def class_coverage(probs_or_labels, n_classes=10, threshold=0.05):
    """How many classes hold at least ``threshold`` of the samples."""
    return int((class_histogram(probs_or_labels, n_classes) >= threshold).sum())


def mean_confidence(probs):
    """The classifier's mean top-class probability on the samples."""
    return float(_probs(probs).max(1).mean())


def kl_to_uniform(probs_or_labels, n_classes=10):
    """KL(class histogram || uniform) in nats: 0 when every class is equally frequent."""
    h = class_histogram(probs_or_labels, n_classes)
    nz = h > 0
    return float((h[nz] * np.log(h[nz] * n_classes)).sum())


def _features(f, name):
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"{name}: features must be (N >= 2, dims), got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name}: features contain NaN or inf")
    return f


def frechet_distance(real, fake):
    """Fréchet distance between Gaussians fitted to two feature sets (N, d).

    The matrix square root is taken in the symmetric form sqrt(S_r)^T S_g sqrt(S_r), whose
    eigenvalues are those of S_r S_g, so it stays real and stable even when S_g is singular
    (a collapsed generator).
    """
    r, g = _features(real, "frechet_distance"), _features(fake, "frechet_distance")
    if r.shape[1] != g.shape[1]:
        raise ValueError(f"frechet_distance: {r.shape[1]} vs {g.shape[1]} feature dimensions")
    mu_r, mu_g = r.mean(0), g.mean(0)
    s_r, s_g = np.cov(r, rowvar=False), np.cov(g, rowvar=False)
    s_r, s_g = np.atleast_2d(s_r), np.atleast_2d(s_g)
    w, v = np.linalg.eigh(s_r)
    root_r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root_r @ s_g @ root_r
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu_r - mu_g) ** 2).sum() + np.trace(s_r) + np.trace(s_g) - 2 * tr_sqrt)


def kernel_distance(real, fake, subsets=10, subset_size=500, seed=0):
    """KID: unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, averaged over random subsets.

    Returns (mean, std) over the subsets. Near 0 (and sometimes slightly negative: the
    estimator is unbiased) when the two sets come from the same distribution.
    """
    r, g = _features(real, "kernel_distance"), _features(fake, "kernel_distance")
    d = r.shape[1]
    m = min(subset_size, len(r), len(g))
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        x = r[rng.choice(len(r), m, replace=False)]
        y = g[rng.choice(len(g), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        mmd = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) +
               (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
        vals.append(mmd)
    return float(np.mean(vals)), float(np.std(vals))


def pairwise_distances(a, b):
    """Euclidean distances between the rows of a and of b, by the |a|^2 + |b|^2 - 2ab trick."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(sq, 0, None))


def _knn_radius(f, k):
    d = pairwise_distances(f, f)
    return np.sort(d, axis=1)[:, k]      # column 0 is the point itself


def prdc(real, fake, k=5):
    """Precision, recall, density and coverage with k-nearest-neighbour balls.

    * precision: fraction of fakes inside some real point's k-NN ball (are fakes realistic?)
    * recall: fraction of reals inside some fake point's k-NN ball (is the data covered?)
    * density: how many real balls contain each fake, divided by k (about 1 for a match)
    * coverage: fraction of real balls that contain at least one fake (robust recall)
    """
    r, g = _features(real, "prdc"), _features(fake, "prdc")
    if min(len(r), len(g)) <= k:
        raise ValueError(f"prdc: need more than k={k} samples in each set")
    r_rad, g_rad = _knn_radius(r, k), _knn_radius(g, k)
    d_rg = pairwise_distances(r, g)                 # (real, fake)
    inside_real = d_rg <= r_rad[:, None]            # fake j inside real ball i
    return {
        "precision": float(inside_real.any(0).mean()),
        "recall": float((d_rg <= g_rad[None, :]).any(1).mean()),
        "density": float(inside_real.sum(0).mean() / k),
        "coverage": float(inside_real.any(1).mean()),
    }


def sharpness(images):
    """Mean variance of the discrete Laplacian per image: blurry images score low.

    ``images`` is (N, H, W) or (N, 1, H, W) on the same intensity scale for all models compared.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:
        x = x[:, 0]
    if x.ndim != 3 or min(x.shape[1:]) < 3:
        raise ValueError(f"sharpness: images must be (N, H, W) with H, W >= 3, got {x.shape}")
    lap = (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] -
           4 * x[:, 1:-1, 1:-1])
    return float(lap.reshape(len(x), -1).var(1).mean())
