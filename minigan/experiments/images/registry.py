"""The one registry of image models: ``--model`` name -> its run class.

``python -m minigan images --model``, the lessons and the tests all read ``MODELS``; a new
model is an ``ImageRun`` subclass in its own module of this package, added here.
"""
from __future__ import annotations

from .autoencoder import AutoencoderRun, VAERun
from .cgan import CGANRun
from .cyclegan import CycleGANRun
from .dcgan import DCGANRun
from .infogan import InfoGANRun
from .pix2pix import Pix2PixRun
from .sagan import SAGANRun
from .srgan import SRGANRun
from .stacked import StackedRun
from .stylegan import StyleGANRun
from .wgan import WGANGPRun, WGANRun

__all__ = ["MODELS", "DEFAULTS", "QUICK"]

MODELS = {run.name: run for run in (AutoencoderRun, VAERun, DCGANRun, CGANRun, WGANRun,
                                    WGANGPRun, SAGANRun, InfoGANRun, CycleGANRun, StackedRun,
                                    SRGANRun, Pix2PixRun, StyleGANRun)}
# read-only views: each model's default settings and what --quick changes
DEFAULTS = {name: run.defaults for name, run in MODELS.items()}
QUICK = {name: run.quick for name, run in MODELS.items()}
