"""Validation rules for the schedule and the training config, written once.

Each rule takes the name the caller knows the value by (a cfg key such as
``lr_steps`` or an argument such as ``boundaries``) and raises
:class:`ConfigError` with one line, ``<name>: <rule>, got <value>``. The cfg
layer (:mod:`paddle_lr.config`), the Python API
(:func:`paddle_lr.exponential_with_warmup_decay`) and the tools all call these
functions, so a rule and its message live only here. A rule's docstring lists
only its arguments beyond ``name`` and ``value`` (the value to check).
"""
import contextlib
import math
import numbers
import os
import reprlib
import stat
import warnings
from typing import IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

__all__ = [
    "ConfigError",
    "ConfigTypeError",
    "ScheduleWarning",
    "FLOAT32_EXACT_STEPS",
    "FLOAT32_MAX",
    "FLOAT32_TINY",
    "FLOAT32_SMALLEST",
    "INT64_MIN",
    "INT64_MAX",
    "MAX_ITERATIONS",
    "MAX_BOUNDARIES",
    "MAX_BATCH",
    "MAX_IMAGES",
    "MAX_TEXT_BYTES",
    "shown",
    "one_line",
    "real",
    "float32",
    "float32_product",
    "lr_tensor_shape",
    "instance",
    "integer",
    "boolean",
    "choice",
    "optional_text",
    "variable_name",
    "exactly_one",
    "required_with",
    "increasing_steps",
    "first_case_steps",
    "keyword_args",
    "piecewise_values",
    "float32_products",
    "check_schedule",
    "warn_schedule",
    "path_text",
    "memory_bytes",
    "fits_in_memory",
    "open_regular",
    "read_regular",
    "read_json",
    "naming",
]

FLOAT32_EXACT_STEPS = 2 ** 24
"""Past this many steps the float32 step can no longer tell neighbouring steps apart."""

# -- The ranges a run can use (the cfg's key table applies them; docs/config.md lists them) --
FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: every lr the graph holds (and the L2 coefficient) must stay below it."""
FLOAT32_TINY = 2.0 ** -126
"""float32's smallest normal number: a nonzero value the graph divides by must be at least this
large (a quotient by a smaller one is not finite)."""
FLOAT32_SMALLEST = 2.0 ** -149
"""float32's smallest positive number: a nonzero value smaller than this becomes 0 there."""
INT64_MIN = -(2 ** 63)
"""The smallest int64 (the step counters' type)."""
INT64_MAX = 2 ** 63 - 1
"""The largest int64: the step counters' last value."""
MAX_ITERATIONS = 10 ** 8
"""The furthest step a cfg may name, in iterations (max_iter, each lr_steps entry,
warm_up_iter, snapshot_iter): about 6 times :data:`FLOAT32_EXACT_STEPS`, where the float32 step counter
already stops telling steps apart (a warning), and well beyond any real run
(the R-CNN 1x recipe is 180000)."""
MAX_BOUNDARIES = 10000
"""The most lr_steps entries (a decay every epoch of a very long run). The default
lowering is the branch-free lookup, whose memory and per-step cost do not grow
with the count (benchmarks/RESULTS.md)."""
MAX_BATCH = 4096
"""The most images per device per iteration, devices, and reference total batch (each)."""
MAX_IMAGES = 10 ** 9
"""The most images a dataset may be said to hold (dataset_images, the planning's images)."""
MAX_TEXT_BYTES = 64 * 2 ** 20
"""The largest cfg or snapshot manifest read, bytes (they are a few KiB)."""


class _Shown(reprlib.Repr):
    """``repr`` bounded in length and depth; huge ints by their digit count."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxarray = 20
        self.maxdict = self.maxset = self.maxfrozenset = self.maxdeque = 10
        self.maxstring = 120
        self.maxother = 120
        self.maxlong = 60

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 190:  # more than 57 digits: do not ask str() for them
            digits = int((abs(x).bit_length() - 1) * math.log10(2)) + 1
            digits += abs(x) >= 10 ** digits
            return f"<int of {digits} digits>"
        return super().repr_int(x, level)

    def _tensor(self, x: Any, level: int) -> str:
        """A tensor (Paddle's eager ``Tensor``, static ``Variable`` or PIR ``Value``) by dtype and shape, not data."""
        try:
            return f"<{str(x.dtype).replace('paddle.', '')} tensor of shape {[int(d) for d in x.shape]}>"
        except Exception:  # a tensor-named object of another library: its kind at least
            return f"<{type(x).__name__}>"

    repr_Tensor = repr_Value = repr_Variable = _tensor


_SHOWN = _Shown()
_SHOWN_MAX = 300


def shown(value: Any) -> str:
    """``repr(value)`` for a one-line message: the same for ordinary values,
    bounded (``...``) for long strings, big or deep containers and huge ints.

    Args:
        value: anything a config may hold.

    Returns:
        str: a printable line of at most ``_SHOWN_MAX`` characters.

    >>> shown([1, 2.5, 'a'])
    "[1, 2.5, 'a']"
    >>> shown(10 ** 100)
    '<int of 101 digits>'
    """
    try:
        text = _SHOWN.repr(value)
    except Exception:  # a repr that fails (an exotic object) still gets a line
        text = f"<{type(value).__name__}>"
    return one_line(text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX - 3] + "...")


# Every character str.splitlines() breaks a line at.
_LINE_BREAKS = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
                for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


def one_line(text: Any) -> str:
    """``text`` with every line break escaped (``\\n`` as ``\\x0a``), so that it prints as one line.

    Args:
        text: a message (anything ``str()`` takes).

    Returns:
        str: the same text, with no character that ``str.splitlines`` breaks at.

    >>> one_line("unrecognized arguments: a\\nb")
    'unrecognized arguments: a\\\\x0ab'
    """
    return str(text).translate(_LINE_BREAKS)


class ConfigError(ValueError):
    """A config key or schedule argument breaks a rule; the message is one line."""


class ConfigTypeError(ConfigError, TypeError):
    """A config key or schedule argument has the wrong type."""


class ScheduleWarning(UserWarning):
    """A schedule that is valid but probably not what was meant."""


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def real(name: str, value: Any, *, low: Optional[float] = None, low_open: bool = False,
         high: Optional[float] = None, high_open: bool = False) -> float:
    """A finite real number within bounds.

    Args:
        low (float, optional): the lower bound.
        low_open (bool): the lower bound itself is excluded.
        high (float, optional): the upper bound.
        high_open (bool): the upper bound itself is excluded.

    Returns:
        float: ``value`` as a Python float.
    """
    if not _is_real(value):
        raise ConfigTypeError(f"{name}: must be a number, got {shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ConfigError(f"{name}: must be finite, got {shown(value)}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}: must be finite, got {shown(value)}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(f"{name}: must be {'>' if low_open else '>='} {low:g}, got {shown(value)}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(f"{name}: must be {'<' if high_open else '<='} {high:g}, got {shown(value)}")
    return value


def float32(name: str, value: Any, *, divisor: bool = False, **bounds: Any) -> float:
    """A :func:`real` (same ``bounds``) that the graph holds as float32: finite there; one that
    must be > 0 not so small that it becomes 0 there; one the graph divides by (``divisor``) 0 or
    at least :data:`FLOAT32_TINY`, or the quotient is not finite.

    Returns:
        float: ``value`` as a Python float.

    >>> float32("learning_rate", 1e39)
    Traceback (most recent call last):
    ...
    paddle_lr.rules.ConfigError: learning_rate: must be finite in float32 (at most 3.40282e+38), got 1e+39
    """
    value = real(name, value, **bounds)
    if abs(value) > FLOAT32_MAX:
        raise ConfigError(f"{name}: must be finite in float32 (at most {FLOAT32_MAX:g}), got {shown(value)}")
    positive = bounds.get("low") == 0 and bounds.get("low_open")
    if divisor and value != 0 and abs(value) < FLOAT32_TINY:
        zero = "" if positive else "0 or "
        raise ConfigError(f"{name}: must be {zero}at least {FLOAT32_TINY:g} (float32's smallest normal "
                          f"number), got {shown(value)}")
    if positive and value < FLOAT32_SMALLEST / 2:  # rounds to 0 in float32
        raise ConfigError(f"{name}: must be > 0 in float32 (at least {FLOAT32_SMALLEST:g}), got {shown(value)}")
    return value


def float32_product(name: str, expression: str, value: float) -> float:
    """A value the graph derives from checked arguments (``expression``, e.g.
    ``learning_rate * warmup_factor``) must stay finite in float32; ``name`` is the argument blamed.

    Returns:
        float: ``value``.
    """
    if not abs(value) <= FLOAT32_MAX:
        raise ConfigError(f"{name}: {expression} = {value:g} is beyond float32 (max {FLOAT32_MAX:g})")
    return value


def lr_tensor_shape(name: str, shape: Any) -> None:
    """An lr tensor holds one value: shape [1].

    Args:
        name (str): the argument name.
        shape (sequence of int): the tensor's shape.
    """
    if [int(d) for d in shape] != [1]:
        raise ConfigError(f"{name}: must be a tensor of shape [1] (one learning rate), got shape {list(shape)}")


def instance(name: str, value: Any, types: Any, what: str) -> Any:
    """``value`` is an instance of one of ``types`` (``what`` says which, for the message).

    Returns:
        ``value``.
    """
    if not isinstance(value, types) or isinstance(value, bool):
        raise ConfigTypeError(f"{name}: must be {what}, got {shown(value)}")
    return value


def integer(name: str, value: Any, *, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """A whole number (an int, or a float with no fraction), from ``low`` to ``high``.

    Args:
        low (int, optional): the smallest allowed value.
        high (int, optional): the largest allowed value.

    Returns:
        int: ``value`` as a Python int.
    """
    if not _is_real(value) or not (isinstance(value, numbers.Integral) or float(value).is_integer()):
        raise ConfigTypeError(f"{name}: must be a whole number, got {shown(value)}")
    whole = int(value)
    if low is not None and whole < low:
        raise ConfigError(f"{name}: must be >= {low}, got {shown(value)}")
    if high is not None and whole > high:
        raise ConfigError(f"{name}: must be <= {high}, got {shown(value)}")
    return whole


def boolean(name: str, value: Any) -> bool:
    """A bool (``true``/``false`` in YAML).

    Returns:
        bool: ``value``.
    """
    if not isinstance(value, bool):
        raise ConfigTypeError(f"{name}: must be true or false, got {shown(value)}")
    return value


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """One of a fixed set of strings.

    Args:
        options (sequence of str): the allowed values.

    Returns:
        str: ``value``.
    """
    if value not in options:
        raise ConfigError(f"{name}: must be one of {', '.join(map(repr, options))}, got {shown(value)}")
    return value


def optional_text(name: str, value: Any) -> Optional[str]:
    """A string or None (paths, names).

    Returns:
        str or None: ``value``.
    """
    if value is not None and not isinstance(value, str):
        raise ConfigTypeError(f"{name}: must be a string, got {shown(value)}")
    return value


def variable_name(name: str, value: Any) -> Optional[str]:
    """An optional variable name that stays inside a checkpoint directory when used as a file name.

    Paddle's ``save_vars``/``save_persistables`` write each variable to
    ``<dirname>/<its name>``: a name with a ``..`` component or a leading ``/``
    would be written outside the directory. ``/`` inside a name (a
    subdirectory) is allowed, as Paddle allows it.

    Args:
        name (str): the argument name, for the message.
        value: a string or None.

    Returns:
        str or None: ``value``.
    """
    value = optional_text(name, value)
    if value is not None and (value == "" or value.startswith("/") or ".." in value.split("/") or "\0" in value):
        raise ConfigError(
            f"{name}: must be a variable name that stays inside a checkpoint directory as a file name "
            f"(not empty, no leading '/', no '..' part), got {shown(value)}"
        )
    return value


def exactly_one(named: Mapping[str, Any]) -> str:
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


def alias(owner: str, old_name: str, old_value: Any, name: str, value: Any) -> Any:
    """An argument that may also be given under its old (fluid's) name; not under both.

    Args:
        owner (str): the function or class taking it (for the message).
        old_name (str): the old name (``regularization``).
        old_value: the value given under it, or None.
        name (str): today's name (``weight_decay``).
        value: the value given under it, or None.

    Returns:
        The value given (None when neither is).
    """
    if old_value is not None and value is not None:
        raise ConfigError(
            f"{owner}: give {old_name} or {name}, not both, got {shown(old_value)} and {shown(value)}"
        )
    return value if old_value is None else old_value


def refused(owner: str, name: str, value: Any, why: str) -> None:
    """An argument a callable does not take, given: one line saying why.

    Args:
        owner (str): the function or class.
        name (str): the argument's name.
        value: the value given; None means not given.
        why (str): the reason, and what to give instead.
    """
    if value is not None:
        raise ConfigError(f"{owner}: {name} is not taken ({why}), got {shown(value)}")


def required_with(name: str, value: Any, by: str) -> Any:
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


def increasing_steps(name: str, value: Any, *, high: Optional[int] = None,
                     max_count: Optional[int] = None) -> List[int]:
    """Boundaries: a list of positive whole steps, strictly increasing.

    Args:
        high (int, optional): the largest allowed step.
        max_count (int, optional): the most steps allowed.

    Returns:
        list[int]: the steps.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigTypeError(f"{name}: must be a list of steps, got {shown(value)}")
    if max_count is not None and hasattr(value, "__len__") and len(value) > max_count:
        raise ConfigError(f"{name}: must hold at most {max_count} steps, got {len(value)}")
    steps = [integer(f"{name}[{i}]", v, low=1, high=high) for i, v in enumerate(value)]
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise ConfigError(
                f"{name}: must be strictly increasing, got {shown(steps)} "
                f"({name}[{i}]={steps[i]} <= {name}[{i - 1}]={steps[i - 1]})"
            )
    return steps


def first_case_steps(name: str, value: Any, *, high: Optional[int] = None,
                     max_count: Optional[int] = None) -> Tuple[List[int], List[int]]:
    """Boundaries of a ``Switch`` of ``step < boundary`` cases, in any order, as fluid's graph ran them.

    Fluid's ``piecewise_decay`` built one case per boundary, in order, and the
    first case that holds wins: a boundary not above every one before it never
    fires (its value is never taken). Such boundaries warn
    (:class:`ScheduleWarning`), one line naming them.

    Args:
        value: the value to check (a list of positive whole steps).
        high (int, optional): the largest allowed step.
        max_count (int, optional): the most steps allowed.

    Returns:
        tuple: ``(steps, kept)``: the steps as ints, and the indices of those that can fire
        (all, when increasing).
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigTypeError(f"{name}: must be a list of steps, got {shown(value)}")
    if max_count is not None and hasattr(value, "__len__") and len(value) > max_count:
        raise ConfigError(f"{name}: must hold at most {max_count} steps, got {len(value)}")
    steps = [integer(f"{name}[{i}]", v, low=1, high=high) for i, v in enumerate(value)]
    if not steps:
        raise ConfigError(f"{name}: must hold at least one step, got []")
    kept = [i for i, step in enumerate(steps) if i == 0 or step > max(steps[:i])]
    if len(kept) < len(steps):
        never = [f"[{i}]={steps[i]}" for i in range(len(steps)) if i not in kept]
        warnings.warn(
            f"{name}: not increasing, got {shown(steps)}: {', '.join(never)} never "
            f"{'fires' if len(never) == 1 else 'fire'} (fluid's Switch takes the first case that holds); "
            f"built as {shown([steps[i] for i in kept])}", ScheduleWarning, stacklevel=2)
    return steps, kept


def keyword_args(name: str, value: Any, table: Mapping[str, Callable[[str, Any], Any]],
                 owner: str = "it") -> Dict[str, Any]:
    """A mapping of keyword arguments, each checked by its rule in ``table``.

    Args:
        name (str): the key name.
        value: the value to check (a mapping, or None for none).
        table (dict): argument name -> ``rule(name, value)``.
        owner (str): what takes the arguments, for the message.

    Returns:
        dict: the checked arguments.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigTypeError(f"{name}: must be a mapping of arguments, got {shown(value)}")
    for key in value:
        if key not in table:
            allowed = ", ".join(table) if table else "none"
            label = f"{name}.{key}" if isinstance(key, str) and key.isidentifier() else f"{name}[{shown(key)}]"
            raise ConfigError(f"{label}: not an argument of {owner} (it takes: {allowed}), got {shown(value[key])}")
    return {k: table[k](f"{name}.{k}", v) for k, v in value.items()}


def piecewise_values(name: str, value: Any, boundaries: Optional[Sequence[int]] = None, *,
                     high: Optional[float] = None) -> List[float]:
    """Piecewise values: finite numbers >= 0, one more than the boundaries.

    Args:
        boundaries (list[int], optional): the checked boundaries; without them
            the count is not checked.
        high (float, optional): the largest allowed value.

    Returns:
        list[float]: the values.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigTypeError(f"{name}: must be a list of numbers, got {shown(value)}")
    values = [float32(f"{name}[{i}]", v, low=0.0, high=high) for i, v in enumerate(value)]
    if boundaries is not None and len(values) != len(boundaries) + 1:
        raise ConfigError(
            f"{name}: must hold len(boundaries) + 1 = {len(boundaries) + 1} values, "
            f"got {len(values)}: {shown(values)}"
        )
    return values


def float32_products(base_name: str, base: float, factor_name: str, factor: float, count: int) -> List[float]:
    """``base * factor ** i`` for ``i < count``, each finite in float32.

    Args:
        base_name (str): the name of ``base`` (the lr key), for the message.
        base (float): a checked finite number >= 0.
        factor_name (str): the name of ``factor``, for the message.
        factor (float): a checked finite number >= 0.
        count (int): how many products.

    Returns:
        list[float]: the products, computed as repeated Python float products.

    >>> float32_products("lr", 0.5, "gamma", 0.1, 3)[:2]
    [0.5, 0.05]
    """
    products, value = [], base
    for i in range(count):
        if not value <= FLOAT32_MAX:
            raise ConfigError(
                f"{factor_name}: {base_name} * {factor_name}**{i} = {value:g} is beyond float32 "
                f"(max {FLOAT32_MAX:g}), got {factor_name}={shown(factor)}"
            )
        products.append(value)
        value = value * factor
    return products


_AS_WRITTEN: Mapping[str, str] = {}


def check_schedule(learning_rate: Any, boundaries: Any, values: Any, warmup_iter: Any,
                   warmup_factor: Any) -> Tuple[float, List[int], List[float], float, float]:
    """Check the five schedule arguments; raise on the first broken rule.

    Args:
        learning_rate, boundaries, values, warmup_iter, warmup_factor: the
            arguments of :func:`paddle_lr.exponential_with_warmup_decay`
            (a cfg checks its keys one by one: :data:`paddle_lr.config.keys.KEYS`).

    Returns:
        tuple: ``(learning_rate, boundaries, values, warmup_iter, warmup_factor)``
        as Python floats and lists.
    """
    learning_rate = float32("learning_rate", learning_rate, low=0.0, low_open=True)
    boundaries = increasing_steps("boundaries", boundaries)
    values = piecewise_values("values", values, boundaries)
    warmup_iter = float32("warmup_iter", warmup_iter, low=0.0, divisor=True)
    warmup_factor = float32("warmup_factor", warmup_factor, low=0.0)
    float32_product("warmup_factor", "learning_rate * warmup_factor", learning_rate * warmup_factor)
    return learning_rate, boundaries, values, warmup_iter, warmup_factor


def warn_schedule(boundaries: Sequence[int], warmup_iter: float, warmup_factor: float,
                  max_iter: Optional[int] = None, lr_gamma: Optional[float] = None,
                  names: Mapping[str, str] = _AS_WRITTEN) -> List[str]:
    """Warn (:class:`ScheduleWarning`) about valid schedules that are probably mistakes.

    Args:
        boundaries (list[int]): checked boundaries.
        warmup_iter (float): checked warmup length.
        warmup_factor (float): checked warmup start factor.
        max_iter (int, optional): the training length, when known.
        lr_gamma (float, optional): the decay factor, when known.
        names (dict): argument name -> the name messages show (a cfg passes its
            keys, :data:`paddle_lr.config.keys.ARG_KEYS`); others by their own name.

    Returns:
        list[str]: the warning messages issued.
    """
    n = {name: names.get(name, name) for name in ("boundaries", "warmup_iter", "warmup_factor", "max_iter", "lr_gamma")}
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
            f"{key}: the schedule runs past 2**{FLOAT32_EXACT_STEPS.bit_length() - 1} steps ({last!r}), "
            "where the float32 step counter "
            "can no longer tell neighbouring steps apart"
        )
    for message in issued:
        warnings.warn(message, ScheduleWarning, stacklevel=2)
    return issued


# -- Files read from a user: regular files only, of bounded size --
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def path_text(name: str, value: Any) -> str:
    """A path argument that names something: not empty, not only spaces.

    Args:
        value (str or os.PathLike): the path given.

    Returns:
        str: the path as text.

    Raises:
        ConfigError: the path is empty (``""`` would mean the current directory).
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not isinstance(text, str):
        raise ConfigTypeError(f"{name}: must be a path, got {shown(value)}")
    if not text.strip():
        raise ConfigError(f"{name}: must be a non-empty path, got {text!r}")
    return text


@contextlib.contextmanager
def naming(path: Any) -> Iterator[Any]:
    """While inside, an ``OSError`` that names no file gets ``path``, so that its one line names it.

    A write through a file object to a full disk, and PIL's image writers,
    raise ``OSError(ENOSPC)`` with no file name; the tools print
    ``PATH: reason`` from it.

    Args:
        path (str or os.PathLike): the file being written.

    Yields:
        the path.

    Raises:
        OSError: the error, with ``filename`` set.
    """
    try:
        yield path
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None


def _os_error(name: str, path: Any, exc: OSError) -> "ConfigError":
    return ConfigError(f"{name}: cannot read {path}: {exc.strerror or exc}")


def open_regular(name: str, path: Any, *, max_bytes: Optional[int] = None) -> IO[bytes]:
    """Open a file for reading in binary, refusing what is not a regular file before anything is read.

    The file is opened without blocking (a FIFO would wait for a writer
    forever) and checked on the descriptor, so a path swapped for a FIFO or a
    device between a check and the open is still refused.

    Args:
        name (str): the key, argument or role of the file, for the message.
        path (str or os.PathLike): the file.
        max_bytes (int, optional): the most bytes it may hold.

    Returns:
        file: a binary file object open for reading.

    Raises:
        ConfigError: one line: an empty path, no such file (``cannot read PATH: ...``), not a regular file
            (a FIFO, a device, a directory), larger than ``max_bytes``, or the
            operating system's refusal (permission).
    """
    text = path_text(name, path)
    try:
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except IsADirectoryError:
        raise ConfigError(f"{name}: must be a regular file, got {text!r} (a directory)") from None
    except OSError as exc:
        raise _os_error(name, text, exc) from None
    try:
        info = os.fstat(fd)
        kind = next((label for test, label in _KINDS if test(info.st_mode)), None)
        if kind is not None or not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{name}: must be a regular file, got {text!r} ({kind or 'not a regular file'})")
        if max_bytes is not None and info.st_size > max_bytes:
            raise ConfigError(f"{name}: must be at most {max_bytes} bytes, got {text!r} of {info.st_size} bytes")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(name: str, path: Any, *, max_bytes: Optional[int] = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (:func:`open_regular`'s rules).

    Args:
        name (str): the key, argument or role of the file, for the message.
        path (str or os.PathLike): the file.
        max_bytes (int, optional): the most bytes it may hold (checked again
            while reading, for a file that grows).

    Returns:
        bytes: its content.

    Raises:
        ConfigError: as :func:`open_regular`, or a read error, in one line.
    """
    with open_regular(name, path, max_bytes=max_bytes) as f:
        try:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
        except OSError as exc:
            raise _os_error(name, path, exc) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise ConfigError(f"{name}: must be at most {max_bytes} bytes, got {str(path)!r}, which grew past it")
    return data


def memory_bytes() -> int:
    """The machine's physical memory, bytes (what a single tensor can at most occupy).

    Returns:
        int: the bytes, or :data:`INT64_MAX` where the system does not say.
    """
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return INT64_MAX


def fits_in_memory(name: str, shape: Sequence[int], itemsize: int) -> Sequence[int]:
    """A tensor shape whose bytes the machine's memory can hold, checked before anything allocates it.

    Args:
        name (str): the argument name, for the message.
        shape (list[int]): checked whole numbers >= 0.
        itemsize (int): bytes per element.

    Returns:
        list[int]: ``shape``.

    Raises:
        ConfigError: the tensor would need more bytes than the machine's memory
            (Paddle would corrupt its heap or crash allocating it).
    """
    need = math.prod(shape) * itemsize
    have = memory_bytes()
    if need > have:
        raise ConfigError(
            f"{name}: must fit in this machine's memory ({have} bytes), got {shown(shape)}, which needs {need} bytes"
        )
    return shape


def read_json(name: str, path: Any, *, max_bytes: int) -> Any:
    """The JSON value of a regular file of at most ``max_bytes`` (:func:`read_regular`'s rules).

    Args:
        name (str): the key, argument or role of the file, for the message.
        path (str or os.PathLike): the file.
        max_bytes (int): the most bytes it may hold.

    Returns:
        the decoded value.

    Raises:
        ConfigError: as :func:`read_regular`; not UTF-8 JSON, or nested past the parser's depth.
    """
    import json

    data = read_regular(name, path, max_bytes=max_bytes)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        text = "nested too deeply" if isinstance(exc, RecursionError) else one_line(exc)
        raise ConfigError(f"{name}: {path} is not JSON: {text}") from None
