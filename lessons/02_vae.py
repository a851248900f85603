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
   gradient flows through mu and sigma (``VAE.reparameterize``). We write it in two lines
   of the engine's ops, check that the gradient reaches mu and sigma, and that the draws
   have the right mean and spread.
2. **The closed-form KL** between two Gaussians (``kl_to_standard_normal``): no sampling
   needed for the second term. We write it by hand, check it against the library's, and
   against a Monte-Carlo estimate E_q[log q(z) - log p(z)].

What to watch in the terminal: decode z ~ N(0, I) with both decoders: the VAE was trained
for exactly that z, the AE was not (its codes live wherever its training put them), so compare
the two grids (the classifier's confidence is only a rough gauge: it is confident on some junk
too, and after --quick's few seconds both are rough). The price of the KL term is that
neighbouring codes overlap and the L2 term averages them, so VAE reconstructions and samples
are blurrier than the AE's, and both are blurrier than real digits (``metrics.sharpness``).
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__, blas_threads=1)


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
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
# tour's time.
SETTINGS = images.QUICK if args.quick else {"vae": {"steps": 1500}, "ae": {"steps": 1500}}
QUICK_NOTE = f"{SETTINGS['vae']['steps']} steps: both models are still rough"

# %% [markdown]
# ## 1. Train a VAE (and, for comparison, a plain AE) on the 8×8 digits
# ``images.MODELS["vae"]``: the encoder outputs 2·16 numbers (mu, log sigma²), the decoder is a
# DCGAN generator; loss = 2·L2 + KL (recon_weight 2, i.e. s = 0.5).

# %%
course.section(args, "1. Train a VAE and, for comparison, a plain AE on the 8×8 digits",
               f"{SETTINGS['vae']['steps']} Adam steps each on the same digits. The VAE's loss "
               "is 2·L2 + KL. The KL term pulls every q(z|x) towards N(0, I); it must stay "
               "above 0 for the codes to tell digits apart.")
data = images.load_image_data("digits", device=args.device)
runs = {name: images.train_model(name, SETTINGS[name]["steps"], quick=args.quick,
                                 seed=args.seed, device=args.device, data=data)
        for name in ("vae", "ae")}
seconds = {name: run.train_seconds for name, run in runs.items()}
vae, ae = runs["vae"], runs["ae"]
h = vae.history
STEPS = len(h["step"])
kl_end = float(np.mean(h["kl"][-20:]))
course.check(args, "KL per image over the last 20 training steps [nats]", kl_end,
             reference=f"0 would mean codes that ignore x; first step {h['kl'][0]:.2f}",
             ok=kl_end > 1.0, fmt=".2f", good="the codes carry information about x",
             bad="posterior collapse: the codes carry almost nothing")

# %% [markdown]
# ## 2. The reparameterisation trick and the KL term, checked
# For a batch of test digits: z = mu + exp(logvar/2)·eps has mean mu and variance sigma²
# (checked over many eps), and the closed-form KL equals a Monte-Carlo estimate of
# E_q[log q(z|x) - log p(z)].

# %%
course.section(args, "2. The reparameterisation trick and the closed-form KL, checked",
               "z = mu + exp(logvar/2)·eps in the engine's ops: the gradient of z with respect "
               "to mu is 1 and with respect to logvar is eps·sigma/2, so the randomness no "
               "longer blocks backpropagation. Then 200 draws per code from the library's "
               "reparameterize must spread as sigma, and the KL by hand must equal the "
               "library's and a Monte-Carlo estimate.")
x = data["x_test"][:200]
xt = Tensor(backend.as_array(x, device=args.device))
vae.model.eval()
with no_grad():
    mu_t, logvar_t = vae.model.encode_stats(xt)
mu_l = mu_t.detach().requires_grad_()
logvar_l = logvar_t.detach().requires_grad_()
eps_t = minigan.randn(*mu_l.shape, dtype=mu_l.dtype, device=mu_l.device)
z = mu_l + minigan.exp(0.5 * logvar_l) * eps_t              # the trick, by hand
z.sum().backward()
grad_err = max(float(np.abs(mu_l.grad.numpy() - 1).max()),
               float(np.abs(logvar_l.grad.numpy()
                            - (eps_t * minigan.exp(0.5 * logvar_t)).numpy() / 2).max()))
course.check(args, "max |autodiff dz/d(mu, logvar) - (1, eps·sigma/2)|", grad_err,
             reference="0 up to float32 rounding: the gradient flows through mu and sigma",
             ok=grad_err < 1e-5, fmt=".1e")
with no_grad():
    kl_lib = float(kl_to_standard_normal(mu_t, logvar_t).item())
    kl_hand = float((0.5 * (mu_t ** 2 + minigan.exp(logvar_t) - 1 - logvar_t).sum(1))
                    .mean().item())
    draws = np.stack([backend.to_numpy(vae.model.reparameterize(mu_t, logvar_t).array)
                      for _ in range(200)])
course.check(args, "|KL by hand - library| [nats]", abs(kl_hand - kl_lib),
             reference="library: kl_to_standard_normal; 0 up to float32 rounding",
             ok=abs(kl_hand - kl_lib) < 1e-4 * max(1.0, kl_lib), fmt=".1e")
mu, logvar = backend.to_numpy(mu_t.array), backend.to_numpy(logvar_t.array)
sigma = np.exp(0.5 * logvar)
rel_sd_err = float(np.abs(draws.std(0) / sigma - 1).mean())
course.check(args, "reparameterised draws: mean |sd / sigma - 1| over 200 eps per code",
             rel_sd_err, reference="sampling noise of a sd from 200 draws: about "
             f"sqrt(2/pi)·sqrt(1/(2·200)) = {np.sqrt(2 / np.pi / 400):.3f}",
             ok=rel_sd_err < 0.08, fmt=".3f")
eps = (draws - mu) / sigma
log_q = -0.5 * (eps ** 2 + np.log(2 * np.pi) + logvar).sum(-1)
log_p = -0.5 * (draws ** 2 + np.log(2 * np.pi)).sum(-1)
kl_mc = float((log_q - log_p).mean())
course.check(args, "KL(q(z|x) || N(0, I)), Monte Carlo over 200 draws [nats]", kl_mc,
             reference=f"closed form {kl_lib:.3f}", ok=abs(kl_mc - kl_lib) < 0.05 * kl_lib + 0.05,
             fmt=".3f", good="agrees", bad="disagrees")
course.check(args, "average sigma of q(z|x)", float(sigma.mean()),
             reference="the prior's is 1; a code narrower than the prior pins x down",
             ok=float(sigma.mean()) < 1.0, fmt=".3f")

# %% [markdown]
# ## 3. Samples from the prior, reconstructions, and sharpness next to the AE and real digits

# %%
course.section(args, "3. Samples from the prior, reconstructions, and blur",
               "Decode z ~ N(0, I) with both decoders: the VAE's was trained for those z, the "
               "AE's was not. Then the price of the KL term: overlapping codes are averaged by "
               "the L2 term, so the VAE's reconstructions are worse and blurrier than the AE's.")
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
course.check(args, "classifier confidence, VAE samples (z ~ N(0, I))", conf["VAE samples"],
             reference=f"AE decoding z ~ N(0, I) {conf['AE samples, z~N(0,I)']:.3f}; real "
             f"digits {conf['real']:.3f}",
             ok=conf["AE samples, z~N(0,I)"] < conf["VAE samples"] < conf["real"], fmt=".3f",
             good="between the two: the prior helps", bad="not between the AE and real digits",
             quick_note=QUICK_NOTE)
course.check(args, "classifier confidence, AE samples with the fitted Gaussian",
             conf["AE samples, fitted z"], reference=f"real digits {conf['real']:.3f}",
             ok=conf["AE samples, fitted z"] < conf["real"], fmt=".3f")
course.check(args, "reconstruction MSE per pixel, VAE", mse["VAE"],
             reference=f"AE {mse['AE']:.4f}", ok=mse["VAE"] > mse["AE"], fmt=".4f",
             good="worse than the AE: the price of the KL term", bad="not worse than the AE")
course.check(args, "sharpness, VAE reconstructions", sharp["VAE recon"],
             reference=f"AE reconstructions {sharp['AE recon']:.3f}, real {sharp['real']:.3f}",
             ok=sharp["VAE recon"] < sharp["AE recon"] < sharp["real"], fmt=".3f",
             good="VAE < AE < real: blurrier", bad="not in the order VAE < AE < real")
course.check(args, "sharpness, VAE samples", sharp["VAE samples"],
             reference=f"AE samples (fitted z) {sharp['AE samples (fit)']:.3f}, real "
             f"{sharp['real']:.3f}", ok=sharp["VAE samples"] < sharp["real"], fmt=".3f",
             good="blurrier than real", bad="not blurrier than real")

# %%
fig_samples = P.image_grid_figure(args.out / "vae_samples.png", vae_samples[:100], nrow=10,
                                  title="VAE: dec(z), z ~ N(0, I)")
fig_ae_prior = P.image_grid_figure(args.out / "ae_prior_samples.png", ae_prior[:100], nrow=10,
                                   title="AE: dec(z), z ~ N(0, I) (not its codes)")
fig_rec = P.reconstruction_figure(args.out / "reconstructions.png", x[:16],
                                  {"AE": rec["AE"][:16], "VAE": rec["VAE"][:16]},
                                  title="held-out digits reconstructed by the AE and the VAE")
print(f"  figure: {fig_samples}\n  figure: {fig_ae_prior}\n  figure: {fig_rec}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
ax.plot(h["step"], np.asarray(h["recon"]) * vae.config["recon_weight"], color="C0",
        linewidth=0.8, label="recon_weight · ||x - dec(z)||²")
ax.plot(h["step"], h["kl"], color="C3", linewidth=0.8, label="KL(q(z|x) || N(0, I))")
ax.set_yscale("log")
ax.set_xlabel("Adam step")
ax.set_ylabel("nats per image (batch)")
ax.set_title("the two terms of the VAE loss", fontsize=9)
ax.legend(fontsize=7, loc="upper right")
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
course.report(args, {"steps (VAE, AE)": f"{STEPS}, {len(ae.history['step'])}",
                     "train seconds (VAE + AE)": seconds["vae"] + seconds["ae"]},
              [fig_samples, fig_ae_prior, fig_rec, fig_curves])
