"""Train an image model on real digits, write samples and figures, print scores.

    python -m minigan images --model dcgan --out runs/dcgan            # full run, <= 5 min
    python -m minigan images --model dcgan --out runs/dcgan --resume --steps 2000   # 2000 more
    python -m minigan images --model vae --quick --out /tmp/vae        # seconds
    python -m minigan images --model dcgan --data mnist --seed 0 --out runs/dcgan28   # 28×28

The models are the registry ``minigan.experiments.images.MODELS``; a model added there
appears in ``--model``.
Every number printed is measured on 1000 samples (10 000 on MNIST) against held-out real
digits, beside the same score for real training digits (the real-vs-real baseline).
"""
from __future__ import annotations

import os


def add_arguments(parser):
    from minigan.experiments.images import MODELS
    parser.add_argument("--model", default="dcgan", choices=sorted(MODELS),
                        help="which model to train (default: dcgan)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps (more steps when resuming); default: the model's")
    parser.add_argument("--seed", type=int, default=0, help="random seed (runs repeat exactly)")
    parser.add_argument("--device", default=os.environ.get("MINIGAN_DEVICE", "cpu"),
                        help="cpu or cuda (default: $MINIGAN_DEVICE or cpu)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/<model>)")
    parser.add_argument("--data", default="digits",
                        help="digits (8x8, default), digits16 (16x16 upsampled), mnist (the "
                             "5000 real 28x28 MNIST digits that ship offline: 10 000 samples "
                             "are written and scored) or mnist:PATH (a folder with MNIST's IDX "
                             "files)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.npz (--steps more steps)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run (seconds) that exercises everything; for tests")
    parser.add_argument("--batch-size", type=int, default=None, help="minibatch size")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (for GANs: sets G's and D's alike, overriding a "
                             "two-rate default)")
    parser.add_argument("--ema", type=float, default=None,
                        help="dcgan: EMA decay of G's weights (0 turns the EMA off); it warms up "
                             "as min(EMA, (1+t)/(10+t)), so 0.999 takes effect after 8990 steps")
    tech = parser.add_argument_group(
        "improved techniques (Salimans et al. 2016; dcgan, and --minibatch-disc for stacked; "
        "each off by default; "
        "see minigan.gan.techniques and lesson 19)")
    tech.add_argument("--feature-matching", action="store_true",
                      help="G matches the mean of D's last convolutional features")
    tech.add_argument("--label-smoothing", type=float, nargs="?", const=0.1, default=None,
                      metavar="ALPHA", help="one-sided: D's real target 1 - ALPHA (0.1)")
    tech.add_argument("--historical-averaging", type=float, nargs="?", const=1e-2, default=None,
                      metavar="LAMBDA", help="LAMBDA ||theta - mean of past theta||^2 on both "
                                             "players' losses (1e-2)")
    tech.add_argument("--virtual-batchnorm", action="store_true",
                      help="virtual batch norm in G (a fixed reference batch)")
    tech.add_argument("--minibatch-disc", type=int, nargs="?", const=16, default=None,
                      metavar="B", help="minibatch discrimination in D with B kernels (16); "
                                        "also for --model stacked (measured there with 100)")
    parser.add_argument("--task", default=None, choices=("edges", "inpaint"),
                        help="pix2pix: the paired input, the digit's edge map (default) or its "
                             "top half")
    parser.add_argument("--compare-ae", default=None, metavar="DIR",
                        help="dcgan: an --model ae run's folder to set the GAN inversion beside "
                             "(default: OUT/../ae when it exists)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: minigan's adaptive choice, as many as "
                             "there are idle cores; on two idle cores a 28×28 DCGAN step took "
                             "80 ms against 99 ms on one thread)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def lr_overrides(model, lr):
    """``--lr`` as settings: one learning rate, or G's and D's alike for a two-rate run."""
    from minigan.experiments.images import DEFAULTS
    keys = [k for k in DEFAULTS[model] if k == "lr" or k.startswith("lr_")]
    if not keys:
        raise ValueError(f"--lr: the {model} run has no learning-rate setting")
    return {k: lr for k in keys}


def technique_overrides(args):
    """The improved-technique flags as the dcgan run's settings (an error for other models)."""
    from minigan.experiments.images import DEFAULTS
    given = {"feature_matching": 1 if args.feature_matching else None,
             "label_smoothing": args.label_smoothing,
             "historical_averaging": args.historical_averaging,
             "virtual_batchnorm": 1 if args.virtual_batchnorm else None,
             "minibatch_kernels": args.minibatch_disc}
    given = {k: v for k, v in given.items() if v is not None}
    if args.model == "stacked" and "minibatch_kernels" in given:
        # stacked digits: minibatch discrimination is one of the run's methods
        given = dict(given, method="minibatch", mbd_kernels=given.pop("minibatch_kernels"))
    missing = [k for k in given if k not in DEFAULTS[args.model]]
    if missing:
        flags = ", ".join("--minibatch-disc" if k == "minibatch_kernels"
                          else "--" + k.replace("_", "-") for k in missing)
        raise ValueError(f"{flags}: the improved techniques are flags of the dcgan run, not "
                         f"of {args.model}")
    return given


def run(args):
    from minigan import backend
    from minigan.experiments.images import DEFAULTS, run_images
    overrides = {}
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.lr is not None:
        overrides.update(lr_overrides(args.model, args.lr))
    if args.ema is not None:
        if "ema" not in DEFAULTS[args.model]:
            raise ValueError(f"--ema applies to dcgan, not {args.model}")
        overrides["ema"] = args.ema
    overrides.update(technique_overrides(args))
    if args.task is not None:
        if "task" not in DEFAULTS[args.model]:
            raise ValueError(f"--task applies to pix2pix, not {args.model}")
        overrides["task"] = args.task
    if args.steps is not None and args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    out = args.out or os.path.join("runs", args.model)
    if args.device != "cpu":
        os.environ["MINIGAN_DEVICE"] = args.device
    with backend.blas_threads(args.threads):
        run_images(args.model, steps=args.steps, seed=args.seed,
                   device=None if args.device == "cpu" else args.device, out=out,
                   data=args.data, resume=args.resume, quick=args.quick,
                   compare_ae=args.compare_ae if args.model == "dcgan" else None,
                   progress=False if args.no_progress else None, **overrides)
    return 0
