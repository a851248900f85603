"""The figures of the theory lab, drawn from real runs (matplotlib, imported only when used).

* ``take_snapshot``     — what a figure needs from a training run at one moment: p_data, p_g
                          (exact, by the change of variables), the trained D, the analytic D*,
                          and where G sends a row of z values.
* ``figure1``           — Goodfellow et al. (2014), Figure 1, from a *real* run: p_data black
                          dotted, p_g green solid, D blue dashed (D* thin grey next to it), and
                          the z line below with arrows x = G(z); panels (a)-(d).
* ``evolution_gif``     — the same picture, one frame per snapshot (Pillow writer).
* ``saturation_figure`` — saturating vs non-saturating generator loss: the gradient with
                          respect to D's logit, analytic curves with values measured in training.
* ``criterion_figure``  — trained max_D V next to C(G) = -log 4 + 2 JSD for a family of p_g.
* ``discriminator_fit_figure`` — a converged D against D*, with the sparse tails marked.

Mode collapse (``minigan toy --dist ring8/grid25/mix1d``):

* ``samples_row_figure`` — Metz et al. (2017), Figure 1: one row per method, p_g (samples)
                           at a few training steps, the mode centres marked.
* ``hopping_figure``     — 1-D: the histogram of G's samples at every snapshot, stacked
                           over training (a collapsing GAN's mass hops between modes).
* ``discriminator_heatmap`` — 2-D: D's output, the fakes, and the generator-loss gradient
                           on each fake as an arrow (GAN Lab's view).
* ``mode_curves_figure`` — modes covered, high-quality % (and JSD in 1-D) over training.

``import minigan`` never imports matplotlib; this module does, on first call, with the Agg
backend when there is no display, so figures render on a headless machine.
"""
from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["take_snapshot", "figure1", "evolution_gif", "saturation_figure",
           "criterion_figure", "discriminator_fit_figure", "pyplot", "samples_row_figure",
           "hopping_figure", "discriminator_heatmap", "mode_curves_figure"]

DATA_STYLE = dict(color="black", linestyle=":", linewidth=2.0, label=r"$p_{data}$")
PG_STYLE = dict(color="green", linestyle="-", linewidth=2.0, label=r"$p_g$")
D_STYLE = dict(color="blue", linestyle="--", linewidth=1.8, label="D (trained)")
DSTAR_STYLE = dict(color="0.55", linestyle="-", linewidth=1.0, label=r"$D^*$ (analytic)")


def pyplot():
    """matplotlib.pyplot, with the Agg backend when no display is available."""
    import matplotlib
    if not os.environ.get("DISPLAY") and os.name != "nt":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path, suptitle=None, fontsize=10, dpi=110, rect=None):
    """Finish a figure: an optional overall title, tight layout (inside ``rect``, when room
    is kept for a figure-level legend), the file, memory freed."""
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize)
    fig.tight_layout(rect=rect)
    _savefig(fig, path, dpi=dpi)
    pyplot().close(fig)
    return path


def _savefig(fig, path, **kwargs):
    """``fig.savefig`` through a temporary file renamed over ``path`` (never through a
    symlink there); the format from the file's suffix."""
    from ..serialization import write_file
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    write_file(path, lambda f: fig.savefig(f, format=fmt, **kwargs))


def take_snapshot(G, D, data, noise, x, n_arrows=15, label=""):
    """Everything a Figure-1 panel shows, as host-side NumPy arrays.

    p_g comes from ``theory.generator_density`` (exact for the network G), D(x) from the
    trained discriminator, D* = p_data / (p_data + p_g) from the theory. The arrows start at
    evenly spaced z (inside the central 95 % of p_z for unbounded noise).
    """
    from ..evaluation import theory
    from ..gan.models.mlp import as_numpy_fn
    g, d = as_numpy_fn(G), as_numpy_fn(D)
    z_lo, z_hi = noise.support()
    p_data = data.pdf(x)
    p_g = theory.generator_density(g, x, noise.pdf, z_lo, z_hi, n_z=8001)
    logits = d(x)
    a_lo, a_hi = (z_lo, z_hi) if noise.name.startswith("U") else (-1.96, 1.96)
    z_pts = np.linspace(a_lo, a_hi, n_arrows)
    return {"label": label, "x": x, "p_data": p_data, "p_g": p_g,
            "d": 1.0 / (1.0 + np.exp(-logits)),
            "d_star": theory.optimal_discriminator(p_data, p_g),
            "jsd": theory.jsd(p_data, p_g, x), "z": z_pts, "gz": g(z_pts),
            "z_range": (a_lo, a_hi)}


def _draw_panel(ax, snap, ymax=None, legend=False):
    x = snap["x"]
    ax.plot(x, snap["d_star"], **DSTAR_STYLE)
    ax.plot(x, snap["d"], **D_STYLE)
    ax.plot(x, snap["p_data"], **DATA_STYLE)
    ax.plot(x, snap["p_g"], **PG_STYLE)
    top = ymax or max(1.05, 1.1 * float(np.max(snap["p_data"])))
    # The z line, drawn under the x axis and mapped onto its range, with arrows to G(z).
    lo, hi = x[0], x[-1]
    zl, zh = snap["z_range"]
    y_z, y_x = -0.45 * top, -0.04 * top
    z_on_axis = lo + (snap["z"] - zl) / (zh - zl) * (hi - lo) * 0.8 + 0.1 * (hi - lo)
    ax.plot([z_on_axis[0], z_on_axis[-1]], [y_z, y_z], color="black", linewidth=1)
    ax.axhline(y_x, color="black", linewidth=1)
    for z0, x1 in zip(z_on_axis, snap["gz"]):
        if lo <= x1 <= hi:
            ax.annotate("", xy=(x1, y_x), xytext=(z0, y_z),
                        arrowprops=dict(arrowstyle="->", color="0.3", linewidth=0.8))
    ax.text(lo, y_z, "z ", ha="right", va="center")
    ax.text(lo, y_x, "x ", ha="right", va="center")
    ax.set_ylim(y_z - 0.08 * top, top)
    ax.set_xlim(lo, hi)
    ax.set_yticks([0, 0.5, 1.0])
    ax.set_title(f"{snap['label']}  JSD={snap['jsd']:.3f}", fontsize=9)
    if legend:
        ax.legend(fontsize=7, loc="upper right")


def figure1(snapshots, path, title=None):
    """Goodfellow et al.'s Figure 1 from four snapshots of a real run, saved to ``path``.

    (a) near convergence: p_g close to p_data, D a partially accurate classifier;
    (b) after the inner loop, D ≈ D* = p_data / (p_data + p_g);
    (c) after generator steps, the gradient of D has moved p_g towards the data;
    (d) at the end p_g ≈ p_data and D ≈ 1/2 everywhere.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3.6 * len(snapshots), 3.4))
    axes = np.atleast_1d(axes)
    ymax = max(1.05, 1.1 * max(float(np.max(s["p_data"])) for s in snapshots))
    for ax, snap in zip(axes, snapshots):
        _draw_panel(ax, snap, ymax=ymax)
    # one legend for all panels, below them, where it covers no curve
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8,
               frameon=False)
    return _save(fig, path, title, fontsize=10, rect=(0, 0.08, 1, 1))


def evolution_gif(snapshots, path, fps=4):
    """The D / p_g evolution as an animated GIF, one frame per snapshot (Pillow writer)."""
    plt = pyplot()
    from matplotlib import animation
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ymax = max(1.05, 1.1 * max(float(np.max(s["p_data"])) for s in snapshots))

    def draw(i):
        ax.clear()
        _draw_panel(ax, snapshots[i], ymax=ymax, legend=True)
        return []
    anim = animation.FuncAnimation(fig, draw, frames=len(snapshots), blit=False)
    from ..serialization import atomic_path
    with atomic_path(path, suffix=".tmp.gif") as tmp:
        anim.save(tmp, writer=animation.PillowWriter(fps=fps))
    plt.close(fig)
    return path


def saturation_figure(path, measured=None, runs=None):
    """Why the non-saturating generator loss: gradients with respect to D's logit t.

    With D = sigmoid(t): d/dt log(1 - D) = -D (vanishes when D rejects the fakes, D → 0) and
    d/dt [-log D] = -(1 - D) (≈ -1 there). ``measured`` maps a loss name ("gan", "nsgan") to
    (D(G(z)) values, |dL/dt| values) taken early in a real run; they must lie on the curves.
    ``runs`` maps a run's label to (steps, JSD(p_data, p_g) per step) of runs started where D
    won early, optionally with a third item, a dict of line styles; labels starting with "gan"
    are red and the others blue unless the style says otherwise.
    """
    plt = pyplot()
    ncols = 3 if runs else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.5))
    dg = np.linspace(1e-4, 1 - 1e-4, 400)
    ax = axes[0]
    ax.plot(dg, np.log1p(-dg), label=r"saturating $\log(1-D)$", color="red")
    ax.plot(dg, -np.log(dg), label=r"non-saturating $-\log D$", color="blue")
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("generator cost")
    ax.set_ylim(-5, 5)
    ax.legend(fontsize=8)
    ax.set_title("the two generator costs", fontsize=9)
    ax = axes[1]
    ax.semilogy(dg, dg, color="red", label=r"$|\partial \log(1-D)/\partial t| = D$")
    ax.semilogy(dg, 1 - dg, color="blue", label=r"$|\partial(-\log D)/\partial t| = 1-D$")
    for name, color in (("gan", "red"), ("nsgan", "blue")):
        if measured and name in measured:
            d_vals, g_vals = measured[name]
            ax.scatter(d_vals, g_vals, s=8, color=color, alpha=0.6, marker="o",
                       label=f"measured ({name}, early training)")
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("|gradient w.r.t. the logit|")
    ax.legend(fontsize=7)
    ax.set_title("gradient reaching G", fontsize=9)
    if runs:
        ax = axes[2]
        for name, (steps, vals, *style) in runs.items():
            kw = dict(color="red" if name.split()[0] == "gan" else "blue", label=name)
            kw.update(style[0] if style else {})
            ax.plot(steps, vals, **kw)
        ax.axhline(math.log(2), color="0.6", linestyle=":", linewidth=1, label="log 2 (no overlap)")
        ax.set_xlabel("generator step")
        ax.set_ylabel("JSD(p_data, p_g) [nats]")
        ax.set_title("a run where D wins early", fontsize=9)
        ax.legend(fontsize=8)
    return _save(fig, path)


def criterion_figure(rows, path, title=None):
    """C(G) against JSD: the line -log 4 + 2 JSD and, on it, the trained max_D V estimates.

    ``rows`` is a list of dicts with "jsd", "c_of_g" (analytic) and "v_trained" (sample
    estimate of V with a discriminator trained to convergence), and a "label".
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.8))
    j = np.linspace(0, math.log(2), 100)
    ax.plot(j, -math.log(4) + 2 * j, color="black", label=r"$C(G) = -\log 4 + 2\,JSD$")
    js = [r["jsd"] for r in rows]
    ax.scatter(js, [r["v_trained"] for r in rows], color="red", zorder=3,
               label=r"trained $\max_D V(D,G)$")
    for r in rows:
        ax.annotate(r["label"], (r["jsd"], r["v_trained"]), fontsize=7,
                    textcoords="offset points", xytext=(4, -10))
    ax.set_xlabel(r"JSD($p_{data}$ || $p_g$) [nats]")
    ax.set_ylabel("nats")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def discriminator_fit_figure(fits, path, mask_level=0.05):
    """A converged D against D* for several p_g; where p_data + p_g < ``mask_level`` (grey)
    too few samples fall for D to be pinned down."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(fits), figsize=(4 * len(fits), 3.3))
    axes = np.atleast_1d(axes)
    for ax, f in zip(axes, fits):
        x = f["x"]
        ax.fill_between(x, 0, 1, where=(f["p_data"] + f["p_g"]) < mask_level, color="0.9",
                        label=f"$p_{{data}}+p_g<{mask_level}$")
        ax.plot(x, f["p_data"], **DATA_STYLE)
        ax.plot(x, f["p_g"], **PG_STYLE)
        ax.plot(x, f["d_star"], **DSTAR_STYLE)
        ax.plot(x, f["d"], **D_STYLE)
        ax.set_title(f"p_g = {f['label']}: max|D-D*|={f['max_err']:.3f}", fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("x")
    axes[0].legend(fontsize=7)
    return _save(fig, path)


# ------------------------------------------------------------------------- mode collapse
def _centres(data):
    from ..evaluation.modes import centres_of
    return centres_of(data)[0]


def samples_row_figure(rows, data, path, title=None):
    """Metz et al.'s Figure 1: ``rows`` = [(label, [(step, samples (n, 2)), ...]), ...].

    One row per method, one panel per snapshot: the generated samples (green) over the mode
    centres (red crosses). A collapsed row shows one or a few clusters hopping between modes.
    """
    plt = pyplot()
    n_cols = max(len(snaps) for _, snaps in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.9 * n_cols, 1.9 * len(rows) + 0.3),
                             squeeze=False)
    c = _centres(data)
    lo, hi = data.support()
    pad = 0.15 * (hi - lo)
    # rows trained for different numbers of steps (each method its own budget): every panel
    # says its step; otherwise the top row says it for its column
    same_steps = len({tuple(step for step, _ in snaps) for _, snaps in rows}) == 1
    for r, (label, snaps) in enumerate(rows):
        for j in range(n_cols):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_aspect("equal")
            if j >= len(snaps):
                ax.axis("off")
                continue
            step, x = snaps[j]
            ax.scatter(c[:, 0], c[:, 1], marker="x", color="red", s=12, linewidths=0.8)
            ax.scatter(x[:, 0], x[:, 1], s=1.0, color="green", alpha=0.4)
            if r == 0 or not same_steps:
                ax.set_title(f"step {step}", fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    return _save(fig, path, title, fontsize=9)


def hopping_figure(snapshots, data, path, bins=200, title=None):
    """1-D mode hopping: each row the histogram of G's samples at one snapshot (step on y).

    ``snapshots`` = [(step, samples (n,) or (n, 1)), ...]. The data's modes are the dotted
    vertical lines; a GAN that collapses puts its mass under one or two of them, and the
    bright band jumps sideways from snapshot to snapshot as D chases it.
    """
    plt = pyplot()
    lo, hi = data.support()
    every = np.concatenate([np.ravel(x) for _, x in snapshots])
    every = every[np.isfinite(every)]
    if len(every):              # show where G's mass went too (within twice the data range)
        width = hi - lo
        lo = max(min(lo, float(np.percentile(every, 0.5))), lo - width / 2)
        hi = min(max(hi, float(np.percentile(every, 99.5))), hi + width / 2)
    edges = np.linspace(lo, hi, bins + 1)
    img = np.stack([np.histogram(np.ravel(x), edges)[0] / max(len(np.ravel(x)), 1)
                    for _, x in snapshots])
    steps = [s for s, _ in snapshots]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw=dict(width_ratios=[3, 1]))
    ax.imshow(np.sqrt(img), aspect="auto", origin="lower", cmap="viridis",
              extent=(lo, hi, -0.5, len(steps) - 0.5), interpolation="nearest")
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 6)).round().astype(int)
    ax.set_yticks(ticks)
    ax.set_yticklabels([str(steps[t]) for t in ticks])
    ax.set_ylabel("training step")
    ax.set_xlabel("x")
    for m in _centres(data)[:, 0]:
        ax.axvline(m, color="white", linestyle=":", linewidth=0.8)
    ax.set_title("histogram of G(z) over training (sqrt scale)", fontsize=9)
    xs = np.linspace(lo, hi, 1000)
    ax2.plot(xs, data.pdf(xs), **DATA_STYLE)
    ax2.hist(np.ravel(snapshots[-1][1]), bins=edges, density=True, color="green", alpha=0.5,
             label=r"$p_g$ (end)")
    ax2.legend(fontsize=7)
    ax2.set_yticks([])
    ax2.set_title("the end", fontsize=9)
    return _save(fig, path, title, fontsize=10)


def discriminator_heatmap(axes_xy, logits, fakes, arrows, data, path, title=None,
                          probabilistic=True):
    """GAN Lab's view: D(x) = sigmoid(logit) as a heatmap, the mode centres, the fake samples
    and, on each fake, the arrow -dL_G/dx (where the generator loss pushes it).

    ``probabilistic=False`` is for a WGAN critic, whose score is not a probability (a clipped
    critic's scores are ~1e-3 apart, a flat 0.5 through a sigmoid): the map then shows the
    score standardised over the grid, (f - mean) / std."""
    plt = pyplot()
    ax_x, ax_y = axes_xy
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    if probabilistic:
        d, lims, label = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50))), (0, 1), "D(x)"
    else:
        mean, std = np.nanmean(logits), np.nanstd(logits)
        d = (logits - mean) / (std if std > 0 else 1.0)
        lims, label = (-3, 3), "critic f(x), standardised"
    im = ax.pcolormesh(ax_x, ax_y, d, cmap="RdBu", vmin=lims[0], vmax=lims[1], shading="auto")
    fig.colorbar(im, ax=ax, label=label)
    c = _centres(data)
    ax.scatter(c[:, 0], c[:, 1], marker="x", color="black", s=20, label="modes")
    ax.scatter(fakes[:, 0], fakes[:, 1], s=4, color="lime", edgecolors="none", label="G(z)")
    norms = np.linalg.norm(arrows, axis=1, keepdims=True)
    scale = np.percentile(norms, 90) if len(norms) else 1.0
    u = arrows / max(float(scale), 1e-12) * 0.08 * (ax_x[-1] - ax_x[0])
    ax.quiver(fakes[:, 0], fakes[:, 1], u[:, 0], u[:, 1], angles="xy", scale_units="xy",
              scale=1, color="black", width=0.003)
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or "discriminator and generator gradients", fontsize=9)
    return _save(fig, path)


def mode_curves_figure(tracks, path, n_modes, title=None):
    """Modes covered and high-quality % over training; JSD too when tracked (1-D).

    ``tracks`` is one run's list of {step, modes, hq, [jsd]} rows, or {label: rows} for
    several runs on the same axes.
    """
    plt = pyplot()
    if not isinstance(tracks, dict):
        tracks = {"": tracks}
    has_jsd = any("jsd" in r for rows in tracks.values() for r in rows)
    n = 3 if has_jsd else 2
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.2))
    for label, rows in tracks.items():
        steps = [r["step"] for r in rows]
        axes[0].plot(steps, [r["modes"] for r in rows], label=label or None)
        axes[1].plot(steps, [100 * r["hq"] for r in rows], label=label or None)
        if has_jsd:
            axes[2].plot(steps, [r.get("jsd", np.nan) for r in rows], label=label or None)
    axes[0].axhline(n_modes, color="0.5", linestyle=":")
    axes[0].set_ylabel("modes covered")
    axes[0].set_ylim(0, n_modes + 0.5)
    axes[1].set_ylabel("high-quality samples (%)")
    axes[1].set_ylim(0, 101)
    if has_jsd:
        axes[2].set_ylabel("JSD(p_data, p_g) (nats)")
        axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("generator step")
    if len(tracks) > 1:
        axes[0].legend(fontsize=7)
    return _save(fig, path, title, fontsize=10)
