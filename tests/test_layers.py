"""Fluid's building blocks: create_global_var and fill_constant, on both static IRs."""

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import ir

STEPS = 7


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def assert_bits(step, got, expected, what="value"):
    got, expected = np.asarray(got, np.float32), np.asarray(expected, np.float32)
    assert got.shape == expected.shape, f"step {step}: {what} shape {got.shape} != {expected.shape}"
    assert (bits(got) == bits(expected)).all(), f"step {step}: {what} {got!r} != {expected!r}"


# -- create_global_var: shape, dtype, value, place ------------------------

GLOBAL_VARS = [
    pytest.param(dict(shape=[1], value=0.0, dtype="float32"), id="lr-zero"),
    pytest.param(dict(shape=[1], value=0.1, dtype="float32", force_cpu=True), id="float32-cpu"),
    pytest.param(dict(shape=(2, 3), value=-2.5, dtype="float64"), id="float64-2x3"),
    pytest.param(dict(shape=np.array([4]), value=7, dtype="int64", force_cpu=True), id="int64-ndarray-shape"),
    pytest.param(dict(shape=[1], value=3, dtype=np.int32), id="numpy-dtype"),
    pytest.param(dict(shape=[2], value=1.0, dtype=paddle.float32), id="paddle-dtype"),
    pytest.param(dict(shape=[1], value=True, dtype="bool"), id="bool"),
]


@pytest.mark.parametrize("kwargs", GLOBAL_VARS)
def test_persistable_global_var_holds_its_value(runner, kwargs):
    r = runner(lambda: [paddle_lr.create_global_var(persistable=True, name="v", **kwargs)])
    dtype = np.dtype(kwargs["dtype"] if not isinstance(kwargs["dtype"], paddle.dtype) else "float32")
    expected = np.full(list(kwargs["shape"]), kwargs["value"], dtype)
    for step in range(2):
        (got,) = r.run(r.outputs)
        assert got.dtype == expected.dtype and got.shape == expected.shape, f"step {step}: {got!r}"
        assert (got == expected).all(), f"step {step}: {got!r} != {expected!r}"
    assert ir.persistables(r.main)["v"] == (expected.shape, expected.dtype.name)


def test_persistable_global_var_keeps_what_the_program_writes(runner):
    def build():
        v = paddle_lr.create_global_var([1], 0.5, "float32", persistable=True, name="acc")
        paddle.assign(v * 2.0, v)
        return [v]

    r = runner(build)
    for step in range(STEPS):
        (got,) = r.run(r.outputs)
        assert_bits(step, got, np.float32([0.5 * 2.0 ** (step + 1)]))


def test_non_persistable_global_var_is_a_per_run_temporary(runner):
    """Written before it is read in each run, it gives the run's value (both IRs)."""
    def build():
        step = paddle_lr.decay_step_counter()
        v = paddle_lr.create_global_var([1], 0.0, "float32")
        paddle.assign(step + 10.0, v)
        return [v]

    r = runner(build)
    assert "v" not in ir.persistables(r.main)
    for step in range(3):
        (got,) = r.run(r.outputs)
        assert_bits(step, got, np.float32([step + 10.0]))


def test_a_second_call_with_the_name_returns_the_variable_and_refills_it(runner):
    def build():
        first = paddle_lr.create_global_var([1], 0.0, "float32", persistable=True, name="lr")
        second = paddle_lr.create_global_var([1], 0.25, "float32", persistable=True, name="lr")
        paddle.assign(second + 1.0, second)
        return [first]

    r = runner(build)
    assert list(ir.persistables(r.main)).count("lr") == 1
    for step in range(3):
        (got,) = r.run(r.outputs)
        assert_bits(step, got, np.float32([0.25 + step + 1]), "lr (written through the second handle)")


# -- Switch: assign into a global var from every kind of source ------------

SCHEDULE = dict(learning_rate=0.1, boundaries=[4], values=[0.1, 0.01], warmup_iter=2, warmup_factor=0.5)


def _from_counter(step, lr):
    paddle.assign(step * 0.5 + 1.0, lr)


def _from_cpu_constant(step, lr):
    paddle.assign(paddle_lr.fill_constant([1], "float32", 0.75, force_cpu=True), lr)


def _from_fill_constant_out(step, lr):
    paddle_lr.fill_constant([1], "float32", 0.125, force_cpu=True, out=lr)


def _from_fill_constant_tensor_value(step, lr):
    paddle_lr.fill_constant([1], "float32", step * 2.0, force_cpu=True, out=lr)


def _from_numpy(step, lr):
    paddle.assign(np.float32([0.625]), lr)


def _from_schedule_built_in_case(step, lr):
    paddle.assign(paddle_lr.exponential_with_warmup_decay(**SCHEDULE), lr)


def _from_global_var_built_in_case(step, lr):
    inner = paddle_lr.create_global_var([1], 1.0, "float32", persistable=True, name="inner")
    paddle.assign(inner * 0.5, inner)
    paddle.assign(inner, lr)


def _schedule_value(steps):
    return paddle_lr.lr_at(steps, **SCHEDULE)


# name -> (case body, the value it writes at each step it runs; a numpy float32 function of steps)
SOURCES = {
    "counter-arithmetic": (_from_counter, lambda s, k: (s.astype(np.float32) * np.float32(0.5) + np.float32(1.0))),
    "cpu-constant": (_from_cpu_constant, lambda s, k: np.full(s.shape, 0.75, np.float32)),
    "fill-constant-out": (_from_fill_constant_out, lambda s, k: np.full(s.shape, 0.125, np.float32)),
    "fill-constant-tensor-value": (_from_fill_constant_tensor_value, lambda s, k: s.astype(np.float32) * np.float32(2.0)),
    "numpy-constant": (_from_numpy, lambda s, k: np.full(s.shape, 0.625, np.float32)),
    "schedule-built-in-case": (_from_schedule_built_in_case, lambda s, k: _schedule_value(s)),
    # the inner var halves on each run of the case: k = how many times the case ran
    "global-var-built-in-case": (_from_global_var_built_in_case, lambda s, k: np.float32(0.5) ** k.astype(np.float32)),
}


@pytest.mark.parametrize("where", ["case", "default"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_assign_into_global_var_from_a_switch_case(runner, source, where):
    """Steps 0-2 take the first case, the rest the default; the source writes in one of them."""
    body, value = SOURCES[source]

    def build():
        step = paddle_lr.decay_step_counter()
        lr = paddle_lr.create_global_var([1], -1.0, "float32", persistable=True, name="lr")
        three = paddle_lr.fill_constant([1], "float32", 3.0, force_cpu=True)
        with paddle_lr.Switch() as switch:
            with switch.case(step < three):
                if where == "case":
                    body(step, lr)
                else:
                    paddle.assign(three, lr)
            with switch.default():
                if where == "default":
                    body(step, lr)
                else:
                    paddle.assign(step, lr)
        return [lr]

    r = runner(build)
    steps = np.arange(STEPS)
    taken = steps < 3 if where == "case" else steps >= 3
    runs = np.cumsum(taken)
    other = np.where(steps < 3, np.float32(3.0), steps.astype(np.float32))
    expected = np.where(taken, value(steps, runs), other).astype(np.float32)
    for step in range(STEPS):
        (got,) = r.run(r.outputs)
        assert_bits(step, got, expected[step:step + 1], f"lr ({source} in {where})")


def test_global_var_built_in_a_case_is_global(runner):
    """Created inside a case, it is still a variable of the global block: readable after the Switch."""
    def build():
        step = paddle_lr.decay_step_counter()
        lr = paddle_lr.create_global_var([1], 0.0, "float32", persistable=True, name="lr")
        with paddle_lr.Switch() as switch:
            with switch.case(step < 2.0):
                inner = paddle_lr.create_global_var([1], 11.0, "float32", persistable=True, name="inner")
                paddle.assign(inner + 1.0, inner)
            with switch.default():
                paddle.assign(step, lr)
        return [inner, inner * 2.0]

    r = runner(build)
    for step in range(4):
        inner, doubled = r.run(r.outputs)
        expected = np.float32([11.0 + min(step + 1, 2)])
        assert_bits(step, inner, expected, "inner")
        assert_bits(step, doubled, expected * 2, "inner * 2 (read outside the Switch)")


# -- fill_constant -----------------------------------------------------------

@pytest.mark.parametrize(
    "shape, dtype, value",
    [([1], "float32", 0.1), (3, "int64", 5), ([2, 2], "float64", -1.5), ([1], "bool", False)],
    ids=["float32", "int-shape-int64", "float64", "bool"],
)
@pytest.mark.parametrize("force_cpu", [False, True], ids=["default-place", "cpu"])
def test_fill_constant_matches_numpy(runner, shape, dtype, value, force_cpu):
    r = runner(lambda: [paddle_lr.fill_constant(shape, dtype, value, force_cpu=force_cpu)])
    (got,) = r.run(r.outputs)
    expected = np.full([shape] if isinstance(shape, int) else shape, value, dtype)
    assert got.dtype == expected.dtype and (got == expected).all(), f"{got!r} != {expected!r}"


def test_fill_constant_works_in_dygraph():
    got = paddle_lr.fill_constant([2], "float32", 0.1).numpy()
    assert_bits(0, got, np.float32([0.1, 0.1]))



@pytest.mark.skipif(not paddle.is_compiled_with_cuda(), reason="needs a CUDA build")
@pytest.mark.parametrize("force_cpu", [False, True], ids=["gpu", "cpu"])
def test_force_cpu_places_the_variable_on_the_cpu(static_mode, force_cpu):
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        paddle_lr.create_global_var([1], 1.0, "float32", persistable=True, force_cpu=force_cpu, name="v")
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        paddle.static.Executor(paddle.CUDAPlace(0)).run(startup)
    place = scope.find_var("v").get_tensor()._place()
    assert place.is_cpu_place() == force_cpu, f"force_cpu={force_cpu}: placed on {place}"


# -- bad arguments: one line, before any op -----------------------------------

def _lr():
    return paddle_lr.create_global_var([1], 0.0, "float32", persistable=True, name="lr")


def _int_var():
    return paddle_lr.create_global_var([1], 0, "int64", persistable=True, name="i")


# (setup building what the call needs, the call, error, message)
BAD = [
    (None, lambda _: paddle_lr.create_global_var(1, 0.0, "float32"), TypeError, "shape: must be a list of whole numbers, got 1"),
    (None, lambda _: paddle_lr.create_global_var([1, -2], 0.0, "float32"), ValueError, r"shape\[1\]: must be >= 0, got -2"),
    (None, lambda _: paddle_lr.create_global_var([1.5], 0.0, "float32"), TypeError, r"shape\[0\]: must be a whole number, got 1.5"),
    (None, lambda _: paddle_lr.create_global_var([1], "0.1", "float32"), TypeError, "value: must be a number, got '0.1'"),
    (None, lambda _: paddle_lr.create_global_var([1], float("nan"), "float32"), ValueError, "value: must be finite, got nan"),
    (None, lambda _: paddle_lr.create_global_var([1], True, "float32"), TypeError, "value: must be a number for dtype float32, got True"),
    (None, lambda _: paddle_lr.create_global_var([1], 0.0, "float8"), TypeError, "dtype: must be one of bool, .*, got 'float8'"),
    (None, lambda _: paddle_lr.create_global_var([1], 0.0, "float32", persistable=1), TypeError, "persistable: must be true or false, got 1"),
    (None, lambda _: paddle_lr.create_global_var([1], 0.0, "float32", force_cpu="yes"), TypeError, "force_cpu: must be true or false, got 'yes'"),
    (None, lambda _: paddle_lr.create_global_var([1], 0.0, "float32", name=3), TypeError, "name: must be a string, got 3"),
    (_lr, lambda _: paddle_lr.create_global_var([2], 0.0, "float32", persistable=True, name="lr"),
     ValueError, r"name: 'lr' is already a variable of shape \[1\] and dtype float32, got shape \[2\] and dtype float32"),
    (None, lambda _: paddle_lr.fill_constant([1], "float32", None), TypeError, "value: must be a number, got None"),
    (None, lambda _: paddle_lr.fill_constant([1], "str", 0.0), TypeError, "dtype: must be one of .*, got 'str'"),
    (None, lambda _: paddle_lr.fill_constant([1], "float32", 0.0, force_cpu=None), TypeError, "force_cpu: must be true or false, got None"),
    (None, lambda _: paddle_lr.fill_constant([1], "float32", 0.0, out=np.zeros(1)), TypeError, "out: must be a tensor, got ndarray"),
    (_int_var, lambda i: paddle_lr.fill_constant([1], "float32", 0.0, out=i), TypeError, r"out: must be a float32 tensor \(what is written\), got dtype int64"),
    (None, lambda _: paddle_lr.assign(0.5, output=[0.0]), TypeError, "output: must be a tensor, got list"),
]


@pytest.mark.parametrize("setup, call, error, message", BAD,
                         ids=[m.split(":")[0].replace("\\", "") + f"-{i}" for i, (_, _, _, m) in enumerate(BAD)])
def test_bad_arguments_are_one_line_errors_before_any_op(static_mode, setup, call, error, message):
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        made = setup() if setup else None
        before = ir.op_names(main, nested=True), ir.op_names(startup)
        with pytest.raises(error, match=message) as info:
            call(made)
        after = ir.op_names(main, nested=True), ir.op_names(startup)
    assert isinstance(info.value, paddle_lr.ConfigError)
    assert "\n" not in str(info.value)
    assert after == before, f"ops built before the error: {before} -> {after}"


def test_create_global_var_in_dygraph_is_an_error():
    with pytest.raises(paddle_lr.ConfigError, match="create_global_var: builds a static-graph variable, got dygraph mode"):
        paddle_lr.create_global_var([1], 0.0, "float32")
