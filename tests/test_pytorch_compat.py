"""PyTorch's legacy idioms that GAN tutorials still use, with PyTorch's meaning."""
import numpy as np
import pytest

import minigan
from minigan.autograd import Variable

from .conftest import to_np


def test_variable_is_the_tensor_itself_or_a_leaf_copy():
    x = minigan.ones(2, 3)
    assert Variable(x) is x
    v = Variable(x, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not x.requires_grad


def test_legacy_type_constructors_take_sizes_or_data():
    t = minigan.FloatTensor(64, 1).fill_(1.0)
    assert t.shape == (64, 1) and t.dtype == minigan.float32 and t.sum().item() == 64
    z = minigan.FloatTensor(np.random.default_rng(0).normal(size=(3, 2)))
    assert z.dtype == minigan.float32 and z.shape == (3, 2)
    labels = minigan.LongTensor([1, 2, 3])
    assert labels.dtype == minigan.int64
    assert minigan.Tensor(64, 1).shape == (64, 1) and minigan.Tensor(64, 1).dtype == minigan.float32
    with pytest.raises(TypeError, match="non-negative integer sizes"):
        minigan.Tensor(64, -1)


def test_type_names_and_casts():
    x = minigan.randn(2, 2)
    assert x.type() == ("minigan.cuda.FloatTensor" if x.is_cuda else "minigan.FloatTensor")
    assert x.type(minigan.LongTensor).dtype == minigan.int64
    assert x.type("torch.DoubleTensor").dtype == minigan.float64
    assert x.long().dtype == minigan.int64 and x.int().dtype == minigan.int32
    assert x.half().dtype == minigan.float16 and x.bool().dtype == minigan.bool_
    with pytest.raises(TypeError, match="unknown tensor type"):
        x.type("torch.QuantumTensor")


def test_device_names_and_is_cuda():
    assert minigan.device("cpu") == "cpu" and not minigan.randn(2, device="cpu").is_cuda
    on_gpu = minigan.backend.default_device().type == "cuda"      # the stand-in run, a GPU run
    assert minigan.randn(2).is_cuda == on_gpu


def test_setitem_writes_in_place_without_a_graph():
    masked = minigan.zeros(2, 1, 4, 4)
    before = masked._version
    masked[:, :, 1:3, 1:3] = 1
    assert masked.sum().item() == 8.0 and masked._version == before + 1


def test_setitem_inside_a_graph_is_differentiable_to_second_order():
    x = minigan.randn(3, 4, dtype="float64", requires_grad=True)
    v = minigan.randn(2, dtype="float64", requires_grad=True)

    def f(x, v):
        y = x * 2.0
        y[1:, :2] = v                    # v broadcast over rows 1-2, columns 0-1
        return (y * y).sum()
    assert minigan.gradcheck(f, (x, v)) and minigan.gradgradcheck(f, (x, v))
    y = x * 2.0
    y[0] = 0.0
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad)[0], [0.0] * 4)
    np.testing.assert_array_equal(to_np(x.grad)[1:], np.full((2, 4), 2.0))


def test_setitem_on_a_leaf_that_requires_grad_or_a_saved_tensor_is_refused():
    x = minigan.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0
    with minigan.no_grad():
        x[0] = 1.0                       # allowed, as in PyTorch
    y = x * 1.0
    z = y.exp()                          # exp saves its output ... and its input's version
    y[1] = 5.0
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


def test_torch_dtype_names_and_a_clear_error_for_what_is_missing():
    assert minigan.float == minigan.float32 and minigan.long == minigan.int64
    assert minigan.randn(2).to(minigan.double).dtype == minigan.float64
    with pytest.raises(AttributeError, match="torch.hub, minigan does not implement it"):
        minigan.hub  # noqa: B018


def test_augmented_assignment_updates_in_place_like_pytorch():
    """``p -= lr * p.grad`` under no_grad changes the module's parameter itself (Python's
    fallback ``p = p - ...`` would rebind the loop variable and leave the model untouched)."""
    minigan.manual_seed(0)
    model = minigan.nn.Linear(3, 2)
    w0 = model.weight.numpy().copy()
    model(minigan.randn(4, 3)).pow(2).sum().backward()
    grad = model.weight.grad.numpy().copy()
    with minigan.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(model.weight.numpy(), w0 - 0.1 * grad, rtol=1e-6)
    assert model.weight.requires_grad
    t = minigan.ones(2)
    alias = t
    t *= 3
    t /= 2
    t += minigan.tensor([1.0, 2.0])
    np.testing.assert_allclose(alias.numpy(), [2.5, 3.5])


def test_augmented_assignment_in_a_graph_and_its_errors():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x                                  # recorded: a new node, the gradient sees it
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x += 1
    with pytest.raises(RuntimeError, match="does not fit"):
        a = minigan.zeros(2)
        a += minigan.ones(3, 2)
    n = minigan.tensor([1, 2])
    n += 1
    assert n.numpy().tolist() == [2, 3]
    with pytest.raises(RuntimeError, match="cannot be stored in place"):
        n /= 2
