"""The improved techniques against the plain DCGAN on MNIST (28×28), over seeds.

    python -m benchmarks.mnist_techniques --techniques plain,fm --seeds 0 --steps 1000 \\
        --out runs/techniques                      # one row per (technique, seed): OUT/*.json
    python -m benchmarks.mnist_techniques --collect runs/techniques \\
        --write docs/results/mnist_techniques.json  # the rows and their summary, for lesson 19

Each (technique, seed) is ``minigan.experiments.images.techniques.measure_technique``: the
DCGAN run of ``images --model dcgan --data mnist`` for ``--steps`` steps with that one
technique on, 10 000 samples of the EMA generator and of the last G, scored by the MNIST
scorer. Run the pairs as separate processes to use several cores.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform


def main(argv=None):
    from minigan.experiments.images.techniques import (
        TECHNIQUE_NAMES,
        measure_technique,
        summarise,
    )
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--techniques", default="plain", help=f"from {','.join(TECHNIQUE_NAMES)}")
    p.add_argument("--seeds", default="0")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--out", default="runs/techniques")
    p.add_argument("--collect", default=None, metavar="DIR",
                   help="summarise the rows in DIR instead of training")
    p.add_argument("--write", default=None, help="with --collect: the JSON file to write")
    args = p.parse_args(argv)
    if args.collect:
        rows = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(args.collect,
                                                                          "*.json")))]
        summary = {g: summarise(rows, g) for g in ("dcgan_ema", "dcgan")}
        for name, e in summary["dcgan_ema"].items():
            fd, spread = e["frechet"]
            print(f"{name:6s} seeds {e['seeds']}  Fréchet {fd:.3f} ± {spread:.3f} "
                  f"({100 * e['frechet_change']:+.0f} %)  classes {e['coverage'][0]:.1f}  "
                  f"confidence {e['confidence'][0]:.3f}  {e['train_seconds']:.0f} s")
        if args.write:
            doc = {"rows": rows, "summary": summary,
                   "descriptions": {k: v[1] for k, v in TECHNIQUE_NAMES.items()},
                   "machine": f"{os.cpu_count()} cores, "
                              f"{platform.processor() or platform.machine()}",
                   "written": datetime.date.today().isoformat(),
                   "command": "python -m benchmarks.mnist_techniques --techniques T --seeds S "
                              f"--steps {rows[0]['steps']} (one process per pair, through a "
                              "one-core slot)"}
            with open(args.write, "w") as f:
                json.dump(doc, f, indent=1)
            print(f"wrote {args.write}")
        return
    os.makedirs(args.out, exist_ok=True)
    for name in args.techniques.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            row = measure_technique(name, seed, args.steps)
            with open(os.path.join(args.out, f"{name}_s{seed}.json"), "w") as f:
                json.dump(row, f, indent=1)
            ema = row["dcgan_ema"]
            print(f"{name} seed {seed}: Fréchet {ema['frechet']:.3f}, {ema['coverage']} classes, "
                  f"confidence {ema['confidence']:.3f} (EMA; last G Fréchet "
                  f"{row['dcgan']['frechet']:.3f}); trained {row['train_seconds']:.0f} s",
                  flush=True)


if __name__ == "__main__":
    main()
