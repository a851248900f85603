"""Paired data for pix2pix: the input x made from the target digit y, by one of two tasks.

* ``"edges"``: x is the Sobel edge map of y (``data.edges``). The outline of the strokes
  fixes the digit almost completely, so there is little to guess: L1 alone already draws
  sharp digits, and the adversarial term has little to add.
* ``"inpaint"``: x is y with its lower half hidden (set to 0, a grey that is neither ink (+1)
  nor background (-1), so G can see which pixels are missing). The top half leaves the bottom
  open -- the top of a 7 may end as a 7 or a 9, a 3's as a 3 or a 5 -- and the L1 loss is
  minimised by the per-pixel median of the possible endings: a grey blur where they
  disagree. That is the blur the adversarial term of pix2pix is there to remove.

Both work on a Tensor (on its device) or a host array, images (N, 1, H, W) in [-1, 1].
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor
from .edges import edge_map

__all__ = ["TASKS", "paired_input", "hide_lower_half"]

TASKS = ("edges", "inpaint")


def hide_lower_half(images):
    """A copy of ``images`` with rows H//2 .. H-1 set to 0 (grey: "unknown")."""
    host = not isinstance(images, Tensor)
    arr = backend.np.asarray(images) if host else images.array
    if arr.ndim != 4:
        raise ValueError(f"hide_lower_half: expected images (N, C, H, W), got {arr.shape}")
    out = arr.copy()
    out[:, :, arr.shape[2] // 2:, :] = 0
    return out if host else Tensor(out)


def paired_input(images, task="edges", edge_threshold=0.5):
    """The pix2pix input for the target ``images`` under ``task`` (see the module docstring)."""
    if task == "edges":
        return edge_map(images, edge_threshold)
    if task == "inpaint":
        return hide_lower_half(images)
    raise ValueError(f"pix2pix task must be one of {', '.join(TASKS)}, not {task!r}")
