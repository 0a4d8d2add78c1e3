"""Every difference between Paddle's two static IRs, and nothing else.

paddlepaddle 2.6 builds static programs as a legacy ProgramDesc (``Variable``,
``Block._prepend_op``, ``ConditionalBlock``); paddlepaddle 3.x builds them in
PIR (``pir.Value``, ``builtin.parameter`` ops, ``pd_op.if``). The rest of
``paddle_lr`` calls the functions here and never asks which IR it is in.

What runs where: the step counter is initialised with ``force_cpu`` and every
scalar constant the schedules compare against is created on the CPU place, as
the original did under ``init_on_cpu``; the counter increment, the cast and
the comparisons therefore read CPU tensors. On a CPU build everything is on
the CPU anyway.
"""
import contextlib

import paddle
from paddle.base import core
from paddle.tensor.creation import fill_constant

__all__ = [
    "is_pir",
    "ir_name",
    "is_static_value",
    "step_counter",
    "persistable_float",
    "cpu_constant",
    "conditional_block",
    "schedule_guard",
    "clone_for_test",
    "is_schedule_op",
    "op_names",
]

# The op role fluid gave learning-rate ops (``Program._lr_schedule_guard``):
# ``Program.clone(for_test=True)`` drops ops of this role from a legacy program.
_LR_SCHED_ROLE = int(core.op_proto_and_checker_maker.OpRole.LRSched) | int(
    core.op_proto_and_checker_maker.OpRole.Optimize
)


def is_pir():
    """Whether static programs are built in PIR (whatever the current mode).

    Returns:
        bool: True on paddlepaddle 3.x (PIR), False on 2.6 (legacy ProgramDesc).
    """
    from paddle.base import framework

    return bool(framework.use_pir_api())


def ir_name():
    """The static IR's name, for manifests and reports.

    Returns:
        str: ``"pir"`` or ``"legacy"``.
    """
    return "pir" if is_pir() else "legacy"


def is_static_value(x):
    """Whether ``x`` is a tensor of the static graph being built.

    Args:
        x: any object.

    Returns:
        bool: True for a ``pir.Value`` (PIR) or ``static.Variable`` (legacy).
    """
    if is_pir():
        return isinstance(x, paddle.pir.Value)
    return isinstance(x, paddle.static.Variable)


def _pir_find_parameter(program, name):
    for op in program.global_block().ops:
        if op.name() == "builtin.parameter" and op.attrs()["parameter_name"] == name:
            return op
    return None


def _pir_persistable(name, value, dtype, force_cpu):
    """A persistable [1] tensor named ``name``, initialised in the startup program."""
    from paddle.pir.core import parameter, set_parameter

    main = paddle.static.default_main_program()
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
    return var


def _legacy_persistable(name, value, dtype, force_cpu):
    from paddle.base.layer_helper import LayerHelper
    from paddle.nn.initializer.constant import ConstantInitializer

    helper = LayerHelper("global_var")
    var, is_new = helper.create_or_get_global_variable(
        name=name, dtype=dtype, shape=[1], persistable=True, belong_to_optimizer=True
    )
    if is_new:
        helper.set_variable_initializer(
            var, initializer=ConstantInitializer(value=value, force_cpu=force_cpu)
        )
        var.stop_gradient = True
    return var, is_new


def step_counter(name, begin, step):
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
    main = paddle.static.default_main_program()
    if is_pir():
        existing = _pir_find_parameter(main, name)
        if existing is not None:
            return _pir_counter_reader(existing.result(0)), False
        with schedule_guard(main):
            counter = _pir_persistable(name, begin - 1, "int64", force_cpu=True)
        with paddle.static.program_guard(main), schedule_guard(main):
            paddle.pir.set_insertion_point_after(counter.get_defining_op())
            out = paddle.increment(counter, float(step))
        out.stop_gradient = True
        return out, True
    counter, is_new = _legacy_persistable(name, begin - 1, "int64", force_cpu=True)
    if is_new:
        with schedule_guard(main):
            main.global_block()._prepend_op(
                type="increment",
                inputs={"X": [counter]},
                outputs={"Out": [counter]},
                attrs={"step": float(step)},
                stop_gradient=True,
            )
    return counter, is_new


def _pir_counter_reader(counter):
    """The increment's output for a counter ``builtin.parameter`` value."""
    for use in counter.all_used_ops():
        if use.name() == "pd_op.increment_":
            return use.result(0)
    return counter


def persistable_float(name, value=0.0):
    """A persistable float32 [1] tensor, initialised to ``value`` on the default place.

    Args:
        name (str): a unique name in the program.
        value (float): the initial value.

    Returns:
        The tensor (``pir.Value`` or ``static.Variable``).
    """
    if is_pir():
        return _pir_persistable(name, value, "float32", force_cpu=False)
    return _legacy_persistable(name, value, "float32", force_cpu=False)[0]


def cpu_constant(value, dtype="float32"):
    """A [1] constant created on the CPU place (fluid's ``force_cpu=True``).

    Args:
        value (float): the constant; stored as ``dtype``.
        dtype (str): the data type.

    Returns:
        The constant tensor.
    """
    return fill_constant([1], dtype, value, force_cpu=True)


@contextlib.contextmanager
def conditional_block(cond):
    """Build the ops of the ``with`` body so that they run only when ``cond`` holds.

    Args:
        cond: a bool tensor with one element.

    Yields:
        None. Writes to outer tensors go through ``paddle.assign(x, output=...)``.
    """
    if is_pir():
        from paddle.static.nn.control_flow import If

        with If(cond).true_block():
            yield
        return
    from paddle.static.nn.control_flow import ConditionalBlock

    with ConditionalBlock([cond], is_scalar_condition=True).block():
        yield


@contextlib.contextmanager
def schedule_guard(program=None):
    """Give the ops built inside the learning-rate-schedule role.

    Legacy programs drop ops of that role in ``clone(for_test=True)``; in PIR,
    :func:`clone_for_test` removes them.

    Args:
        program: the main program (default: the current one).

    Yields:
        None.
    """
    program = program or paddle.static.default_main_program()
    if is_pir():
        from paddle.base.framework import pir_op_role_guard

        with pir_op_role_guard(_LR_SCHED_ROLE):
            yield
        return
    with program._lr_schedule_guard(is_with_opt=True):
        yield


def is_schedule_op(op):
    """Whether a program op was built by :func:`schedule_guard`.

    Args:
        op: an op of a legacy block (``Operator``) or a PIR op.

    Returns:
        bool.
    """
    if is_pir():
        return op.has_attr("op_role") and op.attrs()["op_role"] == _LR_SCHED_ROLE
    return op.has_attr("op_role") and op.attr("op_role") == _LR_SCHED_ROLE


def op_names(program, nested=False):
    """The names of a program's ops, in order.

    Args:
        program: a main or startup program.
        nested (bool): also the ops inside conditional blocks.

    Returns:
        list[str]: names as the IR spells them (``pd_op.increment_`` in PIR,
        ``increment`` in the legacy IR).
    """
    if not is_pir():
        blocks = program.blocks if nested else [program.global_block()]
        return [op.type for block in blocks for op in block.ops]

    def walk(block):
        for op in block.ops:
            yield op.name()
            if nested:
                for sub in op.blocks():
                    yield from walk(sub)

    return list(walk(program.global_block()))


def _doomed_ops(block):
    """The schedule ops of ``block`` and every op that reads what they compute."""
    doomed, tainted = [], set()
    for op in block.ops:
        if is_pir():
            inputs = {v.id for v in op.operands_source() if v.initialized()}
            outputs = {v.id for v in op.results()}
        else:
            inputs, outputs = set(op.input_arg_names), set(op.output_arg_names)
        if is_schedule_op(op) or inputs & tainted:
            doomed.append(op)
            tainted |= outputs
    return doomed


def clone_for_test(program, values=()):
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
    if is_pir():
        mapping = paddle.pir.IrMapping()
        test = program.clone(mapping)
        mapped = [mapping.look_up(v) for v in values]
    else:
        test = program.clone(for_test=True)
        mapped = list(values)
    block = test.global_block()
    doomed = _doomed_ops(block)
    if is_pir():
        for op in reversed(doomed):
            block.remove_op(op)
    else:
        ids = {id(op) for op in doomed}
        for index in reversed(range(len(block.ops))):
            if id(block.ops[index]) in ids:
                block._remove_op(index)
    return test, mapped
