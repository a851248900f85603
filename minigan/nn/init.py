"""Weight initialisers (``minigan.nn.init``), with PyTorch's names, formulas and defaults.

Why initialisation matters: with n inputs of unit variance and weights of variance s², a
linear unit's output has variance n·s². Keep n·s² ≈ 1 (times a *gain* that undoes what the
nonlinearity removes, √2 for ReLU) and the signal neither explodes nor dies through the
layers. That is Glorot/Xavier (averaging fan-in and fan-out) and He/Kaiming (fan-in only).

Every function works in place on the tensor's array under ``no_grad`` (a Parameter may be
initialised after it was created) and returns the tensor. Random draws come from the device's
generator, so ``minigan.manual_seed`` makes an initialisation repeat exactly.

``dcgan_init`` is the recipe of Radford et al. (2016): conv weights N(0, 0.02), BatchNorm
weights N(1, 0.02), biases 0. Use ``model.apply(dcgan_init)``.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_", "eye_", "dcgan_init"]


def _check(tensor, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{what}: needs a floating tensor, got {tensor.dtype}")


def _fill(tensor, arr):
    """Write ``arr`` into the tensor's array in place (the Parameter object stays the same)."""
    xp = backend.xp_of(tensor.array)
    tensor.array[...] = xp.asarray(arr, dtype=tensor.dtype).reshape(tensor.shape)
    tensor._bump_version()
    return tensor


def _gen(tensor):
    return backend.generator(tensor.device)


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance after the nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (PyTorch's rule,
    which for a transposed conv's (C_in, C_out, k, k) weight uses C_out as "fan in")."""
    if tensor.ndim < 2:
        raise ValueError("fan in and fan out need a tensor with at least 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b)."""
    _check(tensor, "uniform_")
    u = _gen(tensor).random(tensor.shape, dtype=backend.np.float64 if tensor.dtype ==
                            backend.np.float64 else backend.np.float32)
    return _fill(tensor, u * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std²)."""
    _check(tensor, "normal_")
    z = _gen(tensor).standard_normal(tensor.shape, dtype=backend.np.float64 if tensor.dtype ==
                                     backend.np.float64 else backend.np.float32)
    return _fill(tensor, z * std + mean)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """N(mean, std²) restricted to [a, b], by redrawing the samples that fall outside."""
    _check(tensor, "trunc_normal_")
    xp = backend.xp_of(tensor.array)
    g = _gen(tensor)
    out = g.standard_normal(tensor.shape) * std + mean
    bad = (out < a) | (out > b)
    while bool(bad.any()):
        out = xp.where(bad, g.standard_normal(tensor.shape) * std + mean, out)
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor, val):
    _check(tensor, "constant_")
    tensor.array[...] = val
    tensor._bump_version()
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError("eye_ needs a 2-D tensor")
    xp = backend.xp_of(tensor.array)
    return _fill(tensor, xp.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0):
    """Glorot: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Glorot: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: U(-b, b) with b = gain·√(3 / fan). PyTorch's default Linear/Conv weight init is
    this with a = √5 (which works out to U(-1/√fan_in, 1/√fan_in))."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: N(0, std²) with std = gain / √fan."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (Saxe et al.),
    with the signs fixed by diag(R) so that the distribution is uniform (Haar)."""
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("orthogonal_ needs a tensor with at least 2 dimensions")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = backend.xp_of(tensor.array)
    flat = _gen(tensor).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, q * gain)


def dcgan_init(module):
    """The DCGAN initialisation, for ``model.apply(dcgan_init)``.

    Conv / ConvTranspose / Linear weights ~ N(0, 0.02); BatchNorm weights ~ N(1, 0.02);
    every bias 0. (Radford et al. 2016, section 4: "All weights were initialized from a
    zero-centered Normal distribution with standard deviation 0.02".)
    """
    name = type(module).__name__
    weight = module._parameters.get("weight", module._parameters.get("weight_orig"))
    bias = module._parameters.get("bias")
    if name.startswith("BatchNorm"):
        if weight is not None:
            normal_(weight, 1.0, 0.02)
        if bias is not None:
            zeros_(bias)
    elif name.startswith("Conv") or name == "Linear":
        if weight is not None:
            normal_(weight, 0.0, 0.02)
        if bias is not None:
            zeros_(bias)
    return module
