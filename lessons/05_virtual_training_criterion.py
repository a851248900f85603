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

Then Proposition 2 (notes 002), numerically: if D is held at D* for the current G and G takes
a small gradient step on V(D*, G), then C(G) goes down. The reason is the envelope theorem:
C(G) = max_D V(D, G), and at the maximiser D* the derivative of V with respect to G's
parameters *is* the derivative of C -- D* moving with G changes V only to second order. So
gradient descent on V with D kept optimal is gradient descent on C(G) = -log 4 + 2 JSD, and
C falls step after step to -log 4.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402

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
course.section(args, "2. Trained max_D V next to the analytic -log 4 + 2 JSD",
               f"For each p_g, D trains {steps} steps against it (G fixed); V is then estimated "
               f"from {n_samples} samples per side. No D beats D*, so trained <= analytic, up "
               "to sampling noise.")
for r in rows:
    r["diff"] = r["v_trained"] - r["c_of_g"]
    course.check(args, f"p_g = {r['label']}: trained max_D V [nats]", r["v_trained"],
                 reference=f"C(G) = {r['c_of_g']:+.4f} (JSD {r['jsd']:.4f})",
                 ok=-0.03 < r["diff"] < 0.01, fmt="+.4f", good="agrees",
                 bad="disagrees (D under-trained or noise)")
at_data = next(r for r in rows if r["label"] == "N(4,0.5)")
max_diff = max(abs(r["diff"]) for r in rows)
course.check(args, "largest |trained - analytic| over the family [nats]", max_diff,
             reference="sampling noise, a few 1e-3", fmt=".4f")

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

# %% [markdown]
# ## 4. Proposition 2: with D held at D*, every small G step lowers C(G)
# G(z) = mu + sigma z with z ~ N(0, 1), so p_g = N(mu, sigma) and D* = p_data / (p_data + p_g)
# is known exactly. Each step: freeze D* for the current G, take one gradient step of G on
# E_z log(1 - D*(G(z))) (the expectation by quadrature over a fine z grid, so no sampling noise),
# then recompute C(G) analytically. By the envelope theorem the gradient of V(D*, G) is the
# gradient of C(G): compare the two at the start.

# %%
course.section(args, "4. Proposition 2: with D held at D*, each G step lowers C(G)",
               "G(z) = mu + sigma z starts at N(0, 1.5); each step freezes D* for the current G "
               "and descends E log(1 - D*(G(z))). C(G) is recomputed exactly after every step.")
LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
nodes = np.linspace(-10.0, 10.0, 4001)        # E f(z) = sum f(z_i) p_z(z_i) dz: the rectangle
z_q = minigan.tensor(nodes)                  # rule is exact to ~1e-12 for smooth f times a Gaussian
w_q = minigan.tensor(np.exp(-0.5 * nodes ** 2 - LOG_SQRT_2PI) * (nodes[1] - nodes[0]))


def log_normal(v, mean, std):
    return -0.5 * ((v - mean) / std) ** 2 - np.log(std) - LOG_SQRT_2PI


def v_of_g_with_frozen_d_star(mu, log_sigma, mu0, sigma0):
    """E_z log(1 - D*(G(z))) with D* built from p_g0 = N(mu0, sigma0), held fixed:
    log(1 - D*) = log p_g0 - log(p_data + p_g0), computed in log space (tails stay finite)."""
    xg = mu + minigan.exp(log_sigma) * z_q
    lp_data, lp_g0 = log_normal(xg, 4.0, 0.5), log_normal(xg, mu0, sigma0)
    return (w_q * (lp_g0 - minigan.logsumexp(minigan.stack([lp_data, lp_g0]), dim=0))).sum()


x_wide = theory.grid(-12.0, 16.0, 5601)        # wide enough for every p_g on the path


def criterion(mu, sigma):
    return theory.virtual_criterion(data.pdf(x_wide), toy.Gaussian1D(mu, sigma).pdf(x_wide),
                                    x_wide)


mu = minigan.tensor(0.0, dtype="float64", requires_grad=True)
log_sigma = minigan.tensor(np.log(1.5), dtype="float64", requires_grad=True)
opt_p2 = minigan.optim.SGD([mu, log_sigma], lr=0.5)
# the envelope theorem at the start: dV(D*, G)/dmu (autodiff) vs dC/dmu (finite difference)
v0 = v_of_g_with_frozen_d_star(mu, log_sigma, 0.0, 1.5)
v0.backward()
grad_v = float(mu.grad.item())
h = 1e-4
grad_c = (criterion(h, 1.5) - criterion(-h, 1.5)) / (2 * h)
course.check(args, "dV(D*, G)/dmu at the start (autodiff, D* frozen)", grad_v,
             reference=f"dC/dmu = {grad_c:+.5f} (finite difference of the analytic C)",
             ok=abs(grad_v - grad_c) < 1e-3 * max(1.0, abs(grad_c)), fmt="+.5f",
             good="equal: the envelope theorem", bad="different")
p2_steps = 100                      # cheap: the same in --quick
c_path = [criterion(0.0, 1.5)]
for _ in range(p2_steps):
    mu0, sigma0 = float(mu.item()), float(np.exp(log_sigma.item()))    # D* of the current G
    opt_p2.zero_grad()
    v_of_g_with_frozen_d_star(mu, log_sigma, mu0, sigma0).backward()
    opt_p2.step()
    c_path.append(criterion(float(mu.item()), float(np.exp(log_sigma.item()))))
c_path = np.array(c_path)
rises = int((np.diff(c_path) > 1e-10).sum())       # 1e-10: the quadrature's resolution
print(f"  largest rise of C in one step: {max(np.diff(c_path).max(), 0):.1e}; "
      f"C after 1, 10, 30 steps: {c_path[1]:+.4f}, {c_path[10]:+.4f}, {c_path[30]:+.4f}")
course.check(args, f"steps (of {p2_steps}) on which C(G) rose", rises,
             reference="0: each step descends C (Proposition 2)", ok=rises == 0)
course.check(args, "C(G) at the end [nats]", float(c_path[-1]),
             reference=f"-log 4 = {-theory.LOG4:.4f} (start {c_path[0]:+.4f})",
             ok=c_path[-1] + theory.LOG4 < 0.01, fmt="+.4f")
course.check(args, "G at the end: mu, sigma",
             f"{mu.item():.3f}, {np.exp(log_sigma.item()):.3f}", reference="p_data: 4, 0.5")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(c_path, color="black", label="C(G) after each step (exact)")
ax.axhline(-theory.LOG4, color="0.4", linestyle=":", label=r"$-\log 4$")
ax.set_xlabel("generator step (D held at D*)")
ax.set_ylabel("C(G) [nats]")
ax.set_title("Proposition 2: C(G) only goes down", fontsize=10)
ax.legend(fontsize=8, loc="upper right")
fig_p2 = course.save_figure(fig, args, "proposition2_descent.png")

# %%
course.report(args, {"D fit steps (batch 512)": steps, "samples per side for V": n_samples},
              [fig_line, fig_mu, fig_p2])
