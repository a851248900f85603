"""Image runs: one module per model (``ae``/``vae``, ``dcgan``, ``cgan``, ``wgan``/``wgan-gp``,
``sagan``, ``infogan``, ``cyclegan``, ``stacked``), all on ``ImageRun`` (``base``) and the
one training loop; ``MODELS`` is their registry, ``run_images`` runs one end to end."""
from ...data.images import load_image_data  # noqa: F401
from ...gan.sampling import generate, recalibrate_batchnorm  # noqa: F401
from .autoencoder import AutoencoderRun, VAERun  # noqa: F401
from .base import N_SAMPLES, ImageRun  # noqa: F401
from .dcgan import DCGANRun  # noqa: F401
from .registry import DEFAULTS, MODELS, QUICK  # noqa: F401
from .runner import run_images, train_model  # noqa: F401

__all__ = ["ImageRun", "AutoencoderRun", "VAERun", "DCGANRun", "MODELS", "DEFAULTS", "QUICK",
           "N_SAMPLES", "run_images", "train_model",
           "load_image_data", "generate", "recalibrate_batchnorm"]
