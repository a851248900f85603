"""Super-resolution: the photo split and its patches, PSNR/SSIM/high-frequency energy, the
SRResNet, tiled upscaling, the srgan run's checkpoint and `python -m minigan superres`."""
import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.commands import cli
from minigan.data import photos
from minigan.evaluation import image_quality as Q
from minigan.experiments.images.srgan import load_generator, super_resolve, upscale
from minigan.gan.models.srgan import SRDiscriminator, SRResNet

from .image_runs import check_resume


def test_split_is_fixed_and_disjoint():
    assert not set(photos.TRAIN_PHOTOS) & set(photos.TEST_PHOTOS)
    assert len(photos.TEST_PHOTOS) >= 3
    with pytest.raises(ValueError, match="unknown photo"):
        photos.load_photo("lena")


def test_pairs_and_patches_are_aligned_and_seeded():
    hr, lr = photos.sr_pair("chelsea", 4)
    assert hr.shape == (4 * lr.shape[0], 4 * lr.shape[1]) and hr.dtype == np.float32
    sampler = photos.PatchSampler(["camera", "coins"], scale=4, patch=12)
    minigan.manual_seed(3)
    lr_p, hr_p = sampler.sample(6)
    minigan.manual_seed(3)
    lr_q, _ = sampler.sample(6)
    assert lr_p.shape == (6, 1, 12, 12) and hr_p.shape == (6, 1, 48, 48)
    np.testing.assert_array_equal(lr_p, lr_q)
    # each LR patch is the bicubic shrink of its HR patch (up to the shrink's border)
    for k in range(6):
        shrunk = photos.downscale(hr_p[k, 0], 4)
        assert np.abs(shrunk[2:-2, 2:-2] - lr_p[k, 0, 2:-2, 2:-2]).max() < 2e-3


def test_ycbcr_round_trip_and_grey_luminance():
    rgb = np.random.default_rng(0).uniform(0, 1, (5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(photos.ycbcr_to_rgb(photos.rgb_to_ycbcr(rgb)), rgb, atol=1e-5)
    grey = rgb[..., 0]
    np.testing.assert_allclose(photos.luminance(np.repeat(grey[..., None], 3, -1)),
                               photos.luminance(grey), atol=1e-5)


def test_psnr_ssim_against_definitions_and_skimage():
    rng = np.random.default_rng(1)
    ref = rng.uniform(0, 1, (40, 50))
    noisy = np.clip(ref + 0.05 * rng.standard_normal(ref.shape), 0, 1)
    mse = ((noisy[4:-4, 4:-4] - ref[4:-4, 4:-4]) ** 2).mean()
    assert Q.psnr(noisy, ref, border=4) == pytest.approx(10 * np.log10(1 / mse))
    assert Q.psnr(ref, ref) == float("inf") and Q.ssim(ref, ref) == pytest.approx(1.0)
    metrics = pytest.importorskip("skimage.metrics")
    expect = metrics.structural_similarity(noisy, ref, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False, data_range=1.0)
    assert Q.ssim(noisy, ref) == pytest.approx(expect, rel=1e-9)
    with pytest.raises(ValueError, match="shapes differ"):
        Q.psnr(ref, ref[:-1])


def test_high_frequency_energy_sees_blur():
    hr, lr = photos.sr_pair("camera", 4)
    bic = photos.resize(lr, *hr.shape)
    truth = Q.high_frequency_energy(hr, 4, border=4)
    assert Q.high_frequency_energy(hr, 4, border=4) / truth == 1.0
    assert Q.high_frequency_energy(bic, 4, border=4) / truth < 0.1


def test_srresnet_shapes_and_errors():
    G = SRResNet(1, width=8, blocks=1, scale=4, up_width=4)
    y = G(minigan.randn(2, 1, 5, 7))
    assert y.shape == (2, 1, 20, 28)
    assert SRDiscriminator(1, 4)(y).shape == (2, 1)
    with pytest.raises(ValueError, match="power of two"):
        SRResNet(scale=3)
    with pytest.raises(ValueError, match="expected images"):
        G(minigan.randn(2, 3, 5, 5))


def test_tiled_upscaling_equals_the_whole_image():
    """With an overlap at least the receptive-field radius, the tiles' seams vanish: the
    tiled result equals one forward pass of the whole image away from the image's border."""
    minigan.manual_seed(0)
    G = SRResNet(1, width=8, blocks=1, scale=4, up_width=4)   # radius: 5 LR pixels
    lr = np.random.default_rng(2).uniform(0, 1, (23, 30)).astype(np.float32)
    with minigan.no_grad():
        whole = np.clip(G(minigan.tensor(lr[None, None])).numpy()[0, 0], 0, 1)
    tiled = upscale(G, lr, tile=8, overlap=6, batch=3)
    assert tiled.shape == whole.shape
    b = 4 * 6
    np.testing.assert_allclose(tiled[b:-b, b:-b], whole[b:-b, b:-b], atol=1e-5)
    colour = super_resolve(G, np.stack([lr] * 3, -1), tile=8, overlap=6)
    assert colour.shape == (92, 120, 3) and 0 <= colour.min() and colour.max() <= 1


def test_the_self_ensemble_is_exactly_symmetric_where_the_network_is_not():
    """Averaging over the 8 rotations and mirror images (each undone) makes the upscaling
    commute with them, which a single pass of a network does not."""
    G = SRResNet(1, width=8, blocks=1, scale=4, up_width=4)
    rng = np.random.default_rng(3)
    with minigan.no_grad():          # a network that does something (its start is bicubic)
        for p in G.parameters():
            p.copy_(minigan.tensor(rng.normal(0, 0.3, p.shape).astype(np.float32)))
    lr = rng.uniform(0, 1, (14, 19)).astype(np.float32)
    kw = dict(tile=8, overlap=6)
    for turn in (lambda a: np.rot90(a), lambda a: a[::-1], lambda a: a.T):
        single = upscale(G, np.ascontiguousarray(turn(lr)), **kw)
        assert np.abs(single - turn(upscale(G, lr, **kw))).max() > 1e-3
        both = upscale(G, np.ascontiguousarray(turn(lr)), self_ensemble=True, **kw)
        np.testing.assert_allclose(both, turn(upscale(G, lr, self_ensemble=True, **kw)),
                                   atol=1e-5)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from minigan.experiments.images import run_images
    out = tmp_path_factory.mktemp("srgan")
    with backend.blas_threads(1):
        summary = run_images("srgan", quick=True, out=str(out), verbose=False, steps=6,
                             mse_steps=4, width=8, blocks=1, up_width=4, batch_size=4)
    return out, summary


def test_srgan_run_writes_both_generators_and_measures_them(checkpoint):
    out, summary = checkpoint
    assert (out / "checkpoint.npz").is_file() and (out / "superres_crops.png").is_file()
    assert set(summary["sr_mean"]) == {"bicubic", "mse", "gan", "mse x8"}
    G_mse, G_gan = load_generator(out / "checkpoint.npz", "mse"), load_generator(
        out / "checkpoint.npz", "gan")
    differ = any(not np.array_equal(a.numpy(), b.numpy())
                 for a, b in zip(G_mse.parameters(), G_gan.parameters()))
    assert differ, "the adversarial phase must have moved G away from the kept MSE model"


def test_superres_command(checkpoint, tmp_path, capsys):
    out, _ = checkpoint
    ck = str(out / "checkpoint.npz")
    src = tmp_path / "small.png"
    photos.write_image(src, photos.load_photo("chelsea")[:40, :52])
    dst = tmp_path / "big.png"
    assert cli.main(["superres", str(src), "--scale", "4", "--checkpoint", ck,
                     "--out", str(dst), "--tile", "16"]) == 0
    big = photos.read_image(dst)
    assert big.shape == (160, 208, 3)
    assert cli.main(["superres", str(src), "--checkpoint", ck, "--out", str(dst),
                     "--tile", "16", "--self-ensemble"]) == 0
    assert photos.read_image(dst).shape == (160, 208, 3)
    assert cli.main(["superres", str(src), "--checkpoint", ck, "--out", str(dst),
                     "--evaluate"]) == 0
    assert "bicubic  PSNR" in capsys.readouterr().out
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    assert cli.main(["superres", str(bad), "--checkpoint", ck, "--out", str(dst)]) == 1
    assert cli.main(["superres", str(src), "--checkpoint", ck, "--out", str(dst),
                     "--scale", "2"]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "enlarges ×4" in err


TINY = dict(width=8, blocks=1, up_width=4, batch_size=4, patch=12)


def test_resume_across_the_switch_to_the_adversarial_phase(tmp_path):
    """Stopped in the MSE phase and resumed, the run copies G to G_mse at the same step and
    ends bit for bit where an uninterrupted one does."""
    from minigan.experiments.images.srgan import SRGANRun
    check_resume("srgan", SRGANRun.load_data(None), dict(TINY, mse_steps=3), 6, 2,
                 ("G", "G_mse", "D"), tmp_path, size=0, seed=5)



def test_mse_training_beats_its_start_on_held_out_patches():
    """A tiny SRResNet, 150 MSE steps: its PSNR on held-out crops rises (over 3 seeds, every
    seed gains at least 0.2 dB over the untrained network, which is bilinear plus noise)."""
    from minigan import optim
    hr, lr = photos.sr_pair("camera", 4)
    hr, lr = hr[:192, :192], lr[:48, :48]
    sampler = photos.PatchSampler(["astronaut", "grass", "brick"], 4, 12)
    gains = []
    with backend.blas_threads(1):
        for seed in range(3):
            minigan.manual_seed(seed)
            G = SRResNet(1, width=8, blocks=1, scale=4, up_width=4, skip="bilinear")
            before = Q.psnr(upscale(G, lr), hr, border=4)
            opt = optim.Adam(G.parameters(), lr=2e-3)
            for _ in range(150):
                x, y = (minigan.tensor(a) for a in sampler.sample(8))
                loss = ((G(x) - y) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            gains.append(Q.psnr(upscale(G, lr), hr, border=4) - before)
    assert min(gains) > 0.2, gains


def test_a_run_stopped_at_the_switch_serves_its_mse_model(tmp_path):
    from minigan.experiments import images as I
    from minigan.experiments.images.srgan import SRGANRun
    cfg = I.runner._config("srgan", False, dict(TINY, steps=2, mse_steps=2), size=0)
    with backend.blas_threads(1):
        run = I.MODELS["srgan"](SRGANRun.load_data(None), cfg, tmp_path, seed=0)
        run.train_steps(2, progress=False)
        run.save()
    G = load_generator(tmp_path / "checkpoint.npz", "mse")
    for a, b in zip(G.parameters(), run.G.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="before its adversarial phase"):
        load_generator(tmp_path / "checkpoint.npz", "gan")
