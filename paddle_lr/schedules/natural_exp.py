"""``natural_exp_decay``: ``learning_rate * exp(-decay_rate * step / decay_steps)``, floored when ``staircase``.

Fluid's graph, op for op: ``div = scale(step, 1/decay_steps)``, ``floor(div)``
when ``staircase``, ``scale(div, -decay_rate)``, ``exp``, ``scale(., learning_rate)``.
The ``exp`` kernel rounds differently on paddlepaddle 3.x (<= 1 ulp).
"""
import functools

import numpy as np
import paddle

from .common import (DECAY_KINDS, check_decay, decay_function, decay_quotient, decay_quotient_ref, decay_settles, scale,
                     scale_ref, times_lr, times_lr_ref)
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["natural_exp_decay", "reference", "check", "ops", "settles"]

NAME = "natural_exp_decay"


def reference(steps, learning_rate, decay_steps, decay_rate, staircase=False,
              *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 300], 0.05, 300, 0.3, staircase=True).tolist()
    [0.05000000074505806, 0.03704091161489487]
    """
    div = decay_quotient_ref(steps, decay_steps, staircase)
    return times_lr_ref(kernels["exp"](scale_ref(div, -1 * decay_rate)), learning_rate)


def ops(step, learning_rate, decay_steps, decay_rate, staircase=False):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    div = decay_quotient(step, decay_steps, staircase)
    return times_lr(paddle.exp(scale(div, -1 * decay_rate)), learning_rate)


def settles(values_at, learning_rate, decay_steps, decay_rate, staircase=False):
    """Where the value stops changing: once it is 0 (or inf), see :func:`~paddle_lr.schedules.common.decay_settles`."""
    return decay_settles(values_at, decay_steps, -decay_rate)


# The arguments, checked: decay_steps > 0, decay_rate >= 0, staircase a bool.
check = functools.partial(check_decay, rate_low_open=False)


natural_exp_decay = decay_function(__name__, NAME, check, ops, """Natural exponential decay on the decay counter, as ``fluid.layers.natural_exp_decay``.

    Takes :func:`~paddle_lr.exponential_decay`'s arguments; here ``decay_rate`` is
    the exponent's rate per ``decay_steps`` (>= 0).
""")


SCHEDULE = register_module(
    __name__,
    kinds=DECAY_KINDS,
    example=dict(learning_rate=0.05, decay_steps=3, decay_rate=0.3, staircase=True),
    typical=dict(learning_rate=0.05, decay_steps=300, decay_rate=0.3, staircase=False),
    kernels=("exp",),
    summary="learning_rate * exp(-decay_rate * step / decay_steps), the quotient floored if staircase",
)
