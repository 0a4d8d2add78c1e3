"""The arithmetic schedules whose value settles, built as one table lookup (``schedules.common.tabulate``).

Their rows are computed at build time with the running Paddle's kernels; here
they are compared, counter by counter, with the same reference evaluated one
[1] tensor at a time (as the ops lowering's graph calls the kernels), with
fluid 1.8.5's recordings on 2.x, and with the graph itself at counters far
past the rows (where the value must have settled).
"""
import numpy as np
import paddle
import pytest

import paddle_lr
from familykit import KERNEL_ULP, running_kernels
from paddle_lr.graph import ir
from paddle_lr.schedules.common import tabulate
from paddle_lr.schedules.registry import REGISTRY, check_spec
from test_family_golden import FAMILY

SETTLING = sorted(name for name, s in REGISTRY.items() if s.settles is not None)

# Counters past every table: float32 steps 2**24 + 2 (past exact integers), 2**40, and the last that a
# lookup tells apart (tables.LAST_EXACT_STEP - 1).
FAR = [2 ** 24 + 2, 2 ** 40, 2 ** 53 - 1]

# Ops a table lookup runs, and those of the arithmetic lowerings that must be gone.
ARITHMETIC_OPS = {"pow", "elementwise_pow", "exp", "scale", "floor", "minimum", "elementwise_min", "cast"}


def _case_table():
    rows = []
    for name in SETTLING:
        s = REGISTRY[name]
        rows += [pytest.param(name, dict(getattr(s, which)), id=f"{name}-{which}")
                 for which in ("example", "typical") if not getattr(s, which).get("cycle")]  # a cycle never settles
    for case in FAMILY:
        spec = case["spec"]
        if (spec["fn"] in SETTLING and not isinstance(spec["args"].get("learning_rate"), dict)
                and not spec["args"].get("cycle")):
            rows.append(pytest.param(spec["fn"], dict(spec["args"]), id=f"golden-{case['name']}"))
    return rows


CASES = _case_table()


def _checked(name, args):
    return check_spec({"fn": name, "args": args})["args"]


def _looked_up(rows, counters):
    thresholds, values = rows
    return values[np.searchsorted(thresholds, np.asarray(counters, dtype=np.int64), side="right")]


def _counters(rows):
    """Every counter up to 3000, each row's first counter and its neighbours, 300 drawn ones, and FAR."""
    thresholds, _ = rows
    last = int(thresholds[-1]) if len(thresholds) else 0
    picked = set(range(min(last + 2, 3000)))
    for t in thresholds[:: max(1, len(thresholds) // 500)].tolist() + [last]:
        picked |= {t - 1, t, t + 1}
    picked |= set(np.random.default_rng(last).integers(0, last + 2, 300).tolist())
    return np.array(sorted(c for c in picked if c >= 0) + FAR, dtype=np.int64)


def _tabulated(name, args):
    rows = tabulate(name, _checked(name, args))
    assert rows is not None, f"{name}{args}: expected to settle within the table, got no rows"
    return rows


def _mismatch(what, counters, got, expected):
    got, expected = np.asarray(got, np.float32), np.asarray(expected, np.float32)
    bad = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    if not len(bad):
        return None
    i = bad[0]
    return (f"{what}: {len(bad)} of {len(counters)} counters differ, first at counter {counters[i]}: "
            f"table {got[i]!r}, expected {expected[i]!r}")


@pytest.mark.parametrize("name, args", CASES)
def test_rows_are_the_one_element_kernels(name, args):
    """Each row's value is what the reference gives with this Paddle's kernels called one [1] tensor at a time."""
    rows = _tabulated(name, args)
    counters = _counters(rows)
    expected = REGISTRY[name].reference(counters, **_checked(name, args), **(
        {"kernels": running_kernels({})} if REGISTRY[name].kernels else {}))
    error = _mismatch(f"{name}{args}", counters, _looked_up(rows, counters), expected)
    assert error is None, error


@pytest.mark.skipif(KERNEL_ULP != 0, reason="fluid 1.8.5's kernels are 2.x's; 3.x's contract is absolute "
                                            "(tests/test_family_golden.py)")
@pytest.mark.parametrize("case", [c for c in FAMILY if c["spec"]["fn"] in SETTLING
                                  and not isinstance(c["spec"]["args"].get("learning_rate"), dict)
                                  and not c["spec"]["args"].get("cycle")], ids=lambda c: c["name"])
def test_rows_are_fluid_185_at_every_recorded_step(case):
    rows = _tabulated(case["spec"]["fn"], dict(case["spec"]["args"]))
    got = _looked_up(rows, case["steps"])
    error = _mismatch(case["name"], case["steps"], got, case["expected"].view(np.float32))
    assert error is None, error


@pytest.mark.parametrize("name, args", [c for c in CASES if not c.id.startswith("golden-")])
def test_the_graph_is_one_lookup_and_reads_its_rows(runner, name, args):
    """The public function builds no arithmetic op, and its graph gives the rows' values, far past them too."""
    rows = _tabulated(name, args)
    r = runner(lambda: getattr(paddle_lr, name)(**args))
    names = {n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)}
    assert not names & ARITHMETIC_OPS, f"{name}: arithmetic ops left in the graph: {sorted(names & ARITHMETIC_OPS)}"
    thresholds, _ = rows
    last = int(thresholds[-1]) if len(thresholds) else 0
    counters = sorted({0, 1, last} | {int(t) for t in thresholds[:3]} | set(FAR))
    got = []
    for counter in counters:
        r.jump_to(counter)
        got.append(r.run([r.outputs])[0][0])
    error = _mismatch(f"{name} graph", counters, np.asarray(got, np.float32), _looked_up(rows, counters))
    assert error is None, error


NOT_SETTLING = [
    pytest.param("polynomial_decay", dict(learning_rate=0.1, decay_steps=100, end_learning_rate=0.001, power=2.0,
                                          cycle=True), "pow", id="polynomial-cycle"),
    pytest.param("exponential_decay", dict(learning_rate=0.1, decay_steps=1e6, decay_rate=0.9, staircase=True),
                 "pow", id="exponential-settles-past-the-table"),
    pytest.param("natural_exp_decay", dict(learning_rate=0.1, decay_steps=1e5, decay_rate=0.5, staircase=False),
                 "exp", id="natural_exp-settles-past-the-table"),
] + [pytest.param(name, dict(s.typical), kernel or "divide", id=f"{name}-never")
     for name, s in REGISTRY.items() if s.settles is None and not s.impls and s.ops is not None
     for kernel in [next(iter(s.kernels), None)]]


@pytest.mark.parametrize("name, args, op", NOT_SETTLING)
def test_the_others_run_their_ops(runner, name, args, op):
    assert tabulate(name, _checked(name, args)) is None
    r = runner(lambda: getattr(paddle_lr, name)(**args))
    names = {n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)}
    spellings = {op, f"elementwise_{op}", "elementwise_div" if op == "divide" else op}  # PIR's and the legacy IR's
    assert names & spellings, f"{name}: expected its {op} op, got {sorted(names)}"


def test_a_tensor_learning_rate_runs_the_ops(runner):
    def build():
        inner = paddle_lr.piecewise_decay([10], [0.1, 0.01])
        return paddle_lr.exponential_decay(inner, decay_steps=10, decay_rate=0.5, staircase=True)

    r = runner(build)
    names = {n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)}
    assert "elementwise_pow" in names or "pow" in names, sorted(names)
    assert paddle.in_dynamic_mode() is False
