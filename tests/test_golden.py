"""Golden parity: lr_at, both graph lowerings and the dygraph twin, bit for bit.

The default run checks every step of every case whose trace is short, and for
the long recipes (rcnn_1x, seed_coco17) every step of the warmup and of a
window around every boundary and at the end, jumping the counter in between.
``-m slow`` runs every step of every case through the graph.
"""
import json
import pathlib

import numpy as np
import pytest

import paddle_lr
from conftest import GOLDEN, first_mismatch, golden_params

IMPLS = ["switch", "branchless"]
FULL_RUN_LIMIT = 20000  # steps: longer cases get windows unless -m slow
WINDOW = 3


def windows(case):
    """Step ranges covering the warmup, every boundary and the last steps."""
    a = case["args"]
    start, stop = case["start"], case["start"] + case["steps"]
    edges = [start, int(np.ceil(a["warmup_iter"])), *a["boundaries"], stop - 1]
    ranges = [(start, min(stop, int(np.ceil(a["warmup_iter"])) + WINDOW + 1))]
    ranges += [(max(start, e - WINDOW), min(stop, e + WINDOW + 1)) for e in edges[2:]]
    return ranges


@pytest.mark.parametrize("case", golden_params())
def test_lr_at_every_step(case):
    steps = np.arange(case["start"], case["start"] + case["steps"])
    got = paddle_lr.lr_at(steps, **case["args"])
    assert first_mismatch(steps, got, case["expected"]) is None, first_mismatch(steps, got, case["expected"])


@pytest.mark.parametrize("case", golden_params())
def test_lr_at_scalar_is_float32(case):
    value = paddle_lr.lr_at(case["start"], **case["args"])
    assert isinstance(value, np.float32)
    assert value.view(np.uint32) == case["expected"][0]


def run_graph(runner, case, impl, ranges):
    r = runner(lambda: paddle_lr.exponential_with_warmup_decay(**case["args"], impl=impl))
    steps, got = [], []
    for lo, hi in ranges:
        r.jump_to(lo)
        for step in range(lo, hi):
            got.append(r.run([r.outputs])[0][0])
            steps.append(step)
    steps = np.asarray(steps)
    return steps, np.asarray(got, dtype=np.float32), case["expected"][steps - case["start"]]


@pytest.mark.filterwarnings("ignore:warmup_iter.*covers boundaries:paddle_lr.rules.ScheduleWarning")  # a golden case is deliberately so
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", golden_params())
def test_graph_matches_golden(runner, case, impl):
    start, stop = case["start"], case["start"] + case["steps"]
    ranges = [(start, stop)] if case["steps"] <= FULL_RUN_LIMIT else windows(case)
    steps, got, expected = run_graph(runner, case, impl, ranges)
    message = first_mismatch(steps, got, expected)
    assert message is None, f"{impl}: {message}"


@pytest.mark.slow
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", golden_params([c for c in GOLDEN if c["steps"] > FULL_RUN_LIMIT]))
def test_graph_matches_golden_every_step(runner, case, impl):
    steps, got, expected = run_graph(runner, case, impl, [(case["start"], case["start"] + case["steps"])])
    message = first_mismatch(steps, got, expected)
    assert message is None, f"{impl}: {message}"


@pytest.mark.parametrize("case", golden_params())
def test_dygraph_twin_matches_golden(case):
    scheduler = paddle_lr.WarmupPiecewiseDecay(**case["args"], last_epoch=case["start"] - 1)
    got = np.empty(case["steps"], dtype=np.float32)
    for i in range(case["steps"]):
        got[i] = scheduler()
        scheduler.step()
    steps = np.arange(case["start"], case["start"] + case["steps"])
    assert first_mismatch(steps, got, case["expected"]) is None, first_mismatch(steps, got, case["expected"])


@pytest.mark.parametrize("name", ["fluid_traces.json", "family_traces.json"])
def test_golden_files_are_the_shared_ones(name):
    """The golden files in tests/data are copies of ../shared/golden's, when that is beside the clone."""
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "golden" / name
    if not shared.exists():
        pytest.skip("no shared golden directory beside the clone")
    ours = json.loads((pathlib.Path(__file__).parent / "data" / name).read_text())
    assert ours == json.loads(shared.read_text()), f"tests/data/{name} differs from {shared}"
