"""GAN objectives: definitions, finiteness at any saturation, gradients, and WGAN-GP's penalty
(per-example interpolation, norm over all non-batch axes, exact second derivatives)."""
import numpy as np
import pytest
from scipy import special

import minigan
from minigan import gan
from minigan.gan import losses as L
from tests.conftest import to_np


def _ls(t):   # log sigmoid in float64 NumPy, the reference
    return np.minimum(t, 0) - np.log1p(np.exp(-np.abs(t)))


LOGIT_LOSSES = {
    "d_minimax": (lambda r, f: L.d_loss_minimax(r, f),
                  lambda r, f: -(_ls(r).mean() + _ls(-f).mean())),
    "g_saturating": (lambda r, f: L.g_loss_saturating(f), lambda r, f: _ls(-f).mean()),
    "g_nonsaturating": (lambda r, f: L.g_loss_nonsaturating(f), lambda r, f: -_ls(f).mean()),
    "wgan_critic": (lambda r, f: L.wasserstein_critic_loss(r, f), lambda r, f: f.mean() - r.mean()),
    "wgan_gen": (lambda r, f: L.wasserstein_generator_loss(f), lambda r, f: -f.mean()),
    "hinge_d": (lambda r, f: L.hinge_d_loss(r, f),
                lambda r, f: np.maximum(1 - r, 0).mean() + np.maximum(1 + f, 0).mean()),
    "hinge_g": (lambda r, f: L.hinge_g_loss(f), lambda r, f: -f.mean()),
    "lsgan_d": (lambda r, f: L.lsgan_d_loss(r, f),
                lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()),
    "lsgan_g": (lambda r, f: L.lsgan_g_loss(f), lambda r, f: 0.5 * ((f - 1) ** 2).mean()),
}


@pytest.mark.parametrize("name", sorted(LOGIT_LOSSES))
def test_loss_matches_definition(name, device):
    fn, ref = LOGIT_LOSSES[name]
    r = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    f = np.array([-2.0, 0.3, 1.5, -6.0, 0.1])
    out = fn(minigan.tensor(r, dtype="float32", device=device),
             minigan.tensor(f, dtype="float32", device=device))
    assert out.shape == ()
    assert out.dtype == minigan.float32             # float32 in, float32 out
    np.testing.assert_allclose(to_np(out), ref(r, f), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["d_minimax", "g_saturating", "g_nonsaturating"])
def test_logit_losses_finite_at_saturation(name, device):
    """Logits of ±1000 (D certain, right or wrong): finite values and finite gradients."""
    fn, ref = LOGIT_LOSSES[name]
    vals = np.array([-1000.0, -80.0, 80.0, 1000.0])
    r = minigan.tensor(vals, device=device, requires_grad=True)
    f = minigan.tensor(vals[::-1].copy(), device=device, requires_grad=True)
    out = fn(r, f)
    out.backward()
    assert np.isfinite(to_np(out))
    np.testing.assert_allclose(to_np(out), ref(vals, vals[::-1]), rtol=1e-6)
    for t in (r, f):
        if t.grad is not None:
            assert np.all(np.isfinite(to_np(t.grad)))


def test_saturating_vs_nonsaturating_gradients():
    """d/dt of log(1 - D) is -D: vanishes when D rejects the fake; -log D keeps -(1 - D) ≈ -1."""
    t = np.array([-1000.0, -10.0, -2.0, 0.0, 3.0], dtype=np.float64)
    d = special.expit(t)
    for fn, expect in ((L.g_loss_saturating, -d), (L.g_loss_nonsaturating, -(1 - d))):
        x = minigan.tensor(t, requires_grad=True)
        fn(x).backward()
        np.testing.assert_allclose(to_np(x.grad), expect / len(t), rtol=1e-10, atol=1e-300)
    # The point of the non-saturating loss: at D(G(z)) = sigmoid(-10) its gradient is ~e^10
    # times larger than the saturating one's.
    x1 = minigan.tensor(np.array([-10.0]), requires_grad=True)
    x2 = minigan.tensor(np.array([-10.0]), requires_grad=True)
    L.g_loss_saturating(x1).backward()
    L.g_loss_nonsaturating(x2).backward()
    assert abs(x2.grad.item()) / abs(x1.grad.item()) > 2e4


@pytest.mark.parametrize("name", sorted(LOGIT_LOSSES))
def test_loss_gradcheck(name):
    fn, _ = LOGIT_LOSSES[name]
    gen = np.random.default_rng(1)
    # keep away from the hinge/relu kinks at ±1, where finite differences are meaningless
    r = minigan.tensor(gen.uniform(-3, 3, 6) + 0.05, dtype="float64", requires_grad=True)
    f = minigan.tensor(gen.uniform(-3, 3, 6) - 0.05, dtype="float64", requires_grad=True)
    minigan.gradcheck(fn, (r, f))
    minigan.gradgradcheck(fn, (r, f))


def test_clip_weights():
    w = minigan.tensor([[-0.5, 0.005], [0.2, -0.001]], requires_grad=True)
    L.clip_weights([w], 0.01)
    np.testing.assert_allclose(to_np(w), [[-0.01, 0.005], [0.01, -0.001]], rtol=1e-6)
    with pytest.raises(ValueError):
        L.clip_weights([w], 0)


# ------------------------------------------------------------------------ gradient penalty
def test_gradient_penalty_linear_critic_analytic(device):
    """f(x) = <w, x> over (C, H, W): ∇f = w everywhere, so GP = λ (||w||_F - 1)² exactly,
    with the norm over ALL non-batch axes; and d GP / d w = 2λ (||w|| - 1) w / ||w||."""
    gen = np.random.default_rng(0)
    w_np = gen.normal(size=(2, 3, 3))
    w = minigan.tensor(w_np, dtype="float64", device=device, requires_grad=True)
    real = minigan.tensor(gen.normal(size=(4, 2, 3, 3)), dtype="float64", device=device)
    fake = minigan.tensor(gen.normal(size=(4, 2, 3, 3)), dtype="float64", device=device)

    def critic(x):
        return (x * w).sum(axis=(1, 2, 3))

    gp = L.gradient_penalty(critic, real, fake, lam=10.0)
    n = np.linalg.norm(w_np)
    np.testing.assert_allclose(gp.item(), 10.0 * (n - 1) ** 2, rtol=1e-10)
    (g,) = minigan.grad(gp, w)
    np.testing.assert_allclose(to_np(g), 20.0 * (n - 1) * w_np / n, rtol=1e-9)


def test_gradient_penalty_quadratic_critic_per_example():
    """f(x) = a Σ x²: ∇f(x̂) = 2a x̂, so GP = λ mean_i (2|a| ||x̂_i|| - 1)² with x̂_i on the
    segment from fake_i to real_i at the i-th example's own ε (one ε per example)."""
    gen = np.random.default_rng(3)
    real_np, fake_np = gen.normal(size=(5, 2, 2)), gen.normal(size=(5, 2, 2))
    eps = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    a = minigan.tensor(0.7, dtype="float64", requires_grad=True)

    def critic(x):
        return a * (x * x).sum(axis=(1, 2))

    real = minigan.tensor(real_np, dtype="float64")
    fake = minigan.tensor(fake_np, dtype="float64")
    gp = L.gradient_penalty(critic, real, fake, lam=3.0, weight=eps)
    xh = eps[:, None, None] * real_np + (1 - eps[:, None, None]) * fake_np
    norms = np.sqrt((xh ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(gp.item(), 3.0 * np.mean((2 * 0.7 * norms - 1) ** 2), rtol=1e-10)
    (ga,) = minigan.grad(gp, a)        # d/da: 3 mean 2 (2a n - 1) 2 n
    np.testing.assert_allclose(ga.item(), 3.0 * np.mean(2 * (1.4 * norms - 1) * 2 * norms),
                               rtol=1e-10)


def test_gradient_penalty_random_weight_is_per_example():
    seen = {}

    def critic(x):
        seen["x"] = to_np(x)
        return (x * x).sum(axis=(1, 2, 3))

    real = minigan.randn(64, 3, 2, 2)
    fake = minigan.randn(64, 3, 2, 2)
    L.gradient_penalty(critic, real, fake)
    xh, r, f = seen["x"], to_np(real), to_np(fake)
    ratio = ((xh - f) / (r - f)).reshape(64, -1)
    # one ε per example: constant along all non-batch axes, different across examples
    assert np.allclose(ratio, ratio[:, :1], atol=1e-4)
    assert ratio[:, 0].std() > 0.1 and ratio.min() >= -1e-4 and ratio.max() <= 1 + 1e-4


def test_gradient_penalty_second_order_gradcheck():
    """The penalty differentiates through a gradient (create_graph=True): finite differences
    of GP with respect to the critic's weights must match backprop (gradgradcheck-style)."""
    gen = np.random.default_rng(5)
    real = minigan.tensor(gen.normal(size=(4, 3)), dtype="float64")
    fake = minigan.tensor(gen.normal(size=(4, 3)), dtype="float64")
    eps = gen.uniform(size=4)

    def penalty(W, v):
        def critic(x):
            return minigan.tanh(x @ W) @ v
        return L.gradient_penalty(critic, real, fake, lam=2.0, weight=eps)

    W = minigan.tensor(gen.normal(size=(3, 5)), dtype="float64", requires_grad=True)
    v = minigan.tensor(gen.normal(size=(5,)), dtype="float64", requires_grad=True)
    minigan.gradcheck(penalty, (W, v))
    minigan.gradgradcheck(penalty, (W, v))


def test_gradient_penalty_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        L.gradient_penalty(lambda x: x.sum(axis=1), minigan.randn(3, 2), minigan.randn(4, 2))


def test_objective_registry():
    assert set(gan.OBJECTIVES) >= {"gan", "nsgan", "wgan", "wgan-gp", "hinge", "lsgan"}
    assert gan.get_objective("nsgan").g_loss is L.g_loss_nonsaturating
    with pytest.raises(ValueError, match="unknown GAN objective"):
        gan.get_objective("nope")


def test_r1_penalty_quadratic_discriminator_analytic(device):
    """D(x) = a Σ x² over (C, H, W): ∇_x D = 2a x, so R1 = γ/2 mean_i 4a² ||x_i||² exactly
    (the norm over all non-batch axes, on the real samples), and dR1/da = γ mean_i 4a ||x_i||²
    -- the penalty trains D's weights through a gradient (create_graph)."""
    gen = np.random.default_rng(4)
    x_np = gen.normal(size=(5, 2, 3, 3))
    a = minigan.tensor(0.3, dtype="float64", device=device, requires_grad=True)
    x = minigan.tensor(x_np, dtype="float64", device=device, requires_grad=True)
    out = a * (x * x).sum(axis=(1, 2, 3))
    r1 = L.r1_penalty(out, x, gamma=0.5)
    sq = (x_np ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(r1.item(), 0.25 * np.mean(4 * 0.09 * sq), rtol=1e-10)
    (ga,) = minigan.grad(r1, a)
    np.testing.assert_allclose(to_np(ga), 0.5 * np.mean(4 * 0.3 * sq), rtol=1e-10)


def test_r1_penalty_needs_a_real_batch_that_requires_grad():
    x = minigan.randn(4, 2)
    with pytest.raises(ValueError, match="require grad"):
        L.r1_penalty((x * x).sum(axis=1), x, gamma=1.0)


def test_r1_penalty_of_a_packed_discriminator_sums_over_the_pack():
    """PacGAN's D(x1, x2) = <w1, x1> + <w2, x2> has ∇ w1 and w2: R1 per pack is γ/2 (|w1|² +
    |w2|²), whatever the number of packs (the mean is over D's outputs, not samples)."""
    from minigan.gan.remedies import Packed
    minigan.manual_seed(0)
    inner = minigan.nn.Linear(4, 1)
    D = Packed(inner, 2)
    x = minigan.randn(6, 2).requires_grad_(True)
    r1 = L.r1_penalty(D(x), x, gamma=0.5)
    w = to_np(inner.weight).astype(np.float64)
    np.testing.assert_allclose(r1.item(), 0.25 * (w ** 2).sum(), rtol=1e-5)
