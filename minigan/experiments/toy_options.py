"""The options of a toy run, as one config object (what ``minigan toy``'s flags fill in).

Every field's ``None`` means "the recipe's default": the 1-D theory run's (``toy1d``) or
the mode study's per distribution and per method (``mode_study.MODE_CONFIG``).
"""
from __future__ import annotations

import dataclasses

__all__ = ["ToyOptions"]


@dataclasses.dataclass
class ToyOptions:
    dist: str = "gauss1d"          # p_data: a name of minigan.data.toy.DISTRIBUTIONS
    method: str | None = None      # a name of minigan.gan.remedies.METHODS
    steps: int | None = None       # generator steps
    seed: int = 0
    out: str = "runs/toy"
    device: str | None = None
    quick: bool = False
    resume: bool = False           # finish an interrupted run from OUT/checkpoint.npz
    # the 1-D theory run
    noise: str | None = None       # p_z: gaussian or uniform
    k: int | None = None           # D steps per G step
    batch_size: int | None = None
    lr_g: float = 5e-4
    lr_d: float | None = None
    # the mode study
    modes: int | None = None
    spacing: float | None = None
    seeds: int | None = None       # sweep seeds seed .. seed + seeds - 1
    compare: str | None = None     # "M1,M2,...": methods on the same seed
    long: bool = False
    activation: str | None = None
    hidden: int | None = None
    depth: int | None = None
    lr: float | None = None
    schedule: str = "cosine"
    pack: int | None = None
    unroll: int = 5
    unroll_lr: float | None = None
    r1: float | None = None
    r1_every: int | None = None
    ema: float | None = None
    drs: bool = False
    no_figures: bool = False
    progress: bool = False

    @classmethod
    def from_namespace(cls, ns):
        """The options named in an argparse namespace (or any object with attributes)."""
        return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)
                      if hasattr(ns, f.name)})
