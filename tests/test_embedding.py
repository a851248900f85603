"""embedding: lookup, scatter-add gradient (repeats accumulate), padding_idx, errors."""
import numpy as np
import pytest

import minigan
import minigan.functional as F

from .conftest import to_np


def test_embedding_looks_up_rows_and_accumulates_repeated_gradients(device):
    w0 = np.random.default_rng(0).standard_normal((5, 3))
    w = minigan.tensor(w0, device=device, requires_grad=True)
    idx = minigan.tensor(np.array([[1, 3, 1], [1, 0, 4]]), device=device)
    y = F.embedding(idx, w)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(to_np(y), w0[[[1, 3, 1], [1, 0, 4]]])
    y.sum().backward()
    np.testing.assert_array_equal(to_np(w.grad)[:, 0], [1, 3, 0, 1, 1])   # row 1 used 3 times


def test_embedding_padding_idx_gets_no_gradient(device):
    w = minigan.randn(4, 2, device=device, requires_grad=True)
    idx = minigan.tensor(np.array([0, 2, 2, 3]), device=device)
    y = F.embedding(idx, w, padding_idx=2)
    np.testing.assert_array_equal(to_np(y), to_np(w)[[0, 2, 2, 3]])
    (y * y).sum().backward()
    np.testing.assert_array_equal(to_np(w.grad)[2], 0)
    assert np.all(to_np(w.grad)[[0, 3]] != 0)


def test_embedding_gradgradcheck_and_pytorch():
    rng = np.random.default_rng(1)
    idx = minigan.tensor(np.array([2, 0, 2, 1]))
    w = minigan.tensor(rng.standard_normal((3, 2)), dtype="float64", requires_grad=True)
    f = lambda w: F.embedding(idx, w) ** 2  # noqa: E731
    assert minigan.gradcheck(f, (w,))
    assert minigan.gradgradcheck(f, (w,))
    torch = pytest.importorskip("torch")
    tw = torch.tensor(to_np(w), requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor([2, 0, 2, 1]), tw) ** 2).sum().backward()
    (f(w)).sum().backward()
    np.testing.assert_allclose(to_np(w.grad), tw.grad.numpy(), rtol=1e-12)


def test_embedding_errors():
    w = minigan.randn(3, 2)
    with pytest.raises(IndexError, match="table has 3 rows"):
        F.embedding(minigan.tensor(np.array([0, 3])), w)
    with pytest.raises(TypeError, match="must be integers"):
        F.embedding(minigan.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="2-D"):
        F.embedding(minigan.tensor(np.array([0])), minigan.randn(3))
