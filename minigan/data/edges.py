"""Edge maps: the paired data of pix2pix, made with the engine's own convolution.

pix2pix (Isola et al. 2017) learns a map from one image to another from *pairs* (x, y). Its
"edges -> photo" task needs an edge detector to make x from y; ours is the **Sobel filter**:
two 3×3 convolutions estimate the horizontal and vertical derivatives of the image,

    Gx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] / 8,   Gy = Gxᵀ,

(a derivative along one axis, a [1, 2, 1] smoothing along the other), and a pixel is an edge
where the gradient's magnitude sqrt(Gx² + Gy²) exceeds a threshold. For a digit the edge map
is the outline of its strokes: its shape, but not which side of each line is ink -- the
generator must fill the strokes in.

Computed with ``F.conv2d`` on the images' device; images in [-1, 1] (ink +1) in, edge maps in
{-1, +1} (edge +1) out, the same range as the digits.
"""
from __future__ import annotations

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad

__all__ = ["sobel_magnitude", "edge_map", "SOBEL_X"]

np = backend.np

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0


def sobel_magnitude(images):
    """|∇I| of images (N, 1, H, W) (a Tensor or a host array), by two 3×3 convolutions of
    the image padded by repeating its border pixels (so the frame of the image is no edge and
    the size is kept). Returns the same kind it was given."""
    host = not isinstance(images, Tensor)
    x = Tensor(backend.as_array(np.asarray(images))) if host else images
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"sobel_magnitude: expected images (N, 1, H, W), got {x.shape}")
    kernels = np.stack([SOBEL_X, SOBEL_X.T])[:, None]          # (2, 1, 3, 3)
    w = Tensor(backend.as_array(kernels, dtype=x.dtype, device=x.device))
    with no_grad():
        g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), w)
        mag = (g * g).sum(dim=1, keepdim=True).sqrt()
    return backend.to_numpy(mag.array) if host else mag


def edge_map(images, threshold=0.5):
    """Binary edge maps in {-1, +1}: +1 where the Sobel magnitude of the [-1, 1] image exceeds
    ``threshold`` (a stroke's edge, ink +1 next to background -1, gives about 0.5-1)."""
    mag = sobel_magnitude(images)
    if isinstance(mag, Tensor):
        return (mag > threshold).float() * 2.0 - 1.0
    return np.where(mag > threshold, 1.0, -1.0).astype(np.asarray(images).dtype)
