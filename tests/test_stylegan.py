"""StyleGAN: the mapping network, style mixing's layer split, truncation, w̄, the noise, the
path length, and the run (its figures' numbers; resume continues the same run)."""
import numpy as np
import pytest

import minigan
from minigan import backend
from minigan import functional as F
from minigan.evaluation import latent
from minigan.evaluation.path_length import path_length
from minigan.gan.models.stylegan import StyleGenerator, upsample2x

from .image_runs import check_resume


def _G(**kw):
    minigan.manual_seed(0)
    return StyleGenerator(z_dim=8, w_dim=8, mapping_layers=2, widths=(8, 4, 2), **kw)


def test_mapping_sees_only_the_direction_of_z():
    G = _G()
    z = minigan.randn(4, 8)
    # float32: a relative tolerance alone fails on outputs near 0 (w is of order 1)
    np.testing.assert_allclose(G.mapping(z).numpy(), G.mapping(3.0 * z).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_style_mixing_switches_at_the_cut():
    G = _G()
    w1, w2 = minigan.randn(3, 8), minigan.randn(3, 8)
    s = G.mix(w1, w2, np.array([0, 2, G.n_styles])).numpy()
    a, b = w1.numpy(), w2.numpy()
    np.testing.assert_array_equal(s[0], np.repeat(b[:1], G.n_styles, 0))      # cut 0: all w2
    np.testing.assert_array_equal(s[1, :2], np.repeat(a[1:2], 2, 0))          # cut 2
    np.testing.assert_array_equal(s[1, 2:], np.repeat(b[1:2], G.n_styles - 2, 0))
    np.testing.assert_array_equal(s[2], np.repeat(a[2:3], G.n_styles, 0))     # no mixing


def test_w_avg_tracks_training_batches_only_and_truncation_to_zero_is_one_image():
    G = _G(mixing_prob=0.0)
    z = minigan.randn(16, 8)
    G.train()
    G(z)
    expected = (1 - G.w_avg_beta) * G.mapping(z).numpy().mean(0)
    np.testing.assert_allclose(G.w_avg.numpy(), expected, rtol=1e-5, atol=1e-7)
    G.eval()
    before = G.w_avg.numpy().copy()
    with backend.fork_rng(1):
        x0 = G(z, psi=0.0).numpy()
    np.testing.assert_array_equal(G.w_avg.numpy(), before)
    # psi = 0: every z gets w̄; with the noise switched off all images are the same
    for layer in G.synthesis.layers:
        layer.noise.weight.data.zero_()
    x0 = G(z, psi=0.0).numpy()
    # float32 rounding only (batched GEMMs sum in different orders per row); images of
    # different w differ by tenths
    np.testing.assert_allclose(x0, np.repeat(x0[:1], len(x0), 0), atol=1e-5)


def test_noise_is_seeded_and_upsampling_is_nearest():
    G = _G()
    G.eval()
    for layer in G.synthesis.layers:
        layer.noise.weight.data.fill_(0.5)
    z = minigan.randn(2, 8)
    with backend.fork_rng(3):
        a = G(z).numpy()
    with backend.fork_rng(3):
        b = G(z).numpy()
    with backend.fork_rng(4):
        c = G(z).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4
    x = minigan.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(upsample2x(x).numpy(),
                                  F.interpolate(x, scale_factor=2, mode="nearest").numpy())
    with pytest.raises(ValueError, match="expected z"):
        G(minigan.randn(2, 5))


def test_noise_from_leaves_the_coarse_layers_deterministic():
    """noise_from=2: the 7×7 layers have no noise weights and their output does not depend on
    the noise stream; the finer layers' does."""
    def coarse_and_image(G, noise_seed):
        seen = []
        hook = G.synthesis.layers[1].register_forward_hook(lambda m, a, out: seen.append(out))
        with backend.fork_rng(noise_seed):
            image = G(z).numpy()
        hook.remove()
        return seen[0].numpy(), image

    z = minigan.randn(2, 8)
    for noise_from, coarse_fixed in ((0, False), (2, True)):
        G = _G(noise_from=noise_from)
        G.eval()
        assert [layer.noise is None for layer in G.synthesis.layers] == \
            [i < noise_from for i in range(G.n_styles)]
        names = [k for k in G.state_dict() if ".noise." in k]
        assert len(names) == G.n_styles - noise_from
        for layer in G.synthesis.layers[noise_from:]:
            layer.noise.weight.data.fill_(0.5)
        (ca, ia), (cb, ib) = coarse_and_image(G, 3), coarse_and_image(G, 4)
        assert np.array_equal(ca, cb) == coarse_fixed
        assert np.abs(ia - ib).max() > 1e-4


def test_he_started_mapping_keeps_w_as_varied_as_z():
    """nn.Linear's default start shrinks the activations' scale layer by layer, so w would be
    nearly the same for every z; the Kaiming start keeps its spread."""
    z = minigan.randn(256, 8)

    def spread(init):
        minigan.manual_seed(0)
        m = StyleGenerator(z_dim=8, w_dim=32, mapping_layers=4, widths=(8, 4, 2),
                           mapping_init=init).mapping
        return float(m(z).numpy().std(axis=0).mean())
    assert spread("he") > 0.3 and spread("default") < 0.1
    with pytest.raises(ValueError, match="init"):
        _G(mapping_init="xavier")


def test_constant_input_starts_flat_or_random():
    flat = _G().synthesis.const.numpy()
    assert np.all(flat == 1.0)
    rand = _G(const_init="randn").synthesis.const.numpy()
    assert 0.5 < rand.std() < 1.5 and rand.std(axis=(2, 3)).min() > 0.1    # varies in space
    with pytest.raises(ValueError, match="const_init"):
        _G(const_init="zeros")


def test_path_length_of_a_linear_map():
    """For G = identity and φ = identity, a linear path's length is |b - a|² for every t."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((200, 3)), rng.standard_normal((200, 3))
    mean, d = path_length(lambda c: c, lambda f: f, a, b, latent.lerp, eps=1e-2)
    np.testing.assert_allclose(d, ((b - a) ** 2).sum(1), rtol=1e-6)
    lo, hi = np.percentile(d, [1, 99])
    assert mean == pytest.approx(d[(d >= lo) & (d <= hi)].mean())
    with pytest.raises(ValueError, match="endpoints"):
        path_length(lambda c: c, lambda f: f, a, b[:5], latent.lerp)


TINY = dict(g_width=2, d_width=8, batch_size=8, z_dim=8, w_dim=8, mapping_layers=2,
            n_samples=64, sweep_samples=64, path_pairs=20)


@pytest.fixture(scope="module")
def data():
    from minigan.experiments.images.stylegan import StyleGANRun
    return StyleGANRun.load_data(None)


def test_resume_continues_the_same_run(data, tmp_path):
    """Style mixing draws from the checkpointed CPU generator and w̄ is a buffer: both resume."""
    check_resume("stylegan", data, TINY, 4, 2,
                 (lambda r: r.G, lambda r: r.D, lambda r: r.ema.shadow), tmp_path)


def test_r1_setting_reaches_the_discriminator_loss(data):
    from minigan.experiments.images.runner import train_model
    first = {g: train_model("stylegan", 1, seed=1, data=data, r1_gamma=g,
                            **TINY).history["d_loss"][0] for g in (0.0, 1.0)}
    assert np.isfinite(first[1.0]) and first[1.0] > first[0.0] + 1e-6


def test_run_measures_mixing_truncation_and_path_length(data, tmp_path):
    from minigan.evaluation.scoring import get_scorer
    from minigan.experiments import images as I
    from minigan.experiments.images.stylegan import TRUNCATIONS
    cfg = I.runner._config("stylegan", False, dict(TINY, steps=2), size=28)
    scorer = get_scorer("mnist", 28)
    with backend.blas_threads(1):
        run = I.MODELS["stylegan"](data, cfg, tmp_path, seed=1)
        run.train_steps(2, progress=False)
        a, b, mixed, nums = run.style_mixing(run.G, scorer, rows=2, cols=3, n=40)
        sweep, rows = run.truncation_sweep(run.G, scorer)
        pl = run.path_lengths(run.G, scorer)
    assert a.shape == (2, 1, 28, 28) and b.shape == (3, 1, 28, 28) and len(mixed) == 6
    assert 0 <= nums["mixing_pairs_of_different_class"] <= 40
    assert set(sweep) == set(TRUNCATIONS) and all(len(r) == 10 for r in rows.values())
    assert pl["path_length_z"] >= 0 and pl["path_length_w"] >= 0
    with pytest.raises(ValueError, match="28×28"):
        I.MODELS["stylegan"].load_data("digits16")


def test_trains_with_the_dcgans_28x28_recipe():
    # lesson 22 compares the two generators: everything else about training must be the same.
    # The StyleGAN was tuned at the DCGAN's earlier rate and EMA, and the lesson hands them to
    # the DCGAN (whose own default has since moved to a faster rate).
    import pathlib
    from minigan.experiments.images import runner
    sg = runner._config("stylegan", False, {}, size=28)
    handed = ("lr_g", "lr_d", "ema")
    dc = runner._config("dcgan", False, {k: sg[k] for k in handed}, size=28)
    lesson = pathlib.Path(__file__).parents[1] / "lessons" / "22_stylegan.py"
    assert 'sg.config[k] for k in ("lr_g", "lr_d", "ema")' in lesson.read_text()
    keys = ("batch_size", "lr_g", "lr_d", "beta1", "ema", "objective", "r1_gamma", "r1_every")
    assert {k: sg[k] for k in keys} == {k: dc[k] for k in keys}
    assert dc["decay_from"] >= 1.0          # the DCGAN's rates are constant, as StyleGAN's


def test_mapping_network_learns_at_its_own_rate(data):
    from minigan.experiments.images.runner import train_model
    run = train_model("stylegan", 1, seed=1, data=data, mapping_lr=0.01, **TINY)
    mapping, synthesis = run.trainer.g_optimizer.param_groups
    assert mapping["lr"] == pytest.approx(0.01 * run.config["lr_g"])
    assert synthesis["lr"] == run.config["lr_g"]
    # every parameter of G is in exactly one group
    ids = [id(p) for g in (mapping, synthesis) for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in run.G.parameters())
    # the run's default: the paper's slow mapping network, started so that w varies with z
    run = train_model("stylegan", 1, seed=1, data=data, **TINY)
    assert run.trainer.g_optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * run.config["lr_g"])
    w = run.G.mapping(minigan.randn(256, run.config["z_dim"])).numpy()
    assert w.std(axis=0).mean() > 0.3
