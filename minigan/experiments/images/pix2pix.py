"""pix2pix: paired image translation, edge maps -> handwritten digits (28×28 MNIST).

Lecture notes 001/004. Where CycleGAN has two unpaired domains, pix2pix has *pairs* (x, y): here
x is the Sobel edge map of a digit (``minigan.data.edges``) and y the digit. A conditional
GAN whose generator also pays an L1 price for leaving the target::

    G* = arg min_G max_D  E[log D(x, y)] + E[log(1 - D(x, G(x)))] + λ · E|y - G(x)|_1,  λ = 100

Why both terms. The L1 term alone is minimised by the per-pixel *median* of the digits that
fit the edges: right in the large, but blurred wherever the edges leave the stroke's width or
filling uncertain. The discriminator sees (x, y) pairs and judges local patches
(``PatchDiscriminator``): blur is easy to spot in a patch, so the adversarial term pushes G
towards one sharp, plausible digit.

The run trains **two generators on the same batches**: ``G`` with L1 + λ·adversarial and
``G_l1`` with L1 alone -- the paper's ablation (its Table 1), at an equal budget. Measured on
the held-out pairs: the L1 error, the sharpness (variance of the Laplacian) against the real
digits', and how often the digit classifier reads the *target's* class in the output.
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor
from ...data.paired import paired_input
from ...data.images import load_image_data
from ...gan import losses
from ...gan.models.pix2pix import PatchDiscriminator, UNetGenerator
from .base import ImageRun
from .cyclegan import CycleGANRun

__all__ = ["Pix2PixRun"]

np = backend.np      # host-side data preparation and bookkeeping; the maths is in the engine


class Pix2PixRun(ImageRun):
    """U-Net G and PatchGAN D (width 32), λ = 100, Adam 2e-4 β (0.5, 0.999) as the paper;
    D's loss halved (the paper's "divide the objective by 2 while optimizing D")."""

    name = "pix2pix"
    defaults = dict(steps=1500, batch_size=32, lr=2e-4, beta1=0.5, g_width=32, d_width=32,
                    lambda_l1=100.0, edge_threshold=0.5, task="edges")
    SETTINGS_BEFORE = dict(task="edges")     # checkpoints from before the inpainting task
    quick = dict(steps=20)

    @classmethod
    def load_data(cls, spec, device=None):
        """28×28 MNIST by default: the 8×8 digits are too small to have edges."""
        if spec in (None, "digits"):
            spec = "mnist"
        data = load_image_data(spec, device)
        if data["size"] % 4:
            raise ValueError(f"pix2pix: image size {data['size']} is not divisible by 4")
        return data

    def build(self):
        c = self.config
        self.G = self.on_device(UNetGenerator(1, 1, c["g_width"]))
        self.G_l1 = self.on_device(UNetGenerator(1, 1, c["g_width"]))
        self.D = self.on_device(PatchDiscriminator(2, c["d_width"]))
        self.modules = {"G": self.G, "G_l1": self.G_l1, "D": self.D}
        betas = (c["beta1"], 0.999)
        self.optims = {k: optim.Adam(m.parameters(), lr=c["lr"], betas=betas)
                       for k, m in self.modules.items()}
        y = self.data["x_train"]
        self.x_train = self.inputs(y)                             # on y's device
        self.y_train = y

    def inputs(self, y):
        """The pix2pix inputs x for targets y: their edge maps, or y with the lower half
        hidden (``task``; ``data.paired``, which refuses an unknown task)."""
        return paired_input(y, self.config["task"], self.config["edge_threshold"])

    def pairs(self, n):
        """n training pairs (edges, digit), drawn with minigan's seeded CPU generator."""
        idx = backend.generator("cpu").choice(self.y_train.shape[0], size=n, replace=False)
        xp = backend.xp_of(self.y_train.array)
        idx = xp.asarray(idx) if xp is not np else idx
        return Tensor(self.x_train.array[idx]), Tensor(self.y_train.array[idx])

    def train_step(self):
        c = self.config
        x, y = self.pairs(c["batch_size"])
        # L1 + λ·adversarial (the adversarial term is nsgan's -log D(x, G(x)), per patch)
        fake = self.G(x)
        l1 = (fake - y).abs().mean()
        adv = losses.g_loss_nonsaturating(self.D(x, fake))
        g_loss = adv + c["lambda_l1"] * l1
        self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        d_loss = 0.5 * losses.d_loss_minimax(self.D(x, y), self.D(x, fake.detach()))
        self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        # the ablation: the same batch, L1 alone
        l1_only = (self.G_l1(x) - y).abs().mean()
        self.finite(l1_only, "L1-only generator")
        self.optims["G_l1"].zero_grad()
        l1_only.backward()
        self.optims["G_l1"].step()
        return {"l1": float(l1.item()), "g_adv": float(adv.item()),
                "d_loss": float(d_loss.item()), "l1_only": float(l1_only.item())}

    # G(x) of held-out host images in evaluation mode, in batches: the CycleGAN's
    translate = CycleGANRun.translate

    def samples(self, n=None):
        """The translations of the held-out digits' inputs (scored as digits)."""
        self.test_y = self.data["x_test"]
        self.test_x = self.inputs(self.test_y)
        self.outputs = {"pix2pix": self.translate(self.G, self.test_x),
                        "pix2pix_l1": self.translate(self.G_l1, self.test_x)}
        return dict(self.outputs)

    def measure(self, scorer):
        """{label: {l1, sharpness, sharpness_real, grey, agreement, confidence}} on the
        held-out pairs, and the real digits' grey, agreement and confidence under "real".
        grey: the share of pixels with |v| < 0.5, neither ink nor background (a median's
        blur is grey); confidence: the classifier's mean top-class probability."""
        from ...evaluation.metrics import sharpness
        y, labels = self.test_y, self.data["y_test"]

        def digit_numbers(images):
            return {"grey": float((np.abs(images) < 0.5).mean()),
                    "agreement": float((scorer.predict(images) == labels).mean()),
                    "confidence": float(scorer.probs(images).max(axis=1).mean())}

        res = {}
        for label, out in self.outputs.items():
            res[label] = {"l1": float(np.abs(out - y).mean()), "sharpness": sharpness(out),
                          "sharpness_real": sharpness(y), **digit_numbers(out)}
        res["real"] = digit_numbers(y)
        return res

    def extra(self, scorer, report):
        res = self.measure(scorer)
        report["pix2pix_measured"] = res
        report["receptive_field"] = self.D.receptive_field
        real = res["real"]
        for label in ("pix2pix_l1", "pix2pix"):
            r = res[label]
            print(f"{label:<11s} L1 {r['l1']:.4f}; sharpness {r['sharpness']:.3f} (real digits "
                  f"{r['sharpness_real']:.3f}); grey pixels {r['grey']:.3f} (real "
                  f"{real['grey']:.3f}); classifier reads the target's class on "
                  f"{r['agreement']:.1%} (real digits {real['agreement']:.1%}), confidence "
                  f"{r['confidence']:.3f} (real {real['confidence']:.3f}); "
                  f"{len(self.test_y)} held-out pairs")
        print(f"PatchGAN: each logit judges a {self.D.receptive_field}×{self.D.receptive_field} "
              f"patch of the {self.size}×{self.size} pair")
        report["figures"].append(self.translations_figure(self.out / "pix2pix_translations.png",
                                                          res))

    def translations_figure(self, path, res, k=12):
        """Inputs, both generators' outputs and the targets of k held-out pairs, one of each
        class in turn (the held-out split is ordered by class)."""
        from ...plots import images as P
        labels = np.asarray(self.data["y_test"])
        by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
        idx = [ix[r] for r in range(k) for ix in by_class if r < len(ix)][:k]
        what = {"edges": "edges -> digit", "inpaint": "top half -> whole digit"}
        return P.labelled_rows_figure(
            path, {"input": self.test_x[idx], "L1 only": self.outputs["pix2pix_l1"][idx],
                   "L1 + GAN": self.outputs["pix2pix"][idx], "target": self.test_y[idx]}, k,
            title=f"{what[self.config['task']]} after {self.step} steps; sharpness "
                  f"L1 {res['pix2pix_l1']['sharpness']:.2f}, L1+GAN "
                  f"{res['pix2pix']['sharpness']:.2f}, real {res['pix2pix']['sharpness_real']:.2f}")
