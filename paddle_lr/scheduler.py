"""The dygraph twin of the static schedule: an ``LRScheduler`` over :func:`lr_at`."""
import paddle

from . import rules
from .reference import lr_at

__all__ = ["WarmupPiecewiseDecay"]


class WarmupPiecewiseDecay(paddle.optimizer.lr.LRScheduler):
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
        self, learning_rate, boundaries, values, warmup_iter, warmup_factor, last_epoch=-1, verbose=False
    ):
        self.schedule = rules.check_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor)
        super().__init__(learning_rate=self.schedule[0], last_epoch=last_epoch, verbose=verbose)

    def get_lr(self):
        """The learning rate of the current step.

        Returns:
            float: ``lr_at(self.last_epoch, ...)`` as a Python float (exact in float32).
        """
        return float(lr_at(self.last_epoch, *self.schedule))
