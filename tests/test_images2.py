"""The second set of image models (conditional GAN, WGAN, WGAN-GP, SAGAN, InfoGAN, CycleGAN):
short seeded --quick runs whose headline score must move the right way, resume equality, the
registry and the command line."""
import numpy as np
import pytest

import minigan
from minigan.gan import images as I

from .conftest import to_np


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with I.blas_threads(1):
        yield


def _quick(model, tmp_path, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("verbose", False)
    return I.run_images(model, quick=True, out=tmp_path / model, seed=0, **kw)


def test_models_are_registered():
    for name in ("cgan", "wgan", "wgan-gp"):
        assert name in I.RUNS and name in I.DEFAULTS and name in I.QUICK


# ------------------------------------------------------------------------- conditional GAN
def test_cgan_shapes_and_label_dependence():
    from minigan.gan.conditional import ConditionalDiscriminator, ConditionalGenerator
    G, D = ConditionalGenerator(z_dim=8), ConditionalDiscriminator()
    z = minigan.randn(4, 8)
    y0 = minigan.tensor(np.zeros(4, dtype=np.int64))
    y1 = minigan.tensor(np.full(4, 7, dtype=np.int64))
    G.eval()
    x0, x1 = G(z, y0), G(z, y1)
    assert x0.shape == (4, 1, 8, 8) and D(x0, y0).shape == (4, 1)
    assert np.abs(to_np(x0) - to_np(x1)).max() > 1e-4      # the label changes the image
    assert np.abs(to_np(D(x0, y0)) - to_np(D(x0, y1))).max() > 1e-6


def test_quick_cgan_follows_the_requested_label(tmp_path):
    s = _quick("cgan", tmp_path)
    labels = np.load(tmp_path / "cgan" / "labels.npy")
    samples = np.load(tmp_path / "cgan" / "samples.npy")
    assert samples.shape == (1000, 1, 8, 8) and labels.shape == (1000,)
    assert set(labels) == set(range(10))
    # chance is 10%; 150 steps already reach ~50% (the full run: see the issue report)
    assert s["cgan_label_agreement"] > 0.3
    assert (tmp_path / "cgan" / "same_z_every_label.png").exists()


# --------------------------------------------------------------------------- WGAN, WGAN-GP
@pytest.mark.parametrize("model", ["wgan-gp"])
def test_quick_wgan_curve_falls_with_the_frechet_distance(tmp_path, model):
    s = _quick(model, tmp_path)
    fd = s["curve_frechet"]
    assert fd[-1] < 0.9 * fd[0]                       # G improves measurably
    assert len(s["curve_wasserstein"]) == len(fd) >= 4
    assert np.isfinite(s["wasserstein_frechet_pearson"])
    assert (tmp_path / model / "wasserstein_curve.png").exists()


def test_wgan_clips_the_critic_and_gp_critic_has_no_batchnorm(tmp_path):
    data = I.load_image_data("digits")
    run = I.RUNS["wgan"](data, dict(I.DEFAULTS["wgan"], steps=3), tmp_path / "w")
    run.train_steps(3, progress=False)
    assert max(float(np.abs(to_np(p)).max()) for p in run.D.parameters()) <= 0.01 + 1e-7
    gp = I.RUNS["wgan-gp"](data, dict(I.DEFAULTS["wgan-gp"], steps=1), tmp_path / "gp")
    assert not any("BatchNorm" in type(m).__name__ for m in gp.D.modules())


@pytest.mark.parametrize("model", ["cgan", "wgan-gp"])
def test_resume_continues_the_same_run(tmp_path, model):
    data = I.load_image_data("digits")
    cfg = dict(I.DEFAULTS[model], eval_every=0)
    a = I.RUNS[model](data, cfg, tmp_path / "a", seed=3)
    a.train_steps(6, progress=False)
    b = I.RUNS[model](data, cfg, tmp_path / "b", seed=3)
    b.train_steps(3, progress=False)
    b.save()
    c = I.RUNS[model](data, cfg, tmp_path / "b", seed=3).resume()
    c.train_steps(3, progress=False)
    for (k, p), (_, q) in zip(a.G.state_dict().items(), c.G.state_dict().items()):
        np.testing.assert_array_equal(to_np(p), to_np(q), err_msg=k)
