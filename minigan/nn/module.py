"""``Module`` and ``Parameter``: how a network keeps its weights.

A ``Module`` is a box of three kinds of things, each kept in its own ordered dict:

* **parameters** (``Parameter``, a Tensor that requires grad): what the optimizer trains;
* **buffers** (plain Tensors): state that is saved but not trained, e.g. BatchNorm's running
  mean, or spectral norm's power-iteration vector ``u``;
* **submodules**: other Modules, so a network is a tree of modules.

Assigning an attribute files it in the right dict automatically::

    self.fc = Linear(2, 3)        # -> _modules['fc']
    self.w = Parameter(...)       # -> _parameters['w']
    self.register_buffer('running_mean', zeros(3))

and everything else (``parameters()``, ``state_dict()``, ``to(device)``, ``train()/eval()``)
is a walk over that tree. The dotted names (``'features.0.weight'``) are the keys of the
state dict, exactly as in PyTorch, so a checkpoint's layout can be read by eye.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

from .. import backend
from ..autograd import Tensor, no_grad

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict"]


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module (``requires_grad=True`` by default).

    Being a distinct type is what lets ``Module.__setattr__`` recognise it: ``self.w =
    Parameter(t)`` registers ``w`` so that ``parameters()`` and ``state_dict()`` find it.
    The Parameter shares memory with the tensor it wraps, as in PyTorch.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = backend.np.zeros((0,), dtype=backend.get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text, n):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


_EMPTY, _MISSING = {}, object()     # (a registered parameter may be None)


class Module:
    """Base class of every layer and network. Subclasses set attributes in ``__init__`` (after
    calling ``super().__init__()``) and define ``forward``; call the module, not ``forward``,
    so that hooks (spectral norm's power iteration) run."""

    training: bool

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["training"] = True

    # ------------------------------------------------------------------ forward and hooks
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):   # the common case, fast
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before every forward (may return replacement args)."""
        return _HookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after every forward (may return a new output)."""
        return _HookHandle(self._forward_hooks, hook)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("call super().__init__() before assigning attributes to a Module")
        params, bufs, mods = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._discard(name)
            params[name] = value
        elif isinstance(value, Module):
            self._discard(name)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(a Parameter or None is expected)")
            params[name] = None
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r}")
            mods[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None is expected)")
            bufs[name] = value
        else:
            object.__setattr__(self, name, value)

    def _discard(self, name):
        for d in (self.__dict__, self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the three registries, parameters
        # first (every layer's forward reads its weights this way).
        d = self.__dict__
        value = d.get("_parameters", _EMPTY).get(name, _MISSING)
        if value is not _MISSING:
            return value
        for key in ("_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, "
                            f"got {type(param).__name__}")
        if "." in name or not name:
            raise KeyError(f"parameter name {name!r} must be non-empty and contain no '.'")
        self._discard(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is part of the module's state but not trained (running statistics).

        Persistent buffers go into ``state_dict()``; ``persistent=False`` ones do not.
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if "." in name or not name:
            raise KeyError(f"buffer name {name!r} must be non-empty and contain no '.'")
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        mod = self
        if target:
            for part in target.split("."):
                mod = mod._modules[part]
        return mod

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, memo=None, prefix=""):
        """(dotted name, module) for this module and every descendant, each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, mod in self._modules.items():
            if mod is not None:
                yield from mod.named_modules(memo, prefix + ("." if prefix else "") + name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, mod in self._modules.items():
            if mod is not None and id(mod) not in seen:
                seen.add(id(mod))
                yield name, mod

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, t in getattr(mod, registry).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))        # a weight shared by two layers is trained once
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(m)`` on every submodule (children first) and on self; e.g. an initialiser."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Training mode: Dropout drops, BatchNorm uses batch statistics and updates its
        running averages, spectral norm runs its power iteration."""
        if not isinstance(mode, bool):
            raise ValueError("train(mode) expects a bool")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Evaluation mode (``train(False)``): deterministic, uses the running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking for every parameter (freeze D while G is trained)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(backend.xp_of(p.grad.array).zeros_like(p.grad.array))

    # ------------------------------------------------------------------ device and dtype
    def _apply_arrays(self, fn):
        """Replace every parameter's and buffer's array by ``fn(array)``, in place on the
        Tensor objects, so that an optimizer holding them keeps working."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.array = fn(t.array)
            if t.grad is not None:
                t.grad = Tensor(fn(t.grad.array))
            t._bump_version()
        return self

    def to(self, *args, **kwargs):
        """``m.to('cuda')``, ``m.to(minigan.float64)``, ``m.to(device, dtype)``.

        Only floating parameters/buffers change dtype (BatchNorm's ``num_batches_tracked``
        stays an integer), as in PyTorch. The Parameter objects stay the same.
        """
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (str, backend.Device)):
                device = a
            elif a is not None:
                dtype = a
        dev = backend.Device(device) if device is not None else None
        dt = backend.np.dtype(dtype) if dtype is not None else None
        if dt is not None and dt.kind != "f":
            raise TypeError(f"Module.to only accepts floating dtypes, got {dt}")

        def convert(arr):
            if dt is not None and arr.dtype.kind == "f" and arr.dtype != dt:
                arr = arr.astype(dt)
            if dev is not None and backend.device_of(arr) != dev:
                arr = backend.as_array(arr, device=dev)
            return arr
        return self._apply_arrays(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device="cuda"):
        return self.to(device)

    def double(self):
        return self.to(backend.np.float64)

    def float(self):
        return self.to(backend.np.float32)

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name (an ordered dict).

        The tensors share memory with the module (as in PyTorch): to keep a snapshot while
        training goes on, save it to a file (``minigan.save``) or copy it.
        """
        dest = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                dest[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                dest[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(dest, prefix + name + ".", keep_vars)
        return dest

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        With ``strict=True`` the keys must match exactly; a mismatch raises one error that
        lists the missing keys, the unexpected keys and the wrong-shaped keys. A shape
        mismatch is an error even with ``strict=False`` (nothing sensible can be copied).
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong = []
        for k, t in own.items():
            if k in state_dict:
                shape = tuple(getattr(state_dict[k], "shape", ()))
                if shape != t.shape:
                    wrong.append(f"{k}: checkpoint has shape {shape}, the model has {t.shape}")
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if wrong:
            problems.append("wrong shapes: " + "; ".join(wrong))
        if problems:
            raise RuntimeError(f"error(s) in loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        with no_grad():
            for k, t in own.items():
                if k not in state_dict:
                    continue
                v = state_dict[k]
                src = v.array if isinstance(v, Tensor) else v
                arr = backend.as_array(src, dtype=t.dtype, device=t.device)
                if t.array.shape == ():
                    t.array = arr.copy()
                else:
                    t.array[...] = arr
                t._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text between the parentheses of this module's repr (e.g. ``in_features=2``)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, mod in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(mod), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _HookHandle:
    _next = 0

    def __init__(self, registry, hook):
        self.registry = registry
        self.id = _HookHandle._next
        _HookHandle._next += 1
        registry[self.id] = hook

    def remove(self):
        self.registry.pop(self.id, None)


# ---------------------------------------------------------------------------------- containers
class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    Children are named ``'0', '1', ...`` (or by the keys of an OrderedDict), so the state-dict
    keys read ``'0.weight'``, exactly as PyTorch's.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[idx]]

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        vals = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(vals[idx])
        return vals[idx]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
