"""Super-resolution ×4 on real photos: SRResNet (MSE) against SRGAN (adversarial), and what PSNR misses.

Lecture notes 001/003 (Ledig et al. 2017). Shrink a photo 4× and most of its detail is gone:
many sharp images shrink to the same small one. A network trained to minimise the squared
error learns their *mean*, which is the best PSNR there is and a blur wherever the lost
detail was uncertain. SRGAN adds a discriminator that tells real high-resolution patches from
upscaled ones, and pushes the generator off the blurred mean towards one sharp, plausible
image: more texture, lower PSNR.

The photos are scikit-image's bundled ones (``minigan.data.photos``), a fixed split: the
models train on patches of ``TRAIN_PHOTOS`` and everything is measured on the held-out
``TEST_PHOTOS``. The generator (``gan.models.srgan.SRResNet``) works on the luminance Y with
residual blocks at low resolution and *sub-pixel convolution* (``F.pixel_shuffle``) to go up,
and adds what it makes to the bicubic enlargement: it learns only the detail bicubic lacks.
Measured as the literature does: PSNR on Y with the 4-pixel border cropped, SSIM, and -- what
PSNR cannot see -- the energy of the detail above the small image's Nyquist frequency, as a
fraction of the ground truth's. ``python -m minigan images --model srgan`` trains the same
model longer; ``python -m minigan superres`` enlarges your own photos with it.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import functional as F  # noqa: E402
from minigan.data import photos  # noqa: E402
from minigan.evaluation import image_quality as Q  # noqa: E402
from minigan.experiments import images  # noqa: E402
from minigan.experiments.images.srgan import evaluate_sr  # noqa: E402
from minigan.plots import image_to_image as P  # noqa: E402

# The full lesson: 600 MSE steps then 150 adversarial ones (under 3 minutes on one core);
# `images --model srgan` trains 1600 + 250. --quick: 6 + 3 steps, the machinery only.
MSE_STEPS, GAN_STEPS = (6, 3) if args.quick else (600, 150)
QUICK_NOTE = "a few steps only: the network has barely moved from bicubic interpolation"

# %%
course.section(args, "0. The photos and the degradation",
               f"Training photos: {', '.join(photos.TRAIN_PHOTOS)}. Held out: "
               f"{', '.join(photos.TEST_PHOTOS)}. Each held-out photo is shrunk ×4 with "
               "antialiased bicubic interpolation; bicubic interpolation back up is the "
               "baseline every number is compared with.")
for name in photos.TEST_PHOTOS:
    hr, lr = photos.sr_pair(name)
    bic = photos.resize(lr, *hr.shape)
    print(f"  {name}: {hr.shape[1]}×{hr.shape[0]} -> {lr.shape[1]}×{lr.shape[0]}; bicubic back "
          f"up: PSNR {Q.psnr(bic, hr, border=4):.2f} dB")

# %%
course.section(args, "1. Sub-pixel convolution is a shuffle, and it has a gradient",
               "pixel_shuffle(x, 2) lays each group of 4 channels out as a 2×2 block of "
               "pixels: a transposed convolution of stride 2 whose kernels never overlap. Its "
               "gradient is the inverse shuffle; checked by finite differences to second "
               "order in float64.")
x = minigan.tensor(np.arange(8.0).reshape(1, 4, 1, 2), dtype="float64", requires_grad=True)
y = F.pixel_shuffle(x, 2)
print(f"  channels 0..3 of a 1×2 map -> {y.shape}: {y.detach().numpy()[0, 0].tolist()}")
ok = (minigan.gradcheck(lambda t: F.pixel_shuffle(t, 2) ** 2, (x,))
      and minigan.gradgradcheck(lambda t: F.pixel_shuffle(t, 2) ** 2, (x,)))
course.check(args, "pixel_shuffle gradcheck + gradgradcheck", bool(ok), "finite differences",
             ok=ok)

# %%
course.section(args, f"2. Train: {MSE_STEPS} MSE steps (SRResNet), then {GAN_STEPS} "
               "adversarial ones (SRGAN)",
               "Batches of 16 aligned patch pairs (24×24 -> 96×96) from the training photos. "
               "The MSE model is kept when the adversarial phase starts, so both are measured.")
run = images.train_model("srgan", MSE_STEPS + GAN_STEPS, quick=args.quick, seed=args.seed,
                         device=args.device, mse_steps=MSE_STEPS)
print(f"  trained in {run.train_seconds:.1f} s")

# %%
course.section(args, "3. Measured on the held-out photos",
               "PSNR and SSIM reward the right *average*; the high-frequency energy (detail "
               "above the small image's Nyquist frequency, as a fraction of the ground "
               "truth's) shows how much texture each method puts back.")
res = evaluate_sr(run.generators(), device=args.device)
m = res["mean"]
for method in m:
    v = m[method]
    print(f"  {method:<8s} PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.4f}, high-frequency "
          f"energy {v['hf_ratio']:.2f} of the truth's")
gain = m["mse"]["psnr"] - m["bicubic"]["psnr"]
course.check(args, "MSE model's PSNR gain over bicubic [dB]", gain,
             "> 0; the CLI's longer default run: see docs/results/image_to_image.md",
             ok=gain > 0, fmt=".2f", quick_note=QUICK_NOTE)
course.check(args, "GAN's PSNR minus the MSE model's [dB]", m["gan"]["psnr"] - m["mse"]["psnr"],
             "< 0: the adversarial term costs PSNR (SRGAN's Table 2)",
             ok=m["gan"]["psnr"] < m["mse"]["psnr"], fmt=".2f", quick_note=QUICK_NOTE)
course.check(args, "high-frequency energy, GAN / MSE", m["gan"]["hf_ratio"] / m["mse"]["hf_ratio"],
             "> 1: more texture than the MSE model's blur",
             ok=m["gan"]["hf_ratio"] > m["mse"]["hf_ratio"], fmt=".2f", quick_note=QUICK_NOTE)
course.check(args, "high-frequency energy of bicubic, of the truth's", m["bicubic"]["hf_ratio"],
             "well below 1: interpolation adds no detail", ok=m["bicubic"]["hf_ratio"] < 0.5,
             fmt=".3f")

# %%
fig = P.comparison_figure(args.out / "superres_crops.png", res["images"], res["per_photo"],
                          title=f"×4 on held-out photos after {MSE_STEPS} + {GAN_STEPS} steps")
print(f"  figure: {fig}")

# %%
course.report(args, {"MSE steps": MSE_STEPS, "GAN steps": GAN_STEPS,
                     "train seconds": run.train_seconds,
                     "bicubic PSNR": m["bicubic"]["psnr"], "MSE PSNR": m["mse"]["psnr"],
                     "GAN PSNR": m["gan"]["psnr"], "bicubic SSIM": m["bicubic"]["ssim"],
                     "MSE SSIM": m["mse"]["ssim"], "GAN SSIM": m["gan"]["ssim"]}, [fig],
              notes="--quick trains seconds only: the numbers then just show the machinery")
