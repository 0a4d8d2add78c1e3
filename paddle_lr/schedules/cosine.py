"""``cosine_decay``: ``learning_rate * 0.5 * (cos(epoch * pi / epochs) + 1)``, ``epoch = floor(step / step_each_epoch)``.

Fluid's graph, op for op: ``floor(scale(step, 1/step_each_epoch))``,
``scale(., pi)``, ``scale(., 1/epochs)``, ``cos``, ``scale(., 1, bias=1)``,
``scale(., learning_rate * 0.5)``. The ``cos`` kernel rounds differently on
paddlepaddle 3.x (<= 1 ulp on the golden inputs; 2 ulp on some inputs near pi, the end of a
long wave: see docs/family.md, "The cosine recipes on 3.x").
"""
import math
from typing import Any, Dict

import numpy as np
import paddle

from .. import rules
from .common import graph_or_twin, is_tensor_lr, learning_rate_arg, scale, scale_ref, steps_f32
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["cosine_decay", "reference", "check", "ops"]

NAME = "cosine_decay"


def reference(steps, learning_rate, step_each_epoch, epochs, *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 99, 100], 0.1, 100, 2).tolist()
    [0.10000000149011612, 0.10000000149011612, 0.04999999701976776]
    """
    epoch = np.floor(scale_ref(steps_f32(steps), 1.0 / step_each_epoch))
    wave = scale_ref(kernels["cos"](scale_ref(scale_ref(epoch, math.pi), 1.0 / epochs)), 1.0, bias=1.0)
    if isinstance(learning_rate, np.ndarray):
        return (scale_ref(learning_rate, 0.5) * wave).astype(np.float32)
    return scale_ref(wave, learning_rate * 0.5)


def ops(step, learning_rate, step_each_epoch, epochs):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    epoch = paddle.floor(scale(step, 1.0 / step_each_epoch))
    wave = scale(paddle.cos(scale(scale(epoch, math.pi), 1.0 / epochs)), 1.0, bias=1.0)
    if is_tensor_lr(learning_rate):
        return paddle.multiply(scale(learning_rate, 0.5), wave)
    return scale(wave, learning_rate * 0.5)


def check(learning_rate, step_each_epoch, epochs) -> Dict[str, Any]:
    """The arguments, checked: ``step_each_epoch > 0``, ``epochs > 0``."""
    return dict(
        learning_rate=learning_rate_arg("learning_rate", learning_rate),
        step_each_epoch=rules.float32("step_each_epoch", step_each_epoch, low=0.0, low_open=True, divisor=True),
        epochs=rules.float32("epochs", epochs, low=0.0, low_open=True, divisor=True),
    )


def cosine_decay(learning_rate: Any, step_each_epoch: float, epochs: float) -> Any:
    """Cosine decay by whole epochs on the decay counter, as ``fluid.layers.cosine_decay``.

    Args:
        learning_rate (float|Tensor): the initial lr, or another schedule's tensor (twin in dygraph).
        step_each_epoch (float): steps per epoch (> 0).
        epochs (float): the epochs of the half cosine wave (> 0).

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).
    """
    return graph_or_twin(NAME, check(learning_rate, step_each_epoch, epochs), ops)


SCHEDULE = register_module(
    __name__,
    kinds=dict(learning_rate="lr", step_each_epoch="steps", epochs="steps"),
    example=dict(learning_rate=0.1, step_each_epoch=2, epochs=5),
    typical=dict(learning_rate=0.1, step_each_epoch=100, epochs=12),
    kernels=("cos",),
    summary="learning_rate * 0.5 * (cos(floor(step / step_each_epoch) * pi / epochs) + 1)",
)
