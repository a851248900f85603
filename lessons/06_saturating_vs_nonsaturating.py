"""Saturating vs non-saturating generator loss: why G minimises -log D(G(z)) in practice.

In the minimax game G minimises E log(1 - D(G(z))). Goodfellow et al. (2014, section 3;
lecture notes 000, "non-saturating cost") warn that this "may not provide sufficient gradient
for G to learn well. Early in learning, when G is poor, D can reject samples with high
confidence", and propose instead that G *maximise* log D(G(z)): "the same fixed point of the
dynamics of G and D but much stronger gradients early in learning".

Why, in one line. D(x) = sigmoid(t) with t the logit, and dsigmoid/dt = D (1 - D), so

    d/dt log(1 - D) = -D          -> 0 when D rejects the fakes (D(G(z)) -> 0): saturates
    d/dt [-log D]   = -(1 - D)    -> -1 there: a full-strength signal

and every gradient that reaches G's weights is this number times dt/dx times dx/dθ. Both
losses push G the same way (the sign is the same); only the *size* differs, by a factor
D / (1 - D), which is 1e-4 when D(G(z)) = 1e-4.

The lesson measures it three ways:

1. the two costs and their gradients, analytic curves, with the per-example gradients
   autodiff computes at moments early in training (D learning to reject a fixed poor G);
2. a run where D wins early: both losses start from the *same* state (G far from the data,
   D trained to reject it) and run the same Algorithm 1. With plain SGD for G the
   saturating run never moves (JSD stays at log 2) while the non-saturating one escapes;
3. the twist: with Adam for G, the saturating run escapes too. Adam divides each step by the
   running RMS of the gradient, so a gradient 1e-4 times smaller makes the same-sized step.
   Saturation costs magnitude; an adaptive optimizer gives magnitude back (until the
   gradient sinks below Adam's eps or into float noise). Goodfellow's paper used SGD.
   (Which of the two Adam runs ends lower is the luck of one seed: neither is converged.)
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import types  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import gan, optim  # noqa: E402
from minigan.plots import toys as plot  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments import toy1d  # noqa: E402
from minigan.experiments.toy1d import GeneratorDistribution, measure_saturation  # noqa: E402

dev = args.device
data, noise = toy.Gaussian1D(4.0, 0.5), toy.GaussianNoise()
x = theory.grid(-3.0, 8.0, 2201)
STEPS = 400 if args.quick else 1500
PRETRAIN = 300

# %% [markdown]
# ## 1. A poor G and a D that learns to reject it: measured gradients early in training
# G starts as a random network centred at x = 0, four units from the data. We train D
# against this fixed G and, after 0, 5, 20, 60 and 300 D steps, measure the gradient of each
# G loss with respect to every fake example's logit (autodiff, per example).

# %%
G, D = toy1d.players(g_shift=0.0, d_shift=4.0, device=dev)      # the 1-D recipe


opt_d0 = optim.Adam(D.parameters(), lr=2e-3)
players = types.SimpleNamespace(G=G, D=D)
measured = {"gan": ([], []), "nsgan": ([], [])}
done = 0
for upto in (0, 5, 20, 60, PRETRAIN):
    if upto > done:
        gan.fit_discriminator(D, opt_d0, data, GeneratorDistribution(G, noise, dev),
                              steps=upto - done, batch_size=256,
                              final_lr_fraction=1.0)
        done = upto
    for name, (dgz, grads) in measure_saturation(players, data, noise, dev, n=64).items():
        measured[name][0].append(dgz)
        measured[name][1].append(grads)
measured = {k: (np.concatenate(a), np.concatenate(b)) for k, (a, b) in measured.items()}
dev_sat = float(np.abs(measured["gan"][1] - measured["gan"][0]).max())
dev_ns = float(np.abs(measured["nsgan"][1] - (1 - measured["nsgan"][0])).max())
d_start = float(measured["gan"][0][-64:].mean())
print(f"measured |d/dt log(1-D)| vs D: max deviation {dev_sat:.1e}; |d/dt(-log D)| vs 1-D: "
      f"{dev_ns:.1e} (float32 autodiff)")
print(f"after {PRETRAIN} D steps against the poor G: mean D(G(z)) = {d_start:.4f}: the "
      f"saturating gradient is {d_start:.1e}, the non-saturating {1 - d_start:.3f}")

# %% [markdown]
# ## 2. A run where D wins early, with each loss, from the same start
# The same G and D (copied), the same data and noise stream (same seed), Algorithm 1 with
# k = 1; D always uses Adam. Only the generator's loss (and then its optimizer) differs.

# %%
g_state = {k: v.numpy().copy() for k, v in G.state_dict().items()}
d_state = {k: v.numpy().copy() for k, v in D.state_dict().items()}


def jsd_now(tr):
    p_g = theory.generator_density(gan.as_numpy_fn(tr.G, device=dev), x, noise.pdf, -8, 8,
                                   n_z=8001)
    return theory.jsd(data.pdf(x), p_g, x)


def g_mean_now(tr):
    with minigan.no_grad():
        return float(tr.G(noise.sample(2000, device=dev)).numpy().mean())


def run(objective, g_opt):
    minigan.manual_seed(args.seed + 1)
    G2, D2 = toy1d.players(g_shift=0.0, d_shift=4.0, device=dev)
    G2.load_state_dict(g_state)
    D2.load_state_dict(d_state)
    og, od, _ = toy1d.optimizers(G2, D2)
    if g_opt == "SGD":
        og = optim.SGD(G2.parameters(), lr=0.01)
    tr = gan.GANTrainer(G2, D2, og, od, data, noise, objective=objective, k=1, batch_size=256,
                        device=dev, progress=False, metrics={"jsd": jsd_now, "g_mean": g_mean_now},
                        metrics_every=max(1, STEPS // 30))
    tr.train(STEPS)
    return tr.history


histories = {}
for g_opt in ("SGD", "Adam"):
    for objective in ("gan", "nsgan"):
        histories[f"{objective} ({g_opt})"] = run(objective, g_opt)
final_jsd = {k: h["metrics"][-1]["jsd"] for k, h in histories.items()}
for k, h in histories.items():
    print(f"{k:<13} JSD: start {h['metrics'][0]['jsd']:.3f} -> end {final_jsd[k]:.4f} nats; "
          f"mean G(z) {h['metrics'][0]['g_mean']:+.2f} -> {h['metrics'][-1]['g_mean']:+.2f}; "
          f"final mean D(G(z)) = {h['d_fake'][-1]:.2e}")

# %%
runs = {k: ([r["step"] for r in h["metrics"]], [r["jsd"] for r in h["metrics"]],
            {} if "SGD" in k else {"linestyle": "--"}) for k, h in histories.items()}
fig_sat = args.out / "saturation.png"
plot.saturation_figure(fig_sat, measured=measured, runs=runs)

# %% [markdown]
# ## 3. Inside the D-wins-early runs: D(G(z)) and where G's samples are

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for k, h in histories.items():
    style = dict(color="red" if k.startswith("gan") else "blue",
                 linestyle="-" if "SGD" in k else "--", label=k)
    axes[0].semilogy(h["step"], np.maximum(h["d_fake"], 1e-12), linewidth=1, **style)
    axes[1].plot([r["step"] for r in h["metrics"]], [r["g_mean"] for r in h["metrics"]], **style)
axes[0].set_xlabel("generator step")
axes[0].set_ylabel("mean D(G(z)) on the batch (log scale)")
axes[0].set_title("saturating + SGD: D(G(z)) sinks, and with it G's gradient", fontsize=9)
axes[0].legend(fontsize=7)
axes[1].axhline(4.0, color="black", linestyle=":", label="data mean 4")
axes[1].set_xlabel("generator step")
axes[1].set_ylabel("mean of G(z)")
axes[1].set_title("final JSD: " + ", ".join(f"{k} {v:.3f}" for k, v in final_jsd.items()),
                  fontsize=7)
axes[1].legend(fontsize=7)
fig_inside = course.save_figure(fig, args, "d_wins_early_runs.png")

# %%
numbers = {
    "max |measured - D| (saturating gradient)": dev_sat,
    "max |measured - (1-D)| (non-saturating gradient)": dev_ns,
    "mean D(G(z)) at the D-wins start": d_start,
    "steps per run": STEPS,
}
for k, v in final_jsd.items():
    numbers[f"final JSD, {k} [nats]"] = v
course.report(args, numbers, [fig_sat, fig_inside])
