"""The standard layers, with PyTorch's names, arguments, weight layouts and default inits.

Each layer owns its Parameters and calls the functional form (``F.linear``, ``F.conv2d``,
``F.batch_norm`` ...) in ``forward``; the maths and its gradient live in ``minigan.ops``.
Keeping the two apart is what lets a student read a layer as "which weights, which function".

PyTorch's default initialisation is reproduced: weights ``kaiming_uniform_(a=√5)`` (that is
U(-1/√fan_in, 1/√fan_in)) and biases U(-1/√fan_in, 1/√fan_in).
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from .. import functional as F
from ..autograd import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
           "Embedding", "Dropout", "Flatten", "Unflatten", "Upsample", "ReLU", "LeakyReLU",
           "Tanh", "Sigmoid", "Softplus", "Identity", "InstanceNorm1d", "InstanceNorm2d",
           "Dropout2d", "Softmax", "LogSoftmax"]

np = backend.np


def _empty(*shape, dtype=None, device=None):
    """An uninitialised (zero) array for a new Parameter, on the requested device."""
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    xp = backend.get_xp(device)
    if xp is np:
        return np.zeros(shape, dtype=dtype)
    return backend.as_array(np.zeros(shape, dtype=dtype), device=device)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _reset_default(weight, bias):
    """PyTorch's default: kaiming_uniform_(a=√5) weights and U(±1/√fan_in) biases."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


# --------------------------------------------------------------------------------- linear
class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = (Parameter(_empty(out_features, dtype=dtype, device=device)) if bias
                     else None)
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_default(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


# ----------------------------------------------------------------------------- convolutions
class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, weight_shape, padding_mode, output_padding, device, dtype):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and "
                             f"out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode={padding_mode!r}: only 'zeros' is supported")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation = _pair(dilation)
        self.output_padding = _pair(output_padding)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(_empty(*weight_shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_default(self.weight, self.bias)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation over NCHW input; weight (C_out, C_in/groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        k = _pair(kernel_size)
        super().__init__(in_channels, out_channels, k, stride, padding, dilation, groups, bias,
                         (out_channels, in_channels // groups) + k, padding_mode, 0, device,
                         dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """The transposed ("fractionally-strided") convolution that DCGAN's generator upsamples
    with: the adjoint of Conv2d. Weight layout (C_in, C_out/groups, kH, kW), as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        k = _pair(kernel_size)
        super().__init__(in_channels, out_channels, k, stride, padding, dilation, groups, bias,
                         (in_channels, out_channels // groups) + k, padding_mode,
                         output_padding, device, dtype)

    def forward(self, x, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            # Pick the output_padding that gives the requested spatial size (as PyTorch).
            hw = tuple(output_size)[-2:]
            output_padding = tuple(
                hw[d] - ((x.shape[2 + d] - 1) * self.stride[d] - 2 * self.padding[d]
                         + self.dilation[d] * (self.kernel_size[d] - 1) + 1) for d in range(2))
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)


# ------------------------------------------------------------------------------ normalisation
class _BatchNorm(Module):
    """Batch normalisation (Ioffe & Szegedy 2015): normalise each channel by the batch's mean
    and variance in training, by running averages of them in evaluation.

    Running stats are buffers (saved, not trained): ``running_mean``, ``running_var`` (updated
    with the *unbiased* batch variance, as PyTorch) and ``num_batches_tracked``. With
    ``momentum=None`` the running stats are the cumulative average over all batches seen.
    """
    _expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = affine and bias
        if affine:
            self.weight = Parameter(_empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(_empty(num_features, dtype=dtype,
                                                               device=device)))
            self.register_buffer("running_var", Tensor(_empty(num_features, dtype=dtype,
                                                              device=device)))
            self.register_buffer("num_batches_tracked",
                                 Tensor(backend.as_array(np.array(0, dtype=np.int64),
                                                         device=device)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self._expected_dims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(map(str, self._expected_dims))}"
                             f"-D input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): the input has "
                             f"{x.shape[1]} channels (shape {x.shape})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array[...] += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        # Batch statistics in training, and in eval when no running stats are kept; the
        # running stats are updated only in training with tracking on (as PyTorch).
        use_batch = self.training or self.running_mean is None
        pass_stats = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if pass_stats else None,
                            self.running_var if pass_stats else None,
                            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs (per feature C)."""
    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs (per channel C, statistics over N, H, W)."""
    _expected_dims = (4,)


class _InstanceNorm(_BatchNorm):
    """Instance normalisation (Ulyanov et al. 2016): each channel of each sample is normalised
    by its own mean and variance over its spatial positions, in training and in evaluation.

    It keeps batch norm's parameters and buffers (PyTorch derives both from one base class),
    with other defaults: no affine weight and no running statistics. With
    ``track_running_stats=True`` the running estimates are updated in training and used in
    evaluation; ``momentum=None`` leaves them unchanged (PyTorch passes 0 then).
    An input without the batch dimension is normalised as a batch of one.
    """
    _expected_dims = ()       # the batched rank; one less is an unbatched input

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)

    def forward(self, x):
        batched = self._expected_dims[0]
        if x.ndim not in (batched - 1, batched):
            raise ValueError(f"{type(self).__name__}: expected {batched - 1}D or {batched}D "
                             f"input (got {x.ndim}D input, shape {x.shape})")
        feature_dim = x.ndim - (batched - 1)
        if x.shape[feature_dim] != self.num_features:
            msg = (f"{type(self).__name__}({self.num_features}): the input has "
                   f"{x.shape[feature_dim]} channels at dim={feature_dim} (shape {x.shape})")
            if self.affine or self.track_running_stats:
                raise ValueError(msg)
            # num_features is unused without weights or running stats: PyTorch only warns
            warnings.warn(msg + "; num_features is not used because affine=False",
                          stacklevel=2)
        if x.ndim == batched - 1:
            return self._normalise(x.unsqueeze(0)).squeeze(0)
        return self._normalise(x)

    def _normalise(self, x):
        # Instance statistics in training, and in evaluation unless running stats are kept.
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               0.0 if self.momentum is None else self.momentum, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) inputs (or (C, L)): per sample and channel, over L."""
    _expected_dims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) inputs (or (C, H, W)): per sample and channel, over
    H and W. CycleGAN's generator uses it: a translated image should not depend on the other
    images in its batch."""
    _expected_dims = (4,)


class LayerNorm(Module):
    """Normalise over the last dimensions (``normalized_shape``) of each example separately;
    the same in training and evaluation (no running statistics)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_empty(*self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_empty(*self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


# ------------------------------------------------------------------------------------- misc
class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) for index i
    (class embeddings of a conditional GAN). Initialised N(0, 1) as in PyTorch."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(_empty(num_embeddings, embedding_dim, dtype=dtype,
                                       device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, idx):
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by 1/(1-p), so the
    expected value is unchanged; the identity in evaluation."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) feature maps with probability p in training (one
    draw per sample and channel) and scale the kept ones by 1/(1-p); the identity in
    evaluation. Neighbouring pixels are correlated, so dropping single pixels of a map
    regularises little; dropping the map does."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): dimensions start_dim..end_dim merged into one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """The inverse of Flatten: dimension ``dim`` split into ``unflattened_size`` (a generator
    turns its Linear output (N, C·4·4) into feature maps (N, C, 4, 4))."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """Resize feature maps (``F.interpolate``): nearest or bilinear, by size or scale factor."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=self.mode,
                             align_corners=self.align_corners)

    def extra_repr(self):
        s = (f"size={self.size}" if self.size is not None
             else f"scale_factor={float(self.scale_factor) if not isinstance(self.scale_factor, (tuple, list)) else self.scale_factor}")
        return s + f", mode='{self.mode}'"


# ------------------------------------------------------------------------------- activations
class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """max(x, slope·x): DCGAN's discriminator uses slope 0.2 so that gradients flow for x < 0."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """The usual last layer of a generator: outputs in (-1, 1), like the scaled images."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    """log(1 + exp(beta·x)) / beta, linear above ``threshold`` for stability."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


def _softmax_dim(name, ndim):
    """PyTorch's implicit dim for Softmax(dim=None): 0 for 0-, 1- and 3-D inputs, else 1
    (a legacy guess, kept for old scripts, with PyTorch's warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class _SoftmaxFamily(Module):
    """What Softmax and LogSoftmax share: the function along ``dim`` (PyTorch's implicit
    choice, with its warning, when none is given)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        name = self.function.__name__
        dim = self.dim if self.dim is not None else _softmax_dim(name, x.ndim)
        return self.function(x, dim=dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxFamily):
    """exp(x_i) / sum_j exp(x_j) along ``dim``: a probability vector (the maximum is
    subtracted first, so large logits do not overflow)."""

    function = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxFamily):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x): finite where the log of a
    rounded softmax would be -inf. Pair it with NLLLoss (together: CrossEntropyLoss)."""

    function = staticmethod(F.log_softmax)


class Identity(Module):
    """Returns its input (a placeholder, e.g. "no normalisation")."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
