"""Fused elementwise kernels (``minigan.fused``) and the fused Adam step that uses them on a GPU.

The kernel text is CUDA C and Python at once: here its Python form is checked against the
array operations it replaces, bit for bit; on a machine with CuPy and a GPU the ``device``
fixture's "cuda" run checks the compiled CUDA kernel against the CPU's numbers, bit for bit.
"""
import numpy as np
import pytest

import minigan
from minigan import backend, nn
from minigan import fused as fused_module
from minigan.fused import ElementwiseKernel
from minigan.optim import adam as adam_module

from .conftest import to_np


def test_a_kernel_runs_its_statements_as_array_arithmetic(device):
    k = ElementwiseKernel("T x, T a", "T y, T z", "T t = x * a;\ny = y + t;\nz = sqrt(t);",
                          "test_axpy")
    xp = backend.get_xp(device)
    x = backend.as_array(np.array([1.0, 4.0, 9.0], np.float32), device=device)
    y = xp.ones(3, dtype=np.float32)
    z = xp.zeros(3, dtype=np.float32)
    k(x, 2, y, z)
    np.testing.assert_array_equal(to_np(y), [3.0, 9.0, 19.0])
    np.testing.assert_allclose(to_np(z), np.sqrt([2.0, 8.0, 18.0]), rtol=1e-6)
    assert y.dtype == np.float32 and z.dtype == np.float32      # 2 became a float32 scalar


def test_a_kernel_refuses_the_wrong_number_of_arguments():
    k = ElementwiseKernel("T x", "T y", "y = x;", "test_copy")
    with pytest.raises(TypeError, match="takes 1 inputs and 1 outputs, got 3"):
        k(np.ones(2), np.ones(2), np.ones(2))


def _adam_run(device, betas, weight_decay, fused, monkeypatch, dtype="float32", steps=5):
    """Parameters after ``steps`` Adam steps on fixed gradients (the same on every device)."""
    if fused is not None:
        monkeypatch.setattr(fused_module, "use_kernels", lambda xp: fused)
    rng = np.random.default_rng(0)
    lin = nn.Linear(7, 5, dtype=dtype, device=device)
    for p in lin.parameters():
        p.array[...] = backend.as_array(rng.standard_normal(p.shape), dtype=p.dtype,
                                        device=device)
    opt = minigan.optim.Adam(lin.parameters(), lr=1e-2, betas=betas, eps=1e-8,
                             weight_decay=weight_decay)
    for _ in range(steps):
        for p in lin.parameters():
            p.grad = minigan.tensor(rng.standard_normal(p.shape), dtype=dtype, device=device)
        opt.step()
    return [to_np(p) for p in lin.parameters()] + [
        to_np(opt.state[p][k]) for p in lin.parameters() for k in ("exp_avg", "exp_avg_sq")]


@pytest.mark.parametrize("betas", [(0.5, 0.999), (0.9, 0.99)])   # both of _lerp_'s forms
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_the_fused_adam_step_is_the_array_step_bit_for_bit(betas, weight_decay, monkeypatch):
    """The kernel's Python form on the CPU against the per-parameter array operations."""
    plain = _adam_run("cpu", betas, weight_decay, False, monkeypatch)
    fused = _adam_run("cpu", betas, weight_decay, True, monkeypatch)
    for a, b in zip(plain, fused):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("betas, weight_decay", [((0.5, 0.999), 0.0), ((0.9, 0.999), 0.1)])
def test_adam_on_the_device_gives_the_cpus_numbers(device, dtype, betas, weight_decay,
                                                   monkeypatch):
    """On a GPU the step is the compiled kernel (built without fused multiply-adds): the
    same numbers as the CPU's array operations, bit for bit, in both of m's forms."""
    if device == "cpu":
        pytest.skip("the GPU's kernel; on the CPU both sides are the array operations")
    cpu = _adam_run("cpu", betas, weight_decay, None, monkeypatch, dtype)
    here = _adam_run(device, betas, weight_decay, None, monkeypatch, dtype)
    for a, b in zip(cpu, here):
        np.testing.assert_array_equal(a, b)
    kernel = adam_module._ADAM_FAR if betas[0] >= 0.5 else adam_module._ADAM_NEAR
    if hasattr(backend.get_xp(device), "ElementwiseKernel"):
        assert np.dtype(dtype) in kernel._gpu_ran      # the CUDA kernel, not the fallback


def test_numbers_of_any_kind_become_the_arrays_dtype():
    """A NumPy float64 learning rate must not make a float32 kernel compute in float64."""
    k = ElementwiseKernel("T x, T a", "T y", "y = x * a;", "test_scale")
    x = np.float32([1 / 3, 2 / 3])
    y1, y2 = np.empty_like(x), np.empty_like(x)
    k(x, 0.1, y1)
    k(x, np.float64(0.1), y2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, x * np.float32(0.1))


@pytest.mark.parametrize("affine", [True, False])
def test_the_fused_batch_norm_input_gradient_is_the_array_one_bit_for_bit(affine, monkeypatch):
    """Batch norm's dL/dx on a GPU is one kernel; its Python form on the CPU against the five
    array passes it replaces."""
    from minigan import functional as F
    from minigan.ops import norm

    def grads(fused):
        monkeypatch.setattr(fused_module, "use_kernels", lambda xp: fused)
        minigan.manual_seed(3)                          # the same conv weights both times
        rng = np.random.default_rng(3)
        conv = nn.Conv2d(2, 4, 3, padding=1)            # batch-last memory: the rows path
        x = minigan.tensor(rng.standard_normal((5, 2, 6, 6)), dtype="float32")
        h = conv(x).detach().requires_grad_()
        w = minigan.tensor(rng.standard_normal(4) + 1, dtype="float32", requires_grad=True)
        b = minigan.tensor(rng.standard_normal(4), dtype="float32", requires_grad=True)
        y = F.batch_norm(h, None, None, w if affine else None, b if affine else None,
                         training=True)
        y.backward(minigan.tensor(rng.standard_normal(y.shape), dtype="float32"))
        return [to_np(t.grad) for t in ((h, w, b) if affine else (h,))]
    for a, b in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a, b)


def test_the_fused_adam_step_takes_a_gradient_of_another_precision(monkeypatch):
    """A float64 gradient set by hand on a float32 parameter: the kernel (one dtype for all
    its arrays) gets it cast, and the step stays within float32 rounding of the array path."""
    def run(fused):
        monkeypatch.setattr(fused_module, "use_kernels", lambda xp: fused)
        p = minigan.tensor(np.linspace(-1, 1, 6), dtype="float32", requires_grad=True)
        opt = minigan.optim.Adam([p], lr=0.1)
        p.grad = minigan.tensor(np.linspace(0.3, -0.2, 6), dtype="float64")
        opt.step()
        return to_np(p)
    np.testing.assert_allclose(run(True), run(False), rtol=1e-6)
