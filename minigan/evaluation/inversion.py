"""GAN inversion: the closest point on the generator's manifold to a real image.

A generator has no encoder: given a real digit x, which z makes G(z) look like it? Zhu et al.
(2016, "Generative visual manipulation on the natural image manifold"; lecture notes 004,
"Finding the closest point on the manifold") answer by optimisation:

    z* = argmin_z ||G(z) - x||²

with the generator's weights frozen and gradient descent on z alone (Adam here). The problem
is not convex (G is a deep network), so it is solved from several random starting points
(*restarts*) and the best result per image is kept. What comes out says something about the
GAN: a small ||G(z*) - x|| means x lies close to G's manifold; a large one, or G(z*) being a
different digit, shows what G *cannot* produce (mode dropping). Compared with an autoencoder's
reconstruction, an inversion is sharper (G only draws digits) but usually further from x in
the L2 sense (the AE was trained for exactly that).

The generator is run in eval mode (batch norm from running statistics), so every image's
search is independent of the others in the batch. ``prior_weight`` > 0 adds
``prior_weight · |z|²``, keeping z where p(z) has mass (useful for long searches).
"""
from __future__ import annotations

from .. import backend, optim
from ..autograd import Tensor, no_grad
from ..nn.module import Parameter
from ..ops import reduce as R

__all__ = ["invert"]


def invert(generator, x, z_dim=None, steps=300, restarts=4, lr=0.05, prior_weight=0.0,
           seed=None):
    """Find z* minimising ||G(z) - x||² for each image of the batch ``x`` (N, C, H, W).

    All restarts of all images are optimised together, as one (restarts·N, z_dim) batch
    (each z only influences its own loss, so this is the same as separate searches, only
    faster). Returns a dict: ``z`` (N, z_dim) Tensor of the best codes, ``images`` G(z*)
    (N, C, H, W) Tensor, ``errors`` the per-image squared errors (mean over pixels, a host
    array), and ``history`` the mean best error every 25 steps.
    """
    if not isinstance(x, Tensor):
        x = Tensor(backend.as_array(x))
    z_dim = z_dim or getattr(generator, "z_dim", None)
    if z_dim is None:
        raise ValueError("invert: pass z_dim (the generator has no z_dim attribute)")
    if restarts < 1 or steps < 0:
        raise ValueError(f"invert: need restarts >= 1 and steps >= 0, got {restarts}, {steps}")
    was_training = generator.training
    generator.eval()
    flags = [p.requires_grad for p in generator.parameters()]
    for p in generator.parameters():
        p.requires_grad = False
    n = x.shape[0]
    xp = backend.xp_of(x.array)
    if seed is not None:
        z0 = backend.np.random.default_rng(seed).standard_normal((restarts * n, z_dim))
        z0 = backend.as_array(z0, dtype=x.dtype, device=x.device)
    else:
        z0 = backend.generator(x.device).standard_normal((restarts * n, z_dim)).astype(x.dtype)
    z = Parameter(Tensor(z0))
    target = Tensor(xp.concatenate([x.array] * restarts, axis=0))
    opt = optim.Adam([z], lr=lr)
    history = []
    try:
        for t in range(steps):
            diff = generator(z) - target
            per = R.sum((diff * diff).reshape(restarts * n, -1), axis=1)
            loss = R.sum(per)
            if prior_weight:
                loss = loss + prior_weight * R.sum(z * z)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if t % 25 == 0 or t == steps - 1:
                history.append(float(backend.to_numpy(per.array).reshape(restarts, n)
                                     .min(0).mean()) / x[0].numel())
        with no_grad():
            out = generator(z)
            d = (out - target).array.reshape(restarts, n, -1)
            err = (d * d).mean(axis=2)                          # (restarts, n)
            best = err.argmin(axis=0)
            cols = xp.arange(n)
            z_best = z.array.reshape(restarts, n, z_dim)[best, cols]
            imgs = out.array.reshape((restarts, n) + tuple(x.shape[1:]))[best, cols]
            errors = backend.to_numpy(err[best, cols])
    finally:
        for p, f in zip(generator.parameters(), flags):
            p.requires_grad = f
        generator.train(was_training)
    return {"z": Tensor(z_best), "images": Tensor(imgs), "errors": errors, "history": history}
