"""A ×4 SRResNet written in plain PyTorch, trained on minigan's photos and measured as minigan
measures its own: how much a bigger model, or many more steps, gains over bicubic here.

    python -m benchmarks.torch_srresnet_reference --blocks 16 --width 64 --lr 3e-4 --seconds 1500
    python -m benchmarks.torch_srresnet_reference --blocks 4 --width 32 --lr 1e-3 --steps 1600

The network is the body of ``minigan.gan.models.srgan.SRResNet``: a 3×3 head with ReLU,
``blocks`` residual blocks (conv -> ReLU -> conv, no batch norm), a 3×3 body output added to
the head's features, then the ESPCN tail (one 3×3 convolution to 16 sub-pixels and a ×4
pixel shuffle, starting at zero) over a bicubic enlargement of the input (PyTorch's bicubic,
not minigan's: the network learns the residual either way). The data are minigan's:
``minigan.data.photos.PatchSampler`` over ``TRAIN_PHOTOS`` (batch 16 of 24×24 LR patches,
seeded by ``--seed``), the MSE loss, Adam with the rate falling along half a cosine to 0. The
measurement is ``minigan.experiments.images.srgan``'s: PSNR on the luminance of the whole
held-out ``TEST_PHOTOS``, 4 border pixels cropped, against bicubic.

``--seconds`` trains for a wall-clock budget instead of ``--steps`` (the schedule then follows
the elapsed time, so the number of steps depends on the machine). PyTorch is a reference,
never a dependency of minigan.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def build(torch, blocks, width, scale=4):
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(width, width, 3, 1, 1), nn.Conv2d(width, width, 3, 1, 1)

        def forward(self, x):
            return x + self.c2(F.relu(self.c1(x)))

    class SRResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Conv2d(1, width, 3, 1, 1)
            self.body = nn.Sequential(*[Block() for _ in range(blocks)])
            self.body_out = nn.Conv2d(width, width, 3, 1, 1)
            self.tail = nn.Conv2d(width, scale * scale, 3, 1, 1)
            nn.init.zeros_(self.tail.weight)      # the untrained network is bicubic
            nn.init.zeros_(self.tail.bias)

        def forward(self, x):
            f = F.relu(self.head(x))
            f = f + self.body_out(self.body(f))
            return (F.pixel_shuffle(self.tail(f), scale)
                    + F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False))

    return SRResNet()


def main(argv=None):
    import torch

    from minigan import backend
    from minigan.data import photos
    from minigan.evaluation import image_quality as Q
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--blocks", type=int, default=16)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--steps", type=int, default=1600)
    p.add_argument("--seconds", type=float, default=None,
                   help="train for this wall-clock time instead of --steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the result as JSON here")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    backend.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    F = torch.nn.functional
    net = build(torch, args.blocks, args.width)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sampler = photos.PatchSampler(photos.TRAIN_PHOTOS, 4, 24)
    t0, step = time.perf_counter(), 0
    while True:
        elapsed = time.perf_counter() - t0
        done = elapsed / args.seconds if args.seconds else step / args.steps
        if done >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = args.lr * 0.5 * (1.0 + math.cos(math.pi * done))
        lr, hr = sampler.sample(16)
        loss = F.mse_loss(net(torch.from_numpy(lr)), torch.from_numpy(hr))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 500 == 0:
            print(f"step {step}, {elapsed:.0f} s, MSE {float(loss):.5f}", flush=True)
    seconds = time.perf_counter() - t0
    net.eval()
    gains = {}
    with torch.no_grad():
        for name in photos.TEST_PHOTOS:
            hr, lr = photos.sr_pair(name, 4)
            bicubic = np.clip(photos.resize(lr, *hr.shape), 0.0, 1.0)
            sr = net(torch.from_numpy(np.array(lr[None, None]))).numpy()[0, 0]
            gains[name] = (Q.psnr(np.clip(sr, 0.0, 1.0), hr, border=4)
                           - Q.psnr(bicubic, hr, border=4))
    row = {"blocks": args.blocks, "width": args.width, "lr": args.lr, "steps": step,
           "train_seconds": seconds, "gain_db": gains, "mean_gain_db": float(np.mean(
               list(gains.values())))}
    print(f"torch SRResNet {args.blocks}x{args.width}, {step} steps ({seconds:.0f} s): "
          + ", ".join(f"{k} {v:+.2f}" for k, v in gains.items())
          + f"; mean {row['mean_gain_db']:+.2f} dB over bicubic")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(row, f, indent=1)


if __name__ == "__main__":
    main()
