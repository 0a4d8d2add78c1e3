"""The tiny programs and runs behind the recorded checkpoint fixtures (tests/data/checkpoints).

``tools/record_checkpoints.py`` runs these on one Paddle version and writes
``tests/data/checkpoints/<paddle version>/``; ``tests/test_checkpoint.py`` and
``tests/test_resume_versions.py`` build the same programs and runs on whichever
Paddle is installed and load the fixtures of every recorded version.
"""
import contextlib
import json
import pathlib

import numpy as np
import paddle

import paddle_lr
from paddle_lr.demo import detector

REPO = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "data" / "checkpoints"
MANIFEST = "manifest.json"

# -- the program of the load_checkpoint fixtures ----------------------------

#: The schedule: warmup over steps 0-3, decays at 5 and 7.
SCHEDULE = dict(learning_rate=0.1, boundaries=[5, 7], values=[0.1, 0.01, 0.001], warmup_iter=4,
                warmup_factor=1 / 3)
LOWERINGS = ("switch", "branchless")
#: Main-program runs before the checkpoint is saved (the counter then holds 2).
SAVED_AFTER = 3
#: Runs after it whose lr is recorded (steps 3-8: the warmup's last, then both decays).
RUNS_AFTER = 6
#: The checkpoint formats, by fixture directory.
FORMATS = ("static_save", "per_variable")
_W0 = np.linspace(-0.5, 0.5, 6, dtype=np.float32).reshape(3, 2)
_B0 = np.array([0.1, -0.2], dtype=np.float32)


def feed(step):
    """The batch of run ``step``: a fixed function of the step."""
    x = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3) * np.float32(step + 1)
    return {"x": x}


class Program:
    """One fc layer trained with the schedule (:data:`SCHEDULE` by default) under ``lowering``, in its own scope."""

    def __init__(self, lowering, schedule=None):
        self.main, self.startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(self.main, self.startup):
            x = paddle.static.data("x", [None, 3], "float32")
            out = paddle.static.nn.fc(
                x, 2,
                weight_attr=paddle.ParamAttr(name="ckpt_fc.w", initializer=paddle.nn.initializer.Assign(_W0)),
                bias_attr=paddle.ParamAttr(name="ckpt_fc.b", initializer=paddle.nn.initializer.Assign(_B0)),
            )
            self.loss = paddle.mean(out ** 2)
            self.lr = paddle_lr.exponential_with_warmup_decay(**(schedule or SCHEDULE), impl=lowering)
            paddle_lr.Momentum(self.lr, 0.9, regularization=paddle_lr.L2Decay(1e-4)).minimize(self.loss)
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(paddle.CPUPlace())
        with paddle.static.scope_guard(self.scope):
            self.exe.run(self.startup)

    def run(self, step):
        """One run of the main program; returns the lr it used (a numpy float32)."""
        with paddle.static.scope_guard(self.scope):
            lr, = self.exe.run(self.main, feed=feed(step), fetch_list=[self.lr])
        return np.asarray(lr, dtype=np.float32).reshape(-1)[0]

    def state(self):
        """Every persistable of the program, from the scope: name -> numpy array."""
        return {name: np.array(self.scope.find_var(name).get_tensor())
                for name in paddle_lr.graph.ir.persistables(self.main)}


def encode(array):
    """A numpy array as JSON: dtype, shape and the hex of its bytes."""
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.name, "shape": list(array.shape), "hex": array.tobytes().hex()}


def decode(entry):
    """The array :func:`encode` described."""
    return np.frombuffer(bytes.fromhex(entry["hex"]), dtype=entry["dtype"]).reshape(entry["shape"])


def versions():
    """The Paddle versions with recorded fixtures, sorted."""
    return sorted(p.name for p in FIXTURES.iterdir() if (p / MANIFEST).is_file())


def per_variable_fixture():
    """The per-variable switch fixture of the running version, else of the first recorded (the format is the same)."""
    version = paddle.__version__ if (FIXTURES / paddle.__version__ / MANIFEST).is_file() else versions()[0]
    return FIXTURES / version / "per_variable" / "switch"


def manifest(version):
    """The fixture manifest recorded on ``version``."""
    return json.loads((FIXTURES / version / MANIFEST).read_text(encoding="utf-8"))


# -- the trainer runs of the snapshot fixtures -----------------------------

#: The tiny run of tests/trainkit.py (8 iterations, snapshots every 2); the
#: dataset directory is relative, so that the recorded cfg equals the resumed one.
DATASET = "shapes"
SNAPSHOT_AT = 4
#: The detector narrowed (4 channels, GroupNorm of 2 groups): a snapshot of a few KB.
WIDTH, GROUPS = 4, 2


@contextlib.contextmanager
def small_detector():
    """Train a narrower :class:`~paddle_lr.demo.detector.TinyCenterNet` while inside."""
    original, groups = detector.TinyCenterNet, detector._GROUPS

    class Narrow(original):
        def __init__(self, num_classes, width=WIDTH):
            super().__init__(num_classes, width)

    detector.TinyCenterNet, detector._GROUPS = Narrow, GROUPS
    try:
        yield
    finally:
        detector.TinyCenterNet, detector._GROUPS = original, groups
