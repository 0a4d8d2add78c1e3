"""Fluid's ``Switch``: ordered cases, the first true one runs, else the default."""
import contextlib
import functools

import paddle

from . import ir

__all__ = ["Switch"]


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

    Args:
        name (str, optional): kept for fluid compatibility; unused.
    """

    def __init__(self, name=None):
        self.name = name
        self.inside_scope = False
        self.pre_not_conditions = []

    def case(self, condition):
        """A block that runs when ``condition`` holds and no earlier case did.

        Args:
            condition: a bool tensor with one element.

        Returns:
            A context manager for the case body.
        """
        if not self.inside_scope:
            raise ValueError("Switch.case: must be called inside 'with Switch() as switch:'")
        _check_condition(condition)
        with ir.schedule_guard():
            if not self.pre_not_conditions:
                taken = condition
                self.pre_not_conditions.append(paddle.logical_not(condition))
            else:
                pre_not = self.pre_not_conditions[-1]
                self.pre_not_conditions.append(
                    paddle.logical_and(pre_not, paddle.logical_not(condition))
                )
                taken = paddle.logical_and(pre_not, condition)
        return self._block(taken)

    def default(self):
        """A block that runs when no case's condition held.

        Returns:
            A context manager for the default body.
        """
        if not self.inside_scope:
            raise ValueError("Switch.default: must be called inside 'with Switch() as switch:'")
        if not self.pre_not_conditions:
            raise ValueError("Switch.default: there should be at least one case before default")
        return self._block(self.pre_not_conditions[-1])

    @staticmethod
    @contextlib.contextmanager
    def _block(cond):
        with ir.schedule_guard(), ir.conditional_block(cond):
            yield

    def __enter__(self):
        self.inside_scope = True
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.inside_scope = False
        return False
