"""pix2pix: edges -> digit and top half -> digit with a U-Net and a PatchGAN, L1 against L1 + GAN.

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
and the share of grey pixels against the real digits', and how often the digit classifier
reads the target's class.

Two tasks (``data.paired``): edges -> digit, where the outline leaves little to guess, and
top half -> whole digit (inpainting), where the hidden half is open (a 7 or a 9?). The
adversarial term earns its keep only where there is something to guess.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images  # noqa: E402
from minigan.gan.models.pix2pix import receptive_field  # noqa: E402

# full: 1000 steps of both generators per task (about 1.5 minutes per task on one core);
# `images --model pix2pix` trains 1500. --quick: 20 steps, the machinery only.
STEPS = images.QUICK["pix2pix"]["steps"] if args.quick else 1000
QUICK_NOTE = "20 steps only: neither generator has learnt to fill strokes yet"

# %%
course.section(args, "0. Paired data: Sobel edges of MNIST digits, and their top halves",
               "Two 3×3 convolutions estimate the image's derivatives; a pixel is an edge where "
               "the gradient's magnitude passes 0.5. The edge map is the outline of the "
               "strokes: it fixes the shape, not which side of a line is ink. The second "
               "task's input is the digit with its lower half hidden.")
run = images.train_model("pix2pix", STEPS, quick=args.quick, seed=args.seed, device=args.device,
                         data="mnist")
y_test = run.data["x_test"]
x_test = run.inputs(y_test)                  # the edge maps the run trains on
lower = (y_test[:, :, 14:] > 0).sum() / (y_test > 0).sum()
print(f"  {run.y_train.shape[0]} training pairs, {len(y_test)} held out; edge pixels "
      f"{(x_test > 0).mean():.1%}, ink pixels {(y_test > 0).mean():.1%}, {lower:.0%} of the "
      "ink in the lower half (the second task hides it)")

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
def compare(task, run):
    """Both generators of ``run`` on the held-out pairs: the numbers, the checks, the figure."""
    run.samples()
    res = run.measure(scorer)
    l1, gan, real = res["pix2pix_l1"], res["pix2pix"], res["real"]
    for label, r in (("L1 only", l1), ("L1 + GAN", gan)):
        print(f"  {label:<9s} L1 {r['l1']:.4f}, sharpness {r['sharpness']:.3f}, grey pixels "
              f"{r['grey']:.3f}, classifier reads the target's class on {r['agreement']:.1%} "
              f"(confidence {r['confidence']:.3f})")
    course.check(args, f"{task}: sharpness, L1 + GAN / L1 only",
                 gan["sharpness"] / l1["sharpness"],
                 f"> 1: the GAN term removes blur (real digits {l1['sharpness_real']:.3f}, "
                 f"L1 only {l1['sharpness']:.3f})", ok=gan["sharpness"] > l1["sharpness"],
                 fmt=".2f", quick_note=QUICK_NOTE)
    course.check(args, f"{task}: |sharpness - real|, L1 + GAN vs L1 only",
                 abs(gan["sharpness"] - gan["sharpness_real"])
                 - abs(l1["sharpness"] - l1["sharpness_real"]),
                 "< 0: the GAN's outputs are as sharp as real digits, closer than L1's",
                 ok=abs(gan["sharpness"] - gan["sharpness_real"])
                 < abs(l1["sharpness"] - l1["sharpness_real"]), fmt=".3f",
                 quick_note=QUICK_NOTE)
    course.check(args, f"{task}: grey pixels (|v| < 0.5), L1 only", l1["grey"],
                 f"L1 + GAN {gan['grey']:.3f}, real {real['grey']:.3f}: the median's blur is "
                 "grey", ok=l1["grey"] > gan["grey"], fmt=".3f", quick_note=QUICK_NOTE)
    course.check(args, f"{task}: L1 error, L1 + GAN minus L1 only", gan["l1"] - l1["l1"],
                 ">= 0 expected: the GAN's sharp guess pays in L1 where it guesses wrong",
                 ok=None, fmt=".4f")
    course.check(args, f"{task}: target class kept, L1 + GAN", gan["agreement"],
                 f"real digits {real['agreement']:.1%}, L1 only {l1['agreement']:.1%}",
                 ok=gan["agreement"] > 0.8, fmt=".3f", quick_note=QUICK_NOTE)
    fig = run.translations_figure(args.out / f"pix2pix_{task}.png", res)
    print(f"  figure: {fig}")
    return res, fig


scorer = get_scorer("mnist", 28)
course.section(args, f"2. Edges -> digit, {STEPS} steps: L1 alone against L1 + GAN",
               f"Both generators saw the same {STEPS} batches of 32 pairs "
               f"({run.train_seconds:.0f} s for the two). The outline fixes the digit almost "
               "completely: is there blur left for the GAN term to remove?")
edges, fig_edges = compare("edges", run)

# %%
course.section(args, "3. Top half -> whole digit: an input that leaves the answer open",
               "The lower half hidden (grey): the top of a 7 may end as a 7 or a 9. L1 alone "
               "is minimised by the per-pixel median of the endings that fit, a grey blur "
               "where they disagree; the patch discriminator rejects blur.")
inpaint_run = images.train_model("pix2pix", STEPS, quick=args.quick, seed=args.seed,
                                 device=args.device, data="mnist", task="inpaint")
print(f"  trained both generators {STEPS} steps in {inpaint_run.train_seconds:.0f} s")
inpaint, fig_inpaint = compare("inpaint", inpaint_run)

# %%
course.report(args, {"steps": STEPS, "train seconds (edges)": run.train_seconds,
                     "train seconds (inpaint)": inpaint_run.train_seconds,
                     **{f"{task}, {label}: {k}": res[key][k]
                        for task, res in (("edges", edges), ("inpaint", inpaint))
                        for label, key in (("L1 only", "pix2pix_l1"), ("L1+GAN", "pix2pix"))
                        for k in ("l1", "agreement")}}, [fig_edges, fig_inpaint],
              notes="--quick trains seconds only: the numbers then just show the machinery")
