"""The cfg's key table: the default, the rule and the unit of every key, in one place.

``KEYS`` is the one source of the cfg: :mod:`paddle_lr.config.loading`
validates with its rules, the defaults ``cfg`` come from it, and the README and
the tools describe keys from it. Plain data: this module does not import Paddle.
"""
import copy
import functools
from typing import Any, Callable, Dict, Mapping, Tuple

from .. import rules
from ..schedules.lowerings import IMPLS

__all__ = ["AttrDict", "KeyTable", "KEYS", "cfg", "defaults", "SCHEDULE_ARGS", "ARG_KEYS", "OPTIMIZER_ARGS",
           "schedule_spec_rule"]


class AttrDict(dict):
    """A dict whose keys are also attributes (``cfg.learning_rate``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


KeyTable = Mapping[str, Tuple[Any, Callable[[str, Any], Any], str]]
"""A cfg key table: key -> (default, rule, unit and meaning); :data:`KEYS` is the library's."""

_real = rules.real
_int = rules.integer


def _optional(rule):
    """A rule that also accepts None."""
    return lambda key, value: None if value is None else rule(key, value)


# The limits of the schedule arguments a ``schedule:`` spec may give, beyond each
# schedule's own argument check, by the argument's kind (its Schedule record's
# ``kinds``, paddle_lr.schedules.registry.ARG_KINDS): the same ranges as the R-CNN keys.
SPEC_STEP_KINDS = ("steps",)
"""Kinds in iterations (or epochs of ``step_each_epoch`` iterations): at most rules.MAX_ITERATIONS."""
SPEC_FLOAT32_KINDS = ("lr", "values", "real")
"""Kinds the graph holds as float32: at most rules.FLOAT32_MAX (each entry of ``values``)."""
_SPEC_MAX_VALUES = 10 * rules.MAX_BOUNDARIES
"""The most values (numbers, strings, nested entries, counted at each use of an alias) in one spec."""
_SPEC_MAX_DEPTH = 32
"""The most levels of nesting in one spec."""


def _plain_spec(key, value):
    """A spec is plain data of bounded size whose mappings have string keys (before any message shows it)."""
    seen, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > _SPEC_MAX_VALUES or depth > _SPEC_MAX_DEPTH:
            raise rules.ConfigError(f"{key}: too large a spec (more than {_SPEC_MAX_VALUES} values or "
                                    f"{_SPEC_MAX_DEPTH} levels), got one of that size")
        if isinstance(item, dict):
            bad = [k for k in item if not isinstance(k, str)]
            if bad:
                raise rules.ConfigTypeError(f"{key}: every key of a spec must be a name, got {rules.shown(bad[0])}")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)


def _spec_limits(where, spec, kinds):
    """The range limits on a checked spec's arguments, innermost schedule first.

    ``kinds``: schedule name -> {argument: kind} (the registry's records).
    """
    args = spec["args"]
    if isinstance(args.get("learning_rate"), dict):
        _spec_limits(f"{where}.learning_rate", args["learning_rate"], kinds)
    for name, value in args.items():
        kind = kinds[spec["fn"]][name]
        if value is None or isinstance(value, dict):  # an optional argument left out; an inner spec (above)
            continue
        if kind == "boundaries":
            rules.increasing_steps(f"{where}.args.{name}", value, high=rules.MAX_ITERATIONS,
                                   max_count=rules.MAX_BOUNDARIES)
        elif kind in SPEC_STEP_KINDS:
            rules.real(f"{where}.args.{name}", value, high=rules.MAX_ITERATIONS)
        elif kind in SPEC_FLOAT32_KINDS:
            for i, v in enumerate(value if isinstance(value, list) else [value]):
                label = f"{where}.args.{name}" + (f"[{i}]" if isinstance(value, list) else "")
                rules.real(label, v, high=rules.FLOAT32_MAX)


def schedule_spec_rule(key, value):
    """The ``schedule`` key: None, or a (nested) spec ``{fn: NAME, args: {...}}`` of the family.

    Checked by the schedule's own argument check (through the registry, which
    imports Paddle, so only when a spec is given), then against the limits.

    Returns:
        dict or None: the checked spec.
    """
    if value is None:
        return None
    _plain_spec(key, value)
    from ..schedules import registry

    try:
        spec = registry.check_spec(value, key)
    except rules.ConfigError as exc:
        text = rules.one_line(exc)
        text = text if text.startswith(key) else f"{key}: {text}"  # an argument's message: say whose
        raise type(exc)(text if len(text) <= 500 else text[:497] + "...") from None
    _spec_limits(key, spec, {name: schedule.kinds for name, schedule in registry.REGISTRY.items()})
    return spec


# The optimizers (paddle_lr's, by name) and the arguments ``optimizer_args`` may give each, with
# their rules; the lr, ``momentum`` (Momentum's), ``weight_decay`` and ``clip_grad_by_norm`` are keys.
_unit = functools.partial(_real, low=0.0, high=1.0, high_open=True)
_epsilon = functools.partial(_real, low=0.0, low_open=True, high=1.0)
_ADAM_ARGS: Dict[str, Callable[[str, Any], Any]] = {"beta1": _unit, "beta2": _unit, "epsilon": _epsilon, "lazy_mode": rules.boolean}
OPTIMIZER_ARGS: Dict[str, Dict[str, Callable[[str, Any], Any]]] = {
    "Momentum": {"use_nesterov": rules.boolean},
    "SGD": {},
    "RMSProp": {"rho": _unit, "epsilon": _epsilon, "momentum": _unit, "centered": rules.boolean},
    "Adam": _ADAM_ARGS,
    "AdamW": _ADAM_ARGS,
}
"""optimizer name -> {argument: rule} of what ``optimizer_args`` may hold for it (Paddle's names and defaults)."""
_ANY_OPTIMIZER_ARG = {k: v for table in OPTIMIZER_ARGS.values() for k, v in table.items()}

_ITERS = rules.MAX_ITERATIONS  # iterations: max_iter, lr_steps entries, warm_up_iter, snapshot_iter
_F32 = rules.FLOAT32_MAX  # reals the graph holds stay finite in float32 (also checked for each derived lr)

# key: (default, rule, unit and meaning). The one table of the cfg: defaults,
# validation and the docs (README, tools, docs/config.md) come from here. The
# upper limits (rules.MAX_*) are the ranges a run can use; their units are
# those of the key (iterations, pixels, images, devices).
KEYS = {
    # -- schedule --
    "learning_rate": (0.01, functools.partial(_real, low=0.0, low_open=True, high=_F32),
                      "lr after warmup, at the reference batch (per iteration)"),
    "max_iter": (180000, functools.partial(_int, low=1, high=_ITERS), "training length, iterations"),
    "warm_up_iter": (500, functools.partial(_real, low=0.0, high=_ITERS),
                     "linear warmup length, iterations (0: none; may be fractional)"),
    "warm_up_factor": (1.0 / 3.0, functools.partial(_real, low=0.0, high=_F32),
                       "lr multiplier at iteration 0 of the warmup (1: no warmup)"),
    # At most rules.MAX_BOUNDARIES entries, each at most rules.MAX_ITERATIONS.
    "lr_steps": ([120000, 160000],
                 functools.partial(rules.increasing_steps, high=_ITERS, max_count=rules.MAX_BOUNDARIES),
                 "iterations (absolute, counted from 0) at which lr is multiplied by lr_gamma"),
    "lr_gamma": (0.1, functools.partial(_real, low=0.0, low_open=True, high=_F32), "lr factor per lr_steps entry"),
    # Its count against lr_steps is checked in validate().
    "lr_values": (None, _optional(functools.partial(rules.piecewise_values, high=_F32)),
                  "explicit lr per segment, len(lr_steps) + 1 (null: learning_rate * lr_gamma**i)"),
    "lr_impl": ("auto", lambda k, v: rules.choice(k, v, IMPLS),
                "graph lowering: auto (the default: branchless, the cheapest with the same values), "
                "switch (fluid's Switch graph as it was: several times fluid's per-step cost here, memory "
                "growing with the square of lr_steps) or branchless (one table lookup)"),
    # Any of fluid's in-graph schedules and their compositions, as a registry spec; when
    # given, it replaces the R-CNN schedule above (learning_rate ... lr_impl are then unused).
    "schedule": (None, schedule_spec_rule,
                 "a family schedule {fn: NAME, args: {...}} (args.learning_rate may be a spec); "
                 "null: the R-CNN schedule of the keys above"),
    # -- optimizer --
    "optimizer": ("Momentum", lambda k, v: rules.choice(k, v, tuple(OPTIMIZER_ARGS)),
                  "the optimizer, paddle_lr's (Momentum, SGD, RMSProp, Adam, AdamW), taking the lr tensor"),
    "momentum": (0.9, _unit, "Momentum's momentum factor"),
    # Which arguments each optimizer takes is checked in validate() (OPTIMIZER_ARGS).
    "optimizer_args": ({}, lambda k, v: rules.keyword_args(k, v, _ANY_OPTIMIZER_ARG, "any optimizer"),
                       "the optimizer's other arguments (Momentum: use_nesterov; RMSProp: rho, epsilon, "
                       "momentum, centered; Adam, AdamW: beta1, beta2, epsilon, lazy_mode); Paddle's defaults"),
    "weight_decay": (1e-4, functools.partial(_real, low=0.0, high=_F32),
                     "L2 decay coefficient (AdamW: its decoupled weight decay)"),
    "clip_grad_by_norm": (None, _optional(functools.partial(_real, low=0.0, low_open=True, high=_F32)),
                          "clip the gradients to this global norm (ClipGradByGlobalNorm; null: no clipping)"),
    # -- batch and its scaling --
    # Batch sizes and devices: at most rules.MAX_BATCH each.
    "im_per_batch": (1, functools.partial(_int, low=1, high=rules.MAX_BATCH), "images per device per iteration"),
    "num_devices": (1, functools.partial(_int, low=1, high=rules.MAX_BATCH),
                    "devices (GPUs or processes) in data parallel; the launcher's count wins"),
    "ref_batch_size": (8, functools.partial(_int, low=1, high=rules.MAX_BATCH),
                       "total batch (devices x im_per_batch) the lr and iterations were tuned for"),
    "scale_lr_by_batch": (False, rules.boolean,
                          "multiply learning_rate by total batch / ref_batch_size (linear scaling rule)"),
    "scale_iters_by_batch": (False, rules.boolean,
                             "multiply warm_up_iter, lr_steps, max_iter, snapshot_iter by "
                             "ref_batch_size / total batch (same epochs)"),
    "scaled_for_batch": (None, _optional(functools.partial(_int, low=1)),
                         "total batch scale_for_batch applied the scaling for (set by it; null: not "
                         "scaled yet, and scaling twice is an error)"),
    # -- data and run (the demo's own keys are its table's: paddle_lr.demo.keys) --
    # Images: a dataset at most rules.MAX_IMAGES.
    "dataset_images": (None, _optional(functools.partial(_int, low=1, high=rules.MAX_IMAGES)),
                       "training images, for epochs in the tools (null: count the annotations)"),
    "snapshot_iter": (10000, functools.partial(_int, low=1, high=_ITERS), "iterations between snapshots"),
}


def defaults(keys: KeyTable) -> AttrDict:
    """A fresh cfg of the defaults of a key table.

    Args:
        keys (dict): :data:`KEYS`, or a table that holds it and more (the demo's).

    Returns:
        AttrDict: every key at its default (copies: changing one changes no table).
    """
    return AttrDict({key: copy.deepcopy(spec[0]) for key, spec in keys.items()})


cfg = defaults(KEYS)
"""The R-CNN defaults. ``load_config`` returns a validated copy; this one is never changed."""


# The one table of spellings. The cfg keeps fluid's R-CNN cfg keys where users
# meet them; the schedule functions keep fluid's argument names. Keys that are
# the same in both (learning_rate, max_iter, lr_gamma) are not listed.
SCHEDULE_ARGS = {
    "lr_steps": "boundaries",          # exponential_with_warmup_decay(boundaries=...)
    "lr_values": "values",             # values=... (derived from lr_gamma when null)
    "warm_up_iter": "warmup_iter",     # warmup_iter=...
    "warm_up_factor": "warmup_factor",  # warmup_factor=...
}
"""cfg key -> the argument of :func:`paddle_lr.exponential_with_warmup_decay` it feeds."""

ARG_KEYS = {arg: key for key, arg in SCHEDULE_ARGS.items()}
"""The inverse of :data:`SCHEDULE_ARGS`: argument name -> cfg key, for messages."""
