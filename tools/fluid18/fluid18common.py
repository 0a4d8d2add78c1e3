"""What the fluid 1.8.5 recorders share (Python 3.5-3.8, paddle.fluid 1.8.5; never imports paddle_lr).

Import it before anything imports Paddle: it pins MKL's code path first. The
graphs the recorders build are ``fluid18graphs``'s (no side effects, shared
with the bench).
"""
import os

# Before Paddle loads MKL: fluid's float32 division of same-shape tensors on the CPU is MKL's
# vsDiv, whose AVX-512 code path rounds 1 ulp off the correctly rounded quotient on some inputs
# (rcnn_1x: 4 of 180000 steps, unpinned, on a Xeon with AVX-512). COMPATIBLE pins one code path
# on every CPU, so a recording does not depend on the machine.
os.environ["MKL_CBWR"] = "COMPATIBLE"

import paddle  # noqa: E402
import paddle.fluid as fluid  # noqa: E402,F401  (the recorders take fluid from here, after the pin)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
COUNTER = "@LR_DECAY_COUNTER@"

def header():
    """The keys every recording carries."""
    return {"paddle": paddle.__version__, "MKL_CBWR": os.environ["MKL_CBWR"],
            "encoding": "see tools/fluid18/fluid18io.py"}


def make_folder(out, topic):
    folder = os.path.join(out, topic)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    return folder
