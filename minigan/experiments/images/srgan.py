"""Super-resolution ×4 on real photographs: SRResNet trained with the MSE, then SRGAN.

Ledig et al. (2017), lecture notes 001/003. A low-resolution (LR) photo has lost the detail
above its Nyquist frequency; many high-resolution (HR) images shrink to the same LR one.

1. **MSE (SRResNet).** Trained to minimise the squared error, the network learns the *mean*
   of the HR images consistent with its input: the best PSNR there is, and a blur wherever
   the detail is uncertain (fur, grass, gravel), because the mean of many sharp textures is a
   smooth one.
2. **Adversarial (SRGAN).** Starting from the MSE model, a discriminator learns to tell real
   HR patches from upscaled ones, and the generator minimises

       L = MSE(G(lr), hr) + λ_adv · (-log D(G(lr)))          (λ_adv = 1e-2)

   so it is pushed off the blurred mean towards *one* sharp, plausible image: more texture,
   a lower PSNR (a sharp guess that is off by a pixel costs more squared error than a blur).
   The paper's content loss compares VGG features; no pretrained VGG is available offline, so
   the content term here is the pixel MSE (the paper's "SRGAN-MSE" variant). Its λ_adv = 1e-3
   weighs the adversarial term against a rescaled VGG loss; against the pixel MSE of images in
   [0, 1] (about 1e-3 at 30 dB) the adversarial term needs more weight to move the model in a
   few hundred steps: 1e-2 here (chosen, not tuned).

The models work on the luminance Y (``minigan.data.photos``): the colour channels are enlarged
bicubically. Training draws aligned 24×24 / 96×96 patch pairs from ``TRAIN_PHOTOS``;
everything measured is on the held-out ``TEST_PHOTOS``, whole, in tiles (``upscale``): PSNR on
Y with ``scale`` border pixels cropped, SSIM, and the high-frequency energy against the
ground truth's (``minigan.evaluation.image_quality``), each beside bicubic interpolation.
"""
from __future__ import annotations

import math

from ... import backend, optim
from ... import functional as F
from ...autograd import Tensor, no_grad
from ...data import photos
from ...gan import losses
from ...gan.models.srgan import SRDiscriminator, SRResNet
from .base import ImageRun

__all__ = ["SRGANRun", "upscale", "super_resolve", "evaluate_sr", "load_generator",
           "make_generator"]

np = backend.np      # host-side image handling; the maths is in the engine


def upscale(G, lr, tile=48, overlap=None, batch=8, device=None, self_ensemble=False):
    """One channel ``lr`` (h, w) -> (scale·h, scale·w) through ``G``, in tiles.

    The image is cut into ``tile``×``tile`` LR tiles, each read with ``overlap`` pixels of
    context on every side (mirrored beyond the image), upscaled ``batch`` tiles at a time,
    and the context cropped off the outputs before they are put back together: memory stays
    bounded for any image size, and with ``overlap`` at least the network's receptive-field
    radius the seams are invisible (every output pixel saw all the input it depends on).
    ``overlap`` defaults to that radius (``G.radius``), and to no less than 16 pixels.

    ``self_ensemble=True`` is the geometric self-ensemble of EDSR+ (Lim et al. 2017): the
    mean of the outputs for the 8 rotations and mirror images of ``lr``, each turned back.
    A photo's content has no preferred orientation, but a trained network is not exactly
    symmetric, and part of its error changes with the orientation and averages out: about
    0.1 dB more PSNR for 8 times the time, with no training.
    """
    lr = np.asarray(lr, np.float32)
    if lr.ndim != 2:
        raise ValueError(f"upscale: expected one channel (h, w), got {lr.shape}")
    if self_ensemble:
        total = 0.0
        for k in range(8):
            x = np.rot90(lr, k % 4)
            x = x[:, ::-1] if k >= 4 else x
            y = upscale(G, np.ascontiguousarray(x), tile, overlap, batch, device)
            total = total + np.rot90(y[:, ::-1] if k >= 4 else y, -(k % 4))
        return np.clip(total / 8.0, 0.0, 1.0)
    s, h, w = G.scale, lr.shape[0], lr.shape[1]
    if overlap is None:
        overlap = max(16, getattr(G, "radius", 16))
    t, ov = int(tile), int(overlap)
    nh, nw = math.ceil(h / t), math.ceil(w / t)
    padded = np.pad(lr, ((ov, nh * t - h + ov), (ov, nw * t - w + ov)), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (t + 2 * ov,) * 2)[::t, ::t]
    tiles = windows.reshape(nh * nw, 1, t + 2 * ov, t + 2 * ov)
    out = np.empty((nh * nw, t * s, t * s), np.float32)
    was_training = G.training
    G.eval()
    with no_grad():
        for i in range(0, len(tiles), batch):
            x = Tensor(backend.as_array(np.ascontiguousarray(tiles[i:i + batch]),
                                        device=device))
            y = backend.to_numpy(G(x).array)
            out[i:i + batch] = y[:, 0, ov * s:(ov + t) * s, ov * s:(ov + t) * s]
    G.train(was_training)
    full = out.reshape(nh, nw, t * s, t * s).transpose(0, 2, 1, 3).reshape(nh * t * s, nw * t * s)
    return np.clip(full[:h * s, :w * s], 0.0, 1.0)


def super_resolve(G, image, **tiles):
    """A whole image (grey (h, w) or colour (h, w, 3), float in [0, 1]) enlarged by
    ``G.scale``: the luminance through ``G``, the colour (Cb, Cr) bicubically."""
    image = np.asarray(image, np.float32)
    s = G.scale
    if image.ndim == 2:
        y = upscale(G, photos.luminance(image), **tiles)
        return np.clip((y * 255.0 - 16.0) / 219.0, 0.0, 1.0)     # back from Y's range
    ycc = photos.rgb_to_ycbcr(image)
    h, w = image.shape[0] * s, image.shape[1] * s
    y = upscale(G, ycc[..., 0], **tiles)
    cb, cr = (photos.resize(ycc[..., k], h, w) for k in (1, 2))
    return photos.ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1))


def evaluate_sr(generators, scale=4, names=photos.TEST_PHOTOS, device=None, ensembled=()):
    """Each held-out photo's HR luminance, its bicubic and each generator's upscaling, with
    PSNR (Y, ``scale`` border pixels cropped), SSIM and the high-frequency energy ratio to the
    ground truth; the generators named in ``ensembled`` also with the self-ensemble, as
    "<name> x8". Returns {"per_photo": {name: {method: {metric: v}}}, "mean": {method:
    {metric: v}}, "images": {name: {method: array}}}."""
    from ...evaluation import image_quality as Q
    per, images = {}, {}
    for name in names:
        hr, lr = photos.sr_pair(name, scale)
        outs = {"bicubic": np.clip(photos.resize(lr, *hr.shape), 0.0, 1.0)}
        outs.update({label: upscale(G, lr, device=device) for label, G in generators.items()})
        outs.update({f"{label} x8": upscale(generators[label], lr, device=device,
                                            self_ensemble=True)
                     for label in ensembled if label in generators})
        hf_true = Q.high_frequency_energy(hr, scale, border=scale)
        per[name] = {m: {"psnr": Q.psnr(img, hr, border=scale),
                         "ssim": Q.ssim(img, hr, border=scale),
                         "hf_ratio": Q.high_frequency_energy(img, scale, border=scale) / hf_true}
                     for m, img in outs.items()}
        images[name] = {"ground truth": hr, "LR": lr, **outs}
    methods = list(next(iter(per.values())))
    mean = {m: {k: float(np.mean([per[n][m][k] for n in names])) for k in ("psnr", "ssim",
                                                                         "hf_ratio")}
            for m in methods}
    return {"per_photo": per, "mean": mean, "images": images}


def lr_factor(schedule, step, steps):
    """The pretraining learning rate at ``step`` of ``steps``, as a fraction of its start:
    "linear" holds it, then lowers it linearly to 10% over the second half; "cosine" follows
    half a cosine from 1 down to 0 (Loshchilov & Hutter 2017, without restarts)."""
    t = min(max(step / max(steps, 1), 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - 0.9 * min(max(2.0 * t - 1.0, 0.0), 1.0)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"srgan: schedule must be linear or cosine, not {schedule!r}")


# What a checkpoint written before these settings existed was trained with: the two-stage
# upsampler over a bilinear skip, MSE pretraining, the linear schedule.
SETTINGS_BEFORE = dict(upsampler="stages", skip="bilinear", pixel_loss="mse", schedule="linear")


def make_generator(c):
    """The SRResNet a run's settings ``c`` describe; a setting missing from them (an older
    checkpoint's) means ``SETTINGS_BEFORE``'s, so such checkpoints load as they were trained."""
    c = {**SETTINGS_BEFORE, **c}
    return SRResNet(1, c["width"], c["blocks"], c["scale"], c["up_width"], c["upsampler"],
                    c["skip"])


def load_generator(path, which="mse", device=None):
    """The generator ``which`` ("mse" or "gan") of a ``--model srgan`` checkpoint."""
    import json

    from ... import serialization
    state = serialization.load(path)
    if str(state.get("model_name")) != "srgan":
        raise ValueError(f"{path} holds a {state.get('model_name')} run, not an srgan one")
    c = json.loads(str(state["config_json"]))
    key = {"mse": "G_mse", "gan": "G"}.get(which)
    if key is None:
        raise ValueError(f"--generator must be mse or gan, not {which!r}")
    if which == "gan" and int(state["step"]) <= c["mse_steps"]:
        raise ValueError(f"{path}: the run stopped at step {int(state['step'])}, before its "
                         f"adversarial phase (from step {c['mse_steps']}); use the mse generator")
    if which == "mse" and int(state["step"]) <= c["mse_steps"]:
        key = "G"          # no adversarial step yet: G is the MSE model (G_mse not copied yet)
    G = make_generator(c)
    G.load_state_dict(state["models"][key])
    return G.to(device) if device is not None else G


class SRGANRun(ImageRun):
    """SRResNet (MSE) for ``mse_steps``, then SRGAN (MSE + λ_adv · adversarial) for the rest;
    the MSE model is kept as ``G_mse``, so one checkpoint holds both."""

    name = "srgan"
    digit_scored = False       # photos, not digits: scored by PSNR/SSIM in extra()
    # One core: about 0.28 s of CPU an MSE step and 0.41 s an adversarial one (batch 16 of
    # 24×24 LR patches): 1600 + 250 steps and the evaluation took 401 s on a quiet core.
    # upsampler, skip: SRResNet's (see there); pixel_loss: the pretraining phase's "mse" or
    # "l1"; schedule: its learning rate, "linear" (constant, then down linearly to 10% over
    # the second half) or "cosine" (half a cosine from lr down to 0).
    defaults = dict(steps=1850, mse_steps=1600, batch_size=16, patch=24, scale=4, width=32,
                    blocks=4, up_width=16, lr=1e-3, lr_gan=1e-4, beta1=0.9, d_width=16,
                    adv_weight=1e-2, upsampler="stages", skip="bicubic", pixel_loss="mse",
                    schedule="linear")
    quick = dict(steps=40, mse_steps=30)
    SETTINGS_BEFORE = SETTINGS_BEFORE

    @classmethod
    def load_data(cls, spec, device=None):
        """The photos are loaded by the run itself (``build``): ``--data`` does not apply."""
        if spec not in (None, "digits", "photos"):
            raise ValueError(f"srgan trains on scikit-image's photos; --data {spec} does not apply")
        return {"size": 0, "name": "photos"}

    def build(self):
        c = self.config
        if c.get("pixel_loss", "mse") not in ("mse", "l1"):
            raise ValueError(f"srgan: pixel_loss must be mse or l1, not {c['pixel_loss']!r}")
        lr_factor(c.get("schedule", "linear"), 0, 1)        # an unknown schedule fails here
        self.G = self.on_device(make_generator(c))
        self.G_mse = self.on_device(make_generator(c))
        self.D = self.on_device(SRDiscriminator(1, c["d_width"]))
        self.modules = {"G": self.G, "G_mse": self.G_mse, "D": self.D}
        betas = (c["beta1"], 0.999)
        self.optims = {"G": optim.Adam(self.G.parameters(), lr=c["lr"], betas=betas),
                       "G_adv": optim.Adam(self.G.parameters(), lr=c["lr_gan"], betas=betas),
                       "D": optim.Adam(self.D.parameters(), lr=c["lr_gan"], betas=betas)}
        self.patches = photos.PatchSampler(photos.TRAIN_PHOTOS, c["scale"], c["patch"])

    def _batch(self):
        lr, hr = self.patches.sample(self.config["batch_size"])
        return (Tensor(backend.as_array(lr, device=self.device)),
                Tensor(backend.as_array(hr, device=self.device)))

    @property
    def adversarial(self):
        return self.step >= self.config["mse_steps"]

    def train_step(self):
        c = self.config
        if self.step == c["mse_steps"]:
            self.G_mse.load_state_dict(self.G.state_dict())    # keep the MSE model
        # the pretraining phase's learning rate, a function of the step alone (so a resumed
        # run follows the same schedule)
        for group in self.optims["G"].param_groups:
            group["lr"] = c["lr"] * lr_factor(c.get("schedule", "linear"), self.step,
                                              c["mse_steps"])
        lr, hr = self._batch()
        sr = self.G(lr)
        mse = ((sr - hr) ** 2).mean()
        if not self.adversarial:
            loss = mse if c.get("pixel_loss", "mse") == "mse" else F.l1_loss(sr, hr)
            self.finite(loss, "pixel loss")
            self.optims["G"].zero_grad()
            loss.backward()
            self.optims["G"].step()
            return {"mse": float(mse.item())}
        adv = losses.g_loss_nonsaturating(self.D(sr))
        g_loss = mse + c["adv_weight"] * adv
        self.finite(g_loss, "generator")
        self.optims["G_adv"].zero_grad()
        g_loss.backward()
        self.optims["G_adv"].step()
        d_loss = losses.d_loss_minimax(self.D(hr), self.D(sr.detach()))
        self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        return {"mse": float(mse.item()), "g_adv": float(adv.item()),
                "d_loss": float(d_loss.item())}

    def generators(self):
        """{"mse": G_mse, "gan": G} once the adversarial phase ran, else {"mse": G}."""
        if self.step > self.config["mse_steps"]:
            return {"mse": self.G_mse, "gan": self.G}
        return {"mse": self.G}

    def extra(self, scorer, report):
        from ...plots import image_to_image as P
        res = evaluate_sr(self.generators(), self.config["scale"], device=self.device,
                          ensembled=("mse",))
        report["sr_mean"], report["sr_per_photo"] = res["mean"], res["per_photo"]
        bic = res["mean"]["bicubic"]
        for m, v in res["mean"].items():
            gain = f", {v['psnr'] - bic['psnr']:+.2f} dB over bicubic" if m != "bicubic" else ""
            print(f"{self.name}: {m:<8s} PSNR {v['psnr']:.2f} dB (Y, border {self.config['scale']}"
                  f"){gain}; SSIM {v['ssim']:.4f}; high-frequency energy {v['hf_ratio']:.2f}"
                  " of the ground truth's (mean of the held-out "
                  f"{', '.join(photos.TEST_PHOTOS)})")
        report["figures"].append(P.comparison_figure(
            self.out / "superres_crops.png", res["images"], res["per_photo"],
            title=f"×{self.config['scale']} on held-out photos (PSNR on Y)"))
