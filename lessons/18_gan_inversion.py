"""GAN inversion on real 28×28 MNIST: random restarts against an encoder start, and does G copy?

A generator has no encoder: given a real digit x, which z makes G(z) look like it? Zhu et al.
(2016, iGAN; lecture notes 004, "Finding the closest point on the manifold") answer by
optimisation, with G's weights frozen and gradient descent on z alone:

    z* = argmin_z ||G(z) - x||².

The problem is not convex (G is a deep network), so it is solved from several random starting
points (*restarts*), keeping the best per image. Most of that search is spent walking from a
random z to the right region of z-space. iGAN's answer: train an encoder E: x -> z once, to
invert G (on G's own samples, whose z is known, and on training digits through the frozen G),
then start the search at E(x) and refine it with a few steps. The encoder alone is one forward
pass; the refinement fixes what a regression gets approximately right.

The last section asks the question every good-looking GAN must answer (lecture notes 000): are
its samples new digits, or copies of training digits? For each sample, the nearest training
image, in pixels and in the classifier's features, next to the same distance for held-out real
digits (``minigan.evaluation.memorisation``).

--quick runs on the 8×8 digits for a few seconds: the numbers then only show the machinery.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.evaluation.inversion import compare_inversions, train_encoder  # noqa: E402
from minigan.evaluation.memorisation import format_memorisation, memorisation_check  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.dcgan import CLASSIC_RECIPE  # noqa: E402
from minigan.gan.sampling import SAMPLE_SEED_OFFSET, fixed_z, generate  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# Full run: MNIST 28×28, a DCGAN of width 32 (z 32) for 1200 steps (the `images` default is
# larger and longer; this is the lesson's budget), an encoder trained 600 steps, 100 held-out
# digits inverted with 150 Adam steps: from E(x) (one start) and from 4 random starts.
if args.quick:
    DATA, STEPS, ENC_STEPS, N, INV_STEPS, RESTARTS = "digits", 150, 60, 40, 40, 2
else:
    DATA, STEPS, ENC_STEPS, N, INV_STEPS, RESTARTS = "mnist", 1200, 600, 100, 150, 4

# %%
course.section(args, "1. A DCGAN on the digits",
               f"{STEPS} steps on {DATA} (lesson 12's recipe, width 32, z of 32 numbers).")
data = images.load_image_data(DATA, device=args.device)
run = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data=data, z_dim=32, g_width=32, d_width=32, **CLASSIC_RECIPE)
G, z_dim = next(iter(run.sample_generators().values()))        # the EMA generator
scorer = get_scorer(data["name"], data["size"])
print(f"trained {STEPS} steps in {run.train_seconds:.0f} s; scorer test accuracy "
      f"{scorer.test_accuracy:.3f}")

# %%
course.section(args, "2. An encoder trained to invert G",
               "E: x -> z, the DCGAN discriminator's conv stack with a z-wide head. Half of each "
               "batch is G's samples (loss: ||G(E(x)) - x||² plus ||E(x) - z||², z known), "
               "half training digits (pixel loss through the frozen G). Never the held-out "
               "digits we evaluate on.")
x_train = backend.to_numpy(data["x_train"].array)
E, enc_hist = train_encoder(G, z_dim=z_dim, steps=ENC_STEPS, batch_size=64, lr=1e-3,
                            real=data["x_train"], seed=args.seed + 5)
print(f"encoder loss {enc_hist[0]:.4f} (first 50 steps) -> {enc_hist[-1]:.4f} (last 50)"
      if enc_hist else "encoder trained")

# %%
course.section(args, "3. Invert held-out digits: encoder, encoder + Adam, random restarts",
               f"{N} held-out digits; {INV_STEPS} Adam steps on z from E(x) (one start) and "
               f"from {RESTARTS} random starts (best kept). Error: mean squared difference "
               "per pixel on [-1, 1]; time: the whole search.")
# the held-out split is ordered by class: a fixed draw across it, so every digit appears
x = data["x_test"][np.random.default_rng(0).choice(len(data["x_test"]), N, replace=False)]
xt = Tensor(backend.as_array(x, device=args.device))
res = compare_inversions(G, xt, E, z_dim=z_dim, steps=INV_STEPS, restarts=RESTARTS,
                         lr=0.05, seed=args.seed + 3)
labels = scorer.predict(x)
for name, r in res.items():
    r["same"] = float((scorer.predict(r["images"]) == labels).mean())
    print(f"{name:<12s} MSE per pixel {r['mse']:.4f}   same class as x {r['same']:.0%}   "
          f"{r['seconds']:.2f} s")
ratio = res["encoder+opt"]["mse"] / res["random"]["mse"]
course.check(args, "encoder+opt MSE / random restarts MSE", ratio,
             reference="< 1: the encoder start ends closer, with 1/restarts of the work",
             ok=ratio < 1, fmt=".3f", quick_note="8×8 digits, a barely trained G")
speed = res["random"]["seconds"] / max(res["encoder+opt"]["seconds"], 1e-9)
course.check(args, "time of random restarts / encoder+opt", speed,
             reference=f"about {RESTARTS}: one start instead of {RESTARTS}", fmt=".2f")

# %%
fig_rec = P.reconstruction_figure(
    args.out / "inversion_encoder_vs_restarts.png", x[:16],
    {name: r["images"][:16] for name, r in res.items()},
    title=f"inversion of held-out digits: MSE encoder {res['encoder']['mse']:.3f}, "
          f"encoder+opt {res['encoder+opt']['mse']:.3f}, best of {RESTARTS} random "
          f"{res['random']['mse']:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
ax = axes[0]
for name, style in (("encoder+opt", "o-"), ("random", "s--")):
    ax.plot(res[name]["times"], res[name]["history"], style, ms=3,
            label=name if name != "random" else f"best of {RESTARTS} random")
ax.axhline(res["encoder"]["mse"], color="C2", lw=1, label="encoder alone")
ax.set_xlabel("seconds")
ax.set_ylabel("||G(z) - x||² per pixel")
ax.set_yscale("log")
ax.set_title("error against time", fontsize=9)
ax.legend(fontsize=7)
ax = axes[1]
ax.hist([res["encoder+opt"]["errors"], res["random"]["errors"]], bins=15,
        label=["encoder+opt", f"best of {RESTARTS} random"])
ax.set_xlabel("||G(z*) - x||² per pixel")
ax.set_ylabel("digits")
ax.set_title("per digit: large errors are what G cannot draw", fontsize=9)
ax.legend(fontsize=7)
fig_err = course.save_figure(fig, args, "inversion_error_and_time.png")

# %%
course.section(args, "4. Does G copy its training digits?",
               "For 1000 samples and every held-out digit: the distance to the nearest training "
               "image, in pixels and in the classifier's features. Held-out digits say what 'a "
               "new digit' looks like.")
samples = generate(G, fixed_z(1000, z_dim, args.seed + SAMPLE_SEED_OFFSET, args.device))
mem = memorisation_check(samples, x_train, data["x_test"], features=scorer.features)
print(format_memorisation(mem))
course.check(args, "memorisation: generated / held-out median distance (pixels)",
             mem["pixels"]["ratio"], reference="about 1 or above: no sign of copying",
             ok=mem["pixels"]["ratio"] > 0.8, fmt=".3f")
course.check(args, "near-copies (closer than 99 % of held-out digits, pixels)",
             mem["pixels"]["near_copies"], reference="about 1 %", fmt=".3f")
show = samples[:12]
fig_mem = P.labelled_rows_figure(
    args.out / "nearest_training_images.png",
    {"sample": show, "nearest (pixels)": x_train[mem["pixels"]["nearest"][:12]],
     "nearest (features)": x_train[mem["features"]["nearest"][:12]]}, ncol=12,
    title=f"samples and their nearest training digits; median distance generated / held-out: "
          f"pixels {mem['pixels']['ratio']:.2f}, features {mem['features']['ratio']:.2f}")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.hist([mem["pixels"]["generated"], mem["pixels"]["held_out"]], bins=30, density=True,
        label=["generated", "held-out real"])
ax.set_xlabel("RMS pixel distance to the nearest training image")
ax.set_ylabel("density")
ax.legend(fontsize=7)
fig_hist = course.save_figure(fig, args, "nearest_distance_histogram.png")

# %%
course.report(args, {
    "data": DATA, "DCGAN steps": STEPS, "encoder steps": ENC_STEPS, "digits inverted": N,
    **{f"{k} MSE": r["mse"] for k, r in res.items()},
    **{f"{k} seconds": r["seconds"] for k, r in res.items()},
    **{f"{k} same class": r["same"] for k, r in res.items()},
    "memorisation ratio (features)": mem["features"]["ratio"],
    "near-copies (features)": mem["features"]["near_copies"],
}, [fig_rec, fig_err, fig_mem, fig_hist],
    notes="--quick: 8×8 digits and a few seconds of training; the numbers show the machinery")
