"""The variational autoencoder: the reparameterisation trick, the KL term, samples from the prior.

A plain autoencoder (lesson 01) does not say where its codes live, so decoding a random z
gives junk. The VAE (Kingma & Welling 2014; lecture notes 004, "Variational Autoencoder")
makes the encoder output a *distribution* q(z|x) = N(mu(x), diag sigma²(x)) and pulls it
towards a fixed prior p(z) = N(0, I). The loss is the negative evidence lower bound (ELBO):

    L = E_{z~q(z|x)} ||x - dec(z)||² / (2 s²)  +  KL(q(z|x) || N(0, I)),
    KL = 1/2 · sum_j (mu_j² + sigma_j² - 1 - log sigma_j²),

with s the assumed pixel noise (``recon_weight`` = 1/(2 s²)). Two ideas make it trainable:

1. **Reparameterisation.** Sampling z ~ N(mu, sigma²) is not differentiable in mu and sigma,
   but z = mu + sigma · eps with eps ~ N(0, I) is: the randomness moves into eps and the
   gradient flows through mu and sigma (``VAE.reparameterize``).
2. **The closed-form KL** between two Gaussians (``kl_to_standard_normal``): no sampling
   needed for the second term. We check it against a Monte-Carlo estimate
   E_q[log q(z) - log p(z)].

What to watch: decode z ~ N(0, I) with both decoders: the VAE was trained for exactly that
z, the AE was not (its codes live wherever its training put them), so compare the two grids
(the classifier's confidence is only a rough gauge: it is confident on some junk too, and
after --quick's few seconds both are rough). The price of the KL term is that neighbouring
codes overlap and the L2 term averages them, so VAE reconstructions and samples are blurrier
than the AE's, and both are blurrier than real digits (``metrics.sharpness``).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.evaluation import metrics  # noqa: E402
from minigan.plots import images as P  # noqa: E402
from minigan.autograd import Tensor, no_grad  # noqa: E402
from minigan.experiments import images as images  # noqa: E402
from minigan.gan.models.autoencoder import kl_to_standard_normal  # noqa: E402
from minigan.evaluation.scoring import get_scorer  # noqa: E402

# --quick trains each model for a few seconds only (200 steps: the numbers then just show the
# machinery). The full lesson trains each model for 1500 Adam steps, half the default run of
# `python -m minigan images --model vae` (3000), so that training two models stays within the
# tour's time (3000 each took 7 minutes on the busy 2-core machine).
SETTINGS = images.QUICK if args.quick else {"vae": {"steps": 1500}, "ae": {"steps": 1500}}

# %% [markdown]
# ## 1. Train a VAE (and, for comparison, a plain AE) on the 8×8 digits
# ``images.MODELS["vae"]``: the encoder outputs 2·16 numbers (mu, log sigma²), the decoder is a
# DCGAN generator; loss = 2·L2 + KL (recon_weight 2, i.e. s = 0.5).

# %%
data = images.load_image_data("digits", device=args.device)
runs = {name: images.train_model(name, SETTINGS[name]["steps"], quick=args.quick,
                                 seed=args.seed, device=args.device, data=data)
        for name in ("vae", "ae")}
seconds = {name: run.train_seconds for name, run in runs.items()}
vae, ae = runs["vae"], runs["ae"]
h = vae.history
STEPS = len(h["step"])
print(f"VAE: {STEPS} steps in {seconds['vae']:.1f} s; L2 {h['recon'][0]:.1f} -> "
      f"{np.mean(h['recon'][-20:]):.2f}, KL {h['kl'][0]:.2f} -> {np.mean(h['kl'][-20:]):.2f} "
      f"nats per image; AE: {len(ae.history['step'])} steps in {seconds['ae']:.1f} s")

# %% [markdown]
# ## 2. The reparameterisation trick and the KL term, checked
# For a batch of test digits: z = mu + exp(logvar/2)·eps has mean mu and variance sigma²
# (checked over many eps), and the closed-form KL equals a Monte-Carlo estimate of
# E_q[log q(z|x) - log p(z)].

# %%
x = data["x_test"][:200]
xt = Tensor(backend.as_array(x, device=args.device))
vae.model.eval()
with no_grad():
    mu_t, logvar_t = vae.model.encode_stats(xt)
    kl_closed = float(kl_to_standard_normal(mu_t, logvar_t).item())
    draws = np.stack([backend.to_numpy(vae.model.reparameterize(mu_t, logvar_t).array)
                      for _ in range(200)])
mu, logvar = backend.to_numpy(mu_t.array), backend.to_numpy(logvar_t.array)
sigma = np.exp(0.5 * logvar)
rel_sd_err = float(np.abs(draws.std(0) / sigma - 1).mean())
eps = (draws - mu) / sigma
log_q = -0.5 * (eps ** 2 + np.log(2 * np.pi) + logvar).sum(-1)
log_p = -0.5 * (draws ** 2 + np.log(2 * np.pi)).sum(-1)
kl_mc = float((log_q - log_p).mean())
print(f"reparameterised draws: mean |sd/sigma - 1| = {rel_sd_err:.3f} over 200 eps per code")
print(f"KL(q(z|x) || N(0, I)): closed form {kl_closed:.3f} nats, Monte Carlo {kl_mc:.3f} nats")
print(f"average sigma of q(z|x): {sigma.mean():.3f} (the prior's is 1); mean |mu| "
      f"{np.abs(mu).mean():.3f}")

# %% [markdown]
# ## 3. Samples from the prior, reconstructions, and sharpness next to the AE and real digits

# %%
scorer = get_scorer("digits", 8)
vae_samples = vae.samples(400)["vae"]                               # z ~ N(0, I): its prior
ae_fit = ae.samples(400)["ae"]                                      # z ~ Gaussian fit to codes
z_ae = Tensor(backend.as_array(np.random.default_rng(args.seed + 8).standard_normal(
    (400, ae.model.z_dim)).astype(x.dtype), device=args.device))
ae_prior = np.clip(images.generate(ae.model.decoder, z_ae), -1, 1)  # z ~ N(0, I): no prior
rec = {"VAE": vae.reconstruct(x), "AE": ae.reconstruct(x)}
sharp = {"real": metrics.sharpness(x), "AE recon": metrics.sharpness(rec["AE"]),
         "VAE recon": metrics.sharpness(rec["VAE"]), "AE samples (fit)": metrics.sharpness(ae_fit),
         "VAE samples": metrics.sharpness(vae_samples)}
conf = {k: float(scorer.probs(v).max(1).mean()) for k, v in
        [("real", x), ("VAE samples", vae_samples), ("AE samples, z~N(0,I)", ae_prior),
         ("AE samples, fitted z", ae_fit)]}
mse = {k: float(((v - x) ** 2).mean()) for k, v in rec.items()}
for k, v in sharp.items():
    print(f"sharpness {k:<18s} {v:.3f}")
for k, v in conf.items():
    print(f"classifier confidence {k:<22s} {v:.3f}")
print(f"reconstruction MSE per pixel: VAE {mse['VAE']:.4f}, AE {mse['AE']:.4f}")

# %%
fig_samples = P.image_grid_figure(args.out / "vae_samples.png", vae_samples[:100], nrow=10,
                                  title=f"VAE: dec(z), z ~ N(0, I) (confidence "
                                        f"{conf['VAE samples']:.2f})")
fig_ae_prior = P.image_grid_figure(args.out / "ae_prior_samples.png", ae_prior[:100], nrow=10,
                                   title=f"AE: dec(z), z ~ N(0, I) (confidence "
                                         f"{conf['AE samples, z~N(0,I)']:.2f})")
fig_rec = P.reconstruction_figure(args.out / "reconstructions.png", x[:16],
                                  {"AE": rec["AE"][:16], "VAE": rec["VAE"][:16]},
                                  title=f"reconstructions: AE MSE {mse['AE']:.3f}, "
                                        f"VAE MSE {mse['VAE']:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
ax.plot(h["step"], np.asarray(h["recon"]) * vae.config["recon_weight"], color="C0",
        linewidth=0.8, label="recon_weight · ||x - dec(z)||²")
ax.plot(h["step"], h["kl"], color="C3", linewidth=0.8, label="KL(q(z|x) || N(0, I))")
ax.set_yscale("log")
ax.set_xlabel("Adam step")
ax.set_ylabel("nats per image (batch)")
ax.set_title("the two terms of the VAE loss", fontsize=9)
ax.legend(fontsize=7)
ax = axes[1]
names = list(sharp)
ax.bar(names, [sharp[k] for k in names], color=["black", "C0", "C3", "C1", "C4"])
for i, k in enumerate(names):
    ax.text(i, sharp[k], f"{sharp[k]:.2f}", ha="center", va="bottom", fontsize=8)
ax.tick_params(axis="x", labelsize=7)
ax.set_ylabel("sharpness = Var(Laplacian)")
ax.set_title("blur, measured: lower = blurrier", fontsize=9)
fig_curves = course.save_figure(fig, args, "loss_and_sharpness.png")

# %%
course.report(args, {
    "steps (VAE, AE)": f"{STEPS}, {len(ae.history['step'])}",
    "train seconds (VAE + AE)": seconds["vae"] + seconds["ae"],
    "final KL per image [nats]": float(np.mean(h["kl"][-20:])),
    "KL closed form [nats]": kl_closed,
    "KL Monte Carlo [nats]": kl_mc,
    "reparameterisation mean |sd/sigma - 1|": rel_sd_err,
    **{f"sharpness {k}": v for k, v in sharp.items()},
    **{f"confidence {k}": v for k, v in conf.items()},
    "recon MSE VAE": mse["VAE"],
    "recon MSE AE": mse["AE"],
}, [fig_samples, fig_ae_prior, fig_rec, fig_curves],
    notes="--quick trains a few seconds only: the numbers then just show the machinery")
