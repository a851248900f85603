"""The second set of image models (conditional GAN, WGAN, WGAN-GP, SAGAN, InfoGAN, CycleGAN):
short seeded --quick runs whose headline score must move the right way, resume equality, the
registry and the command line."""
import numpy as np
import pytest

import minigan
from minigan.experiments import images as I

from .conftest import to_np


def _quick(model, tmp_path, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("verbose", False)
    return I.run_images(model, quick=True, out=tmp_path / model, seed=0, **kw)


def test_models_are_registered():
    for name in ("cgan", "wgan", "wgan-gp", "sagan", "infogan", "cyclegan", "stacked"):
        assert name in I.MODELS and name in I.DEFAULTS and name in I.QUICK


# ------------------------------------------------------------------------- conditional GAN
def test_cgan_shapes_and_label_dependence():
    from minigan.experiments.images.cgan import ConditionalDiscriminator, ConditionalGenerator
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
    s = _quick("cgan", tmp_path, ema=0)          # one generator to score: faster
    labels = np.load(tmp_path / "cgan" / "labels.npy")
    samples = np.load(tmp_path / "cgan" / "samples.npy")
    assert samples.shape == (1000, 1, 8, 8) and labels.shape == (1000,)
    assert set(labels) == set(range(10))
    # chance is 10%; 150 steps already reach ~50% (the full run: lesson 14)
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
    run = I.MODELS["wgan"](data, dict(I.DEFAULTS["wgan"], steps=3), tmp_path / "w")
    run.train_steps(3, progress=False)
    assert max(float(np.abs(to_np(p)).max()) for p in run.D.parameters()) <= 0.01 + 1e-7
    gp = I.MODELS["wgan-gp"](data, dict(I.DEFAULTS["wgan-gp"], steps=1), tmp_path / "gp")
    assert not any("BatchNorm" in type(m).__name__ for m in gp.D.modules())


@pytest.mark.parametrize("model", ["cgan", "wgan-gp"])
def test_resume_continues_the_same_run(tmp_path, model):
    data = I.load_image_data("digits")
    cfg = dict(I.DEFAULTS[model], eval_every=0)
    a = I.MODELS[model](data, cfg, tmp_path / "a", seed=3)
    a.train_steps(6, progress=False)
    b = I.MODELS[model](data, cfg, tmp_path / "b", seed=3)
    b.train_steps(3, progress=False)
    b.save()
    c = I.MODELS[model](data, cfg, tmp_path / "b", seed=3).resume()
    c.train_steps(3, progress=False)
    for (k, p), (_, q) in zip(a.G.state_dict().items(), c.G.state_dict().items()):
        np.testing.assert_array_equal(to_np(p), to_np(q), err_msg=k)


# ----------------------------------------------------------------------------------- SAGAN
def test_quick_sagan_attention_maps_and_spectral_norm(tmp_path):
    s = _quick("sagan", tmp_path)
    run = s["run"]
    att = to_np(run.sample_modules["sagan"].attn.attention)
    assert att.shape[1:] == (64, 64)                          # 8×8 map: 64 queries × 64 keys
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)   # each row a softmax
    assert abs(s["gamma_G"]) > 0 and abs(s["gamma_D"]) > 0    # γ left 0: attention is used
    lin = [m for m in run.D.modules() if type(m).__name__ == "Linear"][0]
    sigma = np.linalg.svd(to_np(lin.weight), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 0.1                             # spectral norm keeps σ ≈ 1
    assert (tmp_path / "sagan" / "attention_G.png").exists()


# --------------------------------------------------------------------------------- InfoGAN
def test_code_purity_finds_the_best_permutation():
    from minigan.experiments.images.infogan import code_purity
    codes = np.arange(100) % 10
    classes = (codes * 3 + 1) % 10                            # a permutation of the classes
    purity, match, _ = code_purity(codes, classes)
    assert purity == 1.0 and match[0] == 1 and match[1] == 4
    rng = np.random.default_rng(0)
    assert code_purity(codes, rng.integers(0, 10, 100))[0] < 0.5


def test_quick_infogan_q_reads_the_code_back(tmp_path):
    s = _quick("infogan", tmp_path)
    h = s["run"].history
    assert np.mean(h["info_cat"][:10]) > 2.0                  # log 10 = 2.30 at the start
    assert np.mean(h["info_cat"][-20:]) < 0.5                 # Q recovers c1 from G(z, c)
    assert np.mean(h["info_cont"][-20:]) < 0.5 * np.mean(h["info_cont"][:10])
    assert 0.0 < s["code_purity"] <= 1.0
    for name in ("c1", "c2", "c3"):
        assert (tmp_path / "infogan" / f"infogan_{name}.png").exists()


# -------------------------------------------------------------------------------- CycleGAN
def test_thicken_adds_ink_and_keeps_the_range():
    from minigan.experiments.images.cyclegan import thicken
    x = I.load_image_data("digits")["x_test"][:50]
    t = thicken(x)
    assert t.shape == x.shape and t.min() >= -1 and t.max() <= 1
    assert (t >= x - 1e-6).all() and t.mean() > x.mean() + 0.05


def test_quick_cyclegan_learns_the_cycle(tmp_path):
    s = _quick("cyclegan", tmp_path)
    h = s["run"].history["cycle_l1"]
    assert np.mean(h[-10:]) < np.mean(h[:5]) - 0.01         # the cycles close
    assert s["cycle_l1_BAB"] < s["l1_A_vs_B"]                # closer than the other domain
    assert s["agreement_BtoA"] > 0.5                          # translations keep the class
    assert (tmp_path / "cyclegan" / "cyclegan_BtoA.png").exists()


# ------------------------------------------------------------------------- stacked digits
def test_mode_scores_real_vs_collapsed():
    from minigan.experiments.images.stacked import mode_scores, stack_digits
    from minigan.evaluation.scoring import get_scorer
    scorer = get_scorer("digits", 8)
    real = stack_digits(scorer.x_test, 3000, np.random.default_rng(0))
    r = mode_scores(scorer, real)
    assert r["modes_covered"] > 900 and r["kl_modes_uniform"] < 0.5   # 3000 draws of 1000 modes
    collapsed = np.repeat(real[:1], 3000, axis=0)
    c = mode_scores(scorer, collapsed)
    assert c["modes_covered"] == 1 and abs(c["kl_modes_uniform"] - np.log(1000)) < 1e-9


def test_stacked_run_packs_the_discriminator(tmp_path):
    data = I.load_image_data("digits")
    run = I.MODELS["stacked"](data, dict(I.DEFAULTS["stacked"]), tmp_path / "s")
    assert run.config["method"] == "pacgan" and run.pack == 2 and run.D.channels == 6
    plain = I.MODELS["stacked"](data, dict(I.DEFAULTS["stacked"], method="nsgan"),
                                tmp_path / "b")
    assert plain.pack == 1 and plain.D.channels == 3
    run.train_steps(2, progress=False)
    x = run.G(minigan.randn(4, run.config["z_dim"]))
    assert x.shape == (4, 3, 8, 8)


def test_stacked_minibatch_method_gives_d_the_batch(tmp_path):
    """method="minibatch": D ends in minibatch discrimination, so what it says of a sample
    depends on the samples beside it (a per-sample D's would not)."""
    from minigan import nn
    data = I.load_image_data("digits")
    cfg = dict(I.DEFAULTS["stacked"], method="minibatch", mbd_kernels=6, mbd_dims=3)
    run = I.MODELS["stacked"](data, cfg, tmp_path / "m")
    layers = [m for m in run.D.modules() if isinstance(m, nn.MinibatchDiscrimination)]
    assert run.pack == 1 and run.D.channels == 3 and len(layers) == 1
    assert (layers[0].out_features, layers[0].kernel_dims) == (6, 3)
    run.train_steps(2, progress=False)
    run.D.eval()
    x = minigan.randn(4, 3, 8, 8)
    with minigan.no_grad():
        alone = run.D(x).numpy()[0]
        crowded = run.D(minigan.cat([x[:1], x[:1], x[:1], x[3:]], dim=0)).numpy()[0]
    assert not np.allclose(alone, crowded)
    with pytest.raises(ValueError, match="mbd_kernels"):
        I.MODELS["stacked"](data, dict(cfg, mbd_kernels=0), tmp_path / "bad")
    with pytest.raises(ValueError, match="kernel_dims"):
        I.MODELS["stacked"](data, dict(cfg, mbd_dims=0), tmp_path / "bad_dims")


@pytest.mark.parametrize("model,keys", [("sagan", {"lr_g", "lr_d"}), ("cgan", {"lr_g", "lr_d"}),
                                        ("ae", {"lr"}), ("dcgan", {"lr_g", "lr_d"})])
def test_lr_flag_sets_every_rate_of_the_model(model, keys):
    from minigan.commands.images import lr_overrides
    assert lr_overrides(model, 0.5) == {k: 0.5 for k in keys}


def test_dcgan_learning_curve_measures_without_changing_the_run():
    """eval_every records the Fréchet distance of G and of its EMA on fixed codes; the
    measurement leaves training as it was (same losses, step for step)."""
    plain = I.train_model("dcgan", 40, quick=True, seed=3)
    curve = I.train_model("dcgan", 40, quick=True, seed=3, eval_every=20, eval_n=200)
    rows = curve.trainer.history["metrics"]
    assert [r["step"] for r in rows] == [0, 20, 40]
    assert all(r["frechet"] > 0 and r["frechet_ema"] > 0 for r in rows)
    assert rows[0]["frechet"] == rows[0]["frechet_ema"]          # the EMA starts as G
    assert curve.trainer.history["g_loss"] == plain.trainer.history["g_loss"]
    assert plain.trainer.history["metrics"] == []
