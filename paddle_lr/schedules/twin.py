"""The dygraph twin of every family schedule: an ``LRScheduler`` driven by the numpy reference.

Paddle's own dygraph classes that ``paddle.optimizer.lr.exponential_decay``
and its siblings return in dynamic mode change the meaning (see
``docs/family.md``); the twin keeps the graph's: after ``k`` calls of
:meth:`~paddle.optimizer.lr.LRScheduler.step` its value is the graph's value
at its ``k``-th run (0 = the first), i.e. the reference at counter value
``begin + k``.
"""
from typing import Any, Dict

import paddle

from .registry import _reference, check_spec, counter_begin, spec_of

__all__ = ["FluidScheduler", "twin_for"]


class FluidScheduler(paddle.optimizer.lr.LRScheduler):
    """A schedule spec stepped on the host, value for value the in-graph schedule.

    Args:
        spec (dict): ``{"fn": NAME, "args": {...}}`` (see :mod:`paddle_lr.schedules.registry`);
            ``args.learning_rate`` may be another spec.
        last_epoch (int): the run already done (-1 to start at the first run).
        verbose (bool): print the lr at each step (Paddle's option).

    >>> import paddle, paddle_lr
    >>> lr = paddle_lr.FluidScheduler({"fn": "exponential_decay",
    ...     "args": {"learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": True}})
    >>> values = []
    >>> for _ in range(5):
    ...     values.append(round(lr(), 6)); lr.step()
    >>> values
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, spec: Dict[str, Any], last_epoch: int = -1, verbose: bool = False) -> None:
        self.spec = check_spec(spec)
        self.begin = counter_begin(self.spec)
        first = float(_reference(self.spec, [self.begin])[0])
        super().__init__(learning_rate=first, last_epoch=last_epoch, verbose=verbose)

    def value_at_run(self, run: int) -> float:
        """The value at the ``run``-th run (0 = the first), as a Python float (exact float32)."""
        return float(_reference(self.spec, [self.begin + run])[0])

    def get_lr(self) -> float:
        """The value at the current run, ``self.last_epoch`` (0 after construction)."""
        return self.value_at_run(self.last_epoch)


def twin_for(name: str, args: Dict[str, Any]) -> FluidScheduler:
    """The twin of ``name(**args)``; a twin given as ``learning_rate`` is composed by its spec.

    Args:
        name (str): the fluid name.
        args (dict): the checked arguments.

    Returns:
        FluidScheduler.
    """
    args = dict(args)
    inner = args.get("learning_rate")
    if isinstance(inner, paddle.optimizer.lr.LRScheduler):
        args["learning_rate"] = spec_of(inner)
    return FluidScheduler({"fn": name, "args": args})
