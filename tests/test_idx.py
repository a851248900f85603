"""The IDX (MNIST) reader on small files the tests write, including broken ones."""
import gzip

import numpy as np
import pytest

from minigan.data.idx import IDXError, read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip(tmp_path, name):
    a = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == np.uint8 and b.shape == (5, 28, 28)
    np.testing.assert_array_equal(a, b)


def test_labels_and_floats(tmp_path):
    write_idx(tmp_path / "l", np.arange(7, dtype=np.uint8))
    np.testing.assert_array_equal(read_idx(tmp_path / "l"), np.arange(7))
    f = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    write_idx(tmp_path / "f", f)
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), f)


def test_wrong_magic(tmp_path):
    (tmp_path / "x").write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(IDXError, match="wrong magic number"):
        read_idx(tmp_path / "x")


def test_truncated_data(tmp_path):
    write_idx(tmp_path / "t", np.zeros((4, 3, 3), np.uint8))
    raw = (tmp_path / "t").read_bytes()
    (tmp_path / "t").write_bytes(raw[:-5])
    with pytest.raises(IDXError, match="truncated"):
        read_idx(tmp_path / "t")
    (tmp_path / "h").write_bytes(raw[:6])
    with pytest.raises(IDXError, match="truncated header"):
        read_idx(tmp_path / "h")


def test_broken_gzip(tmp_path):
    (tmp_path / "b.gz").write_bytes(b"not gzip at all")
    with pytest.raises(IDXError, match="gzip"):
        read_idx(tmp_path / "b.gz")
    good = gzip.compress(bytes([0, 0, 8, 1]) + np.asarray([3], ">i4").tobytes() + b"abc")
    (tmp_path / "c.gz").write_bytes(good[:-6])
    with pytest.raises(IDXError):
        read_idx(tmp_path / "c.gz")


def test_missing_file(tmp_path):
    with pytest.raises(IDXError, match="cannot read"):
        read_idx(tmp_path / "nope")
