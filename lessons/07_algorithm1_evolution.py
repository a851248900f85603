"""Algorithm 1 and the evolution of D and p_g: Goodfellow et al.'s Figure 1 from a real run.

Figure 1 of Goodfellow et al. (2014) (lecture notes 000, "the D/p_g pictures") explains
the training with four sketches. Black dots: p_data; green: p_g; blue dashes: D. Below, the
z line, with arrows x = G(z): G contracts z where p_g is dense and stretches it where p_g
is thin, so p_g(x) = p_z(z) / |G'(z)| (the change of variables).

(a) an adversarial pair near convergence: p_g is similar to p_data, D is a partially
    accurate classifier;
(b) in the inner loop of Algorithm 1 D is trained to discriminate samples from data,
    converging to D*(x) = p_data(x) / (p_data(x) + p_g(x));
(c) after an update to G, the gradient of D has guided G(z) to flow to regions that are more
    likely to be classified as data;
(d) after several steps of training, if G and D have enough capacity, they reach a point
    at which both cannot improve because p_g = p_data. D cannot tell them apart: D(x) = 1/2.

Here every curve is computed, not drawn by hand: we train a GAN on N(4, 0.5), compute p_g
*exactly* from the network by the change of variables, draw the trained D next to the
analytic D* (thin grey), and replay (a)-(c) from a copy of the real run taken when the JSD
first falls below 0.2 (p_g overlaps p_data but sits visibly beside it, as in the paper's (a)): (b) trains D to convergence with G frozen, (c) then takes a few small
generator steps against that D. The animation shows the whole run, frame by frame.

One departure from the sketch: z ~ N(0, 1), not uniform (the z line shows its central 95 %).
With uniform z, p_g stops dead at G(-1) and G(1); D* jumps there and a smooth D cannot
follow. Gaussian z has no such edge. You will still see a *fold* early on: where the tanh
network saturates, G'(z) -> 0, p_g = p_z / |G'| piles up into a spike and then stops -- the
max |D - D*| sits there, which is why we also report the mean |D - D*| under (p_data + p_g)/2,
the error where samples actually fall.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import copy  # noqa: E402

import numpy as np  # noqa: E402

from minigan import gan, optim  # noqa: E402
from minigan.plots import toys as plot  # noqa: E402
from minigan.evaluation import theory  # noqa: E402
from minigan.data import toy  # noqa: E402
from minigan.experiments import toy1d  # noqa: E402

dev = args.device
STEPS = 800 if args.quick else 3000
FRAMES = 10 if args.quick else 40
PANEL_A_JSD = 0.2       # panel (a): the first moment p_g overlaps p_data but is visibly off
G_STEPS_C, G_LR_C = 20, 0.002

# %% [markdown]
# ## 1. Train with Algorithm 1, taking a snapshot every few steps
# k = 3 discriminator steps per generator step, non-saturating G loss, Adam. A snapshot
# (``plot.take_snapshot``) holds p_data, the exact p_g, the trained D, D* and the z arrows.

# %%
data, noise = toy.Gaussian1D(4.0, 0.5), toy.GaussianNoise()
x = theory.grid(1.0, 7.0, 1201)
G, D = toy1d.players(g_shift=2.5, d_shift=4.0, device=dev)      # the 1-D recipe
opt_g, opt_d, scheds = toy1d.optimizers(G, D, STEPS)   # Adam 5e-4 / 2e-3, decaying to a tenth
frames, saved = [], {}


def snapshot(tr):
    frames.append(plot.take_snapshot(tr.G, tr.D, data, noise, x, label=f"step {tr.step}"))


def keep_panel_a(tr):
    """Copy G and D the first time (checked every 10 steps) that the JSD drops below 0.2."""
    if "G" in saved or tr.step % 10:
        return
    p_g = theory.generator_density(gan.as_numpy_fn(tr.G, device=dev), x, noise.pdf, -8, 8,
                                   n_z=8001)
    if theory.jsd(data.pdf(x), p_g, x) < PANEL_A_JSD:
        saved["G"], saved["D"], saved["step"] = copy.deepcopy(tr.G), copy.deepcopy(tr.D), tr.step


trainer = gan.GANTrainer(G, D, opt_g, opt_d, data, noise, objective="nsgan", k=3,
                         batch_size=512, device=dev, schedulers=scheds, progress=False,
                         callbacks=[gan.every(max(1, STEPS // FRAMES), snapshot),
                                    keep_panel_a])
snapshot(trainer)
trainer.train(STEPS)
final = plot.take_snapshot(G, D, data, noise, x, label=f"(d) step {STEPS}: the end")
print(f"trained {STEPS} steps; JSD(p_data, p_g): start {frames[0]['jsd']:.3f} -> end "
      f"{final['jsd']:.4f} nats")

# %% [markdown]
# ## 2. Replay (a) -> (b) -> (c) from the copy taken when the JSD first fell below 0.2
# (b) is Algorithm 1's inner loop run to convergence: D alone, against the frozen G.
# (c) is a few plain gradient steps of G against that D: samples flow uphill on D.

# %%
G_a, D_a = saved["G"], saved["D"]
panel_a = plot.take_snapshot(G_a, D_a, data, noise, x, label=f"(a) step {saved['step']}")
# (b) Algorithm 1's inner loop, written out: k steps of D on the minimax loss, G held fixed,
# run to convergence (the step size decays to 5 % so that D settles on D* instead of jittering
# around it; gan.fit_discriminator is the library's version of these lines).
D_b = copy.deepcopy(D_a)
opt_b = optim.Adam(D_b.parameters(), lr=2e-3)
B_STEPS = 400 if args.quick else 1500
for t in range(B_STEPS):
    opt_b.param_groups[0]["lr"] = 2e-3 * 0.05 ** (t / B_STEPS)
    fake = G_a(noise.sample(512, device=dev)).detach()      # G fixed: no gradient into it
    loss = gan.d_loss_minimax(D_b(data.sample(512, device=dev)), D_b(fake))
    opt_b.zero_grad()
    loss.backward()
    opt_b.step()
panel_b = plot.take_snapshot(G_a, D_b, data, noise, x, label="(b) D trained, G fixed")
# (c) then one G update of Algorithm 1 at a time against that D (the non-saturating loss),
# repeated a few times with plain SGD so that the flow of the samples is visible.
G_c = copy.deepcopy(G_a)
opt_c = optim.SGD(G_c.parameters(), lr=G_LR_C)
for _ in range(G_STEPS_C):
    loss = gan.g_loss_nonsaturating(D_b(G_c(noise.sample(512, device=dev))))
    opt_c.zero_grad()
    loss.backward()
    opt_c.step()
panel_c = plot.take_snapshot(G_c, D_b, data, noise, x, label=f"(c) after {G_STEPS_C} G steps")


def d_err(snap):
    """max |D - D*| where p_data + p_g >= 0.05 (where samples fall)."""
    bulk = (snap["p_data"] + snap["p_g"]) >= 0.05
    return float(np.abs(snap["d"] - snap["d_star"])[bulk].max())


def d_err_mean(snap):
    """E_{x~m} |D - D*| with m = (p_data + p_g) / 2: the error where samples actually fall.

    The max is dominated by the edges of p_g's support: where a tanh G saturates, p_g piles
    up and then stops (a fold), D* jumps there, and a smooth D cannot jump.
    """
    m = 0.5 * (snap["p_data"] + snap["p_g"])
    return theory.integrate(m * np.abs(snap["d"] - snap["d_star"]), snap["x"])


err_a, err_b, err_end = d_err(panel_a), d_err(panel_b), d_err(final)
mean_a, mean_b, mean_end = d_err_mean(panel_a), d_err_mean(panel_b), d_err_mean(final)
bulk_end = (final["p_data"] + final["p_g"]) >= 0.05
half_end = float(np.abs(final["d"] - 0.5)[bulk_end].max())
course.section(args, "2. Figure 1's stages, replayed from the run",
               f"(a) the run when the JSD first fell below {PANEL_A_JSD}; (b) D trained to "
               f"convergence against that G (Algorithm 1's inner loop); (c) {G_STEPS_C} SGD steps "
               "of G against the D of (b).")
course.check(args, "(a) mean |D - D*| where samples fall", mean_a, reference="D partially "
             "accurate: well above (b)'s", fmt=".4f")
course.check(args, "(b) mean |D - D*| after the inner loop", mean_b,
             reference=f"0 if D reached D*; (a) had {mean_a:.4f}", ok=mean_b < 0.5 * mean_a,
             fmt=".4f", good="D moved to D*", bad="the inner loop did not bring D to D*",
             quick_note="400 inner steps instead of 1500")
course.check(args, "(c) JSD after the G steps [nats]", panel_c["jsd"],
             reference=f"below (a)'s {panel_a['jsd']:.4f}: D's gradient moved p_g to the data",
             ok=panel_c["jsd"] < panel_a["jsd"], fmt=".4f",
             good="p_g flowed towards the data", bad="p_g did not move towards the data")

# %% [markdown]
# ## 3. The end: mean D on real and generated samples, and the figure + animation

# %%
rng = np.random.default_rng(args.seed + 1)
g_fn, d_fn = gan.as_numpy_fn(G, device=dev), gan.as_numpy_fn(D, device=dev)
mean_d_real = float((1 / (1 + np.exp(-d_fn(data.sample_numpy(20_000, rng))))).mean())
mean_d_fake = float((1 / (1 + np.exp(-d_fn(g_fn(noise.sample_numpy(20_000, rng)))))).mean())
course.section(args, "3. (d) The end of the run", "p_g should sit on p_data and D be 1/2.")
course.check(args, "(d) JSD at the end [nats]", final["jsd"], reference="0 at p_g = p_data",
             ok=final["jsd"] < 0.01, fmt=".4f",
             quick_note=f"{STEPS} steps are too short for p_g to settle")
course.check(args, "(d) mean D(x) / mean D(G(z))", f"{mean_d_real:.3f} / {mean_d_fake:.3f}",
             reference="1/2 / 1/2", ok=abs(mean_d_real - 0.5) < 0.05 and abs(mean_d_fake - 0.5) < 0.05)
course.check(args, "(d) max |D - 1/2| where p_data + p_g >= 0.05", half_end, reference="0",
             ok=half_end < 0.1, fmt=".3f", quick_note=f"{STEPS} steps are too short")

fig1 = args.out / "figure1.png"
plot.figure1([panel_a, panel_b, panel_c, final], fig1,
             title=f"Goodfellow et al. Fig. 1, from a run on {data.name}")
gif = args.out / "evolution.gif"
plot.evolution_gif(frames + [final], gif, fps=3 if args.quick else 6)
print(f"  figure: {fig1}\n  animation: {gif}")

# %%
course.report(args, {"steps": STEPS, "GIF frames": len(frames) + 1}, [fig1, gif])
