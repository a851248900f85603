"""Score a batch of generated digits with a classifier, next to the real-vs-real baseline.

"Difficult to numerically see whether there is progress" (lecture notes 000): a GAN's losses
do not say whether its samples are good. What does is a *judge* that has seen real digits: a
small classifier, trained once with minigan on the training split and cached on disk. For a
batch of images it gives

* class probabilities p(y|x): the digit score (the Inception-score formula), class coverage
  (classes holding >= 5% of the samples), mean confidence, KL of the class histogram to
  uniform;
* 32-dimensional features (the classifier's penultimate layer): the Fréchet distance, the
  kernel distance (KID) and precision/recall/density/coverage (k = 5) against *held-out* real
  digits (the test split, which neither the classifier nor any GAN trained on).

Every number means little alone, so ``Scorer.baseline()`` computes the same scores for real
training digits against the same held-out digits: that is what "as good as real data" looks
like (the Fréchet distance of real vs real is small but not 0: two finite samples differ).

The classifier is the digits CNN of ``minigan.evaluation.classifier`` with a 32-unit bottleneck
before its output layer (so the feature covariances are 32×32 and well conditioned with a few
hundred samples). It is cached under ``$MINIGAN_CACHE``, else ``$XDG_CACHE_HOME/minigan``, else
``~/.cache/minigan``, and retrained (in seconds for the 8×8 digits) when the file is missing,
unreadable or of another version.

This module is host-side: it takes NumPy arrays or Tensors and returns NumPy arrays and floats.
The judge is one fixed network for every device: it is trained on the CPU in float64 (so that
every machine, whatever its BLAS kernels and thread count, caches the same float32 judge, to
within one rounding step of a weight) and then moved to the scoring device (``device``, else
the default device); every batch is moved there before it meets the network, so scoring works
whichever device the images come from.
"""
from __future__ import annotations

import os
import pathlib
import time

import numpy as np

from . import metrics

__all__ = ["cache_dir", "ScoringCNN", "Scorer", "get_scorer", "format_scores", "SCORE_KEYS",
           "FEATURE_DIM"]

FEATURE_DIM = 32
PRDC_SAMPLES = 1000         # samples that precision/recall/density/coverage are measured on
SCORER_VERSION = 4          # bump when the network or its training changes: old caches retrain
SCORE_KEYS = ("digit_score", "coverage", "confidence", "kl_uniform", "frechet", "kid",
              "precision", "recall", "density", "prdc_coverage", "sharpness")


def cache_dir():
    """Where minigan caches things: $MINIGAN_CACHE, else $XDG_CACHE_HOME/minigan, else
    ~/.cache/minigan (created on demand)."""
    if os.environ.get("MINIGAN_CACHE"):
        path = pathlib.Path(os.environ["MINIGAN_CACHE"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = pathlib.Path(base) / "minigan"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _scoring_cnn_class():
    from .. import nn
    from .classifier import DigitsCNN

    class ScoringCNN(DigitsCNN):
        """``DigitsCNN`` whose head is Linear(-> 32) -> LeakyReLU -> Linear(32 -> 10):
        ``features(x)`` are the 32 bottleneck activations, the space the Fréchet distance,
        KID and PRDC are measured in."""

        def __init__(self, size=8, width=32, n_classes=10, feature_dim=FEATURE_DIM,
                     device=None):
            super().__init__(size=size, width=width, n_classes=n_classes, device=device)
            self.bottleneck = nn.Sequential(
                nn.Linear(self.flat_features, feature_dim, device=device),
                nn.LeakyReLU(0.1))
            self.head = nn.Linear(feature_dim, n_classes, device=device)

        def features(self, x):
            return self.bottleneck(self.body(x))

        def forward(self, x):
            return self.head(self.features(x))
    return ScoringCNN


def ScoringCNN(*args, **kwargs):  # noqa: N802  (a factory that reads like the class)
    """Build the scoring network (see ``_scoring_cnn_class``); nn is imported lazily."""
    return _scoring_cnn_class()(*args, **kwargs)


def _as_host(images):
    from .. import backend
    from ..autograd import Tensor
    if isinstance(images, Tensor):
        images = images.array
    return np.asarray(backend.to_numpy(images), dtype=np.float32)


class Scorer:
    """A trained digit classifier plus the real data it compares against.

    ``Scorer(data="digits", size=8)`` loads (or trains and caches) the classifier for the 8×8
    digits; ``size=16`` for the upsampled digits. ``data="mnist"`` is the 28×28 MNIST subset
    that ships offline (``minigan.data.mnist_subset``: it trains on the 4500 training digits
    and compares against the 500 held-out ones). ``data="mnist:PATH"`` uses MNIST IDX files
    (the classifier trains on a 12 000-image subset, one cached file per path).
    """

    def __init__(self, data="digits", size=8, retrain=False, verbose=False, epochs=None,
                 device=None):
        from .. import backend
        t0 = time.perf_counter()
        self.array, self.size = data, size
        self.device = backend.Device(device) if device is not None else backend.default_device()
        self.x_train, self.y_train, self.x_test, self.y_test = _load_real(data, size)
        self.size = self.x_train.shape[-1]
        # Built on streams of its own even when the cached weights replace its start: drawing
        # that start from the caller's generator would shift a run's random numbers depending
        # on whether the judge was already built in this process.
        with backend.fork_rng(1234):
            self.model = ScoringCNN(size=self.size, device="cpu")
        self.path = cache_dir() / f"scorer_{_cache_key(data, self.size)}_v{SCORER_VERSION}.npz"
        self.trained_now = False
        if retrain or not self._load():
            self._train(epochs, verbose)
        self.model.to(self.device).eval()
        # Features are centred on the training digits' mean and divided by one overall scale
        # chosen so that the training features have unit variance per dimension on average:
        # the scores then do not depend on how the network happened to scale its activations
        # (one scale, not one per dimension, so the geometry of the feature space is kept).
        raw = self._run(self.x_train, self.model.features)
        self.feature_mean = raw.mean(0)
        self.feature_scale = float(np.sqrt(((raw - self.feature_mean) ** 2).mean()))
        self.test_accuracy = float((self.predict(self.x_test) == self.y_test).mean())
        self.seconds = time.perf_counter() - t0
        self._test_feats = None
        self._baseline = None

    # ---------------------------------------------------------------------- cache and training
    def _load(self):
        from .. import serialization
        if not self.path.exists():
            return False
        try:
            ck = serialization.load(self.path)
            self.model.load_state_dict(ck["model"])
            return int(ck["version"]) == SCORER_VERSION
        except (serialization.CheckpointError, KeyError, ValueError, OSError):
            return False                      # unreadable or stale: retrain and overwrite

    def _train(self, epochs, verbose):
        from .. import backend, optim, serialization
        from ..autograd import Tensor
        from ..data import DataLoader
        from .classifier import fit_epoch
        # On the CPU, seeded on streams of its own: training the judge never disturbs the
        # caller's random numbers (on any device). In float64, so that every machine caches
        # the same judge: a float32 GEMM rounds differently with another count of BLAS
        # threads or another CPU's kernels, and about a thousand steps of training grow those
        # last-bit differences into weights that differ by 0.03-0.05 (measured: 1 against 2
        # threads, AVX2 against AVX-512 kernels) and scores that differ in the third decimal.
        # In float64 the same runs agree to 1e-10, so the float32 weights agree to within one
        # rounding step (most of them exactly) and the scores to about 1e-6.
        with backend.fork_rng(1234):
            self.model = ScoringCNN(size=self.size, device="cpu").double()
            opt = optim.Adam(self.model.parameters(), lr=2e-3)
            sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.85)
            n_epochs = epochs or _default_epochs(self.size, len(self.x_train))
            x = backend.as_array(self.x_train, dtype=np.float64, device="cpu")
            loader = DataLoader((Tensor(x), Tensor(backend.as_array(self.y_train, device="cpu"))),
                                batch_size=32, shuffle=True)
            for epoch in range(n_epochs):
                loss = fit_epoch(self.model, opt, loader, augment=True)   # ±1-pixel shifts
                sched.step()
                if verbose:
                    print(f"scorer epoch {epoch + 1}/{n_epochs}: loss {loss:.4f}")
        self.model.float().eval()
        serialization.save({"model": self.model.state_dict(), "version": SCORER_VERSION,
                            "data": str(self.array), "size": self.size}, self.path)
        self.trained_now = True

    # --------------------------------------------------------------------------- the outputs
    def _run(self, images, fn, batch=500):
        from .. import backend
        from ..autograd import Tensor, no_grad
        x = _as_host(images)
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1:] != (1, self.size, self.size):
            raise ValueError(f"Scorer: images must be (N, 1, {self.size}, {self.size}) in "
                             f"[-1, 1], got shape {x.shape}")
        out = []
        with no_grad():
            for i in range(0, len(x), batch):
                xb = Tensor(backend.as_array(x[i:i + batch], device=self.device))
                out.append(backend.to_numpy(fn(xb).array))
        return np.concatenate(out).astype(np.float64)

    def logits(self, images):
        return self._run(images, self.model)

    def probs(self, images):
        """p(y | x) for each image: (N, 10), rows summing to 1 (a stable softmax)."""
        z = self.logits(images)
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def predict(self, images):
        return self.logits(images).argmax(1)

    def features(self, images):
        """The 32-dimensional bottleneck features, standardised: (N, 32)."""
        return (self._run(images, self.model.features) - self.feature_mean) / self.feature_scale

    def test_features(self):
        if self._test_feats is None:
            self._test_feats = self.features(self.x_test)
        return self._test_feats

    # ---------------------------------------------------------------------------- the scores
    def score(self, images, kid_subsets=10):
        """Every score of ``images`` (N, 1, H, W) in [-1, 1], against the held-out test split."""
        x = _as_host(images)
        p = self.probs(x)
        f = self.features(x)
        ref = self.test_features()
        kid, _ = metrics.kernel_distance(ref, f, subsets=kid_subsets,
                                         subset_size=min(len(ref), len(f)))
        # PRDC on the first PRDC_SAMPLES only: its k-NN balls need all fake-to-fake distances
        # (10 000 MNIST samples would be a 0.8 GB matrix), and like the baseline's 1000 reals
        # the count must be the same for every model compared.
        pr = metrics.prdc(ref, f[:PRDC_SAMPLES], k=5)
        return {"digit_score": metrics.digit_score(p),
                "coverage": metrics.class_coverage(p),
                "confidence": metrics.mean_confidence(p),
                "kl_uniform": metrics.kl_to_uniform(p),
                "frechet": metrics.frechet_distance(ref, f),
                "kid": kid,
                "precision": pr["precision"], "recall": pr["recall"],
                "density": pr["density"], "prdc_coverage": pr["coverage"],
                "sharpness": metrics.sharpness(x)}

    def baseline(self, n=1000, seed=0):
        """The same scores for ``n`` real *training* digits against the held-out test split:
        what a perfect generator (one that draws from the data) would get."""
        if self._baseline is None:
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(self.x_train), size=min(n, len(self.x_train)), replace=False)
            self._baseline = self.score(self.x_train[idx])
        return self._baseline


_scorers = {}


def get_scorer(data="digits", size=8, verbose=False, device=None):
    """A ``Scorer``, built once per process for each (data, size, device); ``device`` None is
    the default device."""
    from .. import backend
    dev = backend.Device(device) if device is not None else backend.default_device()
    key = (str(data), size, str(dev))
    if key not in _scorers:
        _scorers[key] = Scorer(data, size, verbose=verbose, device=dev)
    return _scorers[key]


def format_scores(scores, baseline=None, title="scores", keys=SCORE_KEYS):
    """A small text table: one row per score, the real-vs-real baseline beside it."""
    names = {"digit_score": "digit score (max 10)", "coverage": "classes >= 5% (of 10)",
             "confidence": "mean confidence", "kl_uniform": "KL(class hist || uniform)",
             "frechet": "Fréchet distance", "kid": "kernel distance (KID)",
             "precision": "precision (k=5)", "recall": "recall (k=5)",
             "density": "density (k=5)", "prdc_coverage": "coverage (k=5)",
             "sharpness": "sharpness (var of Laplacian)"}
    lines = [f"{title:<30s} {'model':>10s}" + (f" {'real':>10s}" if baseline else "")]
    for k in keys:
        if k not in scores:
            continue
        row = f"{names.get(k, k):<30s} {_fmt(scores[k]):>10s}"
        if baseline:
            row += f" {_fmt(baseline.get(k, float('nan'))):>10s}"
        lines.append(row)
    return "\n".join(lines)


def _fmt(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}"


def _default_epochs(size, n_train):
    """Epochs for the judge: 20 on the small 8×8/16×16 digits (seconds), 8 on the 4500 28×28
    MNIST digits (about a minute on one core, 98 % held-out accuracy), 2 on large IDX sets."""
    if n_train >= 5000:
        return 2
    return 8 if size == 28 else 20


def _cache_key(data, size):
    data = str(data)
    if data in ("digits", "digits16"):
        return f"digits{size}"
    if data == "mnist":
        return "mnist28"
    if data.startswith("mnist:"):
        import hashlib
        path = os.path.abspath(data[len("mnist:"):])
        return "mnist_" + hashlib.sha1(path.encode()).hexdigest()[:10]
    raise ValueError(f"unknown data {data!r}: use digits, digits16, mnist or mnist:PATH")


def _load_real(data, size):
    """(x_train, y_train, x_test, y_test) as NumPy arrays, images (N, 1, H, W) in [-1, 1]."""
    from .. import data as D
    data = str(data)
    if data == "digits16":
        size = 16
    if data in ("digits", "digits16"):
        xtr, ytr = D.digits("train", size=size, as_tensor=False)
        xte, yte = D.digits("test", size=size, as_tensor=False)
        return xtr.astype(np.float32), ytr, xte.astype(np.float32), yte
    if data == "mnist":
        xtr, ytr = D.mnist_subset("train", as_tensor=False)
        xte, yte = D.mnist_subset("test", as_tensor=False)
        return xtr.astype(np.float32), ytr, xte.astype(np.float32), yte
    if data.startswith("mnist:"):
        path = data[len("mnist:"):]
        xtr, ytr = D.mnist(path, "train", as_tensor=False)
        xte, yte = D.mnist(path, "test", as_tensor=False)
        rng = np.random.default_rng(0)
        if len(xtr) > 12000:
            keep = rng.choice(len(xtr), 12000, replace=False)
            xtr, ytr = xtr[keep], ytr[keep]
        if len(xte) > 2000:
            keep = rng.choice(len(xte), 2000, replace=False)
            xte, yte = xte[keep], yte[keep]
        return xtr.astype(np.float32), ytr, xte.astype(np.float32), yte
    raise ValueError(f"unknown data {data!r}: use digits, digits16, mnist or mnist:PATH")
