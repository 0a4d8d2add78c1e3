"""Fluid's ``Switch``: ordered cases, the first true one runs, else the default."""
import contextlib
import contextvars
import functools

from typing import Any, List, Optional, Tuple

import paddle

from ..rules import ConfigError
from . import ir

__all__ = ["Switch", "expected_memory"]


def _check_condition(condition):
    if not ir.is_static_value(condition):
        raise TypeError(
            f"Switch.case: condition must be a static-graph tensor, got {type(condition).__name__}"
        )
    if condition.dtype != paddle.bool:
        raise TypeError(f"Switch.case: condition must be bool, got dtype {condition.dtype}")
    numel = functools.reduce(lambda a, b: a * b, condition.shape, 1)
    if numel != 1:
        raise TypeError(
            f"Switch.case: condition must hold one element, got shape {list(condition.shape)}"
        )


class Switch:
    """Ordered conditional cases for a static program, as ``fluid.layers.Switch``.

    Cases are tried in the order they are written; the first whose condition
    holds runs and the others do not (their ops are not executed). ``default``
    runs when no case did. Write results with ``paddle.assign(x, output=var)``
    to a tensor created outside the switch.

    Example::

        lr = paddle_lr.ir.persistable_float("lr")
        with Switch() as switch:
            with switch.case(step < warmup):
                paddle.assign(ramp, output=lr)
            with switch.default():
                paddle.assign(base, output=lr)

    Cost: each case is one conditional block (``pd_op.if`` on PIR,
    ``conditional_block`` in the legacy IR) behind two boolean ops (fluid used
    three). On PIR every branch of every ``pd_op.if`` runs in a sub-interpreter
    of its own, with its own threads, that copies the value maps of the block
    around it; a Switch of N cases therefore needs memory and a first run that
    grow with N times the values around it, i.e. with N**2 for a schedule (see
    :func:`expected_memory` and docs/scaling.md). Schedules with many
    boundaries use a branch-free lowering instead (``impl="auto"``).

    Args:
        name (str, optional): kept for fluid compatibility; unused.
    """

    def __init__(self, name: Optional[str] = None) -> None:
        self.name = name
        self.inside_scope = False
        self.pre_not_conditions: List[Any] = []
        self.has_default = False
        self._token: Any = None

    def _check_open(self, what):
        """``what`` (``case``/``default``) is called inside this Switch's ``with``, the innermost one
        open, and before its default; fluid let a misplaced case run and overwrite the others."""
        if not self.inside_scope:
            raise ValueError(f"Switch.{what}: must be called inside 'with Switch() as switch:'")
        if _OPEN.get()[-1] is not self:
            raise ConfigError(f"Switch.{what}: must be of the innermost Switch open, got one of an outer Switch")
        if self.has_default:
            raise ConfigError(f"Switch.{what}: must come before the Switch's default(), got a {what} after it")

    def case(self, condition):
        """A block that runs when ``condition`` holds and no earlier case did.

        Args:
            condition: a bool tensor with one element.

        Returns:
            A context manager for the case body.
        """
        self._check_open("case")
        _check_condition(condition)
        with ir.schedule_guard():
            if not self.pre_not_conditions:
                taken = condition
                self.pre_not_conditions.append(paddle.logical_not(condition))
            else:
                # "no earlier case held, and this one does" and "none held so
                # far": fluid spent three ops per case (not, and, and); these
                # two compute the same booleans, since pre & ~c == pre ^ (pre & c).
                pre_not = self.pre_not_conditions[-1]
                taken = paddle.logical_and(pre_not, condition)
                self.pre_not_conditions.append(paddle.logical_xor(pre_not, taken))
        return self._block(taken)

    def default(self):
        """A block that runs when no case's condition held.

        Returns:
            A context manager for the default body.
        """
        self._check_open("default")
        if not self.pre_not_conditions:
            raise ValueError("Switch.default: there should be at least one case before default")
        self.has_default = True
        return self._block(self.pre_not_conditions[-1])

    @staticmethod
    @contextlib.contextmanager
    def _block(cond):
        with ir.schedule_guard(), ir.conditional_block(cond):
            yield

    def __enter__(self):
        self.inside_scope = True
        self._token = _OPEN.set(_OPEN.get() + (self,))
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.inside_scope = False
        _OPEN.reset(self._token)
        return False


# The Switches whose ``with`` is open, innermost last.
_OPEN: "contextvars.ContextVar[Tuple[Any, ...]]" = contextvars.ContextVar("paddle_lr_open_switches", default=())


# -- what a Switch with many cases costs (the policy that uses it: schedules/lowerings.py) --


# Peak resident memory (GB) of building and running once the Switch of
# exponential_with_warmup_decay with N boundaries, alone in a process:
# a + b*N + c*N**2, fitted to benchmarks/scale_<version>.json (3.3.1: 0.81 GB
# at 250 and 1.88 GB at 500 boundaries, killed past 4 GB at 1000; 2.6.2: 0.52,
# 0.91 and 2.05 GB at 250, 500 and 1000, killed past 4 GB at 2000). PIR runs
# each branch of each pd_op.if in a sub-interpreter of its own (threads
# included) that copies the enclosing block's value maps, hence the N**2 term.
_MEMORY_MODEL = {"pir": (0.30, 9.0e-4, 4.5e-6), "legacy": (0.26, 8.1e-4, 9.8e-7)}


def expected_memory(cases: int) -> float:
    """The peak resident memory, in GB, of a Switch with ``cases`` cases, run once.

    A fit of this Paddle's IR's measurements (a schedule alone in a process,
    CPU); a model with many values of its own adds to it.

    Args:
        cases (int): the number of cases (boundaries of a schedule).

    Returns:
        float: gigabytes.

    >>> expected_memory(10) < expected_memory(1000)
    True
    """
    a, b, c = _MEMORY_MODEL[ir.ir_name()]
    return a + b * cases + c * cases * cases
