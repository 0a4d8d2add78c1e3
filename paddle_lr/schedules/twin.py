"""The dygraph twin of every family schedule: an ``LRScheduler`` driven by the numpy reference.

Paddle's own dygraph classes that ``paddle.optimizer.lr.exponential_decay``
and its siblings return in dynamic mode change the meaning (see
``docs/family.md``); the twin keeps the graph's: after ``k`` calls of
:meth:`~paddle.optimizer.lr.LRScheduler.step` its value is the graph's value
at its ``k``-th run (0 = the first), i.e. the reference at counter value
``begin + k``.

Every argument a twin takes goes through :mod:`paddle_lr.rules`, as the
static function's do, before anything is built or changed: the schedule's own
(its check), ``last_epoch`` and ``epoch`` (whole runs from -1, resp. 0, to
:data:`~paddle_lr.rules.MAX_ITERATIONS`, as the config's ``max_iter``),
``verbose`` (a bool) and a ``set_state_dict`` state (``last_epoch`` as above,
``last_lr`` a finite float32 >= 0).
"""
from typing import Any, Dict, Mapping, Optional

import paddle

from .. import rules
from .registry import _reference, check_spec, counter_begin, spec_of

__all__ = ["TwinScheduler", "FluidScheduler", "twin_for"]


def _run(name: str, value: Any, low: int) -> int:
    return rules.integer(name, value, low=low, high=rules.MAX_ITERATIONS)


class TwinScheduler(paddle.optimizer.lr.LRScheduler):
    """What the twins share: Paddle's ``LRScheduler`` with every argument checked by the rules.

    Args:
        first (float): the lr of the first run (checked by the subclass, with the schedule).
        last_epoch (int): the run already done (-1 to start at the first run).
        verbose (bool): print the lr at each step (Paddle's option).
    """

    def __init__(self, first: float, last_epoch: int = -1, verbose: bool = False):
        last_epoch = _run("last_epoch", last_epoch, -1)
        verbose = rules.boolean("verbose", verbose)
        super().__init__(learning_rate=first, last_epoch=last_epoch, verbose=verbose)

    def step(self, epoch: Optional[int] = None) -> None:
        """Go to the next run, or to run ``epoch`` (0 to :data:`~paddle_lr.rules.MAX_ITERATIONS`)."""
        super().step(None if epoch is None else _run("epoch", epoch, 0))

    def set_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s ``last_epoch`` and ``last_lr``, each checked first."""
        if not isinstance(state_dict, Mapping):
            raise rules.ConfigTypeError(f"state_dict: must be a mapping (a scheduler's state_dict()), "
                                        f"got {rules.shown(state_dict)}")
        missing = [key for key in ("last_epoch", "last_lr") if key not in state_dict]
        if missing:
            raise rules.ConfigError(f"state_dict: must hold last_epoch and last_lr, got keys "
                                    f"{rules.shown(sorted(map(str, state_dict)))}")
        checked = dict(state_dict, last_epoch=_run("state_dict.last_epoch", state_dict["last_epoch"], -1),
                       last_lr=rules.float32("state_dict.last_lr", state_dict["last_lr"], low=0.0))
        super().set_state_dict(checked)

    set_dict = set_state_dict  # Paddle's alias, bound to this class's method


class FluidScheduler(TwinScheduler):

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
        super().__init__(self._value(0), last_epoch=last_epoch, verbose=verbose)

    def value_at_run(self, run: int) -> float:
        """The value at the ``run``-th run (0 = the first, at most :data:`~paddle_lr.rules.MAX_ITERATIONS`),
        as a Python float (exact float32)."""
        return self._value(_run("run", run, 0))

    def _value(self, run: int) -> float:
        return float(_reference(self.spec, [self.begin + run])[0])

    def get_lr(self) -> float:
        """The value at the current run, ``self.last_epoch`` (0 after construction)."""
        return self._value(self.last_epoch)


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
