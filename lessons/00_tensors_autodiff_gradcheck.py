"""Tensors, reverse-mode autodiff, and checking a gradient the way you will in class.

Every GAN in this course is trained by gradient descent, and every gradient is computed by the
chain rule run backwards through a graph of small operations (reverse-mode autodiff). This
lesson builds that intuition with three experiments:

1. the derivative of f(x) = x sin x, and its derivative again (grad of grad), against the
   calculus answer -- second derivatives are what WGAN-GP and unrolled GANs need;
2. a new operation written by hand (a ``Function`` with ``forward`` and ``backward``),
   checked with ``minigan.gradcheck`` / ``gradgradcheck`` -- and a wrong one, caught;
3. why gradient checks run in float64: the error of a central difference
   (f(x+e) - f(x-e)) / 2e is truncation (~e^2) plus rounding (~machine-eps / e); in float32
   the best you can get is ~1e-5 relative error, in float64 ~1e-11.
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
print(f"max |autodiff f' - exact| = {err1:.2e};  max |autodiff f'' - exact| = {err2:.2e}")

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


xc = minigan.randn(3, 4, dtype="float64", device=args.device, requires_grad=True)
assert minigan.gradcheck(lambda t: Swish.apply(t), (xc,))
assert minigan.gradgradcheck(lambda t: Swish.apply(t), (xc,))
print("Swish: gradcheck and gradgradcheck pass")
try:
    minigan.gradcheck(lambda t: BrokenSwish.apply(t), (xc,))
    caught = False
except minigan.GradcheckError as err:
    caught = True
    print("BrokenSwish is caught:\n  " + str(err).splitlines()[0])
jac_a = analytical_jacobian(lambda t: Swish.apply(t), [xc], [0])[0]
jac_n = numerical_jacobian(lambda t: Swish.apply(t), [minigan.tensor(xc.array, requires_grad=True)],
                           [0], 1e-6)[0]
swish_err = float(np.abs(jac_a - jac_n).max())
print(f"Swish: max |analytic - numeric| Jacobian entry = {swish_err:.2e}")

# %% [markdown]
# ## 3. Why float64: the error of a finite difference against the step size

# %%
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
    ax.loglog(eps_grid, errs, "o-", ms=3, label=f"{dtype}: best {errs.min():.1e} at eps={eps_grid[errs.argmin()]:.0e}")
ax.set_xlabel("step eps")
ax.set_ylabel("relative error of the central difference")
ax.set_title("Truncation (right) vs rounding (left): check gradients in float64")
ax.legend(fontsize=8)
fig_fd = course.save_figure(fig, args, "finite_difference_error.png", dpi=110)

# %%
course.report(args, {
    "max |f' autodiff - exact|": err1,
    "max |f'' autodiff - exact|": err2,
    "swish max Jacobian error": swish_err,
    "broken backward caught": caught,
    "best central-difference rel. error float32": best["float32"],
    "best central-difference rel. error float64": best["float64"],
}, [fig_derivs, fig_fd])
