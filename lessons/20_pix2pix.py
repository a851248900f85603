"""pix2pix: translate edge maps into digits with a U-Net and a PatchGAN, L1 alone against L1 + GAN.

Lecture notes 001/004 (Isola et al. 2017). With *paired* data (x, y) -- here the Sobel edge
map of an MNIST digit and the digit (``minigan.data.edges``) -- the obvious loss is a
per-pixel distance |G(x) - y|. It is minimised by the per-pixel median of all the digits that
fit the edges: correct in the large, blurred wherever the edges leave the strokes'
filling uncertain. pix2pix adds a conditional discriminator that sees the pair (x, y) and
judges it *patch by patch*: blur is easy to spot in a patch, so G is pushed towards one
sharp, plausible answer::

    G* = arg min_G max_D  L_cGAN(G, D) + λ · E|y - G(x)|_1,   λ = 100.

The generator is a U-Net (skip connections carry the edges' positions straight across), the
discriminator a PatchGAN whose logits each see a window of the pair: its receptive field is
computed from its layers. ``images --model pix2pix`` trains both generators side by side on
the same batches (L1 alone, and L1 + λ·GAN), so the comparison is at an equal budget.
Measured on the 500 held-out pairs: the L1 error, the sharpness (variance of the Laplacian)
against the real digits', and how often the digit classifier reads the target's class.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import numpy as np  # noqa: E402

from minigan.data.edges import edge_map  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images  # noqa: E402
from minigan.gan.models.pix2pix import receptive_field  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# full: 1000 steps of both generators (about 2.5 minutes on one core); `images --model pix2pix`
# trains 1500. --quick: 20 steps, the machinery only.
STEPS = images.QUICK["pix2pix"]["steps"] if args.quick else 1000
QUICK_NOTE = "20 steps only: neither generator has learnt to fill strokes yet"

# %%
course.section(args, "0. Paired data: Sobel edges of MNIST digits",
               "Two 3×3 convolutions estimate the image's derivatives; a pixel is an edge where "
               "the gradient's magnitude passes 0.5. The edge map is the outline of the "
               "strokes: it fixes the shape, not which side of a line is ink.")
run = images.train_model("pix2pix", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data="mnist")
y_test = run.data["x_test"]
x_test = edge_map(y_test)
print(f"  {run.y_train.shape[0]} training pairs, {len(y_test)} held out; edge pixels "
      f"{(x_test > 0).mean():.1%}, ink pixels {(y_test > 0).mean():.1%}")

# %%
course.section(args, "1. The PatchGAN's receptive field",
               "Walk the discriminator's convolutions: a k×k layer widens the window by "
               "(k - 1)·jump input pixels, and its stride multiplies the jump.")
rf = receptive_field(run.D.net)
course.check(args, "PatchGAN receptive field [pixels]", rf,
             "4×4/2, 4×4/2, 3×3/1: 1 + 3 + 3·2 + 2·4 = 18", ok=rf == 18)
logits = run.D(run.x_train[:2], run.y_train[:2])
print(f"  D's output for a batch of 2 pairs: {logits.shape} -- {logits.shape[2]}×"
      f"{logits.shape[3]} patches of {rf}×{rf}, each judged real or fake")

# %%
course.section(args, f"2. Trained {STEPS} steps: L1 alone against L1 + GAN on held-out pairs",
               f"Both generators saw the same {STEPS} batches of 32 pairs "
               f"({run.train_seconds:.0f} s for the two).")
run.samples()
scorer = get_scorer("mnist", 28)
res = run.measure(scorer)
l1, gan = res["pix2pix_l1"], res["pix2pix"]
for label, r in (("L1 only", l1), ("L1 + GAN", gan)):
    print(f"  {label:<9s} L1 {r['l1']:.4f}, sharpness {r['sharpness']:.3f}, classifier reads "
          f"the target's class on {r['agreement']:.1%}")
course.check(args, "sharpness, L1 + GAN / L1 only", gan["sharpness"] / l1["sharpness"],
             f"> 1: the GAN term removes blur (real digits {l1['sharpness_real']:.3f}, "
             f"L1 only {l1['sharpness']:.3f})", ok=gan["sharpness"] > l1["sharpness"],
             fmt=".2f", quick_note=QUICK_NOTE)
course.check(args, "|sharpness - real|, L1 + GAN vs L1 only",
             abs(gan["sharpness"] - gan["sharpness_real"]) - abs(l1["sharpness"]
                                                                 - l1["sharpness_real"]),
             "< 0: the GAN's outputs are as sharp as real digits, closer than L1's",
             ok=abs(gan["sharpness"] - gan["sharpness_real"])
             < abs(l1["sharpness"] - l1["sharpness_real"]), fmt=".3f", quick_note=QUICK_NOTE)
course.check(args, "L1 error, L1 + GAN minus L1 only", gan["l1"] - l1["l1"],
             ">= 0 expected: the GAN's sharp guess pays in L1 where it guesses wrong",
             ok=None, fmt=".4f")
course.check(args, "target class kept, L1 + GAN", gan["agreement"],
             f"real digits {res['real']['agreement']:.1%}, L1 only {l1['agreement']:.1%}",
             ok=gan["agreement"] > 0.8, fmt=".3f", quick_note=QUICK_NOTE)

# %%
k = 12
fig = P.reconstruction_figure(
    args.out / "pix2pix_translations.png", x_test[:k],
    {"L1 only": run.outputs["pix2pix_l1"][:k], "L1 + GAN": run.outputs["pix2pix"][:k],
     "target": y_test[:k]},
    title=f"edges -> digit after {STEPS} steps (sharpness: L1 {l1['sharpness']:.2f}, "
          f"L1+GAN {gan['sharpness']:.2f}, real {l1['sharpness_real']:.2f})")
print(f"  figure: {fig}")
# the per-pixel spread of the L1 outputs vs the GAN outputs: grey (uncertain) pixels
grey = {label: float((np.abs(out) < 0.5).mean()) for label, out in run.outputs.items()}
course.check(args, "grey pixels (|v| < 0.5), L1 only", grey["pix2pix_l1"],
             f"L1 + GAN {grey['pix2pix']:.3f}, real {(np.abs(y_test) < 0.5).mean():.3f}: the "
             "median's blur is grey", ok=grey["pix2pix_l1"] > grey["pix2pix"], fmt=".3f",
             quick_note=QUICK_NOTE)

# %%
course.report(args, {"steps": STEPS, "train seconds": run.train_seconds,
                     "L1 only: L1": l1["l1"], "L1+GAN: L1": gan["l1"],
                     "L1 only: agreement": l1["agreement"]}, [fig],
              notes="--quick trains seconds only: the numbers then just show the machinery")
