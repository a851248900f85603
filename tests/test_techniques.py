"""Salimans et al.'s improved techniques (minigan.gan.techniques) and their GANTrainer switches."""
import numpy as np
import pytest

import minigan
from minigan import backend, optim
from minigan.autograd import Tensor
from minigan.gan import losses
from minigan.gan.techniques import (
    HistoricalAverage,
    VirtualBatchNorm2d,
    d_loss_one_sided_smoothing,
    feature_matching_loss,
    forward_with_reference,
)


def t64(a, grad=False):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def host(t):
    """A Tensor's values as a NumPy array, from whichever device it is on."""
    return backend.to_numpy(t.array)


# ----------------------------------------------------------------- one-sided label smoothing
def test_smoothing_zero_is_the_minimax_loss_and_real_optimum_is_one_minus_alpha():
    rng = np.random.default_rng(0)
    r, f = t64(rng.normal(size=(7, 1))), t64(rng.normal(size=(5, 1)))
    assert np.isclose(d_loss_one_sided_smoothing(r, f, 0.0).item(),
                      losses.d_loss_minimax(r, f).item())
    # d/dt of (1-a) softplus(-t) + a softplus(t) is sigmoid(t) - (1 - a): zero at D = 0.9
    t = t64([[np.log(9.0)]], grad=True)
    d_loss_one_sided_smoothing(t, t64([[0.0]]), 0.1).backward()
    assert abs(float(t.grad.array.item())) < 1e-12
    # the fake side is not smoothed: its optimum logit stays at -inf (gradient > 0 everywhere)
    tf = t64([[-3.0]], grad=True)
    d_loss_one_sided_smoothing(t64([[0.0]]), tf, 0.1).backward()
    assert float(tf.grad.array.item()) > 0


@pytest.mark.parametrize("alpha", [-0.1, 0.5, 1.0])
def test_smoothing_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="smoothing"):
        d_loss_one_sided_smoothing(t64([[0.0]]), t64([[0.0]]), alpha)


# -------------------------------------------------------------------------- feature matching
def test_feature_matching_loss_value_gradient_and_shape_check():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(6, 3, 2))
    fake = rng.normal(size=(4, 3, 2))
    diff = real.reshape(6, -1).mean(0) - fake.reshape(4, -1).mean(0)
    assert np.isclose(feature_matching_loss(t64(real), t64(fake)).item(), (diff ** 2).mean())
    assert feature_matching_loss(t64(real), t64(real[:, :, :])).item() == 0.0
    assert minigan.gradcheck(lambda f: feature_matching_loss(t64(real), f),
                             (t64(fake, grad=True),))
    with pytest.raises(ValueError, match="feature matching"):
        feature_matching_loss(t64(real), t64(rng.normal(size=(4, 6))))


# ---------------------------------------------------------------------- historical averaging
def test_historical_average_is_the_mean_of_past_parameters_and_penalty_gradient():
    lin = minigan.nn.Linear(3, 2)
    ha = HistoricalAverage(lin, weight=0.5)
    seen = [[host(p).copy() for p in lin.parameters()]]
    rng = np.random.default_rng(2)
    for _ in range(4):                                   # four "optimizer steps"
        for p in lin.parameters():
            step = rng.normal(size=p.shape).astype(np.float32)
            p.array += backend.as_array(step, device=p.device)
        ha.update()
        seen.append([host(p).copy() for p in lin.parameters()])
    means = [np.mean([s[i] for s in seen], axis=0) for i in range(2)]
    for m, want in zip(ha._means(), means):
        np.testing.assert_allclose(host(m), want, rtol=1e-5, atol=1e-6)
    pen = ha.penalty()
    want = 0.5 * sum(((host(p) - m) ** 2).sum() for p, m in zip(lin.parameters(), means))
    assert np.isclose(pen.item(), want, rtol=1e-5)
    pen.backward()
    for p, m in zip(lin.parameters(), means):                  # d/dθ λ||θ - θ̄||² = 2λ(θ - θ̄)
        np.testing.assert_allclose(host(p.grad), 2 * 0.5 * (host(p) - m), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="historical averaging"):
        HistoricalAverage(lin, weight=0.0)


# ------------------------------------------------------------------------ virtual batch norm
def test_virtual_batchnorm_makes_each_output_independent_of_its_batch():
    from minigan.gan.models.dcgan import DCGANGenerator
    G = DCGANGenerator(z_dim=8, size=8, width=4, norm="virtual")
    assert not any(type(m).__name__.startswith("BatchNorm") for m in G.modules())
    z = minigan.randn(6, 8)
    full = host(G(z))
    alone = np.concatenate([host(G(Tensor(z.array[i:i + 1]))) for i in range(6)])
    np.testing.assert_allclose(full, alone, atol=1e-5)       # G(z) depends on z only
    G.eval()
    np.testing.assert_allclose(host(G(z)), full, atol=1e-6)  # no running stats: eval = train


def test_virtual_batchnorm_matches_its_formula_and_backprops_through_the_reference():
    rng = np.random.default_rng(3)
    vbn = VirtualBatchNorm2d(2, device="cpu").double()
    ref = t64(rng.normal(size=(5, 2, 3, 3)), grad=True)
    x = t64(rng.normal(size=(2, 2, 3, 3)))
    net = minigan.nn.Sequential(vbn)
    out = forward_with_reference(net, ref, x).array
    r = ref.array
    m_ref, s_ref = r.mean((0, 2, 3), keepdims=True), (r ** 2).mean((0, 2, 3), keepdims=True)
    m = (5 * m_ref + x.array.mean((2, 3), keepdims=True)) / 6
    s = (5 * s_ref + (x.array ** 2).mean((2, 3), keepdims=True)) / 6
    np.testing.assert_allclose(out, (x.array - m) / np.sqrt(s - m * m + 1e-5), atol=1e-10)
    assert vbn.reference is None                   # released after the call
    forward_with_reference(net, ref, x).sum().backward()
    assert ref.grad is not None and np.abs(ref.grad.array).max() > 0
    with pytest.raises(ValueError, match="VirtualBatchNorm2d"):
        forward_with_reference(minigan.nn.Sequential(minigan.nn.ReLU()), ref, x)


# ----------------------------------------------------------------------- GANTrainer switches
def _trainer(**kw):
    from minigan.data import digits
    from minigan.data.images import batch_sampler
    from minigan.gan.models.dcgan import dcgan_pair
    from minigan.gan.sampling import noise_sampler
    from minigan.gan.train import GANTrainer
    backend.manual_seed(0)
    G, D = dcgan_pair(8, z_dim=8, g_width=4, d_width=4)
    x, _ = digits("train")
    return GANTrainer(G, D, optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
                      optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)),
                      data=batch_sampler(x), noise=noise_sampler(8, None), batch_size=16, **kw)


@pytest.mark.parametrize("kw", [dict(feature_matching=True), dict(label_smoothing=0.1),
                                dict(historical_averaging=1.0)])
def test_each_switch_changes_training_and_resumes_bit_for_bit(kw, tmp_path):
    plain = _trainer()
    plain.train(3)
    tr = _trainer(**kw)
    tr.train(3)
    assert not all(np.array_equal(host(a), host(b))
                   for a, b in zip(plain.D.parameters(), tr.D.parameters()))
    tr.save_checkpoint(tmp_path / "ck.npz")
    tr.train(2)
    again = _trainer(**kw).resume(tmp_path / "ck.npz")
    again.train(2)
    for a, b in zip(tr.G.parameters(), again.G.parameters()):
        np.testing.assert_array_equal(host(a), host(b))


def test_switches_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="probabilistic"):
        _trainer(label_smoothing=0.1, objective="wgan")
    from minigan.data import digits
    from minigan.gan.train import GANTrainer
    x, _ = digits("train")
    G = minigan.nn.Linear(2, 64)
    D = minigan.nn.Linear(64, 1)                            # no features(x)
    with pytest.raises(ValueError, match="features"):
        GANTrainer(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()),
                   data=lambda n: x[:n].reshape(n, 64), noise=lambda n: minigan.randn(n, 2),
                   feature_matching=True)


def test_images_command_flags_reach_the_dcgan_run_and_no_other(tmp_path):
    from minigan.commands import cli
    from minigan.experiments.images import run_images
    s = run_images("dcgan", steps=2, quick=True, out=tmp_path / "d", score=False,
                   figures=False, verbose=False, feature_matching=1, label_smoothing=0.1,
                   historical_averaging=1e-3, virtual_batchnorm=1, minibatch_kernels=4)
    run = s["run"]
    assert run.trainer.feature_matching and run.trainer.label_smoothing == 0.1
    assert run.trainer.g_history is not None and run.G.norm == "virtual"
    assert type(run.D.net[-2]).__name__ == "MinibatchDiscrimination"
    assert cli.main(["images", "--model", "vae", "--quick", "--feature-matching",
                     "--out", str(tmp_path / "v")]) == 1


def test_minibatch_disc_flag_picks_the_stacked_method():
    """--model stacked --minibatch-disc B is the stacked run's minibatch method with B kernels;
    the other technique flags stay the dcgan run's."""
    import argparse

    from minigan.commands.images import add_arguments, technique_overrides
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--model", "stacked", "--minibatch-disc", "100"])
    assert technique_overrides(args) == {"method": "minibatch", "mbd_kernels": 100}
    args = parser.parse_args(["--model", "stacked", "--feature-matching"])
    with pytest.raises(ValueError, match="--feature-matching"):
        technique_overrides(args)
