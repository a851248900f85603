"""Autoencoders and why they blur: the L2-optimal answer to "which digit?" is their average.

An autoencoder (lecture notes 004, "Autoencoders") squeezes an image x through a small code
z = enc(x) and rebuilds it, x̂ = dec(z), minimising the pixel-wise squared error

    L(enc, dec) = E_x ||x - dec(enc(x))||².

Here the decoder is exactly a DCGAN generator (lesson 12): the only difference from a GAN is
*how the decoder is trained*. Two problems follow (notes 000, "Reminder: autoencoders"):

1. **The reconstructions are blurry.** When the code cannot say which of several plausible
   images was meant (a stroke a little thicker, shifted a pixel), the minimiser of the
   expected squared error is the conditional *mean* E[x | z], and a mean of digits is a blur.
   "The image is compressed through blurring, not concept abstraction" (notes 004). We
   measure it with ``metrics.sharpness``, the mean variance of the discrete Laplacian
   (edges make it large, blur makes it small).
2. **Where should you sample z?** A plain AE says nothing about where its codes live, so to
   *generate* we must guess a distribution for z. The best a prior-less AE can do is a
   Gaussian fitted to the training codes (``AutoencoderRun.samples`` does that); the VAE
   (lesson 02) builds the prior into the loss instead.

What to watch: reconstructions keep the digit (a classifier still recognises them) but are
less sharp than the real test digits; the average of a digit's nearest training neighbours
(what L2 pays for when unsure) is blurrier still; samples from the fitted Gaussian are blurry
and sometimes no digit at all.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.evaluation import metrics  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains for a few seconds only (200 steps: the numbers then just show the machinery);
# the full lesson trains the default run (3000 Adam steps, about a minute on an idle core).
STEPS = (images.QUICK if args.quick else images.DEFAULTS)["ae"]["steps"]

# %% [markdown]
# ## 1. The data and the model
# The 8×8 scikit-learn digits in [-1, 1]; ``images.MODELS["ae"]`` builds the convolutional
# autoencoder (encoder = DCGAN discriminator body, decoder = DCGAN generator, code z of 32
# numbers) and its Adam optimizer.

# %%
data = images.load_image_data("digits", device=args.device)
run = images.train_model("ae", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=data)            # checkpoints in a temporary folder
train_s = run.train_seconds
print(f"trained the autoencoder for {STEPS} steps (batch {run.config['batch_size']}) in "
      f"{train_s:.1f} s: L2 per image {run.history['recon'][0]:.2f} -> "
      f"{np.mean(run.history['recon'][-20:]):.2f}")

# %% [markdown]
# ## 2. Reconstructions of held-out digits, and their sharpness
# x̂ = dec(enc(x)); sharpness = mean over images of Var(Laplacian(x̂)).

# %%
x = data["x_test"][:200]
rec = run.reconstruct(x)
scorer = get_scorer("digits", 8)
recon_mse = float(((rec - x) ** 2).mean())
agree = float((scorer.predict(rec) == scorer.predict(x)).mean())
sharp_real = metrics.sharpness(x)
sharp_rec = metrics.sharpness(rec)
print(f"reconstruction MSE per pixel {recon_mse:.4f}; the classifier gives the same label to "
      f"{agree:.0%} of the reconstructions")
print(f"sharpness: real test digits {sharp_real:.3f}, AE reconstructions {sharp_rec:.3f} "
      f"({sharp_rec / sharp_real:.0%} of real)")

# %% [markdown]
# ## 3. Why: the L2-optimal answer under uncertainty is the mean
# Suppose the code only tells the decoder "one of these k similar training digits". The x̂
# minimising sum_i ||x_i - x̂||² is their average (set the gradient 2·sum_i (x̂ - x_i) to 0).
# We take, for each test digit, its k = 8 nearest training digits of the same class and
# average them: the image an uncertain L2 decoder would output.

# %%
xtr, ytr = data["x_train"].array, data["y_train"]
xtr = np.asarray(backend.to_numpy(xtr), dtype=np.float32)
K = 8
means = []
for img, label in zip(x, scorer.predict(x)):
    pool = xtr[ytr == label]
    d = ((pool - img) ** 2).reshape(len(pool), -1).sum(1)
    means.append(pool[np.argsort(d)[:K]].mean(0))
means = np.stack(means)
sharp_mean = metrics.sharpness(means)
print(f"sharpness of the mean of the {K} nearest same-class training digits: {sharp_mean:.3f} "
      f"({sharp_mean / sharp_real:.0%} of real)")

# %% [markdown]
# ## 4. Generating: decode z from a Gaussian fitted to the training codes

# %%
samples = run.samples(400)["ae"]
sharp_samples = metrics.sharpness(samples)
conf = float(scorer.probs(samples).max(1).mean())
conf_real = float(scorer.probs(x).max(1).mean())
print(f"AE samples: sharpness {sharp_samples:.3f}, classifier confidence {conf:.3f} "
      f"(real digits {conf_real:.3f})")

# %%
fig_rec = P.reconstruction_figure(
    args.out / "reconstructions.png", x[:16],
    {"AE": rec[:16], f"mean of {K} NN": means[:16]},
    title=f"AE reconstructions after {STEPS} steps (MSE {recon_mse:.3f}) and the L2-optimal "
          f"blur")
fig_samples = P.image_grid_figure(args.out / "samples.png", samples[:100], nrow=10,
                                  title=f"AE: dec(z), z ~ Gaussian fitted to the codes "
                                        f"(confidence {conf:.2f})")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
names = ["real", "AE recon", f"mean of {K} NN", "AE samples"]
vals = [sharp_real, sharp_rec, sharp_mean, sharp_samples]
axes[0].bar(names, vals, color=["black", "C0", "0.6", "C1"])
for i, v in enumerate(vals):
    axes[0].text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
axes[0].set_ylabel("sharpness = Var(Laplacian)")
axes[0].set_title("blur, measured: lower = blurrier", fontsize=9)
axes[1].plot(run.history["step"], run.history["recon"], color="C0", linewidth=0.8)
axes[1].set_yscale("log")
axes[1].set_xlabel("Adam step")
axes[1].set_ylabel("||x - x̂||² per image (batch)")
axes[1].set_title("training the autoencoder", fontsize=9)
fig_sharp = course.save_figure(fig, args, "sharpness.png")

# %%
course.report(args, {
    "steps": STEPS,
    "train seconds": train_s,
    "reconstruction MSE per pixel": recon_mse,
    "same class after reconstruction": agree,
    "sharpness real": sharp_real,
    "sharpness AE reconstructions": sharp_rec,
    f"sharpness mean of {K} nearest digits": sharp_mean,
    "sharpness AE samples": sharp_samples,
    "classifier confidence AE samples": conf,
    "classifier confidence real": conf_real,
}, [fig_rec, fig_samples, fig_sharp],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
