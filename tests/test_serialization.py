"""Tests of minigan.save / minigan.load: exact round trips of nested structures, atomic
writes (a crash mid-save keeps the old file), and refusal of truncated, foreign and pickled
files (with proof that nothing from a pickled file was executed)."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigan
from minigan import backend, nn, optim, serialization
from minigan.autograd import Tensor
from minigan.serialization import CheckpointError


def sample_obj():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = optim.Adam(net.parameters(), amsgrad=True)
    net(minigan.randn(5, 3)).sum().backward()
    opt.step()
    return {
        "model": net.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": backend.get_rng_state(),
        "step": 12345678901234567890,            # bigger than int64: JSON keeps it exact
        "lr": 2e-4, "inf": float("inf"), "neg": -0.0, "flag": True, "none": None,
        "name": "dcgan ✓", "tuple": (1, (2.5, "x")), "list": [1, [2, {"deep": np.arange(3)}]],
        "f16": np.ones((2, 2), dtype=np.float16), "u8": np.arange(4, dtype=np.uint8),
        "bool": np.array([True, False]), "scalar32": np.float32(1.25), "i64": np.int64(-3),
        "empty": np.zeros((0, 3)), "zero_d": Tensor(np.array(7.5)),
        "param": nn.Parameter(np.ones(2)), "leaf": Tensor(np.ones(2), requires_grad=True),
        3: "int key", (1, "a"): "tuple key", 0.5: "float key",
    }


def assert_same(a, b, path="obj"):
    assert type(a) is type(b), f"{path}: {type(a)} vs {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), path
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float):
        assert a == b and str(a) == str(b), path          # -0.0 and inf survive
    else:
        assert a == b, path


def test_round_trip_exact(tmp_path):
    obj = sample_obj()
    path = tmp_path / "ck.npz"
    assert minigan.save(obj, path) == str(path)
    back = minigan.load(path)
    assert_same(obj, back)
    assert isinstance(back["param"], nn.Parameter)
    with np.load(path, allow_pickle=False) as npz:            # a plain, pickle-free npz
        assert all(npz[k].dtype != object for k in npz.files)


def test_rng_state_resume(tmp_path):
    dev = backend.default_device()        # randn draws there: save that device's stream
    minigan.manual_seed(5)
    minigan.randn(3)
    minigan.save({"rng": backend.get_rng_state(dev)}, tmp_path / "r.npz")
    a = minigan.randn(4).numpy()
    backend.set_rng_state(minigan.load(tmp_path / "r.npz")["rng"], dev)
    np.testing.assert_array_equal(minigan.randn(4).numpy(), a)


def test_model_and_optimizer_restore(tmp_path):
    net = nn.Linear(3, 2)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(minigan.randn(4, 3)).sum().backward()
    opt.step()
    minigan.save({"m": net.state_dict(), "o": opt.state_dict()}, tmp_path / "c.npz")
    ck = minigan.load(tmp_path / "c.npz")
    net2 = nn.Linear(3, 2)
    opt2 = optim.SGD(net2.parameters(), lr=0.1, momentum=0.9)
    net2.load_state_dict(ck["m"])
    opt2.load_state_dict(ck["o"])
    for p, q in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(),
                                      opt2.state[q]["momentum_buffer"].numpy())


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store set"):
        minigan.save({"a": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="object arrays"):
        minigan.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dict key"):
        minigan.save({object(): 1}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)                          # nothing left behind


def test_crash_mid_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    minigan.save({"w": np.arange(5.0), "step": 1}, path)
    before = path.read_bytes()

    def crashing_write(f, entries):
        f.write(b"PK\x03\x04 half of a zip file")            # some bytes reach the disk ...
        raise KeyboardInterrupt("power cut")                  # ... and then the crash

    monkeypatch.setattr(serialization, "_write_npz", crashing_write)
    with pytest.raises(KeyboardInterrupt):
        minigan.save({"w": np.zeros(5), "step": 2}, path)
    assert path.read_bytes() == before
    assert minigan.load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ck.npz"]                 # the temp file was removed

    # a crash at the rename itself: old file intact too
    monkeypatch.undo()
    def failing_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        minigan.save({"step": 3}, path)
    monkeypatch.undo()
    assert minigan.load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_truncated_file_gets_clear_error(tmp_path):
    path = tmp_path / "ck.npz"
    minigan.save(sample_obj(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            minigan.load(bad)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        minigan.load(empty)
    with pytest.raises(FileNotFoundError):
        minigan.load(tmp_path / "missing.npz")


def test_foreign_files_get_clear_errors(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.ones(3))
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        minigan.load(plain)
    npy = tmp_path / "one.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        minigan.load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        minigan.load(text)
    z = tmp_path / "other.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "not numpy")
    with pytest.raises(CheckpointError):
        minigan.load(z)


class Evil:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_content_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "PWNED"
    # 1. an npz whose arrays include an object array (np.savez pickles it)
    bad = tmp_path / "evil.npz"
    minigan.save({"w": np.ones(2)}, bad)
    with np.load(bad, allow_pickle=False) as npz:
        entries = {k: npz[k] for k in npz.files}
    entries["a0"] = np.array([Evil(str(marker))], dtype=object)
    np.savez(bad, **entries)
    with pytest.raises(CheckpointError, match="pickle"):
        minigan.load(bad)
    # 2. a plain pickle file (what torch.save / pickle.dump write)
    pk = tmp_path / "evil.pt"
    pk.write_bytes(pickle.dumps(Evil(str(marker))))
    with pytest.raises(CheckpointError, match="pickle"):
        minigan.load(pk)
    assert not marker.exists()


def test_map_location_and_device(device, tmp_path):
    t = minigan.randn(3, device=device)
    minigan.save({"t": t, "a": t.array}, tmp_path / "d.npz")
    back = minigan.load(tmp_path / "d.npz")
    assert back["t"].device == device
    cpu = minigan.load(tmp_path / "d.npz", map_location="cpu")
    assert cpu["t"].device == "cpu" and isinstance(cpu["a"], np.ndarray)
    np.testing.assert_array_equal(cpu["t"].numpy(), t.numpy())
