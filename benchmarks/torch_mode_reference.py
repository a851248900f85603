"""The 2-D mode study's recipe written in PyTorch, scored by ``minigan.evaluation.modes``: what a PyTorch
user gets on the same toy, over seeds (a single seed says little).

    python -m benchmarks.torch_mode_reference --dist grid25 --seeds 0,1,2 [--steps 8000]

The recipe is ``minigan toy --dist DIST --method nsgan`` (see ``minigan.experiments.mode_study``):
3x256 ReLU MLPs for G and D (PyTorch's default init, which minigan's ``nn.Linear`` copies),
z ~ N(0, I_2), G's output times the distribution's scale (2 on the grid) and D's input divided
by it, batch 512, the non-saturating loss, Adam 1e-3 betas (0.5, 0.999) with a cosine decay to
1e-5 over the run, one D step per G step, one thread. Data and z are drawn by PyTorch's own
generator, so a seed here is not the same run as minigan's seed: compare over seeds. The
2500 scored samples use minigan's evaluation z for that seed.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def run_seed(torch, data, scale, steps, seed, batch=512, hidden=256, depth=3, lr=1e-3):
    from minigan.evaluation import modes
    nn = torch.nn
    torch.manual_seed(seed)

    def mlp(d_in, d_out):
        layers, sizes = [], [d_in] + [hidden] * depth
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(hidden, d_out))

    G, D = mlp(2, 2), mlp(2, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    scheds = [torch.optim.lr_scheduler.CosineAnnealingLR(o, steps, eta_min=1e-5)
              for o in (opt_g, opt_d)]
    centres = torch.tensor(data.centres, dtype=torch.float32)
    sigma = float(data.sigma)
    bce = nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(len(centres), (batch,))
        real = centres[idx] + sigma * torch.randn(batch, 2)
        with torch.no_grad():
            fake = scale * G(torch.randn(batch, 2))
        loss_d = bce(D(real / scale), ones) + bce(D(fake / scale), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(scale * G(torch.randn(batch, 2)) / scale), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for s in scheds:
            s.step()
    seconds = time.perf_counter() - t0
    z = np.random.default_rng(10_000 + seed).standard_normal((modes.N_SAMPLES, 2))
    with torch.no_grad():
        x = (scale * G(torch.tensor(z, dtype=torch.float32))).numpy()
    return modes.mode_metrics(x, data), seconds


def main(argv=None):
    import torch

    from minigan.evaluation import modes
    from minigan.data import toy
    from minigan.experiments.mode_study import MODE_CONFIG
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dist", choices=["ring8", "grid25"], default="grid25")
    p.add_argument("--seeds", default="0")
    p.add_argument("--steps", type=int, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = MODE_CONFIG[args.dist]
    data = toy.get_distribution(args.dist)
    steps = args.steps or cfg["steps"]
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        score, seconds = run_seed(torch, data, cfg["scale"], steps, seed)
        rows.append(score)
        print(f"torch nsgan {args.dist} {steps} steps seed {seed}: {modes.format_score(score)} "
              f"({seconds:.0f} s)", flush=True)
    full = sum(r["modes"] == r["n_modes"] for r in rows)
    print(f"mean {np.mean([r['modes'] for r in rows]):.2f} modes, "
          f"{100 * np.mean([r['hq'] for r in rows]):.1f} % HQ, rev-KL "
          f"{np.mean([r['rev_kl'] for r in rows]):.3f}; all modes in {full}/{len(rows)}")


if __name__ == "__main__":
    main()
