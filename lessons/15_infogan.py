"""InfoGAN: a GAN that names its own factors of variation, without labels.

InfoGAN (Chen et al. 2016; lecture notes 004, "InfoGAN - unsupervised") splits G's input
into noise z and a *code* c = (c1, c2, c3): c1 a 10-way categorical, c2 and c3 uniform on
[-1, 1]. It rewards G when c can be read back from G(z, c), through a variational lower
bound on the mutual information I(c; G(z, c)):

    L_I = E[log Q(c1 | x)] + E[log Q(c2, c3 | x)]   at x = G(z, c),

with Q a small head on the discriminator's body (shared features, almost free). G and Q
maximise lambda·L_I on top of the usual GAN game (``minigan.experiments.images.infogan``).

Nothing tells the network that c1 should be the digit class. It becomes the class because
the class is the most informative discrete factor of the digits. We measure it: sample with
c1 = k, classify the samples, match codes to classes by the best permutation (Hungarian
algorithm); the *purity* is the share of samples whose class is the one matched to their
code. Chance is what the same matching gives codes that carry no information (shuffled).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import numpy as np  # noqa: E402

from minigan.experiments import images as images  # noqa: E402
from minigan.experiments.images.infogan import code_purity  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains for a few seconds only (150 steps: the numbers just show the machinery); the
# full lesson trains 2000 steps (a moderate budget; `images --model infogan` defaults to 5000).
STEPS = images.QUICK["infogan"]["steps"] if args.quick else 2000

# %% [markdown]
# ## 1. Train InfoGAN (``images.MODELS["infogan"]``)

# %%
run = images.train_model("infogan", STEPS, quick=args.quick, seed=args.seed, device=args.device)
train_s = run.train_seconds
print(f"trained InfoGAN for {STEPS} steps in {train_s:.1f} s")

# %% [markdown]
# ## 2. Did c1 become the digit class? Purity against chance, and the code grids

# %%
samples = run.samples(1000)["infogan"]
scorer = get_scorer("digits", 8)
run.out = args.out                      # the run's figures go with this lesson's
report = {"figures": []}
run.extra(scorer, report)
pred = scorer.predict(samples)
shuffled = np.random.default_rng(args.seed).permutation(run.sample_codes)
chance = code_purity(shuffled, pred)[0]
score = scorer.score(samples)
print(f"purity of c1 as the digit class: {report['code_purity']:.1%} (chance, shuffled codes: "
      f"{chance:.1%}); classes covered {score['coverage']}/10, Fréchet {score['frechet']:.3f}")

# %%
course.report(args, {
    "steps": STEPS,
    "train seconds": train_s,
    "c1 -> class purity": report["code_purity"],
    "purity with shuffled codes (chance)": chance,
    "code -> class": str(report["code_to_class"]),
    "classes covered": score["coverage"],
    "Fréchet": score["frechet"],
}, report["figures"],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
