"""Step counters: begin, one per program, incremented first, saved and resumed exactly."""
import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import ir as ir
from paddle_lr.graph.counter import LR_DECAY_COUNTER

ARGS = dict(learning_rate=0.01, boundaries=[6, 9], values=[0.01, 0.001, 0.0001],
            warmup_iter=4, warmup_factor=1.0 / 3.0)


@pytest.mark.parametrize(
    "begin, step, expected",
    [
        (1, 1, [1, 2, 3]),
        (0, 1, [0, 1, 2]),
        (-3, 1, [-3, -2, -1]),
        # fluid initialises to begin - 1 whatever the step, so the first run sees begin - 1 + step.
        (5, 2, [6, 8, 10]),
    ],
)
def test_first_run_sees_begin(runner, begin, step, expected):
    r = runner(lambda: paddle_lr.autoincreased_step_counter("c", begin=begin, step=step))
    got = [int(r.run([r.outputs])[0][0]) for _ in expected]
    assert got == expected


def test_default_name_and_decay_counter(runner):
    def build():
        return (paddle_lr.autoincreased_step_counter(), paddle_lr.decay_step_counter())

    r = runner(build)
    for expected in range(3):
        step_counter, decay = r.run(r.outputs)
        assert int(step_counter[0]) == expected + 1
        assert decay.dtype == np.float32 and decay[0] == np.float32(expected)
    assert int(r.tensor("@STEP_COUNTER@")[0]) == 3
    assert int(r.tensor(LR_DECAY_COUNTER)[0]) == 2


def count_increments(program):
    return sum(name in ("increment", "pd_op.increment_") for name in ir.op_names(program))


def test_two_schedules_share_one_counter(runner):
    def build():
        a = paddle_lr.exponential_with_warmup_decay(**ARGS)
        b = paddle_lr.exponential_with_warmup_decay(**ARGS, impl="branchless")
        return a, b

    r = runner(build)
    assert count_increments(r.main) == 1
    for step in range(12):
        a, b = r.run(r.outputs)
        expected = paddle_lr.lr_at(step, **ARGS)
        assert a[0].view(np.uint32) == expected.view(np.uint32), f"step {step}: switch {a[0]!r} != {expected!r}"
        assert b[0].view(np.uint32) == expected.view(np.uint32), f"step {step}: branchless {b[0]!r} != {expected!r}"
    assert int(r.tensor(LR_DECAY_COUNTER)[0]) == 11


def test_increment_runs_before_readers_built_earlier(runner):
    """Readers built before the schedule (or the counter) still see the new value."""

    def build():
        first = paddle_lr.decay_step_counter()
        doubled = first * 2.0  # a reader built before the schedule's ops
        lr = paddle_lr.exponential_with_warmup_decay(**ARGS)
        return doubled, lr

    r = runner(build)
    for step in range(5):
        doubled, lr = r.run(r.outputs)
        assert doubled[0] == np.float32(2 * step)
        assert lr[0] == paddle_lr.lr_at(step, **ARGS)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(begin=1.5), TypeError, "begin: must be an int, got 1.5"),
        (dict(step=True), TypeError, "step: must be an int, got True"),
        (dict(counter_name=3), TypeError, "counter_name: must be a str, got 3"),
    ],
)
def test_bad_counter_arguments(static_mode, kwargs, error, message):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        with pytest.raises(error, match=message):
            paddle_lr.autoincreased_step_counter(**kwargs)


def static_save(r, path):
    paddle.static.save(r.main, str(path / "ckpt"))


def static_load(r, path):
    paddle.static.load(r.main, str(path / "ckpt"))


def persistable(var):
    return var.persistable


def persistables_save(r, path):
    # save_vars over the persistables is the save_persistables helper that both IRs support.
    paddle.static.save_vars(r.exe, str(path / "vars"), main_program=r.main, predicate=persistable)


def persistables_load(r, path):
    paddle.static.load_vars(r.exe, str(path / "vars"), main_program=r.main, predicate=persistable)


SAVERS = {"static_save": (static_save, static_load), "save_vars": (persistables_save, persistables_load)}


@pytest.mark.parametrize("saver", SAVERS)
@pytest.mark.parametrize("impl", ["switch", "branchless"])
@pytest.mark.parametrize("stop_after", [2, 5, 7, 10], ids=lambda n: f"after{n}")
def test_save_load_resumes_exactly(runner, tmp_path, impl, stop_after, saver):
    """Save after ``stop_after`` runs (mid-warmup to past the last boundary), load
    into a fresh program and scope, continue: the lr sequence is unbroken."""
    save, load = SAVERS[saver]
    total = 14

    def build():
        return paddle_lr.exponential_with_warmup_decay(**ARGS, impl=impl)

    straight = runner(build)
    expected = [straight.run([straight.outputs])[0][0] for _ in range(total)]

    first = runner(build)
    got = [first.run([first.outputs])[0][0] for _ in range(stop_after)]
    with paddle.static.scope_guard(first.scope):
        save(first, tmp_path)

    resumed = runner(build)
    with paddle.static.scope_guard(resumed.scope):
        load(resumed, tmp_path)
    assert int(resumed.tensor(LR_DECAY_COUNTER)[0]) == stop_after - 1
    got += [resumed.run([resumed.outputs])[0][0] for _ in range(total - stop_after)]
    got = np.asarray(got, dtype=np.float32)
    expected = np.asarray(expected, dtype=np.float32)
    bad = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    assert bad.size == 0, f"step {bad[0]}: resumed {got[bad[0]]!r} != uninterrupted {expected[bad[0]]!r}"


def test_separate_programs_have_separate_counters(runner):
    """Two programs each get their own counter and increment; runs of one leave the other alone."""
    a = runner(lambda: paddle_lr.exponential_with_warmup_decay(**ARGS))
    b = runner(lambda: paddle_lr.exponential_with_warmup_decay(**ARGS))
    assert count_increments(a.main) == 1 and count_increments(b.main) == 1
    for _ in range(5):
        a.run([a.outputs])
    lr_b = b.run([b.outputs])[0][0]
    assert int(a.tensor(LR_DECAY_COUNTER)[0]) == 4
    assert int(b.tensor(LR_DECAY_COUNTER)[0]) == 0
    assert lr_b == paddle_lr.lr_at(0, **ARGS)


@pytest.mark.parametrize("impl", ["switch", "branchless"])
@pytest.mark.parametrize(
    "boundaries, probe",
    [
        # float32(2**24 + 1) == 2**24: the boundary fires a step early, as in the original.
        ([2 ** 24 + 1], [2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 24 + 2]),
        ([2 ** 25 + 3], [2 ** 25, 2 ** 25 + 1, 2 ** 25 + 2, 2 ** 25 + 4]),
    ],
)
def test_float32_step_quirk_past_2_24(runner, impl, boundaries, probe):
    args = dict(learning_rate=0.1, boundaries=boundaries, values=[0.1, 0.01],
                warmup_iter=0, warmup_factor=1.0)
    with pytest.warns(paddle_lr.ScheduleWarning, match="2\\*\\*24"):
        r = runner(lambda: paddle_lr.exponential_with_warmup_decay(**args, impl=impl))
    for step in probe:
        r.jump_to(step)
        got = r.run([r.outputs])[0][0]
        expected = paddle_lr.lr_at(step, **args)
        assert got.view(np.uint32) == expected.view(np.uint32), f"step {step}: graph {got!r} != lr_at {expected!r}"


def test_lr_at_boundary_fires_early_past_2_24():
    args = dict(learning_rate=0.1, boundaries=[2 ** 24 + 1], values=[0.1, 0.01],
                warmup_iter=0, warmup_factor=1.0)
    assert paddle_lr.lr_at(2 ** 24 - 1, **args) == np.float32(0.1)
    assert paddle_lr.lr_at(2 ** 24, **args) == np.float32(0.01)  # one step before the boundary
