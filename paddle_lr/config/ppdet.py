"""PaddleDetection's static-graph (fluid) configs: the ``LearningRate`` and ``OptimizerBuilder`` sections as a cfg.

A PaddleDetection static config (``static/configs/faster_rcnn_r50_1x.yml`` of
PaddleDetection up to 2.4) names the training length ``max_iters``, the
snapshot period ``snapshot_iter``, the learning rate and the optimizer::

    max_iters: 90000
    snapshot_iter: 10000
    LearningRate:
      base_lr: 0.02
      schedulers:
      - !PiecewiseDecay
        gamma: 0.1
        milestones: [60000, 80000]
      - !LinearWarmup
        start_factor: 0.3333333333333333
        steps: 500
    OptimizerBuilder:
      optimizer: {momentum: 0.9, type: Momentum}
      regularizer: {factor: 0.0001, type: L2}

:func:`convert` turns that into cfg keys, building what PaddleDetection's
``static/ppdet/optimizer.py`` built (``LearningRate.__call__``: each scheduler
in order receives ``(base_lr, <the lr so far>)``; :data:`DEFAULTS` are its
defaults, read from its code):

* ``!PiecewiseDecay {gamma, milestones, values}`` becomes
  ``piecewise_decay(milestones, values)``; unless ``values`` is given they are
  ``base_lr`` then ``base_lr * gamma[i]``, where a number ``gamma`` stands for
  the list ``gamma / 10**i`` (PaddleDetection's reading: 0.1 gives 0.1, 0.01);
  milestones out of order are built as fluid's Switch ran them (a milestone
  not above every one before it never fires), with one warning line;
* ``!PolynomialDecay {max_iter, end_lr, power}`` becomes
  ``polynomial_decay(base_lr, max_iter, end_lr, power)``;
* ``!ExponentialDecay {max_iter, decay_rate}`` becomes
  ``exponential_decay(base_lr, max_iter, decay_rate)``;
* ``!CosineDecay {max_iters}`` becomes ``cosine_decay(base_lr, 1, max_iters)``;
* ``!CosineDecayWithSkip {total_steps, skip_steps}`` becomes
  ``cosine_decay_with_skip(base_lr, total_steps, skip_steps)``;
* ``!LinearWarmup {steps, start_factor}`` becomes
  ``linear_lr_warmup(<the lr so far>, steps, base_lr * start_factor, base_lr)``.

``OptimizerBuilder``'s ``optimizer.type`` names a fluid optimizer
(:data:`OPTIMIZERS`: PaddleDetection called ``getattr(fluid.optimizer, type)``)
and becomes ``optimizer``; Momentum's ``momentum`` becomes ``momentum``, the
other arguments ``optimizer_args``; the L2 ``factor`` becomes ``weight_decay``;
``clip_grad_by_norm`` (fluid's ``GradientClipByGlobalNorm`` on every
parameter) becomes ``clip_grad_by_norm``. Every other section (the model, the
readers, ``_READER_``, ``architecture`` ...) is skipped, and one warning line
names them. Tags are read as plain data by the safe loader (:class:`Tagged`);
they never construct Python objects. What PaddleDetection's code refuses (a
missing required argument, an unknown one) is a one-line error here too.
"""
import dataclasses
import warnings
from typing import Any, Dict, List, Tuple

from .. import rules

__all__ = ["Tagged", "ConfigWarning", "DEFAULTS", "SCHEDULERS", "OPTIMIZERS", "is_ppdet", "convert", "warn_skipped"]


@dataclasses.dataclass(frozen=True)
class Tagged:
    """A YAML node with a local tag (``!PiecewiseDecay {...}``), kept as data: the tag and the value."""

    tag: str
    value: Any

    def __repr__(self):
        return f"!{self.tag} {rules.shown(self.value)}"


class ConfigWarning(UserWarning):
    """Part of a config was read but not used (PaddleDetection's model and reader sections)."""


_REQUIRED = object()

# PaddleDetection's static/ppdet/optimizer.py: each class's arguments and defaults, as published
# (tests/test_ppdet_configs.py compares this table with that file).
DEFAULTS: Dict[str, Dict[str, Any]] = {
    "PiecewiseDecay": {"gamma": [0.1, 0.1], "milestones": [60000, 80000], "values": None},
    "PolynomialDecay": {"max_iter": 180000, "end_lr": 0.0001, "power": 1.0},
    "ExponentialDecay": {"max_iter": _REQUIRED, "decay_rate": _REQUIRED},
    "CosineDecay": {"max_iters": 180000},
    "CosineDecayWithSkip": {"total_steps": _REQUIRED, "skip_steps": None},
    "LinearWarmup": {"steps": 500, "start_factor": 1.0 / 3},
    "LearningRate": {"base_lr": 0.01, "schedulers": [Tagged("PiecewiseDecay", None), Tagged("LinearWarmup", None)]},
    "OptimizerBuilder": {"clip_grad_by_norm": None, "regularizer": {"type": "L2", "factor": 0.0001},
                         "optimizer": {"type": "Momentum", "momentum": 0.9}},
}
"""class -> {argument: default} (``LearningRate.schedulers``: ``[PiecewiseDecay(), LinearWarmup()]``)."""

# PaddleDetection tag -> the family schedule it builds.
SCHEDULERS = {"PiecewiseDecay": "piecewise_decay", "PolynomialDecay": "polynomial_decay",
              "ExponentialDecay": "exponential_decay", "CosineDecay": "cosine_decay",
              "CosineDecayWithSkip": "cosine_decay_with_skip", "LinearWarmup": "linear_lr_warmup"}

# fluid.optimizer's names (PaddleDetection's optimizer.type) -> paddle_lr's optimizer, and the
# arguments fluid's took besides learning_rate, regularization (and parameter_list, grad_clip, name).
OPTIMIZERS = {
    "Momentum": "Momentum", "MomentumOptimizer": "Momentum",
    "SGD": "SGD", "SGDOptimizer": "SGD",
    "RMSPropOptimizer": "RMSProp",
    "Adam": "Adam", "AdamOptimizer": "Adam",
}
_FLUID_ARGS = {"Momentum": ("momentum", "use_nesterov"), "SGD": (),
               "RMSProp": ("rho", "epsilon", "momentum", "centered"),
               "Adam": ("beta1", "beta2", "epsilon", "lazy_mode")}

# PaddleDetection key -> cfg key, for the keys read as they are.
_RENAMED = {"max_iters": "max_iter", "snapshot_iter": "snapshot_iter"}


def is_ppdet(data) -> bool:
    """Whether a loaded YAML document is a PaddleDetection config (it has a ``LearningRate`` section)."""
    return isinstance(data, dict) and "LearningRate" in data


def _arguments(where, value, cls):
    """A section's arguments over its class's defaults; unknown or missing ones are one-line errors."""
    defaults = DEFAULTS[cls]
    if not isinstance(value, dict):
        raise rules.ConfigTypeError(f"{where}: must be a mapping, got {rules.shown(value)}")
    unknown = [k for k in value if k not in defaults]
    if unknown:
        raise rules.ConfigError(f"{where}.{rules.shown(unknown[0])}: unknown key, expected one of "
                                f"{', '.join(defaults)}")
    args = {**defaults, **value}
    missing = [k for k, v in args.items() if v is _REQUIRED]
    if missing:
        raise rules.ConfigError(f"{where}.{missing[0]}: required (PaddleDetection's {cls} has no default)")
    return args


def _piecewise(where, args, base_lr):
    args = _arguments(where, args, "PiecewiseDecay")
    milestones, kept = rules.first_case_steps(f"{where}.milestones", args["milestones"],
                                              high=rules.MAX_ITERATIONS, max_count=rules.MAX_BOUNDARIES)
    values = args["values"]
    if values is None:
        gamma = args["gamma"]
        if isinstance(gamma, list):
            if len(gamma) != len(milestones):
                raise rules.ConfigError(f"{where}.gamma: a list must hold one factor per milestone "
                                        f"({len(milestones)}), got {rules.shown(gamma)}")
            factors = [rules.real(f"{where}.gamma[{i}]", g, low=0.0) for i, g in enumerate(gamma)]
        else:  # PaddleDetection: gamma / 10**i for the i-th milestone
            gamma = rules.real(f"{where}.gamma", gamma, low=0.0, low_open=True)
            factors = [gamma / 10 ** i for i in range(len(milestones))]
        values = [base_lr] + [rules.real(f"{where}: base_lr * gamma[{i}]", base_lr * f, high=rules.FLOAT32_MAX)
                              for i, f in enumerate(factors)]
    else:
        values = rules.piecewise_values(f"{where}.values", values, milestones, high=rules.FLOAT32_MAX)
    return {"fn": "piecewise_decay", "args": {"boundaries": [milestones[i] for i in kept],
                                              "values": [values[i] for i in kept] + [values[-1]]}}


def _steps(where, value, low=1):
    return rules.integer(where, value, low=low, high=rules.MAX_ITERATIONS)


def _scheduler(at, tag, args, base_lr, lr):
    """The spec one tagged scheduler builds, given the lr of those before it."""
    where = f"{at} !{tag}"
    args = _arguments(where, {} if args is None else args, tag)
    if tag == "PiecewiseDecay":
        return _piecewise(where, args, base_lr)
    if tag == "LinearWarmup":
        if lr is None:
            raise rules.ConfigError(f"{where}: warms up the lr of the schedulers before it, and none is")
        factor = rules.real(f"{where}.start_factor", args["start_factor"], low=0.0)
        start = rules.float32_products("base_lr", base_lr, f"{where}.start_factor", factor, 2)[1]
        return {"fn": "linear_lr_warmup", "args": {"learning_rate": lr, "warmup_steps": _steps(
            f"{where}.steps", args["steps"], low=0), "start_lr": start, "end_lr": base_lr}}
    if tag == "PolynomialDecay":
        return {"fn": "polynomial_decay", "args": {
            "learning_rate": base_lr, "decay_steps": _steps(f"{where}.max_iter", args["max_iter"]),
            "end_learning_rate": rules.real(f"{where}.end_lr", args["end_lr"], low=0.0, high=rules.FLOAT32_MAX),
            "power": rules.real(f"{where}.power", args["power"], low=0.0), "cycle": False}}
    if tag == "ExponentialDecay":
        return {"fn": "exponential_decay", "args": {
            "learning_rate": base_lr, "decay_steps": _steps(f"{where}.max_iter", args["max_iter"]),
            "decay_rate": rules.real(f"{where}.decay_rate", args["decay_rate"], low=0.0, low_open=True),
            "staircase": False}}
    if tag == "CosineDecay":
        return {"fn": "cosine_decay", "args": {"learning_rate": base_lr, "step_each_epoch": 1,
                                               "epochs": _steps(f"{where}.max_iters", args["max_iters"])}}
    total = _steps(f"{where}.total_steps", args["total_steps"])
    skip = args["skip_steps"]
    skip = None if skip is None else rules.integer(f"{where}.skip_steps", skip, low=0, high=total - 1)
    return {"fn": "cosine_decay_with_skip", "args": {"learning_rate": base_lr, "total_steps": total,
                                                     "skip_steps": skip}}


def _schedule(where, section) -> Dict[str, Any]:
    section = _arguments(where, section, "LearningRate")
    base_lr = rules.real(f"{where}.base_lr", section["base_lr"], low=0.0, low_open=True, high=rules.FLOAT32_MAX)
    schedulers = section["schedulers"]
    if not isinstance(schedulers, list) or not schedulers:
        raise rules.ConfigError(f"{where}.schedulers: must be a list of tagged schedulers "
                                f"(!PiecewiseDecay, !LinearWarmup ...), got {rules.shown(schedulers)}")
    lr: Any = None  # the spec so far
    for i, item in enumerate(schedulers):
        at = f"{where}.schedulers[{i}]"
        if not isinstance(item, Tagged) or item.tag not in SCHEDULERS:
            tag = f"!{item.tag}" if isinstance(item, Tagged) else rules.shown(item)
            raise rules.ConfigError(f"{at}: must be one of {', '.join('!' + t for t in SCHEDULERS)} "
                                    f"(PaddleDetection's schedulers), got {tag}")
        lr = _scheduler(at, item.tag, item.value, base_lr, lr)
    return lr


def _optimizer(where, section) -> Dict[str, Any]:
    section = _arguments(where, section, "OptimizerBuilder")
    optimizer = section["optimizer"]
    if not isinstance(optimizer, dict):
        raise rules.ConfigTypeError(f"{where}.optimizer: must be a mapping, got {rules.shown(optimizer)}")
    name = OPTIMIZERS[rules.choice(f"{where}.optimizer.type", optimizer.get("type"), tuple(OPTIMIZERS))]
    args = {k: v for k, v in optimizer.items() if k != "type"}
    allowed = _FLUID_ARGS[name]
    unknown = [k for k in args if k not in allowed]
    if unknown:
        raise rules.ConfigError(f"{where}.optimizer.{rules.shown(unknown[0])}: not an argument of fluid's "
                                f"{optimizer['type']} here, expected one of {', '.join(allowed) or 'none'}")
    out: Dict[str, Any] = {"optimizer": name}
    if name == "Momentum":
        if "momentum" not in args:
            raise rules.ConfigError(f"{where}.optimizer.momentum: required (fluid's {optimizer['type']} "
                                    "has no default)")
        out["momentum"] = args.pop("momentum")
    out["optimizer_args"] = args
    regularizer = section["regularizer"]
    if not regularizer:  # PaddleDetection: no regularization
        out["weight_decay"] = 0.0
    else:
        regularizer = _mapping_of(f"{where}.regularizer", regularizer, ("type", "factor"))
        rules.choice(f"{where}.regularizer.type", regularizer["type"], ("L2",))
        out["weight_decay"] = regularizer["factor"]
    out["clip_grad_by_norm"] = section["clip_grad_by_norm"]
    return out


def _mapping_of(where, value, required):
    if not isinstance(value, dict):
        raise rules.ConfigTypeError(f"{where}: must be a mapping, got {rules.shown(value)}")
    for key in value:
        if key not in required:
            raise rules.ConfigError(f"{where}.{rules.shown(key)}: unknown key, expected one of {', '.join(required)}")
    for key in required:
        if key not in value:
            raise rules.ConfigError(f"{where}.{key}: required")
    return value


def convert(data: Dict[Any, Any], where: str) -> Tuple[Dict[str, Any], List[str]]:
    """The cfg keys of a PaddleDetection static config (as :func:`yaml.load` gave it).

    Args:
        data (dict): the loaded document (``is_ppdet(data)``), its ``_READER_``
            include, if any, not merged (the reader sections are not read).
        where (str): the file, for messages.

    Returns:
        tuple: ``(keys, skipped)``: cfg keys (``schedule``, ``max_iter``,
        ``snapshot_iter``, ``optimizer``, ``momentum``, ``optimizer_args``,
        ``weight_decay``, ``clip_grad_by_norm``) and the names of the sections
        skipped (for :func:`warn_skipped`).

    Raises:
        ConfigError: one line naming the section or key.
    """
    if "epoch" in data and "max_iters" not in data:
        raise rules.ConfigError(f"{where}: epoch: PaddleDetection's dygraph configs count in epochs; "
                                "only static-graph configs (max_iters) are read")
    keys: Dict[str, Any] = {"schedule": _schedule("LearningRate", data["LearningRate"])}
    keys.update(_optimizer("OptimizerBuilder", data.get("OptimizerBuilder", {})))
    for theirs, ours in _RENAMED.items():
        if theirs in data:
            keys[ours] = data[theirs]
    used = {"LearningRate", "OptimizerBuilder", *_RENAMED}
    return keys, [str(k) for k in data if k not in used]


def warn_skipped(where: str, skipped: List[str]) -> None:
    """The one :class:`ConfigWarning` line naming the sections :func:`convert` skipped (none: no line).

    :func:`~paddle_lr.config.load_config` calls it once the cfg is valid, so that a
    bad config gets its one error line and nothing else.
    """
    if skipped:
        shown = ", ".join(rules.one_line(k)[:40] for k in skipped[:12]) + (", ..." if len(skipped) > 12 else "")
        warnings.warn(f"{where}: PaddleDetection sections not used here, skipped: {shown}", ConfigWarning,
                      stacklevel=3)
