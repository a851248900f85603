"""Layers from the GAN papers of the lecture notes.

* ``SelfAttention2d`` — SAGAN (Zhang et al. 2019): every position looks at every other.
* ``spectral_norm`` — Miyato et al. (2018): divide a weight by its largest singular value, so
  the layer is 1-Lipschitz and the discriminator cannot become arbitrarily steep.
* ``MinibatchDiscrimination`` — Salimans et al. (2016): give D a feature that measures how
  similar an example is to the rest of its batch, so a collapsed generator is easy to spot.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor, no_grad
from ..creation import zeros
from ..ops.elementwise import exp
from ..ops.matmul import matmul
from ..ops.reduce import softmax
from ..ops.shape import cat
from . import init
from .layers import Conv2d, ConvTranspose2d
from .module import Module, Parameter

__all__ = ["SelfAttention2d", "spectral_norm", "remove_spectral_norm", "SpectralNorm",
           "MinibatchDiscrimination"]


# ----------------------------------------------------------------------------- self-attention
class SelfAttention2d(Module):
    """SAGAN self-attention over the H·W positions of a feature map.

    With 1×1 convolutions f (query), g (key) — C/8 channels each — and h (value, C channels),
    for N = H·W positions::

        s_ij  = f(x_i)ᵀ g(x_j)             (N × N energies)
        β_ij  = softmax_j(s_ij)             (row i: where position i looks)
        o_i   = Σ_j β_ij h(x_j)
        y     = γ·o + x                     (γ learned, initialised 0)

    γ = 0 at the start means the block begins as the identity and learns how much non-local
    evidence to mix in. The last attention map β (shape (B, N, N)) is kept in
    ``self.attention`` for plotting.
    """

    def __init__(self, in_channels, key_channels=None, device=None, dtype=None):
        super().__init__()
        key_channels = key_channels or max(in_channels // 8, 1)
        self.in_channels, self.key_channels = in_channels, key_channels
        kw = {"device": device, "dtype": dtype}
        self.query = Conv2d(in_channels, key_channels, 1, **kw)
        self.key = Conv2d(in_channels, key_channels, 1, **kw)
        self.value = Conv2d(in_channels, in_channels, 1, **kw)
        # Created like every other parameter (``device`` or the default device): a raw NumPy
        # zero here would put gamma on the CPU while the convolutions sit on the GPU.
        self.gamma = Parameter(zeros(1, **kw))
        self.attention = None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"SelfAttention2d({self.in_channels}): expected (N, "
                             f"{self.in_channels}, H, W) input, got shape {x.shape}")
        b, c, h, w = x.shape
        n = h * w
        q = self.query(x).reshape(b, self.key_channels, n)      # (B, C', N)
        k = self.key(x).reshape(b, self.key_channels, n)        # (B, C', N)
        v = self.value(x).reshape(b, c, n)                      # (B, C, N)
        energy = matmul(q.swapaxes(1, 2), k)                    # (B, N, N): s_ij
        attn = softmax(energy, dim=-1)                          # softmax over j
        self.attention = attn.detach()
        out = matmul(v, attn.swapaxes(1, 2))                    # o_i = Σ_j β_ij v_j
        return self.gamma * out.reshape(b, c, h, w) + x

    def extra_repr(self):
        return f"in_channels={self.in_channels}, key_channels={self.key_channels}"


# ------------------------------------------------------------------------------ spectral norm
def _normalize(xp, v, eps):
    return v / max(float(xp.linalg.norm(v)), eps)


class SpectralNorm:
    """The forward pre-hook behind ``spectral_norm``: recompute ``module.<name>`` as
    ``<name>_orig / σ`` before every forward.

    σ, the largest singular value of W (reshaped to a matrix), is estimated by power
    iteration with vectors u and v kept between calls (buffers ``<name>_u`` and
    ``<name>_v``)::

        v ← normalise(Wᵀu),  u ← normalise(W v),  σ ≈ uᵀ W v

    One iteration per training step suffices because W changes slowly, so u keeps tracking
    the top singular vector. u and v are constants for the gradient (computed under
    no_grad); σ = uᵀWv is differentiated through W, as in Miyato et al. and PyTorch. In eval
    mode no iteration runs and the stored u, v are used.
    """

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations < 0:
            raise ValueError("n_power_iterations must be >= 0")
        self.name, self.dim = name, dim
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def weight_matrix(self, weight):
        """W as a (size(dim), rest) matrix."""
        if self.dim != 0:
            axes = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*axes)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        w_mat = self.weight_matrix(weight)
        if do_power_iteration:
            xp = backend.xp_of(w_mat.array)
            wm = w_mat.array
            uu, vv = u.array, v.array
            for _ in range(self.n_power_iterations):
                vv = _normalize(xp, wm.T @ uu, self.eps)
                uu = _normalize(xp, wm @ vv, self.eps)
            if self.n_power_iterations > 0:
                # In place: the buffers are the persistent state (saved with the model).
                u.array[...] = uu
                v.array[...] = vv
                u._bump_version()
                v._bump_version()
            # Fresh constants for this forward, so that a later in-place update of the
            # buffers cannot invalidate this graph.
            u, v = Tensor(uu.copy()), Tensor(vv.copy())
        sigma = (u * matmul(w_mat, v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"cannot register two spectral_norm hooks on the same "
                                   f"parameter {name!r}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
        with no_grad():
            w_mat = fn.weight_matrix(weight).array
            h, w = w_mat.shape
            xp = backend.xp_of(w_mat)
            u = Tensor(xp.zeros(h, dtype=weight.dtype))
            v = Tensor(xp.zeros(w, dtype=weight.dtype))
            init.normal_(u)
            init.normal_(v)
            u.array[...] = _normalize(xp, u.array, eps)
            v.array[...] = _normalize(xp, v.array, eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        # The plain attribute ``module.weight`` holds the normalised weight; it is recomputed
        # (and so part of the graph) at every forward.
        object.__setattr__(module, name, Tensor(weight.array))
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Wrap ``module.<name>`` with spectral normalisation and return the module.

    The trained parameter becomes ``<name>_orig``; ``<name>`` is recomputed as
    ``<name>_orig / σ(<name>_orig)`` before each forward. ``dim`` is the output dimension
    (0, or 1 for transposed convolutions, whose weight is (C_in, C_out, k, k)), as PyTorch.

        D = Sequential(spectral_norm(Conv2d(1, 64, 4, 2, 1)), LeakyReLU(0.1), ...)
    """
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a Parameter holding the normalised weight."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module, False)
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"]
            del module._buffers[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight.array.copy()))
            return module
    raise ValueError(f"spectral_norm of {name!r} not found in {module!r}")


# ------------------------------------------------------------------ minibatch discrimination
class MinibatchDiscrimination(Module):
    """Salimans et al. (2016), section 3.2: features that see the whole batch.

    For features f(x_i) ∈ R^A and a learned tensor T ∈ R^{A×B×C}::

        M_i      = f(x_i) · T                       (a B×C matrix per example)
        c_b(i,j) = exp(-‖M_{i,b} - M_{j,b}‖_1)      (L1 over the C kernel dims)
        o(x_i)_b = Σ_{j≠i} c_b(i,j)
        output   = concat(f(x_i), o(x_i))           (A + B features)

    If the generator collapses, its samples are all close, o is large, and the
    discriminator notices at once. Output shape (N, in_features + out_features).
    """

    def __init__(self, in_features, out_features, kernel_dims, mean=False, device=None,
                 dtype=None):
        super().__init__()
        if int(out_features) < 1 or int(kernel_dims) < 1:
            # an empty T would give every sample the same closeness: D would silently ignore it
            raise ValueError(f"MinibatchDiscrimination: out_features (kernels) and kernel_dims "
                             f"must be >= 1, got {out_features} and {kernel_dims}")
        self.in_features, self.out_features = in_features, out_features
        self.kernel_dims, self.mean = kernel_dims, mean
        # On ``device`` (the default device unless given), so init.normal_ draws from that
        # device's generator and the layer sits where the rest of D is.
        self.T = Parameter(zeros(in_features, out_features, kernel_dims, device=device,
                                 dtype=dtype))
        init.normal_(self.T, 0.0, 1.0)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MinibatchDiscrimination({self.in_features}, ...): expected "
                             f"(N, {self.in_features}) input, got shape {x.shape}")
        n = x.shape[0]
        t = self.T.reshape(self.in_features, self.out_features * self.kernel_dims)
        m = matmul(x, t).reshape(n, 1, self.out_features, self.kernel_dims)   # (N, 1, B, C)
        diff = m - m.reshape(1, n, self.out_features, self.kernel_dims)       # (N, N, B, C)
        l1 = diff.abs().sum(axis=3)                                           # (N, N, B)
        o = exp(-l1).sum(axis=1) - 1.0       # exclude j = i, whose term is exp(0) = 1
        if self.mean:
            o = o / max(n - 1, 1)
        return cat([x, o], dim=1)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"kernel_dims={self.kernel_dims}")
