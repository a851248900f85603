"""CycleGAN: translate between two image domains without a single pair, kept honest by cycles.

Style transfer: change the style of an image while keeping its content (lecture notes 003,
"Cycle GAN"). With pairs (the same digit in both styles) it would be supervised learning;
pairs are hard to find. CycleGAN (Zhu, Park, Isola & Efros 2017; notes 004) learns from
*unpaired* images of two domains A and B: two generators G: A -> B and F: B -> A, two
discriminators D_B and D_A, and

    L(G, F, D_A, D_B) = L_GAN(G, D_B) + L_GAN(F, D_A) + λ·L_cyc(G, F),
    L_cyc = E_a |F(G(a)) - a|_1 + E_b |G(F(b)) - b|_1               (λ = 10).

Each GAN term alone only asks for *some* convincing image of the other domain: G could map
every a to the same bold 1. The cycle term asks that the translation can be undone, so it
must keep what the image was (here: which digit), changing only the style.

The domains (``minigan.experiments.images.cyclegan``): A = the 8×8 digits, B = stroke-thickened digits
(each image averaged with its grey dilation). A and B come from disjoint halves of the
training split: the model never sees one digit in both styles. We measure on held-out
digits: the cycle L1 errors, whether the digit classifier (trained on A) still finds the true
class after translation, and how close G(a) gets to the true thickening of a, a pair it was
never shown.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.cyclegan import thicken  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains for a few seconds only (50 steps: the numbers just show the machinery); the
# full lesson trains 1500 steps (the default of `python -m minigan images --model cyclegan`).
STEPS = images.QUICK["cyclegan"]["steps"] if args.quick else images.DEFAULTS["cyclegan"]["steps"]

# %% [markdown]
# ## 1. The two domains, unpaired
# A: the digits. B: thicken(x) = (x + dilate(x)) / 2, dilation by a 3×3 cross. The run draws
# A from the even and B from the odd training images.

# %%
data = images.load_image_data("digits", device=args.device)
x_test, y_test = data["x_test"], data["y_test"]
b_test = thicken(x_test)
scorer = get_scorer("digits", 8)
ink = {"A": float(x_test.mean()), "B": float(b_test.mean())}
l1_ab = float(np.abs(x_test - b_test).mean())
acc_real = {"A": float((scorer.predict(x_test) == y_test).mean()),
            "B": float((scorer.predict(b_test) == y_test).mean())}
print(f"mean pixel (ink): A {ink['A']:.3f}, B {ink['B']:.3f}; |a - thicken(a)| = {l1_ab:.4f} "
      f"per pixel; the classifier (trained on A) is right on {acc_real['A']:.1%} of A and "
      f"{acc_real['B']:.1%} of B test digits")
xtr = backend.to_numpy(data["x_train"].array)
fig_domains = P.labelled_rows_figure(
    args.out / "domains.png", {"A (even)": xtr[0:24:2], "B (odd, thickened)": thicken(xtr[1:24:2])},
    ncol=12, title="the two domains: different digits in each, never a pair")

# %% [markdown]
# ## 2. Train (``images.MODELS["cyclegan"]``): LSGAN losses, L1 cycle loss λ = 10, Adam 2e-4
# Each generator is y = tanh(2x + net(x)): close to the identity at the start, so the cycle
# loss starts small and the adversarial terms have to learn the change of style.

# %%
run = images.train_model("cyclegan", STEPS, quick=args.quick, seed=args.seed,
                         device=args.device, data=data)
losses = run.history
ms_step = 1000 * run.train_seconds / STEPS
k = max(1, STEPS // 10)
print(f"trained {STEPS} steps in {run.train_seconds:.1f} s ({ms_step:.0f} ms a step: four generator and "
      f"six discriminator passes); training cycle L1 {np.mean(losses['cycle_l1'][:k]):.4f} over the "
      f"first {k} steps -> {np.mean(losses['cycle_l1'][-k:]):.4f} over the last {k}")

# %% [markdown]
# ## 3. Translate held-out digits A -> B -> A and B -> A -> B; measure the cycles and the class
# (the run's figures: rows = input, translation, translation back, and for A the true
# thickening, which training never paired with it)

# %%
run.samples()
run.out = args.out                      # the run's figures go with this lesson's
report = {"figures": []}
run.extra(scorer, report)               # prints agreement, cycle L1, ink, Fréchet
l1_true = float(np.abs(run.a_to_b - b_test).mean())
l1_true_back = float(np.abs(run.b_to_a - x_test).mean())
print(f"G(a) vs the true thickening of a: L1 {l1_true:.4f} per pixel (doing nothing: "
      f"{l1_ab:.4f}); F(thicken(a)) vs a: {l1_true_back:.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
steps = np.asarray(run.history["step"])
w = max(1, STEPS // 25)
sm = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")  # noqa: E731
for key, color, label in (("cycle_l1", "C3", "cycle L1 (both cycles)"),
                          ("g_adv", "C0", "G adversarial (LSGAN)"),
                          ("d_loss", "black", "D loss (LSGAN)")):
    axes[0].plot(steps[w - 1:], sm(losses[key]), color=color, label=label)
axes[0].set_xlabel("step")
axes[0].set_title("training: the cycle term stays small while the styles change", fontsize=9)
axes[0].legend(fontsize=7)
names = ["real A", "real B", "B -> A", "A -> B"]
vals = [acc_real["A"], acc_real["B"], report["agreement_BtoA"], report["agreement_AtoB"]]
axes[1].bar(names, vals, color=["black", "0.5", "C3", "C0"])
for i, v in enumerate(vals):
    axes[1].text(i, v, f"{v:.0%}", ha="center", va="bottom", fontsize=8)
axes[1].set_ylim(0, 1.08)
axes[1].set_ylabel("classifier finds the true class")
axes[1].set_title("is the digit kept under translation?", fontsize=9)
fig_curves = course.save_figure(fig, args, "training_and_class_kept.png")

# %%
course.report(args, {
    "steps": STEPS,
    "train seconds": run.train_seconds,
    "ms per step": ms_step,
    "cycle L1 A->B->A": report["cycle_l1_ABA"],
    "cycle L1 B->A->B": report["cycle_l1_BAB"],
    "|a - thicken(a)| (the change of style)": l1_ab,
    "|G(a) - thicken(a)| (a pair never shown)": l1_true,
    "class kept B->A": report["agreement_BtoA"],
    "class kept A->B": report["agreement_AtoB"],
    "classifier on real A / real B": f"{acc_real['A']:.3f} / {acc_real['B']:.3f}",
    "ink A / B / B->A / A->B": f"{ink['A']:.3f} / {ink['B']:.3f} / {report['ink_BtoA']:.3f} / "
                               f"{report['ink_AtoB']:.3f}",
    "Fréchet to real digits: B / B->A":
        f"{report['frechet_B_untranslated']:.3f} / {report['frechet_BtoA']:.3f}",
}, [fig_domains, fig_curves] + report["figures"],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
