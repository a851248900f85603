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

So we check max |D - D*| where p_data + p_g >= 0.05 and the mean where >= 0.01 (the pass
marks: <= 0.03 and <= 0.01), and plot the error against p_data + p_g to show the tails.

What to watch in the terminal: gradient ascent at a single point lands on a / (a + b); the
formula written in the engine's ops matches the library's; and each trained D is within the
pass marks of D* in the bulk, while in the tails it can be far off.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
# the toy settings a student can also run with the toy1d experiment
from minigan.experiments.toy1d import DIST_CONFIG  # noqa: E402
from minigan.experiments.toy1d import measure_optimal_discriminator  # noqa: E402

# %% [markdown]
# ## 1. The pointwise argument: a log y + b log(1 - y) peaks at y = a / (a + b)

# %%
course.section(args, "1. The pointwise argument: a log y + b log(1 - y) peaks at a/(a+b)",
               "At one x, D(x) = y is a single number. Gradient ascent on y = sigmoid(t) for "
               "four pairs (a, b) = (p_data(x), p_g(x)) must land on a/(a+b); so must the argmax "
               "over a grid of y (to within its spacing, 1e-3).")
pairs = [(0.8, 0.2), (0.5, 0.5), (0.3, 0.6), (0.05, 0.4)]
a_t = minigan.tensor([a for a, _ in pairs], dtype="float64")
b_t = minigan.tensor([b for _, b in pairs], dtype="float64")
t = minigan.zeros(len(pairs), dtype="float64", requires_grad=True)   # D's logit at x
opt = minigan.optim.SGD([t], lr=2.0)
for _ in range(300):                    # ascend a log D + b log(1 - D) = descend its negative
    opt.zero_grad()
    (-(a_t * minigan.log_sigmoid(t) + b_t * minigan.log_sigmoid(-t)).sum()).backward()
    opt.step()
ascent_err = float(np.abs(minigan.sigmoid(t).detach().numpy()
                          - np.array([a / (a + b) for a, b in pairs])).max())
course.check(args, "max |D by gradient ascent - a/(a+b)| over the 4 pairs", ascent_err,
             reference="0: the stationary point of a/y - b/(1-y)", ok=ascent_err < 1e-6, fmt=".1e")

y = np.linspace(1e-3, 1 - 1e-3, 999)
fig, ax = plt.subplots(figsize=(6, 3.8))
peak_err = 0.0
for (a, b), c in zip(pairs, ["C0", "C1", "C2", "C3"]):
    f = a * np.log(y) + b * np.log1p(-y)
    y_best = y[np.argmax(f)]
    peak_err = max(peak_err, abs(y_best - a / (a + b)))
    ax.plot(y, f, color=c, label=f"a={a}, b={b}: peak at a/(a+b) = {a / (a + b):.3f}")
    ax.axvline(a / (a + b), color=c, linestyle=":", linewidth=1)
    ax.plot([y_best], [f.max()], "o", color=c)
ax.set_ylim(-2.5, 0)
ax.set_xlabel("y = D(x) at one point x")
ax.set_ylabel(r"$a\,\log y + b\,\log(1-y)$")
ax.set_title(r"$a = p_{data}(x)$, $b = p_g(x)$: best $D(x) = a/(a+b)$", fontsize=9)
ax.legend(fontsize=7, loc="lower center")
fig_pointwise = course.save_figure(fig, args, "pointwise_maximum.png")
course.check(args, "max |grid argmax - a/(a+b)|", peak_err,
             reference="at most half the grid spacing, 5e-4", ok=peak_err <= 5e-4 + 1e-12,
             fmt=".1e")

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
QUICK_NOTE = f"{steps} steps leave D short of convergence" if args.quick else None
course.section(args, "2. Train D to convergence against fixed p_g, compare with D*",
               f"p_data = N(4, 0.5). For each p_g, a tanh MLP D trains {steps} Adam steps on "
               "fresh batches of 512 real and 512 generated samples, then is compared with "
               "D* = p_data / (p_data + p_g) on a grid of 2001 points in [0, 8]: the largest "
               "error where p_data + p_g >= 0.05, the mean where >= 0.01, and (no pass mark) "
               "the largest in the tails, where almost no sample falls.")
x = theory.grid(0.0, 8.0, 2001)
p_data_t = minigan.tensor(data.pdf(x))
p_g_t = minigan.tensor(family[0][1].pdf(x))
d_star_hand = (p_data_t / (p_data_t + p_g_t)).numpy()           # Proposition 1, as written
d_star_err = float(np.abs(d_star_hand - theory.optimal_discriminator(data.pdf(x),
                                                                     family[0][1].pdf(x))).max())
course.check(args, f"max |D* by hand - library|, p_g = {family[0][0]}", d_star_err,
             reference="library: theory.optimal_discriminator; 0 up to rounding",
             ok=d_star_err < 1e-12, fmt=".1e")
rows, fits = measure_optimal_discriminator(data, family, x, steps=steps, batch=512,
                                           device=args.device, n_samples=20_000)
for r, f in zip(rows, fits):
    total = f["p_data"] + f["p_g"]
    err = np.abs(f["d"] - f["d_star"])
    f["tail_max_err"] = r["tail_max_err"] = float(err[total < 0.01].max())
    course.check(args, f"p_g = {r['label']}: max |D - D*| where p_data + p_g >= 0.05",
                 r["max_err"], reference="pass mark 0.03", ok=r["max_err"] <= 0.03, fmt=".4f",
                 quick_note=QUICK_NOTE)
    course.check(args, f"p_g = {r['label']}: mean |D - D*| where p_data + p_g >= 0.01",
                 r["mean_err"], reference="pass mark 0.01", ok=r["mean_err"] <= 0.01, fmt=".4f",
                 quick_note=QUICK_NOTE)
    course.check(args, f"p_g = {r['label']}: max |D - D*| in the tails (< 0.01)",
                 r["tail_max_err"], reference="no pass mark: D extrapolates where no sample "
                 "falls", fmt=".3f")

# %%
from minigan.plots import toys as plot  # noqa: E402

fig_fit = args.out / "d_vs_dstar.png"
plot.discriminator_fit_figure(fits, fig_fit)
print(f"  figure: {fig_fit}")

# %% [markdown]
# ## 3. Where the error lives: |D - D*| against p_data + p_g
# Every grid point is one dot. Right of 0.05 (plenty of samples) the error is small; left of
# 0.01 almost no sample ever falls, and D is whatever its smooth extrapolation says.

# %%
course.section(args, "3. Where the error lives: |D - D*| against p_data + p_g",
               "One dot per grid point: the error is small where samples are dense (right) and "
               "free where they are rare (left).")
fig, ax = plt.subplots(figsize=(6.4, 4))
for f, c in zip(fits, ["C0", "C1", "C2", "C3"]):
    total = f["p_data"] + f["p_g"]
    err = np.abs(f["d"] - f["d_star"])
    keep = total > 1e-8
    ax.loglog(total[keep], np.maximum(err[keep], 1e-6), ".", ms=2, color=c,
              label=f"p_g = {f['label']}")
ax.axvline(0.05, color="0.3", linestyle="--", linewidth=1)
ax.axvline(0.01, color="0.3", linestyle=":", linewidth=1)
ax.text(0.052, 2e-6, "0.05", fontsize=8)
ax.text(0.0105, 2e-6, "0.01", fontsize=8)
ax.axhline(0.03, color="red", linewidth=0.8, label="pass mark 0.03")
ax.set_xlabel(r"$p_{data}(x) + p_g(x)$ (how many samples fall near x)")
ax.set_ylabel(r"$|D(x) - D^*(x)|$")
ax.set_title("the trained D is pinned down only where samples fall", fontsize=9)
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=4)
fig_tails = course.save_figure(fig, args, "error_vs_density.png")

# %%
course.report(args, {"D fit steps (batch 512)": steps}, [fig_pointwise, fig_fit, fig_tails])
