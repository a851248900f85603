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

**Starting from an encoder** (Zhu et al. 2016, section 3.1: "hybrid"). Random starts are
expensive: most of the search is spent walking from a random z to the right region of z-space.
iGAN trains a network E: x -> z once, to invert G (``train_encoder``), and starts the search at
E(x). The encoder alone is fast (one forward pass) but only approximately right (it is a
regression, and the real digits are not exactly on G's manifold); a few optimisation steps
from E(x) then refine it. ``invert(..., init=E)`` does that; ``compare_inversions`` measures
error and time of random restarts against the encoder start on the same images.
"""
from __future__ import annotations

import time

from .. import backend, optim
from ..autograd import Tensor, no_grad
from ..nn.module import Parameter
from ..ops import reduce as R

__all__ = ["invert", "train_encoder", "encode", "compare_inversions"]


def invert(generator, x, z_dim=None, steps=300, restarts=4, lr=0.05, prior_weight=0.0,
           seed=None, init=None):
    """Find z* minimising ||G(z) - x||² for each image of the batch ``x`` (N, C, H, W).

    All restarts of all images are optimised together, as one (restarts·N, z_dim) batch
    (each z only influences its own loss, so this is the same as separate searches, only
    faster). ``init``: where the first restart starts instead of a random z -- an encoder
    (a module x -> z, see ``train_encoder``) or codes (N, z_dim); the other restarts stay
    random. Returns a dict: ``z`` (N, z_dim) Tensor of the best codes, ``images`` G(z*)
    (N, C, H, W) Tensor, ``errors`` the per-image squared errors (mean over pixels, a host
    array), ``history`` the mean best error every 25 steps (and at the last step), ``times``
    the seconds since the start at those points, and ``seconds`` the whole search's time
    (the encoder's pass included).
    """
    t_start = time.perf_counter()
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
    if init is not None:
        z_init = _initial_codes(init, x)
        if tuple(z_init.shape) != (n, z_dim):
            raise ValueError(f"invert: init gives codes of shape {tuple(z_init.shape)}, "
                             f"need ({n}, {z_dim})")
        z0[:n] = z_init.astype(x.dtype)
    z = Parameter(Tensor(z0))
    target = Tensor(xp.concatenate([x.array] * restarts, axis=0))
    opt = optim.Adam([z], lr=lr)
    history, times = [], []
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
                times.append(time.perf_counter() - t_start)
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
    return {"z": Tensor(z_best), "images": Tensor(imgs), "errors": errors, "history": history,
            "times": times, "seconds": time.perf_counter() - t_start}


def _initial_codes(init, x):
    """The starting codes as a raw array on x's device: E(x) for an encoder, else ``init``."""
    if callable(init) and not isinstance(init, Tensor):
        return encode(init, x).array
    arr = init.array if isinstance(init, Tensor) else init
    return backend.as_array(arr, device=x.device)


def encode(encoder, x, batch=500):
    """E(x) in eval mode, in batches, without a graph: (N, z_dim) Tensor on x's device."""
    if not isinstance(x, Tensor):
        x = Tensor(backend.as_array(x))
    was_training = encoder.training
    encoder.eval()
    xp = backend.xp_of(x.array)
    try:
        with no_grad():
            out = [encoder(Tensor(x.array[i:i + batch])).array
                   for i in range(0, x.shape[0], batch)]
    finally:
        encoder.train(was_training)
    return Tensor(xp.concatenate(out, axis=0))


def train_encoder(generator, z_dim=None, steps=500, batch_size=64, lr=1e-3, real=None,
                  latent_weight=1.0, encoder=None, width=32, seed=0):
    """Train an encoder E: x -> z to invert the frozen generator (iGAN's predictive model).

    Each step draws z ~ N(0, I), makes x = G(z) (known to lie on G's manifold) and
    minimises, per image,

        ||G(E(x)) - x||² (mean over pixels)  +  latent_weight · ||E(x) - z||² / z_dim,

    the first term through the frozen G (what inversion wants: the same image back), the
    second a direct regression onto the code that made x (it steers E early, when G(E(x)) is
    far off). With ``real`` (training images, (M, C, H, W)), half of each batch is real
    images with the pixel term only, so E also learns the digits that are *not* exactly on
    G's manifold -- the held-out images it will meet are real, not generated. Never train
    on the images you evaluate on.

    ``encoder`` defaults to ``gan.models.autoencoder.Encoder`` (the DCGAN discriminator's
    conv stack with a z_dim-wide head) of ``width``, built for G's image size and channels.
    Returns ``(encoder, history)``: the trained encoder (in eval mode) and the mean loss of
    every 50 steps. G's weights are not touched; the random numbers come from
    ``backend.fork_rng(seed)``, so the caller's stream is left as it was.
    """
    from ..gan.models.autoencoder import Encoder
    z_dim = z_dim or getattr(generator, "z_dim", None)
    if z_dim is None:
        raise ValueError("train_encoder: pass z_dim (the generator has no z_dim attribute)")
    if steps < 1 or batch_size < 2:
        raise ValueError(f"train_encoder: need steps >= 1 and batch_size >= 2, got {steps}, "
                         f"{batch_size}")
    device = next(iter(generator.parameters())).device
    was_training = generator.training
    generator.eval()
    flags = [p.requires_grad for p in generator.parameters()]
    for p in generator.parameters():
        p.requires_grad = False
    if real is not None:
        real = real if isinstance(real, Tensor) else Tensor(backend.as_array(real,
                                                                             device=device))
    history, window = [], []
    try:
        with backend.fork_rng(seed):
            with no_grad():
                probe = generator(Tensor(backend.as_array(
                    backend.np.zeros((1, z_dim), dtype=backend.get_default_dtype()),
                    device=device)))
            if encoder is None:
                encoder = Encoder(z_dim, size=probe.shape[-1], width=width,
                                  channels=probe.shape[1]).to(device)
            opt = optim.Adam(encoder.parameters(), lr=lr, betas=(0.5, 0.999))
            encoder.train()
            n_fake = batch_size // 2 if real is not None else batch_size
            for _ in range(steps):
                z = Tensor(backend.generator(device).standard_normal((n_fake, z_dim))
                           .astype(probe.dtype))
                with no_grad():
                    x = generator(z)
                target = x
                if real is not None:
                    idx = backend.generator("cpu").integers(0, real.shape[0],
                                                            batch_size - n_fake)
                    xp = backend.xp_of(real.array)
                    picked = real.array[xp.asarray(idx) if xp is not backend.np else idx]
                    target = Tensor(xp.concatenate([x.array, picked], axis=0))
                code = encoder(target)
                diff = generator(code) - target
                loss = R.mean(diff * diff)
                if latent_weight:
                    dz = code[:n_fake] - z
                    loss = loss + latent_weight * R.mean(dz * dz) * (n_fake / batch_size)
                opt.zero_grad()
                loss.backward()
                opt.step()
                window.append(float(loss.item()))
                if len(window) == 50:
                    history.append(sum(window) / 50)
                    window = []
    finally:
        for p, f in zip(generator.parameters(), flags):
            p.requires_grad = f
        generator.train(was_training)
    encoder.eval()
    return encoder, history


def compare_inversions(generator, x, encoder, z_dim=None, steps=200, restarts=4, lr=0.05,
                       seed=0):
    """Error and time of three ways to invert G on the same images ``x``:

    * ``encoder``: E(x) alone (one forward pass);
    * ``encoder+opt``: E(x), then ``steps`` Adam steps on z (one start);
    * ``random``: ``restarts`` random starts, ``steps`` Adam steps each, best kept.

    Returns {name: {"mse", "seconds", "errors", "images", "history", "times"}} (errors per
    image as a host array, images as a host float32 array).
    """
    out = {}
    t = time.perf_counter()
    code = encode(encoder, x)
    with no_grad():
        was = generator.training
        generator.eval()
        img = generator(code)
        generator.train(was)
    xs = x.array if isinstance(x, Tensor) else backend.as_array(x, device=code.device)
    d = backend.to_numpy((img.array - xs).reshape(xs.shape[0], -1))
    err = (d * d).mean(axis=1)
    out["encoder"] = {"mse": float(err.mean()), "seconds": time.perf_counter() - t,
                      "errors": err, "images": backend.to_numpy(img.array), "history": [],
                      "times": []}
    for name, kw in (("encoder+opt", dict(restarts=1, init=encoder)),
                     ("random", dict(restarts=restarts))):
        r = invert(generator, x, z_dim=z_dim, steps=steps, lr=lr, seed=seed, **kw)
        out[name] = {"mse": float(r["errors"].mean()), "seconds": r["seconds"],
                     "errors": r["errors"], "images": backend.to_numpy(r["images"].array),
                     "history": r["history"], "times": r["times"]}
    return out
