"""GAN inversion: the closest point on the generator's manifold to a real digit, next to an AE.

A generator has no encoder: given a real digit x, which z makes G(z) look like it? Zhu et al.
(2016; lecture notes 004, "Finding the closest point on the manifold") answer by optimisation,
with G's weights frozen and gradient descent on z alone:

    z* = argmin_z ||G(z) - x||².

The problem is not convex (G is a deep network), so it is solved from several random starting
points (*restarts*) and the best result per image is kept (``minigan.evaluation.inversion.invert``
optimises all restarts of all images as one batch).

What comes out says something about the GAN: a small ||G(z*) - x|| means x lies close to G's
manifold; a large one, or G(z*) being a different digit, shows what G *cannot* draw (mode
dropping, lesson 08). Next to an autoencoder's reconstruction dec(enc(x)) (lesson 01), an
inversion is usually further from x in the L2 sense (the AE was trained for exactly that
error) but sharper (G only ever draws digits, never their average).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.evaluation import metrics  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.evaluation.inversion import invert  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains both models for a few seconds only and inverts 40 digits with 60 Adam steps
# and 2 restarts (the numbers then just show the machinery). The full lesson trains the DCGAN
# for 3000 steps and the AE for 1500 (moderate budgets; the `images` defaults are 10 000 and
# 3000) and inverts 200 digits with the run's settings (300 steps, 4 restarts).
if args.quick:
    STEPS = {"dcgan": images.QUICK["dcgan"]["steps"], "ae": images.QUICK["ae"]["steps"]}
    N, INV_STEPS, RESTARTS = 40, 60, 2
else:
    STEPS = {"dcgan": 3000, "ae": 1500}
    d = images.DEFAULTS["dcgan"]
    N, INV_STEPS, RESTARTS = d["inversion_images"], d["inversion_steps"], d["inversion_restarts"]

# %% [markdown]
# ## 1. The two models: a DCGAN (lesson 12) and an autoencoder (lesson 01)

# %%
data = images.load_image_data("digits", device=args.device)
runs = {name: images.train_model(name, STEPS[name], quick=args.quick, seed=args.seed,
                                 device=args.device, data=data)
        for name in ("dcgan", "ae")}
G, z_dim = runs["dcgan"].sample_generators()["dcgan_ema"]
print(f"trained the DCGAN {STEPS['dcgan']} steps and the AE {STEPS['ae']} steps")

# %% [markdown]
# ## 2. Invert held-out digits: z* = argmin_z ||G(z) - x||², best of the restarts

# %%
x = data["x_test"][:N]
t0 = time.perf_counter()
inv = invert(G, Tensor(backend.as_array(x, device=args.device)), z_dim=z_dim, steps=INV_STEPS,
             restarts=RESTARTS, seed=args.seed + 3)
inv_s = time.perf_counter() - t0
x_inv = backend.to_numpy(inv["images"].array).astype(np.float32)
one = invert(G, Tensor(backend.as_array(x, device=args.device)), z_dim=z_dim, steps=INV_STEPS,
             restarts=1, seed=args.seed + 3)
x_ae = runs["ae"].reconstruct(x)
scorer = get_scorer("digits", 8)
labels = scorer.predict(x)
res = {}
for name, imgs in (("G(z*)", x_inv), ("AE", x_ae)):
    res[name] = dict(mse=float(((imgs - x) ** 2).mean()),
                     same=float((scorer.predict(imgs) == labels).mean()),
                     sharp=metrics.sharpness(imgs))
sharp_real = metrics.sharpness(x)
print(f"inverted {N} digits ({INV_STEPS} Adam steps on z, {RESTARTS} restarts) in {inv_s:.1f} s")
print(f"best of {RESTARTS} restarts: MSE {float(inv['errors'].mean()):.4f}; one start only: "
      f"{float(one['errors'].mean()):.4f}")
for name, r in res.items():
    print(f"{name:<7s} MSE per pixel {r['mse']:.4f}, same class as x {r['same']:.0%}, "
          f"sharpness {r['sharp']:.3f} (real {sharp_real:.3f})")

# %%
fig_rec = P.reconstruction_figure(
    args.out / "inversion_vs_ae.png", x[:16], {"G(z*)": x_inv[:16], "AE": x_ae[:16]},
    title=f"closest point on G's manifold (MSE {res['G(z*)']['mse']:.3f}, same class "
          f"{res['G(z*)']['same']:.0%}) vs AE (MSE {res['AE']['mse']:.3f})")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
ax = axes[0]
steps = [min(25 * i, INV_STEPS - 1) for i in range(len(inv["history"]))]
ax.plot(steps, inv["history"], "o-", ms=3, label=f"best of {RESTARTS}")
ax.plot(steps[:len(one["history"])], one["history"], "s--", ms=3, label="one start")
ax.set_xlabel("Adam step on z")
ax.set_ylabel("||G(z) - x||² per pixel")
ax.set_title("the search for z*", fontsize=9)
ax.legend(fontsize=7)
ax = axes[1]
err = np.asarray(inv["errors"])
correct = scorer.predict(x_inv) == labels
ax.hist([err[correct], err[~correct]], bins=15, stacked=True, color=["C2", "C3"],
        label=["G(z*) same class", "G(z*) another class"])
ax.set_xlabel("||G(z*) - x||² per pixel")
ax.set_ylabel("digits")
ax.set_title("what G cannot draw shows up as large errors", fontsize=9)
ax.legend(fontsize=7)
fig_err = course.save_figure(fig, args, "search_and_errors.png")

# %%
course.report(args, {
    "steps (DCGAN, AE)": f"{STEPS['dcgan']}, {STEPS['ae']}",
    "digits inverted": N,
    "inversion seconds": inv_s,
    "inversion MSE (best of restarts)": res["G(z*)"]["mse"],
    "inversion MSE (one start)": float(one["errors"].mean()),
    "inversion same class": res["G(z*)"]["same"],
    "AE MSE": res["AE"]["mse"],
    "AE same class": res["AE"]["same"],
    "sharpness G(z*)": res["G(z*)"]["sharp"],
    "sharpness AE": res["AE"]["sharp"],
    "sharpness real": sharp_real,
}, [fig_rec, fig_err],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
