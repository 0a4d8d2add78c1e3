"""Persistable lookup tables for the branch-free lowerings, recognisable by their names.

A table is a persistable float32 (or int64) vector that the startup program
fills once and the main program only reads (``searchsorted`` /
``index_select``; and the one-element constants of :func:`constant` and
:func:`scale`, which would otherwise be ops of every run). Its contents are a function of the schedule alone, so they
are never state to restore from a checkpoint: they are derived. To let any
code that holds only the program (a clone, :func:`paddle_lr.load_checkpoint`,
a resume) rewrite them, a table's persistable name says what it holds::

    paddle_lr_table_<sha1 of dtype, shape and bytes, 16 hex>[_<n>]

and this module keeps, per process, the contents of every digest it has
built. Nothing is stored on Paddle's objects. A checkpoint made with another
schedule holds tables of other names, which loaders skip (:func:`is_table`);
a plain ``paddle.static.load`` of such a checkpoint fails on the missing
names instead of silently running the old schedule.
"""
import hashlib
import re
from typing import Dict, List

import numpy as np
import paddle
from paddle.nn.initializer.constant import ConstantInitializer
from paddle.utils import unique_name

from .. import rules
from . import ir
from .counter import LR_DECAY_COUNTER

__all__ = ["PREFIX", "create", "is_table", "contents", "names", "rewrite", "step_thresholds", "lookup", "dense", "row", "select", "append",
           "prepend", "release", "constant", "scale", "LAST_EXACT_STEP", "MAX_TABULATED_WARMUP"]

PREFIX = "paddle_lr_table_"
_NAME = re.compile(rf"^{PREFIX}([0-9a-f]{{16}})(?:_\d+)?$")
_CONTENTS: Dict[str, np.ndarray] = {}


def _digest(array: np.ndarray) -> str:
    h = hashlib.sha1()
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def create(array: np.ndarray, cpu: bool = False):
    """A persistable, non-trainable table holding ``array``, filled by the startup program.

    Args:
        array (numpy.ndarray): a float32 or int64 vector.
        cpu (bool): on the CPU place (one float32 element only: an op's scalar
            operand, as fluid's ``force_cpu`` constants were), not the executor's.

    Returns:
        The table tensor of the main program.
    """
    array = np.ascontiguousarray(array)
    digest = _digest(array)
    _CONTENTS[digest] = array
    if cpu:
        if array.shape != (1,) or array.dtype != np.float32:
            raise ValueError(f"create: a CPU table holds one float32, got {array.dtype} {list(array.shape)}")
        init = ConstantInitializer(float(array[0]), force_cpu=True)
    else:
        init = _ArrayInitializer(array)
    return ir.persistable_table(list(array.shape), str(array.dtype), unique_name.generate(PREFIX + digest), init)


class _ArrayInitializer(paddle.nn.initializer.Assign):
    """Paddle's ``Assign`` initializer, int64 arrays included (``Assign`` refuses them).

    The startup program gets one ``assign_value`` op holding the array, built
    by ``paddle.assign``, which writes int64 values on both IRs.
    """

    def forward(self, var, block=None):
        if self._value.dtype != np.int64:
            return super().forward(var, block)
        block = self._check_block(block)
        with paddle.static.program_guard(block.program):
            if isinstance(var, paddle.static.Variable):  # legacy: write the parameter's variable
                return paddle.assign(self._value, output=var).op
            # PIR: the value that set_parameter stores, made as Assign makes its own
            from paddle import _C_ops
            from paddle.base.framework import _current_expected_place

            return _C_ops.assign_value(
                list(self._value.shape), var.dtype, [int(v) for v in self._value.flat], _current_expected_place()
            )


def is_table(name: str) -> bool:
    """Whether a persistable's name is a branch-free table's."""
    return _NAME.match(name) is not None


def contents(name: str) -> np.ndarray:
    """The contents of the table ``name``, as built in this process.

    Raises:
        KeyError: no schedule in this process built a table of that name.
    """
    match = _NAME.match(name)
    if match is None or match.group(1) not in _CONTENTS:
        raise KeyError(f"{name}: no branch-free table of that name was built in this process")
    return _CONTENTS[match.group(1)]


def names(program) -> List[str]:
    """The tables of ``program`` (its persistables named as tables), sorted."""
    return sorted(name for name in ir.persistables(program) if is_table(name))


def rewrite(program, scope=None) -> List[str]:
    """Write every table of ``program`` into ``scope`` from its name.

    Loaders call this after restoring a checkpoint (:func:`paddle_lr.load_checkpoint`
    and the trainer's resume do), so that the program's own schedule applies.

    Args:
        program: a main program.
        scope (optional): the scope holding its persistables; the global scope by default.

    Returns:
        list[str]: the names of the tables written.
    """
    scope = scope or paddle.static.global_scope()
    written = names(program)
    for name in written:
        tensor = scope.find_var(name).get_tensor()
        place = tensor._place()
        place = paddle.CUDAPlace(place.gpu_device_id()) if place.is_gpu_place() else paddle.CPUPlace()
        tensor.set(contents(name), place)
    return written


# -- constants, filled once ------------------------------------------------------

def constant(value: float):
    """A float32 [1] table holding ``value`` (on the executor's place), filled by the startup program.

    What fluid's ``fill_constant`` made in every run: the same float32 value,
    with no op left in the main program.
    """
    return create(np.asarray([value], dtype=np.float32))


def scale(x, factor: float, bias: float = 0.0):
    """Paddle's ``scale`` op on the static value ``x``: ``float32(factor) * x + float32(bias)``.

    Where the IR takes the factor as an operand (PIR), given as a number it is a
    ``full`` op that runs with every run; here it is a one-element CPU table
    filled by the startup program (:func:`paddle_lr.graph.ir.scale_factor_is_operand`):
    the kernel reads the same float32 factor either way. Elsewhere (legacy) the
    factor is the op's float32 attribute.
    """
    if ir.scale_factor_is_operand():
        factor = create(np.asarray([factor], dtype=np.float32), cpu=True)
    else:
        factor = float(factor)
    return paddle.scale(x, scale=factor, bias=float(bias), bias_after_scale=True)


# -- the lookup that the branch-free lowerings share ---------------------------

# The largest counter the lookup tells apart: PIR's assign_value carries int64
# table entries through a double, exact up to 2**53 (about 9e15 steps).
LAST_EXACT_STEP = 2 ** 53

MAX_TABULATED_WARMUP = 1 << 16
"""The longest warmup, in steps, that a branch-free lowering tabulates (one table row
per warmup step, built once by the startup program); a longer one is computed in
the graph from the float32 step and chosen with ``where``."""


def step_thresholds(bounds) -> np.ndarray:
    """The int64 counter values at which ``float32(counter) < bound`` turns false.

    Fluid compares the counter cast to float32 with a float32 boundary. That
    cast is monotone in the counter, so for each float32 ``bound`` there is a
    smallest counter ``t`` with ``float32(t) >= bound``, and
    ``float32(k) < bound`` holds exactly when ``k < t``, for every int64 ``k``
    (past 2**24, where neighbouring counters share a float32 and a boundary
    fires a step early, included). Comparing the raw counter with ``t`` is
    therefore the same test without the cast. ``+inf`` (and anything past the
    int64 range) gives the largest int64, which no counter passes.

    Args:
        bounds: float32 values (rounded to float32 first), in any order.

    Returns:
        numpy.ndarray: int64, one threshold per bound.

    >>> step_thresholds([3, 2.5, 0, 16777217]).tolist()
    [3, 3, 0, 16777216]
    """
    bounds = np.asarray(bounds, dtype=np.float32)
    out = np.empty(bounds.shape, dtype=np.int64)
    for i, bound in enumerate(bounds.ravel()):
        out.flat[i] = _threshold(bound)
    return out


def _threshold(bound: np.float32) -> int:
    if np.isnan(bound):
        raise ValueError(f"step_thresholds: a bound is nan, got {bound!r}")
    # (float32 rounds INT64_MAX up to the next power of two, where no int64 is)
    if bound > np.float32(rules.INT64_MAX):
        return rules.INT64_MAX
    if bound <= np.float32(rules.INT64_MIN):
        return rules.INT64_MIN
    # float32(k) >= bound is monotone in k: bisect on the exact int64 -> float32 cast.
    lo, hi = rules.INT64_MIN, min(int(np.ceil(np.float64(bound))), rules.INT64_MAX)  # float32(hi) >= bound
    while lo < hi:
        mid = (lo + hi) // 2
        if np.float32(np.int64(mid)) >= bound:
            hi = mid
        else:
            lo = mid + 1
    return lo


def lookup(counter, thresholds, values):
    """``values[j]`` for the row ``j`` of the int64 ``counter``: one search and one select.

    Row ``j`` holds while ``thresholds[j - 1] <= counter < thresholds[j]``
    (row 0 below ``thresholds[0]``, the last row from ``thresholds[-1]`` on),
    i.e. ``j`` is the number of thresholds at or below the counter. Exact for
    every counter below :data:`LAST_EXACT_STEP` (2**53): thresholds past it are
    stored as 2**53, which no smaller counter reaches either. Both
    arrays become persistable tables (:func:`create`) that the startup program
    fills once; per run that is ``searchsorted`` on the raw counter and
    ``index_select``: no cast, no control flow, whatever the number of rows.

    Args:
        counter: the int64 [1] step counter (read after its increment).
        thresholds: int64, sorted, one fewer than ``values`` (may be empty).
        values: float32 row values.

    Returns:
        The float32 [1] value.
    """
    thresholds = np.asarray(thresholds, dtype=np.int64)
    values = np.asarray(values, dtype=np.float32)
    if len(values) != len(thresholds) + 1 or np.any(np.diff(thresholds) < 0):
        raise ValueError(
            f"lookup: thresholds must be sorted and one fewer than values, got {len(thresholds)} "
            f"thresholds and {len(values)} values"
        )
    return select(create(values), row(counter, thresholds))


def dense(counter, values):
    """``values[counter]``: one ``index_select`` on the raw int64 counter, no search.

    One row per counter from 0 to ``len(values) - 1`` (a finite horizon, as
    :func:`paddle_lr.schedules.registry.build` builds with ``horizon=``). Past
    the last row the run stops with Paddle's own error (``index_select``:
    "expected ... < len(values), but got <counter>") instead of giving a value
    the schedule does not hold; no counter of a run is negative (2.x refuses
    one too, 3.x reads it from the end).

    Args:
        counter: the int64 [1] step counter (read after its increment).
        values: float32, the value at each counter from 0.

    Returns:
        The float32 [1] value.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 1 or not len(values):
        raise ValueError(f"dense: values must be a non-empty vector, got shape {list(values.shape)}")
    return select(create(values), counter)


def row(counter, thresholds):
    """The int64 [1] row of ``counter``: how many ``thresholds`` are at or below it (one op).

    Args:
        counter: the int64 [1] step counter.
        thresholds: int64, sorted.

    Returns:
        The int64 [1] row index, for :func:`select`.
    """
    return paddle.searchsorted(create(_bounds(thresholds)), counter, right=True)


def _bounds(thresholds) -> np.ndarray:
    """The table :func:`row` searches: the thresholds, capped at :data:`LAST_EXACT_STEP`, and one more.

    The trailing threshold, which no counter reaches, keeps the table non-empty
    (searchsorted needs one); it is never counted, so the rows do not change.
    """
    thresholds = np.asarray(thresholds, dtype=np.int64)
    return np.minimum(np.append(thresholds, LAST_EXACT_STEP), LAST_EXACT_STEP)


def append(array, value):
    """The table ``array`` followed by the computed float32 [1] ``value`` (one ``concat`` per run).

    On PIR concat's axis is an operand: given as a number it would add a
    ``full`` op to every run, so it is a one-element int64 table instead.

    Args:
        array (numpy.ndarray): float32 rows.
        value: a float32 [1] tensor of the main program.

    Returns:
        The float32 vector, for :func:`select`.
    """
    axis = create(np.zeros([1], np.int64)) if ir.axis_is_operand() else 0
    return paddle.concat([create(np.asarray(array, np.float32)), value], axis=axis)


def select(table, index):
    """``table[index]`` as a [1] tensor (one op).

    Args:
        table: a float32 vector (a table, or a concatenation with a computed value).
        index: the int64 [1] row from :func:`row`.

    Returns:
        The float32 [1] value.
    """
    # index_select rather than gather: PIR's gather adds a per-step op for its axis.
    return paddle.index_select(table, index)


def prepend(value, head):
    """``head[c]`` at the counters ``c < len(head)``, ``value`` from there on, as one lookup; or None.

    ``value`` must be a lookup of this module on the decay counter (a
    branch-free schedule's lr: :func:`lookup`'s ops, found in the program by
    :func:`paddle_lr.graph.ir.find_lookup`) whose row only selects of tables
    of this module read, with thresholds >= 1 (so that every counter below 1 is in its first row, as in
    ``head``'s). Otherwise, or when its tables were not built in this process,
    this returns None and builds nothing.

    The result is one table of ``head`` followed by the rows of ``value`` past
    ``len(head)`` (the same float32 entries: bit for bit what selecting between
    the two gives), searched by ``value``'s own ``searchsorted`` op, now over
    the merged thresholds; ``value``'s ``index_select`` reads that same row from
    a table of its own values per merged row, so ``value`` itself keeps its
    values for any other reader. Per run: one search and two selects, the
    second of which :func:`release` removes when nothing reads ``value``.

    Args:
        value: a float32 [1] lr tensor of the program being built.
        head (numpy.ndarray): float32, the rows of the counters 0 .. len(head) - 1.

    Returns:
        The float32 [1] tensor, or None.
    """
    found = ir.find_lookup(value)
    if found is None or found.counter != LR_DECAY_COUNTER:
        return None
    named = [(op, ir.selected_table(op, found.row_value)) for op in ir.readers(found.row_value)]
    selects = [(op, name) for op, name in named if name is not None]
    if len(selects) != len(named):  # another op reads the row
        return None
    try:
        bounds = contents(found.thresholds)
        rows_of = [(op, contents(name)) for op, name in selects]
    except KeyError:  # not built in this process
        return None
    thresholds = bounds[:-1]
    if any(len(rows) != len(bounds) for _, rows in rows_of) or (len(thresholds) and thresholds[0] < 1):
        return None
    head = np.asarray(head, dtype=np.float32)
    count = len(head)
    past = int(np.searchsorted(thresholds, count, side="right"))  # the thresholds at or below len(head)
    at_head = np.searchsorted(thresholds, np.arange(count), side="right")  # the rows of the counters 0 .. count - 1
    ir.set_input(found.row, 0, create(_bounds(np.concatenate([np.arange(1, count + 1), thresholds[past:]]))))
    for op, rows in rows_of:  # each select of the row keeps its values, now per merged row
        ir.set_input(op, 0, create(np.concatenate([rows[at_head], rows[past:]])))
    fused = select(create(np.concatenate([head, contents(found.values)[past:]])), found.row_value)
    for name in [found.thresholds] + [name for _, name in selects]:  # unread now: not saved, not rewritten
        ir.drop_persistable(paddle.static.default_main_program(), name)
    return fused


def release(value) -> bool:
    """Remove the lookup that computes ``value`` when no op reads ``value`` (and its tables, when unread).

    For an inner schedule that this package built and nobody else holds
    (:func:`paddle_lr.schedules.registry.build`): after :func:`prepend` its
    ``index_select`` is the one op left of it. ``value`` must not be used afterwards.

    Returns:
        bool: whether anything was removed.
    """
    found = ir.find_lookup(value)
    if found is None or ir.readers(value):
        return False
    program = paddle.static.default_main_program()
    ir.remove_op(found.select)
    ir.drop_persistable(program, found.values)
    if not ir.readers(found.row_value):
        ir.remove_op(found.row)
        ir.drop_persistable(program, found.thresholds)
    return True
