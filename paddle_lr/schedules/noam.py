"""``noam_decay``: ``learning_rate * d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)``.

Fluid reads the decay counter with begin 1, so the first run sees step 1.
If another schedule created the program's counter first, noam reads that one
as it is (begin 0: its first value is 0, from ``min(inf, 0)``); if noam
creates it, schedules built after it see 1 at the first run too. Fluid did
both; so does this port.

Fluid's graph, op for op: ``elementwise_pow(step, fill_constant(-0.5))``,
``scale(step, warmup_steps ** -1.5)``, ``elementwise_min``,
``scale(., learning_rate * d_model ** -0.5)``. The ``pow`` kernel could round
differently on paddlepaddle 3.x (measured: not on the golden trace).
"""
from typing import Any, Dict

import numpy as np
import paddle

from .. import rules
from .common import F32, constant, graph_or_twin, is_tensor_lr, learning_rate_arg, scale, scale_ref, steps_f32
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["noam_decay", "reference", "check", "ops"]

NAME = "noam_decay"
BEGIN = 1


def reference(steps, d_model, warmup_steps, learning_rate=1.0, *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 1, 4], 4, 4).tolist()
    [0.0, 0.0625, 0.25]
    """
    s = steps_f32(steps)
    ramp = kernels["pow"](s, np.full(s.shape, F32(-0.5)))
    linear = scale_ref(s, warmup_steps ** -1.5)
    smaller = np.minimum(ramp, linear)
    if isinstance(learning_rate, np.ndarray):
        return (scale_ref(learning_rate, d_model ** -0.5) * smaller).astype(F32)
    return scale_ref(smaller, learning_rate * d_model ** -0.5)


def ops(step, d_model, warmup_steps, learning_rate=1.0):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    smaller = paddle.minimum(paddle.pow(step, constant(-0.5)), scale(step, warmup_steps ** -1.5))
    if is_tensor_lr(learning_rate):
        return paddle.multiply(scale(learning_rate, d_model ** -0.5), smaller)
    return scale(smaller, learning_rate * d_model ** -0.5)


def check(d_model, warmup_steps, learning_rate=1.0) -> Dict[str, Any]:
    """The arguments, checked: ``d_model > 0``, ``warmup_steps > 0``, and the float32 factors
    ``d_model ** -0.5`` (times a number ``learning_rate``) and ``warmup_steps ** -1.5`` finite."""
    args = dict(
        d_model=rules.float32("d_model", d_model, low=0.0, low_open=True, divisor=True),
        warmup_steps=rules.float32("warmup_steps", warmup_steps, low=0.0, low_open=True, divisor=True),
        learning_rate=learning_rate_arg("learning_rate", learning_rate),
    )
    scale = args["d_model"] ** -0.5
    if isinstance(args["learning_rate"], float):
        rules.float32_product("d_model", "learning_rate * d_model ** -0.5", args["learning_rate"] * scale)
    rules.float32_product("d_model", "d_model ** -0.5", scale)
    rules.float32_product("warmup_steps", "warmup_steps ** -1.5", args["warmup_steps"] ** -1.5)
    return args


def noam_decay(d_model: float, warmup_steps: float, learning_rate: Any = 1.0) -> Any:
    """The Transformer's Noam schedule on the decay counter, as ``fluid.layers.noam_decay``.

    Args:
        d_model (float): the model width (> 0).
        warmup_steps (float): the steps of the rising part (> 0).
        learning_rate (float|Tensor): a factor, or another schedule's tensor (twin in dygraph).

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).
    """
    return graph_or_twin(NAME, check(d_model, warmup_steps, learning_rate), ops, begin=BEGIN)


SCHEDULE = register_module(
    __name__,
    kinds=dict(d_model="real", warmup_steps="steps", learning_rate="lr"),
    example=dict(d_model=64, warmup_steps=4, learning_rate=1.0),
    typical=dict(d_model=512, warmup_steps=4000, learning_rate=1.0),
    kernels=("pow",),
    begin=BEGIN,
    summary="learning_rate * d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)",
)
