"""Reverse-mode automatic differentiation: ``Tensor``, ``Function`` and the backward pass.

How it works, in three sentences. Every differentiable operation is a ``Function`` whose
``forward`` computes on raw arrays and whose ``backward`` turns the gradient of the output into
gradients of the inputs. Calling a Function on Tensors records it as the output's ``_ctx``
(its "creator"), so the outputs remember the graph that made them. ``backward()`` walks that
graph from the loss back to the leaves in reverse topological order, applying the chain rule.

Why backward rules are written with Tensor ops (and not raw arrays): the gradient is then
itself the output of recorded operations whenever we ask for it (``create_graph=True``), so
we can differentiate it again. That is what WGAN-GP's gradient penalty (a loss made of a
gradient) and unrolled GANs (a generator step through optimizer steps) need. With
``create_graph=False`` the same rules run under ``no_grad()``: nothing is recorded, and the
first-order pass stays as fast as one written with arrays.
"""
from __future__ import annotations

import weakref

from . import backend
from .backend import Device

__all__ = ["Variable", "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "grad", "backward"]

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that switches graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = None

    def __enter__(self):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.mode
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class no_grad(set_grad_enabled):
    """``with no_grad():`` runs code without recording a graph (evaluation, optimizer steps)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """``with enable_grad():`` records again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


# ------------------------------------------------------------------------------------ Tensor
_ndarray = backend.np.ndarray


def _coerce(data):
    """Anything array-like as an array: NumPy scalars become 0-d arrays, CuPy arrays stay."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, backend.np.generic):
        return backend.np.asarray(data)      # NumPy reductions return scalars; keep 0-d arrays
    if isinstance(data, _ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data
    return backend.as_array(data)


def _legacy_sizes(first, sizes):
    """``Tensor(64, 1)`` as in PyTorch's legacy constructor: a float tensor of that shape
    (zeros here; PyTorch leaves it uninitialised). ``Tensor()`` is an empty one."""
    dims = (() if first is None else (first,)) + tuple(sizes)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise TypeError(f"Tensor(*sizes) takes non-negative integer sizes, got {dims}; for "
                        "data use minigan.tensor(data)")
    return backend.np.zeros(dims or (0,), dtype=backend.get_default_dtype())


class Tensor:
    """An n-dimensional array that can remember how it was computed.

    ``array`` is the raw NumPy or CuPy array (``data`` is PyTorch's detached view of it). A
    tensor made by the user is a *leaf*; if it has
    ``requires_grad=True``, ``backward()`` accumulates d(loss)/d(tensor) into its ``.grad``.
    A tensor computed from others by a recorded Function has that Function in ``_ctx``.
    Operators (``+ - * / @ ** [] ...``) and methods (``sum, exp, reshape ...``) are attached
    by ``minigan.ops`` when the package is imported.
    """
    __slots__ = ("array", "grad", "requires_grad", "_ctx", "_out_index", "_vc",
                 "_retains_grad", "name", "__weakref__")
    __array_priority__ = 1000      # ndarray (op) Tensor defers to Tensor's reflected operator
    __array_ufunc__ = None

    def __init__(self, data=None, *sizes, requires_grad=False, name=None):
        if type(data) is not _ndarray:       # the common case costs one type check
            data = _legacy_sizes(data, sizes) if sizes or data is None else _coerce(data)
        self.array = data
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._vc = [0]         # the version counter, one cell shared with views of this storage
        self._retains_grad = False
        self.name = name
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # --------------------------------------------------------------------------- .data
    @property
    def data(self):
        """PyTorch's ``.data``: the same values as a Tensor cut from the graph, sharing this
        tensor's storage (an in-place change to it changes this tensor, unseen by autograd --
        new code uses ``detach()`` or ``no_grad()``). The raw NumPy/CuPy array is ``.array``."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        """``p.data = t`` gives ``p`` the values (and storage) of ``t``, as in PyTorch."""
        self.array = value.array if isinstance(value, Tensor) else _coerce(value)

    # ------------------------------------------------------------------ array-like properties
    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self) -> Device:
        return backend.device_of(self.array)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_leaf(self):
        return self._ctx is None

    def dim(self):
        return self.array.ndim

    def size(self, dim=None):
        """The shape, as in PyTorch (``x.size(0)`` is the batch size)."""
        return self.shape if dim is None else self.array.shape[dim]

    def numel(self):
        return int(self.array.size)

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        """The values as a NumPy array (copied from the GPU if needed; never part of the graph)."""
        return backend.to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_numpy(self.array)
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        if self.array.size != 1:
            raise ValueError("item() needs a tensor with one element, this one has shape "
                             f"{self.shape}")
        return self.array.reshape(()).item()

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.array.size} elements is "
                               "ambiguous: use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self):
        arr = backend.to_numpy(self.array)
        body = backend.np.array2string(arr, separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if arr.dtype != backend.get_default_dtype() and arr.dtype.kind == "f":
            extras.append(f"dtype={arr.dtype}")
        if self._ctx is not None and self.requires_grad:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ graph control
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError("only floating-point tensors can require gradients, not "
                               f"{self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) is only for leaves; use .detach() on a "
                               "computed tensor")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same values, cut from the graph (shares memory and, as in PyTorch, the version
        counter: an in-place change to the detached tensor is seen by ops that saved this one)."""
        out = Tensor(self.array)
        out._vc = self._vc
        return out

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (leaves always keep it)."""
        self._retains_grad = True
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires it.

        ``gradient`` is d(loss)/d(self); it may be omitted for a one-element tensor (it is 1).
        The graph is freed afterwards unless ``retain_graph`` (default: ``create_graph``).
        """
        backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                 create_graph=create_graph, inputs=inputs)

    @property
    def _version(self):
        """How many in-place changes this tensor's storage has seen, through it or through any
        view of it (``detach()``, ``x[1:]``, ``x.t()``, ...: they share one counter cell, as in
        PyTorch). An op records its inputs' versions, and the versions of the outputs its
        backward reads; backward refuses to use values whose version moved since."""
        return self._vc[0]

    def _bump_version(self):
        self._vc[0] += 1


# ---------------------------------------------------------------------------------- Function
class Function:
    """One differentiable operation. Subclasses define:

    * ``forward(self, *arrays)`` -> array or tuple of arrays (raw NumPy/CuPy maths), and
    * ``backward(self, *grad_outputs)`` -> Tensor, tuple of Tensors, or None per input,
      written with Tensor operations so that it is differentiable itself.

    The inputs are available in backward as ``self.inputs`` (Tensors), the outputs as
    ``self.output(i)``. ``self.needs_input_grad[i]`` says whether input ``i`` needs a gradient,
    so a rule can skip work nobody asked for. Keyword options go to ``__init__``.

    Memory: the graph keeps alive whatever a recorded op holds until backward reaches it. By
    default an op holds its input Tensors (their values). An op whose rule never reads the
    values of some inputs lists the ones it does read in ``saved_inputs`` (``()``: none); the
    others are then held as *edges*: stand-ins with the same place in the graph, shape and
    dtype, but no values (reading them gives NaN), so that the activation they were can be
    freed. ReLU is the example: its gradient needs only where the *output* is positive, so it
    sets ``saves_output = True`` and ``saved_inputs = ()``, and the batch-norm output before
    it is freed as soon as the forward pass moves on (PyTorch's graph saves the same).
    """
    inputs = ()
    needs_input_grad = ()
    differentiable = True          # False for ops like argmax or comparisons
    returns_view = False           # True for ops whose output may be a view of input 0
    saved_inputs = None            # indices of the inputs whose values backward reads; None: all
    saves_output = False           # True when backward reads self.output()
    _saved_outputs = None
    _output_versions = ()          # ((counter cell, version), ...) of outputs backward reads

    def __call__(self, *inputs):
        # One pass over the inputs: every Tensor, on one device (one array type), and does any
        # need a gradient? Written out flat because a small MLP spends its time here, not in
        # the arithmetic.
        arrays, needs, kind, mixed = [], [], None, False
        for x in inputs:
            if not isinstance(x, Tensor):
                _raise_not_a_tensor(self, inputs, x)
            a = x.array
            if type(a) is not kind:
                mixed = kind is not None
                kind = type(a)
            arrays.append(a)
            needs.append(x.requires_grad)
        if mixed:
            _raise_mixed_devices(self, inputs)
        ys = self.forward(*arrays)
        record = _grad_enabled and self.differentiable and True in needs
        if type(ys) is not tuple:                # the common case: one output
            out = Tensor(ys)
            if self.returns_view:
                _share_version(out, inputs[0])
            if record:
                self._save(inputs, (out,), needs)
            return out
        outs = tuple([Tensor(y) for y in ys])
        if record:
            self._out_meta = tuple([(y.shape, y.dtype) for y in ys])
            self._save(inputs, outs, needs)
        return outs

    def _save(self, inputs, outs, needs):
        """Record this op as the creator of ``outs`` (only when a gradient will be needed).

        Plain loops rather than comprehensions: each comprehension is a function call of its
        own (before Python 3.12), and this runs once per recorded op."""
        keep = self.saved_inputs
        # The version of each input the rule reads: backward refuses to run if one changed in
        # place (read through the input Tensor then, whose counter cell a later write may
        # replace). An input it does not read is not checked (None: a later change of it is
        # harmless, as in PyTorch, which checks only what a rule saved) and, if computed, is
        # held as an edge.
        versions = []
        if keep is None:
            for x in inputs:
                versions.append(x._vc[0])
        else:
            held, i = [], 0
            for x in inputs:
                if i in keep:
                    versions.append(x._vc[0])
                    held.append(x)
                else:
                    versions.append(None)
                    held.append(x if x._ctx is None else _edge(x))
                i += 1
            inputs = tuple(held)
        self.inputs = inputs
        self._versions = tuple(versions)
        self.needs_input_grad = tuple(needs)
        refs, i = [], 0
        for o in outs:
            refs.append(weakref.ref(o))
            o.requires_grad = o.array.dtype.kind in "fc"
            o._ctx = self
            o._out_index = i
            i += 1
        self._outputs = tuple(refs)
        if self.saves_output:
            arrays, cells = [], []
            for o in outs:
                arrays.append(o.array)
                # the counter cells themselves: they outlive the output Tensors, and a view of
                # an output (sharing its cell) may be what gets changed
                cells.append((o._vc, o._vc[0]))
            self._saved_outputs = tuple(arrays)
            self._output_versions = tuple(cells)

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} has no backward rule")

    def output(self, i=0):
        """Output ``i`` of this op as a Tensor, for use in ``backward``.

        The Tensor the forward returned, if something still holds it; otherwise (its consumers
        held it as an edge) a new Tensor for the same graph node, made from the values saved
        because the op declared ``saves_output``. Gradients are keyed by node, not by Tensor
        object, so both are the same output to the backward pass, at first and second order."""
        for cell, v in self._output_versions:
            if cell[0] != v:
                _raise_output_modified(self)
        o = self._outputs[i]()
        if o is None:
            if self._saved_outputs is None:
                raise RuntimeError(f"{type(self).__name__}.backward reads its output, but the op "
                                   "does not set saves_output = True, and the output is gone")
            o = Tensor(self._saved_outputs[i])
            o._ctx, o._out_index, o.requires_grad = self, i, o.array.dtype.kind in "fc"
        return o

    @classmethod
    def apply(cls, *inputs, **options):
        """``MyOp.apply(x, y, k=2)`` is ``MyOp(k=2)(x, y)``."""
        return cls(**options)(*inputs)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def Variable(tensor, requires_grad=False, volatile=False):  # noqa: N802 (PyTorch's name)
    """PyTorch's legacy wrapper, kept for old tutorials: a Variable *is* a Tensor now, so this
    returns ``tensor`` itself, or a leaf copy of it that requires grad when asked."""
    if not isinstance(tensor, Tensor):
        tensor = Tensor(tensor)
    if requires_grad and not tensor.requires_grad:
        return tensor.detach().requires_grad_(True)
    return tensor


_NO_VALUES = {}


def _edge(x):
    """A stand-in for the non-leaf input ``x`` in an op that does not read its values: the
    same graph node (creator and output index), version, shape and dtype, but a shared,
    read-only NaN view instead of x's array, so x's memory can be freed."""
    a = x.array
    dtype = a.dtype
    if dtype.kind != "f":
        return x
    # one shell per shape, dtype and array type (and GPU: a CuPy array lives on one device)
    key = (a.shape, dtype) if type(a) is _ndarray else (
        a.shape, dtype, type(a), getattr(getattr(a, "device", None), "id", None))
    shell = _NO_VALUES.get(key)
    if shell is None:
        if len(_NO_VALUES) > 512:
            _NO_VALUES.clear()
        nan = backend.as_array(float("nan"), dtype=a.dtype, device=backend.device_of(a))
        shell = _NO_VALUES[key] = backend.xp_of(a).broadcast_to(nan, a.shape)
    e = Tensor(shell)
    # its own counter cell at x's version: the op reads no values through it, so a later
    # change of x is harmless to it (as in PyTorch, which checks only what a rule saved)
    e._ctx, e._out_index, e._vc, e.requires_grad = x._ctx, x._out_index, [x._vc[0]], \
        x.requires_grad
    return e


def _share_version(view, x):
    """Give ``view`` the version counter of ``x`` when its array really is a view of x's (a
    reshape or an index may also copy): then an in-place change through either is seen by
    every op that saved the other."""
    a = view.array
    if getattr(a, "base", None) is not None and backend.xp_of(a).may_share_memory(a, x.array):
        view._vc = x._vc


def _node(x):
    """The key of ``x``'s place in the graph: its creator and output index for a computed
    tensor (so an edge stand-in and the tensor itself are one node), the tensor for a leaf.
    The first output of an op is keyed by the op's id alone (no other live object has it),
    a further output by (id, index)."""
    c = x._ctx
    return id(x) if c is None else _output_key(c, x._out_index)


def _output_key(fn, i):
    return id(fn) if i == 0 else (id(fn), i)


def _raise_not_a_tensor(fn, inputs, x):
    i = next(j for j, v in enumerate(inputs) if v is x)
    kind = type(x)
    name = f"{kind.__module__}.{kind.__name__}" if kind.__module__ != "builtins" else kind.__name__
    raise TypeError(f"{type(fn).__name__}: argument {i} is a {name}, not a minigan Tensor; "
                    "wrap it with minigan.tensor(...) first")


def _raise_input_modified(fn):
    raise RuntimeError(f"{type(fn).__name__}: one of the tensors it saved for backward was "
                       "modified in place after the forward pass; its gradient would be wrong. "
                       "Modify a copy (x.clone()) or do the in-place change after backward().")


def _raise_output_modified(fn):
    raise RuntimeError(f"{type(fn).__name__}: its output, which its backward reads, was modified "
                       "in place after the forward pass; its gradient would be wrong. Modify a "
                       "copy (y.clone()) or do the in-place change after backward().")


def _raise_mixed_devices(fn, inputs):
    devices = ", ".join(str(x.device) for x in inputs)
    raise RuntimeError(f"{type(fn).__name__}: all inputs must be on the same device, got "
                       f"{devices}. Move them with .to(device) first.")


# ------------------------------------------------------------------------- the backward pass
def _topological_order(roots):
    """Functions reachable from ``roots``, producers before consumers (iterative DFS).

    An explicit stack instead of recursion: a chain of 100,000 ops would overflow Python's
    recursion limit (a known bug of recursive teaching engines). A Function is expanded the
    first time it is popped (later copies of it on the stack are skipped) and pushed back under
    a ``None`` marker, so that it is emitted only after everything it reads from: a
    post-order, which lists every producer before its consumers. Functions are told apart by
    ``id``: a user's Function may define ``==`` (or not be hashable at all).
    """
    order, seen = [], set()
    stack = [r._ctx for r in roots if r._ctx is not None]
    pop, push, emit, mark = stack.pop, stack.append, order.append, seen.add
    while stack:
        fn = pop()
        if fn is None:              # the marker: everything under fn has been emitted
            emit(pop())
            continue
        if id(fn) in seen:
            continue
        mark(id(fn))
        push(fn)
        push(None)
        inputs = fn.inputs
        if inputs is None:
            raise RuntimeError(
                "trying to backward through the graph a second time: its saved values were "
                "freed by the first backward(). Pass retain_graph=True the first time.")
        for x in inputs:
            c = x._ctx
            if c is not None and id(c) not in seen:
                push(c)
    return order


def _as_grad_tensor(g, like):
    if g is None:
        if like.array.size != 1:
            raise RuntimeError("grad can be implicitly created only for one-element outputs; "
                               f"pass a gradient of shape {like.shape}")
        xp = backend.xp_of(like.array)
        return Tensor(xp.ones(like.shape, dtype=like.dtype))
    if not isinstance(g, Tensor):
        g = Tensor(backend.as_array(g, dtype=like.dtype, device=like.device))
    if g.shape != like.shape:
        raise RuntimeError(f"backward: gradient has shape {g.shape}, but the output has shape "
                           f"{like.shape}")
    return g


def _run_backward(roots, root_grads, targets, create_graph, retain_graph):
    """The engine shared by ``Tensor.backward`` and ``grad``.

    Gradients are collected per graph node (``_node``). Returns ``{node: (t, gradient)}`` for
    the leaves reached (or, when ``targets`` is given, for the targets), plus the non-leaves
    that asked to retain their gradient.
    """
    order = _topological_order(roots)
    grads, leaves = {}, {}
    for r, g in zip(roots, root_grads):
        k = _node(r)
        grads[k] = g if k not in grads else grads[k] + g
        if r._ctx is None:
            leaves[k] = r
    reaches = None
    if targets is not None:
        targets = {_node(t): t for t in targets}
        # Only run the rules on paths that lead to a target: grad(D(x), x) need not compute
        # the gradients of D's weights.
        reaches = set()
        for fn in order:   # producers first, so every input's creator is already decided
            for x in fn.inputs:
                if _node(x) in targets or (x._ctx is not None and id(x._ctx) in reaches):
                    reaches.add(id(fn))
                    break
    results = {}
    with set_grad_enabled(create_graph):
        for fn in reversed(order):
            if reaches is not None and id(fn) not in reaches:
                continue
            if len(fn._outputs) == 1 and targets is None:
                # _output_grads' common case, inlined (this runs once per op): one output, and
                # its gradient is a result only if the output asked for it with retain_grad()
                k = id(fn)
                g = grads.pop(k, None)
                if g is None:
                    continue
                o = fn._outputs[0]()
                if o is not None and o._retains_grad:
                    results[k] = (o, g)
                gys = (g,)
            else:
                gys = _output_grads(fn, grads, results, targets)
                if gys is None:
                    continue
            for x, v in zip(fn.inputs, fn._versions):
                if v is not None and x._vc[0] != v:
                    _raise_input_modified(fn)
            needs = fn.needs_input_grad
            if reaches is None:
                gxs = fn.backward(*gys)
            else:
                needs = tuple(n and (_node(x) in targets or
                                     (x._ctx is not None and id(x._ctx) in reaches))
                              for n, x in zip(needs, fn.inputs))
                saved, fn.needs_input_grad = fn.needs_input_grad, needs
                try:
                    gxs = fn.backward(*gys)
                finally:
                    fn.needs_input_grad = saved
            inputs = fn.inputs
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            if len(gxs) != len(inputs):
                raise RuntimeError(f"{type(fn).__name__}.backward returned {len(gxs)} gradients "
                                   f"for {len(inputs)} inputs")
            i = -1
            for gx in gxs:
                i += 1
                if gx is None or not needs[i]:
                    continue
                x = inputs[i]
                if gx.array.shape != x.array.shape:
                    raise RuntimeError(f"{type(fn).__name__}.backward: gradient of shape "
                                       f"{gx.shape} for an input of shape {x.shape}")
                c = x._ctx         # _node(x), inlined: this loop runs once per edge
                if c is None:
                    k = id(x)
                    leaves[k] = x
                else:
                    k = id(c) if x._out_index == 0 else (id(c), x._out_index)
                g = grads.get(k)
                if g is None:
                    grads[k] = gx
                else:
                    # first order: the sum of arrays, without an Add Function around it
                    grads[k] = g + gx if create_graph else Tensor(g.array + gx.array)
            if not retain_graph:
                # free what the forward saved; a second pass must fail
                fn.inputs = fn._saved_outputs = None
    # What is left belongs to nodes whose creator did not run: the leaves (and targets).
    for k, g in grads.items():
        if targets is not None and k in targets:
            results[k] = (targets[k], g)
        elif k in leaves:
            results[k] = (leaves[k], g)
    return results


def _output_grads(fn, grads, results, targets):
    """Collect d(loss)/d(output) for each output of ``fn`` (zeros for an output that got none).

    Returns None when no output received a gradient: the whole op can be skipped.
    """
    if len(fn._outputs) == 1:       # the common case: one output
        k = _output_key(fn, 0)
        g = grads.pop(k, None)
        if g is None:
            return None
        _keep_output_grad(fn, 0, k, g, results, targets)
        return (g,)
    keys = [_output_key(fn, i) for i in range(len(fn._outputs))]
    gys = [grads.pop(k, None) for k in keys]
    if all(g is None for g in gys):
        return None
    xp = backend.xp_of(fn.inputs[0].array)
    for i, g in enumerate(gys):
        if g is None:
            shape, dtype = fn._out_meta[i]
            gys[i] = Tensor(xp.zeros(shape, dtype=dtype))
        else:
            _keep_output_grad(fn, i, keys[i], g, results, targets)
    return gys


def _keep_output_grad(fn, i, k, g, results, targets):
    """A computed tensor's gradient is a result when it is a target of ``grad()`` or asked
    for it with ``retain_grad()``."""
    if targets is not None and k in targets:
        results[k] = (targets[k], g)
        return
    o = fn._outputs[i]()
    if o is not None and o._retains_grad:
        results[k] = (o, g)


def _check_roots(tensors, what):
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    _check_roots(tensors, "backward() roots")
    if retain_graph is None:
        retain_graph = create_graph
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no grad_fn "
                               "(was it computed under no_grad(), or from tensors without "
                               "requires_grad=True?)")
    gs = [_as_grad_tensor(g, t) for g, t in zip(grad_tensors, tensors)]
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t, g in _run_backward(tensors, gs, targets, create_graph, retain_graph).values():
        if not (t.requires_grad and (t._ctx is None or t._retains_grad or targets is not None)):
            continue
        if create_graph:
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            # A fresh array: the same gradient array may reach several leaves (d(a+b)), and
            # a user or optimizer editing one .grad in place must not change another.
            t.grad = Tensor(g.array.copy())
        else:
            t.grad = Tensor(t.grad.array + g.array)      # a sum is a fresh array already


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, materialize_grads=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves differentiable: this is
    how a gradient penalty ||grad_x D(x)|| becomes part of a loss.

    As in PyTorch, a question with no answer is an error, not a zero: an output that does not
    require grad (computed under ``no_grad()``, or from constants) raises, and so does an
    input the outputs do not use -- unless ``allow_unused=True`` (its gradient is then None)
    or ``materialize_grads=True`` (zeros). A gradient penalty computed by mistake under
    ``no_grad()`` would otherwise silently become a constant. ``only_inputs`` is accepted for
    old PyTorch code and ignored (it has been a no-op there too).
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    _check_roots(outputs, "grad() outputs")
    _check_roots(inputs, "grad() inputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad; create it with "
                               "requires_grad=True")
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad(): output {i} does not require grad and has no history: it was computed "
                "under no_grad(), or only from tensors that do not require grad, so it has no "
                "gradient to take")
    gs = [_as_grad_tensor(g, o) for o, g in zip(outputs, grad_outputs)]
    result = _run_backward(outputs, gs, inputs, create_graph, retain_graph)
    out = []
    for i, x in enumerate(inputs):
        g = result.get(_node(x), (None, None))[1]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): input {i} was not used to compute the outputs, so its gradient is "
                    "undefined; pass allow_unused=True to get None for it, or "
                    "materialize_grads=True to get zeros")
            if materialize_grads:
                g = Tensor(backend.xp_of(x.array).zeros(x.shape, dtype=x.dtype))
        out.append(g)
    return tuple(out)
