"""minigan: a from-scratch NumPy/CuPy deep-learning engine for teaching GANs.

The core (this import) is light: the Tensor, its autodiff, the ops and the random
constructors: the engine. What is built on it sits in subpackages, each importing only from
the ones listed before it: ``minigan.data``, ``minigan.gan``, ``minigan.evaluation``,
``minigan.plots``, ``minigan.experiments``, and the apps ``minigan.lab`` and
``minigan.commands`` (the CLI). They, ``minigan.nn`` and ``minigan.optim`` load on first use,
so ``import minigan`` never pulls in matplotlib or SciPy.
"""
from __future__ import annotations

import importlib

from . import allocator, backend
from .autograd import (Function, Tensor, Variable, enable_grad, grad,  # noqa: F401
                       is_grad_enabled, no_grad, set_grad_enabled)
from .backend import (Device, cupy_available, get_default_dtype, manual_seed,  # noqa: F401
                      set_default_dtype)
from .backend import Device as device  # noqa: F401  (torch.device("cuda" if ... else "cpu"))
from .ops import install as _install
from .creation import *  # noqa: F401,F403
from .ops.elementwise import (abs, clamp, clip, cos, exp, expm1, leaky_relu, log,  # noqa
                              log1p, log_sigmoid, maximum, minimum, pow, relu, rsqrt, sigmoid,
                              sign, sin, softplus, sqrt, square, tanh, where)
from .ops.matmul import matmul  # noqa: F401
from .ops.reduce import (argmax, argmin, logsumexp, log_softmax, max, mean, min,  # noqa
                         norm, softmax, std, sum, var)
from .ops.shape import (broadcast_to, cat, chunk, concatenate, flatten, pad, permute,  # noqa
                        reshape, split, squeeze, stack, swapaxes, transpose, unsqueeze)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401

_install()
allocator.tune()   # glibc: keep freed temporaries in the heap (see allocator.py)

__version__ = "0.1.0"

float32 = backend.np.dtype("float32")
float64 = backend.np.dtype("float64")
float16 = backend.np.dtype("float16")
int64 = backend.np.dtype("int64")
int32 = backend.np.dtype("int32")
bool_ = backend.np.dtype("bool")

_TORCH_DTYPES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                 "int": "int32", "bool": "bool_"}
_LAZY = {"nn", "optim", "functional", "serialization", "data", "gan", "evaluation", "plots",
         "experiments", "lab", "commands", "cuda", "backends", "utils"}


def __getattr__(name):
    # Heavy subpackages load on first touch (minigan.evaluation needs SciPy, minigan.plots
    # matplotlib), and minigan.save / minigan.load come from the serialization module.
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name in _TORCH_DTYPES:          # torch.float, torch.long ...: served here, not
        return globals()[_TORCH_DTYPES[name]]  # defined, so `import *` shadows no builtin
    raise AttributeError(f"module 'minigan' has no attribute {name!r}: if a PyTorch script "
                         f"uses torch.{name}, minigan does not implement it (docs/pytorch.md "
                         "lists what it does)")
