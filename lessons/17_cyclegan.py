"""CycleGAN: translate between two image domains without a single pair, kept honest by cycles.

Style transfer: change the style of an image while keeping its content (lecture notes 003,
"Cycle GAN"). With pairs (the same digit in both styles) it would be supervised learning;
pairs are hard to find. CycleGAN (Zhu, Park, Isola & Efros 2017; notes 003 and 004, "cycle
consistency loss") learns from *unpaired* images of two domains A and B: two generators
G: A -> B and F: B -> A, two discriminators D_B and D_A, and

    L(G, F, D_A, D_B) = L_GAN(G, D_B) + L_GAN(F, D_A) + λ·L_cyc(G, F),
    L_cyc = E_a |F(G(a)) - a|_1 + E_b |G(F(b)) - b|_1               (λ = 10).

Each GAN term alone only asks for *some* convincing image of the other domain: G could map
every a to the same bold 1. The cycle term asks that the translation can be undone, so it
must keep what the image was (here: which digit), changing only the style.

The lesson writes L_cyc in a few engine ops and checks it against the library's number for
the same generators. The domains (``minigan.experiments.images.cyclegan``): A = the 8×8
digits, B = stroke-thickened digits (each image averaged with its grey dilation). A and B
come from disjoint halves of the training split: the model never sees one digit in both
styles. We measure on held-out digits: the cycle L1 errors, whether the digit classifier
(trained on A) still finds the true class after translation, and how close G(a) gets to the
true thickening of a, a pair it was never shown.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import contextlib  # noqa: E402
import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import backend  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.cyclegan import thicken  # noqa: E402
from minigan.plots import images as P  # noqa: E402

# --quick trains for a few seconds only (50 steps: the numbers just show the machinery); the
# full lesson trains 1500 steps (the default of `python -m minigan images --model cyclegan`).
STEPS = images.QUICK["cyclegan"]["steps"] if args.quick else images.DEFAULTS["cyclegan"]["steps"]
QUICK_NOTE = "50 steps: the generators are still close to the identity"


def cycle_loss(G, F, a, b):
    """L_cyc = mean |F(G(a)) - a| + mean |G(F(b)) - b| (per pixel; the run weights it by λ)."""
    return (F(G(a)) - a).abs().mean() + (G(F(b)) - b).abs().mean()


# %%
course.section(args, "1. The two domains, unpaired",
               "A: the digits. B: thicken(x) = (x + dilate(x)) / 2, dilation by a 3×3 cross. "
               "The run draws A from the even and B from the odd training images. The size of "
               "the change of style, |a - thicken(a)|, is the yardstick for every L1 below.")
data = images.load_image_data("digits", device=args.device)
x_test, y_test = data["x_test"], data["y_test"]
b_test = thicken(x_test)
scorer = get_scorer("digits", 8)
l1_ab = float(np.abs(x_test - b_test).mean())
acc_real = {"A": float((scorer.predict(x_test) == y_test).mean()),
            "B": float((scorer.predict(b_test) == y_test).mean())}
course.check(args, "|a - thicken(a)| per pixel", l1_ab, "the change of style (pixels in "
             "[-1, 1]); a translation that does nothing is off by this much", ok=None, fmt=".4f")
course.check(args, "classifier right on B (thickened) digits", acc_real["B"],
             f"on A, its training domain: {acc_real['A']:.3f}", ok=None, fmt=".3f")
xtr = backend.to_numpy(data["x_train"].array)
fig_domains = P.labelled_rows_figure(
    args.out / "domains.png", {"A (even)": xtr[0:24:2], "B (odd, thickened)":
                               thicken(xtr[1:24:2])},
    ncol=12, title="two domains, never a pair")

# %%
course.section(args, f"2. Train {STEPS} steps (images.MODELS['cyclegan'])",
               "LSGAN losses, the L1 cycle loss with λ = 10, Adam 2e-4. Each generator is "
               "y = tanh(2x + net(x)): close to the identity at the start, so the cycle loss "
               "starts small and the adversarial terms have to learn the change of style.")
run = images.train_model("cyclegan", STEPS, quick=args.quick, seed=args.seed,
                         device=args.device, data=data)
hist = run.history
ms_step = 1000 * run.train_seconds / STEPS
k = max(1, STEPS // 10)
print(f"  {ms_step:.0f} ms a step: four generator and six discriminator passes")
course.check(args, f"training cycle L1, mean of the last {k} steps",
             float(np.mean(hist["cycle_l1"][-k:])),
             f"first {k} steps {np.mean(hist['cycle_l1'][:k]):.4f}", ok=None, fmt=".4f")

# %%
course.section(args, "3. The cycle loss by hand, on held-out digits",
               "cycle_loss (above) on all held-out A digits and their thickenings as B, with "
               "the trained generators, against the sum of the library's two cycle errors "
               "(A->B->A and B->A->B) for the same images.")
run.samples()
run.out = args.out                      # the run's figures go with this lesson's
extra = {"figures": []}
with contextlib.redirect_stdout(io.StringIO()):      # its numbers are checked below instead
    run.extra(scorer, extra)
a_t = minigan.tensor(x_test, device=args.device)
b_t = minigan.tensor(b_test, device=args.device)
with minigan.no_grad():
    own = float(cycle_loss(run.G_AB, run.G_BA, a_t, b_t).item())
lib = extra["cycle_l1_ABA"] + extra["cycle_l1_BAB"]
course.check(args, "|L_cyc by hand - library's|", abs(own - lib), "0 up to float32 rounding",
             ok=abs(own - lib) < 1e-5, fmt=".1e")
for cyc, key in (("A->B->A", "cycle_l1_ABA"), ("B->A->B", "cycle_l1_BAB")):
    course.check(args, f"cycle L1 {cyc}", extra[key],
                 f"< |a - thicken(a)| = {l1_ab:.4f}: smaller than the change of style",
                 ok=extra[key] < l1_ab, fmt=".4f")

# %%
course.section(args, "4. Is the digit kept, and is the style changed?",
               "The classifier (trained on A) reads the translations; G(a) is compared with the "
               "true thickening of a, a pair training never showed (doing nothing scores "
               "|a - thicken(a)|); the Fréchet distance of B->A to real digits against that "
               "of the untranslated B digits.")
course.check(args, "class kept B->A", extra["agreement_BtoA"],
             f"real A {acc_real['A']:.3f}, real B {acc_real['B']:.3f}, chance 0.100",
             ok=extra["agreement_BtoA"] > 0.8, fmt=".3f", quick_note=QUICK_NOTE)
course.check(args, "class kept A->B", extra["agreement_AtoB"],
             f"real B {acc_real['B']:.3f}", ok=None, fmt=".3f")
l1_true = float(np.abs(run.a_to_b - b_test).mean())
course.check(args, "|G(a) - thicken(a)| per pixel", l1_true,
             f"doing nothing: {l1_ab:.4f}", ok=l1_true < l1_ab, fmt=".4f", quick_note=QUICK_NOTE)
course.check(args, "Fréchet to real digits, B->A", extra["frechet_BtoA"],
             f"untranslated B {extra['frechet_B_untranslated']:.3f}",
             ok=extra["frechet_BtoA"] < extra["frechet_B_untranslated"], fmt=".3f",
             quick_note=QUICK_NOTE)
course.check(args, "ink (mean pixel), B->A", extra["ink_BtoA"],
             f"A {extra['ink_A']:.3f}, B {extra['ink_B']:.3f}; A->B {extra['ink_AtoB']:.3f}",
             ok=abs(extra["ink_BtoA"] - extra["ink_A"]) < abs(extra["ink_BtoA"] - extra["ink_B"]),
             fmt=".3f", quick_note=QUICK_NOTE)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
steps = np.asarray(hist["step"])
w = max(1, STEPS // 25)
sm = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")  # noqa: E731
for key, color, label in (("cycle_l1", "C3", "cycle L1 (both cycles)"),
                          ("g_adv", "C0", "G adversarial (LSGAN)"),
                          ("d_loss", "black", "D loss (LSGAN)")):
    axes[0].plot(steps[w - 1:], sm(hist[key]), color=color, label=label)
axes[0].set_xlabel("step")
axes[0].set_ylabel("loss")
axes[0].set_title("training losses", fontsize=9)
axes[0].legend(fontsize=7, loc="upper right")
names = ["real A", "real B", "B -> A", "A -> B"]
vals = [acc_real["A"], acc_real["B"], extra["agreement_BtoA"], extra["agreement_AtoB"]]
axes[1].bar(names, vals, color=["black", "0.5", "C3", "C0"])
axes[1].set_ylim(0, 1.08)
axes[1].set_ylabel("classifier finds the true class")
axes[1].set_title("is the digit kept?", fontsize=9)
fig_curves = course.save_figure(fig, args, "training_and_class_kept.png")

# %%
course.report(args, {"steps": STEPS, "train seconds": run.train_seconds,
                     "lambda (cycle)": run.config["lambda_cycle"]},
              [fig_domains, fig_curves] + extra["figures"],
              notes="--quick trains a few seconds only: the numbers then just show the machinery")
