"""z-space interpolation and arithmetic, and GAN inversion (Adam on z, restarts)."""
import numpy as np
import pytest

import minigan
from minigan.evaluation import latent as zspace
from minigan.evaluation.inversion import invert
from minigan.gan.models.dcgan import DCGANGenerator

from .conftest import to_np


def test_lerp_and_slerp_hit_the_endpoints():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    for fn in (zspace.lerp, zspace.slerp):
        np.testing.assert_allclose(fn(a, b, 0.0), a, atol=1e-12)
        np.testing.assert_allclose(fn(a, b, 1.0), b, atol=1e-12)
    np.testing.assert_allclose(zspace.lerp(a, b, 0.5), (a + b) / 2)


def test_slerp_keeps_the_norm_that_lerp_loses():
    """Two typical N(0, I) codes are nearly orthogonal with norm ~ sqrt(d); the linear
    midpoint shrinks to ~ sqrt(d/2), the spherical one stays on the shell."""
    rng = np.random.default_rng(1)
    d = 256
    a, b = rng.standard_normal(d), rng.standard_normal(d)
    path_l = zspace.interpolate(a, b, 11, "lerp")
    path_s = zspace.interpolate(a, b, 11, "slerp")
    norms_l = np.linalg.norm(path_l, axis=1)
    norms_s = np.linalg.norm(path_s, axis=1)
    assert norms_l[5] < 0.8 * np.sqrt(d)
    lo, hi = min(norms_s[0], norms_s[-1]), max(norms_s[0], norms_s[-1])
    assert np.all(norms_s >= lo - 1e-9) and np.all(norms_s <= hi + 1e-9)
    # the angle to a grows evenly along the great circle
    cos = path_s @ a / (norms_s * np.linalg.norm(a))
    ang = np.arccos(np.clip(cos, -1, 1))
    np.testing.assert_allclose(np.diff(ang), ang[-1] / 10, rtol=1e-6)


def test_slerp_of_parallel_codes_falls_back_to_lerp():
    a = np.ones(4)
    out = zspace.slerp(a, 3 * a, 0.5)
    np.testing.assert_allclose(out, 2 * a)
    assert np.all(np.isfinite(zspace.slerp(a, -a, 0.3)))


def test_tensors_in_tensors_out_and_grid_shape():
    z0, z1 = minigan.randn(3, 8), minigan.randn(3, 8)
    grid = zspace.interpolation_grid(z0, z1, steps=5)
    assert isinstance(grid, minigan.Tensor) and grid.shape == (15, 8)
    np.testing.assert_allclose(to_np(grid)[0], to_np(z0)[0], atol=1e-6)
    np.testing.assert_allclose(to_np(grid)[4], to_np(z1)[0], atol=1e-6)
    np.testing.assert_allclose(to_np(grid)[5], to_np(z0)[1], atol=1e-6)
    assert grid.dtype == np.float32
    with pytest.raises(ValueError, match="method"):
        zspace.interpolate(z0[0], z1[0], 4, "cubic")


def test_vector_arithmetic_averages_each_group():
    plus = np.array([[1.0, 0.0], [3.0, 0.0]])
    minus = np.array([[0.0, 1.0]])
    base = np.array([[0.0, 0.0], [0.0, 4.0], [0.0, 2.0]])
    np.testing.assert_allclose(zspace.vector_arithmetic(plus, minus, base), [2.0, 1.0])


@pytest.fixture
def small_generator():
    minigan.manual_seed(0)
    G = DCGANGenerator(z_dim=8, size=8, width=8)
    G.eval()
    return G


def test_inversion_recovers_images_on_the_manifold(small_generator):
    """Targets G(z_true) lie exactly on G's manifold: the search must get close to them,
    much closer than random codes do."""
    G = small_generator
    z_true = minigan.tensor(np.random.default_rng(2).standard_normal((6, 8)).astype(np.float32))
    with minigan.no_grad():
        x = G(z_true)
    before = [p.numpy().copy() for p in G.parameters()]
    res = invert(G, x, steps=250, restarts=3, lr=0.05, seed=0)
    assert res["z"].shape == (6, 8) and res["images"].shape == (6, 1, 8, 8)
    with minigan.no_grad():
        rand = G(minigan.tensor(np.random.default_rng(3).standard_normal((6, 8))
                                .astype(np.float32)))
    err_random = ((to_np(rand) - to_np(x)) ** 2).mean()
    assert res["errors"].mean() < 0.05 * err_random
    assert res["history"][-1] < res["history"][0]
    for p, b in zip(G.parameters(), before):       # G itself is untouched
        np.testing.assert_array_equal(p.numpy(), b)
        assert p.requires_grad


def test_more_restarts_never_do_worse(small_generator):
    G = small_generator
    x = minigan.tensor(np.random.default_rng(4).uniform(-1, 1, (5, 1, 8, 8)).astype(np.float32))
    one = invert(G, x, steps=40, restarts=1, seed=7)
    four = invert(G, x, steps=40, restarts=4, seed=7)   # its first restart is `one`'s start
    assert np.all(four["errors"] <= one["errors"] + 1e-6)
    assert four["errors"].mean() < one["errors"].mean()


def test_inversion_checks_its_arguments(small_generator):
    with pytest.raises(ValueError, match="restarts"):
        invert(small_generator, minigan.zeros(1, 1, 8, 8), restarts=0)
    with pytest.raises(ValueError, match="z_dim"):
        invert(lambda z: z, minigan.zeros(1, 1, 8, 8))


def test_inversion_started_at_the_right_code_stays_there(small_generator):
    """init = the codes that made the targets: zero steps give zero error; a wrong shape is
    refused."""
    G = small_generator
    z_true = minigan.tensor(np.random.default_rng(5).standard_normal((4, 8)).astype(np.float32))
    with minigan.no_grad():
        x = G(z_true)
    res = invert(G, x, steps=0, restarts=2, init=z_true, seed=0)
    assert res["errors"].max() < 1e-10
    np.testing.assert_allclose(to_np(res["z"]), to_np(z_true), atol=1e-6)
    with pytest.raises(ValueError, match="init"):
        invert(G, x, steps=1, init=z_true[:3])


@pytest.fixture
def varied_generator():
    """An untrained G whose images differ from code to code (DCGAN's N(0, 0.02) start draws
    nearly the same image for every z): conv weights scaled up, batch norm re-estimated."""
    from minigan.gan.sampling import recalibrate_batchnorm
    minigan.manual_seed(1)
    G = DCGANGenerator(z_dim=8, size=8, width=8)
    with minigan.no_grad():
        for p in G.parameters():
            if p.ndim == 4:
                p.array *= 15
    return recalibrate_batchnorm(G, lambda n: minigan.randn(n, 8))


def test_encoder_start_beats_random_restarts(varied_generator):
    """iGAN's hybrid: an encoder trained to invert G starts the search near the answer, so
    with the same few Adam steps it ends far below random starts (best of 4), and even the
    encoder alone beats random codes. Held-out targets: G's samples from another seed."""
    from minigan.evaluation.inversion import compare_inversions, train_encoder
    G = varied_generator
    E, hist = train_encoder(G, steps=300, batch_size=64, lr=2e-3, width=16, seed=0)
    assert hist[-1] < 0.5 * hist[0]
    assert all(p.requires_grad for p in G.parameters())
    z = minigan.tensor(np.random.default_rng(6).standard_normal((40, 8)).astype(np.float32))
    with minigan.no_grad():
        x = G(z)
    res = compare_inversions(G, x, E, steps=20, restarts=4, lr=0.05, seed=1)
    with minigan.no_grad():
        rand = G(minigan.tensor(np.random.default_rng(7).standard_normal((40, 8))
                                .astype(np.float32)))
    err_random_code = ((to_np(rand) - to_np(x)) ** 2).mean()
    # measured: encoder ~0.03, random codes ~0.6, encoder+opt ~0.001, random restarts ~0.1
    assert res["encoder"]["mse"] < 0.2 * err_random_code
    assert res["encoder+opt"]["mse"] < 0.2 * res["random"]["mse"]
    assert res["encoder+opt"]["mse"] <= res["encoder"]["mse"]
    for r in res.values():
        assert r["seconds"] > 0 and r["errors"].shape == (40,)
