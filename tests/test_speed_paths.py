"""The fast paths give the same numbers as the plain definitions (first and second order).

Speed work replaced a few array expressions by faster equivalents: a branch-free
``where``, ``leaky_relu`` as ``max(x, s x)`` with a constant-slope backward, convolution
gradients that share their GEMM layouts, a batch norm and an Adam step with fewer
temporaries. Each test compares the fast path with the textbook expression, bit for bit
where the arithmetic is the same, and checks the derivatives of the rewritten rules.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.ops.elementwise import _select


def _special(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45 if dtype == np.float32 else 5e-324]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_select_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    a = _special((6, 5), dtype)
    b = _special((6, 5), dtype, seed=2)
    cond = rng.random((6, 5)) > 0.5
    for bb in (b, np.asarray(-0.0, dtype=dtype), b[:1]):
        got, ref = _select(np, cond, a, bb), np.where(cond, a, bb)
        assert got.dtype == ref.dtype and got.shape == ref.shape
        assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))
    # broadcasting condition, and a mixed-dtype pair (falls back to np.where)
    assert np.array_equal(_select(np, cond[:, :1], a, b), np.where(cond[:, :1], a, b),
                          equal_nan=True)
    mixed = _select(np, cond, a, np.asarray(0.0))
    assert mixed.dtype == np.where(cond, a, np.asarray(0.0)).dtype


@pytest.mark.parametrize("slope", [0.2, 0.01, 1.0, 0.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_matches_definition(slope, dtype):
    x = _special((4, 3, 5), dtype)
    gy = _special((4, 3, 5), dtype, seed=3)
    with np.errstate(invalid="ignore"):
        ref_y = np.where(x > 0, x, x * dtype(slope))
        ref_gx = np.where(x > 0, gy, gy * dtype(slope))
    t = minigan.Tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):          # inf * 0 for slope 0, as in the definition
        y = F.leaky_relu(t, slope)
        y.backward(minigan.Tensor(gy))
    assert np.array_equal(y.array.view(np.uint8), ref_y.view(np.uint8))
    assert np.array_equal(t.grad.array.view(np.uint8), ref_gx.view(np.uint8))


def test_leaky_relu_zero_dim_and_second_order():
    x = minigan.tensor(-1.5, dtype="float64", requires_grad=True)
    assert F.leaky_relu(x, 0.2).item() == pytest.approx(-0.3)
    rng = np.random.default_rng(4)
    x = minigan.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert minigan.gradcheck(lambda t: F.leaky_relu(t, 0.2), (x,))
    assert minigan.gradgradcheck(lambda t: F.leaky_relu(t, 0.2) * t, (x,))
    # the gradient is linear in the incoming gradient: d/d(gy) is the slope array
    y = F.leaky_relu(x, 0.2)
    gy = minigan.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    (gx,) = minigan.grad(y, x, gy, create_graph=True)
    (ggy,) = minigan.grad(gx.sum(), gy)
    assert np.array_equal(ggy.array, np.where(x.array > 0, 1.0, 0.2))


def test_relu_backward_keeps_where_semantics():
    x = np.array([-1.0, 2.0, 0.0, -3.0], dtype=np.float32)
    gy = np.array([np.inf, 1.0, np.nan, -2.0], dtype=np.float32)
    t = minigan.Tensor(x, requires_grad=True)
    F.relu(t).backward(minigan.Tensor(gy))
    assert np.array_equal(t.grad.array, np.where(x > 0, gy, 0), equal_nan=True)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_gradients_with_shared_layouts_match_separate_kernels(transposed):
    """Conv2d.backward lays dy out once for both gradients, and the forward keeps the
    im2col columns only when they are small: the gradients equal the raw kernels' ones."""
    from minigan.ops import conv as C
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 9, 9)).astype(np.float32)
    if transposed:
        w = rng.standard_normal((4, 6, 4, 4)).astype(np.float32)
        xt, wt = minigan.Tensor(x, requires_grad=True), minigan.Tensor(w, requires_grad=True)
        y = F.conv_transpose2d(xt, wt, stride=2, padding=1)
        g = C._Geometry(y.shape[2:], (9, 9), (4, 4), (2, 2), (1, 1), (1, 1), 1)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(minigan.Tensor(gy))
        ref_gx, _ = C.conv_forward(gy, w, g)
        ref_gw = C.conv_backward_weight(gy, x, g)
    else:
        w = rng.standard_normal((6, 4, 4, 4)).astype(np.float32)
        xt, wt = minigan.Tensor(x, requires_grad=True), minigan.Tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, stride=2, padding=1)
        g = C._Geometry((9, 9), y.shape[2:], (4, 4), (2, 2), (1, 1), (1, 1), 1)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(minigan.Tensor(gy))
        ref_gx = C.conv_backward_data(gy, w, g)
        ref_gw = C.conv_backward_weight(x, gy, g)
    assert np.array_equal(xt.grad.array, ref_gx)
    assert np.array_equal(wt.grad.array, ref_gw)


def test_conv_second_order_through_shared_layouts():
    rng = np.random.default_rng(6)
    x = minigan.Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    w = minigan.Tensor(rng.standard_normal((3, 2, 4, 4)), requires_grad=True)
    assert minigan.gradgradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=1), (x, w))


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
def test_batch_norm_array_backward_matches_tensor_backward(affine):
    """First order uses the array path (reused buffers); with create_graph the rule runs on
    Tensors. Same formula, so the same gradients (to rounding: the graph path recomputes
    the statistics from x)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 3, 4, 5)) * 2 + 1
    gy = rng.standard_normal(x.shape)
    grads = []
    for create_graph in (False, True):
        xt = minigan.Tensor(x, requires_grad=True)
        w = minigan.Tensor(rng.standard_normal(3), requires_grad=True) if affine[0] else None
        b = minigan.Tensor(np.arange(3.0), requires_grad=True) if affine[1] else None
        rng = np.random.default_rng(7)          # the same weights both times
        rng.standard_normal(x.size * 2)
        y = F.batch_norm(xt, None, None, w, b, training=True)
        y.backward(minigan.Tensor(gy), create_graph=create_graph)
        grads.append([t.grad.array for t in (xt, w, b) if t is not None])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_batch_norm_forward_mixed_dtype_affine_promotes_as_numpy():
    x = minigan.Tensor(np.ones((4, 2), np.float32) * np.arange(4, dtype=np.float32)[:, None])
    w = minigan.Tensor(np.ones(2, np.float64))
    y = F.batch_norm(x, None, None, w, None, training=True)
    assert y.dtype == np.float64


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_in_place_step_is_the_formula_bit_for_bit(amsgrad, weight_decay):
    from minigan import optim
    rng = np.random.default_rng(8)
    p0 = rng.standard_normal((5, 4)).astype(np.float32)
    gs = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(4)]
    p = minigan.Tensor(p0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=1e-2, betas=(0.5, 0.999), weight_decay=weight_decay,
                     amsgrad=amsgrad)
    ref, m, v, vmax = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(gs, 1):
        p.grad = minigan.Tensor(g)
        opt.step()
        g = g + weight_decay * ref if weight_decay else g
        m[...] = g - (g - m) * 0.5               # lerp_ with weight 1 - beta1 = 0.5
        v *= 0.999
        v += (1 - 0.999) * (g * g)
        if amsgrad:
            np.maximum(vmax, v, out=vmax)
        denom = np.sqrt(vmax if amsgrad else v) / math.sqrt(1 - 0.999 ** t) + 1e-8
        ref = ref - (1e-2 / (1 - 0.5 ** t)) * (m / denom)
    np.testing.assert_array_equal(p.array, ref)


def test_linear_with_one_output_gives_the_matmul_gradient():
    rng = np.random.default_rng(9)
    x = minigan.Tensor(rng.standard_normal((7, 5)).astype(np.float32), requires_grad=True)
    w = minigan.Tensor(rng.standard_normal((1, 5)).astype(np.float32), requires_grad=True)
    b = minigan.Tensor(np.zeros(1, np.float32), requires_grad=True)
    gy = rng.standard_normal((7, 1)).astype(np.float32)
    F.linear(x, w, b).backward(minigan.Tensor(gy))
    assert np.array_equal(x.grad.array, np.matmul(gy, w.array))
    x64 = minigan.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w64 = minigan.Tensor(rng.standard_normal((1, 3)), requires_grad=True)
    assert minigan.gradgradcheck(lambda a, c: F.linear(a, c), (x64, w64))


def _batch_last(x):
    """The same values as ``x (N, C, H, W)`` in the memory order convolutions return, on
    the default device (the CuPy stand-in's in the second CI run)."""
    xp = minigan.backend.get_xp()
    return xp.ascontiguousarray(xp.asarray(x).transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def _c_order(x):
    xp = minigan.backend.get_xp()
    return xp.ascontiguousarray(xp.asarray(x))


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
def test_batch_norm_on_batch_last_memory_matches_the_plain_layout(affine):
    """A conv output's memory is channel-major, batch-last; batch norm then reduces along
    contiguous rows and rearranges its backward. The same values and gradients (to rounding)
    as on a C-ordered NCHW input, in float64 and float32, and the gradient in any layout."""
    rng = np.random.default_rng(3)
    for dtype, tol in ((np.float64, 1e-11), (np.float32, 2e-5)):
        x = (rng.standard_normal((5, 3, 4, 6)) * 2 + 1).astype(dtype)
        gy = rng.standard_normal(x.shape).astype(dtype)
        w = rng.standard_normal(3).astype(dtype)
        b = rng.standard_normal(3).astype(dtype)
        out = []
        for layout in (_c_order, _batch_last):
            for gy_layout in (_c_order, _batch_last):
                xt = minigan.Tensor(layout(x), requires_grad=True)
                assert _channel_rows_of(xt.array) == (layout is _batch_last)
                wt = minigan.tensor(w, requires_grad=True) if affine[0] else None
                bt = minigan.tensor(b, requires_grad=True) if affine[1] else None
                rm, rv = minigan.zeros(3, dtype=dtype), minigan.ones(3, dtype=dtype)
                y = F.batch_norm(xt, rm, rv, wt, bt, training=True)
                y.backward(minigan.Tensor(gy_layout(gy)))
                out.append([y.array, rm.array, rv.array] +
                           [t.grad.array for t in (xt, wt, bt) if t is not None])
        out = [[minigan.backend.to_numpy(a) for a in arrays] for arrays in out]
        for other in out[1:]:
            for a, c in zip(out[0], other):
                np.testing.assert_allclose(c, a, rtol=tol, atol=tol)


def _channel_rows_of(a):
    from minigan.ops.norm import _channel_rows
    return _channel_rows(a) is not None


def test_batch_norm_on_batch_last_memory_second_order():
    """Through a 1x1 identity convolution, whose output is batch-last (gradcheck perturbs a
    leaf's memory in place, so the leaf itself stays C-ordered)."""
    rng = np.random.default_rng(4)
    x = minigan.tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    w = minigan.tensor(rng.standard_normal(2), requires_grad=True)
    b = minigan.tensor(rng.standard_normal(2), requires_grad=True)
    eye = minigan.tensor(np.eye(2).reshape(2, 2, 1, 1))

    def fn(a, c, d):
        a = F.conv2d(a, eye)
        assert _channel_rows_of(a.array)
        return F.batch_norm(a, None, None, c, d, training=True) ** 2
    assert minigan.gradcheck(fn, (x, w, b))
    assert minigan.gradgradcheck(fn, (x, w, b))


def test_conv_outputs_are_batch_last_views():
    """What the fast paths rely on: conv2d and conv_transpose2d (padded or not) return NCHW
    views of channel-major, batch-last memory."""
    rng = np.random.default_rng(5)
    x = minigan.tensor(rng.standard_normal((3, 4, 7, 7)).astype(np.float32))
    w = minigan.tensor(rng.standard_normal((4, 2, 4, 4)).astype(np.float32))
    wc = minigan.tensor(rng.standard_normal((2, 4, 4, 4)).astype(np.float32))
    for y in (F.conv2d(x, wc, stride=2, padding=1),
              F.conv_transpose2d(x, w, stride=2, padding=1),
              F.conv_transpose2d(x, w, stride=2, padding=0)):
        assert _channel_rows_of(y.array)


def test_adam_flat_group_step_is_the_per_parameter_step_bit_for_bit():
    """Small parameters are updated through one flat buffer; the numbers, the step counts and
    the state_dict (per parameter, PyTorch's layout) are those of the per-parameter path,
    including after load_state_dict and when one parameter has no gradient."""
    rng = np.random.default_rng(8)
    shapes = [(3, 4), (4,), (1, 3), (1,)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(5)]

    def run(flat):
        ps = [minigan.tensor(a.copy(), requires_grad=True) for a in init]
        opt = minigan.optim.Adam(ps, lr=0.1, betas=(0.5, 0.999))
        if not flat:
            opt._FLAT_MAX_MEAN_SIZE = -1          # every group too large: per parameter
        for i, gs in enumerate(grads):
            for j, (p, g) in enumerate(zip(ps, gs)):
                p.grad = None if (i == 3 and j == 1) else minigan.tensor(g)
            opt.step()
            if i == 1:                            # a state_dict round trip mid-way
                opt.load_state_dict(opt.state_dict())
        sd = opt.state_dict()["state"]
        return [minigan.backend.to_numpy(p.array) for p in ps], sd
    (pa, sa), (pb, sb) = run(True), run(False)
    for a, b in zip(pa, pb):
        assert np.array_equal(a, b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert list(sa[k]) == list(sb[k]) and sa[k]["step"] == sb[k]["step"]
        for key in ("exp_avg", "exp_avg_sq"):
            assert np.array_equal(minigan.backend.to_numpy(sa[k][key].array),
                                  minigan.backend.to_numpy(sb[k][key].array))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_column_matrices_in_slices_give_the_same_results(monkeypatch, groups):
    """Above ``CHUNK_BYTES`` the columns are built a block of output rows (or channels) at a
    time: the same forward and gradients, for conv2d and conv_transpose2d."""
    import minigan.ops.conv as C
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 9, 8))
    wc = rng.standard_normal((6, 4 // groups, 3, 3))
    wt = rng.standard_normal((4, 6 // groups, 4, 4))
    gy_c = rng.standard_normal((3, 6, 5, 4))
    gy_t = rng.standard_normal((3, 6, 19, 17))

    def run():
        out = []
        conv = lambda a, b: F.conv2d(a, b, stride=2, padding=1, groups=groups)
        convt = lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1,
                                                output_padding=1, groups=groups)
        for f, w, gy in ((conv, wc, gy_c), (convt, wt, gy_t)):
            xt, wt_ = minigan.tensor(x, requires_grad=True), minigan.tensor(w, requires_grad=True)
            y = f(xt, wt_)
            assert y.shape == gy.shape
            y.backward(minigan.tensor(gy))
            out += [minigan.backend.to_numpy(a) for a in (y.array, xt.grad.array, wt_.grad.array)]
        return out
    whole = run()
    monkeypatch.setattr(C, "CHUNK_BYTES", 1)          # one output row / channel per slice
    monkeypatch.setattr(C, "CHUNK_BYTES_GPU", 1)      # (the stand-in run's default device)
    for a, b in zip(whole, run()):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_column_slices_are_cache_sized_on_a_cpu_and_large_on_a_gpu(device):
    """20 rows of 1 MiB: slices of 6 rows on a CPU (a 6 MiB cache), one slice on a GPU,
    where every slice costs kernel launches and memory is plentiful."""
    import minigan.ops.conv as C
    like = minigan.zeros(1, device=device).array
    blocks = C._blocks(20, 2 ** 20, like)
    assert blocks[0] == (0, 6 if device == "cpu" else 20) and blocks[-1][1] == 20


def _bce_written_out(x, t, reduction):
    """binary_cross_entropy_with_logits as the Tensor arithmetic it replaces."""
    from minigan.ops.elementwise import log_sigmoid
    from minigan.ops.loss import reduce_loss
    return reduce_loss((1.0 - t) * x - log_sigmoid(x), reduction)


def _on_device(a):
    """``a`` on the default device (the CuPy stand-in's in the second CI run), 0-d kept."""
    return minigan.backend.get_xp().asarray(a)


def _same_bits(a, b):
    a, b = np.atleast_1d(minigan.backend.to_numpy(a)), np.atleast_1d(minigan.backend.to_numpy(b))
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8),
                                                                        b.view(np.uint8))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_bce_with_logits_is_the_formula_bit_for_bit(reduction, dtype):
    """The one-op loss gives the written-out formula's value and gradients, bit for bit (so
    a GAN trained before the fusion trains the same), and its second derivatives agree. On
    the default device (the CuPy stand-in's in the second CI run)."""
    rng = np.random.default_rng(4)
    x0 = (rng.standard_normal((37, 3)) * 30).astype(dtype)      # large logits on both sides
    x0[0] = [0.0, -0.0, 0.0]                                    # and zeros of both signs
    t0 = rng.uniform(0, 1, (37, 3)).astype(dtype)
    gy0 = rng.standard_normal(() if reduction != "none" else (37, 3)).astype(dtype)
    outs = []
    for loss_fn in (lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                    lambda x, t: _bce_written_out(x, t, reduction)):
        x = minigan.Tensor(_on_device(x0), requires_grad=True)
        t = minigan.Tensor(_on_device(t0), requires_grad=True)
        loss = loss_fn(x, t)
        loss.backward(minigan.Tensor(_on_device(gy0)))
        gx, = minigan.grad(loss_fn(x, t).sum(), [x], create_graph=True)
        hx, = minigan.grad((gx * gx).sum(), [x])               # a second derivative
        outs.append([loss.array, x.grad.array, t.grad.array, hx.array])
    fused, written = outs
    for a, b in zip(fused[:3], written[:3]):
        assert _same_bits(a, b)
    np.testing.assert_allclose(minigan.backend.to_numpy(fused[3]),
                               minigan.backend.to_numpy(written[3]), rtol=1e-5, atol=1e-6)


def test_fused_bce_with_logits_counts_as_one_op():
    from minigan.ops.loss import BinaryCrossEntropyWithLogits
    loss = F.binary_cross_entropy_with_logits(minigan.zeros(4, 1, requires_grad=True),
                                              minigan.ones(4, 1))
    assert isinstance(loss._ctx, BinaryCrossEntropyWithLogits)
    with pytest.raises(ValueError, match="reduction must be"):
        F.binary_cross_entropy_with_logits(minigan.zeros(2), minigan.ones(2), reduction="avg")


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_mean_array_backward_is_the_tensor_backward_bit_for_bit(axis, keepdims):
    rng = np.random.default_rng(5)
    x = minigan.Tensor(_on_device(rng.standard_normal((3, 7, 5)).astype(np.float32)),
                       requires_grad=True)
    y = x.mean(axis=axis, keepdims=keepdims)
    gy = minigan.Tensor(_on_device(rng.standard_normal(y.shape).astype(np.float32)))
    # first order runs the array rule, create_graph the Tensor rule
    fast, = minigan.grad(y, [x], grad_outputs=gy, retain_graph=True)
    slow, = minigan.grad(y, [x], grad_outputs=gy, create_graph=True)
    assert fast.shape == x.shape and _same_bits(fast.array, slow.array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape,axis", [((128, 1), None), ((3, 7, 5), 1), ((3, 7, 5), (0, 2)),
                                        ((4, 6), -1), ((), None), ((1000,), 0)])
def test_mean_forward_is_numpys_mean_bit_for_bit(shape, axis, dtype):
    """Mean's forward skips NumPy's Python wrapper for float32/64 (the sum, then NumPy's own
    division by the count); every value, its dtype and its shape must be ``ndarray.mean``'s,
    with large and tiny magnitudes and NaN/inf among them, on strided views too."""
    x = _special(shape, dtype) if shape and np.prod(shape) >= 6 else \
        np.random.default_rng(2).standard_normal(shape).astype(dtype)
    for scale in (1.0, 1e30 if dtype != np.float16 else 1e4, 1e-30):
        xs = (x * dtype(scale)).astype(dtype)
        strided = ((False, xs.T), (True, xs[::-1])) if xs.ndim else ()
        for keepdims, view in ((False, xs), (True, xs)) + strided:
            with np.errstate(all="ignore"):
                ref = view.mean(axis=axis, keepdims=keepdims)
                got = minigan.Tensor(view).mean(axis=axis, keepdims=keepdims).array
            ref = np.asarray(ref)
            assert got.dtype == ref.dtype and got.shape == ref.shape
            assert np.array_equal(got.reshape(-1).view(np.uint8), ref.reshape(-1).view(np.uint8))

def test_linear_with_one_input_feature_is_the_matmul():
    """A first layer of a 1-D toy multiplies instead of calling BLAS: the same values and
    gradients as the matmul it replaces."""
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((50, 1)).astype(np.float32)
    w0 = rng.standard_normal((8, 1)).astype(np.float32)
    b0 = rng.standard_normal(8).astype(np.float32)
    gy = minigan.Tensor(_on_device(rng.standard_normal((50, 8)).astype(np.float32)))
    grads = []
    for f in (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.transpose(0, 1) + b):
        x, w, b = (minigan.Tensor(_on_device(a), requires_grad=True) for a in (x0, w0, b0))
        y = f(x, w, b)
        y.backward(gy)
        grads.append([y.array, x.grad.array, w.grad.array, b.grad.array])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(minigan.backend.to_numpy(a), minigan.backend.to_numpy(b))


def test_col2im_by_gathering_equals_col2im_by_slice_adds():
    """The GPU's col2im (each pixel gathers its entries: a take and a sum) against the CPU's
    (each kernel offset adds its slice: kH*kW launches), over strides, paddings, dilations
    and kernels larger and smaller than the stride (pixels with no entry, or several)."""
    import itertools

    import minigan.ops.conv as C
    rng = np.random.default_rng(0)
    checked = 0
    for (h, w), k, s, p, d in itertools.product([(7, 7), (9, 8), (5, 6)], [1, 3, 4],
                                                [1, 2, 3], [0, 1, 2], [1, 2]):
        ho, wo = ((n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (h, w))
        if ho < 1 or wo < 1:
            continue
        g = C._Geometry((h, w), (ho, wo), (k, k), (s, s), (p, p), (d, d), 1)
        cols = rng.standard_normal((3, k, k, ho, wo, 2))
        canvas = np.zeros((3,) + g.padded_hw() + (2,))
        C._col2im_add(canvas, cols, g, 0)
        np.testing.assert_allclose(C._col2im_gather(cols, g), C._crop(canvas, g),
                                   rtol=1e-13, atol=1e-13)
        checked += 1
    assert checked > 80


@pytest.mark.parametrize("weight", [0.1, 0.5, 0.9, np.float64(0.1), np.float64(0.9),
                                    np.float32(0.1)])
def test_optimizer_lerp_is_the_formula_for_python_and_numpy_weights(weight):
    """``_lerp_`` is PyTorch's lerp_ formula as written, including NumPy's promotion when the
    weight is a NumPy float64 (betas given as an array): one rounding into float32, not two."""
    from minigan.optim.optimizer import Optimizer
    rng = np.random.default_rng(3)
    a = rng.standard_normal(2000).astype(np.float32)
    b = rng.standard_normal(2000).astype(np.float32)
    ref = a.copy()
    if weight < 0.5:
        ref += weight * (b - ref)
    else:
        ref[...] = b - (b - ref) * (1 - weight)
    got = Optimizer._lerp_(a.copy(), b, weight)
    assert got.dtype == np.float32 and _same_bits(got, ref)
