"""The family's API: signatures, bad arguments, the counter and composition, twins, the registry, the docs.

Where Paddle 2.6.2's own functions can build the same program (legacy IR),
the values are compared with theirs, bit for bit; on 3.x (where they raise
under PIR) the same programs are compared with the reference.
"""
import ast
import inspect
import os
import pathlib
import re

import numpy as np
import paddle
import pytest

import paddle_lr
from conftest import StaticRunner
from familykit import EXAMPLES, KERNEL_ULP, check_nodes, examples, mismatch, run_graph, running_kernels, twin_of
from paddle_lr.graph import ir
from paddle_lr.schedules import registry
from paddle_lr.schedules.common import graph_or_twin
from paddle_lr.schedules.lowerings import Lowering
from paddle_lr.schedules.registry import (
    REGISTRY, build, check_spec, counter_begin, markdown_table, reference_values, spec_of, with_table,
)

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "family.md"
FLUID = [name for name, s in REGISTRY.items() if s.origin == registry.FLUID]  # paddle.optimizer.lr has these
# ours -> its class in ppdet's optimizer.py
PADDLE_DETECTION = {name: s.origin.split(":")[1] for name, s in REGISTRY.items()
                    if s.origin.startswith("PaddleDetection:")}
# fluid's plain-op schedules, which take another schedule's tensor as learning_rate
PLAIN = [name for name in FLUID if not REGISTRY[name].impls]
PPDET_OPTIMIZER = pathlib.Path(__file__).parent / "data" / "ppdet_static" / "static" / "ppdet" / "optimizer.py"
IS_2X = paddle.__version__.startswith("2.")
fluid = pytest.mark.skipif(not IS_2X, reason="Paddle's own static schedules raise under PIR (3.x)")


def test_every_schedule_has_an_example():
    assert set(EXAMPLES) == set(REGISTRY)


@pytest.mark.parametrize("name", FLUID)
def test_signature_is_paddle_262s(name):
    """Fluid's parameters, order and defaults; ``impl=`` may follow as an extra keyword."""
    ours = inspect.signature(getattr(paddle_lr, name)).parameters
    theirs = inspect.signature(getattr(paddle.optimizer.lr, name)).parameters
    shown = [(p.name, p.default, p.kind) for p in ours.values() if p.name != "impl"]
    assert shown == [(p.name, p.default, p.kind) for p in theirs.values()]
    assert set(ours) - set(theirs) <= {"impl"}
    assert getattr(paddle_lr, name) is REGISTRY[name].build


@pytest.mark.parametrize("name", list(PADDLE_DETECTION))
def test_signature_is_paddle_detections(name):
    """PaddleDetection's class (as published): its ``__init__`` parameters and defaults, after ``learning_rate``."""
    tree = ast.parse(PPDET_OPTIMIZER.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == PADDLE_DETECTION[name])
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    names = [a.arg for a in init.args.args[1:]]
    defaults = [None] * (len(names) - len(init.args.defaults)) + [ast.literal_eval(d) for d in init.args.defaults]
    ours = list(inspect.signature(getattr(paddle_lr, name)).parameters.values())
    assert ours[0].name == "learning_rate"  # PaddleDetection's base_lr, given to __call__
    assert [(p.name, None if p.default is p.empty else p.default) for p in ours[1:]] == list(zip(names, defaults))
    assert getattr(paddle_lr, name) is REGISTRY[name].build


@pytest.mark.parametrize("name", list(REGISTRY))
def test_kernels_declared_are_the_ops_built(runner, name):
    """A schedule's declared exp/cos/pow kernels (its 3.x fidelity) are exactly those its graph calls.

    For a schedule that settles, its ops (on the float32 counter): the lookup its public
    function builds holds their values, computed with those kernels (tests/test_tabulated.py)."""
    schedule, args = REGISTRY[name], EXAMPLES[name]["args"]
    if schedule.settles is not None:
        r = runner(lambda: graph_or_twin(name, schedule.check(**args), Lowering(schedule.ops), begin=schedule.begin))
    else:
        r = runner(lambda: build(EXAMPLES[name]))
    ops = {re.sub(r"^pd_op\.|_$", "", op) for op in ir.op_names(r.main, nested=True)}
    called = {kernel for kernel, op in (("exp", "exp"), ("cos", "cos"), ("pow", "elementwise_pow")) if op in ops}
    inner = EXAMPLES[name]["args"].get("learning_rate")
    if isinstance(inner, dict):
        called -= set(REGISTRY[inner["fn"]].kernels)
    assert called == set(REGISTRY[name].kernels)
    assert REGISTRY[name].fidelity_3x == ("<= 1 ulp" if called else "0 ulp")


# -- bad arguments ----------------------------------------------------------------

def _call(name, **kwargs):
    return pytest.param(name, kwargs, id=f"{name}-{'-'.join(kwargs)}")


GOOD = {name: spec["args"] for name, spec in examples("typical").items()}

BAD = [
    # (function, the argument changed, its value, the one-line message)
    ("piecewise_decay", "values", [0.1, 0.01], "values: must hold len(boundaries) + 1 = 3 values, got 2: [0.1, 0.01]"),
    ("piecewise_decay", "values", [0.1, 0.01, 0.001, 0.0001],
     "values: must hold len(boundaries) + 1 = 3 values, got 4: [0.1, 0.01, 0.001, 0.0001]"),
    ("piecewise_decay", "boundaries", [6, 3], "boundaries: must be strictly increasing, got [6, 3] (boundaries[1]=3 <= boundaries[0]=6)"),
    ("piecewise_decay", "boundaries", [], "boundaries: must hold at least one step, got []"),
    ("piecewise_decay", "boundaries", "3, 6", "boundaries: must be a list of steps, got '3, 6'"),
    ("piecewise_decay", "values", [0.1, -0.01, 0.001], "values[1]: must be >= 0, got -0.01"),
    ("piecewise_decay", "impl", "fast", "impl: must be one of "),
    ("exponential_decay", "decay_steps", 0, "decay_steps: must be > 0, got 0.0"),
    ("exponential_decay", "decay_rate", -0.5, "decay_rate: must be > 0, got -0.5"),
    ("exponential_decay", "staircase", "yes", "staircase: must be true or false, got 'yes'"),
    ("exponential_decay", "learning_rate", "0.1", "learning_rate: must be a number, got '0.1'"),
    ("exponential_decay", "learning_rate", float("nan"), "learning_rate: must be finite, got nan"),
    ("natural_exp_decay", "decay_steps", -10, "decay_steps: must be > 0, got -10.0"),
    ("natural_exp_decay", "decay_rate", -0.1, "decay_rate: must be >= 0, got -0.1"),
    ("inverse_time_decay", "decay_steps", 0.0, "decay_steps: must be > 0, got 0.0"),
    ("inverse_time_decay", "learning_rate", -0.1, "learning_rate: must be >= 0, got -0.1"),
    ("polynomial_decay", "decay_steps", 0, "decay_steps: must be > 0, got 0.0"),
    ("polynomial_decay", "power", -1.0, "power: must be >= 0, got -1.0"),
    ("polynomial_decay", "cycle", 1, "cycle: must be true or false, got 1"),
    ("polynomial_decay", "end_learning_rate", float("inf"), "end_learning_rate: must be finite, got inf"),
    ("cosine_decay", "step_each_epoch", 0, "step_each_epoch: must be > 0, got 0.0"),
    ("cosine_decay", "epochs", -12, "epochs: must be > 0, got -12.0"),
    ("cosine_decay", "learning_rate", None, "learning_rate: must be a number, got None"),
    ("noam_decay", "d_model", 0, "d_model: must be > 0, got 0.0"),
    ("noam_decay", "warmup_steps", 0, "warmup_steps: must be > 0, got 0.0"),
    ("noam_decay", "learning_rate", True, "learning_rate: must be a number, got True"),
    ("linear_lr_warmup", "warmup_steps", -5, "warmup_steps: must be >= 0, got -5.0"),
    ("linear_lr_warmup", "start_lr", "0", "start_lr: must be a number, got '0'"),
    ("linear_lr_warmup", "end_lr", -0.1, "end_lr: must be >= 0, got -0.1"),
    ("linear_lr_warmup", "impl", None, "impl: must be one of "),
    ("cosine_decay_with_skip", "total_steps", 0, "total_steps: must be >= 1, got 0"),
    ("cosine_decay_with_skip", "skip_steps", 281250, "skip_steps: must be <= 281249, got 281250"),
    ("cosine_decay_with_skip", "skip_steps", -1, "skip_steps: must be >= 0, got -1"),
    ("cosine_decay_with_skip", "total_steps", 10.5, "total_steps: must be a whole number, got 10.5"),
    ("cosine_decay_with_skip", "learning_rate", "0.1", "learning_rate: must be a number, got '0.1'"),
]


@pytest.mark.parametrize("mode", ["static", "dygraph"])
@pytest.mark.parametrize("name,key,value,message", [pytest.param(*b, id=f"{b[0]}-{b[1]}-{b[2]!r}") for b in BAD])
def test_bad_argument(name, key, value, message, mode):
    """One line naming the argument, the rule and the value, raised before any op is built."""
    main, startup = paddle.static.Program(), paddle.static.Program()
    if mode == "static":
        paddle.enable_static()
    try:
        with paddle.static.program_guard(main, startup), pytest.raises(paddle_lr.ConfigError) as error:
            getattr(paddle_lr, name)(**{**GOOD[name], key: value})
    finally:
        paddle.disable_static()
    text = str(error.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert isinstance(error.value, ValueError)
    if mode == "static":
        assert ir.op_names(main) == [] and ir.op_names(startup) == [], "ops were built before the error"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_good_arguments_build(runner, name):
    """The table's good arguments build and run (so a bad-argument case changes one thing)."""
    r = runner(lambda: getattr(paddle_lr, name)(**GOOD[name]))
    (value,) = r.run([r.outputs])
    assert value.dtype == np.float32 and value.shape == (1,)


def test_tensor_learning_rate_must_be_float32(runner):
    def body():
        with pytest.raises(paddle_lr.ConfigTypeError, match=r"^learning_rate: must be a float32 tensor, got dtype"):
            paddle_lr.exponential_decay(paddle.full([1], 0.1, "float64"), 10, 0.5)
        return []
    runner(body)


@pytest.mark.parametrize("value,message", [
    (lambda: paddle_lr.piecewise_decay([3], [0.1, 0.01]),
     "learning_rate: a dygraph scheduler cannot drive a static graph, pass the schedule's tensor "
     "(build it in static mode), got FluidScheduler"),
    (lambda: np.full([1], 0.1, np.float32), "learning_rate: must be a number, got array([0.1], dtype=float32)"),
], ids=["twin", "ndarray"])
def test_learning_rate_that_cannot_feed_a_graph(value, message):
    """A dygraph twin or an array given to a static schedule: one line, no op built."""
    lr = value()
    main, startup = paddle.static.Program(), paddle.static.Program()
    paddle.enable_static()
    try:
        with paddle.static.program_guard(main, startup), pytest.raises(paddle_lr.ConfigTypeError) as error:
            paddle_lr.cosine_decay(lr, 10, 3)
    finally:
        paddle.disable_static()
    assert str(error.value) == message
    assert ir.op_names(main) == [] and ir.op_names(startup) == []


def test_paddles_own_lr_scheduler_is_refused():
    """Paddle's classes count from the warmup's end; composing one would silently move the steps."""
    theirs = paddle.optimizer.lr.PiecewiseDecay([6, 9], [0.01, 0.001, 0.0001])
    with pytest.raises(paddle_lr.ConfigTypeError) as error:
        paddle_lr.linear_lr_warmup(theirs, 4, 0.0, 0.01)
    assert str(error.value) == (
        "learning_rate: must be a number or one of paddle_lr's schedules (Paddle's own LRScheduler classes "
        "count steps differently), got PiecewiseDecay")


@pytest.mark.parametrize("spec,message", [
    ({"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 10}},
     "schedule.args: missing a required argument: 'decay_rate' for exponential_decay"),
    ({"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "step": 1}},
     "schedule.args: got an unexpected keyword argument 'step' for exponential_decay"),
    ({"fn": "exp_decay", "args": {}}, "schedule.fn: must be one of 'cosine_decay', "),
    ({"fn": "cosine_decay", "args": [0.1, 10, 3]}, "schedule.args: must be a mapping, got [0.1, 10, 3]"),
    ({"fn": "cosine_decay", "args": {}, "name": "x"}, "schedule: unknown keys ['name'], expected fn and args"),
    ({"fn": "linear_lr_warmup", "args": {"learning_rate": {"fn": "piecewise_decay",
                                                           "args": {"boundaries": [5], "values": [1.0]}},
                                         "warmup_steps": 3, "start_lr": 0.0, "end_lr": 1.0}},
     "learning_rate.values: must hold len(boundaries) + 1 = 2 values, got 1: [1.0]"),
    ({"fn": "linear_lr_warmup", "args": {"learning_rate": {"fn": "piecewise"}, "warmup_steps": 3,
                                         "start_lr": 0.0, "end_lr": 1.0}},
     "schedule.learning_rate.fn: must be one of "),
], ids=["missing", "unknown-arg", "unknown-fn", "args-list", "extra-key", "inner-arg", "inner-fn"])
def test_bad_spec(spec, message):
    with pytest.raises(paddle_lr.ConfigError) as error:
        check_spec(spec)
    assert str(error.value).startswith(message), str(error.value)


# -- the counter and composition, against Paddle 2.6.2's own functions ------------------

def _feed_switch(ns, create_global_var, Switch, inner):
    """A fluid-era body: a global var written by a Switch whose default builds a schedule
    (creating the counter inside the case); the case is taken on the runs fed use=1."""
    def body():
        use = paddle.static.data("use", [1], "float32")
        lr = create_global_var(shape=[1], value=0.0, dtype="float32", persistable=True, name="scheduled_lr")
        with Switch() as switch:
            with switch.case(use > 0.5):
                paddle.assign(paddle.full([1], 0.5, "float32"), lr)
            with switch.default():
                paddle.assign(inner(ns), lr)
        return [lr]
    return body


SCENARIOS = {
    # name: (build(ns) -> [tensors], the specs of those tensors, in counter order)
    "noam-then-exponential": lambda ns: [ns.noam_decay(64, 4), ns.exponential_decay(0.1, 3, 0.5, True)],
    "exponential-then-noam": lambda ns: [ns.exponential_decay(0.1, 3, 0.5, True), ns.noam_decay(64, 4)],
    "warmup-over-noam": lambda ns: [ns.linear_lr_warmup(ns.noam_decay(64, 4), 3, 0.0, 0.01)],
    "warmup-over-cosine": lambda ns: [ns.linear_lr_warmup(ns.cosine_decay(0.2, 2, 5), 3, 0.02, 0.2)],
    "warmup-zero-steps": lambda ns: [ns.linear_lr_warmup(0.1, 0.5, 0.0, 0.1)],
    **{f"{fn}-over-piecewise": (lambda fn: lambda ns: [getattr(ns, fn)(
        learning_rate=ns.piecewise_decay([3, 7], [0.1, 0.05, 0.01]),
        **{k: v for k, v in EXAMPLES[fn]["args"].items() if k != "learning_rate"})])(fn)
       for fn in PLAIN},
}

STEPS = 14


def _run(build, feeds=None):
    r = StaticRunner(build)
    feeds = feeds or [None] * STEPS
    return np.array([[v[0] for v in r.run(r.outputs, feed=f)] for f in feeds], dtype=np.float32).T


@fluid
@pytest.mark.usefixtures("static_mode")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_composition_as_paddle_262_builds_it(name):
    """Counter sharing and begin, tensor learning rates, warmup over a schedule: fluid's own values, bit for bit."""
    theirs = _run(lambda: SCENARIOS[name](paddle.optimizer.lr))
    ours = _run(lambda: SCENARIOS[name](paddle_lr))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        error = mismatch(f"{name} tensor {i}", np.arange(STEPS), a, b.view(np.uint32))
        assert error is None, error


@fluid
@pytest.mark.usefixtures("static_mode")
def test_schedule_inside_a_switch_case_as_paddle_262_builds_it():
    """The counter first created inside a case still advances on every run, taken or not."""
    feeds = [{"use": np.array([float(i % 3 == 0)], np.float32)} for i in range(STEPS)]
    inner = lambda ns: ns.cosine_decay(0.1, 2, 4)  # noqa: E731
    theirs = _run(_feed_switch(paddle.optimizer.lr, paddle.static.create_global_var,
                               paddle.static.nn.control_flow.Switch, inner), feeds)
    ours = _run(_feed_switch(paddle_lr, paddle_lr.create_global_var, paddle_lr.Switch, inner), feeds)
    error = mismatch("switch body", np.arange(STEPS), ours[0], theirs[0].view(np.uint32))
    assert error is None, error


@pytest.mark.usefixtures("static_mode")
def test_schedule_inside_a_switch_case():
    """On the running Paddle: the case's value on the runs it is taken is the reference at that absolute step."""
    feeds = [{"use": np.array([float(i % 3 == 0)], np.float32)} for i in range(STEPS)]
    spec = {"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5,
                                                "staircase": True}}
    got = _run(_feed_switch(paddle_lr, paddle_lr.create_global_var, paddle_lr.Switch, lambda ns: build(spec)), feeds)
    expected = np.where([f["use"][0] > 0.5 for f in feeds], np.float32(0.5), reference_values(spec, np.arange(STEPS)))
    error = mismatch("switch body", np.arange(STEPS), got[0], expected.astype(np.float32).view(np.uint32))
    assert error is None, error


def test_counter_begin_is_the_first_built():
    noam = EXAMPLES["noam_decay"]
    assert counter_begin(noam) == 1
    assert counter_begin({"fn": "linear_lr_warmup", "args": {**EXAMPLES["linear_lr_warmup"]["args"],
                                                             "learning_rate": noam}}) == 1
    assert counter_begin(EXAMPLES["linear_lr_warmup"]) == 0


@pytest.mark.usefixtures("static_mode")
@pytest.mark.parametrize("name", ["noam-then-exponential", "exponential-then-noam"])
def test_one_counter_per_program(name):
    """All schedules read one counter: one increment op, begin from the first built."""
    r = StaticRunner(lambda: SCENARIOS[name](paddle_lr))
    names = ir.op_names(r.main)
    assert sum(op.startswith(("increment", "pd_op.increment")) for op in names) == 1, names
    first = r.run(r.outputs)
    noam_first = first[0 if name.startswith("noam") else 1][0]
    assert noam_first == (np.float32(0.0) if name.startswith("exponential") else
                          reference_values(EXAMPLES["noam_decay"], [1])[0])


def _composed_specs():
    """The scenarios with one result, as specs."""
    piecewise = {"fn": "piecewise_decay", "args": {"boundaries": [3, 7], "values": [0.1, 0.05, 0.01]}}
    specs = {
        "warmup-over-noam": {"fn": "linear_lr_warmup", "args": {
            "learning_rate": EXAMPLES["noam_decay"], "warmup_steps": 3, "start_lr": 0.0, "end_lr": 0.01}},
        "warmup-over-cosine": {"fn": "linear_lr_warmup", "args": {
            "learning_rate": {"fn": "cosine_decay", "args": {"learning_rate": 0.2, "step_each_epoch": 2, "epochs": 5}},
            "warmup_steps": 3, "start_lr": 0.02, "end_lr": 0.2}},
        "warmup-zero-steps": {"fn": "linear_lr_warmup", "args": {
            "learning_rate": 0.1, "warmup_steps": 0.5, "start_lr": 0.0, "end_lr": 0.1}},
    }
    for name in SCENARIOS:
        if name.endswith("-over-piecewise"):
            fn = name[: -len("-over-piecewise")]
            specs[name] = {"fn": fn, "args": {**EXAMPLES[fn]["args"], "learning_rate": piecewise}}
    return specs


COMPOSED = _composed_specs()


@pytest.mark.usefixtures("static_mode")
@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_spec_is_the_scenario(name):
    """The spec describes the program the 2.6.2 comparison builds: same values (the running Paddle's kernels)."""
    spec = COMPOSED[name]
    ours = _run(lambda: SCENARIOS[name](paddle_lr))
    begin = counter_begin(spec)
    expected = reference_values(spec, np.arange(begin, begin + STEPS), kernels=running_kernels({}))
    error = mismatch(name, np.arange(STEPS), ours[-1], expected.view(np.uint32))
    assert error is None, error


@pytest.mark.parametrize("name", list(COMPOSED))
def test_composition_on_the_running_paddle(runner, name):
    """Each schedule of the composition, given its input's graph value: exact (kernels: as in the golden test)."""
    spec = COMPOSED[name]
    steps = np.arange(counter_begin(spec), counter_begin(spec) + STEPS)
    nodes, values = run_graph(runner, spec, steps)
    errors = check_nodes(name, nodes, values, steps)
    assert not errors, "\n".join(errors)


@pytest.mark.usefixtures("static_mode")
def test_two_piecewise_do_not_alias():
    """Fluid's two piecewise_decay shared one 'learning_rate' variable; here each has its own."""
    r = StaticRunner(lambda: [paddle_lr.piecewise_decay([3], [1.0, 0.5]), paddle_lr.piecewise_decay([5], [0.2, 0.1])])
    values = np.array([[v[0] for v in r.run(r.outputs)] for _ in range(6)], dtype=np.float32).T
    assert values[0].tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    assert values[1].tolist() == [np.float32(v) for v in (0.2, 0.2, 0.2, 0.2, 0.2, 0.1)]


@pytest.mark.usefixtures("static_mode")
def test_eval_clone_drops_the_family():
    """clone_for_test removes the schedule ops and the counter: running the copy does not advance it."""
    r = StaticRunner(lambda: [paddle_lr.linear_lr_warmup(paddle_lr.cosine_decay(0.1, 2, 5), 3, 0.0, 0.1)])
    test, _ = paddle_lr.clone_for_test(r.main)
    for _ in range(3):
        r.run([], program=test)
    counter = r.tensor(paddle_lr.graph.counter.LR_DECAY_COUNTER)
    assert counter.tolist() == [-1]


# -- dygraph twins ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(REGISTRY))
def test_twin_state_dict_round_trip(name, tmp_path):
    """A twin restored from a saved state dict continues exactly where the saved one was."""
    spec = EXAMPLES[name]
    a = twin_of(spec)
    for _ in range(7):
        a.step()
    path = tmp_path / "sched.pdparams"
    paddle.save(a.state_dict(), str(path))
    b = twin_of(spec)
    b.set_state_dict(paddle.load(str(path)))
    assert b.last_epoch == a.last_epoch == 7
    for _ in range(5):
        assert b() == a(), f"{name}: restored {b()!r} != original {a()!r} at run {a.last_epoch}"
        a.step()
        b.step()


@pytest.mark.parametrize("inner", list(REGISTRY))
def test_warmup_twin_composes_over_any_twin(inner):
    """linear_lr_warmup(<twin>) in dygraph: the nested spec's reference at begin + k, absolute steps."""
    twin = paddle_lr.linear_lr_warmup(twin_of(EXAMPLES[inner]), 5, 0.0, 0.05)
    assert isinstance(twin, paddle_lr.FluidScheduler)
    spec = {"fn": "linear_lr_warmup", "args": {"learning_rate": spec_of(twin_of(EXAMPLES[inner])),
                                               "warmup_steps": 5, "start_lr": 0.0, "end_lr": 0.05}}
    begin = counter_begin(spec)
    expected = reference_values(spec, np.arange(begin, begin + 20))
    got = []
    for _ in range(20):
        got.append(twin())
        twin.step()
    error = mismatch(f"warmup over {inner}", np.arange(begin, begin + 20), np.asarray(got, np.float32),
                     expected.view(np.uint32))
    assert error is None, error


@pytest.mark.parametrize("name", list(REGISTRY))
def test_twin_equals_graph_run_by_run(runner, name):
    """Value after k step() calls == the graph's k-th run.

    The twin is the reference (2.6.2's bits). Where 3.x's kernels round
    differently, its graph is the reference with 3.x's kernels instead.
    """
    spec = EXAMPLES[name]
    runs = 12
    r = runner(lambda: build(spec))
    graph = np.array([r.run([r.outputs])[0][0] for _ in range(runs)], dtype=np.float32)
    paddle.disable_static()
    twin = twin_of(spec)
    values = []
    for _ in range(runs):
        values.append(twin())
        twin.step()
    begin = counter_begin(spec)
    steps = np.arange(begin, begin + runs)
    reference = reference_values(spec, steps)
    error = mismatch(f"{name} twin vs reference", steps, np.asarray(values, np.float32), reference.view(np.uint32))
    assert error is None, error
    if KERNEL_ULP and REGISTRY[name].kernels:
        reference = reference_values(spec, steps, kernels=running_kernels({}))
    error = mismatch(f"{name} graph", steps, graph, reference.view(np.uint32))
    assert error is None, error


def test_twin_drives_a_paddle_optimizer():
    twin = paddle_lr.exponential_decay(0.1, 2, 0.5, staircase=True)
    linear = paddle.nn.Linear(2, 1)
    opt = paddle.optimizer.SGD(learning_rate=twin, parameters=linear.parameters())
    seen = []
    for _ in range(5):
        seen.append(opt.get_lr())
        twin.step()
    assert [np.float32(v) for v in seen] == list(reference_values(spec_of(twin), np.arange(5)))


# -- Paddle's dygraph traps, as the docs show them ----------------------------------------

def _trap_rows():
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("<!-- traps:"):].split("\n\n")[0].splitlines()[3:]
    rows = []
    for line in table:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        call, cls, theirs, ours = cells[0].strip("`"), cells[1].strip("`"), cells[2], cells[3]
        rows.append(pytest.param(call, cls, theirs, ours, id=call.split("(")[0]))
    return rows


def _values(scheduler, n):
    out = []
    for _ in range(n):
        out.append(f"{float(np.float32(scheduler())):.6g}")
        scheduler.step()
    return ", ".join(out)


@pytest.mark.parametrize("call,cls,theirs,ours", _trap_rows())
def test_dygraph_traps_as_documented(call, cls, theirs, ours):
    """docs/family.md's trap table, measured: Paddle's dygraph result of each call, and ours."""
    n = len(theirs.split(","))
    paddle_sched = eval(call, {name: getattr(paddle.optimizer.lr, name) for name in FLUID})
    our_sched = eval(call, {name: getattr(paddle_lr, name) for name in FLUID})
    assert type(paddle_sched).__name__ == cls
    assert isinstance(our_sched, paddle_lr.FluidScheduler)
    assert _values(paddle_sched, n) == theirs
    assert _values(our_sched, n) == ours
    assert theirs != ours


@pytest.mark.parametrize("doc", [DOCS, DOCS.parents[1] / "README.md"], ids=["docs-family", "readme"])
def test_docs_table_is_the_registry(doc):
    text = doc.read_text(encoding="utf-8")
    if os.environ.get("PADDLE_LR_WRITE_DOCS") == "1":
        doc.write_text(with_table(text), encoding="utf-8")
        text = doc.read_text(encoding="utf-8")
    assert markdown_table() in text and with_table(text) == text, (
        f"{doc.name}'s table is not the registry's: write it with "
        "PADDLE_LR_WRITE_DOCS=1 python -m pytest tests/test_family_api.py -k docs_table")
