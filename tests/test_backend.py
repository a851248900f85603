"""The backend door: one module imports the array libraries; devices, seeds and errors."""
import ast
import pathlib

import numpy as np
import pytest

import minigan
from minigan import backend

from .conftest import to_np

PKG = pathlib.Path(minigan.__file__).parent
# Host-side modules work on NumPy arrays by design (densities, figures, files on disk); the
# engine (autograd, ops, functional, nn, optim, gan ...) must get its module from its arrays.
HOST_SIDE = {"backend.py", "serialization.py", "data/__init__.py", "data/idx.py", "data/toy.py",
             "evaluation/theory.py", "evaluation/metrics.py", "evaluation/modes.py",
             "evaluation/scoring.py", "experiments/toy1d.py", "lab/__init__.py"}


def _imports_array_library(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:          # top-level imports only: that is the contract
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for n in names:
            if n.split(".")[0] in ("numpy", "cupy", "cupyx"):
                return n
    return None


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel in HOST_SIDE or rel.startswith(("commands/", "plots/")):
            continue
        mod = _imports_array_library(path)
        if mod:
            offenders.append(f"{rel} imports {mod}")
    assert not offenders, "use minigan.backend instead: " + "; ".join(offenders)


def test_import_minigan_is_light():
    import subprocess
    import sys
    code = ("import sys, minigan; heavy = [m for m in ('matplotlib', 'scipy', 'sklearn') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_device_names():
    assert backend.Device("cpu") == "cpu"
    assert backend.Device("cuda") == backend.Device("cuda:0")
    assert str(backend.Device("cuda:1")) == "cuda:1"
    with pytest.raises(ValueError, match="unknown device"):
        backend.Device("tpu")
    assert minigan.zeros(2).device == backend.default_device()
    assert minigan.zeros(2, device="cpu").device == "cpu"


@pytest.mark.skipif(backend.cupy_available(), reason="CuPy is present here")
def test_missing_cupy_gives_a_clear_error():
    with pytest.raises(RuntimeError, match=r"pip install -e \.\[gpu\]"):
        minigan.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        minigan.tensor([1.0]).to("cuda")


def test_mixed_devices_are_refused_with_the_op_name():
    class OtherDeviceArray(np.ndarray):
        """Stands in for a CuPy array on machines without a GPU: a different array type."""
    a = minigan.tensor([1.0, 2.0])
    b = minigan.Tensor(np.array([1.0, 2.0], dtype=np.float32).view(OtherDeviceArray))
    with pytest.raises(RuntimeError, match="Add: all inputs must be on the same device"):
        a + b
    # a non-Tensor among them is named first, wherever it stands (not a crash in the device
    # message, which reads every input's device)
    class Three(minigan.autograd.Function):
        def forward(self, x, y, z):
            return x + y + z

    with pytest.raises(TypeError, match="Three: argument 2 is a float, not a minigan Tensor"):
        Three()(a, b, 3.0)


def test_mixed_real_devices(device):
    if device == "cpu":
        pytest.skip("needs a GPU")
    a = minigan.tensor([1.0], device="cpu")
    b = minigan.tensor([1.0], device=device)
    with pytest.raises(RuntimeError, match="same device"):
        a * b


def test_manual_seed_repeats_bit_for_bit():
    minigan.manual_seed(123)

    def draws():
        return (minigan.randn(4), minigan.rand(3), minigan.randint(0, 10, (5,)),
                minigan.normal(2, 3, (2,)))
    a = draws()
    minigan.manual_seed(123)
    b = draws()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    minigan.manual_seed(124)
    assert not np.array_equal(minigan.randn(4).numpy(), a[0].numpy())


def test_rng_state_round_trip():
    dev = backend.default_device()        # randn draws there: save that device's stream
    minigan.manual_seed(5)
    state = backend.get_rng_state(dev)
    x = minigan.randn(3).numpy()
    backend.set_rng_state(state, dev)
    np.testing.assert_array_equal(minigan.randn(3).numpy(), x)


def test_random_constructors_statistics():
    minigan.manual_seed(0)
    z = minigan.normal(4.0, 0.5, (20000,)).numpy()
    assert abs(z.mean() - 4.0) < 0.02 and abs(z.std() - 0.5) < 0.02
    u = minigan.uniform(-1.0, 3.0, (20000,)).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    k = minigan.randint(3, 6, (1000,)).numpy()
    assert set(np.unique(k)) == {3, 4, 5}


def test_bad_seed():
    with pytest.raises(ValueError, match="non-negative integer"):
        minigan.manual_seed(-1)


def test_scatter_add_accumulates_repeats():
    t = np.zeros(3)
    backend.scatter_add(t, np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(t, [3.0, 0.0, 5.0])


@pytest.mark.parametrize("rows_shape, rest", [((7,), (3,)), ((2, 5), (2, 2)), ((4,), ()),
                                               ((0,), (3,))])
def test_scatter_add_rows_is_add_at(rows_shape, rest):
    """The GPU's fixed-order scatter-add (a one-hot GEMM) sums what ``add.at`` sums: repeated
    and negative row numbers, several index dimensions, rows of any shape. Integer-valued
    numbers, so that every order of summation is exact and the comparison can be equality."""
    rng = np.random.default_rng(0)
    rows = rng.integers(-4, 4, rows_shape)
    values = rng.integers(-9, 9, rows_shape + rest).astype(np.float32)
    want = np.zeros((4,) + rest, np.float32)
    np.add.at(want, rows, values)
    got = np.zeros((4,) + rest, np.float32)
    backend._scatter_add_rows(got, rows, values)
    np.testing.assert_array_equal(got, want)


def test_scatter_add_rows_keeps_inf_and_nan_in_their_rows():
    """0 * inf is NaN: a one-hot product alone would spread one bad value over every row."""
    rows = np.array([0, 1, 0, 2])
    values = np.array([[np.inf, 1.0], [2.0, 3.0], [1.0, np.nan], [4.0, -np.inf]], np.float32)
    want = np.zeros((4, 2), np.float32)
    np.add.at(want, rows, values)
    got = np.zeros((4, 2), np.float32)
    backend._scatter_add_rows(got, rows, values)
    np.testing.assert_array_equal(got, want)          # (NaN where add.at has NaN)


def test_scatter_add_on_the_device_matches_numpy(device):
    """Rows (the one-hot path on a GPU) and a two-array index (``add.at`` there) alike."""
    if device == "cpu":
        pytest.skip("the GPU's paths; on the CPU both sides are np.add.at")
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 5, 12)
    values = rng.integers(-9, 9, (12, 3)).astype(np.float32)
    for index, shape in (((rows,), (5, 3)), ((rows, rows % 3), (5, 3))):
        v = values if len(index) == 1 else values[:, 0]
        want = np.zeros(shape, np.float32)
        np.add.at(want, index, v)
        got = backend.as_array(np.zeros(shape, np.float32), device=device)
        dev_index = tuple(backend.as_array(i, device=device) for i in index)
        backend.scatter_add(got, dev_index, backend.as_array(v, device=device))
        np.testing.assert_array_equal(backend.to_numpy(got), want)


def test_numpy_interop():
    x = minigan.tensor([1.0, 2.0])
    assert isinstance(np.asarray(x), np.ndarray)
    y = np.array([1.0, 1.0], dtype=np.float32) + x       # ndarray + Tensor -> Tensor
    assert isinstance(y, minigan.Tensor)
    np.testing.assert_array_equal(y.numpy(), [2.0, 3.0])
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [1.0, 2.0]
    assert minigan.tensor(np.arange(3.0)).dtype == np.float64   # arrays keep their dtype
    assert "tensor([1., 2.]" in repr(x)


def test_same_results_on_every_backend(device):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 3)).astype(np.float32)
    ws = rng.standard_normal((2, 3)).astype(np.float32)
    out = {}
    for dev in ("cpu", device):
        x = minigan.tensor(xs, device=dev, requires_grad=True)
        w = minigan.tensor(ws, device=dev, requires_grad=True)
        loss = minigan.functional.binary_cross_entropy_with_logits(
            minigan.functional.linear(x.tanh(), w), minigan.ones(4, 2, device=dev))
        loss.backward()
        out[dev] = (to_np(loss), to_np(x.grad), to_np(w.grad))
        assert x.grad.device == dev
    for a, b in zip(out["cpu"], out[device]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_shape_mismatch_names_the_op_and_both_shapes():
    a, b = minigan.zeros(2, 3), minigan.zeros(4)
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        a * b
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 1\) do not fit"):
        a @ minigan.zeros(4, 1)
    with pytest.raises(ValueError, match=r"reshape: cannot view a tensor of shape \(2, 3\)"):
        a.reshape(4, 2)
