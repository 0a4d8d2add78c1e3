"""Shared fixtures: golden traces and a fresh static-graph runner per test."""
import json
import os
import pathlib
import warnings

os.environ.setdefault("GLOG_minloglevel", "2")
# Paddle's float32 division on the CPU is MKL's vsDiv, whose AVX-512 code path rounds 1 ulp off
# on some inputs; the golden traces and the fluid 1.8.5 recordings hold with one pinned path.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.config import schedule_args, validate, cfg as default_cfg

GOLDEN_PATH = pathlib.Path(__file__).parent / "data" / "fluid_traces.json"


def load_golden():
    """The golden cases, each with ``start``, ``steps``, ``args`` (lr_at's) and ``expected`` bits."""
    cases = []
    for case in json.loads(GOLDEN_PATH.read_text())["cases"]:
        start = case.get("start_step", 0)
        expected = np.empty(case["steps"], dtype=np.uint32)
        trace = case["trace"]
        for i, (first, bits) in enumerate(trace):
            end = trace[i + 1][0] if i + 1 < len(trace) else start + case["steps"]
            expected[first - start : end - start] = bits
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # some golden cases are deliberately odd
            config = validate({**default_cfg, **{k: case[k] for k in (
                "learning_rate", "lr_steps", "lr_gamma", "warm_up_iter", "warm_up_factor")},
                "max_iter": start + case["steps"]})
        cases.append(dict(name=case["name"], start=start, steps=case["steps"],
                          args=schedule_args(config), expected=expected))
    return cases


GOLDEN = load_golden()


def golden_params(cases=GOLDEN):
    return [pytest.param(c, id=c["name"]) for c in cases]


def first_mismatch(steps, got, expected):
    """A message naming the first step whose float32 bits differ, or None."""
    got = np.asarray(got, dtype=np.float32).view(np.uint32)
    expected = np.asarray(expected, dtype=np.uint32)
    bad = np.flatnonzero(got != expected)
    if bad.size == 0:
        return None
    i = bad[0]
    return (f"{bad.size} steps differ; first at step {int(steps[i])}: got "
            f"{got[i:i+1].view(np.float32)[0]!r} (0x{got[i]:08x}), expected "
            f"{expected[i:i+1].view(np.float32)[0]!r} (0x{expected[i]:08x})")


class StaticRunner:
    """One static program pair built in isolation, with its own scope and executor."""

    def __init__(self, build):
        self.main, self.startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(self.main, self.startup):
            self.outputs = build()
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(paddle.CPUPlace())
        with paddle.static.scope_guard(self.scope):
            self.exe.run(self.startup)

    def run(self, fetch, feed=None, program=None):
        with paddle.static.scope_guard(self.scope):
            return self.exe.run(program or self.main, feed=feed or {}, fetch_list=list(fetch))

    def tensor(self, name):
        return np.array(self.scope.find_var(name).get_tensor())

    def set_tensor(self, name, value):
        self.scope.find_var(name).get_tensor().set(np.asarray(value), paddle.CPUPlace())

    def jump_to(self, step):
        """Make the next run of the main program see decay step ``step``."""
        self.set_tensor(paddle_lr.graph.counter.LR_DECAY_COUNTER, np.array([step - 1], dtype=np.int64))


@pytest.fixture
def static_mode():
    paddle.enable_static()
    yield
    paddle.disable_static()


@pytest.fixture
def runner(static_mode):
    return StaticRunner


# -- what holds only on some Paddle versions, asked for explicitly ----------------------------

def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.measured_on("3.3.1", ...)``: a kernel expectation measured on those
    versions only; on any other Paddle the test skips in one line."""
    for item in items:
        marker = item.get_closest_marker("measured_on")
        if marker is not None and paddle.__version__ not in marker.args:
            item.add_marker(pytest.mark.skip(
                reason=f"measured on paddlepaddle {', '.join(marker.args)}; this is {paddle.__version__}"))


@pytest.fixture
def recorded_here():
    """tests/data/checkpoints/<the running Paddle version>/ (tools/record_checkpoints.py's
    fixtures); skips in one line on a version none were recorded on."""
    import checkpointkit

    directory = checkpointkit.FIXTURES / paddle.__version__
    if not (directory / checkpointkit.MANIFEST).is_file():
        pytest.skip(f"no checkpoint fixtures recorded on paddlepaddle {paddle.__version__} "
                    f"(recorded: {', '.join(checkpointkit.versions())})")
    return directory
