"""The numbers behind the gradient checks: for every case of the op table (``tests/op_cases.py``)
at its fixed example, the largest |analytic - numeric| Jacobian entry at first and second
order, printed as a table (``pytest -s`` shows it; set MINIGAN_GRADCHECK_TABLE=path to also
write it as Markdown)."""
import os

import numpy as np

import minigan
from minigan.gradcheck import analytical_jacobian, jacobian_errors, numerical_jacobian

from .op_cases import CASES

BOUND = 1e-6


def _first_order_error(fn, inputs):
    wrt = list(range(len(inputs)))
    a, n = analytical_jacobian(fn, inputs, wrt), numerical_jacobian(fn, inputs, wrt, 1e-6)
    return max((float(np.abs(x - y).max()) if x.size else 0.0) for x, y in zip(a, n))


def _rows():
    """(name, first-order error, second-order error or None) for every gradient-checked case."""
    for case in CASES:
        if not case.gradcheck:
            continue
        ex = case.example
        inputs = [minigan.tensor(a, requires_grad=True) for a in case.arrays(ex, 1)]
        fn = (lambda c, p: lambda *xs: c.fn(*xs, **p))(case, ex.params)
        if case.second_order:
            yield (case.name,) + jacobian_errors(fn, inputs)
        else:
            yield case.name, _first_order_error(fn, inputs), None


def test_every_op_agrees_with_finite_differences_and_print_table():
    rows, worst = [], 0.0
    for name, first, second in _rows():
        rows.append(f"| {name} | {first:.1e} | {'-' if second is None else f'{second:.1e}'} |")
        worst = max(worst, first, second or 0.0)
        assert first < BOUND and (second is None or second < BOUND), \
            f"{name}: {first:.2e} / {second}"
    assert len(rows) == sum(c.gradcheck for c in CASES)
    table = ("| op | max abs error, 1st order | max abs error, 2nd order |\n|---|---|---|\n" +
             "\n".join(rows))
    print("\n" + table + f"\n\n{len(rows)} ops; worst entry {worst:.1e}")
    if os.environ.get("MINIGAN_GRADCHECK_TABLE"):
        with open(os.environ["MINIGAN_GRADCHECK_TABLE"], "w") as f:
            f.write(table + "\n")
