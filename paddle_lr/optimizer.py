"""Paddle's optimizers that also take the in-graph learning-rate tensor.

Fluid's optimizers took the tensor a schedule returns (``piecewise_decay``,
a hand-written ``Switch`` schedule, ...) as ``learning_rate``; Paddle 2.x and
3.x take a float or an ``LRScheduler`` only. :class:`TensorLearningRate` is the
one mechanism that adds the tensor: mixed into a Paddle optimizer, it keeps
the tensor and hands it to the optimizer's ops where Paddle would have made
its own learning-rate variable. Everything else (the update kernels, the
accumulators, weight decay, ``LRScheduler`` and float learning rates) is
Paddle's own, so the updates are Paddle's bit for bit.

``SGD``, ``Momentum``, ``RMSProp``, ``Adam`` and ``AdamW`` are defined here
that way. The four fluid 1.8 had also take its keywords: ``regularization=``
(today's ``weight_decay``) and ``parameter_list=`` (today's ``parameters``);
``grad_clip=`` and ``name=`` are the same in both. Their accumulators carry
fluid 1.8's names (``fc_0.w_0_velocity_0``, ``fc_0.w_0_moment1_0``, ...), so
a fluid checkpoint restores them (:data:`FLUID_ACCUMULATORS`).
"""
import inspect
import math
import weakref
from typing import TYPE_CHECKING, Any, Optional

import paddle

from . import rules
from .graph import ir
from .graph.ir import quiet_place_warning  # for trainers that wrap these optimizers (the demo's fleet)

__all__ = ["quiet_place_warning", "TensorLearningRate", "SGD", "Momentum", "RMSProp", "Adam", "AdamW", "L2Decay",
           "FLUID_ACCUMULATORS", "set_gradient_clip"]

#: fluid 1.8's keyword -> today's, for the optimizers fluid had.
FLUID_KEYWORDS = {"regularization": "weight_decay", "parameter_list": "parameters"}

#: Each optimizer's accumulators, as ``<parameter>_<suffix>_0``: fluid 1.8.5's
#: name suffix -> Paddle 2.6.2's and 3.3.1's (measured: the same on all three).
#: AdamW's are Adam's; SGD has none. The step counter (``@LR_DECAY_COUNTER@``)
#: and the lr variables are the schedule's, not the optimizer's.
FLUID_ACCUMULATORS = {
    "Momentum": {"velocity": "velocity"},
    "Adam": {"moment1": "moment1", "moment2": "moment2",
             "beta1_pow_acc": "beta1_pow_acc", "beta2_pow_acc": "beta2_pow_acc"},
    "RMSProp": {"mean_square": "mean_square", "mean_grad": "mean_grad", "momentum": "momentum"},
    "SGD": {},
}


class L2Decay(paddle.regularizer.L2Decay):
    """Paddle's ``L2Decay`` that also takes fluid's ``regularization_coeff=`` keyword.

    Args:
        coeff (float): the L2 coefficient (``weight_decay``), >= 0.
        regularization_coeff (float): fluid's name for ``coeff``; give one of the two.
    """

    def __init__(self, coeff: Optional[float] = None, regularization_coeff: Optional[float] = None) -> None:
        value = rules.alias("L2Decay", "coeff", coeff, "regularization_coeff", regularization_coeff)
        name = "regularization_coeff" if coeff is None and regularization_coeff is not None else "coeff"
        super().__init__(rules.float32(name, 0.0 if value is None else value, low=0.0))


def _check_weight_decay(name, value):
    """None, a number >= 0 (finite in float32) or a ``paddle.regularizer`` instance (``L2Decay``)."""
    if value is None or isinstance(value, paddle.regularizer.WeightDecayRegularizer):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rules.float32(name, value, low=0.0)
    return rules.instance(name, value, paddle.regularizer.WeightDecayRegularizer,
                          "a number or a regularizer (paddle_lr.L2Decay, paddle.regularizer.L1Decay)")


def _check_lr_tensor(tensor):
    ir.check_current_program("learning_rate", tensor)
    if tensor.dtype != paddle.float32:
        raise rules.ConfigTypeError(
            f"learning_rate: a tensor learning rate must be float32, got {tensor.dtype}"
        )
    shape = [int(d) for d in tensor.shape]
    if math.prod(shape) != 1 or any(d < 0 for d in shape):
        raise rules.ConfigError(
            f"learning_rate: a tensor learning rate must hold one element, got shape {shape}"
        )
    return tensor


#: program -> the clip fluid's ``set_gradient_clip`` gave it, for the optimizers that minimize in it.
_PROGRAM_CLIPS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def set_gradient_clip(clip: Any, param_list: Any = None, program: Any = None) -> None:
    """fluid's ``set_gradient_clip``: the paddle_lr optimizers that minimize in ``program`` clip with ``clip``.

    Paddle 2.6 and 3.x keep ``paddle.nn.clip.set_gradient_clip``, but it marks
    the parameters of the legacy program: under PIR (3.x) it marks none and
    nothing is clipped. This one works on both: an optimizer of this module
    given no ``grad_clip=`` uses ``clip`` in the program's ``minimize``, as
    fluid's did (called before or after the optimizer is made, before
    ``minimize``).

    Args:
        clip (paddle.nn.ClipGradBase): e.g. ``paddle.nn.ClipGradByGlobalNorm(clip_norm=1.0)``.
        param_list: fluid's subset of parameters to clip; not taken (every parameter is).
        program (Program, optional): the program (the default main program).
    """
    if not isinstance(clip, paddle.nn.clip.ClipGradBase):
        raise rules.ConfigTypeError(
            f"set_gradient_clip: clip must be a paddle.nn.ClipGradBase (ClipGradByGlobalNorm, ...), "
            f"got {rules.shown(clip)}"
        )
    rules.refused("set_gradient_clip", "param_list", param_list,
                  "every parameter the optimizer updates is clipped; give grad_clip= to an optimizer instead")
    _PROGRAM_CLIPS[paddle.static.default_main_program() if program is None else program] = clip


if TYPE_CHECKING:  # the mixin calls the Paddle optimizer's methods (Paddle is Any to mypy)
    from typing import Any as _Optimizer
else:
    _Optimizer = object


class TensorLearningRate(_Optimizer):
    """Mixin for a Paddle optimizer: ``learning_rate`` may also be an in-graph float32 tensor.

    Put it before the Paddle optimizer in the bases
    (``class SGD(TensorLearningRate, paddle.optimizer.SGD)``). A static-graph
    tensor given as ``learning_rate`` (the first argument, or the keyword) is
    kept and used as the optimizer's global learning rate in the program where
    ``minimize`` builds the update ops; the Paddle optimizer is built as for a
    float learning rate of 0.0 that it never creates. A float or an
    ``LRScheduler`` goes to Paddle unchanged.

    Per-parameter learning rates (``ParamAttr(learning_rate=...)``) scale the
    tensor as they scale Paddle's own learning-rate variable.

    fluid 1.8's keywords (:data:`FLUID_KEYWORDS`) are taken for today's; both
    for one argument is a one-line :class:`~paddle_lr.ConfigError`.
    """

    #: fluid's keywords this optimizer takes (fluid 1.8 had no AdamW).
    fluid_keywords = FLUID_KEYWORDS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Show the Paddle optimizer's signature (the mixin's __init__ takes *args), and fluid's keywords.
        if "__init__" not in cls.__dict__:
            paddle_base = next(b for b in cls.__mro__ if b.__module__.startswith("paddle."))
            signature = inspect.signature(paddle_base)
            fluid = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
                     for name in cls.fluid_keywords]
            setattr(cls, "__signature__", signature.replace(parameters=list(signature.parameters.values()) + fluid))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        owner = type(self).__name__
        for fluid_name, name in FLUID_KEYWORDS.items():
            if fluid_name not in self.fluid_keywords:
                rules.refused(owner, fluid_name, kwargs.pop(fluid_name, None),
                              f"fluid 1.8 had no {owner}; give {name}=")
            elif fluid_name in kwargs:
                kwargs[name] = rules.alias(owner, fluid_name, kwargs.pop(fluid_name), name, kwargs.get(name))
        positional = list(args)
        self._lr_tensor = None
        if positional:
            positional[0] = self._take_lr_tensor(positional[0])
        elif "learning_rate" in kwargs:
            kwargs["learning_rate"] = self._take_lr_tensor(kwargs["learning_rate"])
        if "weight_decay" in kwargs:
            kwargs["weight_decay"] = _check_weight_decay("weight_decay", kwargs["weight_decay"])
        super().__init__(*positional, **kwargs)

    def _take_lr_tensor(self, learning_rate):
        if isinstance(learning_rate, paddle.optimizer.lr.LRScheduler):
            return learning_rate
        if not ir.is_static_value(learning_rate):  # a number: >= 0, finite in float32, not a bool or str
            return rules.float32("learning_rate", learning_rate, low=0.0)
        self._lr_tensor = _check_lr_tensor(learning_rate)
        return 0.0

    def _create_global_learning_rate(self):
        if self._lr_tensor is None:
            return super()._create_global_learning_rate()
        ir.set_program_lr(self, paddle.static.default_main_program(), self._lr_tensor)
        return None

    def minimize(self, loss: Any, startup_program: Any = None, parameters: Any = None,
                 no_grad_set: Any = None) -> tuple:
        """Paddle's ``minimize``, without the warning PIR's backward gives when it asks a ``Value`` its place.

        Returns:
            tuple: Paddle's ``(optimize ops, params_grads)``.
        """
        if getattr(self, "_grad_clip") is None:  # fluid's set_gradient_clip for this program, if it was called
            setattr(self, "_grad_clip", _PROGRAM_CLIPS.get(paddle.static.default_main_program()))
        with quiet_place_warning():
            return super().minimize(loss, startup_program, parameters, no_grad_set)

    def get_lr(self) -> float:
        """The current learning rate (float or scheduler learning rates only).

        Returns:
            float: the learning rate.
        """
        if self._lr_tensor is not None:
            raise TypeError(
                "get_lr: the learning rate is an in-graph tensor; fetch it with Executor.run"
            )
        return super().get_lr()

    def set_lr(self, value: float) -> None:
        """Set a float learning rate (not with an in-graph tensor learning rate).

        Args:
            value (float): the new learning rate.
        """
        if self._lr_tensor is not None:
            raise TypeError(
                f"set_lr: the learning rate is an in-graph tensor, computed by its schedule, got {value!r}"
            )
        return super().set_lr(value)


class SGD(TensorLearningRate, paddle.optimizer.SGD):
    """``paddle.optimizer.SGD`` whose ``learning_rate`` may also be an in-graph float32 tensor.

    Example:
        >>> import paddle, paddle_lr
        >>> paddle.enable_static()
        >>> main, startup = paddle.static.Program(), paddle.static.Program()
        >>> with paddle.static.program_guard(main, startup):
        ...     x = paddle.static.data("x", [2, 3], "float32")
        ...     loss = paddle.mean(paddle.static.nn.fc(x, 1))
        ...     lr = paddle_lr.exponential_with_warmup_decay(0.1, [10], [0.1, 0.01], 5, 0.1)
        ...     _ = paddle_lr.SGD(lr).minimize(loss)
        >>> paddle.disable_static()
    """


class RMSProp(TensorLearningRate, paddle.optimizer.RMSProp):
    """``paddle.optimizer.RMSProp`` whose ``learning_rate`` may also be an in-graph float32 tensor."""


class Adam(TensorLearningRate, paddle.optimizer.Adam):
    """``paddle.optimizer.Adam`` whose ``learning_rate`` may also be an in-graph float32 tensor."""


class AdamW(TensorLearningRate, paddle.optimizer.AdamW):
    """``paddle.optimizer.AdamW`` whose ``learning_rate`` may also be an in-graph float32 tensor.

    The decoupled weight decay and ``lr_ratio`` read the same learning rate
    as the update, as in Paddle. fluid 1.8 had no AdamW: ``grad_clip=`` and
    ``name=`` are taken as everywhere, ``regularization=`` and
    ``parameter_list=`` are refused in one line (fluid's ``regularization``
    is an L2 term added to the gradient, not AdamW's decoupled
    ``weight_decay``; mapping one to the other would change the update).
    """

    fluid_keywords = {}


class Momentum(TensorLearningRate, paddle.optimizer.Momentum):
    """``paddle.optimizer.Momentum`` that also accepts a learning-rate tensor, with fluid's keywords.

    In a static program, ``learning_rate`` may be the float32 [1] tensor that
    a schedule such as :func:`paddle_lr.exponential_with_warmup_decay` returns;
    the momentum op then reads it at every step. Floats and ``LRScheduler``
    objects work as in Paddle.

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
        parameter_list (list, optional): fluid's keyword, an alias of ``parameters``.
    """

    def __init__(
        self,
        learning_rate: Any,
        momentum: float,
        parameters: Any = None,
        use_nesterov: bool = False,
        regularization: Any = None,
        weight_decay: Any = None,
        grad_clip: Any = None,
        name: Optional[str] = None,
        parameter_list: Any = None,
    ) -> None:
        momentum = rules.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
        if regularization is not None:
            regularization = _check_weight_decay("regularization", regularization)
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            parameters=parameters,
            use_nesterov=use_nesterov,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            name=name,
            **{k: v for k, v in (("regularization", regularization), ("parameter_list", parameter_list))
               if v is not None},
        )
