"""The numbers behind the gradient checks: for every op, the largest |analytic - numeric|
Jacobian entry at first and second order, printed as a table (``pytest -s`` shows it; set
MINIGAN_GRADCHECK_TABLE=path to also write it as Markdown)."""
import os

import numpy as np

import minigan
from minigan import functional as F
from minigan.gradcheck import jacobian_errors

from .strategies import leaf
from .test_ops_gradcheck import BINARY, LOSSES, REDUCTIONS, SHAPE_OPS, UNARY


def _cases():
    for name, (fn, opts) in sorted(UNARY.items()):
        yield name, fn, (leaf(1, (2, 3), **opts),)
    for name, (fn, oa, ob) in sorted(BINARY.items()):
        yield name, fn, (leaf(2, (2, 3), **oa), leaf(3, (3,), **ob))
    for name, fn in sorted(REDUCTIONS.items()):
        yield name, (lambda f: lambda x: f(x, 1, False))(fn), (leaf(4, (2, 3)),)
    for name, fn in sorted(SHAPE_OPS.items()):
        yield name, fn, (leaf(5, (2, 3)),)
    for name, fn in sorted(LOSSES.items()):
        if name != "linear":
            yield name, fn, (leaf(6, (3, 4)), leaf(7, (3, 4)))
    yield "matmul", minigan.matmul, (leaf(8, (2, 3, 4)), leaf(9, (4, 2)))
    yield "linear", F.linear, (leaf(10, (3, 4)), leaf(11, (2, 4)), leaf(12, (2,)))
    yield "softmax", lambda x: minigan.softmax(x, 1), (leaf(13, (2, 4)),)
    yield "log_softmax", lambda x: minigan.log_softmax(x, 1), (leaf(14, (2, 4)),)
    yield "conv2d s2 p1 g2", lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2), \
        (leaf(15, (1, 2, 5, 5)), leaf(16, (2, 1, 3, 3)))
    yield "conv_transpose2d s2", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1,
                                                                 output_padding=1), \
        (leaf(17, (1, 2, 3, 3)), leaf(18, (2, 2, 3, 3)))
    yield "batch_norm train", lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), \
        (leaf(19, (3, 2, 2, 2)), leaf(20, (2,)), leaf(21, (2,)))
    yield "attention", lambda q, k, v: F.scaled_dot_product_attention(q, k, v), \
        (leaf(22, (1, 3, 2)), leaf(23, (1, 4, 2)), leaf(24, (1, 4, 2)))
    yield "max_pool2d", lambda x: F.max_pool2d(x, 2), \
        (minigan.tensor(np.random.default_rng(25).permutation(16).reshape(1, 1, 4, 4) * 0.3,
                        dtype="float64", requires_grad=True),)
    yield "avg_pool2d", lambda x: F.avg_pool2d(x, 2), (leaf(26, (1, 1, 4, 4)),)


def test_every_op_agrees_with_finite_differences_and_print_table():
    rows, worst = [], 0.0
    for name, fn, inputs in _cases():
        first, second = jacobian_errors(fn, inputs)
        rows.append(f"| {name} | {first:.1e} | {second:.1e} |")
        worst = max(worst, first, second)
        assert first < 1e-6 and second < 1e-6, f"{name}: {first:.2e} / {second:.2e}"
    table = ("| op | max abs error, 1st order | max abs error, 2nd order |\n|---|---|---|\n" +
             "\n".join(rows))
    print("\n" + table + f"\n\n{len(rows)} ops; worst entry {worst:.1e}")
    if os.environ.get("MINIGAN_GRADCHECK_TABLE"):
        with open(os.environ["MINIGAN_GRADCHECK_TABLE"], "w") as f:
            f.write(table + "\n")
