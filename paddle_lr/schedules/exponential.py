"""``exponential_decay``: ``learning_rate * decay_rate ** (step / decay_steps)``, floored when ``staircase``.

Fluid's graph, op for op: ``div = scale(step, 1/decay_steps)``, ``floor(div)``
when ``staircase``, ``elementwise_pow(fill_constant(decay_rate), div)``, then
``scale(., learning_rate)`` (an ``elementwise_mul`` when ``learning_rate`` is
a tensor). The ``pow`` kernel rounds differently on paddlepaddle 3.x (<= 1 ulp).
"""
import functools
import math

import numpy as np
import paddle

from .common import (DECAY_KINDS, F32, check_decay, constant, decay_function, decay_quotient, decay_quotient_ref,
                     decay_settles, times_lr, times_lr_ref)
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["exponential_decay", "reference", "check", "ops", "settles"]

NAME = "exponential_decay"


def reference(steps, learning_rate, decay_steps, decay_rate, staircase=False,
              *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 999, 1000, 2500], 0.1, 1000, 0.5, staircase=True).tolist()
    [0.10000000149011612, 0.10000000149011612, 0.05000000074505806, 0.02500000037252903]
    """
    div = decay_quotient_ref(steps, decay_steps, staircase)
    return times_lr_ref(kernels["pow"](np.full(div.shape, F32(decay_rate)), div), learning_rate)


def ops(step, learning_rate, decay_steps, decay_rate, staircase=False):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    div = decay_quotient(step, decay_steps, staircase)
    return times_lr(paddle.pow(constant(decay_rate), div), learning_rate)


def settles(values_at, learning_rate, decay_steps, decay_rate, staircase=False):
    """Where the value stops changing: once it is 0 (or inf), see :func:`~paddle_lr.schedules.common.decay_settles`."""
    return decay_settles(values_at, decay_steps, math.log(decay_rate))


# The arguments, checked: decay_steps > 0, decay_rate > 0, staircase a bool.
check = functools.partial(check_decay, rate_low_open=True)


exponential_decay = decay_function(__name__, NAME, check, ops, """Exponential decay on the decay counter, as ``fluid.layers.exponential_decay``.

    Args:
        learning_rate (float|Tensor): the initial lr, or another schedule's tensor (twin in dygraph).
        decay_steps (float): steps per decay (> 0).
        decay_rate (float): the factor per ``decay_steps`` (> 0).
        staircase (bool): decay at whole multiples of ``decay_steps`` only.
""")


SCHEDULE = register_module(
    __name__,
    kinds=DECAY_KINDS,
    example=dict(learning_rate=0.1, decay_steps=4, decay_rate=0.7, staircase=False),
    typical=dict(learning_rate=0.1, decay_steps=100, decay_rate=0.96, staircase=True),
    kernels=("pow",),
    summary="learning_rate * decay_rate ** (step / decay_steps), the exponent floored if staircase",
)
