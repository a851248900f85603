"""The ``Optimizer`` base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer holds references to Parameters (not copies) in *parameter groups*, each a dict
with ``'params'`` and its own hyper-parameters (``'lr'`` ...), so that e.g. a generator's
mapping network can get a smaller learning rate than the rest. ``state[p]`` holds what the
algorithm remembers between steps for parameter p (momentum buffers, Adam's moments).

Steps are computed on raw arrays under ``no_grad`` and written into ``p.array`` in place (the
Parameter objects stay the same, so modules and optimizers keep sharing them); ``p.grad`` is
read, never modified.
"""
from __future__ import annotations

import copy

from .. import backend
from ..autograd import Tensor, enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}              # Parameter -> dict (Tensor hashes by identity)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params should be an iterable of Tensors or dicts; wrap a single "
                            "tensor in a list: [t]")
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        """Add a dict ``{'params': [...], 'lr': ...}``; missing options take the defaults."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"an optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("cannot optimize a non-leaf Tensor (it is computed from others)")
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required option {k!r}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``p.grad = None`` (or a new zero tensor)."""
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(backend.xp_of(p.grad.array).zeros_like(p.grad.array))

    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss, as in PyTorch.
        The shared part lives here -- the gradient (negated to maximise), L2 weight decay
        ``g + λ·p`` -- and each optimizer's own rule in ``_step_param``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                if self._step_group(group):      # the optimizer did the whole group at once
                    continue
                wd = group["weight_decay"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = self._grad(p, group["maximize"])
                    if wd != 0:
                        g = g + wd * p.array
                    self._step_param(p, g, group)
        return loss

    def _step_param(self, p, g, group):
        """Update parameter ``p`` in place from its (decayed) gradient array ``g``."""
        raise NotImplementedError

    def _step_group(self, group):
        """Optionally update a whole group in one go; True when done (see Adam)."""
        return False

    def _count_step(self, p):
        """The per-parameter state dict, with its ``step`` counter advanced by one."""
        state = self.state.setdefault(p, {})
        state["step"] = state.get("step", 0) + 1
        return state

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are named by their position across the groups (as PyTorch), so the dict
        holds only numbers and tensors and can be saved with ``minigan.save``. The tensors
        are copies: later steps do not change a state dict already taken.
        """
        index, groups = {}, []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (Tensor(v.array.copy()) if isinstance(v, Tensor)
                                               else copy.deepcopy(v))
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state. Floating state is cast to each parameter's
        dtype and device; the group layout (sizes) must match."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group ({len(theirs['params'])} "
                                 f"vs {len(mine['params'])} parameters)")
        id_map = {}
        for mine, theirs in zip(self.param_groups, groups):
            for p, i in zip(mine["params"], theirs["params"]):
                id_map[i] = p
        saved_state = state_dict["state"]
        self.state = {}
        for key, st in saved_state.items():
            key = int(key)
            if key not in id_map:
                continue
            p = id_map[key]
            new = {}
            for k, v in st.items():
                if isinstance(v, Tensor) or hasattr(v, "shape") and hasattr(v, "dtype"):
                    arr = v.array if isinstance(v, Tensor) else v
                    dtype = p.dtype if arr.dtype.kind == "f" and k != "step" else arr.dtype
                    new[k] = Tensor(backend.as_array(arr, dtype=dtype, device=p.device).copy())
                else:
                    new[k] = copy.deepcopy(v)
            self.state[p] = new
        for mine, theirs in zip(self.param_groups, groups):
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ helpers for step()
    @staticmethod
    def _grad(p, maximize=False):
        """The gradient array (negated for maximisation); never the .grad array itself
        when it will be modified."""
        g = p.grad.array
        if g.shape != p.shape:
            raise RuntimeError(f"the gradient of a parameter of shape {p.shape} has shape "
                               f"{g.shape}")
        return -g if maximize else g

    def _state_array(self, state, key, like):
        """``state[key]`` as an array, created as zeros like ``like`` the first time."""
        if key not in state:
            state[key] = Tensor(backend.xp_of(like).zeros_like(like))
        return state[key].array

    @staticmethod
    def _lerp_(a, b, weight):
        """``a += weight·(b - a)`` in place, with the two formulas PyTorch's ``lerp_`` uses
        (the second is more accurate when weight ≥ 0.5), so that the numbers match."""
        if weight < 0.5:
            a += weight * (b - a)
        else:
            a[...] = b - (b - a) * (1 - weight)
        return a

    @staticmethod
    def _update(p, new):
        """Write the new values into the parameter's array, in place."""
        p.array[...] = new
        p._bump_version()
