"""Every difference between Paddle's two static IRs, behind one small interface.

paddlepaddle 2.6 builds static programs as a legacy ProgramDesc; paddlepaddle
3.x builds them in PIR. The backend for the running Paddle
(:mod:`.backends.pir` or :mod:`.backends.legacy`) is chosen once, at import;
the functions here are the only way the rest of ``paddle_lr`` reaches it, and
nothing outside :mod:`paddle_lr.graph` asks which IR it is in.

What runs where: the step counter is initialised with ``force_cpu`` and every
scalar constant the schedules compare against is created on the CPU place, as
the original did under ``init_on_cpu``; the counter increment, the cast and
the comparisons therefore read CPU tensors. On a CPU build everything is on
the CPU anyway.
"""
import contextlib
import dataclasses
import math
import os
import struct
import warnings
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import paddle
from paddle.base import core, framework
from paddle.tensor.creation import fill_constant

from .. import rules
from .backends import legacy as _legacy
from .backends import pir as _pir

__all__ = [
    "is_pir",
    "ir_name",
    "set_program_lr",
    "is_static_value",
    "step_counter",
    "persistable_float",
    "scheduler_float",
    "cpu_constant",
    "conditional_block",
    "schedule_guard",
    "clone_for_test",
    "is_schedule_op",
    "op_names",
    "persistables",
    "TensorHeader",
    "TensorFileError",
    "tensor_header",
    "read_tensor_file",
    "read_tensor_records",
    "parameter_names",
    "schedule_outputs",
    "axis_is_operand",
    "scale_factor_is_operand",
    "Lookup",
    "find_lookup",
    "selected_table",
    "same_value",
    "readers",
    "set_input",
    "remove_op",
    "drop_persistable",
    "quiet_place_warning",
    "require_static",
    "eager_cpu",
    "run_cache_key",
]

_backend = _pir if framework.use_pir_api() else _legacy

# The op role fluid gave learning-rate ops (``Program._lr_schedule_guard``):
# ``Program.clone(for_test=True)`` drops ops of this role from a legacy program.
_LR_SCHED_ROLE = int(core.op_proto_and_checker_maker.OpRole.LRSched) | int(
    core.op_proto_and_checker_maker.OpRole.Optimize
)


# PIR's backward asks a value for its place and warns that it has none; the
# wording changed over 3.x ("Value do ..." up to 3.2, "Tensor do ..." from 3.3).
_PLACE_WARNING = r"(Value|Tensor) do not have 'place' interface for pir graph mode"


@contextlib.contextmanager
def quiet_place_warning() -> Iterator[None]:
    """Silence, inside the ``with`` body, the warning PIR's backward gives when it asks a value its place."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PLACE_WARNING, category=UserWarning)
        yield


@contextlib.contextmanager
def eager_cpu() -> Iterator[None]:
    """Dygraph mode on the CPU place inside the ``with`` body, in static mode too.

    The program being built, the static mode and the expected place are as
    they were afterwards (Paddle's own ``dygraph.guard``, on both IRs).
    """
    from paddle.base.dygraph.base import guard

    with guard(paddle.CPUPlace()):
        yield


def require_static(what: str) -> None:
    """Refuse, in one line and before anything is built, a static-graph-only call in dygraph mode.

    Args:
        what (str): the function's name, for the message.

    Raises:
        ConfigError: in dygraph mode.
    """
    if paddle.in_dynamic_mode():
        from ..rules import ConfigError

        raise ConfigError(f"{what}: builds static-graph ops, call paddle.enable_static() first "
                          "(in dygraph, use a schedule's twin), got dygraph mode")


def is_pir() -> bool:
    """Whether static programs are built in PIR (whatever the current mode).

    Returns:
        bool: True on paddlepaddle 3.x (PIR), False on 2.6 (legacy ProgramDesc).
    """
    return _backend is _pir


def run_cache_key(program) -> str:
    """What ``Executor.run`` computes from ``program`` on every run, to find its cached executor.

    On PIR (3.x) that is the whole program printed (``str(program)``), so
    every run costs time in proportion to the program's text; the legacy IR
    (2.6) reads a hash its ``ProgramDesc`` keeps. The bench times it
    (``key_us``) as the part of a step that is Paddle's Python.
    """
    if is_pir():
        return str(program)
    return program.desc.cached_hash_str()


def ir_name() -> str:
    """The static IR's name, for manifests and reports.

    Returns:
        str: ``"pir"`` or ``"legacy"``.
    """
    return _backend.NAME


def axis_is_operand() -> bool:
    """Whether ``paddle.concat``'s axis is an operand of the op (PIR) rather than an attribute (legacy).

    Given as a Python int on PIR, the axis becomes a ``full`` op that runs with
    every run of the program; a persistable filled at startup avoids it.
    """
    return _backend.AXIS_IS_OPERAND


def scale_factor_is_operand() -> bool:
    """Whether ``paddle.scale``'s factor is an operand of the op (PIR) rather than an attribute (legacy).

    Given as a number on PIR, the factor becomes a ``full`` op that runs with
    every run of the program; a one-element table filled at startup avoids it.
    """
    return _backend.SCALE_FACTOR_IS_OPERAND


def set_program_lr(optimizer: Any, program: Any, lr: Any) -> None:
    """Make ``lr`` the learning rate ``optimizer`` uses in ``program`` (Paddle's private per-program map).

    Paddle's optimizers keep their learning-rate variable per program in
    ``_learning_rate_map`` (2.6 and 3.x alike; fluid's ERNIE set it by hand);
    :class:`paddle_lr.TensorLearningRate` puts the schedule's tensor there in
    place of the variable Paddle would create.
    """
    optimizer._learning_rate_map[program] = lr


def is_static_value(x: Any) -> bool:
    """Whether ``x`` is a tensor of the static graph being built.

    Args:
        x: any object.

    Returns:
        bool: True for a ``pir.Value`` (PIR) or ``static.Variable`` (legacy).
    """
    return _backend.is_static_value(x)


def check_current_program(name: str, x: Any) -> Any:
    """A static value of the program being built (the default main program), refused otherwise.

    A tensor of another program used here builds ops that read a value the
    executor never finds (3.x: ``Not found key in IRMapping``, then an abort at
    exit; 2.6: a segfault while building), so it is refused before any op is.
    ``value.block.program`` names the program on both IRs.

    Args:
        name (str): the argument name, for the message.
        x: a static value (:func:`is_static_value`).

    Returns:
        ``x``.

    Raises:
        ConfigError: ``x`` belongs to another program.
    """
    if x.block.program is not paddle.static.default_main_program():
        try:
            shown = x.name
        except (AttributeError, ValueError, RuntimeError):  # a PIR value with no name
            shown = "a tensor"
        raise rules.ConfigError(
            f"{name}: must be a tensor of the program being built (the default main program), "
            f"got {shown} of another program (build it under the same program_guard)"
        )
    return x


def step_counter(name: str, begin: int, step: int) -> Tuple[Any, bool]:
    """The program's int64 [1] persistable counter ``name``, incremented first.

    The counter starts at ``begin - 1`` and is incremented by ``step`` by an
    op placed at the very start of the main program's global block, so every
    reader sees the new value whatever order the program was built in. A second
    call with the same name in the same program returns the same counter and
    adds no op.

    Args:
        name (str): the counter's persistable name (the key in saved files).
        begin (int): the value the first run of the main program sees.
        step (int): the increment per run.

    Returns:
        tuple: ``(value, is_new)``; ``value`` is what readers must use.
    """
    return _backend.step_counter(name, begin, step, schedule_guard)


def persistable_float(name: str, value: float = 0.0):
    """A persistable float32 [1] tensor, initialised to ``value`` on the default place.

    Args:
        name (str): a unique name in the program.
        value (float): the initial value.

    Returns:
        The tensor (``pir.Value`` or ``static.Variable``).
    """
    return _backend.persistable(name, value, "float32", force_cpu=False)[0]


def scheduler_float(name: str):
    """The persistable float32 [1] tensor the executor fills with ``program.lr_scheduler()``
    before each run when ``program.lr_name`` is ``name`` (what Paddle's optimizers make for an
    ``LRScheduler``; PIR's executor finds it among the program's parameters).

    Args:
        name (str): a unique name in the program.

    Returns:
        The tensor.
    """
    return _backend.persistable(name, 0.0, "float32", force_cpu=False, as_parameter=True)[0]


def persistable_table(shape: List[int], dtype: str, name: str, initializer):
    """A persistable, non-trainable tensor ``name`` that the startup program fills with ``initializer``.

    Args:
        shape (list[int]): its shape.
        dtype (str): its data type name.
        name (str): its persistable name.
        initializer: a ``paddle.nn.initializer`` instance.

    Returns:
        The main program's tensor.
    """
    return _backend.persistable_table(shape, dtype, name, initializer)


def cpu_constant(value: float, dtype: str = "float32"):
    """A [1] constant created on the CPU place (fluid's ``force_cpu=True``).

    Args:
        value (float): the constant; stored as ``dtype``.
        dtype (str): the data type.

    Returns:
        The constant tensor.
    """
    return fill_constant([1], dtype, value, force_cpu=True)


def conditional_block(cond) -> contextlib.AbstractContextManager:
    """Build the ops of the ``with`` body so that they run only when ``cond`` holds.

    Args:
        cond: a bool tensor with one element.

    Returns:
        A context manager. Writes to outer tensors go through ``paddle.assign(x, output=...)``.
    """
    return _backend.conditional_block(cond)


@contextlib.contextmanager
def schedule_guard(program=None) -> Iterator[None]:
    """Give the ops built inside the learning-rate-schedule role.

    Legacy programs drop ops of that role in ``clone(for_test=True)``; in PIR,
    :func:`clone_for_test` removes them.

    Args:
        program: the main program (default: the current one).

    Yields:
        None.
    """
    with _backend.schedule_role(program or paddle.static.default_main_program(), _LR_SCHED_ROLE):
        yield


def is_schedule_op(op) -> bool:
    """Whether a program op was built by :func:`schedule_guard`.

    Args:
        op: an op of a legacy block (``Operator``) or a PIR op.

    Returns:
        bool.
    """
    return _backend.op_role(op) == _LR_SCHED_ROLE


def op_names(program, nested: bool = False, computed: bool = False) -> List[str]:
    """The names of a program's ops, in order.

    Args:
        program: a main or startup program.
        nested (bool): also the ops inside conditional blocks.
        computed (bool): leave out the PIR ops that only name a persistable
            (``builtin.parameter``, and on 3.0 a persistable ``pd_op.data``).

    Returns:
        list[str]: names as the IR spells them (``pd_op.increment_`` in PIR,
        ``increment`` in the legacy IR).
    """
    return _backend.op_names(program, nested, computed)


def _doomed_ops(block) -> list:
    """The schedule ops of ``block`` and every op that reads what they compute."""
    doomed: list = []
    tainted: set = set()
    for op in block.ops:
        inputs, outputs = _backend.op_io(op)
        if is_schedule_op(op) or inputs & tainted:
            doomed.append(op)
            tainted |= outputs
    return doomed


def clone_for_test(program: Any, values: Sequence = ()) -> Tuple[Any, list]:
    """An evaluation copy of ``program`` with no schedule or counter ops.

    ``Program.clone(for_test=True)`` of a legacy program that holds a backward
    pass already drops the schedule (its ops have the lr-schedule role); PIR
    programs have no ``for_test`` clone. Here, on both IRs, the schedule ops,
    the counter and every op that reads them (the optimizer updates) are
    removed, so running the copy never advances the counter.

    Args:
        program: a main program holding a schedule.
        values (sequence): tensors of ``program`` to fetch from the copy.

    Returns:
        tuple: ``(test_program, [the copy's tensors for values])``; in PIR a
        clone has tensors of its own, so fetch these, not the originals.
    """
    test, mapped = _backend.clone(program, values)
    block = test.global_block()
    _backend.remove_ops(block, _doomed_ops(block))
    return test, mapped


def persistables(program) -> dict:
    """The persistable tensors of ``program``, as a checkpoint of it holds them.

    Both IRs save the same names; what differs is where ``paddle.static.save``
    puts them: PIR writes the counter and the lr variable (``builtin.parameter``
    values) to ``.pdparams``, the legacy IR to ``.pdopt``.

    Args:
        program: a main program.

    Returns:
        dict: name -> ``(shape tuple, numpy dtype name)``, e.g.
        ``{"@LR_DECAY_COUNTER@": ((1,), "int64"), ...}``.
    """
    from paddle.base.data_feeder import convert_dtype

    values = _backend.persistable_values(program)
    return {v.name: (tuple(int(d) for d in v.shape), convert_dtype(v.dtype)) for v in values}


#: The version of a tensor record and of its LoD, the only one Paddle writes or reads (1.x to 3.x).
_RECORD_VERSION = 0
_UINT32, _UINT64, _INT32 = struct.Struct("<I"), struct.Struct("<Q"), struct.Struct("<i")


class TensorFileError(ValueError):
    """A tensor file or record that is not one, read before Paddle's reader sees it; the message is one line."""


@dataclasses.dataclass(frozen=True)
class TensorHeader:
    """What a tensor record's header claims, read without Paddle.

    Attributes:
        dims (tuple): the shape.
        dtype (str): Paddle's name for the data type (``FP32``).
        end (int): the byte just past the record, as the header claims it
            (beyond the end of the file when it is truncated or lies).
    """

    dims: Tuple[int, ...]
    dtype: str
    end: int


def tensor_header(read_at: Callable[[int, int], bytes], start: int, size: int) -> TensorHeader:
    """The header of the tensor record at byte ``start`` of a ``save``/``save_combine`` file, allocating nothing.

    The layout is Paddle's ``SerializeToStream`` of a dense tensor, the same
    from fluid 1.x to 3.x: a uint32 version (0); a uint64 count of LoD levels,
    each a uint64 byte count and those bytes; a uint32 tensor version (0); an
    int32 byte count and that many bytes of ``framework.proto``'s
    ``VarType.TensorDesc`` (the data type and the dims); then the data,
    ``prod(dims)`` times the data type's size. Paddle's own reader allocates
    what the dims claim before it reads: checking ``end`` against the file's
    size first is what keeps a damaged or hostile header from exhausting memory.

    Args:
        read_at (callable): ``read_at(offset, count) -> bytes`` of the file
            (fewer bytes at its end).
        start (int): where the record starts.
        size (int): the file's size in bytes.

    Returns:
        TensorHeader: the dims, the data type and the record's claimed end.

    Raises:
        TensorFileError: one line: a version Paddle does not write, the file ending
            inside the header, a negative dim, a type that is not a tensor's.
    """
    from paddle.base.proto import framework_pb2

    position = start

    def take(layout, what):
        nonlocal position
        count = layout if isinstance(layout, int) else layout.size
        data = read_at(position, count) if count <= size - position else b""
        if len(data) != count:
            raise TensorFileError(f"the file ends inside its {what} (byte {position} of {size})")
        position += count
        return data if isinstance(layout, int) else layout.unpack(data)[0]

    def version(what):
        found = take(_UINT32, what)
        if found != _RECORD_VERSION:
            raise TensorFileError(f"{what} {found} at byte {position - _UINT32.size}, expected {_RECORD_VERSION}")

    version("version")
    levels = take(_UINT64, "LoD level count")
    if levels > (size - position) // _UINT64.size:
        raise TensorFileError(f"its header claims {levels} LoD levels at byte {position - _UINT64.size}, "
                              f"more than the file's {size} bytes hold")
    for _ in range(levels):
        count = take(_UINT64, "LoD")
        if count > size - position:
            raise TensorFileError(f"its LoD claims {count} bytes at byte {position}, past the file's {size}")
        position += count
    version("tensor version")
    count = take(_INT32, "descriptor size")
    if count < 0:
        raise TensorFileError(f"a descriptor of {count} bytes at byte {position - _INT32.size}")
    desc, data = framework_pb2.VarType.TensorDesc(), take(count, "descriptor")
    try:
        desc.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, worded differently by each protobuf
        raise TensorFileError(
            f"its {count} descriptor bytes are not a VarType.TensorDesc ({type(exc).__name__})") from None
    try:
        itemsize = core.size_of_dtype(core.VarDesc.VarType(desc.data_type))
    except Exception:  # Paddle's NotImplementedError for a type that is not a tensor's (a reader, a list)
        known = desc.data_type in framework_pb2.VarType.Type.values()
        name = framework_pb2.VarType.Type.Name(desc.data_type) if known else "unknown"
        raise TensorFileError(f"its data type {desc.data_type} ({name}) is not a tensor's") from None
    dims = tuple(desc.dims)
    if any(d < 0 for d in dims):
        raise TensorFileError(f"its header claims the shape {list(dims)}")
    return TensorHeader(dims, framework_pb2.VarType.Type.Name(desc.data_type), position + math.prod(dims) * itemsize)


def _claims(header: TensorHeader, start: int) -> str:
    return f"its header claims {header.dtype} {list(header.dims)}, {header.end - start} bytes"


def _file_read_at(f):
    def read_at(offset, count):
        f.seek(offset)
        return f.read(count)
    return read_at


def read_tensor_file(path) -> tuple:
    """Read the first tensor of a file of the ``save``/``save_vars`` op (fluid's per-variable format).

    The format is the same on 2.6 and 3.x; Paddle's reader is named
    ``load_lod_tensor`` on 2.6 and ``load_dense_tensor`` on 3.x. The header is
    read first (:func:`tensor_header`): a record that claims more bytes than
    the file holds is refused before Paddle's reader allocates them.

    Args:
        path (str): the file.

    Returns:
        tuple: ``(numpy array, the byte just past it)``; a ``save_combine``
        file holds more tensors after it.

    Raises:
        TensorFileError: one line: the header is not a tensor's, or it claims
            more bytes than the file holds (truncated or damaged).
        RuntimeError: Paddle's own error for data it cannot read.
    """
    import numpy as np

    size = os.stat(path).st_size
    with open(path, "rb") as f:
        header = tensor_header(_file_read_at(f), 0, size)
    if header.end > size:
        raise TensorFileError(f"{_claims(header, 0)}, and the file has {size}: truncated or damaged")
    # 3.x names them DenseTensor, 2.6 LoDTensor
    reader = getattr(core, "load_dense_tensor", None) or getattr(core, "load_lod_tensor")
    tensor = (getattr(core, "DenseTensor", None) or getattr(core, "LoDTensor"))()
    end = reader(tensor, str(path))
    return np.array(tensor), int(end)


def read_tensor_records(data: bytes) -> list:
    """Read the tensors of a ``save_combine`` file (fluid's ``filename=`` checkpoints), in order.

    The file is the tensors' ``save`` records one after another, with no
    names. Each record's header is read first (:func:`tensor_header`), and
    one that claims more bytes than are left is refused before Paddle
    allocates them; then the record is read with Paddle's own reader from
    memory and written back with Paddle's own writer: the bytes written must
    equal the file's from that point, which proves that the record was read
    exactly.

    Args:
        data (bytes): the file's bytes.

    Returns:
        list[numpy.ndarray]: the tensors, in the file's order.

    Raises:
        TensorFileError: one line with the byte offset: a record that Paddle cannot
            read, or that does not read back exactly (truncated, or followed
            by bytes that are not a record).
    """
    import numpy as np

    reader = getattr(core, "load_dense_tensor_from_memory", None) or getattr(core, "load_lod_tensor_from_memory")
    writer = getattr(core, "save_dense_tensor_to_memory", None) or getattr(core, "save_lod_tensor_to_memory")
    tensor_type = getattr(core, "DenseTensor", None) or getattr(core, "LoDTensor")
    arrays, offset = [], 0
    while offset < len(data):
        try:
            header = tensor_header(lambda at, count: data[at:at + count], offset, len(data))
        except TensorFileError as exc:
            raise TensorFileError(f"the record at byte {offset} is not a tensor ({exc})") from None
        if header.end > len(data):
            raise TensorFileError(f"the record at byte {offset} is not a whole tensor: the file ends inside it "
                                  f"(truncated: {_claims(header, offset)}, and {len(data) - offset} are left)")
        tensor = tensor_type()
        try:
            reader(tensor, data[offset:])
        except Exception as exc:  # Paddle's own error for bytes that are not a tensor record
            text = " ".join(str(exc).split())
            raise TensorFileError(
                f"the record at byte {offset} is not a tensor ({type(exc).__name__}: {text[:120]})") from None
        record = writer(tensor)
        if data[offset:offset + len(record)] != record:
            raise TensorFileError(f"the record at byte {offset} is not a whole tensor: it does not read back")
        arrays.append(np.array(tensor))
        offset += len(record)
    return arrays


def parameter_names(program) -> List[str]:
    """The names of a program's parameters (what fluid's ``save_params`` writes).

    Args:
        program: a main program.

    Returns:
        list[str]: the parameters' names, trainable or not.
    """
    return _backend.parameter_names(program)


def schedule_outputs(program) -> set:
    """The persistables that the learning-rate schedule ops of ``program`` write at every run.

    These are the lr variables of Switch schedules (``learning_rate_0``,
    ``learning_rate_warmup_0``, ...) and the step counter: ops built under
    :func:`schedule_guard` write them (in place, from the Switch's cases).

    Args:
        program: a main program.

    Returns:
        set[str]: their names.
    """
    return _backend.written_names(program, _LR_SCHED_ROLE)


def global_var_meta(name: str):
    """The shape and dtype of the main program's global variable ``name``, if there is one.

    Args:
        name (str): the variable's name.

    Returns:
        tuple or None: ``([int, ...], dtype name)``, or None when there is none.
    """
    return _backend.global_var_meta(name)


def global_var(shape: Sequence[int], value: float, dtype: str, persistable: bool, force_cpu: bool, name=None):
    """Fluid's ``create_global_var`` (checked arguments; see :func:`paddle_lr.create_global_var`).

    Args:
        shape (list[int]): the shape.
        value (float): the value the startup program fills it with.
        dtype (str): the data type name.
        persistable (bool): kept across runs and saved.
        force_cpu (bool): on the CPU place.
        name (str, optional): its name (an existing persistable of that name is returned).

    Returns:
        The variable, in the main program's global block.
    """
    return _backend.global_var(shape, value, dtype, persistable, force_cpu, name)


# -- the ops of a branch-free lookup, found and rewired (paddle_lr.graph.tables) --

@dataclasses.dataclass(frozen=True)
class Lookup:
    """The ops of ``index_select(values, searchsorted(thresholds, counter, right=True))`` in a program.

    Attributes:
        select: the ``index_select`` op (its input 0 is the values table).
        row: the ``searchsorted`` op (its input 0 is the thresholds table).
        row_value: what ``row`` computes (the int64 row, input 1 of ``select``).
        values, thresholds, counter: the persistable names of the tables and the counter.
    """

    select: Any
    row: Any
    row_value: Any
    values: str
    thresholds: str
    counter: str


def _parts(op, kind):
    parts = _backend.op_parts(op) if op is not None else None
    return parts[1] if parts is not None and parts[0] == kind else None


def find_lookup(value: Any) -> Optional[Lookup]:
    """The lookup that computes ``value`` (:func:`paddle_lr.graph.tables.lookup`'s two ops), or None.

    Any other op, a table that is not a persistable, or a search on a value
    that is not a persistable counter gives None.
    """
    select = _backend.producer(value)
    inputs = _parts(select, "index_select")
    if inputs is None:
        return None
    table, row_value = inputs
    row = _backend.producer(row_value)
    searched = _parts(row, "searchsorted")
    if searched is None or not _backend.op_attr(row, "right"):
        return None
    names = [_backend.persistable_name(v) for v in (table, *searched)]
    if None in names:
        return None
    return Lookup(select, row, row_value, *names)


def selected_table(op: Any, row_value: Any) -> Optional[str]:
    """The persistable table that ``op`` selects from at the row ``row_value``, or None for any other op."""
    inputs = _parts(op, "index_select")
    if inputs is None or not _backend.same_value(inputs[1], row_value):
        return None
    return _backend.persistable_name(inputs[0])


def same_value(a: Any, b: Any) -> bool:
    """Whether the static values ``a`` and ``b`` are one tensor of the program."""
    return _backend.same_value(a, b)


def readers(value: Any) -> list:
    """The ops of its program that read ``value`` (in every block)."""
    return _backend.readers(value)


def set_input(op: Any, index: int, value: Any) -> None:
    """Make the lookup op ``op`` (of :class:`Lookup`) read ``value`` as its input ``index`` (0: the table)."""
    _backend.set_input(op, index, value)


def remove_op(op: Any) -> None:
    """Remove ``op`` from its block; what it computed must have no reader left (nor any handle in use)."""
    _backend.remove_op(op)


def drop_persistable(program: Any, name: str) -> bool:
    """Remove the persistable ``name`` from ``program`` when no op reads it (the startup program still fills it).

    Returns:
        bool: whether it was removed.
    """
    return _backend.drop_persistable(program, name)
