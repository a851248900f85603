"""Improved techniques for training GANs (Salimans et al. 2016), measured on 28×28 MNIST.

Salimans, Goodfellow et al. listed tricks that make the GAN game less likely to circle or
collapse (lecture notes: "Improved Techniques for Training GANs"). Each is a few lines in
``minigan.gan.techniques`` and a flag of the DCGAN run:

* **feature matching** (``--feature-matching``): G minimises ||E f(x) - E f(G(z))||² over D's
  last convolutional features f instead of fooling D's output;
* **one-sided label smoothing** (``--label-smoothing``): D's target for real digits is 0.9,
  for fakes still 0, so D's logits on real data stop at log 9 instead of growing forever;
* **historical averaging** (``--historical-averaging``): both players pay λ||θ - θ̄||², θ̄
  their parameters' running mean: a pull towards the centre of an orbit;
* **virtual batch norm** (``--virtual-batchnorm``): G normalises each example by a fixed
  reference batch plus itself, so G(z) no longer depends on the other z of its batch;
* **minibatch discrimination** (``--minibatch-disc``; ``nn.MinibatchDiscrimination``, lesson 09
  on the toys): D sees how close each sample is to the rest of its batch.

Part 1 checks each mechanism on a small example (seconds). Part 2 reads the measured study,
``docs/results/mnist_techniques.json``, made by ``python -m benchmarks.mnist_techniques``:
the 28×28 DCGAN trained on the same reduced budget once with each technique alone and once
plain, over three seeds, on the paper's recipe (Adam 2e-4, no R1: ``techniques.STUDY_RECIPE``;
lesson 12's run has since added R1 and a larger learning rate, which did help), scored on 10 000 samples by the MNIST classifier (Fréchet distance
in its features, classes covered, confidence). Every number printed in part 2 comes from that
file; the verdict "helped" needs a lower mean Fréchet distance than plain's by more than the
spread (half the range over seeds) of both. --quick runs the same (nothing here trains).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import json  # noqa: E402
import pathlib  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.gan import losses  # noqa: E402
from minigan.gan import techniques as T  # noqa: E402
from minigan.gan.models.dcgan import DCGANGenerator  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "results" / \
    "mnist_techniques.json"

# %% [markdown]
# ## 1. The mechanisms, on small examples

# %%
course.section(args, "1. The mechanisms, on small examples",
               "Each technique's defining property checked in seconds: where one-sided "
               "smoothing stops D's logit, whether an output depends on the rest of its batch "
               "(batch norm) or not (virtual batch norm), the historical average's pull.")
# One-sided label smoothing: the real-data loss's gradient in D's logit t is sigmoid(t) - 0.9,
# zero at t = log 9; without smoothing it is sigmoid(t) - 1 < 0 for every t (t keeps growing).
ts = np.linspace(-2, 8, 201)
grads = {}
for name, fn in (("plain", lambda r, f: losses.d_loss_minimax(r, f)),
                 ("one-sided 0.1", lambda r, f: T.d_loss_one_sided_smoothing(r, f, 0.1))):
    t = Tensor(ts[:, None].astype(np.float64), requires_grad=True)
    (fn(t, Tensor(np.zeros((1, 1)))) * len(ts)).backward()    # per-example gradients
    grads[name] = t.grad.array[:, 0]
t_star = ts[np.argmin(np.abs(grads["one-sided 0.1"]))]
course.check(args, "smoothed D's optimal real logit", float(t_star),
             reference=f"log 9 = {np.log(9):.3f}", ok=abs(t_star - np.log(9)) < 0.05)

# Virtual batch norm: G(z) computed in a batch of 64 and alone, with batch norm and with VBN.
minigan.manual_seed(args.seed)
z = minigan.randn(64, 16)
dependence = {}
for norm in ("batch", "virtual"):
    G = DCGANGenerator(z_dim=16, size=8, width=8, norm=norm)
    with minigan.no_grad():
        in_batch = G(z).array[:4]
        alone = np.concatenate([G(Tensor(z.array[i:i + 1])).array for i in range(4)])
    dependence[norm] = float(np.abs(in_batch - alone).max())
course.check(args, "batch norm: |G(z) in a batch - G(z) alone| (train mode)",
             dependence["batch"], reference="> 0: each output depends on the batch",
             ok=dependence["batch"] > 1e-2)
course.check(args, "virtual batch norm: the same difference", dependence["virtual"],
             reference="0 up to rounding", ok=dependence["virtual"] < 1e-4)

# Historical averaging: the penalty's pull 2λ(θ - θ̄) grows with the distance from the mean.
lin = minigan.nn.Linear(4, 4)
ha = T.HistoricalAverage(lin, weight=1e-2)
for _ in range(10):
    for p in lin.parameters():
        p.array += 0.05                   # a drift in one direction, as along an orbit
    ha.update()
course.check(args, "historical-averaging penalty after a drift of 0.5 (λ = 1e-2)",
             float(ha.penalty().item()),
             reference="θ̄ is the mean of 11 points 0.05 apart: λ Σ (θ - θ̄)² = "
                       "1e-2 · 20 weights · 0.25² = 0.0125",
             ok=abs(ha.penalty().item() - 1e-2 * 20 * 0.25 ** 2) < 1e-5)

# %% [markdown]
# ## 2. What each technique did on MNIST (the committed measurements)

# %%
if not RESULTS.exists():
    raise SystemExit(f"{RESULTS} is missing: run python -m benchmarks.mnist_techniques (see "
                     "docs/results/mnist.md)")
study = json.loads(RESULTS.read_text())
rows = study["rows"]
steps = rows[0]["steps"]
course.section(args, "2. What each technique did on MNIST (the committed measurements)",
               f"Read from docs/results/mnist_techniques.json: {len(rows)} runs of {steps} "
               f"steps ({study['command']}; {study['machine']}). Each technique alone against "
               "the plain DCGAN on the same seeds; Fréchet distance of the EMA generator in "
               "the classifier's features (mean ± half the range over seeds). 'Helped' needs "
               "a lower mean than plain's by more than both spreads.")
summary = {gen: study["summary"][gen] for gen in ("dcgan_ema", "dcgan")}
names = [n for n in study["descriptions"] if n in summary["dcgan_ema"]]
plain = summary["dcgan_ema"]["plain"]
verdicts = {}
for n in names:
    e = summary["dcgan_ema"][n]
    fd, spread = e["frechet"]
    verdicts[n] = ("helped" if e["helped"] else "hurt" if e["hurt"] else
                   "no difference beyond the seeds' spread") if n != "plain" else "reference"
    text = f"{fd:.3f} ± {spread:.3f}"
    if n != "plain":
        text += f" ({100 * e['frechet_change']:+.0f} %): {verdicts[n]}"
    course.check(args, f"{n} ({study['descriptions'][n]}): Fréchet", text,
                 reference=(f"plain: {plain['frechet'][0]:.3f} ± {plain['frechet'][1]:.3f}"
                            if n != "plain" else f"{e['seeds']} seeds"))
# Paired by seed: a seed starts every variant from the same weights and batches, so the change
# seed by seed says more than the two means.
plain_by_seed = {r["seed"]: r["dcgan_ema"]["frechet"] for r in rows if r["technique"] == "plain"}
for n in names[1:] if names[0] == "plain" else names:
    pairs = sorted((r["seed"], r["dcgan_ema"]["frechet"] / plain_by_seed[r["seed"]] - 1)
                   for r in rows if r["technique"] == n and r["seed"] in plain_by_seed)
    better = sum(d < 0 for _, d in pairs)
    course.check(args, f"{n}: change of Fréchet against plain, seed by seed",
                 ", ".join(f"{100 * d:+.0f} %" for _, d in pairs),
                 reference=f"lower on {better} of {len(pairs)} seeds")
helped = [n for n in names if verdicts[n] == "helped"]
course.check(args, "helped here", ", ".join(helped) or "none beyond the seeds' spread",
             reference="Salimans et al. report each helping on their budgets")

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
x = np.arange(len(names))
for k, (gen, label) in enumerate((("dcgan_ema", "EMA of G"), ("dcgan", "last G"))):
    means = [summary[gen][n]["frechet"][0] for n in names]
    spreads = [summary[gen][n]["frechet"][1] for n in names]
    axes[0].bar(x + (k - 0.5) * 0.38, means, 0.38, yerr=spreads, capsize=3, label=label,
                color=("C0", "C1")[k])
    seeds = [[r[gen]["frechet"] for r in rows if r["technique"] == n] for n in names]
    for i, v in enumerate(seeds):
        axes[0].plot(np.full(len(v), i + (k - 0.5) * 0.38), v, "k.", ms=3)
axes[0].set_xticks(x, names)
axes[0].set_ylabel("Fréchet distance (classifier features)")
axes[0].set_title(f"lower is better ({steps} steps, bars: mean ± spread)", fontsize=9)
axes[0].legend(fontsize=7)
for ax, key, title in ((axes[1], "coverage", "classes covered (of 10)"),
                       (axes[2], "confidence", "classifier confidence")):
    m = [summary["dcgan_ema"][n][key][0] for n in names]
    s = [summary["dcgan_ema"][n][key][1] for n in names]
    ax.bar(x, m, 0.6, yerr=s, capsize=3, color="C0")
    ax.set_xticks(x, names)
    ax.set_title(title + " (EMA of G)", fontsize=9)
axes[1].set_ylim(0, 10.5)
axes[2].set_ylim(0, 1)
fig_study = course.save_figure(fig, args, "techniques_mnist.png")

fig, ax = plt.subplots(figsize=(5, 3.2))
for name, c in (("plain", "0.4"), ("one-sided 0.1", "C3")):
    ax.plot(ts, grads[name], color=c, label=name)
ax.axhline(0, color="0.7", linewidth=1)
ax.axvline(np.log(9), color="C3", linestyle=":", linewidth=1)
ax.set_xlabel("D's logit t on a real digit")
ax.set_ylabel("dL_D/dt")
ax.set_title("one-sided smoothing: D stops at t = log 9", fontsize=9)
ax.legend(fontsize=7)
fig_smooth = course.save_figure(fig, args, "label_smoothing_gradient.png")

# %%
course.report(args, {}, [fig_study, fig_smooth],
              notes="part 2 is read from docs/results/mnist_techniques.json; rerun the study "
                    "with python -m benchmarks.mnist_techniques (docs/results/mnist.md)")
