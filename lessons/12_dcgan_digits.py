"""DCGAN on digits: the all-convolutional generator of lesson 11, trained with Algorithm 1.

DCGAN (Radford et al. 2016; lecture notes 003/004, "DCGAN") is the recipe that made GANs on
images train reliably. Its rules, all in ``minigan.gan.models.dcgan``:

* no pooling: the discriminator downsamples with strided convolutions, the generator
  upsamples with fractionally-strided (transposed) convolutions (lesson 11);
* batch norm in both networks (not on G's output or D's input);
* ReLU in G with a tanh output (images in [-1, 1]), LeakyReLU(0.2) in D;
* Adam with learning rate 2e-4 and beta1 = 0.5, weights initialised from N(0, 0.02).

G maps z (100 numbers, N(0, I)) to a real 28×28 MNIST digit, by the classic layout
z -> 128×7×7 -> 64×14×14 -> 1×28×28 (--quick: 32 numbers to an 8×8 digit, seconds); D
mirrors it with strided convolutions and maps a digit to a logit. They play the game of
lesson 03 with the non-saturating G loss (lesson 06):

    D: max E[log D(x)] + E[log(1 - D(G(z)))],    G: max E[log D(G(z))].

``images.MODELS["dcgan"]`` also keeps an exponential moving average of G's weights (EMA;
averaging out the circling of G and D) and re-estimates batch-norm statistics before sampling.

How good are the samples? We cannot compute p_g for images, so we score them with a digit
classifier trained on real digits (``minigan.evaluation.scoring``): how many classes the samples cover,
how confidently each is recognised, and the Fréchet distance between the classifier's
features of samples and of real test digits (0 for a perfect generator; the real-vs-real
baseline is printed next to it).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan.plots import images as P  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains on the 8×8 digits for a few seconds only (150 steps: the samples are blobs,
# the numbers just show the machinery). The full lesson trains on 28×28 MNIST for 1500
# steps, about 4 minutes on one core: half the default run of `python -m minigan images
# --model dcgan --data mnist` (3000 steps; docs/results/mnist.md has its numbers).
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["dcgan"]["steps"] if args.quick else 1500
N_SCORED = 1000 if args.quick else 2000

# %% [markdown]
# ## 1. Build and train (the learning rates decay linearly over the second half of the run)

# %%
data = images.load_image_data(DATA, device=args.device)
run = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=data)            # checkpoints in a temporary folder
config, train_s = run.config, run.train_seconds
print(f"G: {sum(p.array.size for p in run.G.parameters())} parameters, D: "
      f"{sum(p.array.size for p in run.D.parameters())}; z_dim {config['z_dim']}, batch "
      f"{config['batch_size']}, Adam {config['lr_g']:g} beta1 {config['beta1']}")
h = run.trainer.history
print(f"trained {STEPS} steps in {train_s:.1f} s ({1000 * train_s / STEPS:.0f} ms a step)")

# %% [markdown]
# ## 2. Sample (EMA generator and the last G) and score against real digits

# %%
samples = run.samples(N_SCORED)
scorer = get_scorer(data["name"], data["size"])
base = scorer.baseline()
scores = {label: scorer.score(x) for label, x in samples.items()}
for label, sc in scores.items():
    print(f"{label:<10s} classes covered {sc['coverage']}/10 (real {base['coverage']}), "
          f"confidence {sc['confidence']:.3f} (real {base['confidence']:.3f}), Fréchet "
          f"{sc['frechet']:.3f} (real {base['frechet']:.3f}), sharpness {sc['sharpness']:.3f} "
          f"(real {base['sharpness']:.3f})")
hist = np.bincount(scorer.predict(samples["dcgan_ema"]), minlength=10)
print("class histogram of the EMA samples: " + " ".join(f"{c}:{n}" for c, n in enumerate(hist)))

# %%
main = "dcgan_ema"
fig_samples = P.image_grid_figure(
    args.out / "samples.png", samples[main][:100], nrow=10,
    title=f"DCGAN (EMA) after {STEPS} steps: {scores[main]['coverage']} classes, "
          f"Fréchet {scores[main]['frechet']:.2f}")
fig_real = P.image_grid_figure(args.out / "real.png", data["x_test"][:100], nrow=10,
                               title=f"real held-out digits ({data['name']})")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
w = max(1, STEPS // 50)
sm = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")  # noqa: E731
steps = np.asarray(h["step"])[w - 1:]
axes[0].plot(steps, sm(h["d_real"]), color="black", label="mean D(x)")
axes[0].plot(steps, sm(h["d_fake"]), color="green", label="mean D(G(z))")
axes[0].axhline(0.5, color="0.6", linestyle="--", linewidth=1)
axes[0].set_ylim(0, 1)
axes[0].set_xlabel("generator step")
axes[0].set_title("the game on images: D never settles at 1/2", fontsize=9)
axes[0].legend(fontsize=7)
axes[1].bar(range(10), hist, color="C0")
axes[1].axhline(len(samples[main]) / 10, color="0.5", linestyle=":", label="uniform")
axes[1].set_xticks(range(10))
axes[1].set_xlabel("class the classifier assigns")
axes[1].set_ylabel("EMA samples")
axes[1].set_title("which digits G draws (mode coverage)", fontsize=9)
axes[1].legend(fontsize=7)
fig_curves = course.save_figure(fig, args, "game_and_classes.png")

# %%
course.report(args, {
    "steps": STEPS,
    "train seconds": train_s,
    "classes covered (EMA / last G / real)":
        f"{scores['dcgan_ema']['coverage']} / {scores['dcgan']['coverage']} / {base['coverage']}",
    "confidence EMA": scores["dcgan_ema"]["confidence"],
    "confidence real": base["confidence"],
    "Fréchet EMA": scores["dcgan_ema"]["frechet"],
    "Fréchet last G": scores["dcgan"]["frechet"],
    "Fréchet real": base["frechet"],
    "sharpness EMA": scores["dcgan_ema"]["sharpness"],
    "sharpness real": base["sharpness"],
    "final mean D(x)": float(np.mean(h["d_real"][-w:])),
    "final mean D(G(z))": float(np.mean(h["d_fake"][-w:])),
}, [fig_samples, fig_real, fig_curves],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
