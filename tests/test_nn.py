"""Tests of minigan.nn: the Module system, every layer (float64 gradchecks, train/eval
behaviour, PyTorch parity where torch is importable) and the GAN layers."""
import contextlib

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.autograd import Tensor

from .conftest import as_installed_torch_repr, on_device, to_np

F = minigan.functional


def t64(*shape, scale=1.0):
    """A float64 tensor on the default device (where the layers under test are)."""
    return minigan.tensor(np.random.default_rng(sum(shape) + 7).standard_normal(shape) * scale)


@contextlib.contextmanager
def swapped(module, params):
    """Temporarily make ``module`` use the given tensors as its parameters (by dotted name)."""
    saved = []
    for name, t in params.items():
        owner, _, leaf = name.rpartition(".")
        mod = module.get_submodule(owner)
        saved.append((mod, leaf, mod._parameters[leaf]))
        mod._parameters[leaf] = t
    try:
        yield
    finally:
        for mod, leaf, p in saved:
            mod._parameters[leaf] = p


def check_module(module, x, train=True, reseed=None):
    """Gradcheck module(x) in float64 w.r.t. the input and every parameter.

    ``reseed`` re-seeds the generator before each call (Dropout draws its mask each call)."""
    module.double().train(train)
    names = [n for n, _ in module.named_parameters()]
    params = [p for _, p in module.named_parameters()]

    def fn(x, *ps):
        if reseed is not None:
            minigan.manual_seed(reseed)
        with swapped(module, dict(zip(names, ps))):
            return module(x)
    x = x.detach().double().requires_grad_(True)
    ps = [Tensor(p.array.copy(), requires_grad=True) for p in params]
    assert minigan.gradcheck(fn, (x, *ps), atol=1e-6, rtol=1e-4)


# ------------------------------------------------------------------------------ Module system
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.ReLU()])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)})
        self.scale = nn.Parameter(minigan.ones(1))
        self.register_buffer("counter", minigan.zeros(1))
        self.register_buffer("scratch", minigan.zeros(1), persistent=False)

    def forward(self, x):
        h = self.bn(self.fc1(x))
        for b in self.blocks:
            h = b(h)
        return self.heads["a"](h) * self.scale, self.heads["b"](h)


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                     "blocks.0.weight", "blocks.0.bias", "heads.a.weight", "heads.a.bias",
                     "heads.b.weight", "heads.b.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "counter", "scratch", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    sd = net.state_dict()
    assert "scratch" not in sd and "counter" in sd and "bn.num_batches_tracked" in sd
    assert len(list(net.children())) == 4
    assert len(list(net.modules())) == 1 + 4 + 2 + 2
    assert sum(p.numel() for p in net.parameters()) == 1 + 16 + 8 + 20 + 5 + 10


def test_shared_parameter_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_assigning_wrong_types_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = minigan.zeros(2, 2)
    lin.register_buffer("b", minigan.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        lin.b = 3
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lin.nothing


def test_train_eval_apply_requires_grad_zero_grad():
    net = Net()
    assert net.training and net.bn.training
    net.eval()
    assert not net.training and not net.bn.training and not net.heads["a"].training
    net.train()
    assert net.bn.training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 4
    a, b = net(minigan.randn(5, 3))
    (a.sum() + b.sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    a, b = net(minigan.randn(5, 3))
    assert not a.requires_grad


def test_to_dtype_keeps_parameter_objects_and_int_buffers():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype == np.float64
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64
    net.to("cpu")
    assert net.fc1.weight.device == "cpu"


def test_to_device_cuda(device):
    net = Net().to(device)
    a, _ = net(minigan.randn(4, 3, device=device))
    assert a.device == device


def test_state_dict_round_trip_and_mismatch_messages():
    a, b = Net(), Net()
    a(minigan.randn(6, 3))          # changes BN running stats and num_batches_tracked
    assert not np.allclose(to_np(a.fc1.weight), to_np(b.fc1.weight))
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and v.dtype == v2.dtype
        np.testing.assert_array_equal(v.numpy(), v2.numpy())
    assert int(b.bn.num_batches_tracked.item()) == 1
    # loading copies: changing a afterwards does not change b
    with minigan.no_grad():
        a.fc1.weight.add_(1.0)
    assert not np.allclose(to_np(a.fc1.weight), to_np(b.fc1.weight))

    sd = a.state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = minigan.zeros(1)
    sd["heads.b.weight"] = minigan.zeros(3, 4)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    msg = str(err.value)
    assert "missing keys: 'fc1.bias'" in msg
    assert "unexpected keys: 'extra.weight'" in msg
    assert "heads.b.weight: checkpoint has shape (3, 4), the model has (2, 4)" in msg
    # strict=False tolerates missing/unexpected keys but not wrong shapes
    sd["heads.b.weight"] = a.heads["b"].weight.detach()
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]


def test_repr_is_pytorch_style():
    net = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8, 1, bias=False))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "  (2): LeakyReLU(negative_slope=0.2)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=8, out_features=1, bias=False)\n"
        ")")
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, stride=2, padding=1),
                               torch.nn.BatchNorm2d(8), torch.nn.LeakyReLU(0.2),
                               torch.nn.Flatten(), torch.nn.Linear(8, 1, bias=False))
    assert as_installed_torch_repr(repr(net), torch) == repr(tnet)
    assert list(net.state_dict()) == list(tnet.state_dict())


def test_sequential_indexing_and_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert isinstance(seq[1], nn.Tanh) and len(seq) == 3
    assert isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 1))
    assert len(list(ml.parameters())) == 4
    md = nn.ModuleDict()
    md["x"] = nn.Linear(1, 2)
    assert "x" in md and list(md.keys()) == ["x"]


# ------------------------------------------------------------------------------ layer gradchecks
def test_linear_gradcheck_and_torch_parity():
    lin = nn.Linear(4, 3)
    check_module(lin, t64(5, 4))
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(4, 3).double()
    tl.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lin.state_dict().items()})
    x = t64(5, 4)
    np.testing.assert_allclose(lin(x).numpy(), tl(torch.tensor(x.numpy())).detach().numpy(),
                               rtol=1e-12)


def test_default_init_bounds():
    lin = nn.Linear(50, 40)
    bound = 1 / np.sqrt(50)
    w, b = to_np(lin.weight), to_np(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    conv = nn.Conv2d(3, 8, 3)
    bound = 1 / np.sqrt(3 * 9)
    assert np.abs(to_np(conv.weight)).max() <= bound
    tconv = nn.ConvTranspose2d(3, 8, 4)                      # fan_in = size(1)·k·k = 8·16
    assert np.abs(to_np(tconv.weight)).max() <= 1 / np.sqrt(8 * 16)
    assert np.abs(to_np(tconv.weight)).max() > 0.8 / np.sqrt(8 * 16)
    assert lin.weight.dtype == np.float32


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(groups=2, bias=False)])
def test_conv2d_gradcheck(kw):
    conv = nn.Conv2d(2, 4, 3, **kw)
    check_module(conv, t64(2, 2, 5, 5))


def test_conv_transpose2d_gradcheck_and_output_size():
    conv = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    check_module(conv, t64(2, 3, 3, 3))
    conv.float()
    assert conv(minigan.randn(1, 3, 4, 4)).shape == (1, 2, 8, 8)
    conv2 = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    assert conv2(minigan.randn(1, 3, 4, 4), output_size=(8, 8)).shape == (1, 2, 8, 8)


def test_conv_layers_match_torch():
    torch = pytest.importorskip("torch")
    x = t64(2, 4, 6, 6)
    for ours, theirs in ((nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
                          torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)),
                         (nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1),
                          torch.nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1))):
        ours.double()
        theirs.double().load_state_dict({k: torch.tensor(v.numpy())
                                         for k, v in ours.state_dict().items()})
        np.testing.assert_allclose(ours(x).numpy(),
                                   theirs(torch.tensor(x.numpy())).detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 2)),
                                       (nn.BatchNorm2d, (3, 3, 2, 2))])
def test_batchnorm_gradcheck_train_and_eval(cls, shape):
    bn = cls(3)
    with minigan.no_grad():
        bn.weight.array[...] = on_device([0.5, 1.5, -1.0], bn.weight)
        bn.bias.array[...] = on_device([0.1, 0.0, -0.2], bn.bias)
    check_module(bn, t64(*shape), train=True)
    bn.running_mean.array[...] = on_device([0.3, -0.2, 0.1], bn.running_mean)
    bn.running_var.array[...] = on_device([2.0, 0.5, 1.0], bn.running_var)
    check_module(bn, t64(*shape), train=False)


def test_batchnorm_train_vs_eval_and_running_stats():
    bn = nn.BatchNorm2d(2)
    x = minigan.randn(8, 2, 3, 3) * 3 + 1
    y = bn(x)
    yn = y.numpy()
    assert np.allclose(yn.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert np.allclose(yn.var(axis=(0, 2, 3)), 1, atol=1e-3)
    xn = x.numpy().astype(np.float64)
    n = xn.size / 2
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * xn.mean(axis=(0, 2, 3)),
                               rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               0.9 + 0.1 * xn.var(axis=(0, 2, 3)) * n / (n - 1), rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    ye = bn(x).numpy()
    expect = (xn - bn.running_mean.numpy()[None, :, None, None]) / np.sqrt(
        bn.running_var.numpy()[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(ye, expect, rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1          # eval does not count
    # momentum=None: cumulative average
    bn2 = nn.BatchNorm1d(2, momentum=None)
    a, b = minigan.randn(5, 2), minigan.randn(5, 2)
    bn2(a)
    bn2(b)
    both = (a.numpy().mean(0) + b.numpy().mean(0)) / 2
    np.testing.assert_allclose(bn2.running_mean.numpy(), both, rtol=1e-5, atol=1e-6)


def test_batchnorm_matches_torch_over_steps():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3).double(), torch.nn.BatchNorm2d(3).double()
    for i in range(3):
        x = t64(4, 3, 2, 2) * (i + 1)
        np.testing.assert_allclose(ours(x).numpy(),
                                   theirs(torch.tensor(x.numpy())).detach().numpy(), atol=1e-10)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), atol=1e-12)
    ours.eval()
    theirs.eval()
    x = t64(2, 3, 2, 2)
    np.testing.assert_allclose(ours(x).numpy(),
                               theirs(torch.tensor(x.numpy())).detach().numpy(), atol=1e-10)


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match="3 channels"):
        nn.BatchNorm2d(4)(minigan.randn(2, 3, 2, 2))
    with pytest.raises(ValueError, match="4-D input"):
        nn.BatchNorm2d(3)(minigan.randn(2, 3))


def test_layernorm_gradcheck_and_values():
    ln = nn.LayerNorm((3, 2))
    with minigan.no_grad():
        ln.weight.array[...] = on_device(np.arange(6).reshape(3, 2) * 0.3 + 0.2, ln.weight)
    check_module(ln, t64(4, 3, 2))
    ln.float()
    x = minigan.randn(4, 3, 2)
    ln2 = nn.LayerNorm((3, 2))
    y = ln2(x).numpy().reshape(4, -1)
    assert np.allclose(y.mean(1), 0, atol=1e-5) and np.allclose(y.var(1), 1, atol=1e-3)


def test_embedding_gradcheck_and_padding():
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert np.all(emb.weight.numpy()[0] == 0)
    idx = Tensor(np.array([[0, 2], [4, 2]]))
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    plain = nn.Embedding(5, 3).double()     # padding_idx's row gets no gradient by design

    def fn(w):
        with swapped(plain, {"weight": w}):
            return plain(idx)
    w = Tensor(plain.weight.array.copy(), requires_grad=True)
    assert minigan.gradcheck(fn, (w,))
    emb(idx).sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[0] == 0) and np.all(g[2] == 2) and np.all(g[4] == 1)


def test_dropout_train_eval_and_gradcheck():
    d = nn.Dropout(0.5)
    x = minigan.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    d.train()
    check_module(d, t64(3, 4), reseed=5)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(0.2), nn.Tanh(), nn.Sigmoid(),
                                   nn.Softplus(beta=2.0), nn.Identity(), nn.Flatten(),
                                   nn.Unflatten(1, (2, 6))])
def test_activation_and_shape_layers_gradcheck(layer):
    x = t64(2, 3, 4) + 0.05        # away from the kinks of ReLU/LeakyReLU
    if isinstance(layer, nn.Unflatten):
        x = t64(2, 12) + 0.05
    check_module(layer, x)


def test_activation_values_match_torch():
    torch = pytest.importorskip("torch")
    x = t64(3, 5) * 3
    tx = torch.tensor(x.numpy())
    pairs = [(nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
             (nn.Tanh(), torch.nn.Tanh()), (nn.Sigmoid(), torch.nn.Sigmoid()),
             (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(x).numpy(), theirs(tx).numpy(), rtol=1e-12, atol=1e-14)
        assert repr(ours) == repr(theirs)


def test_flatten_unflatten_upsample_shapes():
    x = minigan.randn(2, 3, 4, 4)
    assert nn.Flatten()(x).shape == (2, 48)
    assert nn.Unflatten(1, (3, 4, 4))(nn.Flatten()(x)).shape == (2, 3, 4, 4)
    up = nn.Upsample(scale_factor=2, mode="nearest")
    y = up(x)
    assert y.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(y.numpy()[:, :, ::2, ::2], x.numpy())
    assert nn.Upsample(size=(5, 6), mode="bilinear")(x).shape == (2, 3, 5, 6)
    check_module(nn.Upsample(scale_factor=2, mode="bilinear"), t64(1, 2, 3, 3))


# ------------------------------------------------------------------------------ GAN layers
def test_self_attention_starts_as_identity_and_gradchecks():
    att = nn.SelfAttention2d(16)
    assert att.query.out_channels == 2 and att.key.out_channels == 2
    assert att.value.out_channels == 16
    x = minigan.randn(2, 16, 3, 3)
    np.testing.assert_array_equal(att(x).numpy(), x.numpy())       # γ = 0
    a = att.attention.numpy()
    assert a.shape == (2, 9, 9) and np.allclose(a.sum(-1), 1, atol=1e-5)
    small = nn.SelfAttention2d(8)
    with minigan.no_grad():
        small.gamma.array[...] = 0.7
    check_module(small, t64(2, 8, 2, 2, scale=0.5))


def test_self_attention_matches_plain_definition():
    att = nn.SelfAttention2d(8).double()
    with minigan.no_grad():
        att.gamma.array[...] = 1.3
    x = t64(2, 8, 3, 2)
    y = att(x).numpy()
    xn = x.numpy().reshape(2, 8, 6)

    def conv1(m, v):
        return np.einsum("oc,bcn->bon", m.weight.numpy()[:, :, 0, 0], v) + \
            m.bias.numpy()[None, :, None]
    q, k, v = conv1(att.query, xn), conv1(att.key, xn), conv1(att.value, xn)
    y_ref = np.empty_like(xn)
    for b in range(2):
        for i in range(6):
            s = np.array([q[b, :, i] @ k[b, :, j] for j in range(6)])
            beta = np.exp(s - s.max())
            beta /= beta.sum()
            y_ref[b, :, i] = 1.3 * sum(beta[j] * v[b, :, j] for j in range(6)) + xn[b, :, i]
    np.testing.assert_allclose(y, y_ref.reshape(2, 8, 3, 2), rtol=1e-10)
    assert set(att.state_dict()) == {"gamma", "query.weight", "query.bias", "key.weight",
                                     "key.bias", "value.weight", "value.bias"}


def test_spectral_norm_sigma_converges_to_svd():
    lin = nn.spectral_norm(nn.Linear(6, 5))
    assert set(lin.state_dict()) == {"bias", "weight_orig", "weight_u", "weight_v"}
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    x = minigan.randn(3, 6)
    for _ in range(50):
        lin(x)
    w = lin.weight_orig.numpy().astype(np.float64)
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    w_sn = lin.weight.numpy()
    assert abs(np.linalg.svd(w_sn.astype(np.float64), compute_uv=False)[0] - 1) < 1e-4
    np.testing.assert_allclose(w_sn, w / sigma, rtol=1e-4, atol=1e-6)
    # conv weight: W reshaped to (C_out, C_in·k·k)
    conv = nn.spectral_norm(nn.Conv2d(3, 4, 3), n_power_iterations=30)
    conv(minigan.randn(1, 3, 5, 5))
    wm = conv.weight_orig.numpy().reshape(4, -1).astype(np.float64)
    sn = conv.weight.numpy().reshape(4, -1)
    np.testing.assert_allclose(sn, wm / np.linalg.svd(wm, compute_uv=False)[0], rtol=1e-4)
    # transposed conv normalises along dim 1 (its output channels)
    tconv = nn.spectral_norm(nn.ConvTranspose2d(3, 4, 2), n_power_iterations=30)
    tconv(minigan.randn(1, 3, 2, 2))
    wt = tconv.weight_orig.numpy().transpose(1, 0, 2, 3).reshape(4, -1).astype(np.float64)
    assert tconv.weight_u.shape == (4,)
    np.testing.assert_allclose(tconv.weight.numpy().transpose(1, 0, 2, 3).reshape(4, -1),
                               wt / np.linalg.svd(wt, compute_uv=False)[0], rtol=1e-4)


def test_spectral_norm_eval_does_not_iterate_and_gradcheck():
    lin = nn.spectral_norm(nn.Linear(4, 3)).double()
    x = t64(2, 4)
    lin(x)
    u = lin.weight_u.numpy().copy()
    lin.eval()
    y1 = lin(x).numpy()
    np.testing.assert_array_equal(lin.weight_u.numpy(), u)
    np.testing.assert_array_equal(lin(x).numpy(), y1)
    lin.train()
    lin(x)
    assert not np.array_equal(lin.weight_u.numpy(), u)
    # gradient through σ(W) = uᵀWv with u, v fixed: check in eval mode (deterministic)
    lin.eval()
    check_module(lin, t64(2, 4), train=False)
    # in training, each call changes u; re-seeding is not enough, so check that the
    # gradient still flows to weight_orig
    lin.train()
    lin(x).sum().backward()
    assert lin.weight_orig.grad is not None and lin.weight_orig.grad.shape == (3, 4)


def test_spectral_norm_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.spectral_norm(nn.Linear(5, 4)).double()
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4).double())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = t64(3, 5)
    tx = torch.tensor(x.numpy())
    for _ in range(3):
        yo, yt = ours(x), theirs(tx)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(),
                               theirs.weight_orig.grad.numpy(), rtol=1e-8, atol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-10)


def test_spectral_norm_state_dict_round_trip_and_remove():
    a = nn.spectral_norm(nn.Linear(3, 3))
    a(minigan.randn(2, 3))
    b = nn.spectral_norm(nn.Linear(3, 3))
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = minigan.randn(2, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    nn.remove_spectral_norm(a)
    assert set(a.state_dict()) == {"weight", "bias"}
    np.testing.assert_allclose(a(x).numpy(), b(x).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="two spectral_norm"):
        nn.spectral_norm(b)


def test_minibatch_discrimination_definition_and_gradcheck():
    mbd = nn.MinibatchDiscrimination(4, 3, 2).double()
    x = t64(5, 4)
    y = mbd(x).numpy()
    assert y.shape == (5, 7)
    np.testing.assert_array_equal(y[:, :4], x.numpy())
    T = mbd.T.numpy()
    M = np.einsum("na,abc->nbc", x.numpy(), T)
    ref = np.zeros((5, 3))
    for i in range(5):
        for j in range(5):
            if i != j:
                ref[i] += np.exp(-np.abs(M[i] - M[j]).sum(-1))
    np.testing.assert_allclose(y[:, 4:], ref, rtol=1e-10)
    with minigan.no_grad():
        mbd.T.array *= 0.3                 # keep exp(-L1) away from underflow
    check_module(mbd, t64(3, 4))
    for kernels, dims in ((0, 2), (3, 0)):      # an empty T would be silently ignored
        with pytest.raises(ValueError, match="must be >= 1"):
            nn.MinibatchDiscrimination(4, kernels, dims)
    # a collapsed batch (identical rows) gets the maximal feature N - 1
    same = minigan.tensor(np.tile(x.numpy()[:1], (4, 1)))
    np.testing.assert_allclose(mbd(same).numpy()[:, 4:], 3.0)


def test_deepcopy_and_hooks():
    """A copied model (e.g. the EMA generator) is independent, spectral norm included."""
    import copy
    m = nn.Sequential(nn.spectral_norm(nn.Linear(3, 2)), nn.BatchNorm1d(2))
    m2 = copy.deepcopy(m)
    x = minigan.randn(4, 3)
    np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())
    assert m2[0].weight_orig is not m[0].weight_orig
    assert isinstance(m2[0].weight_orig, nn.Parameter)
    with minigan.no_grad():
        m2[0].weight_orig.mul_(2.0)
    assert not np.array_equal(m[0].weight_orig.numpy(), m2[0].weight_orig.numpy())
    calls = []
    h = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    m(x)
    h.remove()
    m(x)
    assert calls == [(4, 2)]
