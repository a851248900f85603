"""The 28×28 DCGAN written in plain PyTorch, scored by minigan's MNIST scorer: what a PyTorch
user gets on the same data after the same number of iterations, over seeds.

    python -m benchmarks.torch_dcgan_mnist_reference --seeds 0,1,2 [--steps N] [--out DIR]

The layout is minigan's ``images --model dcgan --data mnist`` (``minigan.gan.models.dcgan``,
size 28, the run's ``size28`` settings): G is ConvTranspose2d(z, 4w, 7) -> BN -> ReLU ->
ConvTranspose2d(4w, 2w, 4, 2, 1) -> BN -> ReLU -> ConvTranspose2d(2w, 1, 4, 2, 1) -> tanh
(7×7 -> 14×14 -> 28×28); D is Conv2d(1, w, 4, 2, 1) -> LeakyReLU(0.2) -> Conv2d(w, 2w, 4, 2,
1) -> BN -> LeakyReLU(0.2) -> Linear(2w·7·7, 1). The recipe is the DCGAN paper's, plainly: the
N(0, 0.02) initialisation, Adam 2e-4 with betas (0.5, 0.999), batch 64, the non-saturating
loss from logits, one D step per G step, no moving average, no learning-rate decay; samples
from G in eval mode (batch norm's running statistics), as PyTorch's own examples do. The
training set is minigan's (``minigan.data.mnist_subset('train')``, 4500 digits); batches and z
are drawn by PyTorch's generator, so a seed here is not minigan's run of that seed: compare
over seeds. The 10 000 scored samples use minigan's evaluation z for the seed and are saved
as ``OUT/torch_dcgan_s{seed}.npy`` (float32, (N, 1, 28, 28), in [-1, 1]) before scoring.
PyTorch is a reference, never a dependency of minigan.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def build(torch, z_dim, g_width, d_width):
    nn = torch.nn
    G = nn.Sequential(
        nn.ConvTranspose2d(z_dim, 4 * g_width, 7, 1, 0, bias=False),
        nn.BatchNorm2d(4 * g_width), nn.ReLU(),
        nn.ConvTranspose2d(4 * g_width, 2 * g_width, 4, 2, 1, bias=False),
        nn.BatchNorm2d(2 * g_width), nn.ReLU(),
        nn.ConvTranspose2d(2 * g_width, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, d_width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(d_width, 2 * d_width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * d_width),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * d_width * 7 * 7, 1))

    def init(m):                         # the DCGAN paper's initialisation
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    G.apply(init)
    D.apply(init)
    return G, D


def run_seed(torch, x_train, seed, steps, z_dim, g_width, d_width, batch=64, n_samples=10000):
    """Train one seed; return (samples (N, 1, 28, 28) float32, training seconds)."""
    from minigan.gan.sampling import SAMPLE_SEED_OFFSET
    torch.manual_seed(seed)
    G, D = build(torch, z_dim, g_width, d_width)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    data = torch.from_numpy(x_train)
    t0 = time.perf_counter()
    for _ in range(steps):
        real = data[torch.randperm(len(data))[:batch]]
        with torch.no_grad():
            fake = G(torch.randn(batch, z_dim, 1, 1))
        loss_d = bce(D(real), ones) + bce(D(fake), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(G(torch.randn(batch, z_dim, 1, 1))), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    seconds = time.perf_counter() - t0
    # minigan's evaluation codes for this seed (gan.sampling.fixed_z), in float32
    z = np.random.default_rng(seed + SAMPLE_SEED_OFFSET).standard_normal((n_samples, z_dim))
    G.eval()
    with torch.no_grad():
        x = torch.cat([G(torch.tensor(z[i:i + 500], dtype=torch.float32).reshape(-1, z_dim, 1, 1))
                       for i in range(0, n_samples, 500)]).numpy()
    return np.clip(x, -1.0, 1.0).astype(np.float32), seconds


def main(argv=None):
    import torch

    from minigan.data import mnist_subset
    from minigan.evaluation.scoring import get_scorer
    from minigan.experiments.images import DEFAULTS
    from minigan.experiments.images.registry import MODELS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="0")
    p.add_argument("--steps", type=int, default=None,
                   help="iterations (default: minigan's 28×28 DCGAN default)")
    p.add_argument("--out", default="runs/torch_dcgan_mnist")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = {**DEFAULTS["dcgan"], **MODELS["dcgan"].size28}
    steps = args.steps or cfg["steps"]
    x_train, _ = mnist_subset("train", as_tensor=False)
    scorer = get_scorer("mnist", 28)
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        x, seconds = run_seed(torch, x_train.astype(np.float32), seed, steps, cfg["z_dim"],
                              cfg["g_width"], cfg["d_width"], cfg["batch_size"])
        path = os.path.join(args.out, f"torch_dcgan_s{seed}.npy")
        np.save(path, x)
        sc = scorer.score(np.load(path))
        row = {"seed": seed, "steps": steps, "train_seconds": seconds, "samples": path,
               **{k: sc[k] for k in ("frechet", "coverage", "confidence", "kl_uniform",
                                     "precision", "recall")}}
        rows.append(row)
        print(f"torch DCGAN 28x28 seed {seed}, {steps} steps ({seconds:.0f} s): Fréchet "
              f"{row['frechet']:.3f}, {row['coverage']} classes, confidence "
              f"{row['confidence']:.3f}", flush=True)
        with open(os.path.join(args.out, f"torch_dcgan_s{seed}.json"), "w") as f:
            json.dump(row, f, indent=1)
    fd = [r["frechet"] for r in rows]
    print(f"mean Fréchet {np.mean(fd):.3f} ± {np.std(fd):.3f} over {len(rows)} seeds")


if __name__ == "__main__":
    main()
