"""``piecewise_decay``: ``values[i]`` while the step is below ``boundaries[i]``, then ``values[-1]``.

Fluid's graph (``impl="switch"``): a persistable float32 ``learning_rate``
written by a :class:`~paddle_lr.Switch` with one case per boundary (``step <
boundary``, the boundary a float32 CPU constant) and a default; the step is
the float32 decay counter, 0 at the first run.

``impl="branchless"``: no control flow and no cast, one table lookup on the
raw int64 counter (:func:`paddle_lr.graph.tables.lookup`), the boundaries
turned into the exact integer thresholds of the float32 comparisons; bit for
bit the switch's values, in constant memory and per-step cost.

``impl="auto"`` (default): ``branchless``, at every count (the cheapest
bit-identical lowering; :mod:`paddle_lr.schedules.lowerings`). ``impl="switch"``
keeps fluid's ops as they were.

One difference from fluid, on purpose: fluid named the persistable
``learning_rate`` in every call, so two ``piecewise_decay`` in one program
wrote one variable and both returned the last one's values. Here each call
gets its own (``learning_rate_0``, ``learning_rate_1``, ...).
"""
from typing import Any, Dict, List, Sequence

import numpy as np
from paddle.tensor.creation import fill_constant
from paddle.utils import unique_name

from .. import rules
from ..graph import ir, tables
from ..graph.switch import Switch
from .common import F32, graph_or_twin, steps_f32
from .lowerings import IMPLS, Lowering, resolve_lowering
from .registry import register_module

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


def check(boundaries, values, impl: str = "auto") -> Dict[str, Any]:
    """The arguments, checked (one-line :class:`~paddle_lr.ConfigError` naming the argument).

    Boundaries are whole steps >= 1, strictly increasing, at least one (fluid's
    Switch needs a case); values are numbers >= 0, one more than the boundaries.
    """
    rules.choice("impl", impl, IMPLS)
    boundaries = rules.increasing_steps("boundaries", boundaries)
    if not boundaries:
        raise rules.ConfigError("boundaries: must hold at least one step, got []")
    values = rules.piecewise_values("values", values, boundaries)
    return dict(boundaries=boundaries, values=values, impl=impl)


def piecewise_decay(boundaries: List[int], values: List[float], impl: str = "auto") -> Any:
    """Piecewise-constant learning rate on the decay counter, as ``fluid.layers.piecewise_decay``.

    Args:
        boundaries (list[int]): absolute steps at which the value changes, increasing.
        values (list[float]): ``len(boundaries) + 1`` values.
        impl (str): the lowering: ``"auto"`` (the default: ``"branchless"``),
            ``"switch"`` (fluid's graph) or ``"branchless"`` (one table lookup).
            All give the same values.

    Returns:
        The lr, as every family function (see :mod:`paddle_lr.schedules`).

    >>> import paddle_lr
    >>> sched = paddle_lr.piecewise_decay([2], [0.1, 0.01])   # dynamic mode: the twin
    >>> values = []
    >>> for _ in range(3):
    ...     values.append(round(sched(), 6)); sched.step()
    >>> values
    [0.1, 0.1, 0.01]
    """
    args = check(boundaries, values, impl)
    lower = LOWERINGS[resolve_lowering(args.pop("impl"), len(args["boundaries"]))]
    return graph_or_twin(NAME, args, lower)


def _switch(step, boundaries, values):
    """Fluid's lowering: a Switch writing a persistable lr."""
    lr = ir.persistable_float(unique_name.generate("learning_rate"))
    with Switch() as switch:
        for bound, value in zip(boundaries, values):
            with switch.case(step < ir.cpu_constant(float(bound))):
                _fill(lr, value)
        with switch.default():
            _fill(lr, values[-1])
    return lr


def _fill(lr, value):
    """``lr = value`` in one op, as fluid did (``fill_constant(..., out=lr)``), not a constant and an assign."""
    fill_constant([1], "float32", float(value), out=lr)


def _branchless(counter, boundaries, values):
    """One lookup on the raw int64 counter: ``values[#{thresholds <= counter}]``."""
    return tables.lookup(counter, tables.step_thresholds(boundaries), values)



# impl name -> its Lowering: build(step or counter, boundaries, values).
LOWERINGS = {"switch": Lowering(_switch), "branchless": Lowering(_branchless, reads_counter=True)}

SCHEDULE = register_module(
    __name__,
    kinds=dict(boundaries="boundaries", values="values", impl="impl"),
    example=dict(boundaries=[3, 6], values=[1.0, 0.5, 0.1]),
    typical=dict(boundaries=[120000, 160000], values=[0.01, 0.001, 0.0001]),
    summary="values[i] while step < boundaries[i], then values[-1]",
)
