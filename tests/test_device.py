"""Where tensors are created: the rule and the bugs it fixed.

The rule: a tensor is made on the device it is told, else on the device of the module or the
input it is made for, else on the default device (the innermost ``with Device(...)`` block,
else ``$MINIGAN_DEVICE``, else the CPU) -- never on the CPU behind the default's back.

Every test runs on the default device of the run (the CPU, or the GPU / the CuPy stand-in with
``MINIGAN_DEVICE=cuda``); the ones that mix two devices need CuPy and skip without it. These
are the "device tests" of ``python -m minigan info --check-gpu``.
"""
import numpy as np
import pytest

import minigan
from minigan import backend, gan, nn, optim
from minigan.data import toy

DEFAULT = backend.default_device()
needs_two = pytest.mark.skipif(not backend.cupy_available(),
                               reason="mixes the CPU with a GPU: needs CuPy (or the stand-in)")


def _other():
    """The device that is not the default one (cpu <-> cuda)."""
    return backend.Device("cpu" if DEFAULT.type == "cuda" else "cuda")


# ------------------------------------------------------------------------- the default device
def test_with_device_sets_the_default_inside_the_block_only():
    with backend.Device("cpu") as dev:
        assert backend.default_device() == "cpu" and dev == "cpu"
        assert minigan.zeros(2).device == "cpu" and nn.Linear(2, 3).weight.device == "cpu"
    assert backend.default_device() == DEFAULT
    with pytest.raises(KeyError):
        with backend.Device("cpu"):
            raise KeyError("the block failed")
    assert backend.default_device() == DEFAULT         # restored after an exception too


@needs_two
def test_nested_device_blocks_and_creation_follows_the_innermost():
    other = _other()
    with other:
        with DEFAULT:
            assert minigan.randn(3).device == DEFAULT
        assert minigan.randn(3).device == other
        assert nn.Conv2d(1, 2, 3).weight.device == other


@needs_two
def test_a_module_built_in_a_block_is_initialised_from_that_devices_generator():
    """Built on the CPU inside ``with Device('cpu')``, a network gets the CPU's numbers
    whatever $MINIGAN_DEVICE says: made there, not made elsewhere and moved."""
    minigan.manual_seed(3)
    with backend.Device("cpu"):
        a = nn.Linear(4, 3).weight.numpy()
    minigan.manual_seed(3)
    b = nn.Linear(4, 3, device="cpu").weight.numpy()
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ GAN layers (bug: np.zeros)
def test_gan_layers_put_every_parameter_on_the_default_device():
    att = nn.SelfAttention2d(16)
    mbd = nn.MinibatchDiscrimination(4, 3, 2)
    for p in list(att.parameters()) + list(mbd.parameters()):
        assert p.device == DEFAULT
    x = minigan.randn(2, 16, 3, 3)
    assert att(x).device == DEFAULT and mbd(minigan.randn(5, 4)).device == DEFAULT


@needs_two
def test_gan_layers_take_a_device_and_dtype():
    other = _other()
    att = nn.SelfAttention2d(8, device=other, dtype=minigan.float64)
    mbd = nn.MinibatchDiscrimination(4, 3, 2, device=other, dtype=minigan.float64)
    for p in list(att.parameters()) + list(mbd.parameters()):
        assert p.device == other and p.dtype == np.float64
    y = att(minigan.randn(2, 8, 2, 2, device=other, dtype=minigan.float64))
    assert y.device == other


# ------------------------------------------------------------- where / embedding (host masks)
def test_where_copies_a_host_mask_to_the_values_device():
    a, b = minigan.ones(4, requires_grad=True), minigan.zeros(4)
    for mask in ([True, False, True, False], np.array([1, 0, 1, 0], dtype=bool)):
        y = minigan.where(mask, a, b)
        assert y.device == DEFAULT
        np.testing.assert_array_equal(y.numpy(), [1, 0, 1, 0])
    minigan.where(np.array([True, False, True, True]), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 0, 1, 1])


@needs_two
def test_where_refuses_a_condition_tensor_on_another_device():
    cond = minigan.tensor([True, False], device=_other())
    with pytest.raises(RuntimeError, match="where: all inputs must be on the same device"):
        minigan.where(cond, minigan.ones(2), minigan.zeros(2))


@pytest.mark.parametrize("make", [list, np.array, lambda v: minigan.tensor(v, device="cpu")],
                         ids=["list", "numpy", "cpu-tensor"])
def test_embedding_takes_host_indices_with_a_padding_row(make):
    emb = nn.Embedding(5, 3, padding_idx=0)
    out = emb(make([[0, 2], [4, 2]]))
    assert out.device == DEFAULT and out.shape == (2, 2, 3)
    out.sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[0] == 0) and np.all(g[2] == 2) and np.all(g[4] == 1)


# ----------------------------------------------------------------------------- random numbers
def test_randperm_is_a_seeded_permutation_on_its_device():
    minigan.manual_seed(4)
    p = minigan.randperm(50)
    assert p.device == DEFAULT and p.dtype == np.int64
    assert sorted(p.tolist()) == list(range(50))
    minigan.manual_seed(4)
    assert minigan.randperm(50).tolist() == p.tolist()
    minigan.manual_seed(5)
    assert minigan.randperm(50).tolist() != p.tolist()
    assert minigan.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="n must be >= 0"):
        minigan.randperm(-1)


def test_rng_state_of_the_default_device_round_trips_through_a_checkpoint(tmp_path):
    minigan.manual_seed(8)
    minigan.randn(5)
    minigan.save({"rng": backend.get_rng_state(DEFAULT)}, tmp_path / "rng.npz")
    expected = minigan.randn(6).numpy()
    minigan.randn(3)
    backend.set_rng_state(minigan.load(tmp_path / "rng.npz")["rng"], DEFAULT)
    np.testing.assert_array_equal(minigan.randn(6).numpy(), expected)


@needs_two
def test_a_cuda_state_that_does_not_fit_is_refused():
    st = backend.get_rng_state("cuda")
    with pytest.raises(ValueError, match="does not fit"):
        backend.set_rng_state({**st, "state": st["state"][:-1]}, "cuda")
    with pytest.raises(ValueError, match="not a CUDA generator state"):
        backend.set_rng_state(backend.get_rng_state("cpu"), "cuda")
    with pytest.raises(ValueError, match="not a CPU generator state"):
        backend.set_rng_state(st, "cpu")


def test_fork_rng_leaves_every_stream_and_the_seed_as_they_were():
    minigan.manual_seed(11)
    minigan.randn(2)
    with backend.fork_rng(1234):
        inside = minigan.randn(3).numpy()
    after = minigan.randn(4).numpy()
    minigan.manual_seed(11)
    minigan.randn(2)
    np.testing.assert_array_equal(minigan.randn(4).numpy(), after)
    with backend.fork_rng(1234):
        np.testing.assert_array_equal(minigan.randn(3).numpy(), inside)


def _noisy_gan(tmp_path, seed):
    """A tiny GAN whose step draws its noise on the networks' device (the GPU's generator on a
    GPU), so a resumed run repeats only if that device's stream was saved."""
    minigan.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    og, od = optim.Adam(G.parameters(), lr=1e-2), optim.Adam(D.parameters(), lr=1e-2)
    data = toy.get_distribution("ring8")
    bce = minigan.functional.binary_cross_entropy_with_logits

    def step(tr):
        z = minigan.randn(32, 2)                    # the default device's generator
        x = data.sample(32, device=z.device)        # the CPU's generator, moved
        d_loss = bce(D(x), minigan.ones(32, 1)) + bce(D(G(z).detach()), minigan.zeros(32, 1))
        od.zero_grad()
        d_loss.backward()
        od.step()
        g_loss = bce(D(G(minigan.randn(32, 2))), minigan.ones(32, 1))
        og.zero_grad()
        g_loss.backward()
        og.step()
        return {"d": tr.finite(d_loss, "d"), "g": tr.finite(g_loss, "g")}
    return gan.Trainer({"G": G, "D": D}, {"G": og, "D": od}, step=step,
                       checkpoint_path=tmp_path / "ck.npz")


def test_a_resumed_run_repeats_the_uninterrupted_one_on_its_device(tmp_path):
    """6 steps straight == 3 steps, save, resume in a fresh trainer, 3 steps: bit for bit,
    the noise drawn on the default device included (its generator is in the checkpoint)."""
    a = _noisy_gan(tmp_path / "a", 1)
    (tmp_path / "a").mkdir()
    a.train(6)
    (tmp_path / "b").mkdir()
    b = _noisy_gan(tmp_path / "b", 1)
    b.train(3)
    c = _noisy_gan(tmp_path / "b", 99)
    minigan.randn(7)                                # scramble every stream
    c.resume()
    c.train(3)
    for p, q in zip(a.modules["G"].parameters(), c.modules["G"].parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert a.history["d"] == c.history["d"]


@needs_two
def test_a_checkpoint_keeps_the_gpu_stream_and_resuming_without_it_differs(tmp_path):
    """A GPU run's checkpoint holds the GPU generator's state; restoring only the CPU's (the
    old behaviour) would give other noise, so this test can fail."""
    if DEFAULT.type != "cuda":
        pytest.skip("the run's networks must be on the GPU")
    (tmp_path / "b").mkdir()
    b = _noisy_gan(tmp_path / "b", 1)
    b.train(3)
    state = minigan.load(tmp_path / "b" / "ck.npz")
    assert set(state["rng_devices"]) == {str(DEFAULT)}
    nxt = _noisy_gan(tmp_path / "b", 99)
    nxt.resume()
    z1 = minigan.randn(4).numpy()
    del state["rng_devices"]
    old = _noisy_gan(tmp_path / "b", 99)
    with pytest.warns(UserWarning, match="no random state for cuda"):
        old.load_state_dict(state)
    assert not np.array_equal(minigan.randn(4).numpy(), z1)


# ------------------------------------------------- helpers follow the network, not the default
@needs_two
def test_host_helpers_follow_the_networks_device():
    """A network pinned to the other device still works with as_numpy_fn and DRS (they used
    to put their inputs on the default device)."""
    from minigan.gan.rejection import rejection_sample
    other = _other()
    with other:
        G = gan.mlp_generator(z_dim=2, x_dim=2, hidden=8)
        D = gan.mlp_discriminator(x_dim=2, hidden=8)
    out = gan.as_numpy_fn(G)(np.zeros((5, 2)))
    assert isinstance(out, np.ndarray) and out.shape == (5, 2)
    kept, rate = rejection_sample(G, D, toy.GaussianNoise(2), 50, burn_in=200)
    assert kept.shape == (50, 2) and 0 < rate <= 1


def test_the_scorer_scores_images_from_any_device():
    from minigan.evaluation.scoring import get_scorer
    scorer = get_scorer("digits", 8)
    assert scorer.device == DEFAULT
    x, _ = minigan.data.digits("test")
    s_dev = scorer.score(x[:64])                                   # a Tensor on the default
    s_host = scorer.score(x[:64].numpy())                          # NumPy on the host
    assert s_dev["digit_score"] == pytest.approx(s_host["digit_score"], rel=1e-6)
