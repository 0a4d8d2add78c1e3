"""Reading a cfg: YAML files (safe loading, plain data only) and ``KEY=VALUE`` overrides.

Plain data: this module does not import Paddle.
"""
import difflib
import os
import re
import warnings

from typing import Any, Mapping, Optional, Sequence, Union

import yaml

from .. import rules
from . import ppdet
from ..schedules.lowerings import warn_big_switch
from .keys import ARG_KEYS, KEYS, OPTIMIZER_ARGS, AttrDict, KeyTable, defaults

__all__ = ["load_config", "validate"]


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one YAML mapping (PyYAML would keep the last silently)."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and reads ``1e-4`` as a float.

    Plain data only: tags other than YAML's own are errors, never Python objects.
    A key given twice in one mapping, at any depth, raises
    :class:`DuplicateKeyError`; merge keys (``<<: *base``) may still be
    overridden by the mapping's own keys, as YAML says.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    key = "<<"  # given twice, both would be merged in silently
                else:
                    key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # unhashable: PyYAML's own error follows
                    continue
                if first is not key_node.start_mark:
                    raise DuplicateKeyError(
                        None, first, f"duplicate key {rules.shown(key)}", key_node.start_mark
                    )
        return super().construct_mapping(node, deep=deep)


def _construct_tagged(loader, suffix, node):
    """A local tag (``!PiecewiseDecay {...}``) as plain data: never a Python object."""
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node) or None
    return ppdet.Tagged(suffix, value)


_Loader.add_multi_constructor("!", _construct_tagged)

# YAML 1.1 wants 1.0e-4; 1e-4 is what people write.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)$"),
    list("-+0123456789."),
)


def _one_line(text):
    return " ".join(str(text).split())


def _parse_yaml(text, where):
    """``text`` as plain YAML data; any failure is one ConfigError line naming ``where``."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        if isinstance(exc, DuplicateKeyError) and mark is not None and exc.context_mark is not None:
            first = exc.context_mark.line + 1
            raise rules.ConfigError(
                f"{where}: {exc.problem} on line {mark.line + 1} (column {mark.column + 1}), "
                f"first on line {first}"
            ) from None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise rules.ConfigError(f"{where}: not plain YAML data{at}: {_one_line(problem)}") from None
    except RecursionError:
        raise rules.ConfigError(f"{where}: not plain YAML data: nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise what they meet
        # A scalar that its tag's constructor refuses with a plain Python error:
        # a date like 2001-02-30 (ValueError), an int of more than 4300 digits
        # (ValueError), ``!!bool maybe`` (KeyError), ``!!timestamp x`` (AttributeError).
        raise rules.ConfigError(
            f"{where}: not plain YAML data: a value its tag cannot make ({type(exc).__name__}: "
            f"{_one_line(exc)[:200]})"
        ) from None


def _read_text(path):
    """The UTF-8 text of a config file (a leading BOM is dropped); one line on failure."""
    # a FIFO or a device (/dev/zero) is refused before it is read, and the size is bounded
    data = rules.read_regular("config", path, max_bytes=rules.MAX_TEXT_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise rules.ConfigError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, line {line})"
        ) from None


def _key_name(key):
    """A key as it may appear at the start of a one-line message."""
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= 80:
        return key
    return rules.shown(key)


def _check_known(key, where, keys):
    if key not in keys:
        name = _key_name(key)
        close = difflib.get_close_matches(key, keys, n=1) if isinstance(key, str) and len(key) <= 80 else []
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise rules.ConfigError(f"{name}: unknown key in {where}{hint}")


def load_config(path: Optional[Union[str, os.PathLike]] = None, overrides: Sequence[str] = (),
                keys: KeyTable = KEYS) -> AttrDict:
    """The defaults, then a YAML file, then ``KEY=VALUE`` overrides, validated.

    Args:
        path (str, optional): a YAML mapping of cfg keys, or a PaddleDetection
            static-graph config (one with a ``LearningRate:`` section, read by
            :mod:`.ppdet`); defaults only when None.
        overrides (sequence of str): ``KEY=VALUE`` items; each VALUE is read as a
            YAML scalar or list (``lr_steps=[100,200]``, ``max_iter=3``), never run as code.
        keys (dict): the key table, :data:`KEYS` or one that holds it and more
            (the demo's, :data:`paddle_lr.demo.keys.KEYS`, adds its data, model and run keys).

    Returns:
        AttrDict: a validated copy of the cfg.

    Raises:
        ConfigError: one line naming the file or key, the rule and the value.
    """
    out = defaults(keys)
    skipped: list = []
    noted: list = []
    if path is not None:
        # a path, not an int: open(2) would read (and then close) the process's stderr
        rules.instance("config", path, (str, os.PathLike), "a file path (str or os.PathLike)")
        data = _parse_yaml(_read_text(path), str(path))
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise rules.ConfigError(f"{path}: must hold a mapping of keys, got {type(data).__name__}")
        if ppdet.is_ppdet(data):
            with warnings.catch_warnings(record=True) as noted:  # shown once the cfg is valid
                warnings.simplefilter("always")
                data, skipped = ppdet.convert(data, str(path))
        for key, value in data.items():
            _check_known(key, str(path), keys)
            out[key] = value
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise rules.ConfigError(f"override: must be KEY=VALUE, got {rules.shown(item)}")
        _check_known(key, "overrides", keys)
        out[key] = _parse_yaml(text, f"override {key}") if text.strip() else None
    out = validate(out, keys)
    for note in noted:  # once valid: a bad config gets one error line only
        warnings.warn(f"{path}: {note.message}", note.category, stacklevel=2)
    ppdet.warn_skipped(str(path), skipped)
    return out


def validate(config: Mapping[str, Any], keys: KeyTable = KEYS) -> AttrDict:
    """Check every key of ``config`` and the rules across keys.

    Errors raise :class:`~paddle_lr.rules.ConfigError`; schedules that are valid
    but probably mistakes warn with :class:`~paddle_lr.rules.ScheduleWarning`.

    Args:
        config (dict): a full cfg (all keys of ``keys``, no other).
        keys (dict): the key table (as :func:`load_config`'s).

    Returns:
        AttrDict: the checked cfg, numbers normalised (ints and floats).
    """
    out = AttrDict()
    for key, (_, rule, _) in keys.items():
        if key not in config:
            raise rules.ConfigError(f"{key}: missing from the config")
        out[key] = rule(key, config[key])
    for key in config:
        _check_known(key, "config", keys)
    rules.keyword_args("optimizer_args", out.optimizer_args, OPTIMIZER_ARGS[out.optimizer], out.optimizer)
    if out.schedule is not None:
        # A family schedule replaces the R-CNN one: its keys are unused, and batch scaling
        # (which rewrites them) does not reach into a spec.
        for key in ("scale_lr_by_batch", "scale_iters_by_batch"):
            if out[key]:
                raise rules.ConfigError(
                    f"{key}: scales the R-CNN schedule keys only; with a schedule spec, give the "
                    "scaled schedule itself, got true")
        return out
    if out.lr_values is not None:
        rules.piecewise_values("lr_values", out.lr_values, out.lr_steps)
    else:  # the derived values learning_rate * lr_gamma**i stay finite in float32
        rules.float32_products("learning_rate", out.learning_rate, "lr_gamma", out.lr_gamma,
                               len(out.lr_steps) + 1)
    rules.float32_products("learning_rate", out.learning_rate, "warm_up_factor", out.warm_up_factor, 2)
    rules.warn_schedule(out.lr_steps, out.warm_up_iter, out.warm_up_factor, max_iter=out.max_iter,
                        lr_gamma=out.lr_gamma, names=ARG_KEYS)
    if out.lr_impl == "switch":
        warn_big_switch("lr_steps", len(out.lr_steps), "lr_impl", stacklevel=3)
    return out


