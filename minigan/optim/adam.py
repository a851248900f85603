"""Adam (Kingma & Ba 2015), the optimizer of DCGAN and most GANs since (with β1 = 0.5).

PyTorch's update, exactly (t = step count starting at 1)::

    g  ← g + λ·p                                     (L2 weight decay, *not* AdamW)
    m  ← m + (1 - β1)·(g - m)                        (= β1·m + (1 - β1)·g)
    v  ← β2·v + (1 - β2)·g²
    v̂max ← max(v̂max, v)                              (amsgrad only; then use v̂max for v)
    p  ← p - (lr / (1 - β1^t)) · m / (√v / √(1 - β2^t) + eps)

The bias corrections undo the zero initialisation of m and v; eps is added *after* the
square root and the correction, which is why the numbers differ slightly from the paper's
algorithm box.
"""
from __future__ import annotations

import math
import numbers

from .. import backend
from ..autograd import Tensor
from .. import fused
from ..fused import ElementwiseKernel
from .optimizer import Optimizer

__all__ = ["Adam"]

# Adam's update as one elementwise kernel: text that is both CUDA C and Python (see
# ``minigan.fused``). ``m``'s two forms are ``Optimizer._lerp_``'s, chosen by the weight
# ``w`` (1 - β1, or β1 for the far form). The other scalars, in the formula's terms above:
# b2 = β2, c2 = 1 - β2, bc2 = √(1 - β2^t), step = lr / (1 - β1^t).
_ADAM_ARGS = ("T g, T w, T b2, T c2, T bc2, T eps, T step", "T p, T m, T v")
_ADAM_REST = """
v = v * b2 + (g * g) * c2;
p = p - m / (sqrt(v) / bc2 + eps) * step;
"""
_ADAM_NEAR = ElementwiseKernel(*_ADAM_ARGS, "m = m + w * (g - m);" + _ADAM_REST,
                               "minigan_adam_near")
_ADAM_FAR = ElementwiseKernel(*_ADAM_ARGS, "m = g - (g - m) * w;" + _ADAM_REST,
                              "minigan_adam_far")


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if not lr >= 0.0:      # (NaN fails every comparison)
            raise ValueError(f"invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"invalid beta parameters: {betas}")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    # ---------------------------------------------------------------- one flat buffer
    # A small network has many small parameters (a 1-D GAN: 12 arrays of 1 to 1024 numbers),
    # and the per-parameter update below is ~15 NumPy calls each: the step costs Python, not
    # arithmetic. For such a group the moments live in two flat buffers (``state[p]['exp_avg']``
    # is a view into one, so ``state_dict`` is PyTorch's, per parameter), the gradients are
    # concatenated once, the update runs once over everything, and each parameter gets its
    # slice. Every element sees the same operations as in ``_step_arrays``: bit for bit the same
    # numbers. Large parameters (a DCGAN's) stay per parameter: there the concatenation would
    # be one more pass over memory for nothing.
    _FLAT_MAX_MEAN_SIZE = 65536

    def _step_group(self, group):
        params = group["params"]
        if group["amsgrad"] or group["maximize"] or group["weight_decay"] != 0 or not params:
            return False
        first = params[0].array
        if fused.use_kernels(backend.xp_of(first)):
            return False     # a GPU: one fused kernel per parameter is fewer launches still
        # One loop over the raw arrays (this runs every step, for a dozen small parameters):
        # every gradient present, one array type and dtype, the gradients' shapes the
        # parameters'; and the sizes, since the group must be small on average.
        kind, dtype, size, grads = type(first), first.dtype, 0, []
        for p in params:
            a, g = p.array, p.grad
            if g is None:
                return False
            ga = g.array
            if type(a) is not kind or a.dtype != dtype or ga.dtype != dtype or \
                    ga.shape != a.shape:
                return False
            size += a.size
            grads.append(ga.reshape(-1))
        if size > self._FLAT_MAX_MEAN_SIZE * len(params):
            return False
        flat = self._flat_state(group)
        if flat is None:
            return False
        m, v, g, slices, tms, tvs = flat
        xp = backend.xp_of(first)
        beta1, beta2 = group["betas"]
        xp.concatenate(grads, out=g)
        t = self.state[params[0]]["step"] + 1
        self._lerp_(m, g, 1 - beta1)
        tmp = xp.multiply(g, g, out=g)
        v *= beta2
        tmp *= 1 - beta2
        v += tmp
        denom = xp.sqrt(v, out=tmp)
        denom /= math.sqrt(1 - beta2 ** t)
        denom += group["eps"]
        update = xp.divide(m, denom, out=denom)
        update *= group["lr"] / (1 - beta1 ** t)
        state = self.state
        # slices: views of update in p's shape; tms, tvs: the state's exp_avg and exp_avg_sq
        for p, p_update, tm, tv in zip(params, slices, tms, tvs):
            state[p]["step"] = t
            tm._bump_version()
            tv._bump_version()
            xp.subtract(p.array, p_update, out=p.array)
            p._bump_version()
        return True

    def _flat_state(self, group):
        """(m, v, scratch, slices, exp_avgs, exp_avg_sqs): flat buffers whose slices are the
        group's ``exp_avg`` / ``exp_avg_sq`` (those Tensors, in the parameters' order), and a
        flat scratch buffer with a view of it in each parameter's shape
        (made on the first step, remade when ``load_state_dict`` replaced them), or None when
        the parameters' step counts differ (then the per-parameter path runs)."""
        params = group["params"]
        group_key = tuple([(id(p), p.array.shape) for p in params])   # reshaped p: rebuilt
        flat = getattr(self, "_flat", {}).get(group_key)
        if flat is not None:
            # the buffers are still the state's (load_state_dict replaces them), and every
            # parameter has taken the same number of steps
            state, tms, tvs, empty = self.state, flat[2], flat[3], {}
            step, i = state.get(params[0], empty).get("step"), 0
            for p in params:
                st = state.get(p, empty)
                if st.get("exp_avg") is not tms[i] or st.get("exp_avg_sq") is not tvs[i] or \
                        st.get("step") != step:
                    break
                i += 1
            else:
                if isinstance(step, numbers.Integral):
                    return flat[0], flat[1], flat[4], flat[5], tms, tvs
        steps = {self.state.get(p, {}).get("step", 0) for p in params}
        if len(steps) != 1 or not isinstance(next(iter(steps)), numbers.Integral):
            return None
        xp = backend.xp_of(params[0].array)
        total = sum(p.array.size for p in params)
        dtype = params[0].dtype
        m, v = xp.zeros(total, dtype=dtype), xp.zeros(total, dtype=dtype)
        scratch = xp.empty(total, dtype=dtype)
        tms, tvs, slices, start = [], [], [], 0
        for p in params:
            n = p.array.size
            slices.append(scratch[start:start + n].reshape(p.shape))
            state = self.state.setdefault(p, {"step": 0})
            for buf, key_, out in ((m, "exp_avg", tms), (v, "exp_avg_sq", tvs)):
                view = buf[start:start + n].reshape(p.shape)
                if key_ in state:
                    if state[key_].shape != p.shape:
                        raise ValueError(f"Adam: a parameter of shape {p.shape} has {key_} of "
                                         f"shape {state[key_].shape}; was it reshaped after "
                                         "steps were taken? Make a new optimizer for it")
                    view[...] = state[key_].array
                state[key_] = Tensor(view)
                out.append(state[key_])
            start += n
        if not hasattr(self, "_flat"):
            self._flat = {}
        self._flat[group_key] = (m, v, tms, tvs, scratch, slices)
        return m, v, scratch, slices, tms, tvs

    def _step_fused(self, p, g, m, v, group, t):
        """The same update as ``_step_arrays``, one kernel launch per parameter on a GPU
        (``minigan.fused``), the same roundings in the same order."""
        beta1, beta2 = group["betas"]
        if g.dtype != p.dtype:                # a gradient set by hand in another precision:
            g = g.astype(p.dtype)             # the kernel's T is one dtype for all its arrays
        weight = 1 - beta1                                   # as ``_lerp_`` chooses its form
        kernel, w = (_ADAM_NEAR, weight) if weight < 0.5 else (_ADAM_FAR, 1 - weight)
        kernel(g, w, beta2, 1 - beta2, math.sqrt(1 - beta2 ** t), group["eps"],
               group["lr"] / (1 - beta1 ** t), p.array, m, v)

    def _step_param(self, p, g, group):
        state = self._count_step(p)
        m = self._state_array(state, "exp_avg", p.array)
        v = self._state_array(state, "exp_avg_sq", p.array)
        t = state["step"]
        if fused.use_kernels(backend.xp_of(p.array)) and not group["amsgrad"]:
            self._step_fused(p, g, m, v, group, t)
        else:
            self._step_arrays(p, g, m, v, state, group, t)
        for key in ("exp_avg", "exp_avg_sq"):
            state[key]._bump_version()
        p._bump_version()

    def _step_arrays(self, p, g, m, v, state, group, t):
        """The update as array operations (the CPU's path, and amsgrad's everywhere)."""
        xp = backend.xp_of(p.array)
        beta1, beta2 = group["betas"]
        if group["amsgrad"]:
            vmax = self._state_array(state, "max_exp_avg_sq", p.array)
        self._lerp_(m, g, 1 - beta1)
        # The same operations as the formulas above, in one scratch buffer (out=) instead of
        # six fresh temporaries per parameter.
        tmp = xp.multiply(g, g)
        v *= beta2
        tmp *= 1 - beta2
        v += tmp
        bc2_sqrt = math.sqrt(1 - beta2 ** t)
        step_size = group["lr"] / (1 - beta1 ** t)
        if group["amsgrad"]:
            xp.maximum(vmax, v, out=vmax)
        denom = xp.sqrt(vmax if group["amsgrad"] else v, out=tmp)
        denom /= bc2_sqrt
        denom += group["eps"]
        update = xp.divide(m, denom, out=denom)        # m / denom
        update *= step_size
        xp.subtract(p.array, update, out=p.array)
