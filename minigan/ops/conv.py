r"""2-D convolution and its adjoint, the transposed ("fractionally-strided") convolution.

1. What a convolution computes
------------------------------
A ``conv2d`` layer slides a small stack of filters over an image. With input ``x`` of shape
``(N, C, H, W)`` (batch, channels, height, width) and weight ``w`` of shape
``(O, C, kH, kW)`` (one ``C x kH x kW`` filter per output channel), output pixel ``(i, j)``
of channel ``o`` is the dot product of filter ``o`` with the input patch under it::

    y[n, o, i, j] = b[o] + sum_{c, a, e} w[o, c, a, e] * xpad[n, c, i*s + a*d, j*s + e*d]

``xpad`` is ``x`` surrounded by ``padding`` zeros, ``s`` is the stride (how far the window moves
per output pixel) and ``d`` the dilation (the gap between filter taps). The output has

    Ho = floor((H + 2*padding - d*(kH - 1) - 1) / s) + 1         (the same for the width).

(Deep learning calls this "convolution"; mathematicians call it cross-correlation, because
the filter is not flipped. ``scipy.signal.correlate2d`` is the single-channel special case.)
``groups=G`` splits the channels into G independent convolutions: filter ``o`` then only sees
the ``C/G`` input channels of its own group, so the weight is ``(O, C/G, kH, kW)``.

2. im2col: a convolution is one matrix product
----------------------------------------------
Gather every patch into a column: ``cols[(c, a, e), (i, j, n)] = xpad[n, c, i*s + a*d, j*s + e*d]``.
Then the formula above is a plain matrix product

    Y (O, N*Ho*Wo) = W (O, C*kH*kW) @ cols (C*kH*kW, N*Ho*Wo)

and one call into BLAS does all the arithmetic at full machine speed. We never loop over
pixels to build ``cols``: for fixed ``(c, a, e)`` the entries form a regular grid in memory, so
``as_strided`` describes the whole 6-D array ``(N, C, kH, kW, Ho, Wo)`` as a *view* of
``xpad`` (only strides, no copy); one copy makes it contiguous for the GEMM. With groups,
the product is a batch of G matrix products (``matmul`` over a leading group axis).
(The columns are ordered ``(i, j, n)``, batch last, for speed: NumPy copies and adds
contiguous runs, and a run of N = 64 images is long where a row of Wo = 7 pixels is short.)

3. The gradients, and why they are convolutions again
-----------------------------------------------------
``y`` is linear in ``x`` and linear in ``w``. The chain rule for a linear map ``y = A x`` is
``dL/dx = A^T dL/dy``: the gradient applies the *transpose* (adjoint) of the forward map.

* Weight gradient: ``dL/dW = dL/dY @ cols^T`` -- one more GEMM against the same columns
  (``conv_backward_weight`` below, the op ``Conv2dWeightGrad``).
* Input gradient: ``dcols = W^T @ dL/dY`` gives, for every patch, how much each of its
  entries should change. Each input pixel sat in up to ``kH*kW`` patches, so its gradient is
  the *sum* over all of them: **col2im** scatters the columns back. Looping over the ``kH*kW``
  kernel offsets ``(a, e)`` (never over pixels), offset ``(a, e)`` touches the strided slice
  ``xpad[:, :, a*d : a*d + s*(Ho-1) + 1 : s, ...]`` exactly once, so adding the slices one
  offset at a time accumulates every contribution (``conv_backward_data``).

4. The transposed convolution is that adjoint
---------------------------------------------
A generator must go *up* in resolution: 7x7 -> 14x14 -> 28x28. The map ``dL/dY -> dL/dX``
from step 3 does exactly that: it takes a small ``(Ho, Wo)`` image to a large ``(H, W)`` one.
Used as a layer in its own right it is ``conv_transpose2d``. Each input pixel *stamps* a
weighted copy of the filter onto the output, the stamps ``s`` pixels apart and overlapping
ones adding up. Equivalently: insert ``s - 1`` zeros between input pixels (a stride of
``1/s``, hence "fractionally strided") and run an ordinary convolution over the result with
the flipped filter. Its weight has PyTorch's layout ``(C_in, C_out/G, kH, kW)``, which is the
weight layout of the convolution it is the adjoint of, read the other way round.
The output size inverts the convolution's size formula::

    H_out = (H - 1)*s - 2*padding + d*(kH - 1) + output_padding + 1

A convolution maps several input sizes to the same output size (the floor above), so
``output_padding`` (extra rows at the bottom/right, ``< stride`` or ``< dilation``) says
which one the transposed convolution should produce.

Because the two ops are each other's adjoints, their gradients are each other:

    conv2d:            dL/dx = conv_transpose2d(dL/dy, w)     dL/dw = W(x, dL/dy)
    conv_transpose2d:  dL/dx = conv2d(dL/dy, w)               dL/dw = W(dL/dy, x)

where ``W(a, b) = conv_backward_weight`` is bilinear, and its own gradients are again
``conv2d`` and ``conv_transpose2d``. Three raw-array kernels (forward, backward-data,
backward-weight) and three Functions close under differentiation: the gradient of a
gradient is built from the same ops, so ``grad(grad(...))`` works to any order (WGAN-GP's
gradient penalty through a convolutional critic needs the second order).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor
from .reduce import sum as _sum

__all__ = ["conv2d", "conv_transpose2d", "Conv2d", "ConvTranspose2d", "Conv2dWeightGrad",
           "conv_forward", "conv_backward_data", "conv_backward_weight", "im2col", "col2im"]


# ----------------------------------------------------------------------------- geometry
class _Geometry:
    """Everything about one convolution except the arrays: sizes, stride, padding, ...

    It always describes the *convolution* direction: ``in_hw`` is the size of the conv's input
    (the transposed conv's output) and ``out_hw`` the size of the conv's output (the
    transposed conv's input). ``out_hw`` may be smaller than the size formula allows: the
    transposed conv with ``output_padding >= stride`` (allowed when ``< dilation``) is the
    adjoint of a conv that drops its last output rows.
    """
    __slots__ = ("in_hw", "out_hw", "kernel", "stride", "padding", "dilation", "groups")

    def __init__(self, in_hw, out_hw, kernel, stride, padding, dilation, groups):
        self.in_hw, self.out_hw, self.kernel = in_hw, out_hw, kernel
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def padded_hw(self):
        return tuple(n + 2 * p for n, p in zip(self.in_hw, self.padding))


def _conv_out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ------------------------------------------------------------------------ array kernels
def _padded_channels_first(x, g):
    """``x (N, C, H, W)`` -> zero-padded ``(C, H + 2ph, W + 2pw, N)``, one copy.

    Why the batch goes last: im2col and col2im then move runs of N contiguous numbers at a
    time (64 for a DCGAN batch) instead of runs of Wo (7 at 7x7), and the GEMM's columns
    are ordered (i, j, n). NumPy pays a fixed cost per inner run, so long runs are fast.
    """
    xp = backend.xp_of(x)
    (ph, pw), (hp, wp) = g.padding, g.padded_hw()
    n, c, h, w = x.shape
    out = xp.zeros((c, hp, wp, n), dtype=x.dtype) if ph or pw else xp.empty((c, hp, wp, n), x.dtype)
    out[:, ph:ph + h, pw:pw + w, :] = x.transpose(1, 2, 3, 0)
    return out


def _windows(xpad, g):
    """The view ``(C, kH, kW, Ho, Wo, N)`` of the padded input ``(C, Hp, Wp, N)``:
    ``[c, a, e, i, j, n] = xpad[c, i*s + a*d, j*s + e*d, n]``. Only strides, no copy."""
    xp = backend.xp_of(xpad)
    (kh, kw), (ho, wo) = g.kernel, g.out_hw
    (sh, sw), (dh, dw) = g.stride, g.dilation
    sc, sy, sx, sn = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, shape=(xpad.shape[0], kh, kw, ho, wo, xpad.shape[3]),
        strides=(sc, sy * dh, sx * dw, sy * sh, sx * sw, sn))


def im2col(x, g):
    """Patches of ``x (N, C, H, W)`` as a contiguous ``(G, C/G*kH*kW, Ho*Wo*N)`` array:
    column ``(i, j, n)`` of group ``g`` holds the receptive field of output pixel ``(i, j)``
    of image ``n``."""
    xp = backend.xp_of(x)
    n, c = x.shape[:2]
    kh, kw = g.kernel
    ho, wo = g.out_hw
    cols = xp.ascontiguousarray(_windows(_padded_channels_first(x, g), g))   # the gather copy
    return cols.reshape(g.groups, (c // g.groups) * kh * kw, ho * wo * n)


def col2im(cols, g):
    """The adjoint of ``im2col``: add every column entry back onto the pixel it came from.

    ``cols`` is ``(C, kH, kW, Ho, Wo, N)``. Kernel offset ``(a, e)`` owns one strided slice
    of the padded canvas; adding the slices one offset at a time accumulates the overlaps.
    Returns ``(N, C, H, W)`` with the padding cut away.
    """
    xp = backend.xp_of(cols)
    c, kh, kw, ho, wo, n = cols.shape
    if (ho, wo) == (1, 1) and (kh, kw) == g.padded_hw() and g.dilation == (1, 1):
        # one output pixel whose window is the whole canvas (a generator's first layer,
        # 1x1 -> kxk): nothing overlaps, the columns *are* the canvas
        return _crop(cols.reshape(c, kh, kw, n), g)
    if xp is not backend.np:
        return _col2im_gather(cols, g)
    canvas = xp.zeros((c,) + g.padded_hw() + (n,), dtype=cols.dtype)
    _col2im_add(canvas, cols, g, 0)
    return _crop(canvas, g)


def _col2im_gather(cols, g):
    """``col2im`` the other way round, for a GPU: each output pixel *gathers* the column
    entries that land on it, instead of each kernel offset adding its slice onto a canvas.

    The slice-by-slice adds are kH*kW kernel launches (16 for a 4x4 kernel) plus a canvas to
    clear and crop; the gather is a ``take`` and a sum, whatever the kernel. Pixel ``(y, x)``
    (unpadded) receives ``cols[c, a, e, i, j, n]`` for every ``(a, i)`` with
    ``i*sH + a*dH = y + pH`` and ``(e, j)`` likewise: at most ``M`` entries, listed in a table of
    flat indices into ``cols`` (``_gather_table``, made once per geometry on the host). Where a
    pixel has fewer than ``M`` (the border pixels of a padded conv, e.g. DCGAN's k4 s2 p1),
    the table points at a zero appended to ``cols``: one more copy of the columns, so four
    launches then, and the memory of the gathered ``(C, H, W, M, N)`` array besides.
    On a CPU the adds are faster (NumPy's fancy indexing is slow, its strided adds are not),
    so ``col2im`` keeps them there."""
    xp = backend.xp_of(cols)
    c, kh, kw, ho, wo, n = cols.shape
    key = (g.in_hw, g.padding, g.stride, g.dilation, kh, kw, ho, wo)
    table, padded = _gather_table(key)
    src = cols.reshape(c, kh * kw * ho * wo, n)
    if padded:
        src = xp.concatenate([src, xp.zeros((c, 1, n), dtype=cols.dtype)], axis=1)
    index = _device_table(key, table, cols)
    # take (not fancy indexing, whose result may be laid out with the index's axes first):
    # a C-ordered (C, H, W, M, N), so the sum is channel-major, batch-last (C, H, W, N)
    canvas = xp.take(src, index, axis=1).sum(axis=3)
    return canvas.transpose(3, 0, 1, 2)               # (N, C, H, W) view, batch-last memory


_TABLES = {}            # geometry -> (host table, padded)
_DEVICE_TABLES = {}     # (geometry, device) -> the table on that device


def _gather_table(key):
    """``(table (H, W, M) of flat indices into cols, padded)`` for ``_col2im_gather``, for the
    geometry ``key = (in_hw, padding, stride, dilation, kH, kW, Ho, Wo)``; ``padded``: some
    entries are the sentinel ``kH*kW*Ho*Wo`` (a zero appended to cols). A model has a few
    geometries, so the tables are kept for good."""
    if key not in _TABLES:
        np = backend.np
        in_hw, padding, stride, dilation, kh, kw, ho, wo = key
        taps = []
        for size, pad, step, dil, k, out in zip(in_hw, padding, stride, dilation,
                                                (kh, kw), (ho, wo)):
            pos = np.arange(size)[:, None] + pad - np.arange(k)[None, :] * dil   # i * step
            ok = (pos % step == 0) & (pos >= 0) & (pos // step < out)
            order = np.argsort(~ok, axis=1, kind="stable")[:, :max(1, ok.sum(1).max())]
            tap = np.take_along_axis(np.where(ok, np.arange(k)[None, :], -1), order, 1)
            where = np.take_along_axis(np.where(ok, pos // step, -1), order, 1)
            taps.append((tap, where))                   # (size, M1): kernel tap, output index
        (a, i), (e, j) = taps
        flat = ((a[:, None, :, None] * kw + e[None, :, None, :]) * ho
                + i[:, None, :, None]) * wo + j[None, :, None, :]
        bad = (a[:, None, :, None] < 0) | (e[None, :, None, :] < 0)
        flat = np.where(bad, kh * kw * ho * wo, flat).reshape(in_hw + (-1,))
        _TABLES[key] = (flat.astype(np.int64), bool(bad.any()))
    return _TABLES[key]


def _device_table(key, table, like):
    """The host table of geometry ``key`` as an index array on ``like``'s device (copied
    once per device)."""
    dev = str(backend.device_of(like))
    if (key, dev) not in _DEVICE_TABLES:
        _DEVICE_TABLES[key, dev] = backend.as_array(table, device=dev)
    return _DEVICE_TABLES[key, dev]


def _col2im_add(canvas, cols, g, i0):
    """Add columns ``(C, kH, kW, rows, Wo, N)`` of output rows ``i0 ...`` onto ``canvas``."""
    _, kh, kw, hi, wo, _ = cols.shape
    (sh, sw), (dh, dw) = g.stride, g.dilation
    for a in range(kh):
        for e in range(kw):
            y0, x0 = a * dh + i0 * sh, e * dw
            canvas[:, y0:y0 + sh * (hi - 1) + 1:sh, x0:x0 + sw * (wo - 1) + 1:sw, :] += cols[:, a, e]


def _crop(canvas, g):
    """The padded canvas ``(C, Hp, Wp, N)`` without its padding, as an (N, C, H, W) view."""
    (ph, pw), (h, w) = g.padding, g.in_hw
    if ph or pw:     # crop the padding with a plain copy (long runs): each channel stays
        canvas = backend.xp_of(canvas).ascontiguousarray(canvas[:, ph:ph + h, pw:pw + w, :])
    return canvas.transpose(3, 0, 1, 2)               # (N, C, H, W) view, batch-last memory


# Memory: a column matrix is kH*kW/(sH*sW) times its image (4x for DCGAN's k4 s2 layers,
# 16x for a transposed conv's). Above this size it is built and used a slice at a time (blocks
# of output rows for the conv and its input gradient, blocks of channels for the weight
# gradient), so no full copy ever exists. Each output element is the same dot product; only
# col2im's sums are grouped differently (round-off, not maths).
# On a CPU the size is that of a cache, not of memory: slices that stay in the last-level
# cache are faster than one pass over a large matrix. On a GPU each slice costs its own kernel
# launches (tens of microseconds of Python and driver time) and memory is plentiful, so the
# limit there only keeps a huge batch from running the device out of memory.
CHUNK_BYTES = 6 * 2 ** 20
CHUNK_BYTES_GPU = 512 * 2 ** 20


def _blocks(total, bytes_per_item, like):
    """``[(start, stop), ...]`` covering ``range(total)`` in slices of at most the chunk size
    of the device ``like`` (an array) lives on."""
    limit = CHUNK_BYTES if backend.xp_of(like) is backend.np else CHUNK_BYTES_GPU
    step = max(1, limit // max(1, bytes_per_item))
    return [(i, min(i + step, total)) for i in range(0, total, step)]


def _grouped_rows(y, groups):
    """``(N, O, Ho, Wo)`` -> contiguous ``(G, O/G, Ho*Wo*N)``: output pixels as GEMM columns."""
    xp = backend.xp_of(y)
    n, o = y.shape[:2]
    return xp.ascontiguousarray(y.transpose(1, 2, 3, 0)).reshape(groups, o // groups, -1)


def conv_forward(x, w, g, bias=None):
    """Kernel 1, the convolution: ``Y = W @ im2col(x)`` per group, plus the bias.
    Returns ``(y, cols)``: the columns serve the weight gradient again (None when they were
    built in slices, see ``CHUNK_BYTES``)."""
    backend.auto_blas_threads()                           # the adaptive default (backend.py)
    xp = backend.xp_of(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    ho, wo = g.out_hw
    kh, kw = g.kernel
    wg = w.reshape(g.groups, o // g.groups, -1)
    blocks = _blocks(ho, c * kh * kw * wo * n * x.itemsize, x)
    if len(blocks) == 1:
        cols = im2col(x, g)                               # (G, K, Ho*Wo*N)
        y = xp.matmul(wg, cols).reshape(o, ho, wo, n)     # (G, O/G, Ho*Wo*N)
    else:
        cols = None
        win = _windows(_padded_channels_first(x, g), g)  # (C, kH, kW, Ho, Wo, N), a view
        y = xp.empty((o, ho, wo, n), dtype=x.dtype)
        for i0, i1 in blocks:
            part = xp.ascontiguousarray(win[:, :, :, i0:i1]).reshape(g.groups, wg.shape[2], -1)
            y[:, i0:i1] = xp.matmul(wg, part).reshape(o, i1 - i0, wo, n)
    if bias is not None:
        y += bias.reshape(o, 1, 1, 1)
    return y.transpose(3, 0, 1, 2), cols                  # NCHW view, batch-last memory


def conv_backward_data(gy, w, g, bias=None, rows=None):
    """Kernel 2, the input gradient of the conv = the transposed conv's forward:
    ``cols = W^T @ gy`` per group, then ``col2im``. ``rows``: ``_grouped_rows(gy)`` if known."""
    backend.auto_blas_threads()                           # the adaptive default (backend.py)
    xp = backend.xp_of(gy)
    n = gy.shape[0]
    o, cg, kh, kw = w.shape
    ho, wo = g.out_hw
    wg = w.reshape(g.groups, o // g.groups, cg * kh * kw)
    if rows is None:
        rows = _grouped_rows(gy, g.groups)
    blocks = _blocks(ho, cg * g.groups * kh * kw * wo * n * gy.itemsize, gy)
    if len(blocks) == 1:
        cols = xp.matmul(wg.transpose(0, 2, 1), rows)             # (G, K, Ho*Wo*N)
        x = col2im(cols.reshape(cg * g.groups, kh, kw, ho, wo, n), g)
    else:
        canvas = xp.zeros((cg * g.groups,) + g.padded_hw() + (n,), dtype=gy.dtype)
        for i0, i1 in blocks:                 # output rows i0..i1 are columns i0*Wo*N ...
            part = xp.matmul(wg.transpose(0, 2, 1), rows[:, :, i0 * wo * n:i1 * wo * n])
            _col2im_add(canvas, part.reshape(cg * g.groups, kh, kw, i1 - i0, wo, n), g, i0)
        x = _crop(canvas, g)
    if bias is not None:
        x += bias.reshape(1, -1, 1, 1)
    return x


def conv_backward_weight(x, gy, g, cols=None, rows=None):
    """Kernel 3, the weight gradient: ``dW = gy @ im2col(x)^T`` per group (a sum over the
    batch and every output pixel, done by the GEMM). ``cols``: ``im2col(x)`` if known;
    ``rows``: ``_grouped_rows(gy)`` if known."""
    backend.auto_blas_threads()                           # the adaptive default (backend.py)
    xp = backend.xp_of(x)
    c = x.shape[1]
    o = gy.shape[1]
    kh, kw = g.kernel
    if rows is None:
        rows = _grouped_rows(gy, g.groups)
    ho, wo = g.out_hw
    blocks = _blocks(c, kh * kw * ho * wo * x.shape[0] * x.itemsize, x)
    if cols is None and g.groups == 1 and len(blocks) > 1:
        win = _windows(_padded_channels_first(x, g), g)  # (C, kH, kW, Ho, Wo, N), a view
        gw = xp.empty((o, c * kh * kw), dtype=rows.dtype)
        for c0, c1 in blocks:                 # channels c0..c1 are weight columns c0*kH*kW ...
            part = xp.ascontiguousarray(win[c0:c1]).reshape((c1 - c0) * kh * kw, -1)
            gw[:, c0 * kh * kw:c1 * kh * kw] = xp.matmul(rows[0], part.T)
        return gw.reshape(o, c, kh, kw)
    if cols is None:
        cols = im2col(x, g)                               # (G, K, Ho*Wo*N)
    gw = xp.matmul(rows, cols.transpose(0, 2, 1))         # (G, O/G, K)
    return gw.reshape(o, c // g.groups, kh, kw)


# -------------------------------------------------------------------------- Functions
def _bias_grad(gy):
    return _sum(gy, axis=(0, 2, 3))


class Conv2d(Function):
    """``y = conv(x, w) + b``. Backward: ``dx = ConvTranspose2d(dy, w)``,
    ``dw = Conv2dWeightGrad(x, dy)``, ``db = dy`` summed over N, H, W.

    Memory versus time: ``im2col(x)`` serves the weight gradient again, but it is
    ``kH*kW / (sH*sW)`` times larger than ``x`` (4x for DCGAN's k4 s2 layers), and a network
    keeps every layer's saved tensors alive until its backward pass. So the forward keeps the
    columns only when they are no larger than ``x`` (or when ``keep_cols=True``: the caller
    uses them at once); otherwise the backward gathers them again (one cheap copy).
    """

    def __init__(self, geometry, keep_cols=False):
        self.g = geometry
        self.keep_cols = keep_cols
        self.cols = None

    def forward(self, x, w, b=None):
        y, cols = conv_forward(x, w, self.g, b)
        if cols is not None and (self.keep_cols or cols.size <= x.size):
            self.cols = cols                              # im2col(x), for the weight grad
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        # both gradients read dy as GEMM rows (O, Ho*Wo*N): lay it out once
        rows = _grouped_rows(gy.array, self.g.groups) if need[0] and need[1] else None
        gx = ConvTranspose2d(self.g, rows)(gy, w) if need[0] else None
        gw = Conv2dWeightGrad(self.g, self.cols, rows)(x, gy) if need[1] else None
        self.cols = None          # free it; a second backward (retain_graph) re-gathers
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, _bias_grad(gy) if need[2] else None


class ConvTranspose2d(Function):
    """``y = conv^T(x, w) + b`` (the adjoint of the convolution described by the geometry).
    Backward: ``dx = Conv2d(dy, w)``, ``dw = Conv2dWeightGrad(dy, x)``, ``db = sum(dy)``."""

    def __init__(self, geometry, rows=None):
        self.g = geometry
        self.rows = rows                  # _grouped_rows(x), when the caller already has it

    def forward(self, x, w, b=None):
        y = conv_backward_data(x, w, self.g, b, self.rows)
        self.rows = None
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        conv = Conv2d(self.g, keep_cols=need[1])
        gx = conv(gy, w) if need[0] else None
        # both gradients gather the windows of gy: reuse the columns conv just built
        gw = Conv2dWeightGrad(self.g, conv.cols)(gy, x) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, _bias_grad(gy) if need[2] else None


class Conv2dWeightGrad(Function):
    """``dW = Wgrad(x, dy)``, bilinear in the conv's input ``x`` and output gradient ``dy``.

    Its own backward, for an incoming ``ggw`` shaped like the weight, uses
    ``<ggw, Wgrad(x, dy)> = <conv(x, ggw), dy> = <x, conv^T(dy, ggw)>``.
    """

    def __init__(self, geometry, cols=None, rows=None):
        self.g = geometry
        self.cols = cols                  # im2col(x), when the caller already has it
        self.rows = rows                  # _grouped_rows(gy), likewise

    def forward(self, x, gy):
        gw = conv_backward_weight(x, gy, self.g, self.cols, self.rows)
        self.cols = self.rows = None
        return gw

    def backward(self, ggw):
        x, gy = self.inputs
        need = self.needs_input_grad
        gx = ConvTranspose2d(self.g)(gy, ggw) if need[0] else None
        ggy = Conv2d(self.g)(x, ggw) if need[1] else None
        return gx, ggy


# --------------------------------------------------------------------- argument checks
def _pair(value, name, op, minimum):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    try:
        pair = tuple(int(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _check_common(op, input, weight, bias, groups):
    for t, what in ((input, "input"), (weight, "weight")):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {what} must be a Tensor, got {type(t).__name__}")
    if input.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        layout = "(C_out, C_in/groups, kH, kW)" if op == "conv2d" else \
            "(C_in, C_out/groups, kH, kW)"
        raise ValueError(f"{op}: weight must be 4-D {layout}, got shape {weight.shape}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(f"{op}: input ({input.dtype}), weight ({weight.dtype})"
                        + (f" and bias ({bias.dtype})" if bias is not None else "")
                        + " must have the same dtype; convert one with .to(dtype)")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c = input.shape[1]
    if c % groups:
        raise ValueError(f"{op}: input channels ({c}, input shape {input.shape}) are not "
                         f"divisible by groups={groups}")


def _check_bias(op, bias, out_channels, weight):
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},) for a weight of shape "
                         f"{weight.shape}, got {bias.shape}")


def _apply(fn, input, weight, bias):
    return fn(input, weight) if bias is None else fn(input, weight, bias)


# ---------------------------------------------------------------------- public surface
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``F.conv2d``: 2-D convolution (cross-correlation) of ``input (N, C_in, H, W)`` with
    ``weight (C_out, C_in/groups, kH, kW)``, as in PyTorch. ``stride``, ``padding`` and
    ``dilation`` are ints or ``(h, w)`` pairs; ``padding`` may also be ``'valid'`` or
    ``'same'`` (stride 1). Returns ``(N, C_out, H_out, W_out)``."""
    op = "conv2d"
    _check_common(op, input, weight, bias, groups)
    n, c, h, w = input.shape
    o, cg, kh, kw = weight.shape
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        padding = _string_padding(padding, stride, dilation, (kh, kw))
    padding = _pair(padding, "padding", op, 0)
    if cg * groups != c:
        raise ValueError(f"{op}: weight of shape {weight.shape} expects {cg} x groups={groups} "
                         f"= {cg * groups} input channels, but the input {input.shape} has {c}")
    if o % groups:
        raise ValueError(f"{op}: output channels ({o}, weight shape {weight.shape}) are not "
                         f"divisible by groups={groups}")
    _check_bias(op, bias, o, weight)
    out_hw = []
    for size, k, s, p, d, axis in zip((h, w), (kh, kw), stride, padding, dilation, "HW"):
        span = d * (k - 1) + 1
        if size + 2 * p < span:
            raise ValueError(
                f"{op}: kernel larger than the padded input along {axis}: the kernel of size "
                f"{k} with dilation {d} spans {span}, but the input {input.shape} padded by "
                f"{p} on each side is only {size + 2 * p} (weight shape {weight.shape})")
        out_hw.append(_conv_out_size(size, k, s, p, d))
    g = _Geometry((h, w), tuple(out_hw), (kh, kw), stride, padding, dilation, groups)
    return _apply(Conv2d(g), input, weight, bias)


def _string_padding(mode, stride, dilation, kernel):
    if mode == "valid":
        return 0
    if mode == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        if any(t % 2 for t in total):
            raise ValueError("conv2d: padding='same' with an even effective kernel size "
                             f"(dilation*(k-1) = {tuple(total)}) needs asymmetric padding, "
                             "which is not supported; pad with F.pad first")
        return tuple(t // 2 for t in total)
    raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {mode!r}")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """``F.conv_transpose2d``: the transposed ("fractionally-strided") convolution of
    ``input (N, C_in, H, W)`` with ``weight (C_in, C_out/groups, kH, kW)``, as in PyTorch.
    Returns ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1``."""
    op = "conv_transpose2d"
    _check_common(op, input, weight, bias, groups)
    n, c, h, w = input.shape
    ci, cog, kh, kw = weight.shape
    stride = _pair(stride, "stride", op, 1)
    padding = _pair(padding, "padding", op, 0)
    dilation = _pair(dilation, "dilation", op, 1)
    output_padding = _pair(output_padding, "output_padding", op, 0)
    if ci != c:
        raise ValueError(f"{op}: weight of shape {weight.shape} expects {ci} input channels "
                         f"(its first dimension), but the input {input.shape} has {c}")
    for a, s, d in zip(output_padding, stride, dilation):
        if a >= s and a >= d:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"either the stride {stride} or the dilation {dilation}")
    _check_bias(op, bias, cog * groups, weight)
    out_hw = []
    for size, k, s, p, d, a in zip((h, w), (kh, kw), stride, padding, dilation, output_padding):
        out_hw.append((size - 1) * s - 2 * p + d * (k - 1) + a + 1)
    if min(out_hw) < 1:
        raise ValueError(f"{op}: the output would be {tuple(out_hw)} for input {input.shape}, "
                         f"weight {weight.shape}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}: padding too large for the kernel")
    g = _Geometry(tuple(out_hw), (h, w), (kh, kw), stride, padding, dilation, groups)
    return _apply(ConvTranspose2d(g), input, weight, bias)
