"""The family's golden parity: reference, graph and dygraph twin against Paddle 2.6.2's own schedules.

``tests/data/family_traces.json`` (see ``/work/shared/golden/README.md``) was
recorded from ``paddle.optimizer.lr``'s legacy static-graph functions on
2.6.2. The contract:

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

from paddle_lr.schedules import common
from paddle_lr.schedules.registry import REGISTRY, check_spec, counter_begin, reference_values, spec_of

DATA = pathlib.Path(__file__).parent / "data" / "family_traces.json"
FULL_RUN_LIMIT = 2500  # steps; longer cases are sampled unless -m slow
# 3.x rounds exp/cos/pow differently from 2.6.2 (the golden's version); 2.x must be exact.
KERNEL_ULP = 0 if paddle.__version__.startswith("2.") else 1


def load_family():
    cases = []
    for case in json.loads(DATA.read_text())["cases"]:
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


def kernels_of(spec):
    """The exp/cos/pow kernels called anywhere in a (nested) spec."""
    inner = spec["args"].get("learning_rate")
    below = kernels_of(inner) if isinstance(inner, Mapping) else set()
    return below | set(REGISTRY[spec["fn"]].kernels)


def ulps(got, expected_bits):
    """Distance in float32 ulps (values of one sign, as here)."""
    got = np.asarray(got, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.abs(got - np.asarray(expected_bits, dtype=np.uint32).view(np.int32).astype(np.int64))


def mismatch(what, steps, got, expected_bits, tolerance=0):
    """A message naming the first step beyond ``tolerance`` ulps, or None."""
    distance = ulps(got, expected_bits)
    bad = np.flatnonzero(distance > tolerance)
    if bad.size == 0:
        return None
    i = bad[0]
    want = np.asarray(expected_bits, dtype=np.uint32)[i:i + 1].view(np.float32)[0]
    return (f"{what}: {bad.size} of {len(steps)} steps off by more than {tolerance} ulp; first at step "
            f"{int(steps[i])}: got {np.float32(got[i])!r}, expected {want!r} ({int(distance[i])} ulp)")


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

def build_nodes(spec):
    """Build a nested spec inner first; return [(checked spec, tensor), ...], the outermost last."""
    args = dict(spec["args"])
    nodes = []
    if isinstance(args.get("learning_rate"), Mapping):
        nodes = build_nodes(args["learning_rate"])
        args["learning_rate"] = nodes[-1][1]
    nodes.append((check_spec(spec), REGISTRY[spec["fn"]].build(**args)))
    return nodes


def run_graph(runner, spec, steps):
    """Every node's value at each of ``steps``: an array [nodes, steps], and the checked specs."""
    r = runner(lambda: build_nodes(spec))
    specs = [node_spec for node_spec, _ in r.outputs]
    values, previous = [], None
    for step in steps:
        if previous is None or step != previous + 1:
            r.jump_to(int(step))
        values.append([v[0] for v in r.run([t for _, t in r.outputs])])
        previous = step
    return specs, np.asarray(values, dtype=np.float32).T


def eager_values(node_spec, steps, inner_values):
    """The node's op sequence run eagerly on the running Paddle, one [1] step tensor at a time."""
    schedule = REGISTRY[node_spec["fn"]]
    args = {k: v for k, v in node_spec["args"].items() if k not in schedule.options}
    paddle.disable_static()
    try:
        out = []
        for i, step in enumerate(steps):
            if inner_values is not None:
                args["learning_rate"] = paddle.to_tensor(inner_values[i:i + 1])
            value = schedule.ops(paddle.to_tensor(np.array([step], dtype=np.float32)), **args)
            out.append(value.numpy().reshape(-1)[0])
    finally:
        paddle.enable_static()
    return np.asarray(out, dtype=np.float32)


def running_kernels(distances):
    """Paddle's eager float32 kernels, one [1] tensor at a time (as the graph calls them),
    recording in ``distances`` how far each is from the C library's (2.6.2's) on its inputs."""
    ops = {"exp": paddle.exp, "cos": paddle.cos, "pow": paddle.pow}

    def kernel(name):
        def apply(*xs):
            xs = [np.asarray(x, dtype=np.float32).reshape(-1) for x in xs]
            paddle.disable_static()
            try:
                out = np.array([ops[name](*(paddle.to_tensor(x[i:i + 1]) for x in xs)).numpy()[0]
                                for i in range(xs[0].size)], dtype=np.float32)
            finally:
                paddle.enable_static()
            c = common.C_KERNELS[name](*xs)
            distances[name] = max(distances.get(name, 0), int(ulps(out, c.view(np.uint32)).max(initial=0)))
            return out
        return apply

    return {name: kernel(name) for name in ops}


def check_graph(runner, case, steps):
    spec = case["spec"]
    specs, values = run_graph(runner, spec, steps)
    errors = []
    if KERNEL_ULP == 0 or not kernels_of(spec):
        expected = case["expected"][steps - case["start"]]
        errors.append(mismatch(f"{case['name']} graph vs golden", steps, values[-1], expected))
    for i, node_spec in enumerate(specs):
        schedule = REGISTRY[node_spec["fn"]]
        inner = values[i - 1] if isinstance(node_spec["args"].get("learning_rate"), Mapping) else None
        args = {k: v for k, v in node_spec["args"].items() if k not in schedule.options}
        if inner is not None:
            args["learning_rate"] = inner
        what = f"{case['name']} node {node_spec['fn']}"
        if not schedule.kernels:
            reference = np.asarray(schedule.reference(steps, **args), dtype=np.float32).view(np.uint32)
            errors.append(mismatch(f"{what}: graph vs reference", steps, values[i], reference))
            continue
        eager = eager_values(node_spec, steps, inner)
        errors.append(mismatch(f"{what}: graph vs the same ops run eagerly", steps, values[i], eager.view(np.uint32)))
        distances = {}
        with common.kernels(**running_kernels(distances)):
            on_running = np.asarray(schedule.reference(steps, **args), dtype=np.float32).view(np.uint32)
        errors.append(mismatch(f"{what}: graph vs reference with the running Paddle's kernels",
                               steps, values[i], on_running))
        errors += [f"{what}: the running Paddle's {name} is {d} ulp from the C library's (2.6.2's)"
                   for name, d in distances.items() if d > KERNEL_ULP]
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
    twin = REGISTRY[spec["fn"]].build(**_twin_args(spec))
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


def _twin_args(spec):
    """The spec's arguments with an inner spec built as its twin (as a user would compose them)."""
    args = dict(spec["args"])
    inner = args.get("learning_rate")
    if isinstance(inner, Mapping):
        args["learning_rate"] = REGISTRY[inner["fn"]].build(**_twin_args(inner))
    return args
