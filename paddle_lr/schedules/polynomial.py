"""``polynomial_decay``: ``(learning_rate - end) * (1 - step / decay_steps) ** power + end``.

Fluid's graph, op for op. Without ``cycle``: ``min(step, fill_constant(decay_steps))``,
``scale(., 1/decay_steps)``. With ``cycle``: ``n = ceil(scale(step, 1/decay_steps))``,
1 at step 0 (fluid's ``cond``; here a ``where``, the same selection),
``step / scale(n, decay_steps)`` (an ``elementwise_div``). Then
``scale(., -1, bias=1)``, ``elementwise_pow(., fill_constant(power))``,
``scale(., learning_rate - end)`` and ``scale(., 1, bias=end)``. The ``pow``
kernel rounds differently on paddlepaddle 3.x (<= 1 ulp).
"""
from typing import Any, Dict

import numpy as np
import paddle

from .. import rules
from ..graph import tables
from .common import F32, constant, graph_or_twin, is_tensor_lr, learning_rate_arg, scale, scale_ref, steps_f32
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["polynomial_decay", "reference", "check", "ops", "settles"]

NAME = "polynomial_decay"


def reference(steps, learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
              *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 50, 100, 150], 0.1, 100, 0.0, 1.0).tolist()
    [0.10000000149011612, 0.05000000074505806, 0.0, 0.0]
    """
    s = steps_f32(steps)
    if cycle:
        n = np.ceil(scale_ref(s, 1.0 / decay_steps))
        n = np.where(s == F32(0), F32(1), n)
        fraction = (s / scale_ref(n, decay_steps)).astype(F32)
    else:
        fraction = scale_ref(np.minimum(s, F32(decay_steps)), 1.0 / decay_steps)
    decayed = kernels["pow"](scale_ref(fraction, -1.0, bias=1.0), np.full(s.shape, F32(power)))
    if isinstance(learning_rate, np.ndarray):
        decayed = (scale_ref(learning_rate, 1.0, bias=-end_learning_rate) * decayed).astype(F32)
    else:
        decayed = scale_ref(decayed, learning_rate - end_learning_rate)
    return scale_ref(decayed, 1.0, bias=end_learning_rate)


def ops(step, learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    if cycle:
        n = paddle.ceil(scale(step, 1.0 / decay_steps))
        n = paddle.where(paddle.equal(step, constant(0.0)), constant(1.0), n)
        fraction = paddle.divide(step, scale(n, decay_steps))
    else:
        fraction = scale(paddle.minimum(step, constant(decay_steps)), 1.0 / decay_steps)
    decayed = paddle.pow(scale(fraction, -1.0, bias=1.0), constant(power))
    if is_tensor_lr(learning_rate):
        decayed = paddle.multiply(scale(learning_rate, 1.0, bias=-end_learning_rate), decayed)
    else:
        decayed = scale(decayed, learning_rate - end_learning_rate)
    return scale(decayed, 1.0, bias=end_learning_rate)


def settles(values_at, learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
    """Where the value stops changing: without ``cycle``, at the first counter whose float32 reaches
    ``decay_steps`` (the step is clamped there); with it, never."""
    if cycle:
        return None
    return int(tables.step_thresholds([decay_steps])[0])


def check(learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False) -> Dict[str, Any]:
    """The arguments, checked: ``decay_steps > 0``, ``end_learning_rate >= 0``, ``power >= 0``, ``cycle`` a bool."""
    return dict(
        learning_rate=learning_rate_arg("learning_rate", learning_rate),
        decay_steps=rules.float32("decay_steps", decay_steps, low=0.0, low_open=True, divisor=True),
        end_learning_rate=rules.float32("end_learning_rate", end_learning_rate, low=0.0),
        power=rules.float32("power", power, low=0.0),
        cycle=rules.boolean("cycle", cycle),
    )


def polynomial_decay(learning_rate: Any, decay_steps: float, end_learning_rate: float = 0.0001, power: float = 1.0,
                     cycle: bool = False) -> Any:
    """Polynomial decay on the decay counter, as ``fluid.layers.polynomial_decay``.

    Args:
        learning_rate (float|Tensor): the initial lr, or another schedule's tensor (twin in dygraph).
        decay_steps (float): the steps to decay over (> 0).
        end_learning_rate (float): the lr reached at ``decay_steps`` (>= 0).
        power (float): the polynomial's power (>= 0).
        cycle (bool): start again every ``decay_steps`` (the period growing as fluid's does).

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).
    """
    return graph_or_twin(NAME, check(learning_rate, decay_steps, end_learning_rate, power, cycle), ops)


SCHEDULE = register_module(
    __name__,
    kinds=dict(learning_rate="lr", decay_steps="steps", end_learning_rate="lr", power="real", cycle="flag"),
    example=dict(learning_rate=0.1, decay_steps=6, end_learning_rate=0.001, power=2.0, cycle=True),
    typical=dict(learning_rate=0.01, decay_steps=5000, end_learning_rate=0.0001, power=0.9, cycle=False),
    kernels=("pow",),
    summary="(learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power + end_learning_rate",
)
