"""The loss modules of minigan.nn: plain definitions, every reduction, PyTorch's argument
order and legacy flags, weights as buffers, first- and second-order gradient checks in
float64, and parity with torch.nn (skipped without torch)."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn

from .conftest import to_np

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))
P = 1 / (1 + np.exp(-X))                  # probabilities for BCELoss
Q = 1 / (1 + np.exp(-Y))                  # soft binary targets
LOGITS = RNG.standard_normal((5, 4))
LABELS = np.array([1, 0, 3, 3, 2])
W4 = np.array([0.5, 2.0, 1.0, 3.0])
W3 = np.array([1.0, 0.5, 2.0])


def t(a, device=None, requires_grad=False):
    return minigan.tensor(np.asarray(a, dtype=np.float64), device=device,
                          requires_grad=requires_grad)


def plain(name, reduction, **kw):
    """The losses from their definitions, in NumPy."""
    if name == "mse":
        per = (X - Y) ** 2
    elif name == "l1":
        per = np.abs(X - Y)
    elif name == "bce":
        per = -(Q * np.log(P) + (1 - Q) * np.log(1 - P)) * kw.get("weight", 1)
    elif name == "bce_logits":
        pw = kw.get("pos_weight", 1)
        per = -(pw * Q * np.log(P) + (1 - Q) * np.log(1 - P)) * kw.get("weight", 1)
    else:
        logp = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))   # nll gets it too
        w = kw.get("weight", np.ones(4))
        keep = LABELS != kw.get("ignore_index", -100)
        wt = w[LABELS] * keep
        per = -logp[np.arange(5), LABELS] * wt
        if reduction == "mean":
            return per.sum() / wt.sum()
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def run(name, reduction, device=None, **kw):
    kw_t = {k: (t(v, device) if k in ("weight", "pos_weight") else v) for k, v in kw.items()}
    if name == "mse":
        return nn.MSELoss(reduction=reduction)(t(X, device), t(Y, device))
    if name == "l1":
        return nn.L1Loss(reduction=reduction)(t(X, device), t(Y, device))
    if name == "bce":
        return nn.BCELoss(reduction=reduction, **kw_t)(t(P, device), t(Q, device))
    if name == "bce_logits":
        return nn.BCEWithLogitsLoss(reduction=reduction, **kw_t)(t(X, device), t(Q, device))
    labels = minigan.tensor(LABELS, device=device)
    if name == "nll":
        logp = F.log_softmax(t(LOGITS, device), dim=1)
        return nn.NLLLoss(reduction=reduction, **kw_t)(logp, labels)
    return nn.CrossEntropyLoss(reduction=reduction, **kw_t)(t(LOGITS, device), labels)


CASES = [("mse", {}), ("l1", {}), ("bce", {}), ("bce", {"weight": W3}), ("bce_logits", {}),
         ("bce_logits", {"pos_weight": W3}), ("bce_logits", {"weight": W3, "pos_weight": W3}),
         ("nll", {}), ("nll", {"weight": W4}), ("nll", {"ignore_index": 3}),
         ("nll", {"weight": W4, "ignore_index": 0}), ("cross_entropy", {}),
         ("cross_entropy", {"weight": W4, "ignore_index": 2})]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_losses_match_their_definitions(device, name, kw, reduction):
    got = run(name, reduction, device, **kw)
    want = plain(name, reduction, **kw)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(to_np(got), want, rtol=1e-12, atol=1e-14)
    assert got.device == device


def test_defaults_and_pytorch_argument_order():
    assert nn.MSELoss().reduction == "mean" and nn.L1Loss().reduction == "mean"
    ce = nn.CrossEntropyLoss()
    assert (ce.weight, ce.ignore_index, ce.reduction, ce.label_smoothing) == \
        (None, -100, "mean", 0.0)
    w = t(W4)
    # positional: (weight, size_average, ignore_index, reduce, reduction)
    nll = nn.NLLLoss(w, None, 3, None, "sum")
    assert nll.weight is w and nll.ignore_index == 3 and nll.reduction == "sum"
    bce = nn.BCEWithLogitsLoss(None, None, None, "none", t(W3))
    assert bce.reduction == "none" and bce.pos_weight is not None
    assert nn.BCELoss(w).weight is w
    assert repr(nn.BCEWithLogitsLoss()) == "BCEWithLogitsLoss()"


@pytest.mark.parametrize("size_average,reduce,want", [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
    (True, False, "none"), (False, True, "sum")])
def test_legacy_size_average_and_reduce(size_average, reduce, want):
    if size_average is None and reduce is None:
        assert nn.MSELoss(size_average, reduce).reduction == want
        return
    with pytest.warns(UserWarning, match=f"reduction='{want}'"):
        assert nn.MSELoss(size_average, reduce).reduction == want
    with pytest.warns(UserWarning):
        assert nn.CrossEntropyLoss(size_average=size_average, reduce=reduce).reduction == want


def test_errors():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        nn.NLLLoss(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="same shape"):
        nn.BCEWithLogitsLoss()(minigan.randn(3, 2), minigan.rand(3))


def test_weights_are_buffers_that_travel_with_the_module(device):
    loss = nn.CrossEntropyLoss(weight=t(W4))
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    loss.to(device)
    assert loss.weight.device == device
    got = loss(t(LOGITS, device), minigan.tensor(LABELS, device=device))
    np.testing.assert_allclose(to_np(got), plain("cross_entropy", "mean", weight=W4),
                               rtol=1e-12)
    bce = nn.BCEWithLogitsLoss(pos_weight=t(W3)).to(device)
    assert sorted(bce.state_dict()) == ["pos_weight"]        # None buffers are not saved


def test_label_smoothing_and_probability_targets():
    logits, soft = t(LOGITS), t(np.full((5, 4), 0.25))
    uniform = nn.CrossEntropyLoss()(logits, soft)
    smoothed = nn.CrossEntropyLoss(label_smoothing=1.0)(logits, minigan.tensor(LABELS))
    np.testing.assert_allclose(to_np(smoothed), to_np(uniform), rtol=1e-12)


# ------------------------------------------------------------------------------ gradients
GRAD_CASES = {
    "mse": (lambda x: nn.MSELoss()(x, t(Y)), X),
    "l1": (lambda x: nn.L1Loss(reduction="sum")(x, t(Y)), X),
    "bce": (lambda x: nn.BCELoss(weight=t(W3))(x, t(Q)), P),
    "bce_logits": (lambda x: nn.BCEWithLogitsLoss(pos_weight=t(W3), reduction="none")(x, t(Q)), X),
    "nll": (lambda x: nn.NLLLoss(weight=t(W4), ignore_index=0)(x, minigan.tensor(LABELS)),
            LOGITS),
    "cross_entropy": (lambda x: nn.CrossEntropyLoss(weight=t(W4), label_smoothing=0.1)(
        x, minigan.tensor(LABELS)), LOGITS),
    "cross_entropy_probs": (lambda x: nn.CrossEntropyLoss(reduction="sum")(
        x, t(np.full((5, 4), 0.25))), LOGITS),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradcheck_first_and_second_order(name):
    f, x0 = GRAD_CASES[name]
    x = t(x0, requires_grad=True)
    assert minigan.gradcheck(f, (x,))
    assert minigan.gradgradcheck(f, (x,))


# -------------------------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", CASES + [("cross_entropy", {"label_smoothing": 0.2})],
                         ids=[f"{n}-{'-'.join(k)}" for n, k in CASES] + ["ce-smoothing"])
def test_matches_pytorch_values_and_gradients(name, kw, reduction):
    torch = pytest.importorskip("torch")
    tn = torch.nn
    tkw = {k: (torch.tensor(v) if k in ("weight", "pos_weight") else v) for k, v in kw.items()}
    mods = {"mse": (nn.MSELoss, tn.MSELoss), "l1": (nn.L1Loss, tn.L1Loss),
            "bce": (nn.BCELoss, tn.BCELoss), "bce_logits": (nn.BCEWithLogitsLoss,
                                                          tn.BCEWithLogitsLoss),
            "nll": (nn.NLLLoss, tn.NLLLoss), "cross_entropy": (nn.CrossEntropyLoss,
                                                             tn.CrossEntropyLoss)}
    ours, theirs = mods[name]
    mkw = {k: (t(v) if k in ("weight", "pos_weight") else v) for k, v in kw.items()}
    if name in ("nll", "cross_entropy"):
        x0 = LOGITS if name == "cross_entropy" else LOGITS - np.log(np.exp(LOGITS).sum(1))[:, None]
        args_m, args_t = (minigan.tensor(LABELS),), (torch.tensor(LABELS),)
    else:
        x0 = P if name == "bce" else X
        target = Y if name in ("mse", "l1") else Q
        args_m, args_t = (t(target),), (torch.tensor(target),)
    xm, xt = t(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ym = ours(reduction=reduction, **mkw)(xm, *args_m)
    yt = theirs(reduction=reduction, **tkw)(xt, *args_t)
    np.testing.assert_allclose(to_np(ym), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    gy = RNG.standard_normal(yt.shape)
    (ym * t(gy)).sum().backward()
    (yt * torch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(to_np(xm.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_nll_on_image_shaped_input_matches_pytorch():
    """(N, C, H, W) log-probabilities with (N, H, W) labels: a segmentation-style loss."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5))
    y = rng.integers(0, 3, (2, 4, 5))
    y[0, 0, :2] = -100
    for reduction in ("mean", "sum", "none"):
        got = nn.CrossEntropyLoss(weight=t(W3), reduction=reduction)(t(x), minigan.tensor(y))
        want = torch.nn.CrossEntropyLoss(weight=torch.tensor(W3), reduction=reduction)(
            torch.tensor(x), torch.tensor(y))
        np.testing.assert_allclose(to_np(got), want.numpy(), rtol=1e-12, atol=1e-14)
