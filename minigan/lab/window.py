"""The GAN lab's window: matplotlib widgets around a ``minigan.lab.Lab``.

    from minigan.lab import Lab
    from minigan.lab.window import LabWindow
    LabWindow(Lab("ring8", loss="wgan-gp")).show()

The big panel is the game itself, in GAN Lab's colours (green = real, purple = fake):

* 1-D: p_data (green) and p_g (purple, exact) as filled curves; D(x) dashed black on the right
  axis (½ is the equilibrium); under the axis the real samples (green ticks), the fakes G(z)
  (purple ticks) and, on the fakes, the arrows -d loss_G / dx: where G wants to move them.
* 2-D: D as a heatmap (green where D says "real", purple where it says "fake"), the real and
  fake samples on top, and the same arrows on the fakes.

Right: the losses and the JSD against the number of updates. Left: the distribution, the
loss and the optimizer (radio buttons). Bottom: Play/Pause, Step D, Step G, Step (k D steps
and one G step), Reset, and sliders for the learning rate, k and the iterations drawn per frame.

Headless (no display or the Agg backend) nothing blocks: build the window, ``lab.run(n)``,
``redraw()`` and ``save(path)``; this is what ``python -m minigan lab --headless`` does.
"""
from __future__ import annotations

import math

from ..backend import np  # host-side NumPy (the window draws NumPy arrays)

__all__ = ["LabWindow", "REAL", "FAKE"]

REAL = "#1b9e3e"      # green: p_data, real samples, "D says real"
FAKE = "#7b3294"      # purple: p_g, fake samples, "D says fake"
N_ARROWS_1D = 25
N_ARROWS_2D = 160


def _is_interactive(plt):
    backend = plt.get_backend().lower()
    return backend not in {"agg", "pdf", "ps", "svg", "cairo", "template", "pgf"} and \
        not backend.startswith("module://matplotlib_inline")


class LabWindow:
    """A figure with the lab's views and its controls. ``lab`` is a ``minigan.lab.Lab``."""

    # 13.2 x 6.5 inches at 100 dpi: 1320 x 650 px, plus toolbar, title bar and a desktop panel
    # about 750 px, for a 1366 x 768 laptop screen (a 15-inch window was cut off under Xvfb).
    def __init__(self, lab, iterations_per_frame=5, interval_ms=40, figsize=(13.2, 6.5)):
        from .. import lab as lab_module
        from ..plots.toys import pyplot
        self.lab = lab
        self.plt = plt = pyplot()
        self.playing = False
        self.iterations_per_frame = int(iterations_per_frame)
        self.message = ""
        self._interactive = _is_interactive(plt)
        fig = self.fig = plt.figure(figsize=figsize)
        fig.canvas.manager and fig.canvas.manager.set_window_title("minigan lab")
        # the game: one axes (and its twin for D) in 1-D, another in 2-D; one shows at a time
        self.ax1 = fig.add_axes([0.235, 0.27, 0.45, 0.63])
        self.ax_d = self.ax1.twinx()
        self.ax2 = fig.add_axes([0.235, 0.27, 0.45, 0.63])
        self.cax = fig.add_axes([0.69, 0.27, 0.008, 0.63])
        self.ax_loss = fig.add_axes([0.765, 0.62, 0.22, 0.28])
        self.ax_jsd = fig.add_axes([0.765, 0.27, 0.22, 0.26])
        self.title = fig.text(0.46, 0.965, "", ha="center", va="center", fontsize=13,
                              weight="bold")
        self.status = fig.text(0.46, 0.93, "", ha="center", va="center", fontsize=10,
                               color="0.25")
        self._build_controls(lab_module)
        self.timer = fig.canvas.new_timer(interval=int(interval_ms))
        self.timer.add_callback(self._tick)
        self.redraw()

    # ---------------------------------------------------------------------------- controls
    def _build_controls(self, lab_module):
        from matplotlib.widgets import Button, RadioButtons, Slider
        fig, lab = self.fig, self.lab
        table = lab_module.distributions()
        self._dist_names = list(table)
        self._dims = {n: getattr(table[n](), "dim", 1) for n in table}
        self._loss_names = list(lab_module.LOSSES)
        self._opt_names = list(lab_module.OPTIMIZERS)

        def radio(rect, title, labels, active):
            ax = fig.add_axes(rect)
            ax.set_title(title, fontsize=10, loc="left", weight="bold")
            for s in ax.spines.values():
                s.set_color("0.8")
            r = RadioButtons(ax, labels, active=active)
            for t in r.labels:
                t.set_fontsize(9.5)
            return r

        self.radio_dist = radio([0.012, 0.66, 0.16, 0.24], "distribution p_data",
                                [self._dist_label(n) for n in self._dist_names],
                                self._dist_names.index(lab.dist_name))
        self.radio_loss = radio([0.012, 0.37, 0.16, 0.23], "loss",
                                list(lab_module.LOSSES.values()),
                                self._loss_names.index(lab.loss_name))
        self.radio_opt = radio([0.012, 0.19, 0.16, 0.13], "optimizer",
                               [v[0] for v in lab_module.OPTIMIZERS.values()],
                               self._opt_names.index(lab.optimizer_name))
        self.radio_dist.on_clicked(self._on_dist)
        self.radio_loss.on_clicked(self._on_loss)
        self.radio_opt.on_clicked(self._on_opt)

        self.buttons = {}
        specs = [("play", "Play", self._on_play), ("step_d", "Step D", self._on_step_d),
                 ("step_g", "Step G", self._on_step_g), ("step", "Step (k D + 1 G)",
                                                        self._on_step),
                 ("reset", "Reset", self._on_reset)]
        x = 0.235
        for key, label, fn in specs:
            w = 0.11 if key == "step" else 0.075
            b = Button(fig.add_axes([x, 0.035, w, 0.05]), label,
                       color="#e8f4ea" if key == "play" else "0.92", hovercolor="0.82")
            b.label.set_fontsize(10)
            b.on_clicked(fn)
            self.buttons[key] = b
            x += w + 0.01

        self.slider_lr = Slider(fig.add_axes([0.30, 0.15, 0.33, 0.025]), "learning rate",
                                -4.0, -0.5, valinit=math.log10(lab.lr))
        self.slider_k = Slider(fig.add_axes([0.30, 0.115, 0.33, 0.025]), "k (D steps per G)",
                               1, 10, valinit=lab.k, valstep=1)
        self.slider_speed = Slider(fig.add_axes([0.30, 0.185, 0.33, 0.025]),
                                   "iterations / frame", 1, 50,
                                   valinit=self.iterations_per_frame, valstep=1)
        self.slider_lr.valtext.set_text(f"{lab.lr:.1e}")
        self.slider_lr.on_changed(self._on_lr)
        self.slider_k.on_changed(self._on_k)
        self.slider_speed.on_changed(self._on_speed)
        self.fig.text(0.012, 0.03, "green = real  ·  purple = fake\narrows: -∂loss_G/∂x on the "
                      "fakes,\nwhere G's next step pushes them", fontsize=9, color="0.3",
                      va="bottom")

    def _dist_label(self, name):
        return f"{name} ({self._dims.get(name, '?')}-D)"

    # ---------------------------------------------------------------------------- callbacks
    def _guarded(self, fn):
        try:
            fn()
            self.message = ""
        except (RuntimeError, ValueError) as exc:      # e.g. a NaN loss: pause and say so
            self.pause()
            self.message = str(exc).split(";")[0]
        self.redraw()

    def _on_dist(self, label):
        name = self._dist_names[[self._dist_label(n) for n in self._dist_names].index(label)]
        self._guarded(lambda: self.lab.set_distribution(name))

    def _on_loss(self, label):
        from . import LOSSES
        name = [k for k, v in LOSSES.items() if v == label][0]
        self._guarded(lambda: self.lab.set_loss(name))

    def _on_opt(self, label):
        from . import OPTIMIZERS
        name = [k for k, v in OPTIMIZERS.items() if v[0] == label][0]
        self.lab.set_optimizer(name)
        self.slider_lr.set_val(math.log10(self.lab.lr))    # the optimizer's default lr
        self.redraw()

    def _on_lr(self, value):
        self.lab.set_lr(10.0 ** value)
        self.slider_lr.valtext.set_text(f"{self.lab.lr:.1e}")
        self._draw_title()

    def _on_k(self, value):
        self.lab.set_k(int(value))
        self._draw_title()

    def _on_speed(self, value):
        self.iterations_per_frame = int(value)

    def _on_play(self, _event=None):
        self.pause() if self.playing else self.play()

    def _on_step_d(self, _event=None):
        self._guarded(self.lab.step_d)

    def _on_step_g(self, _event=None):
        self._guarded(self.lab.step_g)

    def _on_step(self, _event=None):
        self._guarded(self.lab.step)

    def _on_reset(self, _event=None):
        self.pause()
        self._guarded(self.lab.reset)

    def play(self):
        self.playing = True
        self.buttons["play"].label.set_text("Pause")
        self.timer.start()

    def pause(self):
        self.playing = False
        self.buttons["play"].label.set_text("Play")
        self.timer.stop()

    def _tick(self):
        if not self.playing:
            return
        self._guarded(lambda: self.lab.run(self.iterations_per_frame))

    # ------------------------------------------------------------------------------ drawing
    def _draw_title(self):
        lab = self.lab
        self.title.set_text(f"minigan lab  ·  {lab.data.name}  ·  {lab.dim}-D")
        text = lab.describe().split("  ·  ", 1)[1]
        if self.message:
            text = f"stopped: {self.message}"
        self.status.set_text(text)
        self.status.set_color("#c0392b" if self.message else "0.25")
        if self._interactive:                # (Agg's draw_idle renders at once: skip it)
            self.fig.canvas.draw_idle()

    def redraw(self):
        """Recompute every view from the lab and redraw the panels."""
        views = self.lab.views()
        if self.lab.dim == 1:
            self._draw_1d(views)
        else:
            self._draw_2d(views)
        self._draw_history(views["history"])
        self._draw_title()

    def _draw_1d(self, v):
        ax, ax_d = self.ax1, self.ax_d
        ax.clear()
        ax_d.clear()
        for a, on in ((ax, True), (ax_d, True), (self.ax2, False), (self.cax, False)):
            a.set_visible(on)
        dens, disc, arr = v["density"], v["discriminator"], v["arrows"]
        x = dens["x"]
        top = 1.6 * float(dens["p_data"].max())
        p_g = np.minimum(dens["p_g"], 10 * top)             # a collapsed G is a spike
        ax.fill_between(x, dens["p_data"], color=REAL, alpha=0.25, lw=0)
        ax.plot(x, dens["p_data"], color=REAL, lw=2.2, label=r"$p_{data}$")
        ax.fill_between(x, p_g, color=FAKE, alpha=0.25, lw=0)
        ax.plot(x, p_g, color=FAKE, lw=2.2, label=r"$p_g$ (exact, through G)")
        ax.set_ylim(-0.42 * top, top)
        ax.set_xlim(x[0], x[-1])
        ax.axhline(0, color="0.3", lw=0.8)
        # the samples and the arrows, under the axis
        y_real, y_fake = -0.09 * top, -0.24 * top
        real = dens["real"][:, 0]
        ax.plot(real, np.full_like(real, y_real), "|", color=REAL, ms=9, alpha=0.35)
        fake = dens["fake"][:, 0]
        ax.plot(fake, np.full_like(fake, y_fake), "|", color=FAKE, ms=9, alpha=0.35)
        # arrows on fakes at evenly spaced quantiles of z, on 8 staggered rows so they do
        # not hide one another where G crowds its samples
        idx = np.linspace(0, len(fake) - 1, N_ARROWS_1D).astype(int)
        f = arr["force"][idx, 0]
        fmax = float(np.abs(arr["force"]).max())
        width = x[-1] - x[0]
        scale = 0.12 * width / fmax if fmax > 0 else 0.0
        rows = y_fake - top * (0.05 + 0.017 * (np.arange(len(idx)) % 8))
        ax.plot(arr["x"][idx, 0], rows, "o", color=FAKE, ms=2.5)
        ax.quiver(arr["x"][idx, 0], rows, f * scale, np.zeros(len(idx)), angles="xy",
                  scale_units="xy", scale=1, color=FAKE, width=0.003, headwidth=4,
                  headlength=4.5)
        ax.text(x[0] + 0.01 * width, y_real + 0.035 * top, "real samples", color=REAL,
                fontsize=8.5, va="bottom")
        ax.text(x[0] + 0.01 * width, y_fake + 0.035 * top,
                f"fakes G(z) and -∂loss_G/∂x (longest: {fmax:.2g})", color=FAKE, fontsize=8.5,
                va="bottom")
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= top])
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        d_label = "D(x)" if disc["probabilistic"] else "critic f(x), rescaled"
        ax_d.plot(disc["x"], disc["d"], "k--", lw=1.8, label=d_label)
        ax_d.axhline(0.5, color="0.5", lw=0.8, ls=":")
        ax_d.set_ylim(-0.42 * 1.0, 1.0)
        ax_d.set_yticks([0, 0.5, 1])
        ax_d.set_ylabel(d_label)
        ax_d.yaxis.set_label_position("right")
        ax_d.yaxis.tick_right()
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax_d.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=9, framealpha=0.9)

    def _draw_2d(self, v):
        ax = self.ax2
        ax.clear()
        self.cax.clear()
        for a, on in ((ax, True), (self.cax, True), (self.ax1, False), (self.ax_d, False)):
            a.set_visible(on)
        disc, dens, arr = v["discriminator"], v["density"], v["arrows"]
        x0, x1, y0, y1 = disc["extent"]
        im = ax.imshow(disc["d"], origin="lower", extent=(x0, x1, y0, y1), cmap="PRGn",
                       vmin=0, vmax=1, alpha=0.75, interpolation="bilinear")
        cb = self.fig.colorbar(im, cax=self.cax)
        cb.set_label("D(x)" if disc["probabilistic"] else "critic f(x), rescaled", fontsize=9)
        real, fake = dens["real"], dens["fake"]
        ax.scatter(real[:, 0], real[:, 1], s=7, color=REAL, edgecolor="none", alpha=0.8,
                   label="real samples")
        ax.scatter(fake[:, 0], fake[:, 1], s=7, color=FAKE, edgecolor="none", alpha=0.8,
                   label="fakes G(z)")
        idx = np.linspace(0, len(fake) - 1, N_ARROWS_2D).astype(int)
        f = arr["force"][idx]
        norms = np.linalg.norm(arr["force"], axis=1)
        fmax = float(norms.max())
        scale = 0.08 * (x1 - x0) / fmax if fmax > 0 else 0.0
        ax.quiver(arr["x"][idx, 0], arr["x"][idx, 1], f[:, 0] * scale, f[:, 1] * scale,
                  angles="xy", scale_units="xy", scale=1, color="0.1", width=0.0028,
                  headwidth=4, headlength=4.5, alpha=0.85,
                  label=f"-∂loss_G/∂x (longest {fmax:.2g})")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_anchor("E")                   # next to the colour bar
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.legend(loc="upper right", fontsize=9, framealpha=0.9, markerscale=2.5)

    def _draw_history(self, h):
        lab = self.lab
        ax = self.ax_loss
        ax.clear()
        for key, color, label in (("d_loss", "0.15", "D loss"), ("g_loss", FAKE, "G loss")):
            if h[key]:
                t, val = np.asarray(h[key]).T
                ax.plot(t, val, color=color, lw=1.0, label=label)
        if lab.objective.probabilistic:       # the values at the equilibrium D = ½
            ax.axhline(2 * math.log(2), color="0.15", ls=":", lw=0.9)
            g_eq = math.log(2) if lab.loss_name == "nsgan" else -math.log(2)
            ax.axhline(g_eq, color=FAKE, ls=":", lw=0.9)
            ax.set_title("losses (dotted: values at D = ½)", fontsize=10)
        else:
            ax.set_title("losses", fontsize=10)
        if h["d_loss"] or h["g_loss"]:
            ax.legend(loc="best", fontsize=8)
        ax.tick_params(labelsize=8)
        ax = self.ax_jsd
        ax.clear()
        t, val = np.asarray(h["jsd"]).T
        ax.plot(t, val, color="#d35400", lw=1.5)
        ax.axhline(math.log(2), color="0.5", ls=":", lw=0.9)
        ax.text(0.01, math.log(2), " log 2: no overlap", fontsize=8, va="bottom", color="0.4",
                transform=ax.get_yaxis_transform())
        ax.set_ylim(0, 0.8)
        ax.set_title(f"JSD(p_data, p_g) = {val[-1]:.3f} nats"
                     + (" (exact)" if lab.dim == 1 else " (binned estimate)"), fontsize=10)
        ax.set_xlabel("updates (D + G)", fontsize=9)
        ax.tick_params(labelsize=8)
        right = max(10, lab.updates)
        for a in (self.ax_loss, ax):
            a.set_xlim(0, right)

    # ------------------------------------------------------------------------------- output
    def save(self, path, dpi=100):
        """Write the whole window (views and controls) as an image."""
        self.fig.savefig(path, dpi=dpi)
        return path

    def show(self):
        """Open the window and block until it is closed; a no-op on a non-interactive backend."""
        if self._interactive:
            self.plt.show()
            return True
        return False

    def close(self):
        self.pause()
        self.plt.close(self.fig)
