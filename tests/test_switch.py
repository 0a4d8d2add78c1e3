"""Switch semantics: ordered cases, first true wins, untaken cases do not run."""
import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import ir as ir


def const(value, dtype="float32"):
    return ir.cpu_constant(value, dtype)


def build_switch(x_value, thresholds, with_default=True):
    """out = index of the first threshold with x < threshold, else -1 (default)."""
    x = const(x_value)
    out = ir.persistable_float("out", value=-99.0)
    with paddle_lr.Switch() as switch:
        for i, t in enumerate(thresholds):
            with switch.case(x < const(t)):
                paddle.assign(const(float(i)), output=out)
        if with_default:
            with switch.default():
                paddle.assign(const(-1.0), output=out)
    return out


@pytest.mark.parametrize(
    "x, thresholds, with_default, expected",
    [
        (0.0, [1.0, 2.0], True, 0.0),   # both true: the first wins
        (1.5, [1.0, 2.0], True, 1.0),   # the first false, the second true
        (5.0, [1.0, 2.0], True, -1.0),  # none: the default
        (5.0, [1.0, 2.0], False, -99.0),  # none and no default: untouched
        (0.0, [3.0, 2.0, 1.0], True, 0.0),  # all true: still the first
        (2.5, [1.0, 2.0, 3.0], True, 2.0),
    ],
)
def test_first_true_case_wins(runner, x, thresholds, with_default, expected):
    r = runner(lambda: build_switch(x, thresholds, with_default))
    assert r.run([r.outputs])[0][0] == np.float32(expected)


def test_untaken_case_ops_do_not_run(runner):
    def build():
        x = const(1.5)
        taken = ir.persistable_float("taken", value=0.0)
        with paddle_lr.Switch() as switch:
            for i, t in enumerate([1.0, 2.0]):
                with switch.case(x < const(t)):
                    # Each case bumps a marker; only the taken case's marker may move.
                    paddle.assign(const(float(i + 10)), output=taken)
                    paddle.increment(ir.persistable_float(f"marker_{i}", value=0.0), 1.0)
            with switch.default():
                paddle.increment(ir.persistable_float("marker_default", value=0.0), 1.0)
        return taken

    r = runner(build)
    for _ in range(3):
        assert r.run([r.outputs])[0][0] == np.float32(11.0)
    assert r.tensor("marker_0")[0] == 0.0, "case 0 (x < 1) is false and must not run"
    assert r.tensor("marker_1")[0] == 3.0, "case 1 (x < 2) ran once per run"
    assert r.tensor("marker_default")[0] == 0.0, "the default must not run after a taken case"


def test_nested_switch(runner):
    def build():
        out = ir.persistable_float("out")
        x, y = const(1.0), const(5.0)
        with paddle_lr.Switch() as outer:
            with outer.case(x < const(2.0)):
                with paddle_lr.Switch() as inner:
                    with inner.case(y < const(3.0)):
                        paddle.assign(const(1.0), output=out)
                    with inner.default():
                        paddle.assign(const(2.0), output=out)
            with outer.default():
                paddle.assign(const(3.0), output=out)
        return out

    r = runner(build)
    assert r.run([r.outputs])[0][0] == np.float32(2.0)


def test_switch_reads_the_step(runner):
    """A Switch over the decay counter changes branch as the counter moves."""

    def build():
        step = paddle_lr.decay_step_counter()
        out = ir.persistable_float("out")
        with paddle_lr.Switch() as switch:
            with switch.case(step < const(2.0)):
                paddle.assign(const(10.0), output=out)
            with switch.default():
                paddle.assign(step, output=out)
        return out

    r = runner(build)
    got = [r.run([r.outputs])[0][0] for _ in range(4)]
    assert got == [10.0, 10.0, 2.0, 3.0]


def _case_outside_with():
    paddle_lr.Switch().case(const(0.0) < const(1.0))


def _default_outside_with():
    paddle_lr.Switch().default()


def _default_first():
    with paddle_lr.Switch() as switch:
        switch.default()


def _float_condition():
    with paddle_lr.Switch() as switch:
        switch.case(const(1.0))


def _vector_condition():
    with paddle_lr.Switch() as switch:
        switch.case(paddle.zeros([2], dtype="bool"))


def _python_condition():
    with paddle_lr.Switch() as switch:
        switch.case(True)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (_case_outside_with, ValueError, "case: must be called inside 'with Switch()"),
        (_default_outside_with, ValueError, "default: must be called inside 'with Switch()"),
        (_default_first, ValueError, "at least one case before default"),
        (_float_condition, TypeError, "condition must be bool"),
        (_vector_condition, TypeError, "condition must hold one element, got shape [2]"),
        (_python_condition, TypeError, "condition must be a static-graph tensor, got bool"),
    ],
)
def test_fluid_errors(static_mode, build, error, message):
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
        with pytest.raises(error) as info:
            build()
    assert message in str(info.value)
