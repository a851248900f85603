"""Tensors, reverse-mode autodiff, and checking a gradient the way you will in class.

Every GAN in this course is trained by gradient descent, and every gradient is computed by the
chain rule run backwards through a graph of small operations (reverse-mode autodiff). This
lesson builds that intuition with four experiments:

1. the derivative of f(x) = x sin x, and its derivative again (grad of grad), against the
   calculus answer -- second derivatives are what WGAN-GP and unrolled GANs need;
2. a new operation written by hand (a ``Function`` with ``forward`` and ``backward``),
   checked with ``minigan.gradcheck`` / ``gradgradcheck`` -- and a wrong one, caught;
3. why gradient checks run in float64: the error of a central difference
   (f(x+e) - f(x-e)) / 2e is truncation (~e^2) plus rounding (~u / e, with u the unit
   roundoff of the float type). The two balance at e ~ u^(1/3), where the error is
   ~u^(2/3): about 1e-5 in float32 (u = 6e-8) and 1e-11 in float64 (u = 1.1e-16);
4. what the graph keeps alive until backward: only what each rule reads. ReLU's gradient
   needs only where its *output* is positive, so the batch-norm output before it is freed
   as soon as ReLU has run; a LeakyReLU with a negative slope must keep its input.

What to look for in the terminal: every number is printed once, next to what it should be
compared with. Autodiff is exact up to float64 rounding (not an approximation like finite
differences); a right backward rule passes the checks and a wrong one is caught; and the
best finite-difference error in float32 is about a million times worse than in float64.
"""
# %%
from minigan.commands import course

args = course.lesson_args(__doc__)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan.backend import xp_of  # noqa: E402
from minigan.gradcheck import analytical_jacobian, numerical_jacobian  # noqa: E402

# %% [markdown]
# ## 1. Derivatives by autodiff, and derivatives of derivatives
# ``minigan.grad(y, x, create_graph=True)`` returns dy/dx as a Tensor that remembers how it was
# computed, so we can differentiate it again.

# %%
course.section(args, "1. Derivatives by autodiff, and derivatives of derivatives",
               "f(x) = x sin x on [-6, 6] in float64. grad(..., create_graph=True) gives f' as a "
               "Tensor that can be differentiated again, giving f''. Both are compared with the "
               "calculus answers f' = sin x + x cos x and f'' = 2 cos x - x sin x.")
n = 101 if args.quick else 401
x = minigan.linspace(-6, 6, n, dtype="float64", device=args.device).requires_grad_()
y = x * minigan.sin(x)
(dy,) = minigan.grad(y.sum(), x, create_graph=True)     # f'(x), itself differentiable
(d2y,) = minigan.grad(dy.sum(), x)                       # f''(x)
xs = x.numpy()
exact_d1 = np.sin(xs) + xs * np.cos(xs)
exact_d2 = 2 * np.cos(xs) - xs * np.sin(xs)
err1 = float(np.abs(dy.numpy() - exact_d1).max())
err2 = float(np.abs(d2y.numpy() - exact_d2).max())
ROUNDING = "0 up to float64 rounding (~1e-15): autodiff is exact, not an approximation"
course.check(args, "max |autodiff f' - exact|", err1, reference=ROUNDING, ok=err1 < 1e-12,
             fmt=".1e")
course.check(args, "max |autodiff f'' - exact|", err2, reference=ROUNDING, ok=err2 < 1e-12,
             fmt=".1e")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(xs, y.detach().numpy(), "k", label="f(x) = x sin x")
ax.plot(xs, dy.detach().numpy(), "C0", label="f'(x) by autodiff")
ax.plot(xs, d2y.numpy(), "C1", label="f''(x) by autodiff (grad of grad)")
ax.plot(xs[::10], exact_d1[::10], "C0o", ms=4, mfc="none", label="f'(x) exact")
ax.plot(xs[::10], exact_d2[::10], "C1s", ms=4, mfc="none", label="f''(x) exact")
ax.set_xlabel("x")
ax.legend(fontsize=8)
ax.set_title("Reverse-mode autodiff, first and second order")
fig_derivs = course.save_figure(fig, args, "derivatives.png", dpi=110)

# %% [markdown]
# ## 2. Write an op, check it in three lines
# ``forward`` works on raw arrays; ``backward`` receives dL/dy and returns dL/dx, written with
# Tensor operations so that it can itself be differentiated.

# %%


class Swish(minigan.Function):
    """y = x * sigmoid(x);  dy/dx = s + x s (1 - s)  with s = sigmoid(x)."""

    def forward(self, x):
        xp = xp_of(x)                    # numpy or cupy: the same code on both devices
        return x / (1 + xp.exp(-x))

    def backward(self, gy):
        x = self.inputs[0]
        s = minigan.sigmoid(x)
        return gy * (s + x * s * (1.0 - s))


class BrokenSwish(Swish):
    def backward(self, gy):          # forgot the product rule's second term
        return gy * minigan.sigmoid(self.inputs[0])


course.section(args, "2. Write an op, check it in three lines",
               "Swish y = x sigmoid(x) as a Function with a hand-written backward; gradcheck "
               "compares its Jacobian with central differences (eps = 1e-6, float64), "
               "gradgradcheck does the same for the backward itself. BrokenSwish forgets the "
               "product rule's second term and must be caught.")
xc = minigan.randn(3, 4, dtype="float64", device=args.device, requires_grad=True)
swish_ok = (minigan.gradcheck(lambda t: Swish.apply(t), (xc,), raise_exception=False)
            and minigan.gradgradcheck(lambda t: Swish.apply(t), (xc,), raise_exception=False))
course.check(args, "Swish passes gradcheck and gradgradcheck", bool(swish_ok),
             reference="True: its backward is the derivative", ok=swish_ok)
try:
    minigan.gradcheck(lambda t: BrokenSwish.apply(t), (xc,))
    caught = False
except minigan.GradcheckError as err:
    caught = True
    print("  BrokenSwish's GradcheckError says: " + str(err).splitlines()[0])
course.check(args, "BrokenSwish caught by gradcheck", caught,
             reference="True: the missing term changes the Jacobian", ok=caught,
             good="the wrong backward is caught", bad="the wrong backward slipped through")
jac_a = analytical_jacobian(lambda t: Swish.apply(t), [xc], [0])[0]
jac_n = numerical_jacobian(lambda t: Swish.apply(t), [minigan.tensor(xc.array, requires_grad=True)],
                           [0], 1e-6)[0]
swish_err = float(np.abs(jac_a - jac_n).max())
course.check(args, "Swish max |analytic - numeric| Jacobian entry", swish_err,
             reference="~1e-10 in float64 at eps = 1e-6 (rounding ~1e-16 / eps); gradcheck "
                       "fails above ~1e-5", ok=swish_err < 1e-7, fmt=".1e")

# %% [markdown]
# ## 3. Why float64: the error of a finite difference against the step size

# %%
course.section(args, "3. Why float64: the error of a finite difference against the step size",
               "The central difference of f at x0 = 0.7 for eps from 1e-12 to 1e-1, computed in "
               "float32 and in float64. Large eps: truncation error ~eps^2 (right of the plot); "
               "small eps: rounding error ~u/eps (left). The best eps is in between, and its "
               "error is set by the unit roundoff u of the float type.")
eps_grid = np.logspace(-12, -1, 23 if args.quick else 45)
x0 = 0.7
exact = np.sin(x0) + x0 * np.cos(x0)
best = {}
fig, ax = plt.subplots(figsize=(6, 4))
for dtype in ("float32", "float64"):
    errs = []
    for e in eps_grid:
        xp_ = minigan.tensor([x0 + e, x0 - e], dtype=dtype)
        f = (xp_ * minigan.sin(xp_)).numpy()
        fd = (float(f[0]) - float(f[1])) / (2 * e)
        errs.append(abs(fd - exact) / abs(exact) + 1e-17)
    errs = np.array(errs)
    best[dtype] = float(errs.min())
    u = float(np.finfo(dtype).eps) / 2                 # unit roundoff
    ax.loglog(eps_grid, errs, "o-", ms=3, label=f"{dtype}: best {errs.min():.1e} at "
                                                f"eps={eps_grid[errs.argmin()]:.0e}")
    course.check(args, f"best relative error of the central difference, {dtype}", best[dtype],
                 reference=f"at best about u^(2/3) = {u ** (2 / 3):.0e} (u = {u:.1e}) at "
                           f"eps ~ u^(1/3) = {u ** (1 / 3):.0e} (an eps where the rounding "
                           f"errors happen to cancel can do better); best eps on the grid "
                           f"{eps_grid[errs.argmin()]:.0e}",
                 ok=best[dtype] < 10 * u ** (2 / 3), fmt=".1e")
ax.set_xlabel("step eps")
ax.set_ylabel("relative error of the central difference")
ax.set_title("Truncation (right) vs rounding (left): check gradients in float64")
ax.legend(fontsize=8)
fig_fd = course.save_figure(fig, args, "finite_difference_error.png", dpi=110)
course.check(args, "float32 / float64 best error", best["float32"] / best["float64"],
             reference="about (u32/u64)^(2/3) = 2e6: check gradients in float64", fmt=".1e")

# %% [markdown]
# ## 4. What the graph keeps
# Until ``backward()`` reaches an op, the op holds whatever its backward rule will read, and
# that is most of a network's memory in training. Each rule keeps only that: ReLU keeps its
# output (x > 0 exactly where relu(x) > 0), so the tensor before it can go.

# %%
course.section(args, "4. What the graph keeps until backward",
               "A generator block ConvTranspose -> BatchNorm -> ReLU: does the batch norm's "
               "output survive once ReLU has run? (weakref: None when freed)")
import gc  # noqa: E402
import weakref  # noqa: E402

import minigan.functional as F  # noqa: E402

minigan.manual_seed(0)
block_conv, block_bn = minigan.nn.ConvTranspose2d(8, 4, 4, 2, 1), minigan.nn.BatchNorm2d(4)
freed = {}
for label, act in (("relu", F.relu), ("leaky_relu, slope -0.5", lambda t: F.leaky_relu(t, -0.5))):
    h = block_bn(block_conv(minigan.randn(2, 8, 7, 7)))
    alive = weakref.ref(h)
    y = act(h)
    del h
    gc.collect()
    freed[label] = alive() is None
    y.sum().backward()                      # and the gradients still reach the weights
course.check(args, "batch-norm output freed after ReLU", freed["relu"],
             reference="True: ReLU's backward reads its output only", ok=freed["relu"])
course.check(args, "kept by a LeakyReLU of slope -0.5", not freed["leaky_relu, slope -0.5"],
             reference="True: with a negative slope the output's sign no longer says where "
                       "x > 0, so the input is kept", ok=not freed["leaky_relu, slope -0.5"])

# %%
course.report(args, {}, [fig_derivs, fig_fd])
