"""Builders: a validated cfg to the schedule and the optimizer, as the training scripts did by hand."""
import warnings

import paddle

from .. import rules
from ..optimizer import L2Decay, Momentum
from ..schedules.warmup_piecewise import WarmupPiecewiseDecay, boundary_values, exponential_with_warmup_decay

__all__ = ["schedule_args", "build_lr", "build_optimizer"]


def schedule_args(config):
    """The arguments of the schedule (and of :func:`~paddle_lr.lr_at`) for a cfg.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        dict: ``learning_rate``, ``boundaries``, ``values``, ``warmup_iter``,
        ``warmup_factor``; ``values`` is ``lr_values`` or, as the original,
        ``[learning_rate * lr_gamma ** i ...]``.
    """
    values = config.lr_values
    if values is None:
        values = boundary_values(config.learning_rate, config.lr_gamma, len(config.lr_steps))
    return dict(
        learning_rate=config.learning_rate,
        boundaries=list(config.lr_steps),
        values=list(values),
        warmup_iter=config.warm_up_iter,
        warmup_factor=config.warm_up_factor,
    )


def build_lr(config):
    """The learning rate of a cfg: the in-graph tensor (static) or the dygraph twin.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        In static mode, the float32 [1] tensor of
        :func:`~paddle_lr.exponential_with_warmup_decay` (lowering ``cfg.lr_impl``);
        in dygraph mode, a :class:`~paddle_lr.WarmupPiecewiseDecay`.
    """
    with warnings.catch_warnings():
        # validate() already warned about this schedule, under the cfg's key names.
        warnings.simplefilter("ignore", rules.ScheduleWarning)
        if paddle.in_dynamic_mode():
            return WarmupPiecewiseDecay(**schedule_args(config))
        return exponential_with_warmup_decay(**schedule_args(config), impl=config.lr_impl)


def build_optimizer(config, lr, parameters=None):
    """``Momentum(lr, cfg.momentum, regularization=L2Decay(cfg.weight_decay))``.

    Args:
        config (AttrDict): a validated cfg.
        lr: what :func:`build_lr` returned.
        parameters (list, optional): the parameters (required in dygraph mode).

    Returns:
        paddle_lr.Momentum: the optimizer.
    """
    return Momentum(
        learning_rate=lr,
        momentum=config.momentum,
        parameters=parameters,
        regularization=L2Decay(regularization_coeff=config.weight_decay),
    )
