"""The mode-collapse study of ``minigan toy``: mixtures of Gaussians, each remedy, the metrics.

    python -m minigan toy --dist ring8                         # the recommended method
    python -m minigan toy --dist grid25 --method gan           # watch it collapse
    python -m minigan toy --dist mix1d --modes 4 --method unrolled
    python -m minigan toy --dist grid25 --method nsgan --seeds 10 --no-figures  # the table

One run trains G and D with the chosen method, then scores 2500 samples of the final G with
``minigan.evaluation.modes`` (high-quality fraction, modes covered, reverse KL; the JSD in
1-D), prints them, and writes ``samples.npy`` (2500 x d), ``history.json`` and the figures:

* ``modes_over_training.png``: modes covered / HQ % (and JSD in 1-D) against the step;
* ``rows.png`` (2-D): Metz et al.'s Figure 1 row -- p_g (samples) at a few steps;
* ``hopping.png`` (1-D): the histogram of G's samples over training, step on the y axis;
  a collapsing GAN shows up as mass jumping from mode to mode;
* ``discriminator.png`` (2-D): D's output as a heatmap, the fakes, and the gradient of the
  generator loss on each fake as an arrow (GAN Lab's view).

``--seeds N`` runs seeds 0..N-1 (no figures) and writes ``table.md``: one row per seed and the
summary (how many seeds cover every mode, mean modes / HQ / reverse KL, wall time).

What every method shares (the same budget): the MLP sizes, batch, z ~ N(0, I), the number of
generator steps (``--steps N``), Adam with beta1 = 0.5 and a cosine learning-rate decay to
1e-5, D at G's rate (the ring's recommended PacGAN excepted: its D learns twice as fast;
``--lr-d`` sets D's rate). The only thing that changes is the method. Without ``--steps``
a 2-D run takes its method's default steps: fewer for a dearer step (k = 5 critic steps,
unrolled D steps, pairwise features), so every default run fits in 3 minutes
(``default_steps``).
``--schedule constant`` (and ``--lr 2e-4``) gives the classic constant-learning-rate setting
under which GANs collapse on these toys.

The measured results (every method over 10 seeds and held-out seeds, the published numbers
beside them, what was tried and did not help) are in ``docs/results/mode_collapse.md``, each
table with the command that made it. ``run(opts)`` is what ``minigan toy`` calls with its
flags as a ``ToyOptions``; ``settings(opts)`` resolves them into the dict a run trains with.
"""
from __future__ import annotations

import json
import os
import time

from ..gan.loop import resume_state
from ..gan.sampling import SAMPLE_SEED_OFFSET
from ..serialization import output_dir, save_array, save_json, write_file

# The 3-minute budget of a default run (2-D): a method whose G step is dearer (k = 5 critic
# steps, unrolled D steps, pairwise features) gets fewer G steps; the distribution's own
# ``steps`` is its recommended method's. --long scales every method's steps alike.
STEPS_2D_DEAR = {"minibatch": 5000, "unrolled": 2000, "unrolled1": 5000, "wgan": 6000,
                 "wgan-gp": 4400}

# Per distribution: standardisation of the networks, default sizes and step budgets, the
# recommended method and, where it differs, D's learning rate as a multiple of G's (TTUR).
# 2-D: non-saturating GANs on 3x128 ReLU MLPs, batch 512, Adam 1e-3 beta1 0.5, cosine decay
# to 1e-5 (narrower MLPs trained longer beat 3x256 at the same time). 1-D: modes 10 apart
# (20 sigma), G's output not rescaled, leaky ReLU (with ReLU a 1-D G loses units for good).
# Why each value: docs/results/mode_collapse.md.
MODE_CONFIG = {
    "mix1d": dict(x_dim=1, z_dim=1, hidden=64, depth=3, batch=256, shift=0.0, scale=1.0,
                  spacing=10.0, steps=1500, long_steps=5000, quick_steps=300,
                  recommended="nsgan", activation="leaky_relu"),
    "ring8": dict(x_dim=2, z_dim=2, hidden=128, depth=3, batch=512, shift=0.0, scale=1.0,
                  steps=32000, long_steps=64000, quick_steps=300, recommended="pacgan", pack=2,
                  activation="relu", d_lr_ratio={"pacgan": 2.0}, method_steps={
                      "gan": 24000, "nsgan": 24000, "nsgan-r1": 20000, **STEPS_2D_DEAR}),
    "grid25": dict(x_dim=2, z_dim=2, hidden=128, depth=3, batch=512, shift=0.0, scale=2.0,
                   steps=24000, long_steps=56000, quick_steps=300, recommended="nsgan-r1",
                   r1_every=4, activation="relu", method_steps=STEPS_2D_DEAR),
}

# Method-specific knobs on top of the shared budget (k = D steps per G step).
METHOD_K = {"wgan": 5, "wgan-gp": 5}


def extra_flags(args):
    """The extra-row flags given (``--ema``, ``--drs``): they need a single study run or a sweep."""
    return [f for f, on in (("--ema", getattr(args, "ema", None)),
                            ("--drs", getattr(args, "drs", False))) if on]


def is_mode_study(args):
    """The mode study runs for 2-D toys, mixtures of > 2 modes, the remedies, and sweeps."""
    from ..gan.remedies import METHODS
    return (args.dist in ("ring8", "grid25")
            or (args.dist == "mix1d" and (args.modes or 2) > 2)
            or (args.method not in (None, "gan", "nsgan") and args.method in METHODS)
            or bool(getattr(args, "seeds", None)) or bool(getattr(args, "compare", None)))


def config(**options):
    """The resolved settings for keyword options (the fields of ``ToyOptions``), e.g.
    ``config(dist="mix1d", modes=4, method="gan", lr=3e-3)``: what ``minigan toy`` with the
    same flags would run. Lessons and notebooks build their runs with it."""
    from .toy_options import ToyOptions
    return settings(ToyOptions(**options))


def settings(args):
    """The resolved settings of a run (a dict, saved in history.json) from its options
    (a ``ToyOptions``: ``None`` fields take the distribution's and the method's defaults)."""
    from ..gan.remedies import R1_GAMMA
    cfg = MODE_CONFIG.get(args.dist)
    if cfg is None:
        raise ValueError(f"--dist {args.dist}: the mode study needs one of "
                         f"{', '.join(MODE_CONFIG)}")
    method = args.method or cfg["recommended"]
    steps = run_steps(cfg, method, args)
    if steps < 1:
        raise ValueError(f"--steps must be positive, got {steps}")
    s = dict(dist=args.dist, method=method, steps=int(steps),
             modes=(args.modes or 4) if args.dist == "mix1d" else None,
             spacing=(args.spacing or cfg.get("spacing")) if args.dist == "mix1d" else None,
             hidden=args.hidden or cfg["hidden"], depth=args.depth or cfg["depth"],
             batch=args.batch_size or cfg["batch"], z_dim=cfg["z_dim"],
             x_dim=cfg["x_dim"], shift=cfg["shift"],
             activation=getattr(args, "activation", None) or cfg["activation"],
             scale=cfg["scale"], lr=_g_lr(args), lr_d=run_lr_d(cfg, method, args),
             lr_min=1e-5, schedule=args.schedule,
             betas=(0.5, 0.999),
             k=METHOD_K.get(method, 1) if getattr(args, "k", None) is None else args.k,
             pack=args.pack if args.pack is not None else cfg.get("pack", 4),
             unroll=args.unroll, unroll_lr=getattr(args, "unroll_lr", None),
             r1=cfg.get("r1", R1_GAMMA) if getattr(args, "r1", None) is None else args.r1,
             r1_every=(cfg.get("r1_every", 1) if getattr(args, "r1_every", None) is None
                       else args.r1_every),
             drs=bool(getattr(args, "drs", False)),
             ema=float(getattr(args, "ema", None) or 0.0),
             quick=bool(args.quick), long=bool(args.long))
    if s["lr"] <= 0 or s["lr_d"] <= 0:
        raise ValueError(f"--lr and --lr-d must be positive, got {s['lr']:g} and {s['lr_d']:g}")
    if s["k"] < 1:
        raise ValueError(f"--k must be >= 1 (D steps per G step), got {s['k']}")
    if s["pack"] < 1:
        raise ValueError(f"--pack must be >= 1 (samples per PacGAN pack), got {s['pack']}")
    r1_flags = (getattr(args, "r1", None), getattr(args, "r1_every", None))
    if r1_flags != (None, None) and method != "nsgan-r1":
        raise ValueError(f"--r1/--r1-every apply to --method nsgan-r1 only, not {method}")
    extras = extra_flags(args)
    if extras and _compared_methods(args):
        raise ValueError(f"{', '.join(extras)}: extra rows belong to a single run or a --seeds "
                         "sweep, not to --compare's figure")
    if not 0.0 <= s["ema"] < 1.0:
        raise ValueError(f"--ema must be in [0, 1) (the average's decay beta; 0 = off), got "
                         f"{s['ema']:g}")
    if s["r1"] < 0 or s["r1_every"] < 1:
        raise ValueError(f"--r1 must be >= 0 and --r1-every >= 1, got {s['r1']:g} and "
                         f"{s['r1_every']}")
    if args.quick and args.hidden is None:
        s["hidden"] = min(s["hidden"], 64)
    return s


def default_steps(cfg, method, long=False):
    """A method's default number of G steps on a ``MODE_CONFIG`` entry: the entry's ``steps``
    (its recommended method's budget) unless ``method_steps`` gives the method fewer -- a
    dearer step, fewer of them, so every default run fits the 3-minute budget -- times the
    entry's --long factor (long_steps / steps)."""
    steps = cfg.get("method_steps", {}).get(method, cfg["steps"])
    if long:
        steps = round(steps * cfg["long_steps"] / cfg["steps"])
    return int(steps)


def run_steps(cfg, method, args):
    """The G steps a run of ``method`` trains for: ``--steps`` if given, else ``--quick``'s,
    else the method's default (``default_steps``, scaled by ``--long``)."""
    if args.steps is not None:
        return args.steps
    return cfg["quick_steps"] if args.quick else default_steps(cfg, method, args.long)


def _g_lr(args):
    """G's learning rate (``--lr``, default 1e-3)."""
    return 1e-3 if args.lr is None else args.lr


def run_lr_d(cfg, method, args):
    """D's learning rate: ``--lr-d`` if given, else G's (``--lr``) times the method's D/G ratio
    on this distribution (``MODE_CONFIG[...]["d_lr_ratio"]``; 1 -- one lr for both -- unless
    the entry names the method). A D that learns faster than G is Heusel et al.'s two time-scale
    update rule (TTUR); MODE_CONFIG's ring entry says what it measured."""
    if getattr(args, "lr_d", None) is not None:
        return args.lr_d
    return _g_lr(args) * cfg.get("d_lr_ratio", {}).get(method, 1.0)


def train_one(s, seed, device=None, snapshots=0, track_every=0, progress=False,
              checkpoint=None, resume=False):
    """Train one seed with settings ``s``; returns a result dict (score, samples, times...).
    ``device`` None is the default device (``$MINIGAN_DEVICE``, else the CPU).

    With a ``checkpoint`` path the run saves itself ten times along the way (networks,
    optimizers, schedules, RNG, the scores and snapshots tracked so far); ``resume=True``
    finishes an interrupted run from it, bit for bit on the CPU."""
    import numpy as np

    import minigan

    from .. import backend, gan, optim
    from ..data import toy
    from ..evaluation import modes
    from ..gan.remedies import build_method
    from ..optim import lr_scheduler

    device = backend.Device(device) if device is not None else backend.default_device()
    minigan.manual_seed(seed)
    data = toy.get_distribution(s["dist"], modes=s["modes"], spacing=s.get("spacing"))
    noise = toy.GaussianNoise(s["z_dim"])
    with device:                # built and initialised on the run's device, not moved there
        G, D, objective, trainer_cls, extra = build_method(
            s["method"], s["x_dim"], s["z_dim"], s["hidden"], s["depth"], s["activation"],
            s["shift"], s["scale"], pack=s["pack"], unroll=s["unroll"], r1=s["r1"],
            r1_every=s["r1_every"])
    if s.get("unroll_lr") and "unroll" in extra:
        extra["unroll_lr"] = s["unroll_lr"]
    opt_g = optim.Adam(G.parameters(), lr=s["lr"], betas=s["betas"])
    opt_d = optim.Adam(D.parameters(), lr=s["lr_d"], betas=s["betas"])
    steps = s["steps"]
    scheds = []
    if s["schedule"] == "cosine":
        scheds = [lr_scheduler.CosineAnnealingLR(o, steps, eta_min=s["lr_min"])
                  for o in (opt_g, opt_d)]
    rng = np.random.default_rng(SAMPLE_SEED_OFFSET + seed)
    z_eval = noise.sample_numpy(modes.N_SAMPLES, rng)
    g_fn = gan.as_numpy_fn(G, device=device)

    # The scores over training: of G, and of the average of G's weights when --ema is on.
    tracked = {"track": g_fn}
    tracks = {"track": [], "track_ema": []}
    snaps = []
    snap_steps = set()
    if snapshots:
        snap_steps = {int(round(v)) for v in np.linspace(0, steps, snapshots)}

    def samples_of(fn):
        """The 2500 scored samples of a generator (G or its average), (n, d) float32."""
        return fn(z_eval).reshape(len(z_eval), -1).astype(np.float32)

    def record(step):
        for key, fn in tracked.items():
            sc = _score(samples_of(fn), data)
            tracks[key].append(dict(step=step, **{k: sc[k] for k in ("modes", "hq", "rev_kl",
                                                                      "jsd") if k in sc}))

    def callback(tr):
        if track_every and (tr.step % track_every == 0 or tr.step == steps):
            record(tr.step)
        if tr.step in snap_steps:
            snaps.append((tr.step, g_fn(z_eval[:1000]).reshape(1000, -1)))

    batch = _batch_rows(s)
    trainer = trainer_cls(G, D, opt_g, opt_d, data, noise, objective=objective, k=s["k"],
                          batch_size=batch, device=device, callbacks=[callback],
                          progress=progress, schedulers=scheds, g_ema=s["ema"],
                          checkpoint_path=checkpoint,
                          checkpoint_every=max(1, steps // 10) if checkpoint else None, **extra)
    if trainer.G_ema is not None:
        tracked["track_ema"] = gan.as_numpy_fn(trainer.G_ema, device=device)
    # what a resumed run needs besides the trainer's state travels in every checkpoint
    settings = json.loads(json.dumps(dict(s, seed=seed)))      # as JSON gives it back
    trainer.meta = {"settings_json": json.dumps(settings), "tracks": tracks, "snapshots": snaps}
    if resume:
        state = resume_state(checkpoint, settings)
        trainer.resume(checkpoint, state=state)
        tracks.update(state["tracks"])
        snaps[:] = [tuple(x) for x in state["snapshots"]]
        print(f"  resumed from {checkpoint} at step {trainer.step} of {steps}")
    else:
        if 0 in snap_steps:
            snaps.append((0, g_fn(z_eval[:1000]).reshape(1000, -1)))
        if track_every:
            record(0)
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train(steps - trainer.step)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    samples = samples_of(g_fn)
    score = _score(samples, data)
    drs = _drs_score(s, G, D, data, noise, seed, device) if s.get("drs") else None
    ema = None
    if trainer.G_ema is not None:
        t1 = time.perf_counter()
        ema_samples = samples_of(tracked["track_ema"])
        ema = dict(score=_score(ema_samples, data), samples=ema_samples, beta=s["ema"],
                   seconds=time.perf_counter() - t1)
    return dict(seed=seed, score=score, seconds=seconds, cpu_seconds=cpu, samples=samples,
                track=tracks["track"], track_ema=tracks["track_ema"], drs=drs, ema=ema,
                snapshots=snaps, trainer=trainer, data=data, noise=noise, G=G, D=D)


def _format(score):
    """'3/4 modes, 15.7 % HQ, rev-KL 0.288' (and the JSD in 1-D)."""
    from ..evaluation import modes
    jsd = f", JSD {score['jsd']:.4f} nats" if "jsd" in score else ""
    return modes.format_score(score) + jsd


def _score(samples, data):
    """The mode metrics of 2500 samples (and the JSD by quadrature in 1-D)."""
    from ..evaluation import modes
    score = modes.mode_metrics(samples, data)
    if data.dim == 1:
        score["jsd"] = modes.jsd_1d(samples, data)
    return score


def _batch_rows(s):
    """The batch, rounded down to whole packs for PacGAN (its D reshapes rows into packs)."""
    pack = s["pack"] if s["method"] == "pacgan" else 1
    return (s["batch"] // pack) * pack


DRS_FINE_TUNE = dict(steps=500, lr=1e-4)     # D's calibration before rejection sampling
# A critic (WGAN) or a D that looks at the whole minibatch estimates no per-sample log ratio:
# those methods get a *fresh* standard D, trained on the frozen final G.
DRS_FRESH_D = dict(steps=2000, lr=1e-3)
DRS_PARTNER_SETS = 4                          # PacGAN: partner sets averaged per candidate
# D's logit is log p_data / p_g for these
DRS_OWN_D = ("gan", "nsgan", "unrolled", "unrolled1", "nsgan-r1")


def _drs_kind(s):
    """Which discriminator DRS uses: the method's own ('own'), its packed D read one sample
    at a time ('packed'), or a fresh standard D ('fresh')."""
    if s["method"] == "pacgan":
        return "packed" if s["pack"] >= 2 else "own"      # a pack of 1 is a plain D
    return "own" if s["method"] in DRS_OWN_D else "fresh"   # critics, minibatch-feature Ds


def _drs_calibration(kind):
    """Steps and lr of the D calibration: fine-tuning an own/packed D, or training a fresh one."""
    return DRS_FRESH_D if kind == "fresh" else DRS_FINE_TUNE


def _drs_score(s, G, D, data, noise, seed, device):
    """Discriminator rejection sampling of the final G (post-hoc): calibrate a discriminator
    with G frozen, keep 2500 samples by its acceptance test, score them like G's own samples.

    DRS needs logit D(x) ~ log p_data(x) / p_g(x) for ONE sample x. A (non-)saturating GAN's
    own D is trained for exactly that, so it is only fine-tuned; PacGAN's packed D is
    fine-tuned and read through fixed partners (``rejection.packed_log_ratio``). A WGAN
    critic's output is no log ratio and a minibatch-discrimination D depends on the batch, but
    the identity holds for any D trained with the GAN loss against the final G -- so those get
    a fresh standard D trained from scratch on the frozen G (a labelled variant)."""
    import copy

    import numpy as np

    from .. import no_grad, optim
    from ..evaluation import modes
    from ..gan.models.mlp import mlp_discriminator
    from ..gan.rejection import (
        fine_tune_discriminator,
        packed_log_ratio,
        rejection_sample,
    )
    from ..gan.remedies import METHODS
    t0 = time.perf_counter()
    kind = _drs_kind(s)
    cal = _drs_calibration(kind)
    if kind != "fresh":
        D = copy.deepcopy(D)         # calibrate a copy: the run's own D (and its figures) stay
    else:
        with device:             # a fresh D, made on the run's device
            D = mlp_discriminator(s["x_dim"], hidden=s["hidden"], depth=s["depth"],
                                  activation=s["activation"], shift=s["shift"],
                                  scale=s["scale"])
    opt = optim.Adam(D.parameters(), lr=cal["lr"], betas=s["betas"])
    batch = _batch_rows(s)
    fine_tune_discriminator(G, D, opt, data, noise, steps=cal["steps"], batch_size=batch,
                            objective="nsgan" if kind == "fresh" else METHODS[s["method"]][0],
                            device=device)
    score_fn = D
    if kind == "packed":
        with no_grad():
            partners = G(noise.sample(DRS_PARTNER_SETS * (s["pack"] - 1), device))
        score_fn = packed_log_ratio(D, s["pack"], partners, repeats=DRS_PARTNER_SETS)
    try:
        kept, rate = rejection_sample(G, score_fn, noise, modes.N_SAMPLES, device=device,
                                      rng=np.random.default_rng(2 * SAMPLE_SEED_OFFSET + seed))
    except RuntimeError as exc:        # a post-hoc extra must never cost the run its result
        print(f"  DRS failed for seed {seed}: {exc}", flush=True)
        return None
    return dict(score=_score(kept, data), acceptance=rate, seconds=time.perf_counter() - t0,
                d_used=kind)


# The extra rows a run can add: post-hoc rejection sampling, and the averaged generator.
EXTRAS = ("drs", "ema")


def _extra_text(key, s, e=None):
    """How an extra row kind is named and described: {name, tag (the row label after the
    seed; needs the row's result ``e``), label (one line), caption (table.md)}."""
    if key == "drs":
        return dict(name="DRS",
                    tag=e and f"DRS (acc. {100 * e['acceptance']:.0f} %)",
                    label=f"post-hoc; {_drs_label(s)}",
                    caption="Discriminator rejection sampling of the same final G (post-hoc: "
                            f"{_drs_label(s)}, then 2500 samples kept by D's acceptance test; "
                            "seconds = calibration + sampling):")
    return dict(name="EMA of G", tag="EMA of G",
                label=f"beta {s['ema']:g}, the average of G's weights over training; "
                      "training unchanged",
                caption=f"The exponential moving average of G's weights (beta {s['ema']:g}, "
                        "updated after every G step of the same run; seconds = scoring it):")


def _extra_summary(e):
    """An extra row's numbers for history.json (score, plus acceptance etc., no arrays)."""
    return dict(e["score"], **{k: v for k, v in e.items()
                               if k not in ("score", "samples")})


def _drs_label(s):
    """How the DRS rows were made (the table's caption)."""
    kind = _drs_kind(s)
    c = _drs_calibration(kind)
    if kind == "own":
        return f"D fine-tuned {c['steps']} steps at lr {c['lr']:g} with G frozen"
    if kind == "packed":
        return (f"the packed D fine-tuned {c['steps']} steps at lr {c['lr']:g} with G frozen, "
                f"each candidate packed with {DRS_PARTNER_SETS} fixed sets of G's samples")
    return (f"a fresh standard D (not {s['method']}'s own) trained {c['steps']} steps at lr "
            f"{c['lr']:g} on the frozen G")


def _row(seed, score, seconds, cpu):
    jsd = f" | {score['jsd']:.4f}" if "jsd" in score else ""
    return (f"| {seed} | {score['modes']}/{score['n_modes']} | {100 * score['hq']:.1f} | "
            f"{score['rev_kl']:.4f}{jsd} | {seconds:.1f} | {cpu:.1f} |")


def run(args):
    from .. import backend

    s = settings(args)
    device = backend.Device(args.device) if args.device else backend.default_device()
    output_dir(args.out)
    t_start = time.perf_counter()
    compared = _compared_methods(args)
    who = " vs ".join(compared) if compared else s["method"]
    k = "k per method" if compared else f"k={s['k']}"
    n_steps = "G steps per method" if compared else f"{s['steps']} G steps"
    desc = (f"{who} on {s['dist']}" + (f" (K={s['modes']})" if s["modes"] else "")
            + f": {n_steps}, {k}, batch {s['batch']}, MLP {s['depth']}x"
            f"{s['hidden']} {s['activation']}, z_dim {s['z_dim']}, Adam lr {s['lr']:g} "
            + _d_lr_text(args, s, compared)
            + f"betas {s['betas']}, schedule {s['schedule']}"
            + (f" to {s['lr_min']:g}" if s["schedule"] == "cosine" else "")
            + (f", R1 gamma {s['r1']:g} every {s['r1_every']} D steps"
               if "nsgan-r1" in (compared or [s["method"]]) else "")
            + (f", EMA of G beta {s['ema']:g}" if s["ema"] else ""))
    print(desc)
    if getattr(args, "resume", False) and (args.seeds or getattr(args, "compare", None)):
        raise ValueError("--resume finishes one interrupted run; a --seeds sweep or a "
                         "--compare figure is run again instead")
    if args.seeds:
        return _sweep(args, s, desc, device, t_start)
    if getattr(args, "compare", None):
        return _compare(args, s, device, t_start)
    n_snap = 0 if args.no_figures else (6 if s["x_dim"] == 2 else 40)
    res = train_one(s, args.seed, device, snapshots=n_snap,
                    track_every=max(1, s["steps"] // 40), progress=bool(args.progress),
                    checkpoint=os.path.join(args.out, "checkpoint.npz"),
                    resume=bool(getattr(args, "resume", False)))
    save_array(os.path.join(args.out, "samples.npy"), res["samples"])
    sc = res["score"]
    print(f"  seed {args.seed}: {_format(sc)}  ({res['seconds']:.1f} s training wall, "
          f"{res['cpu_seconds']:.1f} s CPU)")
    for key in EXTRAS:
        e = res[key]
        if e:
            text = _extra_text(key, s, e)
            print(f"  + {text['name']} ({text['label']}): {_format(e['score'])}"
                  + (f", acceptance {100 * e['acceptance']:.1f} %" if "acceptance" in e else "")
                  + f"  ({e['seconds']:.1f} s)")
    if res["ema"]:
        save_array(os.path.join(args.out, "samples_ema.npy"), res["ema"]["samples"])
    if not args.no_figures:
        _figures(args, s, res)
    total = time.perf_counter() - t_start
    extras = {key: res[key] and _extra_summary(res[key]) for key in EXTRAS}
    save_json(os.path.join(args.out, "history.json"),
              {"summary": dict(settings=s, seed=args.seed, score=dict(sc), **extras,
                               seconds_train=res["seconds"], cpu_seconds_train=res["cpu_seconds"],
                               seconds_total=total),
               "track": res["track"], "track_ema": res["track_ema"],
               "history": res["trainer"].history})
    print(f"  total {total:.1f} s; wrote {args.out}/samples.npy"
          + (", samples_ema.npy" if res["ema"] else "") + ", history.json"
          + ("" if args.no_figures else ", figures"))
    return 0


def _sweep(args, s, desc, device, t_start):
    import numpy as np
    rows, results, extra_rows = [], [], {key: [] for key in EXTRAS}
    for seed in range(args.seed, args.seed + args.seeds):
        r = train_one(s, seed, device)
        sc = r["score"]
        results.append(dict(seed=seed, seconds=r["seconds"], cpu_seconds=r["cpu_seconds"],
                            **{k: v for k, v in sc.items()}))
        rows.append(_row(seed, sc, r["seconds"], r["cpu_seconds"]))
        print("  " + rows[-1], flush=True)
        for key in EXTRAS:
            if r[key]:
                results[-1][key] = _extra_summary(r[key])
                extra_rows[key].append(_row(f"{seed} + {_extra_text(key, s, r[key])['tag']}",
                                            r[key]["score"], r[key]["seconds"],
                                            r[key]["seconds"]))
                print("  " + extra_rows[key][-1], flush=True)
        if seed == args.seed:
            save_array(os.path.join(args.out, "samples.npy"), r["samples"])
            if r["ema"]:
                save_array(os.path.join(args.out, "samples_ema.npy"), r["ema"]["samples"])
    n = len(results)
    j = results[0]["n_modes"]
    full = sum(r["modes"] == j for r in results)
    def met(r):
        return r["modes"] == j and r["hq"] >= 0.98 and (j < 25 or r["rev_kl"] <= 0.01)
    goal = sum(met(r) for r in results)
    has_jsd = "jsd" in results[0]
    head = ("| seed | modes | HQ % | rev-KL |" + (" JSD |" if has_jsd else "")
            + " train wall s | train CPU s |")
    sep = "|---|---|---|---|" + ("---|" if has_jsd else "") + "---|---|"

    def mean_row(got, cpu=True):
        mean = lambda key: float(np.mean([r[key] for r in got]))  # noqa: E731
        return (f"| mean | {mean('modes'):.2f}/{j} | {100 * mean('hq'):.1f} | "
                f"{mean('rev_kl'):.4f} |" + (f" {mean('jsd'):.4f} |" if has_jsd else "")
                + f" {mean('seconds'):.1f} | " + (f"{mean('cpu_seconds'):.1f} |" if cpu
                                                   else "|"))
    goal_text = ("" if s["x_dim"] == 1 else
                 "; the goal (all modes, >= 98 % HQ" + (", rev-KL <= 0.01" if j >= 25 else "")
                 + f") in {goal}/{n}")
    lines = [f"### {desc}", "", head, sep] + rows + [mean_row(results), "",
             f"All {j} modes in {full}/{n} seeds{goal_text}.", ""]
    for key in EXTRAS:
        got = [r[key] for r in results if key in r]
        if not got:
            continue
        text = _extra_text(key, s)
        tail = ""
        if "acceptance" in got[0]:
            tail = f"; mean acceptance {100 * np.mean([x['acceptance'] for x in got]):.1f} %"
        if len(got) < n:                 # a post-hoc extra that failed must not look complete
            tail += f"; {n - len(got)} of the {n} seeds have no {text['name']} row (it failed)"
        lines += [text["caption"], "", head, sep] + extra_rows[key] + [
                  mean_row(got, cpu=False), "",
                  f"{text['name']}: all {j} modes in "
                  f"{sum(x['modes'] == j for x in got)}/{len(got)} seeds"
                  + ("" if s["x_dim"] == 1 else f"; the goal in {sum(met(x) for x in got)}/"
                     f"{len(got)}") + tail + ".", ""]
    text = "\n".join(lines)
    write_file(os.path.join(args.out, "table.md"), lambda f: f.write(text), mode="w")
    save_json(os.path.join(args.out, "history.json"),
              {"summary": dict(settings=s, results=results, all_modes=full, goal=goal,
                               seconds_total=time.perf_counter() - t_start)})
    print(f"  all {j} modes in {full}/{n} seeds"
          + ("" if s["x_dim"] == 1 else f", goal met in {goal}/{n}")
          + f"; wrote {args.out}/table.md")
    return 0


def _d_lr_text(args, s, compared):
    """'(D 0.002) ' when D's learning rate differs from G's ('(D per method) ' when the compared
    methods' differ), else ''."""
    cfg = MODE_CONFIG[s["dist"]]
    d_lrs = {run_lr_d(cfg, m, args) for m in compared} if compared else {s["lr_d"]}
    if len(d_lrs) > 1:
        return "(D per method) "
    return "" if d_lrs == {s["lr"]} else f"(D {d_lrs.pop():g}) "


def _compared_methods(args):
    """The method names of ``--compare M1,M2,...`` (empty when not comparing)."""
    return [m.strip() for m in (getattr(args, "compare", None) or "").split(",") if m.strip()]


def _compare(args, s, device, t_start):
    """Metz et al.'s Figure 1: every method in ``--compare`` on the same seed, each for its own
    default steps (the 3-minute budget) unless --steps or --quick sets one for all."""
    from ..plots import toys as plot
    methods = _compared_methods(args)
    from ..gan.remedies import METHODS
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"--compare: unknown method(s) {', '.join(bad)}")
    rows, tracks, lines, budgets = [], {}, [], set()
    data = None
    cfg = MODE_CONFIG[s["dist"]]
    for m in methods:
        # each method its own default steps (its 3-minute budget) unless --steps/--quick
        sm = dict(s, method=m, k=METHOD_K.get(m, 1), steps=run_steps(cfg, m, args),
                  lr_d=run_lr_d(cfg, m, args))
        budgets.add(sm["steps"])
        r = train_one(sm, args.seed, device, snapshots=6 if s["x_dim"] == 2 else 40,
                      track_every=max(1, sm["steps"] // 40))
        data = r["data"]
        rows.append((m, r["snapshots"]))
        tracks[m] = r["track"]
        d_lr = f"D lr {sm['lr_d']:g}, " if sm["lr_d"] != sm["lr"] else ""
        lines.append(f"  {m:<10} {_format(r['score'])}  ({sm['steps']} steps, {d_lr}"
                     f"{r['seconds']:.1f} s wall, "
                     f"{r['cpu_seconds']:.1f} s CPU)")
        print(lines[-1], flush=True)
        if s["x_dim"] == 1:
            plot.hopping_figure(r["snapshots"], data,
                                os.path.join(args.out, f"hopping_{m}.png"), title=m)
    if s["x_dim"] == 2:
        plot.samples_row_figure(rows, data, os.path.join(args.out, "rows.png"),
                                title=f"{data.name}, seed {args.seed}"
                                + (f", {min(budgets)} steps" if len(budgets) == 1 else ""))
    plot.mode_curves_figure(tracks, os.path.join(args.out, "modes_over_training.png"),
                            n_modes=data.k, title=data.name)
    write_file(os.path.join(args.out, "compare.txt"),
               lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    print(f"  total {time.perf_counter() - t_start:.1f} s; wrote {args.out}/rows.png, "
          "modes_over_training.png, compare.txt")
    return 0


def _figures(args, s, res):
    from ..plots import toys as plot
    out, data = args.out, res["data"]
    title = f"{s['method']} on {data.name}"
    curves = res["track"]
    if res["track_ema"]:
        curves = {"G": res["track"], f"EMA of G (beta {s['ema']:g})": res["track_ema"]}
    plot.mode_curves_figure(curves, os.path.join(out, "modes_over_training.png"),
                            n_modes=data.k, title=title)
    if s["x_dim"] == 2:
        plot.samples_row_figure([(s["method"], res["snapshots"])], data,
                                os.path.join(out, "rows.png"))
        grid, logits, fakes, arrows = discriminator_field(res["G"], res["D"], res["noise"],
                                                          data, objective=s["method"])
        from ..gan.losses import get_objective
        from ..gan.remedies import METHODS
        plot.discriminator_heatmap(
            grid, logits, fakes, arrows, data, os.path.join(out, "discriminator.png"),
            title=title, probabilistic=get_objective(METHODS[s["method"]][0]).probabilistic)
    else:
        plot.hopping_figure(res["snapshots"], data, os.path.join(out, "hopping.png"),
                            title=title)


def discriminator_field(G, D, noise, data, objective="nsgan", n_fake=200, n_grid=120):
    """What GAN Lab draws: D's logit on a grid, fakes, and -dL_G/dx on each fake (arrows).

    The arrow on a fake G(z) is the direction the generator loss pushes that sample: minus the
    gradient of the method's own L_G (``objective``: a method name of ``remedies.METHODS`` or
    an objective name) with respect to the sample, computed with ``minigan.grad``. Packed or
    minibatch discriminators see the grid in batches, so their map is indicative only.
    """
    import numpy as np

    import minigan

    from .. import backend
    from ..gan.losses import get_objective
    from ..gan.remedies import METHODS
    g_loss = get_objective(METHODS[objective][0] if objective in METHODS else objective).g_loss
    lo, hi = data.support()
    pad = 0.25 * (hi - lo)
    ax = np.linspace(lo - pad, hi + pad, n_grid)
    xx, yy = np.meshgrid(ax, ax)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    pts = pts[:len(pts) - len(pts) % 8]
    w = next(iter(D.parameters()))
    dtype, dev = w.dtype, w.device                  # the grid goes where D is
    with minigan.no_grad():
        logits = [backend.to_numpy(D(minigan.tensor(pts[i:i + 512].astype(dtype),
                                                    device=dev)).array)
                  for i in range(0, len(pts), 512)]
    logit_vals = np.concatenate([np.repeat(l.reshape(-1), len(pts[i * 512:(i + 1) * 512])
                                           // max(l.size, 1))
                                 for i, l in enumerate(logits)])
    full = np.full(n_grid * n_grid, np.nan)
    full[:len(logit_vals)] = logit_vals
    with minigan.no_grad():
        fake = G(noise.sample(n_fake - n_fake % 8, device=next(iter(G.parameters())).device))
    x = minigan.tensor(fake.numpy(), device=dev, requires_grad=True)
    (g,) = minigan.grad(g_loss(D(x)) * float(len(fake)), x)
    return ((ax, ax), full.reshape(n_grid, n_grid), fake.numpy(), -g.numpy())
