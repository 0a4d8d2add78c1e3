"""What fluid's schedules share: float32 numpy mirrors of their ops, the graph ops, argument rules.

The references (each schedule module's ``reference``) are written op for op
like fluid's graph, in float32, with the helpers here:

* ``scale_ref`` mirrors fluid's ``scale`` op. Fluid turned ``tensor * c``,
  ``tensor / c``, ``c + tensor`` with a Python number ``c`` into
  ``scale(x, scale=c)``, ``scale(x, scale=1/c)`` and ``scale(x, 1.0, bias=c)``,
  with ``scale`` and ``bias`` stored as float32 attributes; so ``step / 1000``
  is ``step * float32(1/1000)``, not a float32 division.
* ``exp``, ``cos`` and ``pow`` are the kernels a reference is given
  (``kernels=``, the C library's float32 ones by default:
  :data:`paddle_lr.schedules.kernels.C_KERNELS`, which is why).

The graph side (``scale``, ``times_lr``, ...) builds the same ops with
Paddle's API; the functions work on static-graph values and on eager tensors
alike, so each schedule's op sequence is written once and can also be run
eagerly (the tests do, to show that a 3.x difference is its kernel's).
"""
import math
import numbers

from typing import Any, Callable, Optional, Tuple

import numpy as np
import paddle

from .. import rules
from ..graph import ir, tables
from ..graph.counter import LR_DECAY_COUNTER, autoincreased_step_counter, decay_step_counter
from .kernels import GRAPH_KERNELS
from .lowerings import MAX_TABULATED_COUNTERS, Lowering
from .registry import INNER, REGISTRY, spec_of
from .twin import twin_for

__all__ = [
    "F32",
    "steps_f32",
    "scale_ref",
    "times_lr_ref",
    "scale",
    "constant",
    "times_lr",
    "learning_rate_arg",
    "decay_quotient_ref",
    "decay_quotient",
    "check_decay",
    "decay_function",
    "DECAY_KINDS",
    "INNER",
    "is_tensor_lr",
    "tabulate",
    "decay_settles",
]

F32 = np.float32


def steps_f32(steps):
    """The counter values as the graph reads them: int64 cast to float32.

    Args:
        steps: an int or an array of ints (counter values).

    Returns:
        numpy.ndarray: float32, at least one-dimensional.
    """
    return np.atleast_1d(np.asarray(steps, dtype=np.int64)).astype(F32)


def scale_ref(x, scale, bias=0.0):
    """Fluid's ``scale`` op in float32: ``float32(scale) * x + float32(bias)``.

    The bias is added even when it is 0, as the op does: ``-0.0 + 0.0`` is
    ``+0.0`` (``polynomial_decay`` to an end lr of 0 ends there).

    Args:
        x: a float32 array.
        scale (float): the factor, rounded to float32 as the op's attribute.
        bias (float): the addend, rounded to float32.

    Returns:
        numpy.ndarray: float32.
    """
    return ((F32(scale) * np.asarray(x, dtype=F32)).astype(F32) + F32(bias)).astype(F32)


def times_lr_ref(x, learning_rate):
    """``learning_rate * x`` as fluid built it: a ``scale`` for a number, a product for a tensor.

    Args:
        x: a float32 array.
        learning_rate: a number, or a float32 array (another schedule's values).

    Returns:
        numpy.ndarray: float32.
    """
    if isinstance(learning_rate, np.ndarray):
        return (learning_rate.astype(F32) * np.asarray(x, dtype=F32)).astype(F32)
    return scale_ref(x, learning_rate)


# -- the graph side: the same ops, static or eager ---------------------------

def scale(x, factor, bias=0.0, *, each_run=False):
    """Paddle's ``scale`` op: ``factor * x + bias`` with float32 attributes.

    In a static graph the factor is filled once by the startup program where
    the IR takes it as an operand (:func:`paddle_lr.graph.tables.scale`), so no
    op builds it in every run; the kernel reads the same float32 factor.

    Args:
        x: a float32 tensor (static value or eager tensor).
        factor (float): the factor.
        bias (float): the addend.
        each_run (bool): build the factor as Paddle does for a number (on PIR a
            ``full`` op of every run): fluid's ops as they were, for the Switch lowerings.

    Returns:
        The float32 tensor.
    """
    if ir.is_static_value(x) and not each_run:
        return tables.scale(x, factor, bias)
    return paddle.scale(x, scale=float(factor), bias=float(bias), bias_after_scale=True)


def constant(value, *, each_run=False):
    """A float32 [1] constant on the default place.

    In a static graph a table filled once by the startup program
    (:func:`paddle_lr.graph.tables.constant`), not fluid's ``fill_constant`` op
    of every run: the same float32 value.

    Args:
        value (float): the constant.
        each_run (bool): fluid's ``fill_constant`` op, run with every run (the Switch lowerings).

    Returns:
        The tensor.
    """
    if paddle.in_dynamic_mode() or each_run:
        return paddle.full([1], float(value), dtype="float32")
    return tables.constant(value)


def is_tensor_lr(learning_rate):
    """Whether ``learning_rate`` is a tensor (another schedule's) rather than a number."""
    return not isinstance(learning_rate, numbers.Real)


def times_lr(x, learning_rate):
    """``learning_rate * x``: ``scale`` for a number, ``elementwise_mul`` for a tensor (as fluid).

    Args:
        x: a float32 tensor.
        learning_rate: a number or a float32 [1] tensor.

    Returns:
        The float32 tensor.
    """
    if is_tensor_lr(learning_rate):
        return paddle.multiply(learning_rate, x)
    return scale(x, learning_rate)


# -- arguments ----------------------------------------------------------------

def learning_rate_arg(name, value):
    """A learning rate: a finite number >= 0, or another schedule's value.

    Accepted as "another schedule's value": a float32 static-graph tensor (in
    static mode), a dygraph twin (an ``LRScheduler`` of this package, in
    dynamic mode), or :data:`INNER` (a nested spec being checked).

    Args:
        name (str): the argument name, for the message.
        value: the value to check.

    Returns:
        ``value`` as a Python float, or unchanged when it is a schedule's value.
    """
    if value is INNER:
        return value
    if ir.is_static_value(value):
        if value.dtype != paddle.float32:
            raise rules.ConfigTypeError(f"{name}: must be a float32 tensor, got dtype {value.dtype}")
        rules.lr_tensor_shape(name, value.shape)
        return ir.check_current_program(name, value)
    if isinstance(value, paddle.optimizer.lr.LRScheduler):
        spec_of(value, name)  # a twin of ours, or a one-line error
        if not paddle.in_dynamic_mode():
            raise rules.ConfigTypeError(
                f"{name}: a dygraph scheduler cannot drive a static graph, pass the schedule's tensor "
                f"(build it in static mode), got {type(value).__name__}"
            )
        return value
    if isinstance(value, paddle.Tensor):  # an eager tensor: no schedule's value, in either mode
        raise rules.ConfigTypeError(
            f"{name}: must be a number or a schedule's value (in dygraph its twin, a paddle_lr.FluidScheduler), "
            f"got {rules.shown(value)}"
        )
    return rules.float32(name, value, low=0.0)


def graph_or_twin(name, args, lower, begin=0, twin=None):
    """The public functions' last step: the dygraph twin, or the graph on the decay counter.

    Args:
        name (str): the schedule's fluid name.
        args (dict): its checked arguments (with ``impl`` and the like, if any).
        lower (Lowering or callable): its ``build(step, **graph_args)`` builds the graph from
            the float32 step (from the int64 counter itself when ``reads_counter``);
            a plain function (a schedule's ``ops``) reads the float32 step.
        begin (int): the counter's begin, when this schedule creates it.
        twin (optional): the schedule's own dygraph class, called with ``args``
            (its module's ``TWIN``); by default a :class:`~paddle_lr.FluidScheduler`.

    Returns:
        The float32 [1] lr tensor (static mode) or the dygraph twin.
    """
    if paddle.in_dynamic_mode():
        return twin(**args) if twin is not None else twin_for(name, args)
    lowering = lower if isinstance(lower, Lowering) else _table_or_ops(name, args, lower)
    if lowering.reads_counter:  # a branch-free lookup: the raw int64 counter, no cast
        step = autoincreased_step_counter(LR_DECAY_COUNTER, begin=begin, step=1)
    else:
        step = decay_step_counter(begin)
    with ir.schedule_guard():
        return lowering.build(step, **args)


# -- the arithmetic schedules as one lookup, where their values settle --------

def tabulate(name: str, args: dict) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """The rows of an arithmetic schedule whose value stops changing, for :func:`paddle_lr.graph.tables.lookup`.

    The schedule's reference is evaluated at the counters from 0 to the one
    its ``settles`` names, with the running Paddle's kernels
    (:data:`~paddle_lr.schedules.kernels.GRAPH_KERNELS`: the graph's own bits
    on 2.x and 3.x), and each run of equal values is one row. From that counter
    on the value is the last row's, for every int64 counter; below 0, the first
    row's (the decay counter starts at 0 for these schedules, 1 for ``noam_decay``).

    Args:
        name (str): the schedule's fluid name.
        args (dict): its checked arguments.

    Returns:
        ``(thresholds, values)``, or None: the schedule does not settle within
        :data:`~paddle_lr.schedules.lowerings.MAX_TABULATED_COUNTERS` steps, has no
        ``settles``, or its ``learning_rate`` is another schedule's tensor.
    """
    schedule = REGISTRY[name]
    if schedule.settles is None or is_tensor_lr(args.get("learning_rate", 1.0)):
        return None
    evaluated: list = []

    def values_at(n: int) -> Optional[np.ndarray]:
        if n > MAX_TABULATED_COUNTERS:
            return None
        if not evaluated or len(evaluated[0]) < n:
            kernels = {"kernels": GRAPH_KERNELS} if schedule.kernels else {}
            evaluated[:] = [np.asarray(schedule.reference(np.arange(n), **args, **kernels), dtype=np.float32)]
        return evaluated[0][:n]

    first = schedule.settles(values_at, **args)
    values = None if first is None else values_at(first + 1)
    if values is None:
        return None
    bits = values.view(np.uint32)
    changes = np.flatnonzero(bits[1:] != bits[:-1]) + 1  # the counters where a new row starts
    return changes.astype(np.int64), values[np.concatenate([[0], changes])]


def _table_or_ops(name, args, ops):
    """The lookup of :func:`tabulate`'s rows when there are any, else the schedule's ops."""
    rows = tabulate(name, args)
    if rows is None:
        return Lowering(ops)
    thresholds, values = rows
    return Lowering(lambda counter, **_: tables.lookup(counter, thresholds, values), reads_counter=True)


# A kernel's float32 result is 0 below 2**-151 and inf past 2**129 (a bit past the ends of float32's range).
_UNDERFLOW_LOG, _OVERFLOW_LOG = 151 * math.log(2), 129 * math.log(2)


def decay_settles(values_at, decay_steps: float, log_factor: float) -> Optional[int]:
    """Where ``learning_rate * exp(log_factor * div)`` settles, ``div`` being :func:`decay_quotient`'s.

    For ``exponential_decay`` (``log_factor = ln decay_rate``) and
    ``natural_exp_decay`` (``-decay_rate``): with ``log_factor`` 0 the value
    never changes; otherwise the kernel's result is 0 (or inf) once
    ``|log_factor| * div`` passes float32's range, and stays so for every
    larger ``div`` (the kernels are monotone), as does the product with the
    learning rate. The values are evaluated up to that counter and the first
    counter of the final run of equal values returned.

    Args:
        values_at: see :attr:`~paddle_lr.schedules.registry.Schedule.settles`.
        decay_steps (float): the schedule's.
        log_factor (float): the natural log of the factor per ``decay_steps``.

    Returns:
        int or None.
    """
    if log_factor == 0.0:
        return 0
    out_of_range = _UNDERFLOW_LOG if log_factor < 0 else _OVERFLOW_LOG
    # one decay more (a staircase's floor) and a little (the float32 rounding of 1 / decay_steps)
    reach = (out_of_range / abs(log_factor) + 1) * decay_steps * (1 + 1e-6) + 2
    if not reach < MAX_TABULATED_COUNTERS:  # inf for a factor within a denormal of 1
        return None
    values = values_at(math.ceil(reach) + 1)
    if values is None or np.isfinite(values[-1]) and values[-1] != 0:
        return None
    bits = values.view(np.uint32)
    before_last_run = np.flatnonzero(bits != bits[-1])
    return int(before_last_run[-1] + 1) if before_last_run.size else 0


# -- what exponential_decay, natural_exp_decay and inverse_time_decay share --

def decay_function(module_name: str, name: str, check: Callable[..., dict], lower: Callable,
                   doc: str) -> Callable[..., Any]:
    """The public function of one of the three decays: the same signature, its own check, ops and docstring.

    Args:
        module_name (str): the defining module's ``__name__`` (the function's ``__module__``).
        name (str): the schedule's fluid name (the function's name).
        check: the module's argument check, returning the checked arguments.
        lower: the module's ``ops``.
        doc (str): the docstring's text before its ``Returns:``.

    Returns:
        The function ``name(learning_rate, decay_steps, decay_rate, staircase=False)``.
    """
    def decay(learning_rate: Any, decay_steps: float, decay_rate: float, staircase: bool = False) -> Any:
        return graph_or_twin(name, check(learning_rate, decay_steps, decay_rate, staircase), lower)

    decay.__name__ = decay.__qualname__ = name
    decay.__module__ = module_name
    decay.__doc__ = doc.rstrip() + "\n\n    Returns:\n        The lr, as every family function (see :mod:`paddle_lr.schedules`).\n    "
    return decay


def decay_quotient_ref(steps, decay_steps, staircase):
    """``step / decay_steps`` as fluid computed it (``scale`` by the float32 ``1/decay_steps``), floored if ``staircase``."""
    div = scale_ref(steps_f32(steps), 1.0 / decay_steps)
    return np.floor(div) if staircase else div


def decay_quotient(step, decay_steps, staircase):
    """The graph's ops of :func:`decay_quotient_ref` on the float32 step (static value or eager tensor)."""
    div = scale(step, 1.0 / decay_steps)
    return paddle.floor(div) if staircase else div


DECAY_KINDS = dict(learning_rate="lr", decay_steps="steps", decay_rate="real", staircase="flag")
"""The argument kinds of the three decays that :func:`check_decay` checks (their ``Schedule`` records' ``kinds``)."""


def check_decay(learning_rate, decay_steps, decay_rate, staircase=False, *, rate_low_open):
    """The arguments of the three ``(learning_rate, decay_steps, decay_rate, staircase)`` decays, checked.

    ``decay_steps > 0``; ``decay_rate > 0`` when ``rate_low_open``, else ``>= 0``; ``staircase`` a bool.
    """
    return dict(
        learning_rate=learning_rate_arg("learning_rate", learning_rate),
        decay_steps=rules.float32("decay_steps", decay_steps, low=0.0, low_open=True, divisor=True),
        decay_rate=rules.float32("decay_rate", decay_rate, low=0.0, low_open=rate_low_open),
        staircase=rules.boolean("staircase", staircase),
    )
