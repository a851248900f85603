"""The virtual training criterion C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g).

Goodfellow et al. (2014), Theorem 1 (lecture notes 002). Put the optimal discriminator
D* = p_data / (p_data + p_g) (lesson 04) back into the value function:

    C(G) = E_{p_data}[log p_data / (p_data + p_g)] + E_{p_g}[log p_g / (p_data + p_g)].

Add and subtract log 2 in each term; with the mixture m = (p_data + p_g) / 2 each term is a
KL divergence to m:

    C(G) = -log 4 + KL(p_data || m) + KL(p_g || m) = -log 4 + 2 JSD(p_data || p_g).

The Jensen-Shannon divergence is >= 0 and is 0 only when p_g = p_data, so the generator's
criterion has a unique global minimum, C = -log 4 ~ -1.386 at p_g = p_data, where D* = 1/2.
And it is bounded: JSD <= log 2, so C(G) <= 0, reached when p_g and p_data do not overlap.

In this lesson we check the theorem numerically on a family of generators p_g: for each one
we *train* a discriminator to convergence (G fixed), estimate max_D V from 100 000 real and
100 000 generated samples, and compare with -log 4 + 2 JSD computed by quadrature. The
trained value can only be *below* C(G) (no D beats D*), up to sampling noise of a few 1e-3.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan.plots import toys as plot  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments.toy1d import measure_optimal_discriminator  # noqa: E402

# %% [markdown]
# ## 1. A family of generators around p_data = N(4, 0.5)
# Shifted copies N(mu, 0.5) (the JSD grows with the shift until the two stop overlapping),
# a wider and a narrower Gaussian, and p_g = p_data itself, the minimum.

# %%
data = toy.Gaussian1D(4.0, 0.5)
x = theory.grid(-1.0, 11.0, 2401)
shifts = [4.0, 4.5, 5.0, 6.0, 9.0]
family = [(f"N({m:g},0.5)", toy.Gaussian1D(m, 0.5)) for m in shifts]
family += [("N(4,1)", toy.Gaussian1D(4.0, 1.0)), ("N(4,0.25)", toy.Gaussian1D(4.0, 0.25))]
steps, n_samples = 1500, 100_000
if args.quick:
    family, steps, n_samples = [family[i] for i in (0, 2, 4)], 500, 20_000

# %% [markdown]
# ## 2. Trained max_D V next to the analytic -log 4 + 2 JSD

# %%
rows, _ = measure_optimal_discriminator(data, family, x, steps=steps, batch=512,
                                        device=args.device, n_samples=n_samples)
for r in rows:
    r["diff"] = r["v_trained"] - r["c_of_g"]
    print(f"p_g = {r['label']:<10} JSD = {r['jsd']:.4f}  C(G) = -log4 + 2 JSD = {r['c_of_g']:+.4f}"
          f"  trained max_D V = {r['v_trained']:+.4f}  (diff {r['diff']:+.4f} nats, "
          f"{r['seconds']:.1f} s)")
at_data = next(r for r in rows if r["label"] == "N(4,0.5)")
max_diff = max(abs(r["diff"]) for r in rows)
print(f"at p_g = p_data: trained max_D V = {at_data['v_trained']:.4f}, -log 4 = "
      f"{-theory.LOG4:.4f}; largest |trained - analytic| over the family = {max_diff:.4f} nats")

# N(4, 1) and N(4, 0.25) land on the same point: x -> 4 + 2 (x - 4) maps (N(4,0.25), p_data)
# onto (p_data, N(4,1)), and the JSD is symmetric and unchanged by an invertible map of x.
labels = {"N(4,1)": "N(4,1) = N(4,0.25)", "N(4,0.25)": ""}
fig_line = args.out / "criterion_vs_jsd.png"
plot.criterion_figure([dict(r, label=labels.get(r["label"], r["label"])) for r in rows], fig_line,
                      title=f"trained max_D V vs -log 4 + 2 JSD: largest |diff| = "
                            f"{max_diff:.4f} nats")

# %% [markdown]
# ## 3. C(G) as the generator moves: the minimum -log 4 sits at p_g = p_data
# The analytic curve for p_g = N(mu, 0.5) over a range of mu, with the trained values on it.

# %%
mus = np.linspace(0.0, 10.0, 201)
curve = [theory.virtual_criterion(data.pdf(x), toy.Gaussian1D(m, 0.5).pdf(x), x) for m in mus]
fig, ax = plt.subplots(figsize=(6.4, 4))
ax.plot(mus, curve, color="black", label=r"$C(G) = -\log 4 + 2\,JSD$, $p_g = N(\mu, 0.5)$")
pts = [(float(lbl[2:].split(",")[0]), r) for lbl, r in ((r["label"], r) for r in rows)
       if lbl.endswith(",0.5)")]
ax.scatter([m for m, _ in pts], [r["v_trained"] for _, r in pts], color="red", zorder=3,
           label=r"trained $\max_D V$ (samples)")
ax.axhline(-theory.LOG4, color="0.4", linestyle=":", label=r"$-\log 4$ (p_g = p_data)")
ax.axhline(0.0, color="0.7", linestyle="--", linewidth=1, label=r"0 = $-\log 4 + 2 \log 2$ (no overlap)")
ax.axvline(4.0, color="0.8", linewidth=1)
ax.set_xlabel(r"$\mu$, the mean of $p_g$ ($p_{data}$ = N(4, 0.5))")
ax.set_ylabel("nats")
ax.set_title(f"min C(G) = {min(curve):.4f} at mu = {mus[int(np.argmin(curve))]:.2f}; "
             f"trained at p_g = p_data: {at_data['v_trained']:.4f}", fontsize=9)
ax.legend(fontsize=7, loc="center right")
fig_mu = course.save_figure(fig, args, "criterion_vs_shift.png")

# %%
numbers = {"D fit steps (batch 512)": steps, "samples per side for V": n_samples}
for r in rows:
    numbers[f"p_g={r['label']}: C(G) analytic"] = r["c_of_g"]
    numbers[f"p_g={r['label']}: trained max_D V"] = r["v_trained"]
numbers["trained max_D V at p_g = p_data"] = at_data["v_trained"]
numbers["-log 4"] = -theory.LOG4
numbers["largest |trained - analytic| [nats]"] = max_diff
course.report(args, numbers, [fig_line, fig_mu])
