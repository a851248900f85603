"""GANs: the objectives (``losses``), the one training loop (``loop``), Algorithm 1 on it
(``train``), the remedies for mode collapse and the networks (``models``).

    from minigan import gan
    G, D = gan.mlp_generator(), gan.mlp_discriminator()
    trainer = gan.GANTrainer(G, D, opt_g, opt_d, data=p_data, noise=p_z, objective="nsgan")
    trainer.train(2000)
"""
from .ema import EMA  # noqa: F401
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all
from .models.mlp import as_numpy_fn, mlp_discriminator, mlp_generator  # noqa: F401
from .loop import Trainer  # noqa: F401
from .train import GANTrainer, NonFiniteLossError, every, fit_discriminator  # noqa: F401

__all__ = list(_losses_all) + ["mlp_generator", "mlp_discriminator", "as_numpy_fn", "Trainer",
                               "GANTrainer", "NonFiniteLossError", "every", "fit_discriminator",
                               "EMA"]
