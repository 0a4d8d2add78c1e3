"""PIR (paddlepaddle 3.x): ``pir.Value``, ``builtin.parameter`` ops, ``pd_op.if``."""
import contextlib

import paddle
from paddle.tensor.creation import fill_constant

NAME = "pir"


def is_static_value(x):
    return isinstance(x, paddle.pir.Value)


def _find_parameter(program, name):
    for op in program.global_block().ops:
        if op.name() == "builtin.parameter" and op.attrs()["parameter_name"] == name:
            return op
    return None


def persistable(name, value, dtype, force_cpu):
    """A persistable [1] tensor named ``name``, initialised in the startup program.

    Returns:
        tuple: ``(value, is_new)``; an existing one of that name is returned as it is.
    """
    from paddle.pir.core import parameter, set_parameter

    main = paddle.static.default_main_program()
    existing = _find_parameter(main, name)
    if existing is not None:
        return existing.result(0), False
    startup = paddle.static.default_startup_program()
    with paddle.static.program_guard(startup):
        init = fill_constant([1], dtype, value, force_cpu=force_cpu)
        init.persistable = True
        set_parameter(init, name)
    main.set_parameters_from(startup)
    with paddle.static.program_guard(main):
        paddle.pir.reset_insertion_point_to_start()
        var = parameter(name)
    var.persistable = True
    var.stop_gradient = True
    return var, True


def _counter_reader(counter):
    """The increment's output for a counter ``builtin.parameter`` value."""
    for use in counter.all_used_ops():
        if use.name() == "pd_op.increment_":
            return use.result(0)
    return counter


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


def op_names(program, nested):
    def walk(block):
        for op in block.ops:
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
