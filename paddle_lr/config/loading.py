"""Reading a cfg: YAML files (safe loading, plain data only) and ``KEY=VALUE`` overrides.

Plain data: this module does not import Paddle.
"""
import copy
import difflib
import re

import yaml

from .. import rules
from .keys import KEYS, AttrDict, cfg

__all__ = ["load_config", "validate"]


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


