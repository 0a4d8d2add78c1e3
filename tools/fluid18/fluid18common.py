"""What the fluid 1.8.5 recorders share (Python 3.5-3.8, paddle.fluid 1.8.5; never imports paddle_lr).

Import it before anything imports Paddle: it pins MKL's code path first.
"""
import os

# Before Paddle loads MKL: fluid's float32 division of same-shape tensors on the CPU is MKL's
# vsDiv, whose AVX-512 code path rounds 1 ulp off the correctly rounded quotient on some inputs
# (rcnn_1x: 4 of 180000 steps, unpinned, on a Xeon with AVX-512). COMPATIBLE pins one code path
# on every CPU, so a recording does not depend on the machine.
os.environ["MKL_CBWR"] = "COMPATIBLE"

import paddle  # noqa: E402
import paddle.fluid as fluid  # noqa: E402
import paddle.fluid.layers.learning_rate_scheduler as lr_scheduler  # noqa: E402
from paddle.fluid.layers import control_flow  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
COUNTER = "@LR_DECAY_COUNTER@"

# The seed: the R-CNN schedule of PaddlePaddle/models (PaddleCV/rcnn/models/learning_rate.py;
# PaddleDetection's static ppdet carries the same graph), op for op: a float32 warmup_iter
# constant, a Switch whose first case is the linear warmup, one case per boundary assigning
# its value, and a default assigning the last value, into a persistable "learning_rate".
SEED_SOURCE = "PaddlePaddle/models PaddleCV/rcnn/models/learning_rate.py, exponential_with_warmup_decay"


def seed_schedule(learning_rate, boundaries, values, warmup_iter, warmup_factor):
    global_step = lr_scheduler._decay_step_counter()
    lr = fluid.layers.create_global_var(shape=[1], value=0.0, dtype="float32", persistable=True,
                                        name="learning_rate")
    warmup_iter_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(warmup_iter),
                                                 force_cpu=True)
    with control_flow.Switch() as switch:
        with switch.case(global_step < warmup_iter_var):
            alpha = global_step / warmup_iter_var
            factor = warmup_factor * (1 - alpha) + alpha
            fluid.layers.assign(learning_rate * factor, lr)
        for boundary, value in zip(boundaries, values):
            boundary_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(boundary),
                                                      force_cpu=True)
            value_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(value))
            with switch.case(global_step < boundary_var):
                fluid.layers.assign(value_var, lr)
        last_var = fluid.layers.fill_constant(shape=[1], dtype="float32", value=float(values[len(values) - 1]))
        with switch.default():
            fluid.layers.assign(last_var, lr)
    return lr


def header():
    """The keys every recording carries."""
    return {"paddle": paddle.__version__, "MKL_CBWR": os.environ["MKL_CBWR"],
            "encoding": "see tools/fluid18/fluid18io.py"}


def make_folder(out, topic):
    folder = os.path.join(out, topic)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    return folder
