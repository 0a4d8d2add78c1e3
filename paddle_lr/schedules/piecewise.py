"""``piecewise_decay``: ``values[i]`` while the step is below ``boundaries[i]``, then ``values[-1]``.

Fluid's graph (``impl="switch"``): a persistable float32 ``learning_rate``
written by a :class:`~paddle_lr.Switch` with one case per boundary (``step <
boundary``, the boundary a float32 CPU constant) and a default; the step is
the float32 decay counter, 0 at the first run.

One difference from fluid, on purpose: fluid named the persistable
``learning_rate`` in every call, so two ``piecewise_decay`` in one program
wrote one variable and both returned the last one's values. Here each call
gets its own (``learning_rate_0``, ``learning_rate_1``, ...).
"""
from typing import Any, Dict, List, Sequence

import numpy as np
import paddle
from paddle.utils import unique_name

from .. import rules
from ..graph import ir
from ..graph.switch import Switch
from .common import F32, constant, graph_or_twin, steps_f32
from .registry import Schedule, register

__all__ = ["piecewise_decay", "reference", "check"]

NAME = "piecewise_decay"


def reference(steps, boundaries: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """The float32 values at the counter values ``steps``.

    >>> reference([0, 2, 3, 9], [3, 6], [1.0, 0.5, 0.1]).tolist()
    [1.0, 1.0, 0.5, 0.10000000149011612]
    """
    s = steps_f32(steps)
    out = np.full(s.shape, F32(values[-1]), dtype=F32)
    # Backwards, so that the first true case wins, as in a Switch.
    for bound, value in reversed(list(zip(boundaries, values))):
        out = np.where(s < F32(bound), F32(value), out)
    return out


def check(boundaries, values, impl: str = "switch") -> Dict[str, Any]:
    """The arguments, checked (one-line :class:`~paddle_lr.ConfigError` naming the argument).

    Boundaries are whole steps >= 1, strictly increasing, at least one (fluid's
    Switch needs a case); values are numbers >= 0, one more than the boundaries.
    """
    rules.choice("impl", impl, tuple(_LOWERINGS))
    boundaries = rules.increasing_steps("boundaries", boundaries)
    if not boundaries:
        raise rules.ConfigError("boundaries: must hold at least one step, got []")
    values = rules.piecewise_values("values", values, boundaries)
    return dict(boundaries=boundaries, values=values, impl=impl)


def piecewise_decay(boundaries: List[int], values: List[float], impl: str = "switch"):
    """Piecewise-constant learning rate on the decay counter, as ``fluid.layers.piecewise_decay``.

    Args:
        boundaries (list[int]): absolute steps at which the value changes, increasing.
        values (list[float]): ``len(boundaries) + 1`` values.
        impl (str): the lowering: ``"switch"`` (fluid's graph).

    Returns:
        The float32 [1] lr tensor in static mode; in dynamic mode a
        :class:`~paddle_lr.FluidScheduler` with the same values per step.

    Raises:
        ConfigError: a one-line message naming the argument, before any op is built.

    >>> import paddle_lr
    >>> sched = paddle_lr.piecewise_decay([2], [0.1, 0.01])   # dynamic mode: the twin
    >>> values = []
    >>> for _ in range(3):
    ...     values.append(round(sched(), 6)); sched.step()
    >>> values
    [0.1, 0.1, 0.01]
    """
    args = check(boundaries, values, impl)
    lower = _LOWERINGS[args.pop("impl")]
    return graph_or_twin(NAME, args, lower)


def _switch(step, boundaries, values):
    """Fluid's lowering: a Switch writing a persistable lr."""
    lr = ir.persistable_float(unique_name.generate("learning_rate"))
    with Switch() as switch:
        for bound, value in zip(boundaries, values):
            with switch.case(step < ir.cpu_constant(float(bound))):
                paddle.assign(constant(value), output=lr)
        with switch.default():
            paddle.assign(constant(values[-1]), output=lr)
    return lr


# impl name -> lower(step, boundaries, values); other lowerings add themselves here.
_LOWERINGS = {"switch": _switch}

SCHEDULE = register(Schedule(
    name=NAME,
    build=piecewise_decay,
    reference=reference,
    check=check,
    impls=_LOWERINGS.keys(),  # a live view: lowerings added later show
    options=("impl",),
    summary="values[i] while step < boundaries[i], then values[-1]",
))
