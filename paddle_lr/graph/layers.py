"""Fluid's building blocks for hand-written schedules: ``create_global_var``, ``fill_constant``.

Fluid-era code builds its own learning-rate schedules from a persistable
global variable, CPU constants, a :class:`~paddle_lr.Switch` over the decay
counter and ``assign``::

    lr = fluid.layers.create_global_var(shape=[1], value=0.0, dtype="float32",
                                        persistable=True, name="learning_rate")
    warmup = fluid.layers.fill_constant([1], "float32", 5.0, force_cpu=True)

These are the same two functions, with fluid's signatures, on both static IRs
(on paddlepaddle 3.x, ``paddle.static.create_global_var`` raises a
``TypeError`` under PIR). Arguments are checked before any op is built and a
bad one is a one-line :class:`~paddle_lr.ConfigError`.
"""
import numbers
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import paddle
from paddle.tensor.creation import fill_constant as _paddle_fill_constant

from .. import rules
from . import ir

__all__ = ["create_global_var", "fill_constant", "assign", "DTYPES"]

DTYPES = (
    "bool",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
)
"""The data types fluid's ``create_global_var`` and ``fill_constant`` accept."""

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")


def _dtype(name, dtype):
    """``dtype`` (a string, numpy or Paddle data type) as fluid's string name."""
    from paddle.base.data_feeder import convert_dtype

    try:
        text = convert_dtype(dtype)
    except (TypeError, ValueError, KeyError):
        text = None
    if text not in DTYPES:
        raise rules.ConfigTypeError(
            f"{name}: must be one of {', '.join(DTYPES)}, got {dtype!r}"
        )
    return text


def _shape(name: str, shape: Any) -> List[int]:
    """A shape: a list, tuple or 1-D array of whole numbers >= 0."""
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    if not isinstance(shape, (list, tuple)):
        raise rules.ConfigTypeError(f"{name}: must be a list of whole numbers, got {shape!r}")
    return [rules.integer(f"{name}[{i}]", d, low=0) for i, d in enumerate(shape)]


def _value(name, value, dtype):
    """A fill value: a finite number (or a bool for a bool tensor)."""
    if isinstance(value, (bool, np.bool_)):
        if dtype != "bool":
            raise rules.ConfigTypeError(f"{name}: must be a number for dtype {dtype}, got {value!r}")
        return float(value)
    if dtype in _INT_DTYPES:  # whole and within the type: fluid wrapped int8 300 to 44
        info = np.iinfo(dtype)
        return rules.integer(name, value, low=int(info.min), high=int(info.max))
    if dtype == "float32":
        return rules.float32(name, value)
    if dtype == "bool":
        return rules.real(name, value)
    top = float(np.finfo(dtype).max)  # float16, float64: finite in the type
    return rules.real(name, value, low=-top, high=top)


def _known_shape(shape):
    return [int(d) for d in shape]


def _check_into(name, shape, dtype, out):
    """Writing ``shape``/``dtype`` data into ``out`` keeps ``out``'s shape and dtype: fluid code that
    writes an lr variable never means to turn it into another one."""
    out_shape, out_dtype = _known_shape(out.shape), _dtype(f"{name}.dtype", out.dtype)
    if dtype is not None and dtype != out_dtype:
        article = "an" if dtype.startswith("int") else "a"
        raise rules.ConfigTypeError(f"{name}: must be {article} {dtype} tensor (what is written), got dtype {out_dtype}")
    if shape is not None and -1 not in out_shape and -1 not in shape and \
            int(np.prod(shape)) != int(np.prod(out_shape)):
        raise rules.ConfigError(f"{name}: must be a tensor of shape {shape} (what is written), got shape {out_shape}")


def create_global_var(
    shape: Sequence[int],
    value: float,
    dtype: Any,
    persistable: bool = False,
    force_cpu: bool = False,
    name: Optional[str] = None,
) -> Any:
    """A variable of the main program's global block, filled with ``value`` by the startup program.

    Fluid's ``create_global_var``, on both static IRs. A persistable one keeps
    what the main program writes into it (``paddle.assign(x, var)``, also from
    inside a :class:`~paddle_lr.Switch` case) from one run to the next, and is
    saved and loaded with the program's persistables under ``name``. Called
    inside a ``Switch`` case, it is still created in the global block.

    A second call with the name of an existing variable returns that variable
    and fills it with the new ``value`` at startup, as fluid does; its shape and
    dtype must match.

    A non-persistable one is a per-run temporary: on paddlepaddle 3.x (PIR)
    each run of the main program starts it at ``value``; on 2.6 (legacy) it is
    Paddle's own, which must be written before it is read in each run.

    Args:
        shape (list[int]): its shape, e.g. ``[1]``.
        value (float): the value it is filled with.
        dtype (str): one of :data:`DTYPES` (numpy and Paddle data types work too).
        persistable (bool): keep it across runs (fluid schedules use ``True``).
        force_cpu (bool): keep it on the CPU place.
        name (str, optional): its name; a unique one by default.

    Returns:
        The variable (``pir.Value`` on 3.x, ``static.Variable`` on 2.6).

    Raises:
        ConfigError: a bad argument, in one line, before any op is built.

    Example:
        >>> import paddle, paddle_lr
        >>> paddle.enable_static()
        >>> main, startup = paddle.static.Program(), paddle.static.Program()
        >>> with paddle.static.program_guard(main, startup):
        ...     lr = paddle_lr.create_global_var([1], 0.5, "float32", persistable=True, name="lr")
        >>> exe = paddle.static.Executor(paddle.CPUPlace())
        >>> _ = exe.run(startup)
        >>> exe.run(main, fetch_list=[lr])[0]
        array([0.5], dtype=float32)
        >>> paddle.disable_static()
    """
    shape = _shape("shape", shape)
    dtype = _dtype("dtype", dtype)
    rules.fits_in_memory("shape", shape, np.dtype(dtype).itemsize)
    value = _value("value", value, dtype)
    persistable = rules.boolean("persistable", persistable)
    force_cpu = rules.boolean("force_cpu", force_cpu)
    name = rules.variable_name("name", name)
    if paddle.in_dynamic_mode():
        raise rules.ConfigError(
            "create_global_var: builds a static-graph variable, got dygraph mode "
            "(call paddle.enable_static() first)"
        )
    if name is not None:
        existing = ir.global_var_meta(name)
        if existing is not None and existing != (shape, dtype):
            raise rules.ConfigError(
                f"name: {name!r} is already a variable of shape {existing[0]} and dtype "
                f"{existing[1]}, got shape {shape} and dtype {dtype}"
            )
    return ir.global_var(shape, value, dtype, persistable, force_cpu, name)


def fill_constant(
    shape: Union[int, Sequence[int]],
    dtype: Any,
    value: Any,
    force_cpu: bool = False,
    out: Any = None,
) -> Any:
    """A tensor of ``shape`` filled with ``value``; fluid's ``fill_constant``.

    With ``force_cpu=True`` the tensor is made on the CPU place, as fluid's
    schedules made their constants. With ``out`` the op writes into that
    tensor instead (inside a :class:`~paddle_lr.Switch` case too), as
    ``paddle.assign`` does.

    Args:
        shape (list[int] or int): its shape.
        dtype (str): one of :data:`DTYPES` (numpy and Paddle data types work too).
        value (float or tensor): the fill value; a one-element tensor is read at run time.
        force_cpu (bool): make it on the CPU place.
        out (tensor, optional): a tensor of ``dtype`` to fill instead of a new one.

    Returns:
        The filled tensor (``out`` when given).

    Raises:
        ConfigError: a bad argument, in one line, before any op is built.

    Example:
        >>> import paddle, paddle_lr
        >>> paddle_lr.fill_constant([2], "float32", 0.25, force_cpu=True).numpy()
        array([0.25, 0.25], dtype=float32)
    """
    shape = _shape("shape", [shape] if isinstance(shape, numbers.Integral) else shape)
    dtype = _dtype("dtype", dtype)
    rules.fits_in_memory("shape", shape, np.dtype(dtype).itemsize)
    if not _is_tensor(value):
        value = _value("value", value, dtype)
    force_cpu = rules.boolean("force_cpu", force_cpu)
    if out is not None:
        if not _is_tensor(out):
            raise rules.ConfigTypeError(f"out: must be a tensor, got {type(out).__name__}")
        _check_into("out", shape, dtype, out)
    if out is not None and _is_tensor(value):
        # PIR's in-place ``full_`` takes no tensor value: fill a new tensor, then assign it.
        return paddle.assign(_paddle_fill_constant(shape, dtype, value, force_cpu), output=out)
    return _paddle_fill_constant(shape, dtype, value, force_cpu, out)


def assign(input: Any, output: Any = None) -> Any:
    """Copy ``input`` into ``output`` (or a new tensor); fluid's ``assign(input, output=None)``.

    ``paddle.assign`` with fluid's argument names, so that fluid code calling
    ``assign(input=x, output=lr)`` ports by its name alone. Inside a
    :class:`~paddle_lr.Switch` case it writes into a global variable made
    outside the case (or inside it) on both IRs.

    Args:
        input (tensor, number, list or numpy array): what to copy.
        output (tensor, optional): the tensor to write into.

    Returns:
        The written tensor (``output`` when given).

    Raises:
        ConfigError: ``output`` is not a tensor, in one line, before any op is built.

    Example:
        >>> import numpy as np, paddle_lr
        >>> paddle_lr.assign(np.float32([0.5])).numpy()
        array([0.5], dtype=float32)
    """
    if output is not None and not _is_tensor(output):
        raise rules.ConfigTypeError(f"output: must be a tensor, got {type(output).__name__}")
    if output is not None:
        if _is_tensor(input):
            _check_into("output", _known_shape(input.shape), _dtype("input.dtype", input.dtype), output)
        elif isinstance(input, np.ndarray):
            _check_into("output", list(input.shape), _dtype("input.dtype", input.dtype), output)
        elif isinstance(input, (list, tuple)):
            _check_into("output", list(np.shape(input)), None, output)
    return paddle.assign(input, output)


def _is_tensor(x):
    return ir.is_static_value(x) or isinstance(x, paddle.Tensor)
