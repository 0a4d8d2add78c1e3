"""Scale: lowerings whose memory stays small, exact integer thresholds, and the branch-free family.

The 2000-boundary graphs run in a child process under an address-space limit,
so that a lowering that grows cannot take the machine down.
"""
import json
import pathlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import paddle
import pytest

import paddle_lr
from familykit import names_of, with_impl
from paddle_lr.graph import ir, tables
from paddle_lr.graph.switch import expected_memory
from paddle_lr.schedules.lowerings import SWITCH_MAX_CASES, resolve_lowering
from paddle_lr.schedules.linear_warmup import linear_lr_warmup
from paddle_lr.schedules.piecewise import piecewise_decay
from paddle_lr.schedules import registry
from paddle_lr.schedules.registry import REGISTRY, reference_values

GOLDEN = pathlib.Path("/work/shared/golden/family_traces.json")
if not GOLDEN.exists():
    GOLDEN = pathlib.Path(__file__).parent / "data" / "family_traces.json"

# What the 2000-boundary child may use: peak resident memory (the bound)
# and address space (the guard: Paddle maps far more than it touches).
PEAK_RSS_BOUND_MB = 1536
ADDRESS_SPACE_LIMIT = 8 << 30


# -- exact integer thresholds ----------------------------------------------------

_EDGES = [0.5, 1, 2.5, 3, 1000, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 24 + 2, 2 ** 24 + 3, 2 ** 25 + 1,
          2 ** 25 + 3, 3 * 2 ** 26 + 5, 2 ** 31 - 1, 2 ** 40 + 12345]


@pytest.mark.parametrize("bound", _EDGES, ids=str)
def test_threshold_is_the_float32_comparison(bound):
    """k < threshold exactly when float32(k) < float32(bound), around the threshold and far off."""
    threshold = int(tables.step_thresholds([bound])[0])
    b = np.float32(bound)
    for k in range(max(threshold - 70, 0), threshold + 70):
        assert (k < threshold) == bool(np.float32(np.int64(k)) < b), (
            f"bound {bound}: counter {k}: threshold {threshold} says {k < threshold}, "
            f"float32 comparison says {bool(np.float32(np.int64(k)) < b)}")


def test_thresholds_past_the_int64_range_are_the_largest():
    assert tables.step_thresholds([np.inf, 1e30]).tolist() == [2 ** 63 - 1] * 2


# -- impl="auto" (the default) and the warning --------------------------------------------

def _control_flow(program):
    return [n for n in ir.op_names(program, nested=True) if n.split(".")[-1] in ("if", "conditional_block")]


@pytest.mark.parametrize("count", [1, 2, SWITCH_MAX_CASES + 1])
@pytest.mark.parametrize("schedule", ["exponential_with_warmup_decay", "piecewise_decay", "linear_lr_warmup"])
@pytest.mark.parametrize("impl", ["auto", "switch"])
def test_the_default_is_branch_free_at_every_count_and_switch_is_fluids_graph(runner, count, schedule, impl):
    """impl="auto" (the default) builds no control flow; impl="switch" builds fluid's conditional blocks."""
    bounds = [10 * (i + 1) for i in range(count)]
    values = paddle_lr.boundary_values(0.01, 0.9, count)
    kwargs = {} if impl == "auto" else {"impl": impl}

    def build():
        with warnings.catch_warnings():
            # the default never warns; an explicit switch past SWITCH_MAX_CASES does (tested below)
            warnings.simplefilter("ignore" if impl == "switch" else "error", paddle_lr.ScheduleWarning)
            if schedule == "piecewise_decay":
                return piecewise_decay(bounds, values, **kwargs)
            if schedule == "linear_lr_warmup":
                return paddle_lr.linear_lr_warmup(piecewise_decay(bounds, values, **kwargs), 5, 0.001, 0.01,
                                                  **kwargs)
            return paddle_lr.exponential_with_warmup_decay(0.01, bounds, values, 5, 1 / 3, **kwargs)

    r = runner(build)
    blocks = _control_flow(r.main)
    assert bool(blocks) == (impl == "switch"), ir.op_names(r.main, nested=True)[:12]


def test_explicit_switch_past_the_count_warns_before_building(static_mode):
    count = SWITCH_MAX_CASES + 1
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup), pytest.warns(paddle_lr.ScheduleWarning) as record:
        assert resolve_lowering("switch", count, "lr_steps") == "switch"
    message = str(record[0].message)
    assert message.startswith(f"lr_steps: {count} boundaries as a Switch")
    assert f"{expected_memory(count):.1f} GB" in message
    assert not main.global_block().ops, "the warning comes before any op"


def test_expected_memory_grows_faster_than_linearly():
    assert expected_memory(2000) > 4 * expected_memory(500) - 3 * expected_memory(0)


# -- 2000 boundaries under the default lowering, in a child under a memory limit ------------

_CHILD = textwrap.dedent('''
    import json, os, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    os.environ.setdefault("GLOG_minloglevel", "2")
    import numpy as np, paddle, paddle_lr
    from paddle_lr.schedules.piecewise import piecewise_decay
    from paddle_lr.schedules.linear_warmup import linear_lr_warmup
    paddle.enable_static()
    n = {count}
    bounds = [50 + 100 * (i + 1) for i in range(n)]
    values = paddle_lr.boundary_values(0.01, 0.999, n)
    steps = [0, 1, 49, 50, 51, 149, 150, 151, 100049, 100050, 100051, 200049, 200050, 200051, 10 ** 6]
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        lrs = [paddle_lr.exponential_with_warmup_decay(0.01, bounds, values, 50, 1 / 3),
               piecewise_decay(bounds, values),
               linear_lr_warmup(piecewise_decay(bounds, values), 50, 0.01 / 3, 0.01)]
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(startup)
    got = []
    for s in steps:
        paddle.static.global_scope().find_var("@LR_DECAY_COUNTER@").get_tensor().set(
            np.array([s - 1], np.int64), paddle.CPUPlace())
        got.append([float(v[0]) for v in exe.run(main, fetch_list=lrs)])
    print(json.dumps(dict(steps=steps, got=got, bounds=bounds, values=values,
                          peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
''')


def test_2000_boundaries_default_is_small_and_exact():
    count = 2000
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(limit=ADDRESS_SPACE_LIMIT, count=count)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    steps = np.asarray(out["steps"])
    got = np.asarray(out["got"], dtype=np.float32)
    bounds, values = out["bounds"], out["values"]
    expected = [
        paddle_lr.lr_at(steps, 0.01, bounds, values, 50, 1 / 3),
        reference_values({"fn": "piecewise_decay", "args": {"boundaries": bounds, "values": values}}, steps),
        reference_values({"fn": "linear_lr_warmup", "args": {
            "learning_rate": {"fn": "piecewise_decay", "args": {"boundaries": bounds, "values": values}},
            "warmup_steps": 50, "start_lr": 0.01 / 3, "end_lr": 0.01}}, steps),
    ]
    for column, (name, want) in enumerate(zip(["exponential_with_warmup_decay", "piecewise_decay",
                                               "linear_lr_warmup(piecewise_decay)"], expected)):
        bad = np.flatnonzero(got[:, column].view(np.uint32) != np.asarray(want, np.float32).view(np.uint32))
        assert bad.size == 0, (f"{name} at {count} boundaries: step {steps[bad[0]]}: got {got[bad[0], column]!r}, "
                               f"expected {np.float32(want[bad[0]])!r}")
    assert out["peak_rss_mb"] < PEAK_RSS_BOUND_MB, (
        f"{count} boundaries under the default lowering peaked at {out['peak_rss_mb']:.0f} MB "
        f">= {PEAK_RSS_BOUND_MB} MB")


# -- the branch-free family: bit for bit the Switch's values ------------------------------

def _edges(spec):
    args = spec["args"]
    schedule = REGISTRY[spec["fn"]]
    out = {b for name in schedule.args_of_kind("boundaries") for b in args.get(name, [])}
    out |= {int(np.ceil(args[name])) for name in schedule.args_of_kind("steps") if args.get(name) is not None}
    if isinstance(args.get("learning_rate"), dict):
        out |= _edges(args["learning_rate"])
    return out


def _family_cases():
    cases = json.loads(GOLDEN.read_text())["cases"]
    picked = [c for c in cases if all(REGISTRY[fn].impls for fn in names_of(c["schedule"]))]
    return [pytest.param(c, id=c["name"]) for c in picked]


def _decode(case):
    start = case.get("start_step", case["trace"][0][0])
    expected = np.empty(case["steps"], dtype=np.uint32)
    trace = case["trace"]
    for i, (first, bits) in enumerate(trace):
        end = trace[i + 1][0] if i + 1 < len(trace) else start + case["steps"]
        expected[first - start:end - start] = bits
    return start, expected


@pytest.mark.parametrize("case", _family_cases())
def test_branchless_family_matches_golden(runner, case):
    """Both lowerings at every trace change +-2 and the first steps: the golden's bits (0 ulp: no exp/cos/pow)."""
    from paddle_lr.schedules.registry import build

    start, expected = _decode(case)
    end = start + case["steps"]
    steps = sorted({s for e in _edges(case["schedule"]) | {start} for s in range(e - 2, e + 3) if start <= s < end})
    for impl in ("switch", "branchless"):
        spec = with_impl(case["schedule"], impl)
        r = runner(lambda: build(spec))
        got = []
        for s in steps:
            r.jump_to(s)
            got.append(r.run([r.outputs])[0][0])
        got = np.asarray(got, np.float32).view(np.uint32)
        want = expected[np.asarray(steps) - start]
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (f"{impl}: step {steps[bad[0]]}: got {got[bad[0]:bad[0] + 1].view(np.float32)[0]!r}, "
                               f"expected {want[bad[0]:bad[0] + 1].view(np.float32)[0]!r}")


_PAST_2_24 = [2 ** 24 - 2, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 24 + 2, 2 ** 24 + 3, 2 ** 25, 2 ** 25 + 1]


@pytest.mark.parametrize("build", [
    pytest.param(lambda impl: piecewise_decay([3, 2 ** 24 + 1, 2 ** 24 + 3, 2 ** 25 + 1], [4.0, 3.0, 2.0, 1.0, 0.5],
                                              impl=impl), id="piecewise"),
    pytest.param(lambda impl: linear_lr_warmup(0.1, 2.5, 0.01, 0.1, impl=impl), id="warmup_fractional"),
    pytest.param(lambda impl: linear_lr_warmup(0.1, 0, 0.01, 0.1, impl=impl), id="warmup_none"),
    pytest.param(lambda impl: linear_lr_warmup(piecewise_decay([6, 2 ** 24 + 1], [0.01, 0.001, 0.0001], impl=impl),
                                               4, 0.01 / 3, 0.01, impl=impl), id="warmup_over_piecewise"),
    pytest.param(lambda impl: linear_lr_warmup(piecewise_decay([6, 9], [0.01, 0.001, 0.0001], impl=impl),
                                               0, 0.01 / 3, 0.01, impl=impl), id="no_warmup_over_piecewise"),
    pytest.param(lambda impl: paddle_lr.exponential_with_warmup_decay(
        0.01, [6, 2 ** 24 + 1, 2 ** 24 + 3, 2 ** 25 + 1], [0.01, 0.001, 0.0001, 1e-5, 1e-6], 4.5, 1 / 3, impl=impl),
        id="seed"),
])
@pytest.mark.filterwarnings("ignore:.*past 2\\*\\*24 steps:paddle_lr.rules.ScheduleWarning")  # the point of the test
def test_branchless_equals_switch_past_2_24(runner, build):
    steps = list(range(0, 12)) + _PAST_2_24
    got = {}
    for impl in ("switch", "branchless"):
        r = runner(lambda: build(impl))
        values = []
        for s in steps:
            r.jump_to(s)
            values.append(r.run([r.outputs])[0][0])
        got[impl] = np.asarray(values, np.float32)
    bad = np.flatnonzero(got["switch"].view(np.uint32) != got["branchless"].view(np.uint32))
    assert bad.size == 0, (f"step {steps[bad[0]]}: switch {got['switch'][bad[0]]!r}, "
                           f"branchless {got['branchless'][bad[0]]!r}")


@pytest.mark.parametrize("build, expected", [
    pytest.param(lambda: piecewise_decay([6, 9], [0.01, 0.001, 0.0001], impl="branchless"),
                 ["increment", "searchsorted", "index_select"], id="piecewise"),
    pytest.param(lambda: linear_lr_warmup(0.01, 4, 0.001, 0.01, impl="branchless"),
                 ["increment", "searchsorted", "index_select"], id="warmup_float"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(0.01, [6, 9], [0.01, 0.001, 0.0001], 4, 1 / 3,
                                                                 impl="branchless"),
                 ["increment", "searchsorted", "index_select"], id="seed"),
])
def test_branchless_is_one_search_and_one_select(runner, build, expected):
    r = runner(build)
    names = [n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)]
    assert names == expected


# -- the family's arithmetic schedules: no more ops than fluid's ---------------------------

def _fluid_calls():
    """Every schedule of fluid's own, at its record's typical and example arguments (those of plain numbers)."""
    return [pytest.param(name, dict(args), id=f"{name}-{field}")
            for name, s in REGISTRY.items() if s.origin == registry.FLUID
            for field, args in (("typical", s.typical), ("example", s.example))
            if not any(isinstance(v, dict) for v in args.values())]


@pytest.mark.skipif(ir.is_pir(), reason="Paddle's own fluid schedules build only in the legacy IR (2.6)")
@pytest.mark.parametrize("name, args", _fluid_calls())
def test_no_more_ops_than_fluid(static_mode, name, args):
    counts = {}
    for who, fn in (("paddle_lr", REGISTRY[name].build), ("fluid", getattr(paddle.optimizer.lr, name))):
        main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
            fn(**args)
        counts[who] = len(ir.op_names(main, nested=True))
    assert counts["paddle_lr"] <= counts["fluid"], f"{name}: paddle_lr builds {counts['paddle_lr']} ops, fluid {counts['fluid']}"
