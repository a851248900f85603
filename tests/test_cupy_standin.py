"""The CuPy stand-in is strict where CuPy is: if it let host arrays through, the stand-in run
of the suite would prove nothing about the GPU path.

These checks run in a subprocess with the stand-in first on the path, so that they run (and
can fail) on every run of the suite without making the stand-in the "cuda" device of the
NumPy run.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import STANDIN


def _run(code):
    env = {**os.environ, "PYTHONPATH": STANDIN}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_it_is_the_stand_in_that_gets_imported():
    out = _run("""
        import cupy, cupyx
        print(cupy.__version__, cupy.__file__)
    """)
    assert "+standin" in out and "cupy_standin" in out


def test_host_and_device_do_not_mix():
    _run("""
        import numpy as np, cupy as cp, pytest
        d = cp.asarray(np.arange(6.0).reshape(2, 3))
        host = np.ones(3)
        for bad in (lambda: np.asarray(d), lambda: d + host, lambda: host + d,
                    lambda: d * np.asarray(2.0), lambda: cp.exp(host),
                    lambda: cp.concatenate([d, np.ones((1, 3))]), lambda: cp.where(d > 1, d, host),
                    lambda: cp.ascontiguousarray(host), lambda: d.sum(out=np.zeros(()))):
            with pytest.raises(TypeError):
                bad()
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
            np.asarray(d)
        with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
            d[0] = np.zeros(3)                      # a basic-index assignment of host data
        d[np.array([1])] = np.zeros((1, 3))         # advanced indexing copies it, as CuPy
        d[0] = np.float32(7.0)                      # scalars are fine
        assert (d * np.float64(2) + 1).get().tolist() == [[15.0] * 3, [1.0] * 3]
        # NumPy functions on device arrays run on the device (__array_function__/ufunc)
        assert isinstance(np.exp(d), cp.ndarray) and isinstance(np.sum(d, axis=0), cp.ndarray)
        assert isinstance(d.get(), np.ndarray) and isinstance(cp.asnumpy(d), np.ndarray)
    """)


def test_views_and_zero_d_results_behave_as_on_cupy():
    _run("""
        import numpy as np, cupy as cp
        d = cp.zeros((2, 2))
        v = d[0, 1]                                  # a 0-d view, not a scalar copy
        d[0, 1] += 5.0
        assert isinstance(v, cp.ndarray) and float(v) == 5.0
        s = d.sum()
        assert isinstance(s, cp.ndarray) and s.shape == () and float(s) == 5.0
        assert d[0, 1].item() == 5.0 and isinstance(d[0, 1].item(), float)
        assert not isinstance(d, np.ndarray)
    """)


def test_only_cupys_random_generator_methods_and_a_state_in_device_memory():
    _run("""
        import numpy as np, cupy as cp
        g = cp.random.default_rng(0)
        for missing in ("permutation", "choice", "shuffle", "normal"):
            assert not hasattr(g, missing), missing
        x = g.standard_normal((3,), dtype=np.float32)
        assert isinstance(x, cp.ndarray) and x.dtype == np.float32
        saved = g.bit_generator._state.get()
        a = g.random(4).get()
        g.bit_generator._state[...] = cp.asarray(saved)
        np.testing.assert_array_equal(g.random(4).get(), a)
        assert isinstance(g.integers(0, 5, size=3), cp.ndarray)
    """)


def test_scatter_add_has_cupys_dtype_limits():
    _run("""
        import numpy as np, cupy as cp, cupyx, pytest
        t = cp.zeros(3, dtype=np.float32)
        cupyx.scatter_add(t, cp.asarray([0, 0, 2]), cp.ones(3, dtype=np.float32))
        assert t.get().tolist() == [2.0, 0.0, 1.0]
        with pytest.raises(TypeError, match="scatter_add only supports"):
            cupyx.scatter_add(cp.zeros(3, dtype=np.int64), cp.asarray([0]), 1)
        with pytest.raises(TypeError):
            cupyx.scatter_add(t, cp.asarray([0]), np.ones(1, dtype=np.float32))
    """)


def test_names_cupy_lacks_are_missing_and_dtypes_are_cupys():
    _run("""
        import numpy as np, cupy as cp, pytest
        for name in ("random.Generator.permutation", "fromstring", "object_", "str_"):
            obj = cp
            with pytest.raises(AttributeError):
                for part in name.split("."):
                    obj = getattr(obj, part)
        with pytest.raises(ValueError, match="Unsupported dtype"):
            cp.asarray(np.array(["a"]))
        with pytest.raises(ValueError, match="Unsupported dtype"):
            cp.asarray(np.ones(2, dtype=np.longdouble))
    """)


def test_no_device_means_a_cuda_runtime_error():
    env = {**os.environ, "PYTHONPATH": STANDIN, "CUPY_STANDIN_DEVICES": "0"}
    proc = subprocess.run([sys.executable, "-c", "import cupy; cupy.cuda.runtime.getDeviceCount()"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode != 0 and "cudaErrorNoDevice" in proc.stderr


@pytest.mark.parametrize("lesson", ["00"])
def test_a_lesson_runs_on_the_stand_in_as_a_subprocess(lesson, tmp_path):
    """How a script gets the stand-in: PYTHONPATH (no hook inside minigan)."""
    path = os.pathsep.join(p for p in (STANDIN, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "MINIGAN_DEVICE": "cuda", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "minigan", "lesson", lesson, "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.not_on_standin(reason="runs the stand-in itself, in a subprocess")
@pytest.mark.parametrize("argv", [
    ["toy", "--quick"],                                          # 1-D theory run + figures
    ["toy", "--dist", "ring8", "--quick", "--drs", "--ema", "0.99"],   # D heatmap, DRS, EMA
    ["images", "--model", "dcgan", "--quick", "--no-progress"],  # training, then scoring
], ids=["toy-1d", "toy-ring8-drs", "images-dcgan"])
def test_commands_with_device_cuda_and_no_default_device(argv, tmp_path):
    """``--device cuda`` with $MINIGAN_DEVICE unset: the networks go to the GPU while the
    default device stays the CPU, so every helper that made its tensors on the default device
    (plots, DRS, the scorer) used to fail here."""
    env = {k: v for k, v in os.environ.items() if k != "MINIGAN_DEVICE"}
    env.update(PYTHONPATH=STANDIN, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "minigan", *argv, "--device", "cuda",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
