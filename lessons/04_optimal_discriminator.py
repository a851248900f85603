"""The optimal discriminator D* = p_data / (p_data + p_g), trained and measured.

Goodfellow et al. (2014), Proposition 1 (lecture notes 002): for a *fixed* generator, the
discriminator that maximises

    V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx

is D*_G(x) = p_data(x) / (p_data(x) + p_g(x)). The proof is one line of calculus done at
every x separately: for a, b > 0 the function y -> a log y + b log(1 - y) has derivative
a/y - b/(1 - y), zero at y = a / (a + b), and it is concave, so that is its maximum. D is free
to pick a different y at every x, so it picks a/(a+b) with a = p_data(x), b = p_g(x).

This is what Algorithm 1's inner loop chases: k steps of D with G held fixed. Here we run
that inner loop *to convergence* (``gan.fit_discriminator``: fresh batches of real and
generated samples, Adam with a decaying learning rate) for several fixed p_g and compare the
trained D with the formula, point by point. Two honest caveats you will see in the numbers:

* D learns from samples, so it is pinned down only where samples fall: where
  p_data + p_g is small (the tails) few samples ever land and D extrapolates freely;
* a finite network and finite steps leave a small error even in the bulk.

So we report max |D - D*| where p_data + p_g >= 0.05 and the mean where >= 0.01 (the
targets: <= 0.03 and <= 0.01), and plot the error against p_data + p_g to show the tails.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments.toy1d import DIST_CONFIG  # noqa: E402 (the toy settings a student can also run)
from minigan.experiments.toy1d import measure_optimal_discriminator  # noqa: E402

# %% [markdown]
# ## 1. The pointwise argument: a log y + b log(1 - y) peaks at y = a / (a + b)

# %%
y = np.linspace(1e-3, 1 - 1e-3, 999)
fig, ax = plt.subplots(figsize=(6, 3.8))
peak_err = 0.0
for (a, b), c in zip([(0.8, 0.2), (0.5, 0.5), (0.3, 0.6), (0.05, 0.4)], ["C0", "C1", "C2", "C3"]):
    f = a * np.log(y) + b * np.log1p(-y)
    y_best = y[np.argmax(f)]
    peak_err = max(peak_err, abs(y_best - a / (a + b)))
    ax.plot(y, f, color=c, label=f"a={a}, b={b}: peak at a/(a+b) = {a / (a + b):.3f}")
    ax.axvline(a / (a + b), color=c, linestyle=":", linewidth=1)
    ax.plot([y_best], [f.max()], "o", color=c)
ax.set_ylim(-2.5, 0)
ax.set_xlabel("y = D(x) at one point x")
ax.set_ylabel(r"$a \log y + b \log(1-y)$")
ax.set_title(r"with $a = p_{data}(x)$, $b = p_g(x)$: the best D(x) is $p_{data}/(p_{data}+p_g)$",
             fontsize=9)
ax.legend(fontsize=7, loc="lower center")
fig_pointwise = course.save_figure(fig, args, "pointwise_maximum.png")
print(f"grid argmax vs a/(a+b): max difference {peak_err:.1e} (the grid spacing is 1e-3)")

# %% [markdown]
# ## 2. Train D to convergence against fixed p_g, compare with D* point by point
# p_data = N(4, 0.5); each p_g is a known density we can sample (two Gaussians, a mixture
# and a far-off Gaussian). D is a tanh MLP of 64 units that standardises its input.

# %%
data = toy.Gaussian1D(4.0, 0.5)
family = DIST_CONFIG["gauss1d"]["family"](toy)
steps = 2000
if args.quick:
    family, steps = family[:2], 700
x = theory.grid(0.0, 8.0, 2001)
rows, fits = measure_optimal_discriminator(data, family, x, steps=steps, batch=512,
                                           device=args.device, n_samples=20_000)
for r, f in zip(rows, fits):
    total = f["p_data"] + f["p_g"]
    err = np.abs(f["d"] - f["d_star"])
    f["tail_max_err"] = r["tail_max_err"] = float(err[total < 0.01].max())
    print(f"p_g = {r['label']:<11} max|D-D*| = {r['max_err']:.4f} where p_data+p_g >= 0.05, "
          f"mean |D-D*| = {r['mean_err']:.4f} where >= 0.01; in the tails (< 0.01) the max is "
          f"{r['tail_max_err']:.3f}  ({r['seconds']:.1f} s)")

# %%
from minigan.plots import toys as plot  # noqa: E402

fig_fit = args.out / "d_vs_dstar.png"
plot.discriminator_fit_figure(fits, fig_fit)

# %% [markdown]
# ## 3. Where the error lives: |D - D*| against p_data + p_g
# Every grid point is one dot. Right of 0.05 (plenty of samples) the error is small; left of
# 0.01 almost no sample ever falls, and D is whatever its smooth extrapolation says.

# %%
fig, ax = plt.subplots(figsize=(6.4, 4))
for f, c in zip(fits, ["C0", "C1", "C2", "C3"]):
    total = f["p_data"] + f["p_g"]
    err = np.abs(f["d"] - f["d_star"])
    keep = total > 1e-8
    ax.loglog(total[keep], np.maximum(err[keep], 1e-6), ".", ms=2, color=c,
              label=f"p_g = {f['label']}: max {f['max_err']:.3f} (>=0.05)")
ax.axvline(0.05, color="0.3", linestyle="--", linewidth=1)
ax.axvline(0.01, color="0.3", linestyle=":", linewidth=1)
ax.text(0.052, 2e-6, "0.05", fontsize=8)
ax.text(0.0105, 2e-6, "0.01", fontsize=8)
ax.axhline(0.03, color="red", linewidth=0.8, label="target 0.03")
ax.set_xlabel(r"$p_{data}(x) + p_g(x)$ (how many samples fall near x)")
ax.set_ylabel(r"$|D(x) - D^*(x)|$")
ax.set_title("the trained D is pinned down only where samples fall", fontsize=9)
ax.legend(fontsize=7, loc="lower left", markerscale=4)
fig_tails = course.save_figure(fig, args, "error_vs_density.png")

# %%
numbers = {"D fit steps (batch 512)": steps}
for r in rows:
    numbers[f"max |D-D*| (p_data+p_g>=0.05), p_g={r['label']}"] = r["max_err"]
    numbers[f"mean |D-D*| (p_data+p_g>=0.01), p_g={r['label']}"] = r["mean_err"]
    numbers[f"max |D-D*| in the tails (<0.01), p_g={r['label']}"] = r["tail_max_err"]
numbers["worst max |D-D*| (>=0.05)"] = max(r["max_err"] for r in rows)
numbers["worst mean |D-D*| (>=0.01)"] = max(r["mean_err"] for r in rows)
course.report(args, numbers, [fig_pointwise, fig_fit, fig_tails])
