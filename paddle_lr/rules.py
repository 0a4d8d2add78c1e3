"""Validation rules for the schedule and the training config, written once.

Each rule takes the name the caller knows the value by (a cfg key such as
``lr_steps`` or an argument such as ``boundaries``) and raises
:class:`ConfigError` with one line, ``<name>: <rule>, got <value>``. The cfg
layer (:mod:`paddle_lr.config`), the Python API
(:func:`paddle_lr.exponential_with_warmup_decay`) and the tools all call these
functions, so a rule and its message live only here.
"""
import math
import numbers
import warnings

__all__ = [
    "ConfigError",
    "ConfigTypeError",
    "ScheduleWarning",
    "FLOAT32_EXACT_STEPS",
    "real",
    "integer",
    "boolean",
    "choice",
    "optional_text",
    "exactly_one",
    "required_with",
    "increasing_steps",
    "piecewise_values",
    "check_schedule",
    "warn_schedule",
]

FLOAT32_EXACT_STEPS = 2 ** 24
"""Past this many steps the float32 step can no longer tell neighbouring steps apart."""


class ConfigError(ValueError):
    """A config key or schedule argument breaks a rule; the message is one line."""


class ConfigTypeError(ConfigError, TypeError):
    """A config key or schedule argument has the wrong type."""


class ScheduleWarning(UserWarning):
    """A schedule that is valid but probably not what was meant."""


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def real(name, value, *, low=None, low_open=False, high=None, high_open=False):
    """A finite real number within bounds.

    Args:
        name (str): the key or argument name, for the message.
        value: the value to check.
        low (float, optional): the lower bound.
        low_open (bool): the lower bound itself is excluded.
        high (float, optional): the upper bound.
        high_open (bool): the upper bound itself is excluded.

    Returns:
        float: ``value`` as a Python float.
    """
    if not _is_real(value):
        raise ConfigTypeError(f"{name}: must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name}: must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(f"{name}: must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(f"{name}: must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return value


def integer(name, value, *, low=None):
    """A whole number (an int, or a float with no fraction), at least ``low``.

    Args:
        name (str): the key or argument name.
        value: the value to check.
        low (int, optional): the smallest allowed value.

    Returns:
        int: ``value`` as a Python int.
    """
    if not _is_real(value) or not float(value).is_integer():
        raise ConfigTypeError(f"{name}: must be a whole number, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ConfigError(f"{name}: must be >= {low}, got {value!r}")
    return value


def boolean(name, value):
    """A bool (``true``/``false`` in YAML).

    Args:
        name (str): the key name.
        value: the value to check.

    Returns:
        bool: ``value``.
    """
    if not isinstance(value, bool):
        raise ConfigTypeError(f"{name}: must be true or false, got {value!r}")
    return value


def choice(name, value, options):
    """One of a fixed set of strings.

    Args:
        name (str): the key or argument name.
        value: the value to check.
        options (sequence of str): the allowed values.

    Returns:
        str: ``value``.
    """
    if value not in options:
        raise ConfigError(f"{name}: must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def optional_text(name, value):
    """A string or None (paths, names).

    Args:
        name (str): the key name.
        value: the value to check.

    Returns:
        str or None: ``value``.
    """
    if value is not None and not isinstance(value, str):
        raise ConfigTypeError(f"{name}: must be a string, got {value!r}")
    return value


def exactly_one(named):
    """Exactly one of several alternative arguments is given (not None).

    Args:
        named (dict): argument name -> value, in the order to name them.

    Returns:
        str: the name of the one given.
    """
    given = [name for name, value in named.items() if value is not None]
    if len(given) != 1:
        got = " and ".join(given) if given else "none"
        raise ConfigError(f"{' / '.join(named)}: give exactly one, got {got}")
    return given[0]


def required_with(name, value, by):
    """An argument that must be given (not None) because another one is.

    Args:
        name (str): the required argument's name.
        value: its value.
        by (str): the name of the argument that needs it.

    Returns:
        The value.
    """
    if value is None:
        raise ConfigError(f"{name}: required with {by}")
    return value


def increasing_steps(name, value):
    """Boundaries: a list of positive whole steps, strictly increasing.

    Args:
        name (str): the key or argument name.
        value: the value to check.

    Returns:
        list[int]: the steps.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigTypeError(f"{name}: must be a list of steps, got {value!r}")
    steps = [integer(f"{name}[{i}]", v, low=1) for i, v in enumerate(value)]
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise ConfigError(
                f"{name}: must be strictly increasing, got {steps!r} "
                f"({name}[{i}]={steps[i]} <= {name}[{i - 1}]={steps[i - 1]})"
            )
    return steps


def piecewise_values(name, value, boundaries=None):
    """Piecewise values: finite numbers >= 0, one more than the boundaries.

    Args:
        name (str): the key or argument name.
        value: the value to check.
        boundaries (list[int], optional): the checked boundaries; without them
            the count is not checked.

    Returns:
        list[float]: the values.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigTypeError(f"{name}: must be a list of numbers, got {value!r}")
    values = [real(f"{name}[{i}]", v, low=0.0) for i, v in enumerate(value)]
    if boundaries is not None and len(values) != len(boundaries) + 1:
        raise ConfigError(
            f"{name}: must hold len(boundaries) + 1 = {len(boundaries) + 1} values, "
            f"got {len(values)}: {values!r}"
        )
    return values


def check_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor, names=None):
    """Check the five schedule arguments; raise on the first broken rule.

    Args:
        learning_rate, boundaries, values, warmup_iter, warmup_factor: the
            arguments of :func:`paddle_lr.exponential_with_warmup_decay`.
        names (dict, optional): the names to use in messages (cfg keys), by
            argument name; the argument names by default.

    Returns:
        tuple: ``(learning_rate, boundaries, values, warmup_iter, warmup_factor)``
        as Python floats and lists.
    """
    n = dict(
        learning_rate="learning_rate",
        boundaries="boundaries",
        values="values",
        warmup_iter="warmup_iter",
        warmup_factor="warmup_factor",
    )
    n.update(names or {})
    learning_rate = real(n["learning_rate"], learning_rate, low=0.0, low_open=True)
    boundaries = increasing_steps(n["boundaries"], boundaries)
    values = piecewise_values(n["values"], values, boundaries)
    warmup_iter = real(n["warmup_iter"], warmup_iter, low=0.0)
    warmup_factor = real(n["warmup_factor"], warmup_factor, low=0.0)
    return learning_rate, boundaries, values, warmup_iter, warmup_factor


def warn_schedule(boundaries, warmup_iter, warmup_factor, max_iter=None, lr_gamma=None, names=None):
    """Warn (:class:`ScheduleWarning`) about valid schedules that are probably mistakes.

    Args:
        boundaries (list[int]): checked boundaries.
        warmup_iter (float): checked warmup length.
        warmup_factor (float): checked warmup start factor.
        max_iter (int, optional): the training length, when known.
        lr_gamma (float, optional): the decay factor, when known.
        names (dict, optional): names for the messages, as in :func:`check_schedule`
            (also ``max_iter`` and ``lr_gamma``).

    Returns:
        list[str]: the warning messages issued.
    """
    n = dict(
        boundaries="boundaries",
        warmup_iter="warmup_iter",
        warmup_factor="warmup_factor",
        max_iter="max_iter",
        lr_gamma="lr_gamma",
    )
    n.update(names or {})
    issued = []
    if lr_gamma is not None and lr_gamma > 1:
        issued.append(f"{n['lr_gamma']}: {lr_gamma!r} > 1, the lr grows at each boundary")
    if warmup_factor > 1:
        issued.append(
            f"{n['warmup_factor']}: {warmup_factor!r} > 1, the warmup comes down to the lr"
        )
    if max_iter is not None:
        late = [b for b in boundaries if b >= max_iter]
        if late:
            issued.append(
                f"{n['boundaries']}: {late!r} at or beyond {n['max_iter']}={max_iter}, "
                "the lr never decays there"
            )
    covered = [b for b in boundaries if b <= warmup_iter]
    if covered:
        issued.append(
            f"{n['warmup_iter']}: {warmup_iter!r} covers {n['boundaries']} {covered!r}, "
            "the warmup overrides the decay there"
        )
    # The key that reaches furthest (max_iter first, so that it is named on a tie).
    reach = {n["max_iter"]: max_iter, n["boundaries"]: boundaries[-1] if boundaries else None,
             n["warmup_iter"]: warmup_iter}
    key, last = max(((k, v) for k, v in reach.items() if v is not None), key=lambda kv: kv[1])
    if last > FLOAT32_EXACT_STEPS:
        issued.append(
            f"{key}: the schedule runs past 2**24 steps ({last!r}), where the float32 step counter "
            "can no longer tell neighbouring steps apart"
        )
    for message in issued:
        warnings.warn(message, ScheduleWarning, stacklevel=2)
    return issued
