"""Builders: a validated cfg to the schedule and the optimizer, as the training scripts did by hand."""
import copy
import warnings

from typing import Any, Dict, List, Tuple

import numpy as np
import paddle

from .. import rules
from .. import optimizer as optimizers
from ..optimizer import L2Decay
from .keys import SCHEDULE_ARGS, AttrDict
from ..schedules import registry
from ..schedules.lowerings import IMPLS
from ..schedules.warmup_piecewise import boundary_values

__all__ = [
    "schedule_args",
    "schedule_spec",
    "with_impl",
    "counter_begin",
    "reference_lr",
    "warmup_iters",
    "boundary_marks",
    "describe",
    "build_static_lr",
    "build_lr_scheduler",
    "build_lr",
    "build_optimizer",
]


def schedule_args(config: AttrDict) -> Dict[str, Any]:
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
    given = {**config, "lr_steps": list(config.lr_steps), "lr_values": list(values)}
    return {"learning_rate": config.learning_rate, **{arg: given[key] for key, arg in SCHEDULE_ARGS.items()}}


def schedule_spec(config: AttrDict) -> Dict[str, Any]:
    """The cfg's schedule as a registry spec ``{"fn": NAME, "args": {...}}``.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        dict: ``cfg.schedule`` when given (any family schedule or composition);
        else the R-CNN schedule, ``exponential_with_warmup_decay`` with
        :func:`schedule_args` and ``impl=cfg.lr_impl``.
    """
    if config.get("schedule") is not None:
        return copy.deepcopy(config.schedule)
    return {"fn": "exponential_with_warmup_decay", "args": {**schedule_args(config), "impl": config.lr_impl}}


def with_impl(config: AttrDict, impl: str) -> AttrDict:
    """The cfg with lowering ``impl`` wherever its schedule takes one.

    For the R-CNN schedule this is ``lr_impl``; in a spec, every schedule whose
    lowerings include ``impl`` gets ``args.impl = impl`` (the others have none).

    Args:
        config (AttrDict): a validated cfg.
        impl (str): a lowering name.

    Returns:
        AttrDict: a new cfg.
    """
    out = type(config)(copy.deepcopy(dict(config)))
    if out.get("schedule") is None:
        out.lr_impl = rules.choice("--impl", impl, IMPLS)
        return out

    def visit(spec):
        schedule = registry.REGISTRY[spec["fn"]]
        if impl in schedule.impls:  # only the schedules with lowerings (the arithmetic ones have none)
            spec["args"]["impl"] = impl
        if isinstance(spec["args"].get("learning_rate"), dict):
            visit(spec["args"]["learning_rate"])

    visit(out.schedule)
    return out


def counter_begin(config: AttrDict) -> int:
    """The step counter's value at the first run (1 when ``noam_decay`` is built first, else 0).

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        int: the begin.
    """
    return registry.counter_begin(schedule_spec(config))


def reference_lr(config: AttrDict, iterations: Any) -> np.ndarray:
    """The float32 numpy reference lr of runs ``iterations`` (0 is the first run).

    The same values the graph and the twin give (:func:`~paddle_lr.schedules.registry.reference_values`
    at counter value ``begin + iteration``).

    Args:
        config (AttrDict): a validated cfg.
        iterations (int or array of int): run indices.

    Returns:
        numpy.ndarray: float32, shaped like ``numpy.atleast_1d(iterations)``.
    """
    iterations = np.atleast_1d(np.asarray(iterations, dtype=np.int64))
    spec = schedule_spec(config)
    return registry.reference_values(spec, iterations + registry.counter_begin(spec))


def _nodes(spec):
    while True:
        yield spec
        inner = spec["args"].get("learning_rate")
        if not isinstance(inner, dict):
            return
        spec = inner


def warmup_iters(config: AttrDict) -> float:
    """How many first runs are a linear warmup ramp (for tables and plots).

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        float: ``warm_up_iter`` for the R-CNN schedule; for a spec, the outermost
        ``linear_lr_warmup``'s ``warmup_steps`` (or ``exponential_with_warmup_decay``'s
        ``warmup_iter``) minus the counter's begin; 0 when there is none.
    """
    spec = schedule_spec(config)
    begin = registry.counter_begin(spec)
    for node in _nodes(spec):
        args = node["args"]
        if node["fn"] == "linear_lr_warmup":
            return max(0.0, float(args["warmup_steps"]) - begin)
        if node["fn"] == "exponential_with_warmup_decay":
            return max(0.0, float(args["warmup_iter"]) - begin)
    return 0.0


def boundary_marks(config: AttrDict) -> List[Tuple[int, str]]:
    """The named decay steps of the schedule, as run indices (for plots).

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        list[tuple[int, str]]: ``(run, label)``, e.g. ``(120000, "lr_steps[0] = 120000")``.
    """
    if config.get("schedule") is None:
        return [(b, f"lr_steps[{i}] = {b}") for i, b in enumerate(config.lr_steps)]
    spec = schedule_spec(config)
    begin = registry.counter_begin(spec)
    marks = []
    for node in _nodes(spec):
        for i, b in enumerate(node["args"].get("boundaries", ())):
            marks.append((int(b) - begin, f"{node['fn']} boundaries[{i}] = {b}"))
    return sorted(marks)


def describe(config: AttrDict) -> str:
    """The cfg's schedule in one line, nested calls written as fluid's (for titles).

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        str: e.g. ``linear_lr_warmup(piecewise_decay([216000, 243000], ...), 4000, 0.0, 0.001)``.
    """
    def call(spec):
        args = []
        for name, value in spec["args"].items():
            if name == "impl":
                continue
            if isinstance(value, dict):
                args.append(call(value))
            elif isinstance(value, list):
                shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value[:3])
                args.append(f"[{shown}{', ...' if len(value) > 3 else ''}]")
            else:
                args.append(f"{value:g}" if isinstance(value, float) else str(value))
        return f"{spec['fn']}({', '.join(args)})"

    return call(schedule_spec(config))


def build_static_lr(config: AttrDict) -> Any:
    """The in-graph learning rate of a cfg, built into the current static program.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        The float32 [1] lr tensor of the cfg's schedule (:func:`schedule_spec`).

    Raises:
        ConfigError: Paddle is in dynamic mode (use :func:`build_lr_scheduler`).
    """
    if paddle.in_dynamic_mode():
        raise rules.ConfigError("build_static_lr: Paddle is in dynamic mode; call paddle.enable_static() "
                                "or use build_lr_scheduler")
    return _build(config)


def build_lr_scheduler(config: AttrDict) -> Any:
    """The dygraph twin of a cfg's schedule: an ``LRScheduler`` with the graph's meaning.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        paddle.optimizer.lr.LRScheduler: :class:`~paddle_lr.WarmupPiecewiseDecay` for
        the R-CNN schedule, the family's twin for a spec; its value after k
        ``step()`` calls is the graph's k-th run.

    Raises:
        ConfigError: Paddle is in static mode (use :func:`build_static_lr`).
    """
    if not paddle.in_dynamic_mode():
        raise rules.ConfigError("build_lr_scheduler: Paddle is in static mode; call paddle.disable_static() "
                                "or use build_static_lr")
    return _build(config)


def _build(config):
    with warnings.catch_warnings():
        # validate() already warned about this schedule, under the cfg's key names.
        warnings.simplefilter("ignore", rules.ScheduleWarning)
        return registry.build(schedule_spec(config))


def build_lr(config: AttrDict) -> Any:
    """The learning rate of a cfg in Paddle's current mode (kept as the mode-dispatching convenience).

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        In static mode :func:`build_static_lr`'s tensor; in dygraph mode
        :func:`build_lr_scheduler`'s scheduler.
    """
    if paddle.in_dynamic_mode():
        return build_lr_scheduler(config)
    return build_static_lr(config)


def build_optimizer(config: AttrDict, lr: Any, parameters: Any = None) -> optimizers.TensorLearningRate:
    """The cfg's optimizer over ``lr``: ``cfg.optimizer`` with its arguments, weight decay and clipping.

    ``Momentum(lr, cfg.momentum, regularization=L2Decay(cfg.weight_decay))`` by
    default; ``SGD``, ``RMSProp`` and ``Adam`` take ``weight_decay=L2Decay(...)``
    (none when it is 0), ``AdamW`` its decoupled ``weight_decay`` coefficient;
    ``cfg.optimizer_args`` go to the optimizer as keywords, and
    ``cfg.clip_grad_by_norm`` becomes ``grad_clip=paddle.nn.ClipGradByGlobalNorm(...)``.

    Args:
        config (AttrDict): a validated cfg.
        lr: what :func:`build_lr` returned.
        parameters (list, optional): the parameters (required in dygraph mode).

    Returns:
        The paddle_lr optimizer (:mod:`paddle_lr.optimizer`).
    """
    clip = config.clip_grad_by_norm
    kwargs = dict(config.optimizer_args, parameters=parameters,
                  grad_clip=None if clip is None else paddle.nn.ClipGradByGlobalNorm(clip_norm=clip))
    name = config.optimizer
    if name == "Momentum":
        return optimizers.Momentum(learning_rate=lr, momentum=config.momentum,
                                   regularization=L2Decay(regularization_coeff=config.weight_decay), **kwargs)
    if name == "AdamW":
        return optimizers.AdamW(learning_rate=lr, weight_decay=config.weight_decay, **kwargs)
    decay = L2Decay(regularization_coeff=config.weight_decay) if config.weight_decay else None
    return getattr(optimizers, name)(learning_rate=lr, weight_decay=decay, **kwargs)
