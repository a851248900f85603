"""pix2pix: Sobel edge maps, the U-Net, the PatchGAN's receptive field, and the run (both
generators learn; resume continues the same run)."""
import numpy as np
import pytest

import minigan
from minigan import backend, nn
from minigan.data.edges import edge_map, sobel_magnitude
from minigan.gan.models.pix2pix import PatchDiscriminator, UNetGenerator, receptive_field

from .image_runs import check_resume


def test_edges_of_a_square_are_its_outline():
    img = -np.ones((1, 1, 12, 12), np.float32)
    img[..., 3:9, 3:9] = 1.0
    e = edge_map(img)
    assert set(np.unique(e)) == {-1.0, 1.0}
    inside, outside = e[0, 0, 5:7, 5:7], e[0, 0, :, 0]
    assert (inside == -1).all() and (outside == -1).all()    # no edge inside, none at the frame
    assert (e[0, 0, 2:10, 2:10] > 0).sum() == 8 * 8 - 4 * 4 - 4   # the two rings minus corners
    # the Tensor path gives the same maps on the image's device
    t = minigan.tensor(img)
    np.testing.assert_array_equal(edge_map(t).numpy(), e)
    np.testing.assert_allclose(sobel_magnitude(t).numpy(), sobel_magnitude(img), rtol=1e-6)
    with pytest.raises(ValueError, match="expected images"):
        sobel_magnitude(np.zeros((2, 12, 12)))


def test_inpainting_input_hides_the_lower_half():
    from minigan.data.paired import hide_lower_half, paired_input
    img = np.random.default_rng(0).uniform(-1, 1, (2, 1, 28, 28)).astype(np.float32)
    x = hide_lower_half(img)
    np.testing.assert_array_equal(x[:, :, :14], img[:, :, :14])
    assert (x[:, :, 14:] == 0).all() and (img[:, :, 14:] != 0).all()     # a copy, not a view
    np.testing.assert_array_equal(paired_input(minigan.tensor(img), "inpaint").numpy(), x)
    np.testing.assert_array_equal(paired_input(img, "edges"), edge_map(img))
    with pytest.raises(ValueError, match="task"):
        paired_input(img, "colour")


def test_receptive_field_by_formula():
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))) == 5
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 4, 2, 1), nn.Conv2d(1, 1, 4, 2, 1),
                                         nn.Conv2d(1, 1, 4, 1, 1), nn.Conv2d(1, 1, 4, 1, 1))) == 34
    D = PatchDiscriminator(2, 8)
    assert D.receptive_field == 18
    x = minigan.randn(3, 1, 28, 28)
    assert D(x, x).shape == (3, 1, 7, 7)


def test_unet_shapes_skips_and_errors():
    G = UNetGenerator(1, 1, 8)
    assert G(minigan.randn(2, 1, 28, 28)).shape == (2, 1, 28, 28)
    assert G(minigan.randn(1, 1, 16, 12)).shape == (1, 1, 16, 12)
    with pytest.raises(ValueError, match="divisible by 4"):
        G(minigan.randn(1, 1, 10, 10))


TINY = dict(g_width=8, d_width=8, batch_size=16)


@pytest.fixture(scope="module")
def data():
    from minigan.experiments.images.pix2pix import Pix2PixRun
    return Pix2PixRun.load_data(None)


def test_both_generators_learn(data, tmp_path):
    """150 steps: the L1 error of each generator on the training batches falls by 40%."""
    from minigan.experiments import images as I
    cfg = I.runner._config("pix2pix", False, dict(TINY, steps=150), size=28)
    with backend.blas_threads(1):
        run = I.MODELS["pix2pix"](data, cfg, tmp_path, seed=1)
        run.train_steps(150, progress=False)
    for key in ("l1", "l1_only"):
        v = run.history[key]
        assert np.mean(v[-10:]) < 0.6 * np.mean(v[:5]), (key, v[:5], v[-10:])


def test_inpainting_run_trains_on_top_halves_and_measures_the_blur(data, tmp_path):
    from minigan.evaluation.scoring import get_scorer
    from minigan.experiments.images.runner import train_model
    run = train_model("pix2pix", 2, seed=1, data=data, task="inpaint", **TINY)
    x, y = run.x_train.numpy(), run.y_train.numpy()
    np.testing.assert_array_equal(x[:, :, :14], y[:, :, :14])
    assert (x[:, :, 14:] == 0).all()
    run.samples()
    res = run.measure(get_scorer("mnist", 28))
    for label in ("pix2pix", "pix2pix_l1", "real"):
        assert 0 <= res[label]["grey"] <= 1 and 0.1 <= res[label]["confidence"] <= 1
    assert res["real"]["confidence"] > 0.9
    with pytest.raises(ValueError, match="task"):
        train_model("pix2pix", 1, seed=1, data=data, task="colour", **TINY)


def test_resume_continues_the_same_run(data, tmp_path):
    check_resume("pix2pix", data, TINY, 4, 2, ("G", "G_l1", "D"), tmp_path)


def test_task_flag_reaches_the_pix2pix_run_only(tmp_path, capsys):
    import json
    from minigan.commands import cli
    out = tmp_path / "p"
    assert cli.main(["images", "--model", "pix2pix", "--quick", "--steps", "1", "--task",
                     "inpaint", "--no-progress", "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["config"]["task"] == "inpaint"
    assert cli.main(["images", "--model", "dcgan", "--quick", "--task", "inpaint",
                     "--out", str(tmp_path / "d")]) != 0
    assert "--task applies to pix2pix" in capsys.readouterr().err
