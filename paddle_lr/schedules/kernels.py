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

:data:`GRAPH_KERNELS` are what a one-element tensor gets from the running
Paddle's CPU graph, evaluated for a whole array at once: the tables of the
arithmetic schedules (:func:`paddle_lr.schedules.common.tabulate`) are filled
with them. Paddle's ``exp`` (and ``pow`` with a number for exponent) take
another, vectorised path for longer tensors and round differently on some
inputs there (818 of 2858 ``exp`` inputs, on 3.3.1 and 2.6.2 alike), while its
one-element ``exp`` is the C library's ``expf`` on both; its ``cos`` and
``elementwise_pow`` give the same bits at every length, and differ from the C
library's on 3.x (773 and 62 of 2858). So: ``exp`` the C library's, ``cos``
and ``pow`` Paddle's own on the whole array. The family's golden tests compare
the tables with fluid 1.8.5's recordings (2.x) and with the one-element
kernels (every release).
"""
import ctypes
import ctypes.util
import types
from typing import Callable, Mapping

import numpy as np
import paddle

from ..graph import ir

__all__ = ["Kernels", "C_KERNELS", "GRAPH_KERNELS"]

Kernels = Mapping[str, Callable[..., np.ndarray]]
"""Kernel name (``exp``, ``cos``, ``pow``) -> a function on float32 arrays, element-wise."""

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


def _c_float_fn(name: str, nargs: int) -> Callable[..., np.ndarray]:
    fn = getattr(_LIBM, name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float] * nargs
    ufunc = np.frompyfunc(lambda *xs: fn(*map(float, xs)), nargs, 1)

    def apply(*xs: np.ndarray) -> np.ndarray:
        xs = np.broadcast_arrays(*(np.asarray(x, dtype=np.float32) for x in xs))
        # one call per distinct input (a staircase repeats them)
        distinct, where = np.unique(np.stack([x.view(np.uint32).ravel() for x in xs]), axis=1, return_inverse=True)
        with np.errstate(all="ignore"):  # inf and nan are values here, as in the kernel
            out = np.asarray(ufunc(*(row.view(np.float32) for row in distinct)), dtype=np.float32)
        return out[np.ravel(where)].reshape(xs[0].shape)
    apply.__name__ = name
    apply.__doc__ = f"The C library's ``{name}`` applied element-wise, float32 in and out."
    return apply


C_KERNELS: Kernels = types.MappingProxyType(
    {"exp": _c_float_fn("expf", 1), "cos": _c_float_fn("cosf", 1), "pow": _c_float_fn("powf", 2)})
"""The C library's float32 kernels, which Paddle 2.6.2's CPU kernels call: the references' default."""


def _paddle_float_fn(name: str) -> Callable[..., np.ndarray]:
    op = getattr(paddle, name)

    def apply(*xs: np.ndarray) -> np.ndarray:
        xs = np.broadcast_arrays(*(np.asarray(x, dtype=np.float32) for x in xs))
        with ir.eager_cpu(), np.errstate(all="ignore"):
            return np.asarray(op(*(paddle.to_tensor(np.ascontiguousarray(x)) for x in xs)).numpy(), dtype=np.float32)
    apply.__name__ = name
    apply.__doc__ = f"Paddle's own CPU ``{name}`` on the whole array, float32 in and out."
    return apply


GRAPH_KERNELS: Kernels = types.MappingProxyType(
    {"exp": C_KERNELS["exp"], "cos": _paddle_float_fn("cos"), "pow": _paddle_float_fn("pow")})
"""What the running Paddle's CPU graph computes on one-element tensors, for whole arrays (see above)."""
