"""StyleGAN, small: a mapping network into a style space w, AdaIN in every layer, style mixing and truncation.

Lecture notes 001 (Karras, Laine & Aila 2019). A DCGAN feeds z in at the bottom; StyleGAN
starts every image from the same *learned constant* and feeds the latent code in at every
layer instead, as a *style*:

* a **mapping network** (an MLP) turns z into w. z must follow its Gaussian prior, so where
  the data have gaps the map from z to images has to stretch; w follows no prior and can be
  laid out more evenly -- measured here as a perceptual path length in z and in w. It
  starts so that w varies as much as z does (Kaiming's init: with nn.Linear's default start,
  four layers shrink the spread of w to 2 % and the noise takes over the digit) and learns at
  0.01 × the rate of the rest, as in the paper; that slow start costs the first few hundred
  steps (docs/results/image_to_image.md);
* **AdaIN** in each layer normalises every feature map and gives it the mean and standard
  deviation an affine map of w asks for (``F.adaptive_instance_norm``, gradchecked to second
  order);
* **noise** images added in each layer carry the stochastic detail;
* **style mixing**: coarse layers (7×7) from one w, the rest from another. Trained with mixing,
  the layers must not rely on each other's w, so coarse layers end up deciding the digit's
  shape and fine ones its stroke;
* **truncation**: w̄ + ψ(w - w̄) trades variety for typicality as ψ goes from 1 to 0.

Measured: the Fréchet distance and classes covered against a DCGAN with the same
discriminator, data (28×28 MNIST) and number of steps (``images --model stylegan`` and
``images --model dcgan --data mnist`` run the full budgets; docs/results/image_to_image.md).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import functional as F  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images  # noqa: E402
from minigan.experiments.images.stylegan import TRUNCATIONS  # noqa: E402
from minigan.gan.sampling import SAMPLE_SEED_OFFSET, fixed_z, generate  # noqa: E402
from minigan.plots import image_to_image as Q  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# full: 300 steps of each GAN (about 3 minutes on one core for both); the CLI trains 1500.
# --quick: 8 steps, the machinery only.
STEPS = 8 if args.quick else 300
N = 200 if args.quick else 2000            # samples scored
QUICK_NOTE = "8 steps only: neither generator draws digits yet"

# %%
course.section(args, "0. AdaIN is instance norm with a per-sample scale and shift",
               "Each channel of each image is normalised over its pixels, then scaled and "
               "shifted by that image's own numbers (computed from w). Checked against its "
               "definition, and by finite differences to second order in float64.")
x = minigan.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4)), dtype="float64",
                   requires_grad=True)
g = minigan.tensor(np.random.default_rng(1).uniform(0.5, 2, (2, 3)), dtype="float64",
                   requires_grad=True)
b = minigan.tensor(np.random.default_rng(2).standard_normal((2, 3)), dtype="float64",
                   requires_grad=True)
y = F.adaptive_instance_norm(x, g, b).detach().numpy()
stats_ok = (np.allclose(y.mean((2, 3)), b.numpy()) and np.allclose(y.std((2, 3)), g.numpy(),
                                                                     rtol=1e-4))
course.check(args, "AdaIN output: per-channel mean = shift, std = scale", bool(stats_ok),
             "exactly the style's statistics", ok=stats_ok)
ok = (minigan.gradcheck(lambda *t: F.adaptive_instance_norm(*t) ** 2, (x, g, b))
      and minigan.gradgradcheck(lambda *t: F.adaptive_instance_norm(*t) ** 2, (x, g, b)))
course.check(args, "AdaIN gradcheck + gradgradcheck", bool(ok), "finite differences", ok=ok)

# %%
course.section(args, f"1. Train the StyleGAN and the DCGAN, {STEPS} steps each, on 28×28 MNIST",
               "The same discriminator (the DCGAN's), objective, optimiser, batch of 64 and "
               "moving average of G: only the generator differs.")
data = images.load_image_data("mnist", args.device)
sg = images.train_model("stylegan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                        data=data, n_samples=N, sweep_samples=min(N, 1000),
                        path_pairs=50 if args.quick else 500)
# (the DCGAN trains with the StyleGAN's learning rates and EMA, which are the recipe the
# StyleGAN was tuned with; the DCGAN's own default has since moved to a faster rate)
dc = images.train_model("dcgan", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                        data=data, **{k: sg.config[k] for k in ("lr_g", "lr_d", "ema")})
print(f"  StyleGAN {sg.train_seconds:.0f} s, DCGAN {dc.train_seconds:.0f} s")

# %%
course.section(args, "2. Fréchet distance and coverage, same budget",
               f"{N} samples of each moving-average generator, scored by the digit classifier "
               "against the held-out digits.")
scorer = get_scorer("mnist", 28)
G = sg.ema.shadow
z = fixed_z(N, sg.z_dim, args.seed + SAMPLE_SEED_OFFSET, args.device)
s_sg = scorer.score(generate(G, z))
dc_G = next(iter(dc.sample_generators().values()))[0]
s_dc = scorer.score(generate(dc_G, fixed_z(N, dc.z_dim, args.seed + SAMPLE_SEED_OFFSET,
                                           args.device)))
base = scorer.baseline(n=N)
for label, s in (("StyleGAN", s_sg), ("DCGAN", s_dc), ("real", base)):
    print(f"  {label:<9s} Fréchet {s['frechet']:.2f}, classes {s['coverage']}, k-NN coverage "
          f"{s['prdc_coverage']:.3f}")
course.check(args, "Fréchet, StyleGAN minus DCGAN", s_sg["frechet"] - s_dc["frechet"],
             "negative = StyleGAN closer to the real digits; no pass mark: measured",
             fmt=".2f")
course.check(args, "classes covered by the StyleGAN", s_sg["coverage"], "10 of 10",
             ok=s_sg["coverage"] >= 9, quick_note=QUICK_NOTE)

# %%
course.section(args, "3. Style mixing and truncation",
               "Grid: the top row's coarse (7×7) styles, the left column's middle and fine ones. "
               "Truncation: the same z at ψ = 1 ... 0.")
sg.out = args.out
src_a, src_b, mixed, nums = sg.style_mixing(G, scorer, n=100 if args.quick else 500)
fig_mix = Q.style_mixing_figure(args.out / "style_mixing.png", src_a, src_b, mixed,
                                title="coarse styles from the top row, the rest from the left")
print(f"  figure: {fig_mix}")
course.check(args, "mixtures with the coarse source's class", nums["mixing_class_from_coarse"],
             f"fine source's class: {nums['mixing_class_from_fine']:.1%} (of "
             f"{nums['mixing_pairs_of_different_class']} pairs of different classes)",
             ok=nums["mixing_class_from_coarse"] > nums["mixing_class_from_fine"], fmt=".3f",
             quick_note=QUICK_NOTE)
sweep, rows = sg.truncation_sweep(G, scorer)
fig_trunc = P.labelled_rows_figure(
    args.out / "truncation.png",
    {f"ψ={p:g}\nF {sweep[p]['frechet']:.1f}\n{sweep[p]['coverage']} classes": rows[p]
     for p in TRUNCATIONS}, 10, title="truncation w̄ + ψ(w - w̄): same z in each column")
print(f"  figure: {fig_trunc}")
for p in TRUNCATIONS:
    print(f"  ψ={p:<4g} Fréchet {sweep[p]['frechet']:.2f}, classes {sweep[p]['coverage']}, "
          f"confidence {sweep[p]['confidence']:.3f}")
course.check(args, "classes at ψ = 0 (the average image)", sweep[0.0]["coverage"],
             "1: one w for every z", ok=sweep[0.0]["coverage"] <= 2)

# %%
course.section(args, "4. Path length in z and in w",
               "E|φ(G(t)) - φ(G(t + ε))|² / ε² along random interpolations (ε = 0.01), φ the "
               "classifier's features, the same noise at both ends: spherical in z, linear in w.")
pl = sg.path_lengths(G, scorer)
course.check(args, "path length in w / in z", pl["path_length_w"] / max(pl["path_length_z"], 1e-12),
             f"< 1 in the paper (z {pl['path_length_z']:.1f}, w {pl['path_length_w']:.1f})",
             ok=pl["path_length_w"] < pl["path_length_z"], fmt=".2f", quick_note=QUICK_NOTE)

# %%
course.report(args, {"steps": STEPS, "StyleGAN train seconds": sg.train_seconds,
                     "DCGAN train seconds": dc.train_seconds,
                     "StyleGAN Fréchet": s_sg["frechet"], "DCGAN Fréchet": s_dc["frechet"],
                     "StyleGAN classes": s_sg["coverage"], "DCGAN classes": s_dc["coverage"],
                     "path length z": pl["path_length_z"], "path length w": pl["path_length_w"]},
              [fig_mix, fig_trunc],
              notes="--quick trains seconds only: the numbers then just show the machinery")
