"""``inverse_time_decay``: ``learning_rate / (1 + decay_rate * step / decay_steps)``, floored when ``staircase``.

Fluid's graph, op for op: ``div = scale(step, 1/decay_steps)``, ``floor(div)``
when ``staircase``, ``scale(div, decay_rate)``, ``scale(., 1, bias=1)``, then
``elementwise_div(fill_constant(learning_rate), .)``. No kernel that rounds
differently between versions: bit for bit on 2.x and 3.x.
"""
import functools

import numpy as np
import paddle

from .common import DECAY_KINDS, F32, check_decay, constant, decay_function, decay_quotient, decay_quotient_ref, is_tensor_lr, scale, scale_ref
from .registry import register_module

__all__ = ["inverse_time_decay", "reference", "check", "ops"]

NAME = "inverse_time_decay"


def reference(steps, learning_rate, decay_steps, decay_rate, staircase=False) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 50, 100], 0.1, 50, 0.5, staircase=True).tolist()
    [0.10000000149011612, 0.06666667014360428, 0.05000000074505806]
    """
    div = decay_quotient_ref(steps, decay_steps, staircase)
    denominator = scale_ref(scale_ref(div, decay_rate), 1.0, bias=1.0)
    numerator = learning_rate if isinstance(learning_rate, np.ndarray) else F32(learning_rate)
    return (numerator / denominator).astype(F32)


def ops(step, learning_rate, decay_steps, decay_rate, staircase=False):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    div = decay_quotient(step, decay_steps, staircase)
    denominator = scale(scale(div, decay_rate), 1.0, bias=1.0)
    numerator = learning_rate if is_tensor_lr(learning_rate) else constant(learning_rate)
    return paddle.divide(numerator, denominator)


# The arguments, checked: decay_steps > 0, decay_rate >= 0, staircase a bool.
check = functools.partial(check_decay, rate_low_open=False)


inverse_time_decay = decay_function(__name__, NAME, check, ops, """Inverse time decay on the decay counter, as ``fluid.layers.inverse_time_decay``.

    Takes :func:`~paddle_lr.exponential_decay`'s arguments; here ``decay_rate`` is
    the rate per ``decay_steps`` in the denominator (>= 0).
""")


SCHEDULE = register_module(
    __name__,
    kinds=DECAY_KINDS,
    example=dict(learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=False),
    typical=dict(learning_rate=0.1, decay_steps=50, decay_rate=0.5, staircase=False),
    summary="learning_rate / (1 + decay_rate * step / decay_steps), the quotient floored if staircase",
)
