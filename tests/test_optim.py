"""Tests of minigan.optim: each update rule step by step against a hand-written reference
(plain NumPy, float64, following the formulas in the module docstrings) and against PyTorch
when it is importable; parameter groups, zero_grad, state_dict round trips, schedulers and
gradient clipping."""
import math

import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.autograd import Tensor
from minigan.nn.utils import clip_grad_norm_
from minigan.optim import lr_scheduler

RNG = np.random.default_rng(1)
W0 = RNG.standard_normal((3, 4))
GRADS = [RNG.standard_normal((3, 4)) for _ in range(6)]


def run_ours(make, steps=6, dtype=np.float64):
    p = nn.Parameter(W0.astype(dtype))
    opt = make([p])
    traj = []
    for g in GRADS[:steps]:
        p.grad = Tensor(g.astype(dtype))
        opt.step()
        traj.append(p.numpy().astype(np.float64).copy())
    return traj


# ------------------------------------------------------------- hand-written references
def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = W0.copy(), None, []
    for g in GRADS:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def ref_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    b1, b2 = betas
    p, m, v, vmax, out = W0.copy(), 0 * W0, 0 * W0, 0 * W0, []
    for t, g in enumerate(GRADS, 1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        m_hat, v_hat = m / (1 - b1 ** t), vv / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p, s, gbar, buf, out = W0.copy(), 0 * W0, 0 * W0, 0 * W0, []
    for g in GRADS:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            d = np.sqrt(s - gbar ** 2) + eps
        else:
            d = np.sqrt(s) + eps
        if momentum:
            buf = momentum * buf + g / d
            p = p - lr * buf
        else:
            p = p - lr * g / d
        out.append(p)
    return out


SGD_CASES = [dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.5),
             dict(momentum=0.9, nesterov=True), dict(weight_decay=0.1),
             dict(momentum=0.5, nesterov=True, weight_decay=0.05)]
ADAM_CASES = [dict(), dict(betas=(0.5, 0.999)), dict(weight_decay=0.1), dict(amsgrad=True),
              dict(amsgrad=True, weight_decay=0.01, eps=1e-3)]
RMS_CASES = [dict(), dict(momentum=0.9), dict(centered=True), dict(weight_decay=0.1),
             dict(centered=True, momentum=0.5, alpha=0.9, weight_decay=0.02)]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_reference(kw):
    ours = run_ours(lambda ps: optim.SGD(ps, lr=0.1, **kw))
    for a, b in zip(ours, ref_sgd(0.1, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_reference(kw):
    ours = run_ours(lambda ps: optim.Adam(ps, lr=0.01, **kw))
    for a, b in zip(ours, ref_adam(0.01, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", RMS_CASES)
def test_rmsprop_matches_reference(kw):
    ours = run_ours(lambda ps: optim.RMSprop(ps, lr=0.01, **kw))
    for a, b in zip(ours, ref_rmsprop(0.01, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    """With bias correction the very first Adam step has length lr in every coordinate
    (up to eps): a check a student can do on paper."""
    ours = run_ours(lambda ps: optim.Adam(ps, lr=0.01), steps=1)
    np.testing.assert_allclose(ours[0] - W0, -0.01 * np.sign(GRADS[0]), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name,cases,lr", [("SGD", SGD_CASES, 0.1), ("Adam", ADAM_CASES, 0.01),
                                           ("RMSprop", RMS_CASES, 0.01)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(name, cases, lr, dtype):
    torch = pytest.importorskip("torch")
    for kw in cases:
        ours = run_ours(lambda ps: getattr(optim, name)(ps, lr=lr, **kw), dtype=dtype)
        tp = torch.nn.Parameter(torch.tensor(W0.astype(dtype)))
        topt = getattr(torch.optim, name)([tp], lr=lr, **kw)
        for g, a in zip(GRADS, ours):
            tp.grad = torch.tensor(g.astype(dtype))
            topt.step()
            tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-6,
                                                                                  atol=1e-6)
            np.testing.assert_allclose(a, tp.detach().numpy(), **tol, err_msg=f"{name} {kw}")


def test_steps_do_not_touch_grad_and_keep_parameter_objects():
    p = nn.Parameter(W0.copy())
    g = Tensor(GRADS[0].copy())
    p.grad = g
    arr = p.array
    v0 = p._version
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.Adam([p], weight_decay=0.1), optim.RMSprop([p], centered=True)):
        opt.step()
        opt.step()
    np.testing.assert_array_equal(g.numpy(), GRADS[0])
    assert p.grad is g and p.array is arr and p._version > v0
    assert p.dtype == np.float64


@pytest.mark.parametrize("sizes", [[(3, 4), (4,)], [(300, 300)]])   # flat group; per parameter
def test_adam_after_its_state_is_cleared_starts_again(sizes):
    """``opt.state.clear()`` (or loading a state dict with no state) forgets the moments and
    the step count, as in PyTorch, whose state is created lazily: the next step is a first
    step, the same as a fresh optimizer's."""
    rng = np.random.default_rng(7)
    ps = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in sizes]
    opt = optim.Adam(ps, lr=0.01, betas=(0.5, 0.999))
    for _ in range(2):
        for p in ps:
            p.grad = Tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    opt.state.clear()
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in ps]
    fresh = [nn.Parameter(p.numpy().copy()) for p in ps]
    for p, q, g in zip(ps, fresh, grads):
        p.grad, q.grad = Tensor(g.copy()), Tensor(g.copy())
    opt.step()
    optim.Adam(fresh, lr=0.01, betas=(0.5, 0.999)).step()
    for p, q in zip(ps, fresh):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert opt.state[p]["step"] == 1


def test_float32_stays_float32():
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps),
                 lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True)):
        p = nn.Parameter(W0.astype(np.float32))
        opt = make([p])
        p.grad = Tensor(GRADS[0].astype(np.float32))
        opt.step()
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, Tensor))


def test_skips_params_without_grad_and_maximize():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=0.5, maximize=True)
    a.grad = Tensor(np.array([1.0, -2.0]))
    opt.step()
    np.testing.assert_array_equal(a.numpy(), [1.5, 0.0])
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])


def test_param_groups_and_zero_grad():
    lin1, lin2 = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = optim.SGD([{"params": lin1.parameters()}, {"params": lin2.parameters(), "lr": 0.5}],
                    lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    w1, w2 = lin1.weight.numpy().copy(), lin2.weight.numpy().copy()
    lin2(lin1(minigan.randn(4, 2))).sum().backward()
    g1, g2 = lin1.weight.grad.numpy().copy(), lin2.weight.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(lin1.weight.numpy(), w1 - 0.1 * g1, rtol=1e-6)
    np.testing.assert_allclose(lin2.weight.numpy(), w2 - 0.5 * g2, rtol=1e-6)
    opt.zero_grad(set_to_none=False)
    assert np.all(lin1.weight.grad.numpy() == 0)
    opt.zero_grad()
    assert lin1.weight.grad is None
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [lin1.weight]})
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam(lin1.parameters(), lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(lin1.parameters(), lr=0.1, nesterov=True)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True)])
def test_state_dict_round_trip_resumes_exactly(make, tmp_path):
    """Run 6 steps straight, versus 3 steps, save/load (through a file) into a fresh
    optimizer and parameter, 3 more steps: identical trajectories, bit for bit."""
    straight = run_ours(make)
    p = nn.Parameter(W0.copy())
    opt = make([p])
    for g in GRADS[:3]:
        p.grad = Tensor(g.copy())
        opt.step()
    sd = opt.state_dict()
    minigan.save({"opt": sd, "p": p}, tmp_path / "ck.npz")
    ck = minigan.load(tmp_path / "ck.npz")
    p2 = nn.Parameter(ck["p"].numpy().copy())
    opt2 = make([p2])
    opt2.param_groups[0]["lr"] = 123.0                   # overwritten by load_state_dict
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g, ref in zip(GRADS[3:], straight[3:]):
        p2.grad = Tensor(g.copy())
        opt2.step()
        np.testing.assert_array_equal(p2.numpy(), ref)
    # the state dict is a snapshot, not a view
    before = sd["state"][0]
    key = next(k for k, v in before.items() if isinstance(v, Tensor))
    snap = before[key].numpy().copy()
    p.grad = Tensor(GRADS[4].copy())
    opt.step()
    np.testing.assert_array_equal(sd["state"][0][key].numpy(), snap)


def test_load_state_dict_mismatch():
    a = optim.Adam([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    b = optim.Adam([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="size"):
        b.load_state_dict(a.state_dict())


# ---------------------------------------------------------------------------- schedulers
def lrs(sched, opt, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_schedulers_closed_forms():
    def mk():
        return optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    o = mk()
    assert lrs(lr_scheduler.StepLR(o, step_size=3, gamma=0.5), o, 7) == \
        [1, 1, 1, .5, .5, .5, .25]
    o = mk()
    np.testing.assert_allclose(lrs(lr_scheduler.ExponentialLR(o, 0.9), o, 4),
                               [1, .9, .81, .729])
    o = mk()
    assert lrs(lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)), o, 3) == [1, 1 / 2, 1 / 3]
    o = mk()
    c = lrs(lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1), o, 5)
    np.testing.assert_allclose(c, [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2
                                   for e in range(5)])
    assert c[-1] == pytest.approx(0.1)


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    makers = [(lambda o: lr_scheduler.StepLR(o, 2, 0.3),
               lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.3)),
              (lambda o: lr_scheduler.ExponentialLR(o, 0.7),
               lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.7)),
              (lambda o: lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e),
               lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e)),
              (lambda o: lr_scheduler.CosineAnnealingLR(o, 5, 0.01),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5, 0.01))]
    for ours, theirs in makers:
        o = optim.SGD([nn.Parameter(np.ones(1))], lr=0.2)
        to = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.2)
        s, ts = ours(o), theirs(to)
        for _ in range(6):
            o.step()
            to.step()
            s.step()
            ts.step()
            assert s.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-10)


def test_scheduler_state_dict():
    o = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    s = lr_scheduler.StepLR(o, 2, 0.5)
    for _ in range(3):
        s.step()
    o2 = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    s2 = lr_scheduler.StepLR(o2, 2, 0.5)
    s2.load_state_dict(s.state_dict())
    s2.step()
    s.step()
    assert s2.get_last_lr() == s.get_last_lr() == [0.25]


# ------------------------------------------------------------------------------- clipping
def test_clip_grad_norm():
    a, b = nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(4))
    ga, gb = np.array([3.0, 0, 0]), np.array([0, 4.0, 0, 0])
    a.grad, b.grad = Tensor(ga.copy()), Tensor(gb.copy())
    old = a.grad
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), ga / (5 + 1e-6))
    np.testing.assert_allclose(b.grad.numpy(), gb / (5 + 1e-6))
    np.testing.assert_array_equal(old.numpy(), ga)                # replaced, not mutated
    a.grad, b.grad = Tensor(ga.copy()), Tensor(gb.copy())
    clip_grad_norm_([a, b], max_norm=10.0)                        # below the bound: unchanged
    np.testing.assert_allclose(a.grad.numpy(), ga)
    a.grad = Tensor(np.array([1.0, -7.0, 2.0]))
    assert float(clip_grad_norm_(a, 1.0, norm_type=float("inf"))) == 7.0
    a.grad = Tensor(np.array([np.nan, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="nan"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert minigan.nn.utils.clip_grad_norm_ is clip_grad_norm_
    torch = pytest.importorskip("torch")
    ta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    ta.grad, tb.grad = torch.tensor(ga), torch.tensor(gb)
    a.grad, b.grad = Tensor(ga.copy()), Tensor(gb.copy())
    for nt in (2.0, 1.0, 3.0):
        ta.grad, tb.grad = torch.tensor(ga), torch.tensor(gb)
        a.grad, b.grad = Tensor(ga.copy()), Tensor(gb.copy())
        t1 = torch.nn.utils.clip_grad_norm_([ta, tb], 0.5, norm_type=nt)
        t2 = clip_grad_norm_([a, b], 0.5, norm_type=nt)
        assert float(t2) == pytest.approx(float(t1))
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
