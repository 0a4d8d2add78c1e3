"""``exponential_with_warmup_decay``: the R-CNN learning rate, built in the static graph.

Two lowerings of the same schedule, bit-identical to :func:`paddle_lr.lr_at`:

``impl="switch"``
    The original graph: a persistable ``learning_rate`` written by a
    :class:`~paddle_lr.Switch` with the warmup case first, one case per
    boundary and a default. Its per-step cost grows with the number of
    boundaries (one conditional block each), and on PIR its memory with their
    square (see :func:`paddle_lr.graph.switch.expected_memory`).

``impl="branchless"``
    No control-flow ops and no cast: ``index_select(table,
    searchsorted(thresholds, counter, right=True))`` on the raw int64 counter,
    over two persistable tables that the startup program fills once
    (:func:`paddle_lr.graph.tables.lookup`). The table holds the warmup ramp of
    every warmup step (precomputed by :func:`paddle_lr.lr_at`, i.e. the same
    float32 ops) and then the piecewise values; the thresholds are the exact
    integer equivalents of the float32 comparisons
    (:func:`paddle_lr.graph.tables.step_thresholds`), quirks past 2**24
    included. Per step that is two ops after the counter's increment, and a
    binary search, so the cost does not depend on the number of boundaries.
    Warmups longer than :data:`paddle_lr.graph.tables.MAX_TABULATED_WARMUP`
    steps are not tabulated: the ramp is then computed in the graph (from the
    float32 step) and selected with ``where``.

``impl="auto"`` (default)
    ``branchless``, at every count: the cheapest bit-identical lowering
    (:mod:`paddle_lr.schedules.lowerings`; against fluid 1.8.5's own graph in
    benchmarks/RESULTS.md).

What runs where: the counter, its increment and cast, and the constants the
switch compares the step with are created on the CPU place (see
:mod:`paddle_lr.graph.ir`), as the original did with ``force_cpu``; so are the
warmup comparison and ramp of an untabulated warmup. The branchless tables are
parameters initialised on the executor's place (the CPU on a CPU build), like
the switch's ``learning_rate`` variable.
"""
import math

from typing import Any, List, Sequence

import numpy as np
import paddle
from paddle.utils import unique_name

from .. import rules
from ..graph import ir, tables
from ..graph.switch import Switch
from .common import F32, graph_or_twin
from .lowerings import IMPLS, Lowering, resolve_lowering
from .registry import register_module
from .twin import TwinScheduler

__all__ = ["exponential_with_warmup_decay", "lr_at", "boundary_values", "WarmupPiecewiseDecay", "reload_tables",
           "reference", "check", "IMPLS"]


NAME = "exponential_with_warmup_decay"

_ARGS = ("learning_rate", "boundaries", "values", "warmup_iter", "warmup_factor")


def check(learning_rate, boundaries, values, warmup_iter, warmup_factor, impl="auto"):
    """The arguments, checked (:func:`paddle_lr.rules.check_schedule`), and ``impl``."""
    rules.choice("impl", impl, IMPLS)
    checked = rules.check_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor)
    return dict(zip(_ARGS, checked), impl=impl)


def reference(steps, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    """The float32 values at the counter values ``steps`` (:func:`lr_at`, at least one-dimensional)."""
    return np.atleast_1d(lr_at(steps, learning_rate, boundaries, values, warmup_iter, warmup_factor))


def exponential_with_warmup_decay(
    learning_rate: float, boundaries: Sequence[int], values: Sequence[float], warmup_iter: float,
    warmup_factor: float, impl: str = "auto"
) -> Any:
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
        impl (str): ``"auto"`` (the default: ``"branchless"``), ``"switch"``
            (the original graph) or ``"branchless"``; the same values.

    Returns:
        The float32 [1] learning-rate tensor, to pass to :class:`paddle_lr.Momentum`;
        in dynamic mode its twin, a :class:`WarmupPiecewiseDecay`.

    Raises:
        ConfigError: (a ``ValueError``; ``ConfigTypeError`` is also a ``TypeError``)
            naming the argument, before any op is built.
    """
    args = check(learning_rate, boundaries, values, warmup_iter, warmup_factor, impl)
    rules.warn_schedule(args["boundaries"], args["warmup_iter"], args["warmup_factor"])
    impl = args.pop("impl")
    lower = LOWERINGS[resolve_lowering(impl, len(args["boundaries"]))] if not paddle.in_dynamic_mode() else None
    return graph_or_twin(NAME, args, lower, twin=WarmupPiecewiseDecay)


def _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor):
    alpha = global_step / warmup_iter_var
    factor = warmup_factor * (1 - alpha) + alpha
    return learning_rate * factor


def _switch(global_step, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    lr = ir.persistable_float(unique_name.generate("learning_rate"))
    warmup_iter_var = ir.cpu_constant(float(warmup_iter))
    with Switch() as switch:
        with switch.case(global_step < warmup_iter_var):
            decayed_lr = _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor)
            paddle.assign(decayed_lr, output=lr)
        for boundary, value in zip(boundaries, values):
            boundary_val = ir.cpu_constant(float(boundary))
            with switch.case(global_step < boundary_val):
                # Built inside the case: it runs only when the case is taken,
                # and on PIR every value outside the cases is copied into each
                # case's sub-interpreter.
                paddle.assign(ir.cpu_constant(float(value)), output=lr)
        with switch.default():
            paddle.assign(ir.cpu_constant(float(values[-1])), output=lr)
    return lr


def _branchless(counter, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    # The step is a whole number in float32, so a warmup of W steps covers
    # exactly the steps 0 .. ceil(float32(W)) - 1.
    warmup_steps = math.ceil(np.float32(warmup_iter))
    tabulated = warmup_steps <= tables.MAX_TABULATED_WARMUP
    head = warmup_steps if tabulated else 0
    # One row per warmup step, then one per piece: lifting boundaries inside
    # the warmup to its end keeps the rows sorted and lets the warmup win, as
    # the Switch's first case does.
    bounds = np.concatenate([np.arange(1, head + 1), np.maximum(np.float32(boundaries), head)])
    ramp = lr_at(np.arange(head), learning_rate, [], [0.0], warmup_iter, warmup_factor)
    lr = tables.lookup(counter, tables.step_thresholds(bounds), np.concatenate([ramp, values]))
    if tabulated:
        return lr
    global_step = paddle.cast(counter, "float32")
    warmup_iter_var = ir.cpu_constant(float(warmup_iter))
    ramp = _warmup_ramp(global_step, warmup_iter_var, learning_rate, warmup_factor)
    return paddle.where(global_step < warmup_iter_var, ramp, lr)


# impl name -> its Lowering: build(step or counter, learning_rate, boundaries, values, warmup_iter, warmup_factor).
LOWERINGS = {"switch": Lowering(_switch), "branchless": Lowering(_branchless, reads_counter=True)}


def reload_tables(program: Any, scope: Any = None) -> List[str]:
    """Write the branch-free tables of ``program`` back into ``scope``.

    :func:`paddle_lr.load_checkpoint` and the trainer's resume do this
    themselves; call it only after restoring persistables some other way
    (``paddle.static.set_program_state``, ``load_vars``), so that the program's
    own schedule applies, as it does with ``impl="switch"``.

    Args:
        program: the main program the schedules were built in.
        scope (optional): the scope holding its persistables; the global scope by default.

    Returns:
        list[str]: the names of the tables written.
    """
    return tables.rewrite(program, scope)


# -- the reference --------------------------------------------------------

def boundary_values(learning_rate: float, lr_gamma: float, num_boundaries: int) -> List[float]:
    """The piecewise values of the R-CNN recipe, as the original derived them.

    Args:
        learning_rate (float): the base learning rate.
        lr_gamma (float): the factor applied at each boundary.
        num_boundaries (int): ``len(lr_steps)``.

    Returns:
        list[float]: ``[learning_rate * lr_gamma ** i for i in range(num_boundaries + 1)]``,
        in Python floats (float64), exactly as the original cfg code computed them.
    """
    return [learning_rate * lr_gamma ** i for i in range(num_boundaries + 1)]


def lr_at(step: Any, learning_rate: float, boundaries: Sequence[int], values: Sequence[float],
          warmup_iter: float, warmup_factor: float) -> Any:
    """The learning rate that fluid's warmup + piecewise graph gives at ``step``.

    Args:
        step (int or array of int): the value of the step counter (0 at the
            first run of the main program). An array gives an array.
        learning_rate (float): the base learning rate, the target of the warmup.
        boundaries (sequence of int): absolute steps at which the value changes.
        values (sequence of float): ``len(boundaries) + 1`` piecewise values.
        warmup_iter (float): warmup length in steps; 0 means no warmup.
        warmup_factor (float): the lr multiplier at step 0 of the warmup.

    Returns:
        numpy.float32 (or a float32 array shaped like ``step``): the learning rate,
        bit-identical to the original graph.
    """
    s = np.asarray(step, dtype=np.int64).astype(F32)
    warm = F32(warmup_iter)
    piece = np.full(s.shape, F32(values[-1]), dtype=F32)
    # Walk the cases backwards so that the first true case wins, as in a Switch.
    for bound, value in reversed(list(zip(boundaries, values))):
        piece = np.where(s < F32(bound), F32(value), piece)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (s / warm).astype(F32)
        one_minus = (F32(1) - alpha).astype(F32)
        factor = ((F32(warmup_factor) * one_minus).astype(F32) + alpha).astype(F32)
        ramp = (F32(learning_rate) * factor).astype(F32)
    out = np.where(s < warm, ramp, piece).astype(F32)
    return out[()] if out.ndim == 0 else out


# -- the dygraph twin ------------------------------------------------------

class WarmupPiecewiseDecay(TwinScheduler):
    """Linear warmup then piecewise values, step for step equal to the static graph.

    The value after ``k`` calls of :meth:`step` is ``lr_at(k, ...)``, bit for bit
    in float32: step 0 is the first training step, as the static counter's first
    run. Boundaries are absolute steps (no shift by the warmup, unlike
    ``LinearWarmup(PiecewiseDecay(...))``). ``state_dict`` holds the step, so a
    resumed scheduler continues exactly.

    Args:
        learning_rate (float): the lr the warmup ramps to.
        boundaries (list[int]): strictly increasing absolute steps.
        values (list[float]): ``len(boundaries) + 1`` values.
        warmup_iter (float): warmup length in steps (0 disables it).
        warmup_factor (float): the multiplier at step 0.
        last_epoch (int): the step already done (-1 to start from step 0).
        verbose (bool): print the lr at each step (Paddle's option).
    """

    def __init__(
        self, learning_rate: float, boundaries: Sequence[int], values: Sequence[float], warmup_iter: float,
        warmup_factor: float, last_epoch: int = -1, verbose: bool = False
    ) -> None:
        self.schedule = rules.check_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor)
        super().__init__(self.schedule[0], last_epoch=last_epoch, verbose=verbose)

    def get_lr(self):
        """The learning rate of the current step.

        Returns:
            float: ``lr_at(self.last_epoch, ...)`` as a Python float (exact in float32).
        """
        return float(lr_at(self.last_epoch, *self.schedule))

    @property
    def spec(self):
        """Its schedule spec, ``{"fn": "exponential_with_warmup_decay", "args": {...}}`` (checked, as ``check`` gives it)."""
        return {"fn": NAME, "args": dict(zip(_ARGS, self.schedule), impl="auto")}


# -- its record in the registry --------------------------------------------

TWIN = WarmupPiecewiseDecay

SCHEDULE = register_module(
    __name__,
    summary="linear warmup from learning_rate * warmup_factor, then values[i] below boundaries[i]",
    origin="PaddleCV R-CNN:exponential_with_warmup_decay",
    kinds=dict(learning_rate="lr", boundaries="boundaries", values="values", warmup_iter="steps",
               warmup_factor="real", impl="impl"),
    example=dict(learning_rate=0.01, boundaries=[6, 9], values=[0.01, 0.001, 0.0001], warmup_iter=4,
                 warmup_factor=1 / 3),
    typical=dict(learning_rate=0.01, boundaries=[120000, 160000], values=[0.01, 0.001, 0.0001],
                 warmup_iter=500, warmup_factor=1 / 3),
)
