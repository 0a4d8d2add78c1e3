"""PaddleDetection's static-graph (fluid) configs: the ``LearningRate`` section as a cfg.

A PaddleDetection static config (``configs/faster_rcnn_r50_1x.yml`` of
PaddleDetection 0.x) names the training length ``max_iters``, the snapshot
period ``snapshot_iter``, the learning rate and the optimizer::

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
``LearningRate.__call__`` built: each scheduler in order receives
``(base_lr, <the lr so far>)``:

* ``!PiecewiseDecay {gamma, milestones, values}`` becomes
  ``piecewise_decay(milestones, values)``; unless ``values`` is given they are
  ``base_lr`` then ``lr *= gamma`` per milestone (a list ``gamma`` gives
  ``base_lr * gamma[i]``, as later versions did);
* ``!LinearWarmup {steps, start_factor}`` becomes
  ``linear_lr_warmup(<the lr so far>, steps, base_lr * start_factor, base_lr)``;
* ``!CosineDecay {max_iters}`` becomes ``cosine_decay(base_lr, 1, max_iters)``.

``OptimizerBuilder``'s Momentum ``momentum`` and L2 ``factor`` become
``momentum`` and ``weight_decay``. Every other section (the model, the readers,
``_READER_``, ``architecture`` ...) is skipped, and one warning line names them.
Tags are read as plain data by the safe loader (:class:`Tagged`); they never
construct Python objects. A scheduler tag outside the list above is a one-line
error.
"""
import dataclasses
import warnings
from typing import Any, Dict, List, Tuple

from .. import rules

__all__ = ["Tagged", "ConfigWarning", "SCHEDULERS", "is_ppdet", "convert", "warn_skipped"]


@dataclasses.dataclass(frozen=True)
class Tagged:
    """A YAML node with a local tag (``!PiecewiseDecay {...}``), kept as data: the tag and the value."""

    tag: str
    value: Any

    def __repr__(self):
        return f"!{self.tag} {rules.shown(self.value)}"


class ConfigWarning(UserWarning):
    """Part of a config was read but not used (PaddleDetection's model and reader sections)."""


# PaddleDetection tag -> the family schedule it builds.
SCHEDULERS = {"PiecewiseDecay": "piecewise_decay", "LinearWarmup": "linear_lr_warmup", "CosineDecay": "cosine_decay"}

# PaddleDetection key -> cfg key, for the keys read as they are.
_RENAMED = {"max_iters": "max_iter", "snapshot_iter": "snapshot_iter"}


def is_ppdet(data) -> bool:
    """Whether a loaded YAML document is a PaddleDetection config (it has a ``LearningRate`` section)."""
    return isinstance(data, dict) and "LearningRate" in data


def _mapping(where, value, allowed):
    if not isinstance(value, dict):
        raise rules.ConfigTypeError(f"{where}: must be a mapping, got {rules.shown(value)}")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise rules.ConfigError(f"{where}.{rules.shown(unknown[0])}: unknown key, expected one of "
                                f"{', '.join(allowed)}")
    return value


def _piecewise(where, args, base_lr):
    args = _mapping(where, args, ("gamma", "milestones", "values", "use_warmup"))
    milestones = rules.increasing_steps(f"{where}.milestones", args.get("milestones", [60000, 80000]),
                                        high=rules.MAX_ITERATIONS, max_count=rules.MAX_BOUNDARIES)
    values = args.get("values")
    if values is None:
        gamma = args.get("gamma", 0.1)
        if isinstance(gamma, list):
            if len(gamma) != len(milestones):
                raise rules.ConfigError(f"{where}.gamma: a list must hold one factor per milestone "
                                        f"({len(milestones)}), got {rules.shown(gamma)}")
            factors = [rules.real(f"{where}.gamma[{i}]", g, low=0.0) for i, g in enumerate(gamma)]
            values = [base_lr] + [base_lr * g for g in factors]
        else:
            gamma = rules.real(f"{where}.gamma", gamma, low=0.0, low_open=True)
            values = rules.float32_products("base_lr", base_lr, f"{where}.gamma", gamma, len(milestones) + 1)
    return {"fn": "piecewise_decay", "args": {"boundaries": milestones, "values": values}}


def _warmup(where, args, base_lr, lr):
    args = _mapping(where, args, ("steps", "start_factor"))
    if lr is None:
        raise rules.ConfigError(f"{where}: warms up the lr of the schedulers before it, and none is")
    factor = rules.real(f"{where}.start_factor", args.get("start_factor", 1.0 / 3.0), low=0.0)
    steps = rules.integer(f"{where}.steps", args.get("steps", 500), low=0, high=rules.MAX_ITERATIONS)
    start = rules.float32_products("base_lr", base_lr, f"{where}.start_factor", factor, 2)[1]
    return {"fn": "linear_lr_warmup",
            "args": {"learning_rate": lr, "warmup_steps": steps, "start_lr": start, "end_lr": base_lr}}


def _cosine(where, args, base_lr):
    args = _mapping(where, args, ("max_iters",))
    max_iters = rules.integer(f"{where}.max_iters", args.get("max_iters", 180000), low=1,
                              high=rules.MAX_ITERATIONS)
    return {"fn": "cosine_decay", "args": {"learning_rate": base_lr, "step_each_epoch": 1, "epochs": max_iters}}


def _schedule(where, section) -> Dict[str, Any]:
    section = _mapping(where, section, ("base_lr", "schedulers"))
    base_lr = rules.real(f"{where}.base_lr", section.get("base_lr"), low=0.0, low_open=True,
                         high=rules.FLOAT32_MAX)
    schedulers = section.get("schedulers") or []
    if not isinstance(schedulers, list) or not schedulers:
        raise rules.ConfigError(f"{where}.schedulers: must be a list of tagged schedulers "
                                f"(!PiecewiseDecay, !LinearWarmup ...), got {rules.shown(schedulers)}")
    lr = None
    for i, item in enumerate(schedulers):
        at = f"{where}.schedulers[{i}]"
        if not isinstance(item, Tagged) or item.tag not in SCHEDULERS:
            tag = f"!{item.tag}" if isinstance(item, Tagged) else rules.shown(item)
            raise rules.ConfigError(
                f"{at}: must be one of {', '.join('!' + t for t in SCHEDULERS)} "
                f"(the family's schedules PaddleDetection names), got {tag}")
        args = {} if item.value is None else item.value
        if item.tag == "PiecewiseDecay":
            lr = _piecewise(f"{at} !PiecewiseDecay", args, base_lr)
        elif item.tag == "LinearWarmup":
            lr = _warmup(f"{at} !LinearWarmup", args, base_lr, lr)
        else:
            lr = _cosine(f"{at} !CosineDecay", args, base_lr)
    return lr


def _optimizer(where, section) -> Dict[str, float]:
    section = _mapping(where, section, ("optimizer", "regularizer"))
    out = {}
    optimizer = _mapping(f"{where}.optimizer", section.get("optimizer") or {"type": "Momentum"},
                         ("type", "momentum"))
    rules.choice(f"{where}.optimizer.type", optimizer.get("type", "Momentum"), ("Momentum",))
    if "momentum" in optimizer:
        out["momentum"] = optimizer["momentum"]
    regularizer = section.get("regularizer")
    if regularizer is None:
        out["weight_decay"] = 0.0
    else:
        regularizer = _mapping(f"{where}.regularizer", regularizer, ("type", "factor"))
        rules.choice(f"{where}.regularizer.type", regularizer.get("type", "L2"), ("L2",))
        out["weight_decay"] = regularizer.get("factor", 0.0)
    return out


def convert(data: Dict[Any, Any], where: str) -> Tuple[Dict[str, Any], List[str]]:
    """The cfg keys of a PaddleDetection static config (as :func:`yaml.load` gave it).

    Args:
        data (dict): the loaded document (``is_ppdet(data)``).
        where (str): the file, for messages.

    Returns:
        tuple: ``(keys, skipped)``: cfg keys (``schedule``, ``max_iter``,
        ``snapshot_iter``, ``momentum``, ``weight_decay``) and the names of the
        sections skipped (for :func:`warn_skipped`).

    Raises:
        ConfigError: one line naming the section or key.
    """
    if "epoch" in data and "max_iters" not in data:
        raise rules.ConfigError(f"{where}: epoch: PaddleDetection's dygraph configs count in epochs; "
                                "only static-graph configs (max_iters) are read")
    keys = {"schedule": _schedule("LearningRate", data["LearningRate"])}
    if "OptimizerBuilder" in data:
        keys.update(_optimizer("OptimizerBuilder", data["OptimizerBuilder"]))
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
