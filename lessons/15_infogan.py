"""InfoGAN: a GAN that names its own factors of variation, without labels.

InfoGAN (Chen et al. 2016; lecture notes 004, "InfoGAN - unsupervised") splits G's input
into noise z and a *code* c = (c1, c2, c3): c1 a 10-way categorical, c2 and c3 uniform on
[-1, 1]. It rewards G when c can be read back from G(z, c). The mutual information
I(c1; G(z, c)) = H(c1) - H(c1 | G(z, c)) needs the posterior p(c1 | x), which we do not
have; a network Q(c1 | x) gives a variational lower bound (Chen et al., Lemma 5.1):

    L_I = E[log Q(c1 | x)] + H(c1) <= I(c1; G(z, c)) <= H(c1) = log 10,   x = G(z, c),

i.e. L_I = log 10 - (Q's cross-entropy on c1): 0 when Q cannot read the code, log 10 when it
reads it perfectly. The continuous codes get the same treatment with a fixed-variance
Gaussian Q (a squared error). Q is a small head on the discriminator's body (shared features,
almost free); G and Q maximise lambda·L_I on top of the usual GAN game. The lesson writes L_I
in a few lines, checks it against the library's loss (``minigan.experiments.images.infogan``),
and follows it from the untrained networks to the trained ones.

Nothing tells the network that c1 should be the digit class. It becomes the class because
the class is the most informative discrete factor of the digits. We measure it: sample with
c1 = k, classify the samples, match codes to classes by the best permutation (Hungarian
algorithm); the *purity* is the share of samples whose class is the one matched to their
code. Chance is what the same matching gives codes that carry no information (shuffled).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import contextlib  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.infogan import code_purity  # noqa: E402

# --quick trains for a few seconds only (150 steps: the numbers just show the machinery); the
# full lesson trains 2000 steps (a moderate budget; `images --model infogan` defaults to 5000).
STEPS = images.QUICK["infogan"]["steps"] if args.quick else 2000
QUICK_NOTE = "150 steps: Q and G have only begun to agree on the code"
H_C1 = math.log(10)                     # entropy of the uniform 10-way code, in nats


# %%
def info_lower_bound(q_logits, one_hot):
    """Q's cross-entropy on c1 and L_I = H(c1) - cross-entropy, from Q's 10 logits."""
    log_q = q_logits - minigan.logsumexp(q_logits, axis=1, keepdims=True)   # log Q(c1 | x)
    cross_entropy = -(log_q * one_hot).sum(axis=1).mean()                   # -E[log Q(c1|x)]
    return cross_entropy, H_C1 - float(cross_entropy.item())


def read_back(run, n=1000):
    """Draw n codes, generate x = G(z, c), and return (Q's output on x, c1, c2c3, one-hot)."""
    c1, cc, one_hot = run.codes(n)
    with minigan.no_grad():
        _, q = run.D(run.G(minigan.cat([run.noise(n), one_hot, cc], dim=1)))
    return q, c1, cc, one_hot


course.section(args, "1. The mutual-information term in a few lines, at the start",
               "info_lower_bound takes Q's logits for c1 and the one-hot codes. Before any "
               "training Q reads nothing: its cross-entropy is about log 10 and L_I about 0. "
               "The cross-entropy must equal the categorical part of the library's loss, "
               "which the run adds (weight lambda) to both players' losses.")
run = images.train_model("infogan", 0, quick=args.quick, seed=args.seed, device=args.device)
q, c1, cc, one_hot = read_back(run)
ce_own, li_start = info_lower_bound(q[:, :10], one_hot)
ce_lib, _ = run._info_loss(q, c1, cc)        # the loss the run trains with (c1 part)
diff = abs(float(ce_own.item()) - float(ce_lib.item()))
course.check(args, "|cross-entropy by hand - library's|", diff, "0 up to float32 rounding",
             ok=diff < 1e-5, fmt=".1e")
course.check(args, "L_I before training [nats]", li_start,
             "0: an untrained Q cannot read the code", ok=abs(li_start) < 0.1, fmt=".3f")

# %%
course.section(args, f"2. Train InfoGAN for {STEPS} steps, and read the code back",
               "The same run trained (images.MODELS['infogan']): non-saturating GAN loss plus "
               "lambda·(cross-entropy on c1) + lambda_cont·(squared error on c2, c3). L_I is "
               "measured again on fresh codes; it can only approach H(c1) = log 10.")
t0 = time.perf_counter()
run.train_steps(STEPS)
train_s = time.perf_counter() - t0
print(f"  {1000 * train_s / STEPS:.0f} ms a step")
q, c1, cc, one_hot = read_back(run)
_, li_end = info_lower_bound(q[:, :10], one_hot)
course.check(args, "L_I after training [nats]", li_end,
             f"lower bound on I(c1; G(z, c)) <= H(c1) = log 10 = {H_C1:.3f}",
             ok=0.5 * H_C1 < li_end <= H_C1, fmt=".3f")

# %%
course.section(args, "3. Did c1 become the digit class? Purity against chance, and code grids",
               "L_I near log 10 only says that Q reads c1 back from the images, not that c1 "
               "is the class: the quick run's L_I is already close to log 10 while c1 is not yet "
               "the class. 1000 samples with c1 = 0, 1, ..., 9, 0, ...; the digit classifier "
               "reads them; "
               "codes are matched to classes by the best permutation. Chance: the same "
               "matching on shuffled codes.")
samples = run.samples(1000)["infogan"]
scorer = get_scorer("digits", 8)
run.out = args.out                      # the run's figures go with this lesson's
extra = {"figures": []}
with contextlib.redirect_stdout(io.StringIO()):      # its numbers are checked below instead
    run.extra(scorer, extra)
pred = scorer.predict(samples)
shuffled = np.random.default_rng(args.seed).permutation(run.sample_codes)
chance = code_purity(shuffled, pred)[0]
course.check(args, "c1 -> class purity", extra["code_purity"],
             f"chance (shuffled codes) {chance:.3f}", ok=extra["code_purity"] > 2 * chance,
             fmt=".3f", quick_note=QUICK_NOTE)
print(f"  code -> class: {extra['code_to_class']}")
score = scorer.score(samples)
base = scorer.baseline()
course.check(args, "classes covered (of 10)", score["coverage"], f"real digits {base['coverage']}",
             ok=score["coverage"] >= 9, quick_note=QUICK_NOTE)
course.check(args, "Fréchet distance", score["frechet"], f"real vs real {base['frechet']:.3f}",
             ok=None, fmt=".3f")

# %%
course.report(args, {"steps": STEPS, "train seconds": train_s,
                     "lambda (c1)": run.config["lambda_cat"],
                     "lambda (c2, c3)": run.config["lambda_cont"]}, extra["figures"],
              notes="--quick trains a few seconds only: the numbers then just show the machinery")
