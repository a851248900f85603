"""SRResNet's options: the ESPCN upsampler, the bicubic skip (checked against PIL's bicubic
enlargement), the pretraining loss and learning-rate schedule of the srgan run, and
checkpoints written before these settings existed."""
import json

import numpy as np
import pytest

import minigan
from minigan import backend, serialization
from minigan.commands import cli
from minigan.data import photos
from minigan.experiments.images.srgan import (SETTINGS_BEFORE, SRGANRun, load_generator,
                                              lr_factor, make_generator, upscale)
from minigan.gan.models.srgan import SRResNet


def test_bicubic_skip_is_pils_bicubic_enlargement():
    """Away from the border (2 LR pixels, where PIL renormalises its weights and the skip
    repeats the edge) the fixed 5×5 phase convolution + pixel shuffle is PIL's bicubic
    enlargement; the untrained network (last layer at zero) is that enlargement too."""
    lr = np.random.default_rng(0).uniform(0, 1, (19, 26)).astype(np.float32)
    for scale in (2, 4):
        G = SRResNet(1, width=8, blocks=1, scale=scale, upsampler="espcn", skip="bicubic")
        ref = photos.resize(lr, scale * 19, scale * 26)
        with minigan.no_grad():
            skip = G.enlarge(minigan.tensor(lr[None, None])).numpy()[0, 0]
            out = G(minigan.tensor(lr[None, None])).numpy()[0, 0]
        b = 2 * scale
        assert skip.shape == ref.shape == out.shape
        np.testing.assert_allclose(skip[b:-b, b:-b], ref[b:-b, b:-b], atol=2e-6)
        np.testing.assert_allclose(out, skip, atol=0)
        # the border differs, but only slightly: the edge repeated, not zeros
        assert np.abs(skip - ref).max() < 0.2


def test_bilinear_skip_is_not_bicubic():
    """The check above can fail: the old skip differs from PIL's bicubic in the interior."""
    lr = np.random.default_rng(1).uniform(0, 1, (12, 12)).astype(np.float32)
    G = SRResNet(1, width=8, blocks=1, scale=4, skip="bilinear")
    with minigan.no_grad():
        skip = G.enlarge(minigan.tensor(lr[None, None])).numpy()[0, 0]
    assert np.abs(skip - photos.resize(lr, 48, 48))[8:-8, 8:-8].max() > 1e-2


def test_espcn_shapes_radius_and_state():
    G = SRResNet(1, width=8, blocks=2, scale=4, upsampler="espcn", skip="bicubic")
    assert G(minigan.randn(2, 1, 5, 7)).shape == (2, 1, 20, 28)
    assert G.tail.weight.shape == (16, 8, 3, 3)
    assert G.radius == 1 + 2 * 2 + 1 + 1
    assert SRResNet(1, width=8, blocks=2, scale=4).radius == 1 + 2 * 2 + 1 + 1 + 1
    # the bicubic filters are a function of the scale: a buffer, but not saved
    assert "bicubic" in dict(G.named_buffers()) and "bicubic" not in G.state_dict()
    with pytest.raises(ValueError, match="upsampler must be"):
        SRResNet(upsampler="deconv")
    with pytest.raises(ValueError, match="upsampler must be"):
        SRResNet(skip="nearest")


def test_espcn_tiles_with_the_default_overlap_equal_the_whole_image():
    minigan.manual_seed(0)
    G = SRResNet(1, width=8, blocks=1, scale=4, upsampler="espcn", skip="bicubic")
    for p in G.tail.parameters():                       # leave bicubic: a non-zero detail
        p.data = minigan.randn(*p.shape) * 0.1
    lr = np.random.default_rng(2).uniform(0, 1, (23, 30)).astype(np.float32)
    with minigan.no_grad():
        whole = np.clip(G(minigan.tensor(lr[None, None])).numpy()[0, 0], 0, 1)
    tiled = upscale(G, lr, tile=8, batch=3)
    b = 4 * max(16, G.radius)
    assert tiled.shape == whole.shape
    np.testing.assert_allclose(tiled[b:-b, b:-b], whole[b:-b, b:-b], atol=1e-5)


def test_lr_schedules():
    steps = 100
    # "linear": constant over the first half, then down to 10% at the end
    assert [lr_factor("linear", s, steps) for s in (0, 50, 75, 100)] == pytest.approx(
        [1.0, 1.0, 0.55, 0.1])
    assert [lr_factor("cosine", s, steps) for s in (0, 50, 100, 150)] == pytest.approx(
        [1.0, 0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="schedule must be"):
        lr_factor("step", 0, steps)


TINY = dict(width=8, blocks=1, up_width=4, batch_size=4, patch=12)


@pytest.mark.parametrize("settings", [dict(pixel_loss="l1", schedule="cosine"),
                                      dict(upsampler="espcn", skip="bicubic")])
def test_options_train_and_resume(settings, tmp_path):
    from .image_runs import check_resume
    check_resume("srgan", SRGANRun.load_data(None), dict(TINY, mse_steps=3, **settings), 5, 2,
                 ("G", "G_mse", "D"), tmp_path, size=0, seed=5)


def test_unknown_options_are_refused(tmp_path):
    from minigan.experiments import images as I
    for bad in (dict(pixel_loss="huber"), dict(schedule="step")):
        cfg = I.runner._config("srgan", False, dict(TINY, **bad), size=0)
        with pytest.raises(ValueError, match="must be"):
            I.MODELS["srgan"](SRGANRun.load_data(None), cfg, tmp_path, seed=0)


def _older_checkpoint(tmp_path):
    """A 2-step run of the model older checkpoints hold, saved as they were: its config
    without the settings added since. Returns (run, checkpoint path, saved config)."""
    from minigan.experiments import images as I
    cfg = I.runner._config("srgan", False, dict(TINY, steps=2, mse_steps=2, **SETTINGS_BEFORE),
                           size=0)
    with backend.blas_threads(1):
        run = I.MODELS["srgan"](SRGANRun.load_data(None), cfg, tmp_path, seed=0)
        run.train_steps(2, progress=False)
        run.save()
    path = tmp_path / "checkpoint.npz"
    state = serialization.load(path)
    c = json.loads(str(state["config_json"]))
    for key in SETTINGS_BEFORE:
        del c[key]
    state["config_json"] = json.dumps(c)
    serialization.save(state, path)
    return run, path, c


def test_a_checkpoint_without_the_new_settings_loads_as_the_old_model(tmp_path):
    """A checkpoint written before ``upsampler``/``skip`` existed (its config lacks them)
    holds the two-stage upsampler over the bilinear skip, and loads and enlarges as one."""
    run, path, c = _older_checkpoint(tmp_path)
    assert make_generator(c).upsampler == "stages" and make_generator(c).skip == "bilinear"
    G = load_generator(path, "mse")
    assert (G.upsampler, G.skip) == ("stages", "bilinear")
    for a, b in zip(G.parameters(), run.G.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    src, dst = tmp_path / "small.png", tmp_path / "big.png"
    photos.write_image(src, photos.load_photo("chelsea")[:20, :28])
    assert cli.main(["superres", str(src), "--checkpoint", str(path), "--out", str(dst),
                     "--tile", "8"]) == 0
    assert photos.read_image(dst).shape == (80, 112, 3)


def test_a_checkpoint_without_the_new_settings_resumes_as_the_old_model(tmp_path):
    """--resume of such a checkpoint continues the model it holds (not refused because the
    defaults have changed since)."""
    from minigan.experiments import images as I
    _older_checkpoint(tmp_path)
    now = I.runner._config("srgan", False, dict(TINY, steps=2, mse_steps=2), size=0)
    assert now["skip"] != SETTINGS_BEFORE["skip"]               # the default has moved on
    with backend.blas_threads(1):
        again = I.MODELS["srgan"](SRGANRun.load_data(None), now, tmp_path, seed=0).resume()
        assert (again.G.upsampler, again.G.skip) == ("stages", "bilinear")
        assert again.step == 2
        again.train_steps(1, progress=False)
    assert again.step == 3
