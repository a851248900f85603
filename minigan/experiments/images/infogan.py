"""InfoGAN (Chen et al. 2016): a GAN that names its own factors of variation, unsupervised.

Lecture notes 004, "InfoGAN - unsupervised": split G's input into noise z and a *code*
c = (c1, c2, c3) — c1 a 10-way categorical, c2 and c3 uniform on [-1, 1] — and reward G when
c can be read back from G(z, c). The reward is a variational lower bound on the mutual
information I(c; G(z, c)):

    L_I = E[ log Q(c1 | x) ] + E[ log Q(c2, c3 | x) ]   at x = G(z, c),

with Q a small head on the *discriminator's body* (shared features, almost free). G and Q
maximise λ·L_I on top of the usual GAN game (λ = 1 for the categorical code; the continuous
codes use a fixed-variance Gaussian, i.e. a squared error, weighted ``lambda_cont``).

Nothing tells the network that c1 should be the digit class. It becomes the class because
the class is the most informative discrete factor of the digits; we measure it: sample with
c1 = k, classify the samples, and match codes to classes by the best permutation
(``scipy.optimize.linear_sum_assignment``); the *purity* is the fraction of samples whose
class is the one matched to their code. Grids vary c1 (rows: z), c2 and c3 (−2 … 2, beyond
the training range, as in the paper's figure).
"""
from __future__ import annotations

from ... import backend, nn
from ...autograd import Tensor, no_grad
from ...data.images import batch_sampler, random_labels
from ...functional import cross_entropy
from ...gan import losses
from ...gan.models.infogan import CATEGORIES, CONTINUOUS, InfoDiscriminator
from ...gan.sampling import (
    SAMPLE_SEED_OFFSET,
    noise_sampler,
    recalibrate_batchnorm,
)
from ...ops.shape import cat
from .base import N_SAMPLES, ImageRun

__all__ = ["InfoGANRun", "code_purity"]

np = backend.np      # host-side bookkeeping (codes, purity); the maths is in the engine


def code_purity(codes, classes, n=10):
    """Best-permutation purity of ``codes`` against ``classes`` (host int arrays): the
    confusion matrix, the code->class matching that maximises agreement
    (``linear_sum_assignment``), and the fraction of samples it gets right."""
    from scipy.optimize import linear_sum_assignment
    conf = np.zeros((n, n), dtype=np.int64)
    np.add.at(conf, (np.asarray(codes), np.asarray(classes)), 1)
    rows, cols = linear_sum_assignment(-conf)
    return float(conf[rows, cols].sum() / conf.sum()), dict(zip(rows.tolist(), cols.tolist())), conf


class _RandomCodes(nn.Module):
    """z -> G(z ⧺ random codes): for ``recalibrate_batchnorm``."""

    def __init__(self, run, G):
        super().__init__()
        self.run, self.G = run, G

    def forward(self, z):
        c1, cc, onehot = self.run.codes(z.shape[0])
        return self.G(cat([z, onehot, cc], dim=1))


class InfoGANRun(ImageRun):
    """InfoGAN on DCGAN networks: non-saturating GAN loss + λ·CE(c1) + λ_cont·½‖c - ĉ‖²."""

    name = "infogan"
    defaults = dict(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, z_dim=16,
                    g_width=32, d_width=32, lambda_cat=1.0, lambda_cont=0.5)
    quick = dict(steps=150)

    def _generator(self):
        from ...gan.models.dcgan import DCGANGenerator
        c = self.config
        return self.on_device(DCGANGenerator(c["z_dim"] + CATEGORIES + CONTINUOUS, self.size,
                                             c["g_width"]))

    def build(self):
        c = self.config
        D = InfoDiscriminator(self.size, c["d_width"])
        # G's optimizer also moves the Q head (Q is trained on G's samples, as in the paper)
        self.adversarial_pair(self._generator(), D, betas=(c["beta1"], 0.999), g_also=[D.q_head])
        self.real = batch_sampler(self.data["x_train"])
        self.noise = noise_sampler(c["z_dim"], self.device)
        self._eye = Tensor(backend.as_array(np.eye(CATEGORIES, dtype=np.float32),
                                            device=self.device))

    def codes(self, n, c1=None, cont=None):
        """(c1 labels Tensor, continuous codes Tensor (n, 2), one-hot Tensor (n, 10));
        drawn with minigan's seeded generator unless given (host arrays)."""
        from ... import creation
        y = random_labels(n, CATEGORIES, self.device) if c1 is None else Tensor(
            backend.as_array(np.asarray(c1, dtype=np.int64), device=self.device))
        if cont is None:
            cc = creation.rand(n, CONTINUOUS, device=self.device) * 2.0 - 1.0
        else:
            cc = Tensor(backend.as_array(np.asarray(cont, dtype=np.float32), device=self.device))
        return y, cc, self._eye[y.array]

    def _info_loss(self, q, y, cc):
        cat_loss = cross_entropy(q[:, :CATEGORIES], y)
        cont_loss = 0.5 * ((q[:, CATEGORIES:] - cc) ** 2).sum(axis=1).mean()
        return cat_loss, cont_loss

    def train_step(self):
        c = self.config
        m = c["batch_size"]
        lam, lam_c = c["lambda_cat"], c["lambda_cont"]
        x = self.real(m)
        y, cc, onehot = self.codes(m)
        with no_grad():
            fake = self.G(cat([self.noise(m), onehot, cc], dim=1))
        d_real, _ = self.D(x)
        d_fake, q_fake = self.D(fake)
        ce, mse = self._info_loss(q_fake, y, cc)
        d_loss = losses.d_loss_minimax(d_real, d_fake) + lam * ce + lam_c * mse
        d_value = self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        y, cc, onehot = self.codes(m)
        d_out, q = self.D(self.G(cat([self.noise(m), onehot, cc], dim=1)))
        ce, mse = self._info_loss(q, y, cc)
        g_loss = losses.g_loss_nonsaturating(d_out) + lam * ce + lam_c * mse
        g_value = self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        self.optims["D"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        return {"d_loss": d_value, "g_loss": g_value,
                "info_cat": float(ce.item()), "info_cont": float(mse.item())}

    def sample_generators(self):
        G = self._generator()
        G.load_state_dict(self.G.state_dict())
        recalibrate_batchnorm(_RandomCodes(self, G), self.noise)
        return {self.name: G}

    def generate(self, G, z, c1, cont):
        G.eval()
        _, cc, onehot = self.codes(len(c1), c1, cont)
        with no_grad():
            out = G(cat([Tensor(z), onehot, cc], dim=1))
        return np.clip(backend.to_numpy(out.array).astype(np.float32), -1.0, 1.0)

    def _z(self, n, seed):
        z = np.random.default_rng(seed).standard_normal((n, self.config["z_dim"]))
        return backend.as_array(z.astype(backend.get_default_dtype()), device=self.device)

    def samples(self, n=N_SAMPLES):
        """n samples, c1 = 0, 1, ..., 9, 0, ... and continuous codes uniform on [-1, 1]."""
        rng = np.random.default_rng(self.seed + SAMPLE_SEED_OFFSET + 1)
        self.sample_codes = np.arange(n) % CATEGORIES
        cont = rng.uniform(-1, 1, (n, CONTINUOUS))
        self.sample_modules = self.sample_generators()
        G = self.sample_modules[self.name]
        self.sample_images = self.generate(G, self._z(n, self.seed + SAMPLE_SEED_OFFSET),
                                           self.sample_codes, cont)
        return {self.name: self.sample_images}

    def extra(self, scorer, report):
        from ...plots import images as P2
        pred = scorer.predict(self.sample_images)
        purity, match, conf = code_purity(self.sample_codes, pred)
        report["code_purity"] = purity
        report["code_to_class"] = {int(k): int(v) for k, v in match.items()}
        report["code_confusion"] = conf.tolist()
        print(f"{self.name}: categorical code -> digit class purity {purity:.1%} "
              f"(best permutation, {len(pred)} samples); code->class {report['code_to_class']}")
        G = self.sample_modules[self.name]
        order = sorted(range(CATEGORIES), key=lambda k: match[k])     # columns in class order
        rows = 6
        z = np.repeat(backend.to_numpy(self._z(rows, self.seed + 1)), CATEGORIES, axis=0)
        grid_c1 = self.generate(G, backend.as_array(z, device=self.device),
                                np.tile(order, rows), np.zeros((rows * CATEGORIES, 2)))
        values = np.linspace(-2, 2, 9)
        grids = {"c1 (class)": grid_c1}
        z1 = np.repeat(backend.to_numpy(self._z(1, self.seed + 2)), CATEGORIES * len(values), 0)
        for j, name in ((0, "c2"), (1, "c3")):
            cont = np.zeros((CATEGORIES * len(values), 2))
            cont[:, j] = np.tile(values, CATEGORIES)
            grids[f"{name} -2..2"] = self.generate(
                G, backend.as_array(z1, device=self.device), np.repeat(order, len(values)),
                cont)
        report["figures"].append(P2.labelled_rows_figure(
            self.out / "infogan_c1.png", {"c1": grids["c1 (class)"]}, CATEGORIES,
            title=f"InfoGAN: c1 varies along a row (rows: z); purity {purity:.0%}"))
        for name in ("c2", "c3"):
            report["figures"].append(P2.labelled_rows_figure(
                self.out / f"infogan_{name}.png", {name: grids[f"{name} -2..2"]}, len(values),
                title=f"InfoGAN: {name} from -2 to 2 along a row (rows: c1, z fixed)"))
