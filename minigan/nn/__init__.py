"""``minigan.nn``: modules, layers, initialisers and the GAN layers, as in ``torch.nn``.

    from minigan import nn
    D = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(32 * 4 * 4, 1))

* ``module``     — Module, Parameter, Sequential, ModuleList, ModuleDict
* ``layers``     — Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, InstanceNorm1d/2d,
                   LayerNorm, Embedding, Dropout, Dropout2d, Flatten, Unflatten, Upsample and
                   the activations (Softmax and LogSoftmax among them)
* ``losses``     — MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
* ``parallel``   — DataParallel (one device: it wraps and calls the module)
* ``image_layers`` — PixelShuffle, PixelUnshuffle (sub-pixel upsampling), AdaIN (StyleGAN)
* ``gan_layers`` — SelfAttention2d (SAGAN), spectral_norm (Miyato et al.),
                   MinibatchDiscrimination (Salimans et al.)
* ``init``       — weight initialisers (``nn.init.xavier_uniform_`` ..., ``dcgan_init``)
* ``utils``      — clip_grad_norm_, spectral_norm
* ``functional`` — the same functions as ``minigan.functional``
"""
from . import functional, init, parallel, utils  # noqa: F401
from .image_layers import AdaIN, PixelShuffle, PixelUnshuffle  # noqa: F401
from .gan_layers import (MinibatchDiscrimination, SelfAttention2d, SpectralNorm,  # noqa: F401
                         remove_spectral_norm, spectral_norm)
from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout,  # noqa: F401
                     Dropout2d, Embedding, Flatten, Identity, InstanceNorm1d, InstanceNorm2d,
                     LayerNorm, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, Softmax,
                     Softplus, Tanh, Unflatten, Upsample)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                     NLLLoss)
from .parallel import DataParallel  # noqa: F401
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Conv2d",
           "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "Dropout",
           "Flatten", "Unflatten", "Upsample", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
           "Softplus", "Identity", "SelfAttention2d", "spectral_norm", "remove_spectral_norm",
           "SpectralNorm", "MinibatchDiscrimination", "init", "utils", "functional",
           "InstanceNorm1d", "InstanceNorm2d", "Dropout2d", "Softmax", "LogSoftmax", "MSELoss",
           "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
           "DataParallel", "parallel", "PixelShuffle", "PixelUnshuffle", "AdaIN"]
