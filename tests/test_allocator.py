"""The glibc allocator tuning: applied on Linux, opt-out honoured, results unchanged."""
import os
import subprocess
import sys

import pytest

from minigan import allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_tuning_applied_on_import():
    assert allocator.applied() == (os.environ.get("MINIGAN_MALLOC_TUNING", "1") != "0")


def _run(env_value):
    code = ("import minigan, numpy as np; from minigan import allocator, nn;"
            "minigan.manual_seed(0); m = nn.Sequential(nn.Linear(3, 300), nn.ReLU(), nn.Linear(300, 1));"
            "x = minigan.randn(700, 3); y = m(x).sum(); y.backward();"
            "print(allocator.applied(), float(y.item()), float(np.abs(m[0].weight.grad.numpy()).sum()))")
    env = dict(os.environ, MINIGAN_MALLOC_TUNING=env_value)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_opt_out_and_same_numbers():
    on, off = _run("1"), _run("0")
    assert on[0] == "True" and off[0] == "False"
    assert on[1:] == off[1:]          # where memory comes from never changes a result
