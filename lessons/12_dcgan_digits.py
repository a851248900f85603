"""DCGAN on digits: the all-convolutional generator of lesson 11, trained with Algorithm 1.

DCGAN (Radford, Metz & Chintala 2016; lecture notes 000, 001 and 002, "DCGAN") is the
recipe that made GANs on images train reliably. Its rules:

* no pooling: the discriminator downsamples with strided convolutions, the generator
  upsamples with fractionally-strided (transposed) convolutions (lesson 11);
* batch norm in both networks (not on G's output or D's input);
* ReLU in G with a tanh output (images in [-1, 1]), LeakyReLU(0.2) in D;
* Adam with learning rate 2e-4 and beta1 = 0.5, weights initialised from N(0, 0.02).

The lesson first writes both networks itself, a dozen lines each, and checks that they *are*
the library's ``minigan.gan.models.dcgan`` (same weights in, same numbers out). G maps z
(100 numbers, N(0, I)) to a 28×28 MNIST digit by the classic layout
z -> 128×7×7 -> 64×14×14 -> 1×28×28 (--quick: 32 numbers to an 8×8 digit, seconds); D
mirrors it with strided convolutions and maps a digit to a logit. They play the game of
lesson 03 with the non-saturating G loss (lesson 06):

    D: max E[log D(x)] + E[log(1 - D(G(z)))],    G: max E[log D(G(z))].

The training run (``images.MODELS["dcgan"]``) also keeps an exponential moving average of G's
weights (EMA; averaging out the circling of G and D) and re-estimates batch-norm statistics
before sampling. The lesson trains with the paper's optimiser (``dcgan.CLASSIC_RECIPE``: Adam
2e-4, β1 0.5, the learning rates decaying over the second half). The library's default run on
28×28 MNIST departs from it in two measured ways: D's loss gets Mescheder et al.'s R1 penalty
γ/2·E||∇_x D(x)||² on real digits (γ = 1, every 4th D step), which keeps D flat where the data
is, and with that brake the learning rate rises 16× to 3.2e-3. After 3000 steps that draws all
ten classes in every seed where the paper's recipe draws seven to nine, at a third of its
Fréchet distance (docs/results/mnist.md: ten seeds each). It also hid section 4's lesson: in
one 1500-step run of this lesson with R1, G's loss fell as the samples improved (the rank
correlation of section 4 was 0.96). So here we keep the classic recipe.

How good are the samples? We cannot compute p_g for images, so we score them with a digit
classifier trained on real digits (``minigan.evaluation.scoring``): how many classes the
samples cover, how confidently each is recognised, and the Fréchet distance between the
classifier's features of samples and of real test digits (0 for a perfect generator; the
real-vs-real baseline is the reference).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import nn  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.dcgan import CLASSIC_RECIPE  # noqa: E402
from minigan.gan.models.dcgan import dcgan_pair  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# --quick trains on the 8×8 digits for a few seconds only (150 steps: the samples are blobs,
# the numbers just show the machinery). The full lesson trains on 28×28 MNIST for 1500
# steps, a few minutes on one core: a quarter of the default run of `python -m minigan images
# --model dcgan --data mnist` (6000 steps; docs/results/mnist.md has its numbers).
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["dcgan"]["steps"] if args.quick else 1500
N_SCORED = 1000 if args.quick else 2000
SIZE, Z_DIM, WIDTH = (8, 32, 32) if args.quick else (28, 100, 32)   # the run's own settings
QUICK_NOTE = "150 steps on 8×8 digits: G draws blobs, not yet digits"


# %%
class Generator(nn.Module):
    """z -> 4w×k×k -> 2w×2k×2k -> 1×4k×4k, k = size/4: transposed convolutions, BN, ReLU."""

    def __init__(self, z_dim, width, size):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 4 * width, size // 4, 1, 0, bias=False),  # project
            nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),     # ×2
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 1, 4, 2, 1), nn.Tanh())              # ×2, [-1, 1]

    def forward(self, z):
        return self.net(z.reshape(z.shape[0], z.shape[1], 1, 1))    # z as a 1×1 image


class Discriminator(nn.Module):
    """x -> w×size/2 -> 2w×size/4 -> one logit: strided convolutions, LeakyReLU(0.2)."""

    def __init__(self, width, size):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),                   # no BN here
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, 1))          # a logit

    def forward(self, x):
        return self.net(x)


course.section(args, "1. DCGAN in a dozen lines, checked against the library's",
               "The two classes above are the whole architecture. Load the state_dict of the "
               "library's dcgan_pair (DCGAN-initialised, the run's sizes) into them and feed "
               "both the same z and the same images: the outputs must agree to float32 "
               "rounding.")
G_lib, D_lib = dcgan_pair(SIZE, z_dim=Z_DIM, g_width=WIDTH, d_width=WIDTH, device=args.device)
G_own, D_own = Generator(Z_DIM, WIDTH, SIZE), Discriminator(WIDTH, SIZE)
G_own.load_state_dict(G_lib.state_dict())           # strict: every key and shape must match
D_own.load_state_dict(D_lib.state_dict())
G_own.to(args.device)
D_own.to(args.device)
z = minigan.randn(16, Z_DIM, device=args.device)
with minigan.no_grad():
    x = G_lib(z)
    gaps = {"G_lesson(z) - G_library(z)": G_own(z) - x, "D_lesson(x) - D_library(x)":
            D_own(x) - D_lib(x)}
print(f"  G: {sum(p.array.size for p in G_own.parameters())} parameters, D: "
      f"{sum(p.array.size for p in D_own.parameters())}; images {tuple(x.shape[1:])}")
for name, gap in gaps.items():
    gap = float(np.abs(gap.numpy()).max())
    course.check(args, f"max |{name}|", gap, "0 up to float32 rounding", ok=gap < 1e-5,
                 fmt=".1e")

# %%
course.section(args, f"2. Train {STEPS} steps with Algorithm 1 (images.MODELS['dcgan'])",
               "The same networks, trained by the library's run with the classic recipe: "
               "non-saturating G loss, Adam 2e-4, the learning rates decaying linearly over the "
               "second half, an EMA of G (the MNIST default adds R1 and a larger rate).")
data = images.load_image_data(DATA, device=args.device)
EVAL_EVERY = STEPS // 10        # the learning curve of section 4: Fréchet every tenth of the run
run = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         eval_every=EVAL_EVERY, eval_n=500, **CLASSIC_RECIPE,
                         data=data, z_dim=Z_DIM, g_width=WIDTH, d_width=WIDTH)
config, train_s = run.config, run.train_seconds
h = run.trainer.history
print(f"  z_dim {config['z_dim']}, batch {config['batch_size']}, Adam {config['lr_g']:g} "
      f"beta1 {config['beta1']}, EMA {config['ema']:g}; {1000 * train_s / STEPS:.0f} ms a step")

# %%
course.section(args, "3. Score the samples against real digits",
               f"{N_SCORED} samples of the EMA generator (and of the last G), read by the digit "
               "classifier. Each number sits beside the same number for real held-out digits "
               "(the best a generator can do) and for the untrained G; on MNIST also beside the "
               "same layout trained in PyTorch for twice the steps.")
samples = run.samples(N_SCORED)
scorer = get_scorer(data["name"], data["size"])
base = scorer.baseline()
scores = {label: scorer.score(x) for label, x in samples.items()}
ema, last = scores["dcgan_ema"], scores["dcgan"]
with minigan.no_grad():                                  # the untrained G, for reference
    untrained = scorer.score(G_lib(minigan.randn(N_SCORED, Z_DIM, device=args.device)).numpy())
# The same layout in PyTorch with the paper's recipe, trained 3000 steps (twice this lesson's),
# seeds 0-9, scored by the same classifier (docs/results/mnist.md: mean ± standard deviation);
# it applies to the full run's 28×28 MNIST only.
torch = ("", "", "") if args.quick else ("; PyTorch, same layout, 3000 steps: 3.06 ± 0.22",
                                         "; PyTorch, 3000 steps: 7-9", "; PyTorch: 0.85")
# ... and the library's R1 recipe (Adam 3.2e-3) at the same 3000 steps, ten held-out seeds
# (its default run trains 6000 steps: docs/results/mnist.md, "The budget")
default = "" if args.quick else "; minigan's R1 recipe, 3000 steps: 0.95 ± 0.05"
course.check(args, "Fréchet distance, EMA G", ema["frechet"],
             f"untrained G {untrained['frechet']:.3f}, real vs real {base['frechet']:.3f}"
             + torch[0] + default, ok=ema["frechet"] < 0.5 * untrained["frechet"], fmt=".3f",
             quick_note=QUICK_NOTE)
course.check(args, "classes covered (≥ 5 % of samples), EMA G", ema["coverage"],
             f"real digits {base['coverage']}" + torch[1], ok=None, quick_note=QUICK_NOTE)
course.check(args, "classifier confidence, EMA G", ema["confidence"],
             f"real digits {base['confidence']:.3f}" + torch[2], ok=None, fmt=".3f")
course.check(args, "Fréchet, EMA G / last G", ema["frechet"] / last["frechet"],
             f"last G {last['frechet']:.3f}; about 1 once the learning rates have decayed "
             "(the last G no longer circles)", ok=None, fmt=".2f")
course.check(args, "sharpness, EMA G", ema["sharpness"], f"real digits {base['sharpness']:.3f}",
             ok=None, fmt=".3f")
hist = np.bincount(scorer.predict(samples["dcgan_ema"]), minlength=10)
print("  class histogram of the EMA samples: "
      + " ".join(f"{c}:{n}" for c, n in enumerate(hist)))

# %%
main = "dcgan_ema"
fig_samples = P.image_grid_figure(args.out / "samples.png", samples[main][:100], nrow=10,
                                  title=f"DCGAN (EMA) after {STEPS} steps")
fig_real = P.image_grid_figure(args.out / "real.png", data["x_test"][:100], nrow=10,
                               title=f"real held-out digits ({data['name']})")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
w = max(1, STEPS // 50)
sm = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")  # noqa: E731
steps = np.asarray(h["step"])[w - 1:]
d_real, d_fake = float(np.mean(h["d_real"][-w:])), float(np.mean(h["d_fake"][-w:]))
axes[0].plot(steps, sm(h["d_real"]), color="black", label="mean D(x)")
axes[0].plot(steps, sm(h["d_fake"]), color="green", label="mean D(G(z))")
axes[0].axhline(0.5, color="0.6", linestyle="--", linewidth=1, label="1/2")
axes[0].set_ylim(0, 1)
axes[0].set_xlabel("generator step")
axes[0].set_ylabel("D's output")
axes[0].set_title("D on real and generated digits", fontsize=9)
axes[0].legend(fontsize=7, loc="center right", bbox_to_anchor=(1, 0.62))
axes[1].bar(range(10), hist, color="C0")
axes[1].axhline(len(samples[main]) / 10, color="0.5", linestyle=":", label="uniform")
axes[1].set_xticks(range(10))
axes[1].set_xlabel("class the classifier assigns")
axes[1].set_ylabel("EMA samples")
axes[1].set_title("which digits G draws", fontsize=9)
axes[1].legend(fontsize=7, loc="upper left")
fig_curves = course.save_figure(fig, args, "game_and_classes.png")
course.check(args, "final mean D(x) - D(G(z))", d_real - d_fake,
             "0 at the game's equilibrium (D = 1/2 on both); > 0 while D still tells them "
             "apart", ok=None, fmt=".3f")

# %% [markdown]
# ## 4. The loss curve does not show progress
#
# In supervised learning a falling loss means a better model. In a GAN each loss is measured
# against an opponent that keeps changing (lecture notes 000 and 004): as G improves, D
# improves too, and G's loss can stay flat or even rise while the samples get better. The
# run measured the Fréchet distance of G and of its average on 500 fixed codes every tenth
# of training (``eval_every``, which does not change the run); here it is beside the losses.
# In the full run the rank correlation of G's loss with the Fréchet distance over the tenths
# was 0.07 [#rank correlation of G loss and Fréchet over the tenths]: no signal at all.

# %%
course.section(args, "4. The loss curve does not show progress",
               "D's and G's losses over training, beside the Fréchet distance of the same run "
               "measured every tenth of it. A progress meter would fall when the samples "
               "improve; a GAN's losses are measured against a moving opponent.")
rows = h["metrics"]
curve_steps = np.array([r["step"] for r in rows])
curve_fd = np.array([r["frechet_ema"] for r in rows])
g_loss, d_loss = np.asarray(h["g_loss"]), np.asarray(h["d_loss"])
# the losses averaged over each tenth of the run, one value per evaluation after the first
g_at = np.array([g_loss[max(0, s_ - EVAL_EVERY):s_].mean() for s_ in curve_steps[1:]])
fd_at = curve_fd[1:]
course.check(args, "Fréchet distance of the EMA G, first tenth -> end",
             f"{fd_at[0]:.2f} -> {fd_at[-1]:.2f}", reference="falls as the samples improve",
             ok=fd_at[-1] < 0.7 * fd_at[0], good="the samples improved",
             quick_note=QUICK_NOTE)
course.check(args, "G loss, mean over the first tenth -> the last",
             f"{g_at[0]:.2f} -> {g_at[-1]:.2f}",
             reference="a progress meter would fall with the Fréchet distance",
             ok=not g_at[-1] < 0.7 * g_at[0], good="it does not fall with it",
             bad="here it fell too", quick_note=QUICK_NOTE)
rank = lambda v: np.argsort(np.argsort(v))                         # noqa: E731
rho = float(np.corrcoef(rank(g_at), rank(fd_at))[0, 1])
course.check(args, "rank correlation of G loss and Fréchet over the tenths", rho, fmt=".2f",
             reference="+1 if the loss tracked quality", ok=rho < 0.5,
             good="the loss does not track quality", bad="here it tracked quality",
             quick_note=QUICK_NOTE)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
w = max(1, STEPS // 50)
sm = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")      # noqa: E731
ax1.plot(steps, sm(d_loss), color="C3", label="D loss")
ax1.plot(steps, sm(g_loss), color="C2", label="G loss")
ax1.set_xlabel("generator step")
ax1.set_ylabel(f"loss (mean over {w} steps)")
ax1.set_title("the losses", fontsize=9)
ax1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
ax2.plot(curve_steps, curve_fd, "o-", color="C0", label="EMA of G")
ax2.plot(curve_steps, [r["frechet"] for r in rows], "s--", color="0.5", ms=3, label="G")
ax2.set_yscale("log")
ax2.set_xlabel("generator step")
ax2.set_ylabel("Fréchet distance (log)")
ax2.set_title("sample quality (lower is better)", fontsize=9)
ax2.legend(fontsize=7, loc="upper right")
fig_loss = course.save_figure(fig, args, "loss_vs_quality.png")

# %%
course.report(args, {"steps": STEPS, "train seconds": train_s, "data": data["name"],
                     "z_dim": Z_DIM, "width": WIDTH}, [fig_samples, fig_real, fig_curves, fig_loss],
              notes="--quick trains a few seconds only: the numbers then just show the machinery")
