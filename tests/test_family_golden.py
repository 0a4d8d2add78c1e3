"""The family's golden parity: reference, graph and dygraph twin against Paddle 2.6.2's own schedules.

``tests/data/family_traces.json`` (see ``/work/shared/golden/README.md``) was
recorded from ``paddle.optimizer.lr``'s legacy static-graph functions on
2.6.2; ``cosine_decay_with_skip``, which is PaddleDetection's and not fluid's,
has its cases in ``tests/data/fluid185/ppdet/family_traces.json``, recorded
from PaddleDetection's own class on fluid 1.8.5 (``tools/fluid18/record_ppdet.py``).
The contract:

* the numpy reference: every step of every case, bit for bit, on both versions;
* the graph: bit for bit on 2.x; on 3.x bit for bit where no schedule of the
  case calls ``exp``/``cos``/``pow``. Every schedule of a case (the inner one
  of a composition too) is also checked on its own, given the graph's value
  of its ``learning_rate``: one without those kernels equals its reference
  bit for bit; one with them equals, bit for bit, its own op sequence run
  eagerly on the running Paddle, and its reference evaluated with the
  running Paddle's kernels in place of the C library's; and those kernels
  are within 1 ulp of the C library's (2.6.2's) on every input the case
  feeds them. So on 3.x a difference is the kernel's, not the port's. (The
  lr itself can then be further off than 1 ulp, where the schedule cancels:
  ``1 + cos`` near the end of a cosine wave; see docs/family.md.)
* the dygraph twin follows the reference: bit for bit on both versions.

Cases longer than ``FULL_RUN_LIMIT`` steps run the graph on a sample (the
start, the end, a window around trace changes, random steps; the counter is
jumped in between); ``-m slow`` runs every step.
"""
import json
import pathlib
from collections.abc import Mapping

import numpy as np
import paddle
import pytest

from familykit import KERNEL_ULP, check_nodes, kernels_of, mismatch, run_graph, running_kernels, twin_of, ulps
from paddle_lr.schedules.registry import REGISTRY, check_spec, counter_begin, reference_values, spec_of

DATA = pathlib.Path(__file__).parent / "data" / "family_traces.json"
PPDET = pathlib.Path(__file__).parent / "data" / "fluid185" / "ppdet" / "family_traces.json"
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "family.md"
IS_331 = paddle.__version__ == "3.3.1"
FULL_RUN_LIMIT = 2500  # steps; longer cases are sampled unless -m slow


def load_family():
    cases = []
    for case in json.loads(DATA.read_text())["cases"] + json.loads(PPDET.read_text())["cases"]:
        spec = case["schedule"]
        start = case.get("start_step", counter_begin(spec))
        n = case["steps"]
        expected = np.empty(n, dtype=np.uint32)
        trace = case["trace"]
        for i, (first, bits) in enumerate(trace):
            end = trace[i + 1][0] if i + 1 < len(trace) else start + n
            expected[first - start:end - start] = bits
        changes = [first for first, _ in trace]
        cases.append(dict(name=case["name"], spec=spec, start=start, steps=np.arange(start, start + n),
                          expected=expected, changes=changes))
    return cases


FAMILY = load_family()


def params(long_marks=()):
    """The cases; those longer than FULL_RUN_LIMIT get ``long_marks``."""
    return [pytest.param(c, id=c["name"], marks=long_marks if len(c["steps"]) > FULL_RUN_LIMIT else ())
            for c in FAMILY]


def sample(case):
    """The steps the default run checks: all of a short case; a sample of a long one."""
    steps = case["steps"]
    if len(steps) <= FULL_RUN_LIMIT:
        return steps
    start, stop = int(steps[0]), int(steps[-1]) + 1
    picked = set(range(start, min(stop, start + 100))) | set(range(max(start, stop - 20), stop))
    changes = case["changes"]
    for first in changes[:: max(1, len(changes) // 40)]:
        picked |= set(range(max(start, first - 2), min(stop, first + 3)))
    picked |= set(np.random.default_rng(len(steps)).integers(start, stop, 100).tolist())
    return np.array(sorted(picked))


def test_every_case_is_checked():
    """The golden file covers every family schedule (a new one needs its golden cases)."""
    covered = {name for c in FAMILY for name in _names(c["spec"])}
    assert covered == set(REGISTRY) - {"exponential_with_warmup_decay"}, covered


def _names(spec):
    inner = spec["args"].get("learning_rate")
    return {spec["fn"]} | (_names(inner) if isinstance(inner, Mapping) else set())


@pytest.mark.parametrize("case", params())
def test_reference_every_step(case):
    got = reference_values(case["spec"], case["steps"])
    assert got.dtype == np.float32
    error = mismatch(f"{case['name']} reference", case["steps"], got, case["expected"])
    assert error is None, error


# -- the graph ------------------------------------------------------------------

def check_graph(runner, case, steps):
    spec = case["spec"]
    specs, values = run_graph(runner, spec, steps)
    errors = []
    if KERNEL_ULP == 0 or not kernels_of(spec):
        expected = case["expected"][steps - case["start"]]
        errors.append(mismatch(f"{case['name']} graph vs golden", steps, values[-1], expected))
    errors += check_nodes(case["name"], specs, values, steps)
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("case", params())
def test_graph(runner, case):
    check_graph(runner, case, sample(case))


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in params() if len(c.values[0]["steps"]) > FULL_RUN_LIMIT])
def test_graph_every_step(runner, case):
    check_graph(runner, case, case["steps"])


# -- the dygraph twin -------------------------------------------------------------

@pytest.mark.parametrize("case", params())
def test_twin(case):
    """The twin's value after k steps is the golden value at the k-th run (start_step: jumped to)."""
    spec = case["spec"]
    paddle.disable_static()
    twin = twin_of(spec)
    assert spec_of(twin) == check_spec(spec)
    begin = counter_begin(spec)
    if case["start"] != begin:
        twin.step(case["start"] - begin)
    got = []
    for _ in case["steps"]:
        got.append(twin())
        twin.step()
    error = mismatch(f"{case['name']} twin", case["steps"], np.asarray(got, dtype=np.float32), case["expected"])
    assert error is None, error


# -- the measured 3.x table of docs/family.md ------------------------------------------

def _measured_rows():
    text = DOCS.read_text(encoding="utf-8")
    lines = text[text.index("<!-- measured:"):].split("\n\n")[0].splitlines()[3:]
    return {cells[0]: [int(cells[1]), *(int(c) for c in cells[3:])] for cells in
            ([c.strip() for c in line.strip().strip("|").split("|")] for line in lines)}


@pytest.mark.slow
def test_measured_3x_table():
    """docs/family.md's table, every step of every case with a kernel: on 3.3.1 its numbers; on 2.x all 0.

    The lr values are the reference with the running Paddle's kernels, which
    test_graph shows equal to the graph bit for bit.
    """
    if not (IS_331 or KERNEL_ULP == 0):
        pytest.skip(f"the table was measured on 3.3.1; this is {paddle.__version__}")
    rows = _measured_rows()
    measured = {}
    for case in FAMILY:
        if not kernels_of(case["spec"]):
            continue
        distances = {}
        values = reference_values(case["spec"], case["steps"], kernels=running_kernels(distances))
        lr = ulps(values, case["expected"])
        measured[case["name"]] = [len(case["steps"]), max(distances.values()), int((lr > 0).sum()), int(lr.max())]
    if KERNEL_ULP == 0:
        rows = {name: [row[0], 0, 0, 0] for name, row in rows.items()}
    assert measured == rows
