"""Shape operations: they move numbers around without changing them.

Their gradients move the numbers back: the gradient of ``reshape`` is a reshape to the old
shape, of ``transpose`` the inverse permutation, of ``x[index]`` a scatter of the incoming
gradient into zeros of x's shape (repeated indices *add up*, since each use of an element
contributes to the loss), and of ``broadcast_to`` a sum over the broadcast axes (``sum_to``).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["reshape", "flatten", "transpose", "permute", "swapaxes", "squeeze", "unsqueeze",
           "broadcast_to", "sum_to", "getitem", "concatenate", "cat", "stack", "split", "chunk",
           "pad", "expand", "unflatten"]


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _axis(axis, ndim, what):
    if not -ndim <= axis < max(ndim, 1):
        raise IndexError(f"{what}: dimension {axis} is out of range for a tensor with {ndim} "
                         "dimensions")
    return axis % max(ndim, 1)


class Reshape(Function):
    returns_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} "
                             f"({x.size} elements) as {self.shape}") from None

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    if x.shape == shape:
        return x
    return Reshape(shape)(x)


def flatten(x, start_dim=0, end_dim=-1):
    nd = x.ndim
    if nd == 0:
        return reshape(x, (1,))
    s, e = _axis(start_dim, nd, "flatten"), _axis(end_dim, nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {tuple(x.shape)}")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def unflatten(x, dim, sizes):
    d = _axis(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


class Permute(Function):
    returns_view = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        xp = backend.xp_of(x)
        return xp.transpose(x, self.axes)

    def backward(self, gy):
        inv = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inv[a] = i
        return permute(gy, *inv)


def permute(x, *axes):
    axes = _shape_arg(axes)
    if sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} dimensions")
    axes = tuple(a % x.ndim for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Permute(axes)(x)


def swapaxes(x, axis0, axis1):
    """Swap two dimensions (PyTorch's ``x.transpose(dim0, dim1)``)."""
    axes = list(range(x.ndim))
    a, b = _axis(axis0, x.ndim, "transpose"), _axis(axis1, x.ndim, "transpose")
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, *axes)


def transpose(x, *axes):
    """``transpose(x, d0, d1)`` swaps two dimensions (PyTorch); ``transpose(x)`` reverses all
    of them (NumPy); ``transpose(x, (2, 0, 1))`` permutes."""
    if len(axes) == 2 and all(isinstance(a, int) for a in axes):
        return swapaxes(x, *axes)
    if not axes or axes == (None,):
        return permute(x, *reversed(range(x.ndim)))
    return permute(x, *_shape_arg(axes))


def squeeze(x, axis=None):
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {_axis(a, x.ndim, "squeeze") for a in axes}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x, axis):
    a = _axis(axis, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


class BroadcastTo(Function):
    returns_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        xp = backend.xp_of(x)
        try:
            return xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to "
                             f"{self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x, *shape):
    shape = _shape_arg(shape)
    if x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def expand(x, *sizes):
    """PyTorch's ``expand``: like broadcast_to, with -1 meaning "keep this size"."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def _sum_to_array(xp, g, shape):
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and g.shape[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g


class SumTo(Function):
    """Sum a broadcast gradient back down to the shape of the input that was broadcast."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return _sum_to_array(backend.xp_of(x), x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape)(x)


# ---------------------------------------------------------------------------------- indexing
def _normalise_index(index, xp):
    """Turn Tensors and lists inside an index into arrays of the right module."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.array
        if isinstance(i, list):
            i = xp.asarray(i)
        elif hasattr(i, "__array_interface__") or hasattr(i, "__cuda_array_interface__"):
            if backend.xp_of(i) is not xp:
                i = xp.asarray(backend.to_numpy(i)) if xp is not backend.np else backend.to_numpy(i)
        out.append(i)
    return tuple(out)


def _is_basic(index):
    """True for indices made of ints, slices, None and ``...``: they never pick an element twice."""
    index = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


class GetItem(Function):
    returns_view = True

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """Scatter a gradient into zeros of the indexed tensor's shape (adding repeated indices)."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = backend.xp_of(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy      # a basic index never selects an element twice
        else:
            backend.scatter_add(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


def getitem(x, index):
    index = _normalise_index(index, backend.xp_of(x.array))
    try:
        return GetItem(index if len(index) != 1 else index[0])(x)
    except IndexError as exc:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {exc}") from None


class SetItem(Function):
    """``x`` with ``x[index] = v``. The written values replace the old ones, so the gradient
    to ``x`` is the incoming one with zeros at ``index``, and the gradient to ``v`` is the
    incoming one at ``index``, summed back to ``v``'s shape (``v`` was broadcast there)."""

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        out = x.copy()
        out[self.index] = v
        return out

    def backward(self, gy):
        x, v = self.inputs
        need_x, need_v = self.needs_input_grad
        gx = SetItem(self.index)(gy, Tensor(backend.xp_of(gy.array).zeros((), gy.dtype))) \
            if need_x else None
        gv = sum_to(getitem(gy, self.index), v.shape) if need_v else None
        return gx, gv


def setitem_(x, index, value):
    """``x[index] = value`` in place, as in PyTorch.

    Without a graph to keep (nothing requires grad, or under ``no_grad``) the values are
    written into ``x``'s array. Otherwise ``x``'s history is *rebased*: its old value becomes
    the input of a ``SetItem`` op whose output ``x`` now is, so gradients flow to the
    untouched elements and to ``value``. A leaf that requires grad cannot be written (the
    graph would not see it), and any op that saved ``x`` before the write refuses to run its
    backward (the version counter), as PyTorch does."""
    from ..autograd import is_grad_enabled
    from .elementwise import as_tensor_like
    value = value if isinstance(value, Tensor) else as_tensor_like(value, x)
    index = _normalise_index(index, backend.xp_of(x.array))
    index = index if len(index) != 1 else index[0]
    grad_on = is_grad_enabled()
    if x.requires_grad and x._ctx is None and grad_on:
        raise RuntimeError("x[index] = value: a leaf tensor that requires grad cannot be "
                           "written in place while the graph is recorded; write it under "
                           "minigan.no_grad() or into a clone()")
    try:
        if not grad_on or not (x.requires_grad or value.requires_grad):
            x.array[index] = value.array.astype(x.dtype, copy=False)
        else:
            import weakref
            old = Tensor(x.array)                 # x's history moves to ``old`` ...
            old._ctx, old._out_index, old.requires_grad = x._ctx, x._out_index, x.requires_grad
            if old._ctx is not None:
                outs = list(old._ctx._outputs)
                outs[old._out_index] = weakref.ref(old)
                old._ctx._outputs = tuple(outs)
            new = SetItem(index)(old, value.to(dtype=x.dtype) if value.dtype != x.dtype
                                 else value)
            x.array, x._ctx, x._out_index = new.array, new._ctx, 0   # ... and x is the write
            x._vc = [x._vc[0]]     # a new array: no longer a view of what x viewed before
            x.requires_grad = new.requires_grad
            new._ctx._outputs = (weakref.ref(x),)
    except (IndexError, ValueError) as exc:
        raise type(exc)(f"x[index] = value on a tensor of shape {x.shape}: {exc}") from None
    x._bump_version()


# ----------------------------------------------------------------------------- joining, split
class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = backend.xp_of(xs[0])
        try:
            return xp.concatenate(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"cat: shapes {shapes} differ outside dimension {self.axis}") from None

    def backward(self, gy):
        grads, start = [], 0
        for x in self.inputs:
            n = x.shape[self.axis]
            sl = (slice(None),) * self.axis + (slice(start, start + n),)
            grads.append(getitem(gy, sl))
            start += n
        return tuple(grads)


def concatenate(tensors, axis=0, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    if dim is not None:
        axis = dim
    nd = tensors[0].ndim
    for t in tensors:
        if t.ndim != nd:
            raise ValueError(f"cat: all tensors need the same number of dimensions, got "
                             f"{[u.shape for u in tensors]}")
    return Concatenate(_axis(axis, nd, "cat"))(*tensors)


def cat(tensors, dim=0):
    return concatenate(tensors, axis=dim)


def stack(tensors, axis=0, dim=None):
    tensors = list(tensors)
    if dim is not None:
        axis = dim
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError("stack: all tensors need the same shape, got "
                         f"{[t.shape for t in tensors]}")
    a = _axis(axis, tensors[0].ndim + 1, "stack")
    return concatenate([unsqueeze(t, a) for t in tensors], axis=a)


def split(x, split_size_or_sections, axis=0, dim=None):
    """PyTorch's split: an int is the size of each chunk (the last may be smaller); a list
    gives each chunk's size."""
    if dim is not None:
        axis = dim
    axis = _axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError("split: the chunk size must be positive")
        sizes = [min(step, n - s) for s in range(0, n, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} along dimension {axis}")
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * axis + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(x, chunks, axis=0, dim=None):
    if dim is not None:
        axis = dim
    n = x.shape[axis]
    return split(x, -(-n // chunks), axis=axis)


class Pad(Function):
    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        xp = backend.xp_of(x)
        return xp.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        index = tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.pad_width))
        return getitem(gy, index)


def pad(x, pad_width, value=0.0):
    """Constant padding with NumPy's ``pad_width``: one ``(before, after)`` pair per dimension
    (or one pair / one int for all). ``minigan.functional.pad`` offers PyTorch's order."""
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),) * x.ndim
    pad_width = tuple(tuple(int(v) for v in p) for p in pad_width)
    if len(pad_width) == 1 and x.ndim > 1:
        pad_width = pad_width * x.ndim
    if len(pad_width) != x.ndim or any(len(p) != 2 or min(p) < 0 for p in pad_width):
        raise ValueError(f"pad: need one non-negative (before, after) pair for each of the "
                         f"{x.ndim} dimensions, got {pad_width}")
    return Pad(pad_width, value)(x)
