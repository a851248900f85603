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
from minigan import functional as F  # noqa: E402
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
# ## 0. Both gradients in four lines of autodiff
# Five fakes that D rejects more and more confidently (logit t, D = sigmoid(t)); each loss
# summed over them, so t.grad holds every example's own gradient d loss / d t.

# %%
course.section(args, "0. Both G losses' gradients, by autodiff",
               "Five fake examples with logits t (D = sigmoid(t)); backward() of each loss "
               "gives d loss/dt per example. Compare with -D and -(1 - D).")
t_sat = minigan.tensor([4.0, 0.0, -4.0, -9.0, -14.0], requires_grad=True)
(-F.softplus(t_sat)).sum().backward()            # log(1 - D) = -softplus(t): G minimises it
t_ns = minigan.tensor([4.0, 0.0, -4.0, -9.0, -14.0], requires_grad=True)
F.softplus(-t_ns).sum().backward()               # -log D = softplus(-t): G minimises it
d_of_t = F.sigmoid(t_sat.detach()).numpy()
for t, d, gs, gn in zip(t_sat.detach().numpy(), d_of_t, t_sat.grad.numpy(), t_ns.grad.numpy()):
    print(f"  t = {t:+5.1f}  D = {d:.2e}   d/dt log(1-D) = {gs:+.2e}   d/dt(-log D) = {gn:+.3f}")
course.check(args, "saturating gradient at D = 8.3e-7 (t = -14)", float(t_sat.grad.numpy()[-1]),
             reference="-D = -8.3e-07: vanishes as D rejects the fake",
             ok=abs(t_sat.grad.numpy()[-1] + d_of_t[-1]) < 1e-9, fmt=".2e")
course.check(args, "non-saturating gradient there", float(t_ns.grad.numpy()[-1]),
             reference="-(1 - D) = -1: full strength",
             ok=abs(t_ns.grad.numpy()[-1] + 1 - d_of_t[-1]) < 1e-6, fmt=".4f")

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
course.section(args, "1. A D that learns to reject a poor G",
               f"D trains against a fixed G four units from the data; after 0, 5, 20, 60 and "
               f"{PRETRAIN} D steps autodiff gives each fake's gradient of both losses.")
course.check(args, "max |measured d/dt log(1-D) - D| over 320 fakes", dev_sat,
             reference="0 up to float32 rounding (~1e-7)", ok=dev_sat < 1e-5, fmt=".1e")
course.check(args, "max |measured d/dt(-log D) - (1-D)|", dev_ns,
             reference="0 up to float32 rounding", ok=dev_ns < 1e-5, fmt=".1e")
course.check(args, f"mean D(G(z)) after {PRETRAIN} D steps", d_start,
             reference="the saturating gradient's size; the non-saturating one is 1 - D",
             fmt=".4f")

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
course.section(args, "2. D wins early: the same start, each loss, SGD then Adam for G",
               f"{STEPS} iterations of Algorithm 1 (k = 1) from the same G and D. The JSD starts "
               "near log 2 = 0.693 (no overlap).")
for k, h in histories.items():
    moved = h["metrics"][-1]["g_mean"] - h["metrics"][0]["g_mean"]
    stuck = final_jsd[k] > 0.6
    if k == "gan (SGD)":
        ok, ref = stuck, "stays near log 2: the saturating gradient vanishes (Goodfellow et al.)"
    elif k == "nsgan (SGD)":
        ok, ref = not stuck, "escapes: the non-saturating gradient is full strength"
    else:
        ok, ref = not stuck, "escapes: Adam rescales even a tiny gradient"
    course.check(args, f"final JSD, {k} [nats]", final_jsd[k],
                 reference=f"{ref}; mean G(z) moved {moved:+.2f}", ok=ok, fmt=".4f",
                 good="as the theory says", bad="NOT as the theory says")

# %%
runs = {k: ([r["step"] for r in h["metrics"]], [r["jsd"] for r in h["metrics"]],
            {} if "SGD" in k else {"linestyle": "--"}) for k, h in histories.items()}
fig_sat = args.out / "saturation.png"
plot.saturation_figure(fig_sat, measured=measured, runs=runs)
print(f"  figure: {fig_sat}")

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
axes[0].legend(fontsize=7, loc="lower left")
axes[1].axhline(4.0, color="black", linestyle=":", label="data mean 4")
axes[1].set_xlabel("generator step")
axes[1].set_ylabel("mean of G(z)")
axes[1].set_title("where G's samples are", fontsize=9)
axes[1].legend(fontsize=7, loc="center right")
fig_inside = course.save_figure(fig, args, "d_wins_early_runs.png")

# %%
course.report(args, {"steps per run": STEPS}, [fig_sat, fig_inside])
