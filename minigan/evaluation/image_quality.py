"""How close is a restored image to the truth: PSNR, SSIM, and how much fine detail it has.

**PSNR** (peak signal-to-noise ratio) = 10·log10(peak² / MSE), in decibels, with peak 1 for
images in [0, 1]. +1 dB is 21% less squared error. The super-resolution literature measures it
on the luminance Y (BT.601) with ``scale`` pixels cropped from every border (the border of an
upscaled image has no neighbours on one side, and every method handles it differently), and so
does ``psnr``'s ``border``.

**SSIM** (Wang, Bovik, Sheikh & Simoncelli 2004) compares local means, contrasts and
correlations in an 11×11 Gaussian window (σ = 1.5)::

    SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    C1 = (0.01·L)², C2 = (0.03·L)²

averaged over the image: 1 for identical images. It forgives a change of brightness more than
a loss of structure, which is closer to what the eye sees than the MSE.

**Neither rewards texture.** Both are best for the *mean* of the plausible high-resolution
images -- which is blurred, because the fine detail the low-resolution image lost could have
been anything. Ledig et al. (SRGAN, 2017) show an adversarial model losing PSNR yet winning
the human vote. ``high_frequency_energy`` measures what PSNR cannot: the power of the image's
spectrum above the low-resolution image's Nyquist frequency (the detail the LR image could not
hold, which a method had to invent). Against the ground truth's, a ratio below 1 is blur, near
1 is a texture of the right strength (not necessarily the right texture: PSNR says that).
"""
from __future__ import annotations

from .. import backend

__all__ = ["high_frequency_energy", "psnr", "shave", "ssim"]

np = backend.np      # host-side measurement on image arrays


def shave(img, border):
    """``img`` without ``border`` pixels on each side (the last two axes)."""
    b = int(border)
    return img[..., b:img.shape[-2] - b, b:img.shape[-1] - b] if b else img


def _pair(a, b, border):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"image metrics: shapes differ, {a.shape} vs {b.shape}")
    a, b = shave(a, border), shave(b, border)
    if a.shape[-1] < 1 or a.shape[-2] < 1:
        raise ValueError(f"image metrics: nothing left after cropping a {border}-pixel border")
    return a, b


def psnr(x, ref, border=0, peak=1.0):
    """PSNR in dB of ``x`` against ``ref`` (same shape, the last two axes the image), with
    ``border`` pixels cropped from each side. Identical images give inf."""
    a, b = _pair(x, ref, border)
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak ** 2 / mse))


def ssim(x, ref, border=0, peak=1.0, sigma=1.5):
    """Mean SSIM of two grey images (H, W), Gaussian window σ = 1.5 truncated at 3.5σ (the
    11×11 window of the paper), population (not sample) variances; ``border`` cropped first.
    Matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False, data_range=peak)``."""
    from scipy import ndimage
    a, b = _pair(x, ref, border)
    if a.ndim != 2:
        raise ValueError(f"ssim: expected two (H, W) images, got {a.shape}")
    def blur(v):
        return ndimage.gaussian_filter(v, sigma, truncate=3.5)
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
         / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    r = int(3.5 * sigma + 0.5)           # skimage averages away the window's half-width
    return float(s[r:-r, r:-r].mean())


def high_frequency_energy(img, scale, border=0):
    """Mean power of the image's spectrum above the LR Nyquist frequency 0.5/scale cycles per
    pixel (along either axis), per pixel, after cropping ``border`` and removing the mean.
    A Hann window keeps the image's edges from posing as high frequencies."""
    a = shave(np.asarray(img, np.float64), border)
    if a.ndim != 2:
        raise ValueError(f"high_frequency_energy: expected an (H, W) image, got {a.shape}")
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    spec = np.abs(np.fft.fft2((a - a.mean()) * win)) ** 2 / (win ** 2).sum()
    fy, fx = np.abs(np.fft.fftfreq(h))[:, None], np.abs(np.fft.fftfreq(w))[None, :]
    high = np.maximum(fy, fx) > 0.5 / scale
    return float(spec[high].sum() / a.size)
