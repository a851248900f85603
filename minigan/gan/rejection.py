"""Discriminator rejection sampling (DRS; Azadi et al. 2019): use D after training to filter G.

A trained discriminator knows more than it gives away. For the standard GAN loss the optimal
discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)) (lecture notes 002), so its *logit*
is the log density ratio::

    logit D*(x) = log p_data(x) - log p_g(x)

Rejection sampling turns samples of p_g into samples of p_data: accept x ~ p_g with
probability p_data(x) / (M p_g(x)), where M bounds the ratio. With D's logit that is::

    accept(x) = exp(logit(x) - logit_max)

Samples that G puts *between* the modes (where D says "fake": a very negative logit) are
mostly thrown away; samples on a mode D still believes are kept. Azadi et al. add two
practical steps that this module follows:

* **fine-tune D** with G frozen, for a few hundred steps, since at the end of a GAN's training
  D is not the optimum for the final G (``fine_tune_discriminator``);
* a **shift gamma** on the acceptance logit, F(x) = logit(x) - logit_max - log(1 - exp(logit(x)
  - logit_max - eps)) - gamma, accept with probability sigmoid(F): it trades fidelity for the
  acceptance rate (gamma -> -inf accepts everything, larger gamma is stricter). With gamma = 0
  and a tiny eps, sigmoid(F) ~ exp(logit - logit_max): exact rejection sampling.

Exact rejection sampling can be unaffordable: one x where D's logit is huge (a rare sample on a
mode G nearly dropped, or D extrapolating far from the data) sets logit_max, and the rate 1/M
falls to a fraction of a percent. ``gamma="auto"`` (the default) keeps the exact test while it
accepts at least about ``min_rate`` of a batch, and otherwise lowers gamma to the
(1 - min_rate) quantile of F over the batch, as the paper does with its percentile rule; the
kept samples are then only approximately p_data's.

PacGAN's discriminator judges packs of m samples, but its optimum still factorises: packs of
independent draws have density prod p(x_i), so::

    logit D*(x_1, ..., x_m) = sum_i log p_data(x_i) / p_g(x_i)

Pack a candidate x with m - 1 *fixed* partners y and the logit is log r(x) plus a constant,
which DRS's logit_max removes; ``packed_log_ratio`` averages over a few partner sets (the
trained D is only approximately additive). Partners are G's own samples, so each pack
[x, y...] is an ordinary fake pack: the input D was trained on.

This is *post-hoc*: G is unchanged; sampling costs 1 / (acceptance rate) forward passes of G
and D per kept sample. The mode study reports it as a separate, labelled row.
"""
from __future__ import annotations

from .. import backend, no_grad
from .train import GANTrainer, _device_of

np = backend.np      # host-side: the accept/reject bookkeeping runs on the logits copied to NumPy

__all__ = ["fine_tune_discriminator", "packed_log_ratio", "rejection_sample"]


def fine_tune_discriminator(G, D, d_optimizer, data, noise, steps=500, batch_size=512,
                            objective="nsgan", device=None):
    """``steps`` discriminator updates with G frozen (the DRS paper's calibration step)."""
    if objective not in ("gan", "nsgan"):
        raise ValueError("discriminator rejection sampling needs D's logit to estimate "
                         f"log p_data/p_g: the objective must be 'gan' or 'nsgan', got {objective!r}")
    # A trainer with k = steps and no generator step: d_step is exactly Algorithm 1's D update.
    tr = GANTrainer(G, D, None, d_optimizer, data, noise, objective=objective,
                    batch_size=batch_size, device=device, progress=False)
    for i in range(int(steps)):
        tr.d_step(i)
    return D


def packed_log_ratio(D, m, partners, repeats=4):
    """A per-sample logit ~ log p_data(x)/p_g(x) (up to a constant) from a packed D.

    ``D`` maps (N*m, d) rows, packed m consecutive rows at a time, to N logits (PacGAN's
    ``Packed`` module, optionally behind an input affine). ``partners``: a Tensor of at least
    ``repeats * (m - 1)`` samples of G; set r packs each x with partners[r*(m-1):(r+1)*(m-1)].
    Returns a callable x -> Tensor of shape (N, 1), usable as ``D`` in ``rejection_sample``.
    """
    from .. import as_tensor
    m, repeats = int(m), int(repeats)
    if m < 2:
        raise ValueError(f"packed_log_ratio: pack size m must be >= 2, got {m}")
    p = partners.array.reshape(partners.shape[0], -1)
    need = repeats * (m - 1)
    if p.shape[0] < need:
        raise ValueError(f"packed_log_ratio: {repeats} repeats of {m - 1} partners need "
                         f"{need} samples, got {p.shape[0]}")

    def logit(x):
        xd = x.array.reshape(x.shape[0], -1)
        n, d = xd.shape
        xp = backend.xp_of(xd)
        ps = p if backend.xp_of(p) is xp else backend.as_array(p, device=backend.device_of(xd))
        total = 0.0
        for r in range(repeats):                      # a handful of D passes, not a pixel loop
            ys = ps[r * (m - 1):(r + 1) * (m - 1)]
            packs = xp.concatenate([xd[:, None, :],
                                    xp.broadcast_to(ys[None], (n, m - 1, d))], axis=1)
            total = total + D(as_tensor(packs.reshape(n * m, d))).array.reshape(n)
        return as_tensor((total / repeats).reshape(n, 1))
    return logit


def _logits(G, D, noise, n, device, chunk=8192):
    # G's noise goes where G's weights are unless a device is given: never an implicit CPU.
    device = device if device is not None else _device_of(G)
    xs, ls = [], []
    with no_grad():
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            x = G(noise(m, device) if callable(noise) else noise.sample(m, device))
            xs.append(backend.to_numpy(x.array).reshape(m, -1))
            ls.append(backend.to_numpy(D(x).array).reshape(m))
    return np.concatenate(xs), np.concatenate(ls).astype(np.float64)


def rejection_sample(G, D, noise, n, gamma="auto", eps=1e-6, burn_in=10_000, device=None,
                     max_draws=None, rng=None, min_rate=0.05):
    """``n`` samples of G kept by DRS. Returns (samples (n, d), acceptance rate).

    ``logit_max`` is estimated from ``burn_in`` samples and raised whenever a larger logit
    shows up (as in the paper). ``max_draws`` (default 200 n) stops a D that rejects almost
    everything with a clear error instead of looping for ever.
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"rejection_sample: n must be >= 1, got {n}")
    rng = rng if rng is not None else np.random.default_rng(0)
    max_draws = int(max_draws or 200 * n)
    _, burn = _logits(G, D, noise, int(burn_in), device)
    logit_max = float(burn.max())
    kept, drawn = [], 0
    have = 0
    while have < n:
        if drawn >= max_draws:
            raise RuntimeError(f"rejection_sample: kept {have} of {n} samples after {drawn} "
                               "draws; the acceptance rate is too low (lower gamma, or "
                               "fine-tune D less)")
        m = max(1024, 2 * (n - have))
        x, logit = _logits(G, D, noise, m, device)
        drawn += m
        logit_max = max(logit_max, float(logit.max()))
        delta = logit - logit_max
        f = delta - np.log1p(-np.exp(delta - eps))
        if gamma == "auto":
            f -= min(0.0, float(np.quantile(f, 1.0 - min_rate)))
        else:
            f -= float(gamma)
        from scipy.special import expit  # sigmoid without overflow warnings
        accept = rng.random(m) < expit(f)
        kept.append(x[accept])
        have += int(accept.sum())
    out = np.concatenate(kept)[:n]
    return out.astype(np.float32), have / drawn
