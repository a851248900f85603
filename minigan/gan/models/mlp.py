"""Small multilayer perceptrons for the 1-D and 2-D toys: a generator and a discriminator.

Both are plain ``nn.Sequential`` stacks of ``Linear`` layers, so a student can print them and
see every weight. The discriminator ends in a single *logit* (no sigmoid): the losses in
``minigan.gan.losses`` take logits, which is what keeps them finite when D saturates.
"""
from __future__ import annotations

__all__ = ["mlp_generator", "mlp_discriminator", "affine", "as_numpy_fn"]

_ACTIVATIONS = ("leaky_relu", "relu", "tanh")


def _activation(nn, name):
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "relu":
        return nn.ReLU()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(_ACTIVATIONS)}")


def affine(shift=0.0, scale=1.0):
    """A fixed (not trained) layer y = (x - shift) / scale.

    Networks learn fastest on inputs of order 1 centred at 0. The 1-D toys live around x = 4,
    so the discriminator first standardises its input, and the generator's last layer
    un-standardises its output (``affine(-shift / scale, 1 / scale)``, i.e. x = shift +
    scale * y). This is the same data normalisation every image GAN does to its pixels.
    """
    from ... import nn

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.shift, self.scale = float(shift), float(scale)

        def forward(self, x):
            return (x - self.shift) * (1.0 / self.scale)

        def extra_repr(self):
            return f"shift={self.shift:g}, scale={self.scale:g}"
    return Affine()


def _mlp(sizes, activation):
    from ... import nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(_activation(nn, activation))
    return nn.Sequential(*layers)


def mlp_generator(z_dim=1, x_dim=1, hidden=32, depth=2, activation="tanh", shift=0.0,
                  scale=1.0):
    """G: R^z_dim -> R^x_dim, ``depth`` hidden layers of ``hidden`` units, a linear output.

    A smooth activation (tanh) gives a smooth G, hence a smooth p_g that the change of
    variables computes accurately; ``leaky_relu`` gives a piecewise-linear G (a p_g made of
    flat steps, one per linear piece). The output is ``shift + scale * network(z)``: pass
    the data's rough centre and spread so the network itself works at order 1.
    """
    net = _mlp([z_dim] + [hidden] * depth + [x_dim], activation)
    if shift != 0.0 or scale != 1.0:
        net.append(affine(-shift / scale, 1.0 / scale))
    return net


def mlp_discriminator(x_dim=1, hidden=32, depth=2, activation="leaky_relu", shift=0.0,
                      scale=1.0):
    """D: R^x_dim -> one logit per example, shape (N, 1). D(x) = sigmoid(logit).

    The input is first standardised, (x - shift) / scale, by a fixed layer.
    """
    net = _mlp([x_dim] + [hidden] * depth + [1], activation)
    if shift != 0.0 or scale != 1.0:
        from ... import nn
        net = nn.Sequential(affine(shift, scale), *list(net))
    return net


def as_numpy_fn(module, device=None, batch=65536):
    """Wrap a 1-input network as ``f(array) -> array`` on the host, for theory and plots.

    The input is a NumPy array of shape (n,) or (n, d); it is run through the module in
    batches under ``no_grad`` (in the module's float dtype) and the output comes back as a
    float64 NumPy array, squeezed to (n,) when the module has one output.

    The batches go to the device the module's parameters are on (``device`` only for a
    module without parameters; the default device if that is None too): a network pinned to
    the CPU stays usable when ``$MINIGAN_DEVICE`` says cuda, and the other way round.
    """
    import minigan

    from ... import backend
    np = backend.np

    def f(z):
        z = np.asarray(z, dtype=np.float64)
        flat = z.reshape(len(z), -1) if z.ndim > 1 else z[:, None]
        dtype, where = minigan.get_default_dtype(), device
        for p in module.parameters():
            dtype, where = p.dtype, p.device
            break
        outs = []
        with minigan.no_grad():
            for i in range(0, len(flat), batch):
                t = minigan.tensor(flat[i:i + batch].astype(dtype), device=where)
                outs.append(np.asarray(backend.to_numpy(module(t).array), dtype=np.float64))
        out = np.concatenate(outs) if outs else np.zeros((0, 1))
        return out[:, 0] if out.shape[1] == 1 else out
    return f
