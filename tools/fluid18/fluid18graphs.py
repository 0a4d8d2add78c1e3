"""The fluid 1.8.5 graphs that the recorders and the bench build (Python 3.5-3.8, paddle.fluid 1.8.5).

Never imports paddle_lr, and importing it changes nothing in the process: the
recorders import ``fluid18common`` before it (that pins MKL's code path before
Paddle loads), ``bench_fluid.py`` times fluid as its users ran it, unpinned.
"""
import paddle.fluid as fluid
import paddle.fluid.layers.learning_rate_scheduler as lr_scheduler
from paddle.fluid.layers import control_flow

SEED_SOURCE = "PaddlePaddle/models PaddleCV/rcnn/models/learning_rate.py, exponential_with_warmup_decay"


def seed_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor):
    """The seed: :data:`SEED_SOURCE` as published (PaddleDetection's static ppdet carries the same graph).

    A float32 ``warmup_iter`` constant, a Switch whose first case is the linear
    warmup, one case per boundary assigning its value, and a default assigning
    the last value, into a persistable ``learning_rate``.
    """
    global_step = lr_scheduler._decay_step_counter()
    lr = fluid.layers.create_global_var(shape=[1], value=0.0, dtype="float32", persistable=True,
                                        name="learning_rate")
    warmup_iter_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(warmup_iter),
                                                 force_cpu=True)
    with control_flow.Switch() as switch:
        with switch.case(global_step < warmup_iter_var):
            alpha = global_step / warmup_iter_var
            factor = warmup_factor * (1 - alpha) + alpha
            decayed_lr = learning_rate * factor
            fluid.layers.assign(decayed_lr, lr)
        for i in range(len(boundaries)):
            boundary_val = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(boundaries[i]),
                                                      force_cpu=True)
            value_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(values[i]))
            with switch.case(global_step < boundary_val):
                fluid.layers.assign(value_var, lr)
        last_value_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(values[len(values) - 1]))
        with switch.default():
            fluid.layers.assign(last_value_var, lr)
    return lr


def family_schedule(fn, args):
    """``fluid.layers.<fn>(**args)`` (the seed for ``exponential_with_warmup_decay``), a nested
    ``{"fn", "args"}`` as ``learning_rate`` built first."""
    args = dict(args)
    inner = args.get("learning_rate")
    if isinstance(inner, dict):
        args["learning_rate"] = family_schedule(inner["fn"], inner["args"])
    if fn == "exponential_with_warmup_decay":
        return seed_schedule(**args)
    return getattr(fluid.layers, fn)(**args)
