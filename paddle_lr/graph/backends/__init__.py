"""The two static-IR backends; :mod:`paddle_lr.graph.ir` picks one at import.

Each backend module (:mod:`.pir`, :mod:`.legacy`) provides the same small set
of functions, the only places where the two IRs are told apart:

============================  ================================================
``NAME``                      ``"pir"`` or ``"legacy"``
``is_static_value(x)``        is ``x`` a tensor of the static graph
``persistable(...)``          a persistable [1] tensor initialised by startup
``step_counter(...)``         the int64 counter, incremented first in main
``conditional_block(c)``      a block that runs only when ``c`` holds
``schedule_role(program)``    give ops the learning-rate-schedule role
``op_role(op)``               an op's role attribute (or None)
``op_io(op)``                 an op's input and output identities
``blocks_ops(program)``       the names of a program's ops, optionally nested
``clone(program, values)``    a copy of a program and its mapped values
``remove_ops(block, ops)``    remove ops from a block
``persistable_values(p)``     the persistables a checkpoint of ``p`` holds
``global_var_meta(name)``     shape and dtype of the global variable ``name``
``global_var(...)``           fluid's ``create_global_var`` (global block)
``producer(value)``           the op that computes ``value`` (None: persistable)
``op_parts(op)``              an op's type and inputs (PIR's operand order)
``persistable_name(v)``       the persistable ``v`` names, or None
``same_value(a, b)``          whether two values are one tensor
``op_attr(op, name)``         an op's attribute
``readers(value)``            the ops that read ``value``
``set_input(op, i, v)``       make ``op`` read ``v`` as its input ``i``
``remove_op(op)``             remove one op from its block
``drop_persistable(p, n)``    remove an unread persistable from ``p``
``AXIS_IS_OPERAND``           concat's axis is an operand (PIR)
``SCALE_FACTOR_IS_OPERAND``   scale's factor is an operand (PIR)
============================  ================================================
"""
