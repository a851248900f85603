"""Registers the second set of image models in ``minigan.gan.images.RUNS`` (so that
``python -m minigan images --model`` offers them): cgan, wgan, wgan-gp, sagan, infogan,
cyclegan. Each lives in its own module; importing it registers it."""
from __future__ import annotations

import importlib

MODULES = ("conditional", "wgan_images", "sagan", "infogan", "cyclegan", "stacked")

for _name in MODULES:
    try:
        importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as err:      # a model not written yet
        if err.name != f"{__package__}.{_name}":
            raise
