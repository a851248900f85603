"""Conditional GAN: tell both players the class y, and choose the digit at sampling time.

A GAN learns p(x); we cannot ask it for a 7. The conditional GAN (Mirza & Osindero 2014;
lecture notes 001, "Conditional GAN", and 004, "conditional image generation") feeds the
label y to *both* players:

    min_G max_D  E_{x,y ~ p_data}[log D(x, y)] + E_{z ~ p_z, y}[log(1 - D(G(z, y), y))].

G must now draw a digit that D accepts *as a y*: D rejects a perfect 3 presented as a 7, so G
learns p(x | y). The lesson first writes how the label enters, in a few engine ops: a lookup
table (``nn.Embedding``) is the one-hot vector of y times a learned matrix; G sees
z ⧺ embed(y), D sees embed(y) reshaped into a second image channel, so every convolution of
D sees the label at every pixel. It checks this against the library's networks
(``minigan.gan.models.conditional``), then trains them (``images.MODELS["cgan"]``).

Measured: does the digit classifier of ``minigan.evaluation.scoring`` agree with the
*requested* label? And the grid "same z in a row, labels 0-9 in the columns": z should keep
the style (slant, stroke width) while y changes the class.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import contextlib  # noqa: E402
import io  # noqa: E402

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan.data.images import labels_tensor  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.gan.models.conditional import (  # noqa: E402
    ConditionalDiscriminator,
    ConditionalGenerator,
)
from minigan.plots import images as P  # noqa: E402

# --quick trains on the 8×8 digits for a few seconds only (150 steps: the numbers just show
# the machinery); the full lesson trains on 28×28 MNIST for 1500 steps, a few minutes on
# one core (`images --model cgan` defaults to 5000).
DATA = "digits" if args.quick else "mnist"
STEPS = images.QUICK["cgan"]["steps"] if args.quick else 1500
SIZE, Z_DIM, WIDTH = (8, 32, 32) if args.quick else (28, 32, 32)   # the run's own settings
QUICK_NOTE = "150 steps on 8×8 digits: G has only begun to follow the label"

# %%
course.section(args, "1. How the label enters G and D, in engine ops",
               "embed(y) is a row lookup, i.e. one_hot(y) @ table. G's input is z ⧺ "
               "one_hot(y) @ E_G; D's input is the image with one_hot(y) @ E_D, reshaped to "
               "size×size, as a second channel. Rebuilt by hand around the library networks' "
               "own DCGAN bodies and tables, the outputs must match the library's forward "
               "passes exactly.")
G_lib = ConditionalGenerator(Z_DIM, SIZE, WIDTH).to(args.device)
D_lib = ConditionalDiscriminator(SIZE, WIDTH).to(args.device)
n = 20
y = labels_tensor(np.arange(n) % 10, args.device)
one_hot = minigan.tensor(np.eye(10, dtype=np.float32)[np.arange(n) % 10], device=args.device)
z = minigan.randn(n, Z_DIM, device=args.device)
with minigan.no_grad():
    g_in = minigan.cat([z, one_hot @ G_lib.embed.weight], dim=1)       # z ⧺ embed_G(y)
    x_own = G_lib.net(g_in)                                            # the DCGAN generator
    plane = (one_hot @ D_lib.embed.weight).reshape(n, 1, SIZE, SIZE)   # embed_D(y) as a plane
    d_own = D_lib.net(minigan.cat([x_own, plane], dim=1))              # image ⧺ label channel
    g_diff = float(np.abs((x_own - G_lib(z, y)).numpy()).max())
    d_diff = float(np.abs((d_own - D_lib(x_own, y)).numpy()).max())
print(f"  G's input: {Z_DIM} noise + {G_lib.embed.weight.shape[1]} label numbers; D's input: "
      f"{tuple(plane.shape[1:])} label plane beside the {tuple(x_own.shape[1:])} image")
course.check(args, "max |G by hand - G_library(z, y)|", g_diff, "0 up to float32 rounding",
             ok=g_diff < 1e-5, fmt=".1e")
course.check(args, "max |D by hand - D_library(x, y)|", d_diff, "0 up to float32 rounding",
             ok=d_diff < 1e-5, fmt=".1e")

# %%
course.section(args, f"2. Train the conditional DCGAN for {STEPS} steps",
               "Non-saturating G loss, Adam 2e-4 with beta1 0.5, an EMA of G; fake batches "
               "get random labels, which D sees too.")
run = images.train_model("cgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=DATA, z_dim=Z_DIM, g_width=WIDTH, d_width=WIDTH)
train_s = run.train_seconds
print(f"  {1000 * train_s / STEPS:.0f} ms a step")

# %%
course.section(args, "3. Ask for each digit",
               "1000 samples of the EMA generator with labels 0, 1, ..., 9, 0, 1, ...; the "
               "classifier reads each one. Chance agreement is 1/10; the classifier on real "
               "held-out digits is the ceiling. Then the grid 'same z, every label'.")
samples = run.samples(1000)
scorer = get_scorer(run.data["name"], run.size)
run.out = args.out                      # the run's figures go with this lesson's
extra = {"figures": []}
with contextlib.redirect_stdout(io.StringIO()):      # its numbers are checked below instead
    run.extra(scorer, extra)
main = next(iter(samples))
agree = extra[f"{main}_label_agreement"]
per_class = extra[f"{main}_per_class_agreement"]
real_acc = float((scorer.predict(run.data["x_test"]) == np.asarray(run.data["y_test"])).mean())
course.check(args, "label agreement (requested vs classified)", agree,
             f"chance 0.100, real digits {real_acc:.3f}", ok=agree > 0.8, fmt=".3f",
             quick_note=QUICK_NOTE)
course.check(args, "worst class agreement", min(per_class),
             f"digit {int(np.argmin(per_class))}; chance 0.100", ok=min(per_class) > 0.5,
             fmt=".3f", quick_note=QUICK_NOTE)
course.check(args, "same-z grid agreement", extra["same_z_grid_agreement"],
             f"label agreement {agree:.3f}: the label, not z, decides the class",
             ok=extra["same_z_grid_agreement"] > 0.8, fmt=".3f", quick_note=QUICK_NOTE)
score = scorer.score(samples[main])
base = scorer.baseline()
course.check(args, "classes covered (of 10)", score["coverage"],
             f"asked for all 10; real digits {base['coverage']}", ok=score["coverage"] == 10,
             quick_note=QUICK_NOTE)
course.check(args, "Fréchet distance", score["frechet"], f"real vs real {base['frechet']:.3f}",
             ok=None, fmt=".3f")

# %%
order = np.argsort(run.sample_labels[:100], kind="stable")
fig_samples = P.image_grid_figure(
    args.out / "samples_by_label.png", samples[main][:100][order], nrow=10,
    title=f"cGAN after {STEPS} steps: row k asked for digit k")
figs = [fig_samples] + list(extra["figures"])

# %%
course.report(args, {"steps": STEPS, "train seconds": train_s, "data": run.data["name"],
                     "z_dim": Z_DIM, "width": WIDTH}, figs,
              notes="--quick trains a few seconds only: the numbers then just show the machinery")
