"""The C library's float32 ``exp``, ``cos`` and ``pow``: the kernels the references evaluate with.

Paddle 2.6.2's CPU ``exp``, ``cos`` and ``elementwise_pow`` kernels call the C
library's ``expf``, ``cosf`` and ``powf`` for one-element tensors, and numpy's
own float32 ``exp`` and ``cos`` round differently on some inputs (measured on
the golden traces: 647 of 2000 steps of ``natural_exp_smooth`` and 100 of 1300
of ``cosine`` differ by 1-2 ulp with numpy's; evaluating in float64 and
rounding differs on 1-4 steps of five cases; the C library's reproduces every
step).

A reference that calls a kernel takes them as an argument, ``kernels=``
(:data:`C_KERNELS` by default): a measurement passes others (Paddle 3.x's eager
kernels, say) to see what that Paddle's graph computes, with nothing swapped
in a global.
"""
import ctypes
import ctypes.util
import types
from typing import Callable, Mapping

import numpy as np

__all__ = ["Kernels", "C_KERNELS"]

Kernels = Mapping[str, Callable[..., np.ndarray]]
"""Kernel name (``exp``, ``cos``, ``pow``) -> a function on float32 arrays, element-wise."""

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


def _c_float_fn(name: str, nargs: int) -> Callable[..., np.ndarray]:
    fn = getattr(_LIBM, name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float] * nargs
    ufunc = np.frompyfunc(lambda *xs: fn(*map(float, xs)), nargs, 1)

    def apply(*xs: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # inf and nan are values here, as in the kernel
            return np.asarray(ufunc(*(np.asarray(x, dtype=np.float32) for x in xs)), dtype=np.float32)
    apply.__name__ = name
    apply.__doc__ = f"The C library's ``{name}`` applied element-wise, float32 in and out."
    return apply


C_KERNELS: Kernels = types.MappingProxyType(
    {"exp": _c_float_fn("expf", 1), "cos": _c_float_fn("cosf", 1), "pow": _c_float_fn("powf", 2)})
"""The C library's float32 kernels, which Paddle 2.6.2's CPU kernels call: the references' default."""
