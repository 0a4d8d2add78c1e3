"""The legacy IR (paddlepaddle 2.6): ``ProgramDesc``, ``Variable``, ``ConditionalBlock``."""
import contextlib

import paddle

NAME = "legacy"
# An axis is an attribute of the op.
AXIS_IS_OPERAND = False
# scale's factor too.
SCALE_FACTOR_IS_OPERAND = False


def is_static_value(x):
    # not isinstance: in dygraph, Variable's metaclass counts every eager tensor as a Variable
    return issubclass(type(x), paddle.static.Variable)


def persistable(name, value, dtype, force_cpu, as_parameter=None):
    """A persistable [1] tensor named ``name``, initialised in the startup program.

    Returns:
        tuple: ``(value, is_new)``; an existing one of that name is returned as it is.
    """
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


def persistable_table(shape, dtype, name, initializer):
    return paddle.static.create_parameter(
        shape, dtype, attr=paddle.ParamAttr(name=name, trainable=False), default_initializer=initializer
    )


def step_counter(name, begin, step, role_guard):
    main = paddle.static.default_main_program()
    counter, is_new = persistable(name, begin - 1, "int64", force_cpu=True)
    if is_new:
        with role_guard(main):
            main.global_block()._prepend_op(
                type="increment",
                inputs={"X": [counter]},
                outputs={"Out": [counter]},
                attrs={"step": float(step)},
                stop_gradient=True,
            )
    return counter, is_new


@contextlib.contextmanager
def conditional_block(cond):
    from paddle.static.nn.control_flow import ConditionalBlock

    with ConditionalBlock([cond], is_scalar_condition=True).block():
        yield


@contextlib.contextmanager
def schedule_role(program, role):
    # fluid's own guard: it sets the LRSched|Optimize role that
    # ``Program.clone(for_test=True)`` drops.
    with program._lr_schedule_guard(is_with_opt=True):
        yield


def op_role(op):
    return op.attr("op_role") if op.has_attr("op_role") else None


def op_io(op):
    return set(op.input_arg_names), set(op.output_arg_names)


def op_names(program, nested, computed=False):  # a legacy block holds no op for a variable
    blocks = program.blocks if nested else [program.global_block()]
    return [op.type for block in blocks for op in block.ops]


def clone(program, values):
    """``clone(for_test=True)``; legacy clones share the variables' names, so ``values`` stay."""
    return program.clone(for_test=True), list(values)


def remove_ops(block, ops):
    ids = {id(op) for op in ops}
    for index in reversed(range(len(block.ops))):
        if id(block.ops[index]) in ids:
            block._remove_op(index)


def persistable_values(program):
    """The persistables ``paddle.static.save`` and ``save_persistables`` write."""
    return paddle.static.io.get_program_persistable_vars(program)


def parameter_names(program):
    """The names of ``program``'s parameters (``Parameter`` variables, trainable or not)."""
    return [p.name for p in program.all_parameters()]


def written_names(program, role):
    """The variable names that ops of ``role`` write, in every block (conditional blocks included)."""
    return {name for block in program.blocks for op in block.ops if op_role(op) == role
            for name in op.output_arg_names}


def global_var_meta(name):
    """``(shape, dtype)`` of the main program's global variable ``name``, or None."""
    from paddle.base.data_feeder import convert_dtype

    block = paddle.static.default_main_program().global_block()
    if not block.has_var(name):
        return None
    var = block.var(name)
    return [int(d) for d in var.shape], convert_dtype(var.dtype)


def global_var(shape, value, dtype, persistable, force_cpu, name):
    """Fluid's ``create_global_var``: Paddle's own ``paddle.static.create_global_var``."""
    return paddle.static.create_global_var(shape, value, dtype, persistable, force_cpu, name)


# -- reading and rewiring the ops of a branch-free lookup (tables.prepend, ir.prune) --

# The input slots of the ops a lookup is made of, in the order PIR gives their operands.
_INPUT_SLOTS = {"index_select": ("X", "Index"), "searchsorted": ("SortedSequence", "Values")}


def _block_ops(program):
    return [op for block in program.blocks for op in block.ops]


def producer(value):
    """The op that last writes ``value`` in its block; None for a persistable."""
    if value.persistable:
        return None
    return next((op for op in reversed(value.block.ops) if value.name in op.output_arg_names), None)


def op_parts(op):
    """``op``'s type and its inputs (in PIR's operand order), or None for an op of no lookup."""
    slots = _INPUT_SLOTS.get(op.type)
    if slots is None:
        return None
    return op.type, [op.block._var_recursive(op.input(slot)[0]) for slot in slots]


def persistable_name(value):
    return value.name if value.persistable else None


def same_value(a, b):
    """Whether ``a`` and ``b`` are the same tensor of the program."""
    return a.name == b.name


def op_attr(op, name):
    return op.attr(name)


def readers(value):
    return [op for op in _block_ops(value.block.program) if value.name in op.input_arg_names]


def set_input(op, index, value):
    slot = _INPUT_SLOTS[op.type][index]
    op._rename_input(op.input(slot)[0], value.name)


def remove_op(op):
    block = op.block
    block._remove_op(next(i for i, o in enumerate(block.ops) if o is op))


def drop_persistable(program, name):
    block = program.global_block()
    if not block.has_var(name) or any(name in op.input_arg_names for op in _block_ops(program)):
        return False
    block._remove_var(name)
    return True
