"""The "improved techniques" of Salimans et al. (2016), "Improved Techniques for Training GANs".

Their section 3 lists tricks that make the GAN game less likely to circle or collapse. Each is
small; each is a switch of ``GANTrainer`` (or of the DCGAN's networks), so it can be measured
alone against the plain DCGAN (``python -m minigan images --model dcgan --data mnist`` with
``--feature-matching``, ``--label-smoothing``, ``--historical-averaging``,
``--virtual-batchnorm``, ``--minibatch-disc``; lesson 19 puts the numbers side by side).

* **Feature matching** (3.1). G stops maximising D's output and instead matches the *mean
  features* of real and generated data at an intermediate layer f of D::

      L_G = || E_x f(x) - E_z f(G(z)) ||² / dim f

  D trains as usual and keeps telling G *which* statistics differ; G chases a moving target
  of expectations, not a single point D happens to like, which is harder to overshoot.
  (``feature_matching_loss``; D must have a ``features(x)`` method.)

* **Minibatch discrimination** (3.2) lets D see the whole batch: ``nn.MinibatchDiscrimination``
  (in the engine's GAN layers; the DCGAN discriminator takes it as ``minibatch_kernels``).

* **Historical averaging** (3.3). Each player's cost gets ``λ ||θ - θ̄||²``, θ̄ the average of
  the player's past parameters: a pull towards the centre of an orbit, the classic remedy for
  fictitious-play games that cycle. (``HistoricalAverage``; the gradient is ``2λ(θ - θ̄)``.)

* **One-sided label smoothing** (3.4). D's target for real data is 1 - α (0.9), for fakes
  still 0. Smoothing the real side only keeps D from growing huge logits on real data (its
  gradient to G stays informative); smoothing the fake side too would reward G for staying
  where the data is not (the optimal D becomes (p_data (1-α) + β p_g) / (p_data + p_g)).
  (``d_loss_one_sided_smoothing``.)

* **Virtual batch norm** (3.5). Batch norm makes G's output for one z depend on the other z
  of its batch. VBN normalises every example with the statistics of a *fixed reference batch*
  (drawn once) plus the example itself, so G(z) is a function of z alone, at the cost of a
  forward pass of the reference batch every time G runs. (``VirtualBatchNorm2d``,
  ``forward_with_reference``.)

Everything here is written with Tensor operations, so it runs on either device.
"""
from __future__ import annotations

from .. import backend, nn
from ..autograd import no_grad
from ..ops import elementwise as E
from ..ops import reduce as R

__all__ = ["d_loss_one_sided_smoothing", "feature_matching_loss", "HistoricalAverage",
           "VirtualBatchNorm2d", "forward_with_reference"]


# ------------------------------------------------------------------ one-sided label smoothing
def d_loss_one_sided_smoothing(real_logits, fake_logits, smoothing=0.1):
    """D's binary cross-entropy with target 1 - ``smoothing`` for real data and 0 for fakes.

    BCE(t, y) = y softplus(-t) + (1 - y) softplus(t), so with y = 1 - α on the real half::

        L_D = mean[(1-α) softplus(-t_real) + α softplus(t_real)] + mean softplus(t_fake)

    With α = 0 it is ``losses.d_loss_minimax``. Its minimiser on real data is D(x) = 1 - α
    instead of 1: the logit stops at log((1-α)/α) (2.2 for α = 0.1) rather than growing forever.
    """
    a = float(smoothing)
    if not 0.0 <= a < 0.5:
        raise ValueError(f"one-sided label smoothing: the smoothing α must be in [0, 0.5) (the "
                         f"real target is 1 - α), got {smoothing}")
    real = R.mean(E.softplus(-real_logits) * (1.0 - a) + E.softplus(real_logits) * a)
    return real + R.mean(E.softplus(fake_logits))


# ------------------------------------------------------------------------- feature matching
def feature_matching_loss(real_features, fake_features):
    """||mean_x f(x) - mean_z f(G(z))||² / dim: the generator's feature-matching loss.

    ``real_features`` (N, ...) need no gradient (compute them under ``no_grad``);
    ``fake_features`` (M, ...) carry G's graph. Dividing by the feature count keeps the loss's
    scale independent of D's width (Adam would undo the scale anyway; the log stays readable).
    """
    if tuple(real_features.shape[1:]) != tuple(fake_features.shape[1:]):
        raise ValueError(f"feature matching: real features {real_features.shape} and fake "
                         f"features {fake_features.shape} differ beyond the batch axis")
    n_r, n_f = real_features.shape[0], fake_features.shape[0]
    diff = (R.mean(real_features.reshape(n_r, -1), axis=0)
            - R.mean(fake_features.reshape(n_f, -1), axis=0))
    return R.mean(diff * diff)


# ---------------------------------------------------------------------- historical averaging
class HistoricalAverage(nn.Module):
    """λ ||θ - θ̄||² for a player, θ̄ the running mean of its parameters over all past steps.

    ``penalty()`` is the term to add to the player's loss (a Tensor with a graph to θ);
    ``update()`` folds the parameters after the optimizer step into θ̄
    (θ̄ <- θ̄ + (θ - θ̄) / (t + 1)). The averages and the count are buffers, so the module
    checkpoints and resumes with the trainer's other modules. The sum runs over every weight
    of the player: λ is per weight, as in the paper's formula.
    """

    def __init__(self, module, weight=1e-3):
        super().__init__()
        if float(weight) <= 0:
            raise ValueError(f"historical averaging: the weight λ must be > 0, got {weight}")
        self.weight = float(weight)
        self._params = list(module.parameters())      # plain list: not submodules of ours
        for i, p in enumerate(self._params):
            self.register_buffer(f"mean_{i}", p.detach().clone())
        xp = backend.xp_of(self._params[0].array)
        from ..autograd import Tensor
        self.register_buffer("count", Tensor(xp.ones((), dtype=self._params[0].dtype)))

    def _means(self):
        return [getattr(self, f"mean_{i}") for i in range(len(self._params))]

    def penalty(self):
        total = None
        for p, m in zip(self._params, self._means()):
            d = p - m
            term = R.sum(d * d)
            total = term if total is None else total + term
        return total * self.weight

    def update(self):
        with no_grad():
            t = self.count.array + 1
            for p, m in zip(self._params, self._means()):
                m.array += (p.array - m.array) / t
            self.count.array[...] = t

    def extra_repr(self):
        return f"weight={self.weight}, tensors={len(self._params)}"


# ------------------------------------------------------------------------ virtual batch norm
class VirtualBatchNorm2d(nn.Module):
    """Batch norm with the statistics of a fixed reference batch plus the example itself.

    Two modes, which ``forward_with_reference`` switches:

    * *reference*: the reference batch passes through; it is normalised with its own batch
      statistics (plain batch norm) and the layer keeps its mean and mean square per channel;
    * *virtual*: every example i is normalised with
      mean_i = (R·mean_ref + m_i) / (R + 1) and var_i = (R·sq_ref + s_i) / (R + 1) - mean_i²,
      m_i, s_i the example's own mean and mean square over its H×W positions, R the
      reference batch's size. No other example of the batch enters, so G(z) depends on z alone.

    The reference statistics are computed with the current weights every time G runs (with
    their graph in training: G's gradient flows through them, as in the paper), so there are
    no running statistics and ``eval()`` changes nothing. ``weight``/``bias`` are the affine
    γ, β of batch norm (PyTorch's names), initialised to 1 and 0.
    """

    def __init__(self, num_features, eps=1e-5, device=None, dtype=None):
        super().__init__()
        from ..creation import ones, zeros
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(ones(num_features, device=device, dtype=dtype))
        self.bias = nn.Parameter(zeros(num_features, device=device, dtype=dtype))
        self.reference = None        # (mean, mean square, R) while in virtual mode

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"VirtualBatchNorm2d({self.num_features}): expected (N, "
                             f"{self.num_features}, H, W) input, got shape {x.shape}")
        shape = (1, self.num_features, 1, 1)
        if self.reference is None:                         # reference mode: own batch stats
            mean = R.mean(x, axis=(0, 2, 3), keepdims=True)
            sq = R.mean(x * x, axis=(0, 2, 3), keepdims=True)
            self._recorded = (mean, sq, x.shape[0])
        else:                                              # virtual mode: ref + the example
            ref_mean, ref_sq, r = self.reference
            own_mean = R.mean(x, axis=(2, 3), keepdims=True)
            own_sq = R.mean(x * x, axis=(2, 3), keepdims=True)
            mean = (ref_mean * r + own_mean) / (r + 1)
            sq = (ref_sq * r + own_sq) / (r + 1)
        var = E.relu(sq - mean * mean)                     # >= 0 despite rounding
        x_hat = (x - mean) / E.sqrt(var + self.eps)
        return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}"


def forward_with_reference(net, reference_input, x):
    """``net(x)`` with every ``VirtualBatchNorm2d`` in ``net`` normalising by the statistics
    that ``reference_input`` produces in it: one pass of the reference batch (reference mode),
    then one of x (virtual mode). The reference statistics are released afterwards."""
    layers = [m for m in net.modules() if isinstance(m, VirtualBatchNorm2d)]
    if not layers:
        raise ValueError("forward_with_reference: the network has no VirtualBatchNorm2d")
    for m in layers:
        m.reference = None
    net(reference_input)
    # Layer by layer, each virtual-mode layer must see the statistics of the reference batch
    # *at that layer*, which the reference pass recorded on the way through.
    for m in layers:
        m.reference = m._recorded
    try:
        return net(x)
    finally:
        for m in layers:
            m.reference = m._recorded = None
