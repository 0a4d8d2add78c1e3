"""``exponential_with_warmup_decay``: the R-CNN learning rate, built in the static graph.

Two lowerings of the same schedule, bit-identical to :func:`paddle_lr.lr_at`:

``impl="switch"`` (default)
    The original graph: a persistable ``learning_rate`` written by a
    :class:`~paddle_lr.Switch` with the warmup case first, one case per
    boundary and a default. Its per-step cost grows with the number of
    boundaries (one conditional block each).

``impl="branchless"``
    No control-flow ops: the warmup ramp is always computed and selected with
    ``where``; the piecewise value is ``gather(values, searchsorted(boundaries,
    step, right=True))``. Its per-step cost does not depend on the number of
    boundaries.

In both, the counter and the constants the step is compared with are created
on the CPU place (see :mod:`paddle_lr.ir_compat`).
"""
import numpy as np
import paddle
from paddle.utils import unique_name

from . import ir_compat, rules
from .control_flow import Switch
from .counter import decay_step_counter

__all__ = ["exponential_with_warmup_decay", "IMPLS"]

IMPLS = ("switch", "branchless")


def exponential_with_warmup_decay(
    learning_rate, boundaries, values, warmup_iter, warmup_factor, impl="switch"
):
    """Linear warmup, then piecewise-constant values, read from the decay counter.

    With ``s`` the decay step (0 at the first run of the main program)::

        s < warmup_iter      -> learning_rate * (warmup_factor * (1 - a) + a), a = s / warmup_iter
        s < boundaries[i]    -> values[i]   (the first such i)
        otherwise            -> values[-1]

    The warmup case comes first, so it overrides boundaries inside the warmup.
    All arithmetic and comparisons are float32, as in the original.

    Args:
        learning_rate (float): the lr the warmup ramps to (> 0).
        boundaries (list[int]): strictly increasing absolute steps (may be empty).
        values (list[float]): ``len(boundaries) + 1`` values.
        warmup_iter (float): warmup length in steps (>= 0; 0 disables it; may be fractional).
        warmup_factor (float): the multiplier at step 0 of the warmup (>= 0).
        impl (str): ``"switch"`` (the original graph) or ``"branchless"``.

    Returns:
        The float32 [1] learning-rate tensor, to pass to :class:`paddle_lr.Momentum`.

    Raises:
        ConfigError: (a ``ValueError``; ``ConfigTypeError`` is also a ``TypeError``)
            naming the argument, before any op is built.
    """
    rules.choice("impl", impl, IMPLS)
    learning_rate, boundaries, values, warmup_iter, warmup_factor = rules.check_schedule(
        learning_rate, boundaries, values, warmup_iter, warmup_factor
    )
    rules.warn_schedule(boundaries, warmup_iter, warmup_factor)
    global_step = decay_step_counter()
    with ir_compat.schedule_guard():
        build = _switch if impl == "switch" else _branchless
        return build(global_step, learning_rate, boundaries, values, warmup_iter, warmup_factor)


def _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor):
    alpha = global_step / warmup_iter_var
    factor = warmup_factor * (1 - alpha) + alpha
    return learning_rate * factor


def _switch(global_step, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    lr = ir_compat.persistable_float(unique_name.generate("learning_rate"))
    warmup_iter_var = ir_compat.cpu_constant(float(warmup_iter))
    with Switch() as switch:
        with switch.case(global_step < warmup_iter_var):
            decayed_lr = _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor)
            paddle.assign(decayed_lr, output=lr)
        for boundary, value in zip(boundaries, values):
            boundary_val = ir_compat.cpu_constant(float(boundary))
            value_var = ir_compat.cpu_constant(float(value))
            with switch.case(global_step < boundary_val):
                paddle.assign(value_var, output=lr)
        last_value_var = ir_compat.cpu_constant(float(values[-1]))
        with switch.default():
            paddle.assign(last_value_var, output=lr)
    return lr


def _branchless(global_step, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    warmup_iter_var = ir_compat.cpu_constant(float(warmup_iter))
    ramp = _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor)
    if boundaries:
        bounds = paddle.assign(np.asarray(boundaries, dtype=np.float32))
        table = paddle.assign(np.asarray(values, dtype=np.float32))
        index = paddle.searchsorted(bounds, global_step, right=True)
        piece = paddle.gather(table, index)
    else:
        piece = ir_compat.cpu_constant(float(values[-1]))
    return paddle.where(global_step < warmup_iter_var, ramp, piece)
