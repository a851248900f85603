"""``minigan.optim``: SGD, Adam and RMSprop with PyTorch's exact update rules, and the
learning-rate schedulers in ``minigan.optim.lr_scheduler``.

    opt = minigan.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()
"""
from . import lr_scheduler  # noqa: F401
from .adam import Adam  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .sgd import SGD  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "lr_scheduler"]
