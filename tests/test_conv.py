"""conv2d and conv_transpose2d: forward against plain definitions (naive loops, SciPy,
PyTorch when it is installed), gradients at first and second order over hypothesis-drawn
geometries, float32 preservation and the errors for impossible configurations."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigan
from minigan import backend
from minigan import functional as F

from .conftest import to_np


def _t(array, device, requires_grad=False):
    return minigan.Tensor(backend.as_array(array, device=device), requires_grad=requires_grad)


# ------------------------------------------------------------------ plain definitions
def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """The formula in the module docstring, one output element at a time."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for b_ in range(n):
        for oc in range(o):
            grp = oc // og
            for i in range(ho):
                for j in range(wo):
                    acc = 0.0 if b is None else b[oc]
                    for ci in range(cg):
                        for a in range(kh):
                            for e in range(kw):
                                acc += (w[oc, ci, a, e] *
                                        xp[b_, grp * cg + ci, i * sh + a * dh, j * sw + e * dw])
                    y[b_, oc, i, j] = acc
    return y


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Every input pixel stamps its filter onto the output, ``stride`` pixels apart."""
    n, c, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    cg = c // groups
    y = np.zeros((n, cog * groups, ho, wo))
    for b_ in range(n):
        for ci in range(c):
            grp = ci // cg
            for i in range(h):
                for j in range(wd):
                    for co in range(cog):
                        for a in range(kh):
                            for e in range(kw):
                                r, s = i * sh - ph + a * dh, j * sw - pw + e * dw
                                if 0 <= r < ho and 0 <= s < wo:
                                    y[b_, grp * cog + co, r, s] += x[b_, ci, i, j] * w[ci, co, a, e]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


CASES = [  # x shape, weight shape, stride, padding, dilation, groups, output_padding
    ((1, 1, 5, 5), (1, 1, 3, 3), (1, 1), (0, 0), (1, 1), 1, (0, 0)),
    ((2, 3, 6, 5), (4, 3, 3, 2), (2, 1), (1, 0), (1, 1), 1, (1, 0)),
    ((1, 4, 7, 7), (6, 2, 3, 3), (2, 2), (1, 2), (2, 1), 2, (1, 1)),
    ((2, 3, 5, 4), (3, 1, 2, 2), (3, 2), (2, 1), (1, 2), 3, (2, 1)),
    ((1, 2, 4, 6), (2, 2, 4, 1), (1, 3), (0, 0), (1, 1), 1, (0, 2)),
    ((1, 2, 3, 3), (2, 1, 2, 2), (1, 1), (0, 1), (2, 2), 2, (1, 1)),   # op < dilation only
]


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_naive_loops(case, device):
    xs, ws, stride, padding, dilation, groups, _ = case
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    want = naive_conv2d(x, w, b, stride, padding, dilation, groups)
    got = F.conv2d(_t(x, device), _t(w, device), _t(b, device), stride, padding, dilation, groups)
    assert got.shape == want.shape
    np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_conv_transpose2d_matches_naive_loops(case, device):
    xs, ws, stride, padding, dilation, groups, out_pad = case
    rng = np.random.default_rng(2)
    # the transposed weight is (C_in, C_out/groups, kH, kW): reuse ws with C_in = x's channels
    cog = ws[0] // groups
    w = rng.standard_normal((xs[1], cog) + ws[2:])
    x, b = rng.standard_normal(xs), rng.standard_normal(cog * groups)
    want = naive_conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation)
    got = F.conv_transpose2d(_t(x, device), _t(w, device), _t(b, device), stride, padding,
                             out_pad, groups, dilation)
    assert got.shape == want.shape
    np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,pad", [("valid", 0), ("full", None)])
def test_single_channel_conv_is_scipy_correlate2d(mode, pad, device):
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(3)
    x, k = rng.standard_normal((7, 6)), rng.standard_normal((3, 4))
    padding = 0 if pad == 0 else (k.shape[0] - 1, k.shape[1] - 1)
    got = F.conv2d(_t(x[None, None], device), _t(k[None, None], device), padding=padding)
    np.testing.assert_allclose(to_np(got)[0, 0], signal.correlate2d(x, k, mode=mode),
                               rtol=1e-10, atol=1e-12)


def test_transposed_conv_is_full_convolution(device):
    """Stride 1, no padding: stamping the filter = a 'full' true convolution (flipped filter)."""
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(4)
    x, k = rng.standard_normal((5, 4)), rng.standard_normal((3, 2))
    got = F.conv_transpose2d(_t(x[None, None], device), _t(k[None, None], device))
    np.testing.assert_allclose(to_np(got)[0, 0], signal.convolve2d(x, k, mode="full"),
                               rtol=1e-10, atol=1e-12)


def test_adjoint_identity(device):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: the two ops are each other's transpose."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2))
    kw = dict(stride=(2, 3), padding=(1, 1), dilation=(2, 1), groups=2)
    y = F.conv2d(_t(x, device), _t(w, device), **kw)
    v = rng.standard_normal(y.shape)
    # output_padding makes conv_transpose2d return exactly x's spatial size
    op = tuple(h - ((ho - 1) * s - 2 * p + d * (k - 1) + 1) for h, ho, s, p, d, k in
               zip(x.shape[2:], y.shape[2:], kw["stride"], kw["padding"], kw["dilation"],
                   w.shape[2:]))
    xt = F.conv_transpose2d(_t(v, device), _t(w, device), output_padding=op, **kw)
    assert xt.shape == x.shape
    np.testing.assert_allclose(np.sum(to_np(y) * v), np.sum(x * to_np(xt)), rtol=1e-10)


# ---------------------------------------------------------------------- vs PyTorch
def test_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(6)
    checked = 0
    for _ in range(60):
        g = int(rng.integers(1, 4))
        n, c, o = int(rng.integers(1, 3)), g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        hw = tuple(int(v) for v in rng.integers(1, 9, 2))
        x = rng.standard_normal((n, c) + hw)
        for transposed in (False, True):
            w = rng.standard_normal((c, o // g) + k if transposed else (o, c // g) + k)
            b = rng.standard_normal(o)
            tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            mx, mw, mb = (minigan.Tensor(a, requires_grad=True) for a in (x, w, b))
            try:
                if transposed:
                    ref = tf.conv_transpose2d(tx, tw, tb, s, p, op, g, d)
                else:
                    ref = tf.conv2d(tx, tw, tb, s, p, d, g)
            except RuntimeError:       # an impossible geometry: we must refuse it too
                with pytest.raises(ValueError):
                    if transposed:
                        F.conv_transpose2d(mx, mw, mb, s, p, op, g, d)
                    else:
                        F.conv2d(mx, mw, mb, s, p, d, g)
                continue
            got = (F.conv_transpose2d(mx, mw, mb, s, p, op, g, d) if transposed
                   else F.conv2d(mx, mw, mb, s, p, d, g))
            np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-11)
            gy = rng.standard_normal(tuple(ref.shape))
            ref.backward(torch.tensor(gy))
            grads = minigan.grad(got, [mx, mw, mb], grad_outputs=minigan.Tensor(gy))
            for mine, theirs in zip(grads, (tx.grad, tw.grad, tb.grad)):
                np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-11)
            checked += 1
    assert checked > 40


# ----------------------------------------------------------- gradients (hypothesis)
# ``device`` is only a name ('cpu'/'cuda'): nothing in it needs resetting between examples.
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@st.composite
def geometries(draw, transposed):
    groups = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 2))
    o = groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    if transposed:
        hw = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        # keep the output non-empty
        out = [(h - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
               for h, si, pi, di, ki, oi in zip(hw, s, p, d, k, op)]
        if min(out) < 1:
            p = (0, 0)
        wshape = (c, o // groups) + k
    else:
        # an input at least as large as the dilated kernel after padding (odd sizes included)
        hw = tuple(max(draw(st.integers(1, 6)), di * (ki - 1) + 1 - 2 * pi)
                   for di, ki, pi in zip(d, k, p))
        wshape = (o, c // groups) + k
    bias = draw(st.booleans())
    return dict(x=(n, c) + hw, w=wshape, b=(o,) if bias else None, stride=s, padding=p,
                dilation=d, groups=groups, output_padding=op)


def _inputs(geo, device, seed):
    rng = np.random.default_rng(seed)
    x = _t(rng.standard_normal(geo["x"]), device, True)
    w = _t(rng.standard_normal(geo["w"]), device, True)
    b = None if geo["b"] is None else _t(rng.standard_normal(geo["b"]), device, True)
    return [t for t in (x, w, b) if t is not None]


def _conv_fn(geo):
    kw = dict(stride=geo["stride"], padding=geo["padding"], dilation=geo["dilation"],
              groups=geo["groups"])
    return lambda x, w, b=None: F.conv2d(x, w, b, **kw)


def _convt_fn(geo):
    kw = dict(stride=geo["stride"], padding=geo["padding"], dilation=geo["dilation"],
              groups=geo["groups"], output_padding=geo["output_padding"])
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kw)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(geo=geometries(transposed=False), seed=st.integers(0, 2**31 - 1))
def test_conv2d_gradcheck(geo, seed, device):
    inputs = _inputs(geo, device, seed)
    assert minigan.gradcheck(_conv_fn(geo), inputs)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(geo=geometries(transposed=True), seed=st.integers(0, 2**31 - 1))
def test_conv_transpose2d_gradcheck(geo, seed, device):
    inputs = _inputs(geo, device, seed)
    assert minigan.gradcheck(_convt_fn(geo), inputs)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(geo=geometries(transposed=False), seed=st.integers(0, 2**31 - 1))
def test_conv2d_gradgradcheck(geo, seed, device):
    inputs = _inputs(geo, device, seed)
    assert minigan.gradgradcheck(_conv_fn(geo), inputs)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(geo=geometries(transposed=True), seed=st.integers(0, 2**31 - 1))
def test_conv_transpose2d_gradgradcheck(geo, seed, device):
    inputs = _inputs(geo, device, seed)
    assert minigan.gradgradcheck(_convt_fn(geo), inputs)


def test_third_order(device):
    """grad of grad of grad: every backward is made of the same three ops."""
    rng = np.random.default_rng(7)
    x = _t(rng.standard_normal((1, 2, 5, 4)), device, True)
    w = _t(rng.standard_normal((2, 2, 2, 3)), device, True)

    def third(x, w):
        y = F.conv2d(x, w, stride=2, padding=1)
        gx, = minigan.grad((y * y).sum(), [x], create_graph=True)
        gw, = minigan.grad((gx * gx).sum(), [w], create_graph=True)
        return gw
    assert minigan.gradcheck(third, (x, w))


def test_gradient_penalty_through_a_critic(device):
    """WGAN-GP's use: a loss made of ||d critic / d input||, differentiated w.r.t. the weights."""
    rng = np.random.default_rng(8)
    x = _t(rng.standard_normal((2, 1, 6, 6)), device, True)
    w1 = _t(rng.standard_normal((3, 1, 3, 3)), device, True)
    w2 = _t(rng.standard_normal((1, 3, 2, 2)), device, True)

    def penalty(x, w1, w2):
        h = minigan.tanh(F.conv2d(x, w1, stride=2, padding=1))
        out = F.conv2d(h, w2).sum()
        gx, = minigan.grad(out, [x], create_graph=True)
        return ((gx * gx).sum(axis=(1, 2, 3)).sqrt() - 1.0).square().mean()
    assert minigan.gradcheck(penalty, (x, w1, w2))


# ------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("transposed", [False, True])
def test_float32_stays_float32(transposed, device):
    rng = np.random.default_rng(9)
    f32 = np.float32
    x = _t(rng.standard_normal((2, 4, 5, 5)).astype(f32), device, True)
    w = _t(rng.standard_normal((4, 3, 3, 3)).astype(f32), device, True)
    b = _t(rng.standard_normal(6 if transposed else 4).astype(f32), device, True)
    if transposed:
        y = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)
    else:
        w = _t(rng.standard_normal((4, 2, 3, 3)).astype(f32), device, True)
        y = F.conv2d(x, w, b, stride=2, padding=1, groups=2)
    assert y.dtype == f32
    gx, gw, gb = minigan.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert (gx.dtype, gw.dtype, gb.dtype) == (f32, f32, f32)
    ggw, = minigan.grad((gx * gx).sum(), [w])
    assert ggw.dtype == f32


def test_mixed_dtypes_are_refused():
    x = minigan.randn(1, 1, 4, 4)
    w = minigan.randn(1, 1, 2, 2, dtype="float64")
    with pytest.raises(TypeError, match="conv2d.*float32.*float64"):
        F.conv2d(x, w)


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("args,kwargs,match", [
    (((1, 1, 3, 3), (1, 1, 5, 5)), {}, r"conv2d: kernel larger than the padded input"),
    (((1, 1, 3, 3), (1, 1, 3, 3)), dict(dilation=2), r"kernel larger.*dilation 2 spans 5"),
    (((1, 3, 5, 5), (2, 1, 3, 3)), dict(groups=2), r"conv2d: input channels \(3.*groups=2"),
    (((1, 4, 5, 5), (3, 2, 3, 3)), dict(groups=2), r"conv2d: output channels \(3"),
    (((1, 4, 5, 5), (2, 3, 3, 3)), {}, r"conv2d: weight of shape \(2, 3, 3, 3\) expects 3"),
    (((4, 5, 5), (2, 4, 3, 3)), {}, r"conv2d: input must be 4-D .* \(4, 5, 5\)"),
    (((1, 4, 5, 5), (2, 4, 3)), {}, r"conv2d: weight must be 4-D \(C_out"),
    (((1, 4, 5, 5), (2, 4, 3, 3)), dict(stride=0), r"conv2d: stride must be >= 1"),
    (((1, 4, 5, 5), (2, 4, 3, 3)), dict(padding=(1, 2, 3)), r"padding must be an int or a pair"),
    (((1, 4, 5, 5), (2, 4, 2, 2)), dict(padding="same"), r"asymmetric"),
])
def test_conv2d_errors(args, kwargs, match):
    x, w = (minigan.zeros(*s) for s in args)
    with pytest.raises(ValueError, match=match):
        F.conv2d(x, w, **kwargs)


@pytest.mark.parametrize("args,kwargs,match", [
    (((1, 2, 3, 3), (2, 1, 3, 3)), dict(stride=2, output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either the stride"),
    (((1, 2, 3, 3), (2, 1, 3, 3)), dict(output_padding=1), r"smaller than either"),
    (((1, 3, 3, 3), (2, 1, 3, 3)), {}, r"expects 2 input channels.*has 3"),
    (((1, 3, 3, 3), (3, 1, 3, 3)), dict(groups=2), r"input channels \(3.*groups=2"),
    (((1, 2, 1, 1), (2, 1, 2, 2)), dict(padding=1), r"padding too large"),
    (((1, 2, 3), (2, 1, 3, 3)), {}, r"conv_transpose2d: input must be 4-D"),
    (((1, 2, 3, 3), (2, 1, 3)), {}, r"weight must be 4-D \(C_in, C_out/groups"),
])
def test_conv_transpose2d_errors(args, kwargs, match):
    x, w = (minigan.zeros(*s) for s in args)
    with pytest.raises(ValueError, match=match):
        F.conv_transpose2d(x, w, **kwargs)


def test_bad_bias_shape():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\)"):
        F.conv2d(minigan.zeros(1, 1, 3, 3), minigan.zeros(2, 1, 2, 2), minigan.zeros(3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias must have shape \(4,\)"):
        F.conv_transpose2d(minigan.zeros(1, 1, 3, 3), minigan.zeros(1, 4, 2, 2),
                           minigan.zeros(1))


def test_same_and_valid_padding(device):
    rng = np.random.default_rng(10)
    x = _t(rng.standard_normal((1, 2, 5, 6)), device)
    w = _t(rng.standard_normal((3, 2, 3, 5)), device)
    assert F.conv2d(x, w, padding="same").shape == (1, 3, 5, 6)
    np.testing.assert_allclose(to_np(F.conv2d(x, w, padding="valid")), to_np(F.conv2d(x, w)))
