"""The cfg module: R-CNN training defaults, YAML configs with overrides, and builders.

``cfg`` holds the defaults of the fluid R-CNN recipe. :func:`load_config` reads
a YAML file (safely: plain data only) over those defaults, applies
``KEY=VALUE`` overrides and validates every key with :mod:`paddle_lr.rules`.
:func:`build_lr` and :func:`build_optimizer` turn a cfg into the schedule and
the optimizer, as the original training scripts did by hand::

    cfg = load_config("configs/rcnn_1x.yml", ["max_iter=1000"])
    lr = build_lr(cfg)                   # static: the in-graph lr tensor
    optimizer = build_optimizer(cfg, lr)
"""
import copy
import difflib
import functools
import re
import warnings

import paddle
import yaml

from . import planning, rules
from .optimizer import L2Decay, Momentum
from .reference import boundary_values
from .schedule import IMPLS, exponential_with_warmup_decay
from .scheduler import WarmupPiecewiseDecay

__all__ = [
    "AttrDict",
    "cfg",
    "KEYS",
    "load_config",
    "validate",
    "schedule_args",
    "total_batch",
    "scale_for_batch",
    "build_lr",
    "build_optimizer",
]


class AttrDict(dict):
    """A dict whose keys are also attributes (``cfg.learning_rate``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


_real = rules.real
_int = rules.integer


def _optional(rule):
    """A rule that also accepts None."""
    return lambda key, value: None if value is None else rule(key, value)


# key: (default, rule, unit and meaning). The one table of the cfg: defaults,
# validation and the docs (README, tools) come from here.
KEYS = {
    # -- schedule --
    "learning_rate": (0.01, functools.partial(_real, low=0.0, low_open=True),
                      "lr after warmup, at the reference batch (per iteration)"),
    "max_iter": (180000, functools.partial(_int, low=1), "training length, iterations"),
    "warm_up_iter": (500, functools.partial(_real, low=0.0),
                     "linear warmup length, iterations (0: none; may be fractional)"),
    "warm_up_factor": (1.0 / 3.0, functools.partial(_real, low=0.0),
                       "lr multiplier at iteration 0 of the warmup (1: no warmup)"),
    "lr_steps": ([120000, 160000], rules.increasing_steps,
                 "iterations (absolute, counted from 0) at which lr is multiplied by lr_gamma"),
    "lr_gamma": (0.1, functools.partial(_real, low=0.0, low_open=True), "lr factor per lr_steps entry"),
    # Its count against lr_steps is checked in validate().
    "lr_values": (None, _optional(rules.piecewise_values),
                  "explicit lr per segment, len(lr_steps) + 1 (null: learning_rate * lr_gamma**i)"),
    "lr_impl": ("switch", lambda k, v: rules.choice(k, v, IMPLS),
                "graph lowering: switch (the original Switch graph) or branchless"),
    # -- optimizer --
    "momentum": (0.9, functools.partial(_real, low=0.0, high=1.0, high_open=True), "momentum factor"),
    "weight_decay": (1e-4, functools.partial(_real, low=0.0), "L2 decay coefficient"),
    # -- batch and its scaling --
    "im_per_batch": (1, functools.partial(_int, low=1), "images per device per iteration"),
    "num_devices": (1, functools.partial(_int, low=1),
                    "devices (GPUs or processes) in data parallel; the launcher's count wins"),
    "ref_batch_size": (8, functools.partial(_int, low=1),
                       "total batch (devices x im_per_batch) the lr and iterations were tuned for"),
    "scale_lr_by_batch": (False, rules.boolean,
                          "multiply learning_rate by total batch / ref_batch_size (linear scaling rule)"),
    "scale_iters_by_batch": (False, rules.boolean,
                             "multiply warm_up_iter, lr_steps, max_iter, snapshot_iter by "
                             "ref_batch_size / total batch (same epochs)"),
    # -- data --
    "dataset_dir": (None, rules.optional_text,
                    "COCO-format root: <dir>/<split>/ images, <dir>/annotations/instances_<split>.json"),
    "train_split": ("train", rules.optional_text, "training split name"),
    "val_split": ("val", rules.optional_text, "evaluation split name"),
    "dataset_images": (None, _optional(functools.partial(_int, low=1)),
                       "training images, for epochs in the tools (null: count the annotations)"),
    "generate_shapes": (False, rules.boolean,
                        "write the synthetic shapes dataset to dataset_dir when it is missing"),
    "shapes_train_images": (512, functools.partial(_int, low=1), "shapes dataset: training images"),
    "shapes_val_images": (128, functools.partial(_int, low=1), "shapes dataset: validation images"),
    # -- model and run --
    "image_size": (128, functools.partial(_int, low=32), "input side, pixels (images are resized)"),
    "snapshot_iter": (10000, functools.partial(_int, low=1), "iterations between snapshots"),
    "seed": (0, functools.partial(_int, low=0), "random seed (parameters and data order)"),
}

cfg = AttrDict({key: copy.deepcopy(spec[0]) for key, spec in KEYS.items()})
"""The R-CNN defaults. ``load_config`` returns a validated copy; this one is never changed."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)$"),
    list("-+0123456789."),
)


def _parse_yaml(text, where):
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise rules.ConfigError(f"{where}: not plain YAML data{at}: {problem}") from None


def _check_known(key, where):
    if key not in KEYS:
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise rules.ConfigError(f"{key}: unknown key in {where}{hint}")


def load_config(path=None, overrides=()):
    """The defaults, then a YAML file, then ``KEY=VALUE`` overrides, validated.

    Args:
        path (str, optional): a YAML mapping of cfg keys; defaults only when None.
        overrides (sequence of str): ``KEY=VALUE`` items; each VALUE is read as a
            YAML scalar or list (``lr_steps=[100,200]``, ``seed=3``), never run as code.

    Returns:
        AttrDict: a validated copy of the cfg.

    Raises:
        ConfigError: one line naming the file or key, the rule and the value.
    """
    out = AttrDict(copy.deepcopy(dict(cfg)))
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise rules.ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
        data = _parse_yaml(text, str(path))
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise rules.ConfigError(f"{path}: must hold a mapping of keys, got {type(data).__name__}")
        for key, value in data.items():
            _check_known(str(key), str(path))
            out[key] = value
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise rules.ConfigError(f"override: must be KEY=VALUE, got {item!r}")
        _check_known(key, "overrides")
        out[key] = _parse_yaml(text, f"override {key}") if text.strip() else None
    return validate(out)


def validate(config):
    """Check every key of ``config`` and the rules across keys.

    Errors raise :class:`~paddle_lr.rules.ConfigError`; schedules that are valid
    but probably mistakes warn with :class:`~paddle_lr.rules.ScheduleWarning`.

    Args:
        config (dict): a full cfg (all keys of :data:`KEYS`).

    Returns:
        AttrDict: the checked cfg, numbers normalised (ints and floats).
    """
    out = AttrDict()
    for key, (_, rule, _) in KEYS.items():
        if key not in config:
            raise rules.ConfigError(f"{key}: missing from the config")
        out[key] = rule(key, config[key])
    for key in config:
        _check_known(key, "config")
    if out.lr_values is not None:
        rules.piecewise_values("lr_values", out.lr_values, out.lr_steps)
    rules.warn_schedule(
        out.lr_steps,
        out.warm_up_iter,
        out.warm_up_factor,
        max_iter=out.max_iter,
        lr_gamma=out.lr_gamma,
        names=_CFG_NAMES,
    )
    return out


_CFG_NAMES = dict(
    boundaries="lr_steps",
    values="lr_values",
    warmup_iter="warm_up_iter",
    warmup_factor="warm_up_factor",
)


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


def total_batch(config, num_devices=None):
    """Images per iteration over all devices.

    Args:
        config (AttrDict): a validated cfg.
        num_devices (int, optional): the devices actually used; ``cfg.num_devices`` by default.

    Returns:
        int: ``num_devices * im_per_batch``.
    """
    return (num_devices or config.num_devices) * config.im_per_batch


def scale_for_batch(config, num_devices=None):
    """Apply the linear scaling switches for the actual total batch.

    With ``scale_lr_by_batch``, ``learning_rate`` (and ``lr_values``) are multiplied
    by ``total / ref_batch_size``; with ``scale_iters_by_batch``, ``warm_up_iter``,
    ``lr_steps``, ``max_iter`` and ``snapshot_iter`` are multiplied by
    ``ref_batch_size / total`` and rounded to the nearest iteration, so that the
    schedule keeps its length in epochs.

    Args:
        config (AttrDict): a validated cfg.
        num_devices (int, optional): the devices actually used; ``cfg.num_devices`` by default.

    Returns:
        AttrDict: a new validated cfg with ``num_devices`` set and the scaling applied.
    """
    out = AttrDict(copy.deepcopy(dict(config)))
    out.num_devices = num_devices or config.num_devices
    ratio = total_batch(out) / out.ref_batch_size
    if out.scale_lr_by_batch:
        out.learning_rate = out.learning_rate * ratio
        if out.lr_values is not None:
            out.lr_values = [v * ratio for v in out.lr_values]
    if out.scale_iters_by_batch:
        def iters(n):
            return max(1, planning.convert_iters(n, out.ref_batch_size, total_batch(out)))

        out.warm_up_iter = iters(out.warm_up_iter) if out.warm_up_iter else 0
        out.lr_steps = [iters(s) for s in out.lr_steps]
        out.max_iter = iters(out.max_iter)
        out.snapshot_iter = iters(out.snapshot_iter)
    return validate(out)


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
