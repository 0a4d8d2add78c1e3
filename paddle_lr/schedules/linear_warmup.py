"""``linear_lr_warmup``: a linear ramp from ``start_lr`` to ``end_lr`` over ``warmup_steps``, then ``learning_rate``.

The steps are absolute: with ``learning_rate=piecewise_decay([6, 9], ...)``
and 4 warmup steps, the decays stay at 6 and 9 (Paddle's dygraph
``LinearWarmup`` moves them to 10 and 13).

Fluid's graph: a persistable float32 ``learning_rate_warmup`` written by a
two-way branch, ``step < warmup_steps`` (a float32 constant) taking the ramp
``scale(scale(scale(step, 1/warmup_steps), end_lr - start_lr), 1, bias=start_lr)``
and otherwise ``learning_rate`` (a constant when it is a number). Fluid built
the branch with ``case``; here it is a :class:`~paddle_lr.Switch` with one case
and a default, which runs the same ops.

``impl="branchless"``: no control flow and no cast. The ramp of every warmup
step is tabulated (by :func:`reference`, the same float32 ops) and looked up on
the raw int64 counter (:mod:`paddle_lr.graph.tables`); after the warmup the
row is ``learning_rate``: a number is the table's last row; a branch-free
schedule's lr (``piecewise_decay``, the seed, another warmup: a table lookup)
is merged with the ramp into one lookup (:func:`paddle_lr.graph.tables.prepend`:
the same float32 entries, one search per run); any other schedule's tensor is
appended to the table (``concat``, then the lookup).
Warmups over :data:`paddle_lr.graph.tables.MAX_TABULATED_WARMUP` steps are computed instead and chosen with ``where``.
``impl="auto"`` (the default) is ``branchless``. No kernel that rounds differently:
bit for bit on both versions (composed over a schedule that has one, that
schedule's rounding shows after the warmup).
"""
from typing import Any, Dict

import numpy as np
import paddle
from paddle.utils import unique_name

from .. import rules
from ..graph import ir, tables
from ..graph.switch import Switch
from .common import F32, constant, graph_or_twin, is_tensor_lr, learning_rate_arg, scale, scale_ref, steps_f32
from .lowerings import IMPLS, Lowering, resolve_lowering
from .registry import register_module

__all__ = ["linear_lr_warmup", "reference", "check"]

NAME = "linear_lr_warmup"


def _inverse(warmup_steps):
    # fluid divided by float(warmup_steps) with a scale op; with no warmup the ramp never runs
    return 1.0 / warmup_steps if warmup_steps else 0.0


def reference(steps, learning_rate, warmup_steps, start_lr, end_lr) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 1, 2, 4], 0.1, 2, 0.0, 0.1).tolist()
    [0.0, 0.05000000074505806, 0.10000000149011612, 0.10000000149011612]
    """
    s = steps_f32(steps)
    ramp = scale_ref(scale_ref(scale_ref(s, _inverse(warmup_steps)), float(end_lr) - float(start_lr)), 1.0, bias=start_lr)
    after = np.broadcast_to(np.asarray(learning_rate, dtype=F32), s.shape)
    return np.where(s < F32(warmup_steps), ramp, after).astype(F32)


def check(learning_rate, warmup_steps, start_lr, end_lr, impl: str = "auto") -> Dict[str, Any]:
    """The arguments, checked: ``warmup_steps >= 0``, ``start_lr`` and ``end_lr`` numbers >= 0."""
    rules.choice("impl", impl, IMPLS)
    return dict(
        learning_rate=learning_rate_arg("learning_rate", learning_rate),
        warmup_steps=rules.float32("warmup_steps", warmup_steps, low=0.0, divisor=True),
        start_lr=rules.float32("start_lr", start_lr, low=0.0),
        end_lr=rules.float32("end_lr", end_lr, low=0.0),
        impl=impl,
    )


def linear_lr_warmup(learning_rate: Any, warmup_steps: float, start_lr: float, end_lr: float,
                     impl: str = "auto") -> Any:
    """Linear warmup before another schedule (or a constant), as ``fluid.layers.linear_lr_warmup``.

    Args:
        learning_rate (float|Tensor): the lr after the warmup: a number, or another
            schedule's tensor (its twin in dygraph), read at the same absolute step.
        warmup_steps (float): the warmup's length in steps (>= 0; 0: no warmup).
        start_lr (float): the lr at step 0.
        end_lr (float): the lr the ramp heads to (reached at ``warmup_steps``).
        impl (str): the lowering: ``"auto"`` (the default: ``"branchless"``),
            ``"switch"`` (fluid's graph) or ``"branchless"`` (a table lookup); the
            same values.

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).

    >>> import paddle_lr
    >>> sched = paddle_lr.linear_lr_warmup(paddle_lr.piecewise_decay([6, 9], [0.01, 0.001, 0.0001]),
    ...                                    4, 0.01 / 3, 0.01)
    >>> values = []
    >>> for _ in range(11):
    ...     values.append(round(sched(), 6)); sched.step()
    >>> values
    [0.003333, 0.005, 0.006667, 0.008333, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001, 0.0001]
    """
    args = check(learning_rate, warmup_steps, start_lr, end_lr, impl)
    lower = LOWERINGS[resolve_lowering(args.pop("impl"), 1)]  # one case: never the many-case warning
    return graph_or_twin(NAME, args, lower)


def _ramp(step, warmup_steps, start_lr, end_lr, each_run=False):
    factors = _inverse(warmup_steps), float(end_lr) - float(start_lr)
    return scale(scale(scale(step, factors[0], each_run=each_run), factors[1], each_run=each_run), 1.0,
                 bias=start_lr, each_run=each_run)


def _switch(step, learning_rate, warmup_steps, start_lr, end_lr):
    """Fluid's lowering: a two-way branch writing a persistable lr (fluid's ops, constants of every run)."""
    lr = ir.persistable_float(unique_name.generate("learning_rate_warmup"))
    after = learning_rate if is_tensor_lr(learning_rate) else constant(learning_rate, each_run=True)
    with Switch() as switch:
        with switch.case(step < constant(warmup_steps, each_run=True)):
            paddle.assign(_ramp(step, warmup_steps, start_lr, end_lr, each_run=True), output=lr)
        with switch.default():
            paddle.assign(after, output=lr)
    return lr


def _branchless(counter, learning_rate, warmup_steps, start_lr, end_lr):
    """The ramp tabulated, ``learning_rate`` after it: one lookup on the raw int64 counter."""
    end = int(tables.step_thresholds([warmup_steps])[0])  # the first counter past the warmup
    if end > tables.MAX_TABULATED_WARMUP:
        step = paddle.cast(counter, "float32")
        after = learning_rate if is_tensor_lr(learning_rate) else constant(learning_rate)
        return paddle.where(step < constant(warmup_steps), _ramp(step, warmup_steps, start_lr, end_lr), after)
    head = max(end, 0)
    ramp = reference(np.arange(head), 0.0, warmup_steps, start_lr, end_lr)
    thresholds = np.arange(1, head + 1)
    if not is_tensor_lr(learning_rate):
        return tables.lookup(counter, thresholds, np.append(ramp, F32(learning_rate)))
    if head == 0:  # no warmup step: the schedule is learning_rate itself
        return learning_rate
    fused = tables.prepend(learning_rate, ramp)  # a lookup's lr: one lookup of the ramp and its rows
    if fused is not None:
        return fused
    return tables.select(tables.append(ramp, learning_rate), tables.row(counter, thresholds))



# impl name -> its Lowering: build(step or counter, learning_rate, warmup_steps, start_lr, end_lr).
LOWERINGS = {"switch": Lowering(_switch), "branchless": Lowering(_branchless, reads_counter=True)}

SCHEDULE = register_module(
    __name__,
    kinds=dict(learning_rate="lr", warmup_steps="steps", start_lr="lr", end_lr="lr", impl="impl"),
    example=dict(learning_rate={"fn": "piecewise_decay", "args": {"boundaries": [6, 9], "values": [0.01, 0.001, 0.0001]}},
                 warmup_steps=4, start_lr=0.01 / 3, end_lr=0.01),
    typical=dict(learning_rate=0.1, warmup_steps=500, start_lr=0.0, end_lr=0.1),
    summary="start_lr + (end_lr - start_lr) * step / warmup_steps while step < warmup_steps, then learning_rate",
)
