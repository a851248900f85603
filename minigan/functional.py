"""``minigan.functional`` (``import minigan.functional as F``): the function forms of every
layer and loss, with PyTorch's names and argument order, so that ``F.relu(x)`` or
``F.binary_cross_entropy_with_logits(logits, target)`` read exactly as in PyTorch.
"""
from __future__ import annotations

from .ops.elementwise import (leaky_relu, log_sigmoid, relu, sigmoid, softplus,  # noqa: F401
                              tanh)
from .ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                       cross_entropy, l1_loss, mse_loss, nll_loss)
from .ops.conv import conv2d, conv_transpose2d  # noqa: F401
from .ops.matmul import linear  # noqa: F401
from .ops.norm import batch_norm, instance_norm, layer_norm  # noqa: F401
from .ops.attention import scaled_dot_product_attention  # noqa: F401
from .ops.pool import avg_pool2d, max_pool2d  # noqa: F401
from .ops.resample import interpolate, pad, pixel_shuffle, pixel_unshuffle  # noqa: F401
from .ops.dropout import dropout, dropout2d  # noqa: F401
from .ops.embedding import embedding  # noqa: F401
from .ops.reduce import log_softmax, softmax  # noqa: F401
from .ops.adain import adaptive_instance_norm  # noqa: F401

logsigmoid = log_sigmoid

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softplus", "log_sigmoid", "logsigmoid",
           "softmax", "log_softmax", "linear", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "conv2d", "conv_transpose2d",
           "batch_norm", "instance_norm", "layer_norm", "scaled_dot_product_attention",
           "avg_pool2d", "max_pool2d",
           "interpolate", "pad", "pixel_shuffle", "pixel_unshuffle", "dropout", "dropout2d",
           "embedding", "adaptive_instance_norm"]
