"""Fluid's persistable global step counters, on both static IRs."""
from typing import Any, Optional

import paddle

from .. import rules
from . import ir

__all__ = ["autoincreased_step_counter", "decay_step_counter", "LR_DECAY_COUNTER"]

LR_DECAY_COUNTER = "@LR_DECAY_COUNTER@"
_STEP_COUNTER = "@STEP_COUNTER@"


def _check_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: must be an int, got {value!r}")


def autoincreased_step_counter(counter_name: Optional[str] = None, begin: int = 1, step: int = 1) -> Any:
    """A persistable int64 [1] counter that every run of the main program advances.

    The counter is created once per program (a second call with the same name
    returns it and adds nothing), starts at ``begin - 1`` and is incremented by
    ``step`` at the very start of every run, so the first run sees ``begin``
    (``begin - 1 + step`` for another step, as in fluid).
    It is saved and restored with the program's persistables.

    Args:
        counter_name (str, optional): its persistable name; ``@STEP_COUNTER@`` by default.
        begin (int): the value the first run sees (with ``step=1``).
        step (int): the increment per run.

    Returns:
        The int64 [1] counter tensor, to be read after the increment.
    """
    if counter_name is not None and not isinstance(counter_name, str):
        raise TypeError(f"counter_name: must be a str, got {counter_name!r}")
    _check_int("begin", begin)
    _check_int("step", step)
    rules.integer("begin", begin, low=rules.INT64_MIN + 1, high=rules.INT64_MAX)  # the counter starts at begin - 1
    rules.integer("step", step, low=rules.INT64_MIN, high=rules.INT64_MAX)
    ir.require_static("autoincreased_step_counter")
    counter, _ = ir.step_counter(counter_name or _STEP_COUNTER, begin, step)
    return counter


def decay_step_counter(begin: int = 0) -> Any:
    """The learning-rate decay counter ``@LR_DECAY_COUNTER@``, read as float32.

    Args:
        begin (int): the step the first run sees (0 for the decay counter).

    Returns:
        The float32 [1] step, cast from the int64 counter.
    """
    ir.require_static("decay_step_counter")
    counter = autoincreased_step_counter(LR_DECAY_COUNTER, begin=begin, step=1)
    with ir.schedule_guard():
        return paddle.cast(counter, "float32")
