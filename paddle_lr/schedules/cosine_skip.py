"""``cosine_decay_with_skip``: PaddleDetection's ``CosineDecayWithSkip``, the lr held until ``skip_steps``.

Not one of fluid's own functions: PaddleDetection's static ``ppdet/optimizer.py``
built it from fluid's ops, and its configs name it (``!CosineDecayWithSkip``).
Its graph, op for op: with ``total = total_steps - skip_steps`` (``total_steps``
when ``skip_steps`` is None), ``scale(step, pi / total)``, ``cos``,
``scale(., 1, bias=1)``, ``scale(., learning_rate * 0.5)``; with ``skip_steps``,
that value is assigned to the lr (a persistable created at ``learning_rate``)
only once ``step >= skip_steps`` (fluid's ``cond``; here a ``where``, the same
selection), and the lr is ``learning_rate`` before. The cosine's phase is the
step itself, not ``step - skip_steps``, as PaddleDetection wrote it. The
``cos`` kernel rounds differently on paddlepaddle 3.x (<= 1 ulp).
"""
import math
from typing import Any, Dict, Optional

import numpy as np
import paddle

from .. import rules
from .common import F32, constant, graph_or_twin, scale, scale_ref, steps_f32
from .kernels import C_KERNELS, Kernels
from .registry import register_module

__all__ = ["cosine_decay_with_skip", "reference", "check", "ops"]

NAME = "cosine_decay_with_skip"


def _period(total_steps, skip_steps):
    return total_steps - skip_steps if skip_steps is not None else total_steps


def reference(steps, learning_rate, total_steps, skip_steps=None,
              *, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 9, 10, 20], 0.1, 30, 10).tolist()
    [0.10000000149011612, 0.10000000149011612, 0.04999999701976776, 0.0]
    """
    s = steps_f32(steps)
    wave = scale_ref(kernels["cos"](scale_ref(s, math.pi / _period(total_steps, skip_steps))), 1.0, bias=1.0)
    decayed = scale_ref(wave, learning_rate * 0.5)
    if skip_steps is None:
        return decayed
    return np.where(s >= F32(skip_steps), decayed, F32(learning_rate)).astype(F32)


def ops(step, learning_rate, total_steps, skip_steps=None):
    """The graph's ops on the float32 step (static value or eager tensor)."""
    wave = scale(paddle.cos(scale(step, math.pi / _period(total_steps, skip_steps))), 1.0, bias=1.0)
    decayed = scale(wave, learning_rate * 0.5)
    if skip_steps is None:
        return decayed
    return paddle.where(paddle.greater_equal(step, constant(skip_steps)), decayed, constant(learning_rate))


def check(learning_rate, total_steps, skip_steps=None) -> Dict[str, Any]:
    """The arguments, checked as PaddleDetection's asserts: ``total_steps > 0``, ``0 < skip_steps < total_steps``.

    ``learning_rate`` is a number (PaddleDetection's ``base_lr``); ``skip_steps``
    None (or 0, the same values) decays from the first step.
    """
    total = rules.integer("total_steps", total_steps, low=1, high=rules.MAX_ITERATIONS)
    if skip_steps is not None:
        skip_steps = rules.integer("skip_steps", skip_steps, low=0, high=total - 1)
    return dict(learning_rate=rules.real("learning_rate", learning_rate, low=0.0, high=rules.FLOAT32_MAX),
                total_steps=total, skip_steps=skip_steps)


def cosine_decay_with_skip(learning_rate: Any, total_steps: int, skip_steps: Optional[int] = None) -> Any:
    """Cosine decay over ``total_steps``, holding ``learning_rate`` until ``skip_steps``, as PaddleDetection's.

    Args:
        learning_rate (float): the initial lr (PaddleDetection's ``base_lr``).
        total_steps (int): the steps of the schedule, skipped ones included (> 0).
        skip_steps (int, optional): the first steps that keep ``learning_rate``
            (a warmup's, say); ``0 <= skip_steps < total_steps``.

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).
    """
    return graph_or_twin(NAME, check(learning_rate, total_steps, skip_steps), ops)


SCHEDULE = register_module(
    __name__,
    origin="PaddleDetection:CosineDecayWithSkip",
    kinds=dict(learning_rate="lr", total_steps="steps", skip_steps="steps"),
    example=dict(learning_rate=0.16, total_steps=12, skip_steps=3),
    typical=dict(learning_rate=0.16, total_steps=281250, skip_steps=938),
    kernels=("cos",),
    summary="learning_rate until skip_steps, then learning_rate * 0.5 * (cos(step * pi / "
            "(total_steps - skip_steps)) + 1) (PaddleDetection's CosineDecayWithSkip)",
)
