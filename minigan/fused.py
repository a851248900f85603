"""Fused elementwise kernels: a few lines of arithmetic, written once, that run as ONE CUDA
kernel on a GPU and as plain array arithmetic on a CPU.

Why fuse. On a GPU every array operation is a kernel launch, and a launch costs the host
5 to 30 microseconds of Python and driver time whatever the array's size. An Adam step
written as array operations is about twelve launches per parameter; a DCGAN has fifteen
parameters, so the optimiser alone costs the host several milliseconds per iteration while
the GPU idles between the tiny kernels. Fused, it is one launch per parameter, reading each
number once. On a CPU, NumPy's operations are not launches but passes over memory, and the
hand-ordered ``out=`` arithmetic of the callers is already fast there: this module is used on
the GPU path only, and on the CPU it is the reference the GPU kernel is tested against.

How. The body is a list of statements ``[T] name = expression;`` using ``+ - * /``,
parentheses, the kernel's parameters and ``sqrt``/``exp``/``log``/``tanh``: text that is
valid CUDA C++ *and* valid Python (Python accepts the trailing ``;``; a leading ``T`` declares
a temporary in C and is dropped for Python). On a GPU it becomes a
``cupy.ElementwiseKernel`` compiled with ``--fmad=false``: no fused multiply-add, so each
``*`` and ``+`` is rounded on its own, exactly as NumPy rounds them, and the GPU's numbers equal
the CPU's bit for bit (CUDA's float division and ``sqrt`` are correctly rounded by default, as
NumPy's are). Scalars are cast to the arrays' dtype first, as NumPy casts a Python float
that meets a float32 array.
"""
from __future__ import annotations

import re
import warnings

from . import backend

__all__ = ["ElementwiseKernel", "use_kernels"]

_FUNCTIONS = ("sqrt", "exp", "log", "tanh")
# CuPy's errors for a kernel that cannot be compiled (NVRTC missing or failing): the run goes on
# with array operations. Any other error (wrong dtypes, shapes) is the caller's and is raised.
_COMPILE_ERRORS = ("CompileException", "NVRTCError")
_DECLARATION = re.compile(r"^(\s*)T\s+(?=\w+\s*=)", re.M)


def use_kernels(xp):
    """Whether callers should take their fused-kernel path for arrays of module ``xp``: on a
    GPU, yes; on the CPU their ``out=`` array operations are as fast (see above)."""
    return xp is not backend.np


def _names(params):
    return [p.split()[-1] for p in params.split(",") if p.strip()]


class ElementwiseKernel:
    """``kernel(*inputs, *outputs)``: the body applied element by element; the outputs
    (arrays given by the caller, read and written in place) hold the results.

    ``in_params`` / ``out_params`` are CuPy's strings (``"T g, T lr"`` / ``"T p, T m"``); the
    inputs broadcast against the outputs. Python numbers become scalars of the arrays' dtype.
    """

    def __init__(self, in_params, out_params, body, name):
        self.in_names, self.out_names = _names(in_params), _names(out_params)
        self.in_params, self.out_params, self.body, self.name = in_params, out_params, body, name
        self._python = compile(_DECLARATION.sub(r"\1", body), f"<fused kernel {name}>", "exec")
        self._gpu = None            # the compiled cupy.ElementwiseKernel, made on first use
        self._gpu_failed = False
        self._gpu_ran = set()       # dtypes compiled and launched at least once

    def __call__(self, *args):
        if len(args) != len(self.in_names) + len(self.out_names):
            raise TypeError(f"{self.name}: takes {len(self.in_names)} inputs and "
                            f"{len(self.out_names)} outputs, got {len(args)} arguments")
        outs = args[len(self.in_names):]
        xp = backend.xp_of(outs[0])
        dtype = outs[0].dtype
        # numbers (Python's, and NumPy scalars of any precision) in the arrays' dtype
        args = [a if isinstance(a, xp.ndarray) else dtype.type(a) for a in args]
        if xp is not backend.np and not self._gpu_failed:
            kernel = self._gpu_kernel(xp)
            if kernel is not None:
                try:                                 # CuPy compiles at the first call per dtype
                    kernel(*args)
                except Exception as exc:
                    if dtype in self._gpu_ran or type(exc).__name__ not in _COMPILE_ERRORS:
                        raise
                    self._fail(exc)
                else:
                    self._gpu_ran.add(dtype)
                    return outs
        return self.run_as_arrays(xp, args)

    def run_as_arrays(self, xp, args):
        """The body as array arithmetic with module ``xp`` (the CPU path, the GPU fallback,
        and the reference the GPU kernel is checked against)."""
        scope = {f: getattr(xp, f) for f in _FUNCTIONS}
        scope.update(zip(self.in_names + self.out_names, args))
        exec(self._python, scope)                       # noqa: S102 (our own kernel text)
        outs = args[len(self.in_names):]
        for name, out in zip(self.out_names, outs):
            if scope[name] is not out:
                out[...] = scope[name]
        return tuple(outs)

    def _gpu_kernel(self, xp):
        """The ``cupy.ElementwiseKernel`` (built once; CuPy compiles it at its first call,
        where ``__call__`` catches a failure: a broken compiler costs speed, not the run), or
        None for an array library without kernels (the CuPy stand-in of the tests)."""
        if self._gpu is None:
            make = getattr(xp, "ElementwiseKernel", None)
            if make is None:                             # an array library without kernels
                self._gpu_failed = True
                return None
            self._gpu = make(self.in_params, self.out_params, self.body, self.name,
                             options=("--fmad=false",))
        return self._gpu

    def _fail(self, exc):
        self._gpu_failed = True
        warnings.warn(f"fused kernel {self.name}: the GPU kernel could not be built "
                      f"({type(exc).__name__}: {exc}); using array operations instead",
                      RuntimeWarning, stacklevel=3)
