"""Conditional GAN: tell both players the class y, and choose the digit at sampling time.

A GAN learns p(x); we cannot ask it for a 7. The conditional GAN (Mirza & Osindero 2014;
lecture notes 001/004, "conditional image generation") feeds the label y to *both* players:

    min_G max_D  E_{x,y ~ p_data}[log D(x, y)] + E_{z ~ p_z, y}[log(1 - D(G(z, y), y))].

G must now draw a digit that D accepts *as a y*: D rejects a perfect 3 presented as a 7, so G
learns p(x | y). In ``minigan.experiments.images.cgan`` the label enters through learned lookup
tables (``nn.Embedding``): G sees z ⧺ embed(y), D sees embed(y) as a second image channel,
so every convolution of D sees the label at every pixel.

Measured: does the digit classifier of ``minigan.evaluation.scoring`` agree with the *requested* label?
And the grid "same z in a row, labels 0-9 in the columns": z should keep the style (slant,
stroke width) while y changes the class.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import numpy as np  # noqa: E402

from minigan.plots import images as P  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains on the 8×8 digits for a few seconds only (150 steps: the numbers just show
# the machinery); the full lesson trains on 28×28 MNIST for 1500 steps, about 4 minutes on
# one core (`images --model cgan` defaults to 5000), where "the same z, every label" shows
# one handwriting's slant and stroke carried across ten digits.
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["cgan"]["steps"] if args.quick else 1500

# %% [markdown]
# ## 1. Train the conditional DCGAN (``images.MODELS["cgan"]``)

# %%
run = images.train_model("cgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=DATA)
train_s = run.train_seconds
print(f"trained the conditional GAN for {STEPS} steps in {train_s:.1f} s")

# %% [markdown]
# ## 2. Ask for each digit: samples with labels 0, 1, ..., 9, 0, 1, ... and the classifier's
# verdict; then the grid "same z, every label" (the run's own figure)

# %%
samples = run.samples(1000)
scorer = get_scorer(run.data["name"], run.size)
run.out = args.out                      # the run's figures go with this lesson's
report = {"figures": []}
run.extra(scorer, report)
main = next(iter(samples))
agree = report[f"{main}_label_agreement"]
per_class = report[f"{main}_per_class_agreement"]
score = scorer.score(samples[main])
print(f"{main}: classifier agrees with the requested label on {agree:.1%}; per class "
      + " ".join(f"{k}:{v:.0%}" for k, v in enumerate(per_class)))
print(f"same z, every label: classifier agrees on {report['same_z_grid_agreement']:.0%}; "
      f"Fréchet of the samples {score['frechet']:.3f}")

# %%
order = np.argsort(run.sample_labels[:100], kind="stable")
fig_samples = P.image_grid_figure(
    args.out / "samples_by_label.png", samples[main][:100][order], nrow=10,
    title=f"cGAN after {STEPS} steps: row k asked for digit k (agreement {agree:.0%})")
figs = [fig_samples] + [f for f in report["figures"]]

# %%
course.report(args, {
    "steps": STEPS,
    "train seconds": train_s,
    "label agreement (requested vs classified)": agree,
    "worst class agreement": min(per_class),
    "same-z grid agreement": report["same_z_grid_agreement"],
    "Fréchet": score["frechet"],
    "classes covered": score["coverage"],
}, figs, notes="--quick trains a few seconds only: the numbers then just show the machinery")
