"""Mode-collapse remedies: the unrolled GAN's gradient (second order, checked against finite
differences), the first-order variant, PacGAN packing, minibatch-D and WGAN wiring."""
import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.data import toy
from minigan.gan import remedies
from minigan.gan.losses import d_loss_minimax, get_objective


def _tiny(seed=0):
    minigan.manual_seed(seed)
    G = nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1)).to(dtype=minigan.float64)
    D = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).to(dtype=minigan.float64)
    rng = np.random.default_rng(seed)
    xs = [minigan.tensor(rng.normal(1.0, 0.5, (6, 1))) for _ in range(2)]
    zs = [minigan.tensor(rng.normal(size=(6, 1))) for _ in range(2)]
    z = minigan.tensor(rng.normal(size=(6, 1)))
    return G, D, xs, zs, z


def _flat_params(module):
    return [p for p in module.parameters()]


def _fd_grad(loss_fn, params, eps=1e-6):
    out = []
    for p in params:
        g = np.zeros(p.shape)
        data = p.array
        for idx in np.ndindex(p.shape):
            # A Python float, not data[idx]: on CuPy that is a 0-d *view*, which would move
            # with the step below and halve the estimate.
            old = data[idx].item()
            data[idx] = old + eps
            hi = loss_fn()
            data[idx] = old - eps
            lo = loss_fn()
            data[idx] = old
            g[idx] = (hi - lo) / (2 * eps)
        out.append(g)
    return out


@pytest.mark.parametrize("lr", [0.5, 2.0])
def test_unrolled_generator_gradient_matches_finite_differences(lr):
    """dL_G(theta_K(theta_G), theta_G)/d theta_G by autograd (through K = 2 unrolled D steps,
    second-order terms included) equals central differences of the same scalar function."""
    G, D, xs, zs, z = _tiny()

    def loss_value():
        with minigan.no_grad():
            pass
        return float(remedies.unrolled_generator_loss(G, D, "nsgan", xs, zs, z, lr).item())

    loss = remedies.unrolled_generator_loss(G, D, "nsgan", xs, zs, z, lr, second_order=True)
    grads = minigan.grad(loss, _flat_params(G))
    fd = _fd_grad(loss_value, _flat_params(G))
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(g.numpy(), f, rtol=1e-5, atol=1e-7)
    # D's own parameters are untouched by the generator's loss
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in D.parameters())


def _adam_after_one_step(D, xs, zs, G):
    """An Adam over D with non-trivial state (one real step taken)."""
    opt = optim.Adam(D.parameters(), lr=0.05, betas=(0.5, 0.999))
    loss = d_loss_minimax(D(xs[0]), D(G(zs[0]).detach()))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return opt


def test_unrolled_adam_gradient_matches_finite_differences():
    """The Adam look-ahead (m, v, the square root, bias corrections) is differentiated exactly:
    autograd's dL_G/d theta_G through K = 2 unrolled Adam steps equals central differences."""
    G, D, xs, zs, z = _tiny(2)
    opt = _adam_after_one_step(D, xs, zs, G)

    def loss_fn():
        return remedies.unrolled_generator_loss(G, D, "nsgan", xs, zs, z, 0.05, adam=opt)
    grads = minigan.grad(loss_fn(), _flat_params(G))
    fd = _fd_grad(lambda: float(loss_fn().item()), _flat_params(G))
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(g.numpy(), f, rtol=1e-5, atol=1e-8)


def test_unrolled_adam_step_is_the_optimizers_step():
    """One unrolled Adam step lands exactly where D's own optimizer would take D (same batch),
    and leaves the optimizer's state untouched."""
    G, D, xs, zs, z = _tiny(3)
    opt = _adam_after_one_step(D, xs, zs, G)
    m_before = {n: opt.state[p]["exp_avg"].numpy().copy() for n, p in D.named_parameters()}
    fake = G(zs[1]).detach()
    theta = remedies.unrolled_d_params(D, d_loss_minimax, [xs[1]], [fake], 0.05, adam=opt)
    for n, p in D.named_parameters():
        np.testing.assert_array_equal(opt.state[p]["exp_avg"].numpy(), m_before[n])
    loss = d_loss_minimax(D(xs[1]), D(fake))
    opt.zero_grad()
    loss.backward()
    opt.step()
    for n, p in D.named_parameters():
        np.testing.assert_allclose(theta[n].numpy(), p.numpy(), rtol=1e-12, atol=1e-12)


def test_unrolled_trainer_unrolls_adam_by_default_and_checks_the_choice():
    G, D, objective, cls, kw = remedies.build_method("unrolled", 1, 1, 8, 2, "tanh", unroll=2)
    og, od = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    assert cls(G, D, og, od, toy.Gaussian1D(), toy.GaussianNoise(1), **kw).unroll_with == "adam"
    sgd = optim.SGD(D.parameters(), lr=0.1)
    assert cls(G, D, og, sgd, toy.Gaussian1D(), toy.GaussianNoise(1), **kw).unroll_with == "sgd"
    with pytest.raises(ValueError, match="Adam"):
        cls(G, D, og, sgd, toy.Gaussian1D(), toy.GaussianNoise(1), unroll_with="adam", **kw)


def test_second_order_term_matters_and_first_order_ignores_it():
    """The first-order variant's gradient is that of L_G against a *fixed* look-ahead D; it
    differs from the full unrolled gradient (the term through D's updates is real)."""
    G, D, xs, zs, z = _tiny(1)
    lr = 2.0
    full = minigan.grad(remedies.unrolled_generator_loss(G, D, "nsgan", xs, zs, z, lr, True),
                        _flat_params(G))
    first = minigan.grad(remedies.unrolled_generator_loss(G, D, "nsgan", xs, zs, z, lr, False),
                         _flat_params(G))
    # reference for the first-order variant: theta_K computed once, then held constant
    theta = remedies.unrolled_d_params(D, d_loss_minimax, xs, [G(zk) for zk in zs], lr,
                                       second_order=False)
    theta = {k: v.detach() for k, v in theta.items()}

    def fixed_d_loss():
        return float(get_objective("nsgan").g_loss(
            remedies.functional_call(D, theta, G(z))).item())
    fd = _fd_grad(fixed_d_loss, _flat_params(G))
    for g, f in zip(first, fd):
        np.testing.assert_allclose(g.numpy(), f, rtol=1e-5, atol=1e-7)
    diff = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(full, first))
    assert diff > 1e-4


def test_functional_call_restores_parameters():
    D = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = minigan.randn(4, 2)
    before = D(x).numpy()
    zeros = {n: minigan.zeros(*p.shape) for n, p in D.named_parameters()}
    out = remedies.functional_call(D, zeros, x)
    assert np.allclose(out.numpy(), 0.0)
    np.testing.assert_array_equal(D(x).numpy(), before)
    assert all(isinstance(p, nn.Parameter) for p in D.parameters())


def test_packed_discriminator_sees_packs():
    inner = nn.Linear(8, 1)
    D = remedies.Packed(inner, 4)
    x = minigan.randn(12, 2)
    out = D(x)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out.numpy(), inner(x.reshape(3, 8)).numpy())
    with pytest.raises(ValueError, match="multiple of"):
        D(minigan.randn(10, 2))


@pytest.mark.parametrize("method", list(remedies.METHODS))
def test_every_method_trains_a_few_steps(method):
    """Each method builds, runs 3 steps of Algorithm 1 without NaN, and changes G."""
    minigan.manual_seed(0)
    G, D, objective, cls, kw = remedies.build_method(method, 2, 2, 16, 2, "relu", 0.0, 2.0,
                                                     pack=4, unroll=2)
    before = [p.numpy().copy() for p in G.parameters()]
    opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    tr = cls(G, D, opt_g, opt_d, toy.grid25(), toy.GaussianNoise(2), objective=objective,
             batch_size=32, progress=False, **kw)
    tr.train(3)
    assert all(np.isfinite(v) for v in tr.history["g_loss"] + tr.history["d_loss"])
    assert any(not np.array_equal(b, p.numpy()) for b, p in zip(before, G.parameters()))
    if method == "wgan":
        assert max(float(np.abs(p.numpy()).max()) for p in D.parameters()) <= 0.01 + 1e-7


def test_unrolled_trainer_does_not_update_d_in_g_step():
    minigan.manual_seed(0)
    G, D, objective, cls, kw = remedies.build_method("unrolled", 1, 1, 8, 2, "tanh", unroll=2)
    opt_g = optim.SGD(G.parameters(), lr=0.1)
    opt_d = optim.SGD(D.parameters(), lr=0.1)
    tr = cls(G, D, opt_g, opt_d, toy.separated_mixture(4), toy.GaussianNoise(1),
             objective=objective, batch_size=16, progress=False, **kw)
    d_before = [p.numpy().copy() for p in D.parameters()]
    tr.g_step()
    for b, p in zip(d_before, D.parameters()):
        np.testing.assert_array_equal(b, p.numpy())


def test_build_method_rejects_unknown():
    with pytest.raises(ValueError, match="unknown method"):
        remedies.build_method("magic", 2, 2, 8, 1)


def test_grouped_minibatch_discrimination_equals_the_layer_on_each_group():
    minigan.manual_seed(0)
    M = remedies._grouped_mbd()(6, 3, 2, group=4)
    x = minigan.randn(8, 6)
    ref = np.concatenate([M.layer(x[:4]).numpy(), M.layer(x[4:]).numpy()])
    np.testing.assert_allclose(M(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    # collapse is visible: identical samples get the maximal closeness feature (1)
    same = minigan.tensor(np.tile(x.numpy()[:1], (8, 1)))
    np.testing.assert_allclose(M(same).numpy()[:, 6:], 1.0, rtol=1e-6)
