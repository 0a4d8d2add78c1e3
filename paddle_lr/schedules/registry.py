"""Every in-graph schedule of ``paddle_lr``, by fluid name: what the config, tools, docs and tests iterate.

A schedule is one module under ``paddle_lr/schedules/`` that holds its numpy
reference, its graph builder (the public function, with fluid's signature),
its argument check, and registers a :class:`Schedule` with its argument kinds
(:data:`ARG_KINDS`) and example arguments. :mod:`paddle_lr.schedules` imports
every module of the package, so a new module is found without a list; the
exports, the config's argument limits, the docs table, the bench and the tests'
tables all iterate :data:`REGISTRY`. A schedule *spec* is the plain-data form
of a call, as in the golden traces::

    {"fn": "linear_lr_warmup",
     "args": {"learning_rate": {"fn": "piecewise_decay",
                                "args": {"boundaries": [6, 9], "values": [0.01, 0.001, 0.0001]}},
              "warmup_steps": 4, "start_lr": 0.0033333333333333335, "end_lr": 0.01}}

``learning_rate`` may itself be a spec: the inner schedule is built first and
its tensor passed in. :func:`reference_values` evaluates a spec with numpy,
:func:`build` builds it (the graph in static mode, the dygraph twin in
dynamic mode).

>>> import numpy as np
>>> from paddle_lr.schedules.registry import REGISTRY, reference_values
>>> REGISTRY["piecewise_decay"].fidelity_3x
'0 ulp'
>>> reference_values({"fn": "piecewise_decay", "args": {"boundaries": [2], "values": [1.0, 0.5]}},
...                  np.arange(4)).tolist()
[1.0, 1.0, 0.5, 0.5]
"""
import dataclasses
import inspect
import sys
from typing import Any, Callable, Collection, Dict, Mapping, Optional, Tuple

import numpy as np
import paddle

from .. import rules
from ..graph import ir, tables
from ..graph.counter import LR_DECAY_COUNTER, autoincreased_step_counter
from .kernels import C_KERNELS, GRAPH_KERNELS, Kernels
from .lowerings import MAX_TABULATED_COUNTERS

__all__ = [
    "Schedule",
    "REGISTRY",
    "register",
    "register_module",
    "reference_values",
    "build",
    "check_spec",
    "counter_begin",
    "spec_of",
    "markdown_table",
    "with_table",
    "INNER",
    "ARG_KINDS",
    "FLUID",
]

KERNELS = tuple(C_KERNELS)


class _InnerSchedule:
    """The placeholder for "another schedule's value" when a nested spec is checked."""

    def __repr__(self):
        return "<another schedule's value>"


INNER = _InnerSchedule()

ARG_KINDS = {
    "lr": "a learning rate: a float32 number >= 0 or, where the check takes one, another schedule's value",
    "values": "one learning rate per piece: len(boundaries) + 1 float32 numbers",
    "boundaries": "strictly increasing absolute steps",
    "steps": "iterations (a length, an absolute step, or periods of iterations: epochs)",
    "real": "a float32 number: a rate, an exponent, a factor, a model width",
    "flag": "true or false",
    "impl": "the graph lowering (the same values whichever)",
}
"""What a schedule argument can be, by kind: :attr:`Schedule.kinds` names one per argument.

The config limits each kind (:mod:`paddle_lr.config.keys`), the tests draw
arguments by kind, and the fuzz sends every argument name.
"""

FLUID = "fluid"
"""The :attr:`Schedule.origin` of fluid's own: ``fluid.layers`` (``paddle.optimizer.lr`` in 2.x) has it,
with this name and signature."""


@dataclasses.dataclass(frozen=True, eq=False)
class Schedule:
    """One schedule of fluid's in-graph family.

    Attributes:
        name: fluid's function name (the key in :data:`REGISTRY` and in specs).
        build: the public function; builds the graph in static mode, returns the
            dygraph twin in dynamic mode.
        reference: ``reference(steps, **args)``: the float32 numpy values at the
            counter values ``steps`` (an int array); a ``learning_rate`` given as
            a float32 array is another schedule's values at those steps. One
            whose graph calls ``kernels`` takes them too (``kernels=``, a
            :data:`~paddle_lr.schedules.kernels.Kernels` table, the C library's by default).
        check: ``check(**args)``: the arguments as plain Python values (raises a
            one-line :class:`~paddle_lr.ConfigError` naming the argument).
        kernels: which float kernels among ``exp``, ``cos``, ``pow`` the graph
            calls; paddlepaddle 3.x rounds those differently (<= 1 ulp).
        begin: the counter value the first run sees when this schedule creates
            the counter (1 for ``noam_decay``, 0 for the others).
        impls: the names of the graph lowerings ``build`` accepts through ``impl=``
            (``"auto"``, the default, first).
        options: arguments that choose how the graph is built, not what it
            computes (``impl``); the reference and the twin ignore them.
        summary: what it computes, in one line (for the docs table).
        twin: the name of its dygraph twin class (what ``build`` returns in dynamic mode).
        ops: for the schedules without control flow, ``ops(step, **args)``: the
            graph's op sequence on a float32 [1] step tensor, in static or eager
            mode (the graph builder calls it; the tests run it eagerly too).
        kinds: argument name -> its kind (a key of :data:`ARG_KINDS`), one for
            every parameter of ``build``.
        example: arguments the tests run: small, showing the schedule's shape in
            a few steps (``learning_rate`` may be another schedule's spec).
        typical: arguments its users run (a recipe's settings, plain numbers): the
            bench, the op-count comparison with fluid, the good-argument table.
        origin: :data:`FLUID` (``fluid.layers`` has it, same name and signature), or
            ``"<project>:<its name there>"`` for a schedule from elsewhere.
        settles: for the schedules without control flow whose value stops changing,
            ``settles(values_at, **args)``: the first counter from which the value
            never changes, or None (it never does, or only past
            :data:`~paddle_lr.schedules.lowerings.MAX_TABULATED_COUNTERS`);
            ``values_at(n)`` gives the values at the counters ``0 .. n - 1`` (None past
            that limit). Such a schedule's graph is then one table lookup
            (:func:`~paddle_lr.schedules.common.tabulate`), the same values as its ops.
    """

    name: str
    build: Callable[..., Any]
    reference: Callable[..., np.ndarray]
    check: Callable[..., Dict[str, Any]]
    kernels: Tuple[str, ...] = ()
    begin: int = 0
    impls: Collection[str] = ()
    options: Tuple[str, ...] = ()
    summary: str = ""
    twin: str = "FluidScheduler"
    ops: Optional[Callable[..., Any]] = None
    kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)
    example: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    typical: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    origin: str = FLUID
    settles: Optional[Callable[..., Optional[int]]] = None

    def __post_init__(self):
        unknown = set(self.kernels) - set(KERNELS)
        if unknown:
            raise ValueError(f"{self.name}: kernels must be among {KERNELS}, got {sorted(unknown)}")
        parameters = list(inspect.signature(self.build).parameters)
        if sorted(self.kinds) != sorted(parameters):
            raise ValueError(f"{self.name}: kinds must name every argument {parameters}, got {sorted(self.kinds)}")
        bad = {name: kind for name, kind in self.kinds.items() if kind not in ARG_KINDS}
        if bad:
            raise ValueError(f"{self.name}: argument kinds must be among {sorted(ARG_KINDS)}, got {bad}")
        for field in ("example", "typical"):
            extra = set(getattr(self, field)) - set(parameters)
            if extra:
                raise ValueError(f"{self.name}: {field} names no argument {sorted(extra)}")

    def args_of_kind(self, *kinds: str) -> Tuple[str, ...]:
        """The arguments of these kinds, in the signature's order."""
        return tuple(name for name, kind in self.kinds.items() if kind in kinds)

    @property
    def fidelity_3x(self) -> str:
        """``"0 ulp"``, or ``"<= 1 ulp"`` when the graph calls a kernel that 3.x rounds differently."""
        return "<= 1 ulp" if self.kernels else "0 ulp"

    @property
    def lowerings(self) -> str:
        """The graph lowerings, in words (for the docs table)."""
        if self.impls:
            return ", ".join(f"`{name}`" for name in self.impls)
        if self.settles is not None:
            return "one table lookup where the values settle, else plain ops"
        return "plain ops, no control flow"


REGISTRY: Dict[str, Schedule] = {}
"""Every schedule, by fluid name, in the order of the names (:mod:`paddle_lr.schedules` finds their modules)."""


def register(schedule: Schedule) -> Schedule:
    """Add ``schedule`` to :data:`REGISTRY` (called once by its module).

    Args:
        schedule: the record.

    Returns:
        The record.
    """
    if schedule.name in REGISTRY and REGISTRY[schedule.name] is not schedule:
        raise ValueError(f"{schedule.name}: registered twice")
    REGISTRY[schedule.name] = schedule
    ordered = sorted(REGISTRY.items())
    REGISTRY.clear()
    REGISTRY.update(ordered)
    return schedule



def register_module(module_name: str, **fields: Any) -> Schedule:
    """Register the schedule that the module ``module_name`` defines.

    The module names its public function in ``NAME`` and defines
    ``reference``, ``check`` and, for the schedules without control flow,
    ``ops``, or, for those with several lowerings, ``LOWERINGS`` (impl name ->
    lowering: they take ``impl=``), and ``TWIN`` where its dygraph twin is a
    class of its own; ``fields`` are the rest of the :class:`Schedule` record
    (``kinds``, ``example``, ``typical``, ``kernels``, ``summary``, ...). Each
    schedule module ends with one call::

        SCHEDULE = register_module(
            __name__, kernels=("cos",), summary="...",
            kinds=dict(learning_rate="lr", step_each_epoch="steps", epochs="steps"),
            example=dict(learning_rate=0.1, step_each_epoch=2, epochs=5),
            typical=dict(learning_rate=0.1, step_each_epoch=100, epochs=12))

    Returns:
        The record.
    """
    module = sys.modules[module_name]
    lowerings = getattr(module, "LOWERINGS", None)
    if lowerings is not None:  # impl name -> lowering; "auto" (the default) picks one of them
        fields = {"impls": ("auto", *lowerings), "options": ("impl",), **fields}
    twin = getattr(module, "TWIN", None)  # its own dygraph class, when not the FluidScheduler
    if twin is not None:
        fields = {"twin": twin.__name__, **fields}
    return register(Schedule(
        name=module.NAME,
        build=getattr(module, module.NAME),
        reference=module.reference,
        check=module.check,
        ops=getattr(module, "ops", None),
        settles=getattr(module, "settles", None),
        **fields,
    ))


def _parse(spec, where="schedule"):
    if not isinstance(spec, Mapping):
        raise rules.ConfigTypeError(f"{where}: must be a mapping {{fn: NAME, args: {{...}}}}, got {spec!r}")
    extra = set(spec) - {"fn", "args"}
    if extra:
        raise rules.ConfigError(f"{where}: unknown keys {sorted(extra)}, expected fn and args")
    name = rules.choice(f"{where}.fn", spec.get("fn"), tuple(REGISTRY))
    args = spec.get("args", {})
    if not isinstance(args, Mapping):
        raise rules.ConfigTypeError(f"{where}.args: must be a mapping, got {args!r}")
    return REGISTRY[name], dict(args)


def _checked(schedule, args, where):
    """``schedule.check(**args)``; a missing or unknown argument is a one-line error naming ``where``."""
    try:
        inspect.signature(schedule.check).bind(**args)
    except TypeError as error:
        raise rules.ConfigTypeError(f"{where}.args: {error} for {schedule.name}, got {sorted(args)}") from None
    return schedule.check(**args)


def check_spec(spec, where="schedule") -> Dict[str, Any]:
    """Check a (nested) spec; return it with every argument as plain checked data.

    Args:
        spec: ``{"fn": NAME, "args": {...}}``; ``args.learning_rate`` may be a spec.
        where (str): how messages name the spec (a cfg key, say).

    Returns:
        dict: the spec with checked arguments (inner specs checked too).
    """
    schedule, args = _parse(spec, where)
    inner = args.get("learning_rate")
    if isinstance(inner, Mapping):
        try:
            args["learning_rate"] = check_spec(inner, f"{where}.learning_rate")
        except rules.ConfigError as error:  # an argument's message: say whose
            message = str(error)
            raise type(error)(message if message.startswith(where) else f"learning_rate.{message}") from None
        checked = _checked(schedule, {**args, "learning_rate": INNER}, where)
        checked["learning_rate"] = args["learning_rate"]
    else:
        checked = _checked(schedule, args, where)
    return {"fn": schedule.name, "args": checked}


def reference_values(spec: Mapping[str, Any], steps: Any, kernels: Kernels = C_KERNELS) -> np.ndarray:
    """The float32 values of a (nested) spec at the counter values ``steps``.

    Args:
        spec: ``{"fn": NAME, "args": {...}}``.
        steps: an int or an array of ints: counter values (absolute steps).
        kernels: the float32 ``exp``, ``cos``, ``pow`` the references of the
            schedules that call them evaluate with (the C library's by default).

    Returns:
        numpy.ndarray: float32, shaped like ``numpy.atleast_1d(steps)``.
    """
    spec = check_spec(spec)
    steps = np.atleast_1d(np.asarray(steps, dtype=np.int64))
    return _reference(spec, steps, kernels)


def _reference(spec, steps, kernels=C_KERNELS):
    schedule = REGISTRY[spec["fn"]]
    args = {k: v for k, v in spec["args"].items() if k not in schedule.options}
    if isinstance(args.get("learning_rate"), Mapping):
        args["learning_rate"] = _reference(args["learning_rate"], steps, kernels)
    if schedule.kernels:  # its reference calls them: it takes kernels=
        args["kernels"] = kernels
    return np.asarray(schedule.reference(steps, **args), dtype=np.float32)


def counter_begin(spec) -> int:
    """The counter value the first run sees: the begin of the schedule built first.

    Every schedule of a program reads the one ``@LR_DECAY_COUNTER@``; the
    first one built creates it, with its begin (an inner ``learning_rate``
    schedule is built before the schedule that takes it).

    Args:
        spec: a (nested) spec.

    Returns:
        int: 1 when ``noam_decay`` is built first, else 0.
    """
    schedule, args = _parse(spec)
    inner = args.get("learning_rate")
    if isinstance(inner, Mapping):
        return counter_begin(inner)
    return schedule.begin


def build(spec, *, horizon: Optional[int] = None) -> Any:
    """Build a (nested) spec: inner schedules first, their result passed as ``learning_rate``.

    With ``horizon``, the last counter the run will see (a training length
    known in advance: the cfg's ``max_iter``), the static graph is instead one
    ``index_select`` of the raw decay counter into a table of the spec's value
    at every counter from 0 to ``horizon`` (:func:`paddle_lr.graph.tables.dense`),
    computed at build time with the running Paddle's kernels
    (:data:`~paddle_lr.schedules.kernels.GRAPH_KERNELS`): the values of the ops,
    bit for bit, at the cost of no op more than the counter's cast. A run
    past ``horizon`` stops with Paddle's ``index_select`` error; it never gives
    another value. In dynamic mode ``horizon`` is checked and the twin computes
    every step as without it.

    Args:
        spec: ``{"fn": NAME, "args": {...}}``.
        horizon (int, optional): the last counter value to hold, from the spec's
            counter begin to :data:`~paddle_lr.schedules.lowerings.MAX_TABULATED_COUNTERS`.

    Returns:
        In static mode the float32 [1] lr tensor; in dynamic mode the dygraph twin.
    """
    if horizon is not None:
        checked = check_spec(spec)  # every argument, before the horizon and before any op
        begin = counter_begin(checked)
        last = rules.integer("horizon", horizon, low=begin, high=MAX_TABULATED_COUNTERS)
        if not paddle.in_dynamic_mode():
            values = _reference(checked, np.arange(last + 1, dtype=np.int64), GRAPH_KERNELS)
            counter = autoincreased_step_counter(LR_DECAY_COUNTER, begin=begin, step=1)
            with ir.schedule_guard():
                return tables.dense(counter, values)
    schedule, args = _parse(spec)
    inner = args.get("learning_rate")
    if not isinstance(inner, Mapping):
        return schedule.build(**args)
    check_spec(spec)  # every argument, before any op is built
    args["learning_rate"] = build(inner)
    outer = schedule.build(**args)
    if not paddle.in_dynamic_mode() and not ir.same_value(outer, args["learning_rate"]):
        # The inner lr is ours alone: what of it the outer merged away (a lookup that
        # linear_lr_warmup took into its own) no longer runs.
        tables.release(args.pop("learning_rate"))
    return outer


def spec_of(scheduler, name="learning_rate") -> Dict[str, Any]:
    """The spec of one of this package's dygraph twins.

    Args:
        scheduler: a :class:`~paddle_lr.FluidScheduler` or :class:`~paddle_lr.WarmupPiecewiseDecay`.
        name (str): the argument it was given as, for the message.

    Returns:
        dict: its spec.
    """
    spec = getattr(scheduler, "spec", None)
    if spec is not None:
        return spec
    raise rules.ConfigTypeError(
        f"{name}: must be a number or one of paddle_lr's schedules (Paddle's own LRScheduler "
        f"classes count steps differently), got {type(scheduler).__name__}"
    )


_TABLE_HEADER = "| fluid name | computes (`step`: the decay counter, float32) | lowerings | dygraph twin | 2.x | 3.x |"


def markdown_table() -> str:
    """The docs table of every registered schedule (``docs/family.md`` holds it; a test compares).

    Returns:
        str: a Markdown table, one row per schedule, in registry order.
    """
    rows = [_TABLE_HEADER, "|---|---|---|---|---|---|"]
    for s in REGISTRY.values():
        begin = f" (first run: step {s.begin})" if s.begin else ""
        kernels = ", ".join(f"`{k}`" for k in s.kernels)
        fidelity = (f"≤ 2 ulp of the base lr, absolute (3.x's {kernels} rounds differently)"
                    if s.kernels else "0 ulp")
        rows.append(f"| `{s.name}` | `{s.summary}`{begin} | {s.lowerings} | `{s.twin}` | 0 ulp | {fidelity} |")
    return "\n".join(rows) + "\n"


def with_table(text: str) -> str:
    """``text`` (a Markdown document) with its schedule table replaced by :func:`markdown_table`'s.

    The table is the block of ``|`` lines under the table's header row; a document
    without one is returned unchanged. ``docs/family.md`` and ``README.md`` hold
    the table: ``tests/test_family_api.py`` checks them, and writes them with
    ``PADDLE_LR_WRITE_DOCS=1``.

    Args:
        text: the document.

    Returns:
        str: the document with the registry's table.
    """
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == _TABLE_HEADER)
    except StopIteration:
        return text
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "".join(lines[:start]) + markdown_table() + "".join(lines[end:])
