"""Algorithm 1 trainer: k D steps per G step, history, callbacks, checkpoint/resume bit for bit,
the NaN/inf guard, and the converged-discriminator measurement (D ≈ D*)."""
import math

import numpy as np
import pytest

import minigan
from minigan import gan, optim
from minigan.evaluation import theory
from minigan.data import toy
from minigan.optim import lr_scheduler


def _setup(tmp_path=None, seed=0, objective="nsgan", k=2, every=None, **kw):
    minigan.manual_seed(seed)
    data, noise = toy.Gaussian1D(4, 0.5), toy.GaussianNoise(1)
    G = gan.mlp_generator(hidden=8, shift=4.0)
    D = gan.mlp_discriminator(hidden=8, activation="tanh", shift=4.0)
    og = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    sch = [lr_scheduler.ExponentialLR(og, 0.99)]
    path = str(tmp_path / "ck.npz") if tmp_path is not None else None
    return gan.GANTrainer(G, D, og, od, data, noise, objective=objective, k=k, batch_size=32,
                          checkpoint_path=path, checkpoint_every=every, progress=False,
                          schedulers=sch, **kw)


def _params(tr):
    return [p.numpy().copy() for p in list(tr.G.parameters()) + list(tr.D.parameters())]


def test_k_d_steps_per_g_step_and_history():
    tr = _setup(k=3)
    calls = {"d": 0, "g": 0}
    d_step, g_step = tr.d_step, tr.g_step
    tr.d_step = lambda i=0: (calls.__setitem__("d", calls["d"] + 1), d_step(i))[1]
    tr.g_step = lambda: (calls.__setitem__("g", calls["g"] + 1), g_step())[1]
    snaps = []
    tr.callbacks.append(gan.every(2, lambda t: snaps.append(t.step)))
    tr.train(6)
    assert calls == {"d": 18, "g": 6}
    assert tr.step == 6 and snaps == [2, 4, 6]
    h = tr.history
    assert h["step"] == [1, 2, 3, 4, 5, 6]
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(h[key]) == 6 and all(math.isfinite(v) for v in h[key])
    assert all(0 < v < 1 for v in h["d_real"] + h["d_fake"])


def test_metrics_recorded():
    x = theory.grid(0, 8, 801)
    data, noise = toy.Gaussian1D(4, 0.5), toy.GaussianNoise(1)

    def jsd(tr):
        pg = theory.generator_density(gan.as_numpy_fn(tr.G), x, noise.pdf, -6, 6, n_z=2001)
        return theory.jsd(data.pdf(x), pg, x)
    tr = _setup(metrics={"jsd": jsd}, metrics_every=5)
    tr.train(10)
    rows = tr.history["metrics"]
    assert [r["step"] for r in rows] == [0, 5, 10]
    assert all(0 <= r["jsd"] <= math.log(2) for r in rows)


def test_resume_continues_the_same_run_bit_for_bit(tmp_path):
    """Train 12 steps straight == train 6, save, rebuild everything fresh, resume, train 6."""
    a = _setup(seed=7)
    a.train(12)
    b = _setup(tmp_path, seed=7)
    b.train(6)                                  # saves at the end of train()
    minigan.manual_seed(999)                    # scramble the RNG and the models
    c = _setup(tmp_path, seed=123)
    minigan.randn(17)
    c.resume()
    assert c.step == 6
    c.train(6)
    for p, q in zip(_params(a), _params(c)):
        assert np.array_equal(p, q)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert a.history[key] == c.history[key]
    assert a.g_optimizer.param_groups[0]["lr"] == c.g_optimizer.param_groups[0]["lr"]
    # and without restoring the RNG the run would differ (the test can fail)
    d = _setup(tmp_path, seed=5)
    d.resume()
    minigan.manual_seed(1)
    d.train(6)
    assert not all(np.array_equal(p, q) for p, q in zip(_params(a), _params(d)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_names_loss_and_step_and_keeps_checkpoint(tmp_path):
    tr = _setup(tmp_path, every=2)
    tr.train(4)
    good = [p.copy() for p in _params(tr)]
    import minigan.serialization as ser
    saved = ser.load(str(tmp_path / "ck.npz"))
    assert int(saved["step"]) == 4
    with minigan.no_grad():
        list(tr.D.parameters())[0].fill_(float("nan"))
    with pytest.raises(gan.NonFiniteLossError) as err:
        tr.train(3)
    msg = str(err.value)
    assert "discriminator loss" in msg and "step 5" in msg and "ck.npz" in msg
    assert "step 4" in msg
    assert int(ser.load(str(tmp_path / "ck.npz"))["step"]) == 4     # last good one kept
    # generator side
    tr2 = _setup()
    with minigan.no_grad():
        list(tr2.G.parameters())[-1].fill_(float("inf"))
    with pytest.raises(gan.NonFiniteLossError, match="loss became .* at step 1"):
        tr2.train(1)
    del good


@pytest.mark.parametrize("objective", ["gan", "wgan", "wgan-gp", "hinge", "lsgan"])
def test_every_objective_runs(objective):
    tr = _setup(objective=objective, k=1)
    before = _params(tr)
    tr.train(3)
    assert all(math.isfinite(v) for v in tr.history["d_loss"] + tr.history["g_loss"])
    assert not all(np.array_equal(p, q) for p, q in zip(before, _params(tr)))
    if objective == "wgan":
        assert all(np.abs(p.numpy()).max() <= 0.01 + 1e-7 for p in tr.D.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="k"):
        _setup(k=0)
    with pytest.raises(TypeError, match="data"):
        gan.GANTrainer(gan.mlp_generator(), gan.mlp_discriminator(), None, None, 3,
                       toy.GaussianNoise())


def test_converged_discriminator_matches_d_star():
    """Outcome (a), small: a D trained to convergence against a fixed p_g is D* on the bulk.

    (The full-size numbers, max ≤ 0.03 and mean ≤ 0.01, are measured by ``python -m minigan
    toy``; here 600 steps at batch 512 must already be within 0.05 / 0.02.)"""
    from minigan.experiments.toy1d import measure_optimal_discriminator
    minigan.manual_seed(0)
    data = toy.Gaussian1D(4, 0.5)
    x = theory.grid(*data.support(), 1001)
    rows, _ = measure_optimal_discriminator(data, [("N(3.5,0.8)", toy.Gaussian1D(3.5, 0.8))],
                                            x, steps=600, batch=512, n_samples=20_000)
    r = rows[0]
    assert r["max_err"] < 0.05 and r["mean_err"] < 0.02
    assert abs(r["v_trained"] - r["c_of_g"]) < 0.02          # outcome (b)


def _linear_d_step(gamma, every, n_updates, seed=5):
    """D(x) = w x + b on 1-D data, trained by plain SGD (lr 0.1) with R1 settings; returns w
    after each update. R1 = γ/2 E (dD/dx)² = γ/2 w², so it adds exactly γ w to dL/dw."""
    minigan.manual_seed(seed)
    G = gan.mlp_generator(hidden=4, shift=4.0)
    D = minigan.nn.Linear(1, 1)
    tr = gan.GANTrainer(G, D, optim.SGD(G.parameters(), lr=0.0), optim.SGD(D.parameters(),
                        lr=0.1), toy.Gaussian1D(4, 0.5), toy.GaussianNoise(1), batch_size=16,
                        r1_gamma=gamma, r1_every=every, progress=False)
    ws = [float(D.weight.numpy()[0, 0])]
    for _ in range(n_updates):
        tr.d_step()
        ws.append(float(D.weight.numpy()[0, 0]))
    return np.array(ws)


def test_r1_adds_gamma_w_to_a_linear_discriminators_gradient():
    """Same seed, same batches: with R1 each SGD step on w moves by an extra -lr γ w_before;
    lazy R1 (every 2nd update, γ doubled) does so on updates 1, 3, ... only."""
    plain = _linear_d_step(0.0, 1, 1)
    r1 = _linear_d_step(0.5, 1, 1)
    np.testing.assert_allclose(r1[1] - plain[1], -0.1 * 0.5 * plain[0], rtol=1e-4)
    lazy = _linear_d_step(0.5, 2, 1)
    np.testing.assert_allclose(lazy[1] - plain[1], -0.1 * 1.0 * plain[0], rtol=1e-4)
    with pytest.raises(ValueError, match="r1_gamma"):
        _linear_d_step(-1.0, 1, 0)


def test_lazy_r1_runs_on_every_nth_update_with_gamma_scaled(monkeypatch):
    from minigan.gan import losses
    calls, real = [], losses.r1_penalty
    monkeypatch.setattr(losses, "r1_penalty",
                        lambda out, x, gamma: (calls.append(gamma), real(out, x, gamma))[1])
    _linear_d_step(0.5, 3, 7)
    assert calls == [1.5, 1.5, 1.5]          # updates 0, 3, 6 of 7, each with 3 x gamma


def test_resume_keeps_the_lazy_r1_schedule(tmp_path):
    """With R1 on every 3rd of k = 2 D updates, 5 + 5 resumed steps == 10 straight: the D
    update count travels in the checkpoint (5 steps = 10 updates, so a count restarted at 0
    would put the penalty on different updates)."""
    kw = dict(r1_gamma=0.5, r1_every=3)
    a = _setup(seed=7, **kw)
    a.train(10)
    b = _setup(tmp_path, seed=7, **kw)
    b.train(5)
    c = _setup(tmp_path, seed=123, **kw)
    c.resume()
    assert c.d_updates == 10
    c.train(5)
    for p, q in zip(_params(a), _params(c)):
        assert np.array_equal(p, q)


def test_r1_penalises_the_real_batch(monkeypatch):
    """The trainer hands r1_penalty the real batch (with grad), not the fakes."""
    from minigan.gan import losses
    seen, real_fn = [], losses.r1_penalty
    monkeypatch.setattr(losses, "r1_penalty",
                        lambda out, x, gamma: (seen.append(x.numpy().copy()),
                                               real_fn(out, x, gamma))[1])
    batch = np.full((8, 1), 7.25, dtype=np.float32)
    minigan.manual_seed(0)
    G, D = gan.mlp_generator(hidden=4), gan.mlp_discriminator(hidden=4)
    tr = gan.GANTrainer(G, D, optim.SGD(G.parameters(), lr=0.0), optim.SGD(D.parameters(),
                        lr=0.0), lambda n, device=None: minigan.tensor(batch[:n]),
                        toy.GaussianNoise(1), batch_size=8, r1_gamma=1.0, progress=False)
    tr.d_step()
    assert len(seen) == 1 and np.array_equal(seen[0], batch)


def test_g_ema_is_the_running_average_of_g_after_each_step():
    """With g_ema = beta the averaged G follows theta_ema <- b theta_ema + (1 - b) theta after
    every G step (b warming up as min(beta, (1 + t)/(10 + t))); G itself trains exactly as
    without it (the average is only read)."""
    plain = _setup(seed=3)
    plain.train(4)
    tr = _setup(seed=3, g_ema=0.5)
    expect = [p.numpy().astype(np.float64) for p in tr.G.parameters()]
    seen = []
    tr.callbacks.append(lambda t: seen.append([p.numpy().astype(np.float64)
                                               for p in t.G.parameters()]))
    tr.train(4)
    for t, theta in enumerate(seen, start=1):
        b = min(0.5, (1.0 + t) / (10.0 + t))
        expect = [b * e + (1 - b) * p for e, p in zip(expect, theta)]
    for e, q in zip(expect, tr.G_ema.parameters()):
        np.testing.assert_allclose(q.numpy(), e, rtol=1e-5, atol=1e-7)
    for p, q in zip(_params(plain), _params(tr)):
        assert np.array_equal(p, q)
    assert not all(np.array_equal(p.numpy(), q.numpy())
                   for p, q in zip(tr.G.parameters(), tr.G_ema.parameters()))


def test_resume_restores_the_ema_of_g(tmp_path):
    a = _setup(seed=7, g_ema=0.9)
    a.train(10)
    b = _setup(tmp_path, seed=7, g_ema=0.9)
    b.train(5)
    c = _setup(tmp_path, seed=123, g_ema=0.9)
    c.resume()
    assert c.ema.updates == 5
    c.train(5)
    for p, q in zip(a.G_ema.parameters(), c.G_ema.parameters()):
        assert np.array_equal(p.numpy(), q.numpy())
    # a checkpoint without the average is refused before anything is loaded
    plain = _setup(tmp_path, seed=7)
    plain.save_checkpoint()
    d = _setup(tmp_path, seed=123, g_ema=0.9)
    before = _params(d)
    with pytest.raises(ValueError, match="no EMA of the weights"):
        d.resume()
    assert all(np.array_equal(p, q) for p, q in zip(before, _params(d))) and d.step == 0
    with pytest.raises(ValueError, match="g_ema"):
        _setup(g_ema=1.5)


def test_resume_refuses_to_drop_or_change_the_ema_of_g(tmp_path):
    """A checkpoint with an average must be resumed with it, and with the same beta: resuming
    without it would lose it at the next save."""
    a = _setup(tmp_path, seed=7, g_ema=0.9)
    a.train(3)
    for kw, match in (({}, "holds an EMA of the weights \\(beta 0.9\\)"),
                      ({"g_ema": 0.5}, "beta 0.9")):
        b = _setup(tmp_path, seed=123, **kw)
        before = _params(b)
        with pytest.raises(ValueError, match=match):
            b.resume()
        assert all(np.array_equal(p, q) for p, q in zip(before, _params(b))) and b.step == 0
