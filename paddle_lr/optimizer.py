"""Momentum that takes the in-graph learning-rate tensor, with fluid's keywords."""
import paddle

from . import rules
from .graph import ir

__all__ = ["Momentum", "L2Decay"]


class L2Decay(paddle.regularizer.L2Decay):
    """Paddle's ``L2Decay`` that also takes fluid's ``regularization_coeff=`` keyword.

    Args:
        coeff (float): the L2 coefficient (``weight_decay``), >= 0.
        regularization_coeff (float): fluid's name for ``coeff``; give one of the two.
    """

    def __init__(self, coeff=None, regularization_coeff=None):
        if coeff is not None and regularization_coeff is not None:
            raise rules.ConfigError(
                "L2Decay: give coeff or regularization_coeff, not both, "
                f"got {coeff!r} and {regularization_coeff!r}"
            )
        value = regularization_coeff if coeff is None else coeff
        super().__init__(rules.real("coeff", 0.0 if value is None else value, low=0.0))


class Momentum(paddle.optimizer.Momentum):
    """``paddle.optimizer.Momentum`` that also accepts a learning-rate tensor.

    In a static program, ``learning_rate`` may be the float32 [1] tensor that
    :func:`paddle_lr.exponential_with_warmup_decay` returns; the momentum op then
    reads it at every step. Floats and ``LRScheduler`` objects work as in Paddle.

    Args:
        learning_rate (float, LRScheduler or tensor): the learning rate.
        momentum (float): the momentum factor, in [0, 1).
        parameters (list, optional): the parameters to update (dygraph); all
            trainable parameters of the program by default (static).
        use_nesterov (bool): use Nesterov momentum.
        regularization (L2Decay, optional): fluid's keyword, an alias of ``weight_decay``.
        weight_decay (L2Decay or float, optional): L2 decay, fused into the momentum op.
        grad_clip (optional): gradient clipping, as in Paddle.
        name (str, optional): the name prefix of the optimizer's accumulators.
    """

    def __init__(
        self,
        learning_rate,
        momentum,
        parameters=None,
        use_nesterov=False,
        regularization=None,
        weight_decay=None,
        grad_clip=None,
        name=None,
    ):
        if regularization is not None and weight_decay is not None:
            raise rules.ConfigError(
                "Momentum: give regularization or weight_decay, not both, "
                f"got {regularization!r} and {weight_decay!r}"
            )
        momentum = rules.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self._lr_tensor = None
        if ir.is_static_value(learning_rate):
            if learning_rate.dtype != paddle.float32:
                raise rules.ConfigTypeError(
                    f"learning_rate: a tensor learning rate must be float32, got {learning_rate.dtype}"
                )
            self._lr_tensor, learning_rate = learning_rate, 0.0
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            parameters=parameters,
            use_nesterov=use_nesterov,
            weight_decay=regularization if weight_decay is None else weight_decay,
            grad_clip=grad_clip,
            name=name,
        )

    def _create_global_learning_rate(self):
        if self._lr_tensor is None:
            return super()._create_global_learning_rate()
        self._learning_rate_map[paddle.static.default_main_program()] = self._lr_tensor
        return None

    def get_lr(self):
        """The current learning rate (float or scheduler learning rates only).

        Returns:
            float: the learning rate.
        """
        if self._lr_tensor is not None:
            raise TypeError(
                "get_lr: the learning rate is an in-graph tensor; fetch it with Executor.run"
            )
        return super().get_lr()
