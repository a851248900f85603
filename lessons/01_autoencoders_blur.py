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
   (edges make it large, blur makes it small), and compute it once by hand as a 3×3
   convolution.
2. **Where should you sample z?** A plain AE says nothing about where its codes live, so to
   *generate* we must guess a distribution for z. The best a prior-less AE can do is a
   Gaussian fitted to the training codes (``AutoencoderRun.samples`` does that); the VAE
   (lesson 02) builds the prior into the loss instead.

What to watch in the terminal: reconstructions keep the digit (a classifier still recognises
them) but are less sharp than the real test digits; the average of a digit's nearest training
neighbours (what L2 pays for when unsure) is blurrier still; samples from the fitted Gaussian
are blurry and sometimes no digit at all.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
import minigan.nn.functional as F  # noqa: E402
from minigan import backend  # noqa: E402
from minigan.evaluation import metrics  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains for a few seconds only (200 steps: the numbers then just show the machinery);
# the full lesson trains the default run (3000 Adam steps of batch 64).
STEPS = (images.QUICK if args.quick else images.DEFAULTS)["ae"]["steps"]
QUICK_NOTE = f"{STEPS} steps leave the decoder blurrier than a trained one"

# %% [markdown]
# ## 1. The data and the model
# The 8×8 scikit-learn digits in [-1, 1]; ``images.MODELS["ae"]`` builds the convolutional
# autoencoder (encoder = DCGAN discriminator body, decoder = DCGAN generator, code z of 32
# numbers) and its Adam optimizer.

# %%
course.section(args, "1. Train the autoencoder on the 8×8 digits",
               f"{STEPS} Adam steps on ||x - dec(enc(x))||², then held-out digits are "
               "reconstructed. The error is compared with the simplest decoder of all, one that "
               "ignores the code and always outputs the mean training digit; the classifier "
               "checks that the digit survives the squeeze through 32 numbers.")
data = images.load_image_data("digits", device=args.device)
run = images.train_model("ae", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=data)            # checkpoints in a temporary folder
train_s = run.train_seconds
x = data["x_test"][:200]
rec = run.reconstruct(x)
scorer = get_scorer("digits", 8)
xtr, ytr = data["x_train"].array, data["y_train"]
xtr = np.asarray(backend.to_numpy(xtr), dtype=np.float32)
recon_mse = float(((rec - x) ** 2).mean())
mean_mse = float(((xtr.mean(0) - x) ** 2).mean())
course.check(args, "held-out reconstruction MSE per pixel", recon_mse,
             reference=f"always the mean training digit: {mean_mse:.4f}",
             ok=recon_mse < 0.25 * mean_mse, fmt=".4f",
             good="far below: the code carries the digit", bad="not far below the mean digit")
agree = float((scorer.predict(rec) == scorer.predict(x)).mean())
course.check(args, "reconstructions the classifier labels as the original", agree,
             reference="1 would be perfect; chance is 0.1", ok=agree >= 0.9, fmt=".2f")

# %% [markdown]
# ## 2. Sharpness, by hand and by the library
# The discrete Laplacian (4·centre - the 4 neighbours, up to sign) is a 3×3 convolution; its
# variance over an image is large where there are edges and small where the image is blurred.

# %%
course.section(args, "2. Sharpness: the variance of the Laplacian",
               "The Laplacian as a 3×3 convolution (F.conv2d, float64), its variance per image, "
               "averaged: checked against metrics.sharpness, then measured on the real test "
               "digits and on their reconstructions. Blur lowers it.")
LAPLACE = minigan.tensor([[[[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]]]], dtype="float64")


def sharpness_by_hand(imgs):
    lap = F.conv2d(minigan.tensor(np.asarray(imgs, dtype=np.float64)), LAPLACE)   # (N,1,6,6)
    lap = lap.reshape(lap.shape[0], -1)
    return float(((lap - lap.mean(1, keepdims=True)) ** 2).mean(1).mean().item())


sharp_real = metrics.sharpness(x)
by_hand = sharpness_by_hand(x)
course.check(args, "|by hand - library| sharpness of the test digits", abs(by_hand - sharp_real),
             reference="library: metrics.sharpness, 0 up to rounding", ok=abs(by_hand - sharp_real)
             < 1e-9, fmt=".1e")
sharp_rec = metrics.sharpness(rec)
course.check(args, "sharpness of the AE reconstructions", sharp_rec,
             reference=f"real test digits: {sharp_real:.3f}", ok=sharp_rec < sharp_real,
             fmt=".3f", good="lower: blurrier than real", bad="not blurrier than real",
             quick_note=QUICK_NOTE)

# %% [markdown]
# ## 3. Why: the L2-optimal answer under uncertainty is the mean
# Suppose the code only tells the decoder "one of these k similar training digits". The x̂
# minimising sum_i ||x_i - x̂||² is their average (set the gradient 2·sum_i (x̂ - x_i) to 0).
# We find it once by gradient descent, as a decoder would, then take, for each test digit, its
# k = 8 nearest training digits of the same class and average them: the image an uncertain L2
# decoder would output.

# %%
course.section(args, "3. Why: the L2-optimal answer under uncertainty is the mean",
               "Gradient descent on sum_i ||x_i - x̂||² over 8 similar digits lands on their "
               "average. Then, per test digit, the mean of its 8 nearest same-class training "
               "digits: what an L2 decoder outputs when its code cannot tell them apart. Its "
               "sharpness is compared with the real digits' and the reconstructions'.")
K = 8
means = []
for img, label in zip(x, scorer.predict(x)):
    pool = xtr[ytr == label]
    d = ((pool - img) ** 2).reshape(len(pool), -1).sum(1)
    means.append(pool[np.argsort(d)[:K]].mean(0))
means = np.stack(means)

pool = xtr[ytr == scorer.predict(x[:1])[0]]
near = pool[np.argsort(((pool - x[:1]) ** 2).reshape(len(pool), -1).sum(1))[:K]]
targets = minigan.tensor(near.reshape(K, -1), dtype="float64")
x_hat = minigan.zeros(1, targets.shape[1], dtype="float64", requires_grad=True)
opt = minigan.optim.SGD([x_hat], lr=0.1 / K)   # the gradient is 2·K·(x̂ - mean): each step
for _ in range(100):                             # shrinks the distance to the mean by 0.8
    opt.zero_grad()
    ((targets - x_hat) ** 2).sum().backward()
    opt.step()
gd_err = float(np.abs(x_hat.detach().numpy()[0] - near.reshape(K, -1).mean(0)).max())
course.check(args, "max |x̂ by gradient descent - mean of the 8|", gd_err,
             reference="library: numpy's mean; 0.8^100 = 2e-10 of the start after 100 steps",
             ok=gd_err < 1e-8, fmt=".1e")
sharp_mean = metrics.sharpness(means)
course.check(args, f"sharpness of the mean of the {K} nearest same-class digits", sharp_mean,
             reference=f"real {sharp_real:.3f}, AE reconstructions {sharp_rec:.3f}",
             ok=sharp_mean < min(sharp_real, sharp_rec), fmt=".3f",
             good="blurrier than both", bad="not blurrier than both")

# %% [markdown]
# ## 4. Generating: decode z from a Gaussian fitted to the training codes

# %%
course.section(args, "4. Generating: decode z from a Gaussian fitted to the codes",
               "A plain AE has no prior, so z is drawn from a Gaussian fitted to the training "
               "codes and decoded. Where the fit puts mass between the codes, the decoder has "
               "never been trained: expect blur and some shapes that are no digit.")
samples = run.samples(400)["ae"]
sharp_samples = metrics.sharpness(samples)
course.check(args, "sharpness of the AE samples", sharp_samples,
             reference=f"real test digits: {sharp_real:.3f}", ok=sharp_samples < sharp_real,
             fmt=".3f", good="lower: blurrier than real", bad="not blurrier than real",
             quick_note=QUICK_NOTE)
conf = float(scorer.probs(samples).max(1).mean())
conf_real = float(scorer.probs(x).max(1).mean())
course.check(args, "classifier confidence on the AE samples", conf,
             reference=f"real test digits: {conf_real:.3f}", ok=conf < conf_real, fmt=".3f",
             good="lower: some samples are no clear digit", bad="as confident as on real digits")

# %%
fig_rec = P.reconstruction_figure(
    args.out / "reconstructions.png", x[:16],
    {"AE": rec[:16], f"mean of {K} NN": means[:16]},
    title=f"AE reconstructions and the L2-optimal blur (mean of {K} NN)")
fig_samples = P.image_grid_figure(args.out / "samples.png", samples[:100], nrow=10,
                                  title="AE: dec(z), z ~ Gaussian fitted to the codes")
print(f"  figure: {fig_rec}\n  figure: {fig_samples}")

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
course.report(args, {"steps": STEPS, "batch": run.config["batch_size"],
                     "train seconds": train_s}, [fig_rec, fig_samples, fig_sharp])
