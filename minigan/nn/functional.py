"""``minigan.nn.functional`` is ``minigan.functional`` (PyTorch users write ``torch.nn.functional``)."""
from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
