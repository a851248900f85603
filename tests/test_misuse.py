"""One case per kind of misuse or edge case: PyTorch's answer (its subgradient conventions
included) or a clear error that names the problem -- never a silent wrong number or a raw
NumPy traceback from deep inside."""
import math

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn, optim

from .conftest import to_np


# ------------------------------------------------------------------ silent wrong answers
def test_std_at_zero_variance_has_gradient_zero():
    x = minigan.tensor([2.0, 2.0, 2.0], requires_grad=True)
    s = x.std()
    s.backward()
    assert s.item() == 0.0
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_norm_at_zero_has_gradient_zero(p):
    x = minigan.tensor([0.0, 0.0], requires_grad=True)
    x.norm(p=p).backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0])


def test_norm_of_tiny_and_huge_values_does_not_under_or_overflow():
    x = minigan.tensor([1e-200], dtype="float64", requires_grad=True)
    n = x.norm()
    n.backward()
    assert n.item() == pytest.approx(1e-200, rel=1e-12)
    np.testing.assert_allclose(to_np(x.grad), [1.0])
    big = minigan.tensor([3e200, 4e200], dtype="float64")
    assert big.norm().item() == pytest.approx(5e200, rel=1e-12)
    h = minigan.tensor([3e30, 4e30])                       # float32: squares would overflow
    assert math.isfinite(h.norm().item()) and h.norm().item() == pytest.approx(5e30, rel=1e-6)


def test_norm_keeps_its_value_and_derivatives():
    x = minigan.randn(3, 4, dtype="float64", requires_grad=True)
    np.testing.assert_allclose(x.norm(dim=1).numpy(), np.linalg.norm(x.numpy(), axis=1))
    np.testing.assert_allclose(x.norm(p=3).item(), np.sum(np.abs(x.numpy()) ** 3) ** (1 / 3))
    assert minigan.gradgradcheck(lambda t: t.norm(dim=1, keepdim=True), (x,))
    assert minigan.gradgradcheck(lambda t: t.norm(p=3), (x,))


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "max", "logsumexp"])
def test_empty_dim_tuple_reduces_over_every_dim(op):
    x = minigan.randn(2, 3, dtype="float64")
    np.testing.assert_allclose(getattr(x, op)(dim=()).numpy(), getattr(x, op)().numpy())


def test_flatten_with_start_after_end_is_refused():
    with pytest.raises(ValueError, match="start_dim 1 comes after end_dim 0"):
        minigan.randn(2, 1, 3).flatten(1, 0)


@pytest.mark.parametrize("fn", ["sigmoid", "tanh", "exp", "log", "sqrt", "softplus"])
def test_float_functions_of_integer_tensors_give_floats(fn):
    x = minigan.tensor([1, 2, 3])
    y = getattr(minigan, fn)(x) if hasattr(minigan, fn) else getattr(F, fn)(x)
    assert y.dtype == minigan.float32
    ref = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "exp": np.exp,
           "log": np.log, "sqrt": np.sqrt, "softplus": lambda v: np.log1p(np.exp(v))}[fn]
    np.testing.assert_allclose(y.numpy(), ref(np.array([1.0, 2.0, 3.0])), rtol=1e-6)


@pytest.mark.parametrize("opt, kw", [("Adam", {"lr": float("nan")}),
                                     ("Adam", {"eps": float("nan")}),
                                     ("Adam", {"betas": (float("nan"), 0.9)}),
                                     ("SGD", {"lr": float("nan")}),
                                     ("SGD", {"lr": 0.1, "momentum": float("nan")}),
                                     ("RMSprop", {"lr": float("nan")})])
def test_optimizers_refuse_nan_hyper_parameters(opt, kw):
    with pytest.raises(ValueError, match="nan"):
        getattr(optim, opt)(nn.Linear(2, 2).parameters(), **kw)


def test_batch_norm_with_eps_zero_is_refused_not_nan():
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(minigan.ones(4, 2), None, None, training=True, eps=0.0)


def test_grad_of_an_output_that_does_not_use_the_input_raises():
    x = minigan.randn(3, requires_grad=True)
    y = minigan.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="was not used"):
        minigan.grad((y * 2).sum(), x)


def test_a_gradient_penalty_under_no_grad_raises_instead_of_becoming_a_constant():
    from minigan.gan import losses
    D = nn.Linear(2, 1)
    with minigan.no_grad():
        with pytest.raises(RuntimeError, match="does not require grad"):
            losses.gradient_penalty(D, minigan.randn(4, 2), minigan.randn(4, 2))


# --------------------------------------------------------- raw errors where PyTorch answers
def test_mean_over_an_empty_batch_is_nan_and_its_backward_works():
    logits = minigan.zeros(0, 1, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, minigan.zeros(0, 1))
    assert math.isnan(loss.item())
    loss.backward()
    assert logits.grad.shape == (0, 1)


def test_log_softmax_and_logsumexp_over_a_size_zero_dim():
    x = minigan.zeros(2, 0)
    np.testing.assert_array_equal(x.logsumexp(dim=1).numpy(), [-np.inf, -np.inf])
    assert minigan.log_softmax(x, dim=1).shape == (2, 0)
    assert minigan.softmax(x, dim=1).shape == (2, 0)


def test_reductions_of_a_zero_dim_tensor_accept_dim_0_and_minus_1():
    t = minigan.tensor(3.0)
    assert t.sum(dim=0).item() == 3.0 and t.mean(dim=-1).item() == 3.0
    assert math.isnan(t.var(dim=0).item())          # one element, n - 1 = 0: NaN as in PyTorch
    with pytest.raises(IndexError, match="dimension 1 of a tensor with 0 dimensions"):
        t.sum(dim=1)


@pytest.mark.parametrize("fn", ["randn", "rand"])
def test_half_precision_random_tensors(fn):
    x = getattr(minigan, fn)(3, 2, dtype="float16")
    assert x.dtype == minigan.float16 and x.shape == (3, 2)


# ----------------------------------------------------------------- misleading errors
def test_a_numpy_array_given_to_a_layer_is_named_as_such():
    with pytest.raises(TypeError, match="argument 0 is a numpy.ndarray, not a minigan Tensor"):
        nn.Linear(3, 4)(np.ones((2, 3), np.float32))


# ------------------------------------------------------------------------ CLI and files
def _cli(*argv):
    from minigan.commands import cli
    return cli.main(list(argv))


def test_a_barely_trained_dcgan_still_writes_its_summary(tmp_path, capsys):
    out = tmp_path / "d"
    assert _cli("images", "--model", "dcgan", "--quick", "--steps", "2", "--out", str(out),
                "--no-progress") == 0
    import json
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 2
    assert str(summary["arithmetic"]).startswith("skipped") or "arithmetic_class" in summary


def test_a_setting_given_with_resume_is_refused_not_ignored(tmp_path, capsys):
    out = tmp_path / "v"
    assert _cli("images", "--model", "vae", "--quick", "--steps", "3", "--out", str(out),
                "--no-progress") == 0
    assert _cli("images", "--model", "vae", "--quick", "--steps", "3", "--out", str(out),
                "--no-progress", "--resume", "--lr", "1e6") == 1
    assert "trained with lr=0.001 (now 1000000.0)" in capsys.readouterr().err


def test_out_under_a_regular_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert _cli("images", "--model", "vae", "--quick", "--steps", "1", "--out",
                str(tmp_path / "file" / "run"), "--no-progress") == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_outputs_replace_a_symlink_instead_of_writing_through_it(tmp_path):
    from minigan.serialization import save_json
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").symlink_to(outside)
    save_json(run / "summary.json", {"a": 1})
    assert outside.read_text() == "keep me"
    assert not (run / "summary.json").is_symlink()
    assert (run / "summary.json").read_text() == '{"a": 1}'


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "missing" / "ck.npz"
    with pytest.raises(FileNotFoundError, match="its folder .*missing.* does not exist"):
        minigan.save({"a": 1}, target)
    assert not list(tmp_path.glob("**/*.tmp"))


def test_a_temporary_file_left_by_a_killed_writer_is_removed_by_the_next_save(tmp_path):
    import subprocess
    import sys
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".ck.npz.{dead.pid}.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    minigan.save({"a": 1}, tmp_path / "ck.npz")
    assert not stale.exists()
    assert minigan.load(tmp_path / "ck.npz") == {"a": 1}


def test_a_nan_stop_names_the_checkpoint_it_kept(tmp_path):
    from minigan import gan
    from minigan.data import toy
    minigan.manual_seed(0)
    G, D = gan.mlp_generator(), gan.mlp_discriminator()
    poisoned = {"on": False}

    def data(n):
        x = toy.Gaussian1D().sample(n)
        return x * float("nan") if poisoned["on"] else x
    tr = gan.GANTrainer(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()), data,
                        toy.GaussianNoise(), batch_size=8, checkpoint_path=tmp_path / "ck.npz",
                        checkpoint_every=2)
    tr.train(4)
    poisoned["on"] = True
    with pytest.raises(gan.NonFiniteLossError,
                       match=r"step 5 .*the last good checkpoint, .*ck.npz at step 4, is kept"):
        tr.train(1)


def _write_zip(path, entries):
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)


def _npy_bytes(arr=None, header=None, body=b""):
    import io
    f = io.BytesIO()
    if header is None:
        np.save(f, arr)
        return f.getvalue()
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue() + body


def _forged_checkpoint(path, structure, extra=None):
    import json
    meta = json.dumps({"format": "minigan-checkpoint", "version": 1}).encode()
    entries = {"__minigan__.npy": _npy_bytes(np.frombuffer(meta, np.uint8)),
               "__structure__.npy": _npy_bytes(np.frombuffer(structure.encode(), np.uint8))}
    entries.update(extra or {})
    _write_zip(path, entries)


def test_loading_refuses_an_array_header_larger_than_its_bytes(tmp_path):
    from minigan.serialization import CheckpointError
    forged = _npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": (2 ** 40,)},
                        body=b"\0" * 8)
    _forged_checkpoint(tmp_path / "big.npz", '{"$array": "a0", "kind": "ndarray"}',
                       {"a0.npy": forged})
    with pytest.raises(CheckpointError, match="claims shape .* but holds"):
        minigan.load(tmp_path / "big.npz")


def test_loading_refuses_a_deeply_nested_structure(tmp_path):
    from minigan.serialization import CheckpointError
    _forged_checkpoint(tmp_path / "deep.npz", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="nests more than"):
        minigan.load(tmp_path / "deep.npz")


def test_loading_refuses_more_bytes_than_the_limit(tmp_path, monkeypatch):
    from minigan import serialization
    minigan.save({"w": minigan.zeros(1000)}, tmp_path / "ck.npz")
    monkeypatch.setattr(serialization, "MAX_BYTES", 1000)
    with pytest.raises(serialization.CheckpointError, match="would decompress to .* refused"):
        minigan.load(tmp_path / "ck.npz")


def test_loading_refuses_a_zip_bomb(tmp_path):
    import zipfile
    from minigan.serialization import CheckpointError
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", b"\0" * (120 << 20))           # 120 MiB of zeros: ~120 kB
    with pytest.raises(CheckpointError, match="would decompress"):
        minigan.load(path)


def _interrupted_and_resumed(tmp_path, monkeypatch, flags, die_at):
    """Run ``flags`` straight, and again killed (KeyboardInterrupt) before step ``die_at + 1``
    then resumed: returns the two output folders."""
    from minigan.gan.train import GANTrainer
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    assert _cli(*flags, "--out", str(straight)) == 0
    real_step = GANTrainer.train_step

    def dies(self):
        if self.step == die_at:
            raise KeyboardInterrupt
        return real_step(self)
    monkeypatch.setattr(GANTrainer, "train_step", dies)
    assert _cli(*flags, "--out", str(cut)) == 130
    monkeypatch.setattr(GANTrainer, "train_step", real_step)
    assert _cli(*flags, "--out", str(cut), "--resume") == 0
    np.testing.assert_array_equal(np.load(cut / "samples.npy"), np.load(straight / "samples.npy"))
    return straight, cut


def test_an_interrupted_toy_run_resumes_bit_for_bit(tmp_path, monkeypatch):
    flags = ["toy", "--quick", "--steps", "40", "--no-figures"]
    _, cut = _interrupted_and_resumed(tmp_path, monkeypatch, flags, die_at=25)  # ckpt at 20
    assert _cli("toy", "--quick", "--steps", "41", "--no-figures", "--out", str(cut),
                "--resume") == 1                                    # another run: refused


def test_an_interrupted_mode_study_run_resumes_bit_for_bit(tmp_path, monkeypatch):
    import json
    flags = ["toy", "--dist", "ring8", "--quick", "--steps", "30", "--hidden", "16",
             "--no-figures"]
    straight, cut = _interrupted_and_resumed(tmp_path, monkeypatch, flags, die_at=17)
    track = [json.loads((d / "history.json").read_text())["track"] for d in (straight, cut)]
    assert track[0] == track[1]
    assert _cli(*flags, "--out", str(cut), "--resume", "--seed", "1") == 1
