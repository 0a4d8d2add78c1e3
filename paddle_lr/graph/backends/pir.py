"""PIR (paddlepaddle 3.x): ``pir.Value``, ``builtin.parameter`` ops, ``pd_op.if``."""
import contextlib

import paddle
from paddle.tensor.creation import fill_constant

NAME = "pir"
# An op whose axis PIR takes as an operand (concat) builds a `full` for it that runs every step.
AXIS_IS_OPERAND = True
# scale's factor likewise: a `full` per step for a number.
SCALE_FACTOR_IS_OPERAND = True


def _release(version):
    parts = version.split(".")[:2]
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (9999, 0)


# paddlepaddle 3.0's save_inference_model keeps every ``builtin.parameter`` of the
# program, used by the exported outputs or not (``pir_io.pir_prune_with_input``'s
# ``skip_prune_ops``, gone in 3.1.0), so the counter, the lr variable and the tables
# would be exported. There they are persistable values instead, made as Paddle makes
# its optimizers' accumulators (``pd_op.data`` in the main program, ``shadow_output``
# in the startup program): the export prunes those, and ``paddle.static.save`` writes
# them to ``.pdopt`` (as the legacy IR does) instead of ``.pdparams``.
# A development build ("0.0.0") counts as the newest.
AS_PARAMETERS = _release(paddle.__version__) >= (3, 1)


def is_static_value(x):
    return isinstance(x, paddle.pir.Value)


def _find_parameter(program, name):
    """The op of ``program``'s global block that defines the persistable ``name``, or None."""
    for op in program.global_block().ops:
        if op.name() == "builtin.parameter" and op.attrs()["parameter_name"] == name:
            return op
        if op.name() == "pd_op.data" and op.attrs()["name"] == name and op.result(0).persistable:
            return op
    return None


def _store(init, name, as_parameter=None):
    """Make the startup program's ``init`` the initial value of the persistable ``name``."""
    from paddle.pir.core import set_parameter, set_persistable_value

    as_parameter = AS_PARAMETERS if as_parameter is None else as_parameter
    (set_parameter if as_parameter else set_persistable_value)(init, name)


def _is_store(op, name):
    """Whether a startup program's ``op`` is the :func:`_store` of ``name``."""
    if op.name() == "builtin.set_parameter":
        return op.attrs()["parameter_name"] == name
    return op.name() == "builtin.shadow_output" and op.attrs()["output_name"] == name


def _main_persistable(main, startup, name, shape, dtype, as_parameter=None):
    """The main program's value of the persistable ``name`` stored by ``startup``, at its start."""
    from paddle.base.core import Place
    from paddle.pir.core import convert_np_dtype_to_dtype_, data, parameter

    as_parameter = AS_PARAMETERS if as_parameter is None else as_parameter
    if as_parameter:
        main.set_parameters_from(startup)
    with paddle.static.program_guard(main):
        _to_global_start(main)  # not the start of the current block (a Switch case)
        var = parameter(name) if as_parameter else data(name, shape, convert_np_dtype_to_dtype_(dtype), Place())
    var.persistable = True
    var.stop_gradient = True
    return var


def persistable(name, value, dtype, force_cpu, as_parameter=None):
    """A persistable [1] tensor named ``name``, initialised in the startup program.

    ``as_parameter`` (default: :data:`AS_PARAMETERS`) makes it a ``builtin.parameter``.

    Returns:
        tuple: ``(value, is_new)``; an existing one of that name is returned as it is.
    """
    main = paddle.static.default_main_program()
    existing = _find_parameter(main, name)
    if existing is not None:
        return existing.result(0), False
    startup = paddle.static.default_startup_program()
    with paddle.static.program_guard(startup):
        init = fill_constant([1], dtype, value, force_cpu=force_cpu)
        init.persistable = True
        _store(init, name, as_parameter)
    return _main_persistable(main, startup, name, [1], dtype, as_parameter), True


def _counter_reader(counter):
    """The increment's output for a counter ``builtin.parameter`` value."""
    for use in counter.all_used_ops():
        if use.name() == "pd_op.increment_":
            return use.result(0)
    return counter


def persistable_table(shape, dtype, name, initializer):
    from paddle.pir.core import ParameterMeta, convert_np_dtype_to_dtype_

    if AS_PARAMETERS:
        return paddle.static.create_parameter(
            shape, dtype, attr=paddle.ParamAttr(name=name, trainable=False), default_initializer=initializer
        )
    startup = paddle.static.default_startup_program()
    with paddle.static.program_guard(startup):
        init = initializer(ParameterMeta(shape, convert_np_dtype_to_dtype_(dtype)), startup.global_block())
        init.persistable = True
        _store(init, name)
    return _main_persistable(paddle.static.default_main_program(), startup, name, shape, dtype)


def step_counter(name, begin, step, role_guard):
    main = paddle.static.default_main_program()
    existing = _find_parameter(main, name)
    if existing is not None:
        return _counter_reader(existing.result(0)), False
    with role_guard(main):
        counter, _ = persistable(name, begin - 1, "int64", force_cpu=True)
    with paddle.static.program_guard(main), role_guard(main):
        paddle.pir.set_insertion_point_after(counter.get_defining_op())
        out = paddle.increment(counter, float(step))
    out.stop_gradient = True
    return out, True


@contextlib.contextmanager
def conditional_block(cond):
    from paddle.static.nn.control_flow import If

    with If(cond).true_block():
        yield


@contextlib.contextmanager
def schedule_role(program, role):
    from paddle.base.framework import pir_op_role_guard

    with pir_op_role_guard(role):
        yield


def op_role(op):
    return op.attrs()["op_role"] if op.has_attr("op_role") else None


def op_io(op):
    inputs = {v.id for v in op.operands_source() if v.initialized()}
    outputs = {v.id for v in op.results()}
    return inputs, outputs


def _names_a_persistable(op):
    """Whether ``op`` only names a persistable (a parameter, or a persistable value on 3.0)."""
    return op.name() == "builtin.parameter" or (op.name() == "pd_op.data" and op.result(0).persistable)


def op_names(program, nested, computed=False):
    def walk(block):
        for op in block.ops:
            if not (computed and _names_a_persistable(op)):
                yield op.name()
            if nested:
                for sub in op.blocks():
                    yield from walk(sub)

    return list(walk(program.global_block()))


def clone(program, values):
    """A copy of ``program`` (PIR has no ``for_test`` clone) and its tensors for ``values``."""
    mapping = paddle.pir.IrMapping()
    copy = program.clone(mapping)
    return copy, [mapping.look_up(v) for v in values]


def remove_ops(block, ops):
    for op in reversed(ops):
        block.remove_op(op)


def persistable_values(program):
    """The persistables ``paddle.static.save`` writes (parameters first, then the others)."""
    from paddle.static.pir_io import get_pir_parameters

    params, others = get_pir_parameters(program)
    return [v for v in params + others if v.persistable]


def parameter_names(program):
    """The names of ``program``'s parameters (``is_parameter`` values, trainable or not)."""
    from paddle.static.pir_io import get_pir_parameters

    params, _ = get_pir_parameters(program)
    return [v.name for v in params if v.is_parameter]


# The operand an in-place op writes: the ops that write a persistable from inside a Switch case.
_WRITTEN_OPERAND = {"pd_op.assign_out_": 1, "pd_op.full_": 0, "pd_op.increment_": 0}


def written_names(program, role):
    """The persistable names that in-place ops of ``role`` write, in every block (``pd_op.if`` blocks included)."""
    names = {op.result(0).id: op.attrs()["parameter_name" if op.name() == "builtin.parameter" else "name"]
             for op in program.global_block().ops if _names_a_persistable(op)}

    def walk(block):
        for op in block.ops:
            yield op
            for sub in op.blocks():
                yield from walk(sub)

    written = set()
    for op in walk(program.global_block()):
        index = _WRITTEN_OPERAND.get(op.name())
        if index is not None and op_role(op) == role:
            value = op.operand_source(index)
            if value.id in names:
                written.add(names[value.id])
    return written


def global_var_meta(name):
    """``(shape, dtype)`` of the main program's persistable ``name``, or None."""
    from paddle.base.data_feeder import convert_dtype

    found = _find_parameter(paddle.static.default_main_program(), name)
    if found is None:
        return None
    var = found.result(0)
    return [int(d) for d in var.shape], convert_dtype(var.dtype)


def _to_global_start(program):
    """Insert the next ops at the start of ``program``'s global block (not the current block)."""
    block = program.global_block()
    ops = block.ops
    if ops:
        paddle.pir.set_insertion_point(ops[0])
    else:
        paddle.pir.set_insertion_point_to_block_end(block)


def _startup_fill(startup, name, shape, dtype, value, force_cpu):
    """Make the startup program fill the parameter ``name`` with ``value``.

    A second fill of an existing name replaces the first one's value, as a
    second initializer does in the legacy IR (PIR keeps one ``set_parameter``
    per name, so its operand is rewired to the new ``full``).
    """
    block = startup.global_block()
    setter = next((op for op in block.ops if _is_store(op, name)), None)
    with paddle.static.program_guard(startup):
        if setter is not None:
            paddle.pir.set_insertion_point(setter)
        init = fill_constant(shape, dtype, value, force_cpu=force_cpu)
        init.persistable = True
        if setter is None:
            _store(init, name)
            return
    old = setter.operand_source(0)
    setter.operand(0).set_source(init)
    if not old.all_used_ops():
        block.remove_op(old.get_defining_op())


def global_var(shape, value, dtype, persistable, force_cpu, name):
    """Fluid's ``create_global_var`` in PIR (``paddle.static.create_global_var`` fails there).

    A persistable one is a ``builtin.parameter`` at the start of the main
    program's global block (also when built inside a ``Switch`` case), filled by
    the startup program; a second call with its name returns it and fills it
    with the new value instead, as the legacy IR does. A non-persistable one is
    a ``full`` at the start of the main program's global block: each run starts
    it at ``value`` (``name`` is not kept).
    """
    from paddle.utils import unique_name

    main = paddle.static.default_main_program()
    if not persistable:
        with paddle.static.program_guard(main):
            _to_global_start(main)
            var = fill_constant(shape, dtype, value, force_cpu=force_cpu)
        var.stop_gradient = True
        return var
    name = name or unique_name.generate("global_var")
    found = _find_parameter(main, name)
    startup = paddle.static.default_startup_program()
    _startup_fill(startup, name, shape, dtype, value, force_cpu)
    if found is not None:
        return found.result(0)
    return _main_persistable(main, startup, name, shape, dtype)


# -- reading and rewiring the ops of a branch-free lookup (tables.prepend, ir.prune) --

def producer(value):
    """The op that computes ``value``; None for a persistable."""
    op = value.get_defining_op()
    return None if op is None or _names_a_persistable(op) else op


def op_parts(op):
    """``op``'s short type (``"index_select"``) and its inputs."""
    return op.name().split(".", 1)[-1].rstrip("_"), list(op.operands_source())


def persistable_name(value):
    """The persistable ``value`` names (through an in-place ``increment_`` of it, as counter readers see it), or None."""
    op = value.get_defining_op()
    if op is not None and op.name() == "pd_op.increment_":
        op = op.operand_source(0).get_defining_op()
    if op is None or not _names_a_persistable(op):
        return None
    return op.attrs()["parameter_name" if op.name() == "builtin.parameter" else "name"]


def same_value(a, b):
    """Whether ``a`` and ``b`` are the same tensor of the program."""
    return a.is_same(b)


def op_attr(op, name):
    return op.attrs()[name]


def readers(value):
    """The ops that read ``value`` (in every block)."""
    return list(value.all_used_ops())


def set_input(op, index, value):
    """Make ``op`` read ``value`` as its input ``index``."""
    op.operand(index).set_source(value)


def remove_op(op):
    op.get_parent_block().remove_op(op)


def drop_persistable(program, name):
    """Remove the persistable ``name`` from ``program`` when nothing reads it; whether it was removed."""
    op = _find_parameter(program, name)
    if op is None or not op.result(0).use_empty():
        return False
    program.global_block().remove_op(op)
    return True
