"""Golden parity of every schedule: reference, graph (each lowering) and dygraph twin, bit for bit.

The golden traces (see ``/work/shared/golden/README.md``): ``tests/data/fluid_traces.json``,
the seed's R-CNN ``exponential_with_warmup_decay`` Switch graph;
``tests/data/family_traces.json``, recorded from ``paddle.optimizer.lr``'s legacy
static-graph functions on 2.6.2; and, for ``cosine_decay_with_skip``, which is
PaddleDetection's and not fluid's, ``tests/data/fluid185/ppdet/family_traces.json``,
recorded from PaddleDetection's own class on fluid 1.8.5 (``tools/fluid18/record_ppdet.py``).
All three are fluid 1.8.5's own values (``tests/test_fluid185_traces.py``).
The contract:

* the numpy reference: every step of every case, bit for bit, on both versions;
* the graph, under each lowering of a schedule that has several (``switch``,
  ``branchless``): bit for bit on 2.x; on 3.x bit for bit where no schedule of the
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

Cases longer than their full-run limit (``FULL_RUN_LIMIT``; ``KERNEL_RUN_LIMIT``
where a schedule calls exp/cos/pow, whose nodes also run eagerly) run the graph
on a sample: the start, the end, every warmup whole, a window around every
boundary and around trace changes, random steps; the counter is jumped in
between. ``-m slow`` runs every step.
"""
import json
import pathlib
import warnings
from collections.abc import Mapping

import numpy as np
import paddle
import pytest

import fluid185kit
import paddle_lr
from conftest import GOLDEN
from familykit import (KERNEL_ULP, check_nodes, kernels_of, mismatch, names_of, run_graph, running_kernels, twin_of,
                       ulps, with_impl)
from paddle_lr.schedules.lowerings import IMPLS
from paddle_lr.schedules.registry import REGISTRY, check_spec, counter_begin, reference_values, spec_of

DATA = pathlib.Path(__file__).parent / "data" / "family_traces.json"
PPDET = fluid185kit.FIXTURES / "ppdet" / "family_traces.json"
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "family.md"
IS_331 = paddle.__version__ == "3.3.1"
FULL_RUN_LIMIT = 20000  # steps; longer cases are sampled unless -m slow
KERNEL_RUN_LIMIT = 2500  # ... for a case with exp/cos/pow (each node also runs eagerly, step by step)
WINDOW = 3  # steps either side of a boundary in a sample
LOWERINGS = [impl for impl in IMPLS if impl != "auto"]
# The seed's golden cases (R-CNN cfgs, read by conftest.load_golden) as specs of the one schedule they record.
SEED = "exponential_with_warmup_decay"


def _expand(case, start):
    n = case["steps"]
    expected = np.empty(n, dtype=np.uint32)
    trace = case["trace"]
    for i, (first, bits) in enumerate(trace):
        end = trace[i + 1][0] if i + 1 < len(trace) else start + n
        expected[first - start:end - start] = bits
    return expected, [first for first, _ in trace]


def load_family():
    cases = []
    for case in json.loads(DATA.read_text())["cases"] + json.loads(PPDET.read_text())["cases"]:
        spec = case["schedule"]
        start = case.get("start_step", counter_begin(spec))
        expected, changes = _expand(case, start)
        cases.append(dict(name=case["name"], spec=spec, start=start, steps=np.arange(start, start + case["steps"]),
                          expected=expected, changes=changes))
    for case in GOLDEN:
        spec = {"fn": SEED, "args": case["args"]}
        steps = np.arange(case["start"], case["start"] + case["steps"])
        changes = [int(s) for s in steps[np.flatnonzero(np.diff(case["expected"], prepend=-1))]]
        cases.append(dict(name=case["name"], spec=spec, start=case["start"], steps=steps,
                          expected=case["expected"], changes=changes))
    return cases


FAMILY = load_family()


def run_limit(case):
    return KERNEL_RUN_LIMIT if kernels_of(case["spec"]) else FULL_RUN_LIMIT


def params(long_marks=()):
    """The cases; those longer than their run limit get ``long_marks``."""
    return [pytest.param(c, id=c["name"], marks=long_marks if len(c["steps"]) > run_limit(c) else ())
            for c in FAMILY]


def _windows(spec, start, stop):
    """Every warmup (a steps argument up to KERNEL_RUN_LIMIT) whole, and WINDOW steps around every boundary."""
    schedule = REGISTRY[spec["fn"]]
    args = spec["args"]
    picked = set()
    for name in schedule.args_of_kind("boundaries"):
        for b in args[name]:
            picked |= set(range(max(start, b - WINDOW), min(stop, b + WINDOW + 1)))
    for name in schedule.args_of_kind("steps"):
        if args.get(name) is not None and np.ceil(args[name]) <= KERNEL_RUN_LIMIT:
            picked |= set(range(start, min(stop, int(np.ceil(args[name])) + WINDOW + 1)))
    inner = args.get("learning_rate")
    if isinstance(inner, Mapping):
        picked |= _windows(inner, start, stop)
    return picked


def sample(case):
    """The steps the default run checks: all of a short case; a sample of a long one."""
    steps = case["steps"]
    if len(steps) <= run_limit(case):
        return steps
    start, stop = int(steps[0]), int(steps[-1]) + 1
    picked = set(range(start, min(stop, start + 100))) | set(range(max(start, stop - 20), stop))
    changes = case["changes"]
    for first in changes[:: max(1, len(changes) // 40)]:
        picked |= set(range(max(start, first - 2), min(stop, first + 3)))
    picked |= _windows(case["spec"], start, stop)
    picked |= set(np.random.default_rng(len(steps)).integers(start, stop, 100).tolist())
    return np.array(sorted(picked))


def test_every_case_is_checked():
    """The golden file covers every family schedule (a new one needs its golden cases)."""
    covered = {name for c in FAMILY for name in names_of(c["spec"])}
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"no golden cases for {', '.join(missing)}"


@pytest.mark.parametrize("case", params())
def test_reference_every_step(case):
    got = reference_values(case["spec"], case["steps"])
    assert got.dtype == np.float32
    error = mismatch(f"{case['name']} reference", case["steps"], got, case["expected"])
    assert error is None, error


# -- the graph ------------------------------------------------------------------

def lowerings(case):
    """The lowerings a case's graph runs under: each of them where a schedule of it has several."""
    return LOWERINGS if any(REGISTRY[name].impls for name in names_of(case["spec"])) else ["default"]


def check_graph(runner, case, impl, steps):
    spec = case["spec"] if impl == "default" else with_impl(case["spec"], impl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)  # a golden case is deliberately odd
        specs, values = run_graph(runner, spec, steps)
    errors = []
    what = f"{case['name']} ({impl})"
    if KERNEL_ULP == 0 or not kernels_of(spec):
        expected = case["expected"][steps - case["start"]]
        errors.append(mismatch(f"{what} graph vs golden", steps, values[-1], expected))
    errors += check_nodes(what, specs, values, steps)
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


def graph_params(cases):
    return [pytest.param(c.values[0], impl, id=f"{c.id}-{impl}", marks=c.marks)
            for c in cases for impl in lowerings(c.values[0])]


@pytest.mark.parametrize("case, impl", graph_params(params()))
def test_graph(runner, case, impl):
    check_graph(runner, case, impl, sample(case))


@pytest.mark.slow
@pytest.mark.parametrize("case, impl", graph_params(c for c in params() if len(c.values[0]["steps"]) > run_limit(c.values[0])))
def test_graph_every_step(runner, case, impl):
    check_graph(runner, case, impl, case["steps"])


# -- the dygraph twin -------------------------------------------------------------

@pytest.mark.parametrize("case", params())
def test_twin(case):
    """The twin's value after k steps is the golden value at the k-th run (start_step: jumped to)."""
    spec = case["spec"]
    paddle.disable_static()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)
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


@pytest.mark.parametrize("case", [c for c in params() if c.values[0]["spec"]["fn"] == SEED])
def test_lr_at_scalar_is_float32(case):
    """:func:`paddle_lr.lr_at` of one step is a numpy float32 scalar: the golden value."""
    value = paddle_lr.lr_at(case["start"], **case["spec"]["args"])
    assert isinstance(value, np.float32)
    assert value.view(np.uint32) == case["expected"][0]


@pytest.mark.parametrize("name", ["fluid_traces.json", "family_traces.json"])
def test_golden_files_are_the_shared_ones(name):
    """The golden files in tests/data are copies of ../shared/golden's, when that is beside the clone."""
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "golden" / name
    if not shared.exists():
        pytest.skip("no shared golden directory beside the clone")
    ours = json.loads((pathlib.Path(__file__).parent / "data" / name).read_text())
    assert ours == json.loads(shared.read_text()), f"tests/data/{name} differs from {shared}"


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
