"""CycleGAN (Zhu, Park, Isola & Efros 2017): translation between two *unpaired* image domains.

Lecture notes 003/004, "Cycle GAN": two generators G_AB: A -> B and G_BA: B -> A, two
discriminators D_A and D_B, and no pairs (x_A, x_B) at all. Each generator plays a GAN game
against its domain's discriminator, and the *cycle-consistency* loss

    L_cyc = E |G_BA(G_AB(a)) - a|_1 + E |G_AB(G_BA(b)) - b|_1        (weight λ = 10)

ties the two: a translation must keep enough of the input to undo it, so G cannot map every
input to the same convincing output.

Domains here: A = the digits, B = *stroke-thickened* digits (each image averaged with its
grey dilation by a 3×3 cross, so strokes grow and soften). A and B are drawn from disjoint
halves of the training split, so the model never sees a digit in both styles. What we
measure on held-out digits: the classifier (trained on domain A) agrees with the true class of
the B -> A translations (and of A -> B ones, next to its accuracy on real B digits), and the
L1 error of both cycles. The adversarial loss is least squares, as in the paper.
"""
from __future__ import annotations

from ... import backend, optim
from ...autograd import Tensor, no_grad
from ...data.images import batch_sampler
from ...gan import losses
from ...gan.models.cyclegan import TranslationGenerator
from .base import ImageRun

__all__ = ["thicken", "CycleGANRun"]

np = backend.np      # host-side data preparation and bookkeeping; the maths is in the engine


def thicken(images):
    """Stroke-thickened digits: the mean of each image and its grey dilation by a 3×3 cross
    (host array (N, 1, H, W) in [-1, 1] -> same shape and range)."""
    from scipy import ndimage
    x = np.asarray(images, dtype=np.float32)
    cross = np.zeros((1, 1, 3, 3), bool)
    cross[0, 0, 1, :] = cross[0, 0, :, 1] = True
    return (0.5 * (x + ndimage.grey_dilation(x, footprint=cross))).astype(np.float32)


class CycleGANRun(ImageRun):
    """Two generators, two discriminators (``wgan_images.Critic`` shapes), LSGAN losses, L1
    cycle loss λ = 10, Adam 2e-4 β (0.5, 0.999)."""

    name = "cyclegan"
    defaults = dict(steps=1500, batch_size=32, lr=2e-4, beta1=0.5, g_width=16, d_width=16,
                    lambda_cycle=10.0)
    quick = dict(steps=50)

    def build(self):
        from .wgan import Critic
        c = self.config
        self.G_AB, self.G_BA = (TranslationGenerator(c["g_width"]) for _ in range(2))
        self.D_A, self.D_B = (Critic(self.size, c["d_width"]) for _ in range(2))
        self.modules = {"G_AB": self.G_AB, "G_BA": self.G_BA, "D_A": self.D_A,
                        "D_B": self.D_B}
        if self.device is not None:
            for m in self.modules.values():
                m.to(self.device)
        betas = (c["beta1"], 0.999)
        self.optims = {
            "G": optim.Adam(list(self.G_AB.parameters()) + list(self.G_BA.parameters()),
                            lr=c["lr"], betas=betas),
            "D": optim.Adam(list(self.D_A.parameters()) + list(self.D_B.parameters()),
                            lr=c["lr"], betas=betas)}
        xtr = backend.to_numpy(self.data["x_train"].array)
        dtype = backend.get_default_dtype()
        a, b = xtr[0::2], thicken(xtr[1::2])              # disjoint halves: unpaired
        self.sample_a = batch_sampler(Tensor(backend.as_array(a.astype(dtype),
                                                               device=self.device)))
        self.sample_b = batch_sampler(Tensor(backend.as_array(b.astype(dtype),
                                                               device=self.device)))

    def train_step(self):
        c = self.config
        m, lam = c["batch_size"], c["lambda_cycle"]
        a, b = self.sample_a(m), self.sample_b(m)
        fake_b, fake_a = self.G_AB(a), self.G_BA(b)
        cycle = (((self.G_BA(fake_b) - a).abs()).mean()
                 + ((self.G_AB(fake_a) - b).abs()).mean())
        adv = losses.lsgan_g_loss(self.D_B(fake_b)) + losses.lsgan_g_loss(self.D_A(fake_a))
        g_loss = adv + lam * cycle
        self.finite(g_loss, "generator")
        self.optims["G"].zero_grad()
        g_loss.backward()
        self.optims["G"].step()
        fb, fa = fake_b.detach(), fake_a.detach()
        d_loss = (losses.lsgan_d_loss(self.D_B(b), self.D_B(fb))
                  + losses.lsgan_d_loss(self.D_A(a), self.D_A(fa)))
        self.finite(d_loss, "discriminator")
        self.optims["D"].zero_grad()
        d_loss.backward()
        self.optims["D"].step()
        return {"g_adv": float(adv.item()), "cycle_l1": float(cycle.item()),
                "d_loss": float(d_loss.item())}

    def translate(self, G, x, batch=500):
        G.eval()
        out = []
        with no_grad():
            for i in range(0, len(x), batch):
                xi = Tensor(backend.as_array(x[i:i + batch], device=self.device))
                out.append(backend.to_numpy(G(xi).array))
        return np.clip(np.concatenate(out).astype(np.float32), -1.0, 1.0)

    def samples(self, n=None):
        """The B -> A translations of the held-out thickened digits (scored as digits)."""
        self.test_a = self.data["x_test"]
        self.test_b = thicken(self.data["x_test"])
        self.b_to_a = self.translate(self.G_BA, self.test_b)
        self.a_to_b = self.translate(self.G_AB, self.test_a)
        return {"cyclegan_BtoA": self.b_to_a}

    def extra(self, scorer, report):
        from ...plots import images as P
        y = self.data["y_test"]
        acc = lambda imgs: float((scorer.predict(imgs) == y).mean())    # noqa: E731
        report["agreement_BtoA"] = acc(self.b_to_a)
        report["agreement_AtoB"] = acc(self.a_to_b)
        report["classifier_on_real_A"] = acc(self.test_a)
        report["classifier_on_real_B"] = acc(self.test_b)
        aba = self.translate(self.G_BA, self.a_to_b)
        bab = self.translate(self.G_AB, self.b_to_a)
        report["cycle_l1_ABA"] = float(np.abs(aba - self.test_a).mean())
        report["cycle_l1_BAB"] = float(np.abs(bab - self.test_b).mean())
        report["l1_A_vs_B"] = float(np.abs(self.test_a - self.test_b).mean())
        # style, not just class: ink (mean pixel) moves to the target domain's, and the
        # Fréchet distance to real digits falls from that of the untranslated B digits
        ink = lambda v: float(v.mean())                                  # noqa: E731
        report.update(ink_A=ink(self.test_a), ink_B=ink(self.test_b),
                      ink_BtoA=ink(self.b_to_a), ink_AtoB=ink(self.a_to_b))
        report["frechet_B_untranslated"] = float(scorer.score(self.test_b)["frechet"])
        report["frechet_BtoA"] = float(scorer.score(self.b_to_a)["frechet"])
        print(f"{self.name}: classifier agrees with the true class on "
              f"{report['agreement_BtoA']:.1%} of B->A and {report['agreement_AtoB']:.1%} of "
              f"A->B translations of {len(y)} held-out digits (real A {report['classifier_on_real_A']:.1%}, real "
              f"B {report['classifier_on_real_B']:.1%}); cycle L1 A->B->A "
              f"{report['cycle_l1_ABA']:.4f}, B->A->B {report['cycle_l1_BAB']:.4f} (pixels in "
              f"[-1, 1]; |A - B| itself {report['l1_A_vs_B']:.4f}); ink A "
              f"{report['ink_A']:.3f}, B {report['ink_B']:.3f}, B->A {report['ink_BtoA']:.3f}, "
              f"A->B {report['ink_AtoB']:.3f}; Fréchet to real digits: B "
              f"{report['frechet_B_untranslated']:.3f}, B->A {report['frechet_BtoA']:.3f}")
        k = 12
        report["figures"].append(P.reconstruction_figure(
            self.out / "cyclegan_AtoB.png", self.test_a[:k],
            {"G_AB(a)": self.a_to_b[:k], "G_BA(G_AB(a))": aba[:k], "thickened a": self.test_b[:k]},
            title=f"A -> B -> A (cycle L1 {report['cycle_l1_ABA']:.3f}); last row: the true "
                  "thickening, never shown as a pair"))
        report["figures"].append(P.reconstruction_figure(
            self.out / "cyclegan_BtoA.png", self.test_b[:k],
            {"G_BA(b)": self.b_to_a[:k], "G_AB(G_BA(b))": bab[:k]},
            title=f"B -> A -> B: same class on {report['agreement_BtoA']:.0%} "
                  f"(cycle L1 {report['cycle_l1_BAB']:.3f})"))
