"""The graph lowerings a schedule can be built with, and the policy that picks one.

``auto`` (the default)
    the cheapest lowering that gives the same values bit for bit: today
    ``branchless`` at every count, on both IRs. Measured against fluid 1.8.5's
    own graph (``tools/bench.py --fluid``, benchmarks/RESULTS.md), the lookup
    costs a fraction of fluid's per-step overhead where the Switch costs
    several times it (each case is a conditional block that runs every step).
``switch``
    fluid's own graph: a persistable lr written by a :class:`~paddle_lr.Switch`,
    one case per piece, for users who want fluid's ops as they were.
``branchless``
    no control flow: one lookup in persistable tables filled by the startup program.

The arithmetic schedules (no ``impl``) whose value stops changing at some step
(``exponential_decay`` and ``natural_exp_decay`` once it underflows to 0,
``polynomial_decay`` without ``cycle`` from ``decay_steps`` on) are built as
such a lookup too, every row computed with the running Paddle's kernels, when
they settle within :data:`MAX_TABULATED_COUNTERS` steps; the others, and a
``learning_rate`` that is another schedule's tensor, run their ops as fluid did
(:func:`paddle_lr.schedules.common.tabulate`).

With a training length known in advance, :func:`paddle_lr.schedules.registry.build`
``(spec, horizon=N)`` builds any spec as one ``index_select`` of the counter into
its values at the counters 0 to ``N`` (a run past ``N`` stops).
"""

import dataclasses
import warnings
from typing import Any, Callable

from ..graph import ir
from ..graph.switch import expected_memory
from ..rules import ScheduleWarning

__all__ = ["IMPLS", "AUTO", "SWITCH_MAX_CASES", "MAX_TABULATED_COUNTERS", "Lowering", "resolve_lowering",
           "warn_big_switch"]

IMPLS = ("auto", "switch", "branchless")


@dataclasses.dataclass(frozen=True)
class Lowering:
    """One way to build a schedule's graph, and what it reads.

    Attributes:
        build: ``build(step, **args)``: the schedule's ops on the decay counter's
            value, returning the float32 [1] lr.
        reads_counter: ``build`` takes the raw int64 counter (a branch-free
            lookup: no cast), not the float32 step.
    """

    build: Callable[..., Any]
    reads_counter: bool = False

AUTO = "branchless"
"""What ``impl="auto"`` (the default) builds, whatever the number of boundaries."""

MAX_TABULATED_COUNTERS = 1 << 20
"""The most steps an arithmetic schedule is evaluated over, at build time, to find where it settles:
its table holds one row per distinct value up to there (a schedule still changing past it runs its ops)."""

SWITCH_MAX_CASES = 100
"""The most boundaries an explicit ``impl="switch"`` builds without a warning.

Past this count a Switch's memory (quadratic in its cases on PIR) is quoted by
:class:`~paddle_lr.ScheduleWarning` with
:func:`paddle_lr.graph.switch.expected_memory` (:func:`warn_big_switch`). See
docs/scaling.md for the measurements.
"""


def resolve_lowering(impl: str, cases: int, name: str = "boundaries") -> str:
    """The lowering a schedule builds: ``impl``, with ``"auto"`` resolved.

    ``"auto"`` is :data:`AUTO` (``"branchless"``) at every count. An explicit
    ``"switch"`` past :data:`SWITCH_MAX_CASES` cases warns
    (:class:`~paddle_lr.ScheduleWarning`, naming ``name``) with the expected
    memory, before any op is built.

    Args:
        impl (str): ``"auto"``, ``"switch"`` or ``"branchless"`` (checked by the caller).
        cases (int): the number of boundaries.
        name (str): the argument or cfg key that holds them, for the message.

    Returns:
        str: ``"switch"`` or ``"branchless"``.

    >>> resolve_lowering("auto", 2), resolve_lowering("auto", 2000), resolve_lowering("switch", 2)
    ('branchless', 'branchless', 'switch')
    """
    if impl == "auto":
        return AUTO
    if impl == "switch":
        warn_big_switch(name, cases, stacklevel=4)
    return impl


def warn_big_switch(name: str, cases: int, option: str = "impl", stacklevel: int = 2) -> bool:
    """The one warning for a Switch of more than :data:`SWITCH_MAX_CASES` cases, asked for explicitly.

    Args:
        name (str): the argument or cfg key holding the boundaries.
        cases (int): how many.
        option (str): the argument or cfg key that asked for the Switch
            (``impl``, or a cfg's ``lr_impl``).
        stacklevel (int): for :func:`warnings.warn`, from the caller.

    Returns:
        bool: whether it warned (:class:`~paddle_lr.ScheduleWarning`).
    """
    if cases <= SWITCH_MAX_CASES:
        return False
    warnings.warn(
        f"{name}: {cases} boundaries as a Switch ({option}='switch') need about "
        f"{expected_memory(cases):.1f} GB and a first run that grows with their square "
        f"on this Paddle ({ir.ir_name()} IR); {option}='auto' (the default, the branch-free "
        f"lookup) gives the same values in constant memory",
        ScheduleWarning,
        stacklevel=stacklevel,
    )
    return True
