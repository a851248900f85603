"""Enlarge a photo ×4 with a trained super-resolution model (python -m minigan images --model srgan).

    python -m minigan images --model srgan --out runs/srgan          # train (minutes)
    python -m minigan superres photo.jpg --scale 4 --checkpoint runs/srgan/checkpoint.npz \\
        --out photo_x4.png                                           # any PNG/JPEG, any size
    python -m minigan superres photo.png --checkpoint ... --out x4.png --evaluate
    python -m minigan superres photo.png --checkpoint ... --out x4.png --self-ensemble

The luminance goes through the network in tiles (memory stays bounded whatever the image's
size), the colour is enlarged bicubically. ``--evaluate`` treats IMAGE as the ground truth
instead: it shrinks it by the scale, enlarges it again, and prints PSNR (Y, border cropped)
and SSIM against bicubic interpolation. ``--self-ensemble`` enlarges the 8 rotations and
mirror images of the photo and averages them, each turned back: about 0.1 dB more for 8 times
the time (``srgan.upscale``).
"""
from __future__ import annotations

import os


def add_arguments(parser):
    parser.add_argument("image", help="the PNG/JPEG (or any format Pillow reads) to enlarge")
    parser.add_argument("--checkpoint", required=True,
                        help="OUT/checkpoint.npz of a `python -m minigan images --model srgan` run")
    parser.add_argument("--out", required=True, help="the enlarged image to write (.png, .jpg)")
    parser.add_argument("--scale", type=int, default=4,
                        help="the enlargement: must be the checkpoint's (default 4)")
    parser.add_argument("--generator", default="mse", choices=["mse", "gan"],
                        help="mse: the SRResNet (highest PSNR, default); gan: the SRGAN "
                             "(sharper texture, lower PSNR)")
    parser.add_argument("--self-ensemble", action="store_true",
                        help="average the 8 rotations and mirror images (about +0.1 dB PSNR, "
                             "8x the time)")
    parser.add_argument("--tile", type=int, default=48,
                        help="LR tile side: the memory per batch of tiles (default 48)")
    parser.add_argument("--evaluate", action="store_true",
                        help="IMAGE is the ground truth: shrink it, enlarge it, print PSNR/SSIM "
                             "against bicubic, and write the enlargement")
    parser.add_argument("--device", default=os.environ.get("MINIGAN_DEVICE", "cpu"),
                        help="cpu or cuda (default: $MINIGAN_DEVICE or cpu)")


def run(args):
    from minigan import backend
    from minigan.data import photos
    from minigan.experiments.images.srgan import load_generator, super_resolve
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f"no checkpoint {args.checkpoint} (train one with "
                                "`python -m minigan images --model srgan --out DIR`)")
    if args.tile < 1:
        raise ValueError(f"--tile must be positive, got {args.tile}")
    device = None if args.device == "cpu" else args.device
    G = load_generator(args.checkpoint, args.generator, device=device)
    if args.scale != G.scale:
        raise ValueError(f"--scale {args.scale}: the checkpoint's model enlarges ×{G.scale}")
    image = photos.read_image(args.image)
    tiles = dict(tile=args.tile, device=device, self_ensemble=args.self_ensemble)
    with backend.blas_threads(1):
        if args.evaluate:
            _evaluate(G, image, args, tiles)
            return 0
        out = super_resolve(G, image, **tiles)
    photos.write_image(args.out, out)
    print(f"{args.image} {image.shape[1]}×{image.shape[0]} -> {args.out} "
          f"{out.shape[1]}×{out.shape[0]} ({args.generator} generator)")
    return 0


def _evaluate(G, image, args, tiles):
    from minigan.data import photos
    from minigan.evaluation import image_quality as Q
    from minigan.experiments.images.srgan import super_resolve
    s = G.scale
    hr = photos.crop_to_multiple(image, s)
    h, w = hr.shape[:2]
    if min(h, w) < 4 * s:
        raise ValueError(f"--evaluate: {args.image} is too small to shrink ×{s}")
    lr = photos.resize_image(hr, h // s, w // s)
    y = photos.luminance
    for label, img in (("bicubic", photos.resize_image(lr, h, w)),
                       (args.generator, super_resolve(G, lr, **tiles))):
        print(f"{label:<8s} PSNR {Q.psnr(y(img), y(hr), border=s):.2f} dB (Y, border {s}), "
              f"SSIM {Q.ssim(y(img), y(hr), border=s):.4f}")
    photos.write_image(args.out, img)
    print(f"wrote {args.out}")
