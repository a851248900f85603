"""The autoencoder and the VAE as image runs: reconstructions, samples from the code space,
and (VAE) walks between codes -- the blur that motivates GANs, measured."""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...data.images import batch_sampler
from ...gan.sampling import SAMPLE_SEED_OFFSET, fixed_z, generate
from .base import N_SAMPLES, ImageRun

__all__ = ["AutoencoderRun", "VAERun"]

np = backend.np


class AutoencoderRun(ImageRun):
    """A convolutional autoencoder trained on the L2 reconstruction error (Adam)."""

    name = "ae"
    model_cls = "Autoencoder"
    defaults = dict(steps=3000, batch_size=64, lr=1e-3, z_dim=32, width=32)
    quick = dict(steps=200)
    size28 = dict(width=64)

    def build(self):
        from ...gan.models import autoencoder
        c = self.config
        kwargs = dict(z_dim=c["z_dim"], size=self.size, width=c["width"])
        if self.model_cls == "VAE":
            kwargs.update(recon_weight=c["recon_weight"], beta=c["beta"])
        self.model = getattr(autoencoder, self.model_cls)(**kwargs)
        if self.device is not None:
            self.model.to(self.device)
        self.modules = {"model": self.model}
        self.optims = {"model": optim.Adam(self.model.parameters(), lr=c["lr"])}
        self.sample_batch = batch_sampler(self.data["x_train"])

    def train_step(self):
        x = self.sample_batch(self.config["batch_size"])
        loss, parts = self.model.loss(x)
        value = self.finite(loss, "loss")
        opt = self.optims["model"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": value, "recon": parts["recon"], "kl": parts.get("kl", 0.0)}

    def _code_sampler(self):
        """z for samples: N(0, I) for the VAE (its prior); for the plain AE a Gaussian fitted
        to the training codes (mean and covariance), the best a prior-less AE can do."""
        if self.model.variational:
            return None
        codes = backend.to_numpy(self._encode(self.data["x_train"].array))
        mu, cov = codes.mean(0), np.cov(codes, rowvar=False)
        chol = np.linalg.cholesky(cov + 1e-5 * np.eye(len(mu)))
        return mu, chol

    def _encode(self, x):
        self.model.eval()
        with no_grad():
            return self.model.encode(Tensor(x)).array

    def samples(self, n=N_SAMPLES):
        eps = np.random.default_rng(self.seed + SAMPLE_SEED_OFFSET).standard_normal(
            (n, self.model.z_dim))
        fit = self._code_sampler()
        if fit is not None:
            eps = fit[0] + eps @ fit[1].T
        z = Tensor(backend.as_array(eps.astype(backend.get_default_dtype()), device=self.device))
        return {self.name: np.clip(generate(self.model.decoder, z), -1.0, 1.0)}

    def reconstruct(self, x):
        """x̂ = dec(enc(x)) (the mean code for the VAE) for host images x, as a host array."""
        self.model.eval()
        with no_grad():
            out = self.model(Tensor(backend.as_array(x, device=self.device)))
        return backend.to_numpy(out.array).astype(np.float32)

    def extra(self, scorer, report):
        from ...evaluation import metrics
        from ...plots import images as P
        n = min(self.config.get("recon_images", 200), len(self.data["x_test"]))
        x = self.data["x_test"][:n]
        rec = self.reconstruct(x)
        report["recon_mse"] = float(((rec - x) ** 2).mean())
        agree = scorer.predict(rec) == scorer.predict(x)
        report["recon_agreement"] = float(agree.mean())
        report["recon_sharpness"] = metrics.sharpness(rec)
        report["test_sharpness"] = metrics.sharpness(x)
        report["figures"].append(P.reconstruction_figure(
            self.out / "reconstructions.png", x[:16], {self.name.upper(): rec[:16]},
            title=f"{self.name.upper()} reconstructions of held-out digits "
                  f"(MSE {report['recon_mse']:.3f})"))
        if self.model.variational:
            from ...evaluation import latent as zspace
            z0 = fixed_z(6, self.model.z_dim, self.seed + 1)
            z1 = fixed_z(6, self.model.z_dim, self.seed + 2)
            grid = zspace.interpolation_grid(z0, z1, steps=10, method="slerp")
            imgs = generate(self.model.decoder, Tensor(backend.as_array(grid.array,
                                                                        device=self.device)))
            report["figures"].append(P.image_grid_figure(
                self.out / "interpolation_slerp.png", imgs, nrow=10,
                title="VAE: slerp between random z (rows)"))


class VAERun(AutoencoderRun):
    """A VAE: reparameterised Gaussian codes, loss = recon_weight·L2 + KL to N(0, I)."""

    name = "vae"
    model_cls = "VAE"
    defaults = dict(steps=3000, batch_size=64, lr=1e-3, z_dim=16, width=32, recon_weight=2.0,
                    beta=1.0)
    quick = dict(steps=200)
    size28 = dict(width=64)
