"""The branchless lowering's two forms: the tabulated lookup and the computed long warmup."""
import numpy as np
import paddle
import pytest

import paddle_lr
import paddle_lr.schedules.warmup_piecewise as schedule
from paddle_lr.graph import tables
from paddle_lr.graph import ir as ir
from conftest import first_mismatch, golden_params

ARGS = dict(learning_rate=0.01, warmup_iter=500, warmup_factor=1 / 3)


@pytest.mark.parametrize("count", [0, 2, 1000])
def test_one_lookup_whatever_the_boundaries(runner, count):
    bounds = [1000 * (i + 1) for i in range(count)]
    values = paddle_lr.boundary_values(0.01, 0.1, count)
    r = runner(lambda: paddle_lr.exponential_with_warmup_decay(
        boundaries=bounds, values=values, **ARGS, impl="branchless"))
    computed = [n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)]
    assert computed == ["increment", "searchsorted", "index_select"]  # no cast: integer thresholds


@pytest.mark.filterwarnings("ignore:warmup_iter.*covers boundaries:paddle_lr.rules.ScheduleWarning")  # a golden case is deliberately so
@pytest.mark.parametrize("case", golden_params())
def test_untabulated_warmup_matches_golden(runner, monkeypatch, case):
    # Warmups longer than the table limit compute the ramp in the graph instead.
    monkeypatch.setattr(tables, "MAX_TABULATED_WARMUP", 0)
    r = runner(lambda: paddle_lr.exponential_with_warmup_decay(**case["args"], impl="branchless"))
    start = case["start"]
    edges = [start, int(np.ceil(case["args"]["warmup_iter"])), *case["args"]["boundaries"]]
    steps = sorted({s for e in edges for s in range(e - 2, e + 3) if start <= s < start + case["steps"]})
    got = []
    for step in steps:
        r.jump_to(step)
        got.append(r.run([r.outputs])[0][0])
    steps = np.asarray(steps)
    expected = case["expected"][steps - start]
    assert first_mismatch(steps, got, expected) is None, first_mismatch(steps, got, expected)


def _checkpoint_of(tmp_path, runner, args, runs):
    first = runner(lambda: paddle_lr.exponential_with_warmup_decay(**args, impl="branchless"))
    for _ in range(runs):
        first.run([first.outputs])
    with paddle.static.scope_guard(first.scope):
        paddle.static.save(first.main, str(tmp_path / "ckpt"))
    return str(tmp_path / "ckpt")


OLD = dict(learning_rate=0.01, boundaries=[6, 9], values=[0.01, 0.001, 0.0001], warmup_iter=4, warmup_factor=1 / 3)
NEW = dict(OLD, boundaries=[12, 20], warmup_iter=3)


def test_tables_are_named_by_their_contents(runner):
    """The same schedule gives the same table names; another schedule other names."""
    def table_names(args):
        r = runner(lambda: paddle_lr.exponential_with_warmup_decay(**args, impl="branchless"))
        return tables.names(r.main)

    old, again, new = table_names(OLD), table_names(OLD), table_names(NEW)
    assert len(old) == 2 and all(tables.is_table(n) for n in old), old
    assert old == again
    assert not set(old) & set(new), (old, new)


def test_plain_load_of_the_same_schedule_resumes(runner, tmp_path):
    path = _checkpoint_of(tmp_path, runner, OLD, runs=2)
    resumed = runner(lambda: paddle_lr.exponential_with_warmup_decay(**OLD, impl="branchless"))
    with paddle.static.scope_guard(resumed.scope):
        paddle.static.load(resumed.main, path)
    for step in range(2, 14):
        got = resumed.run([resumed.outputs])[0][0]
        expected = paddle_lr.lr_at(step, **OLD)
        assert got.view(np.uint32) == expected.view(np.uint32), f"step {step}: {got!r} != {expected!r}"


def test_plain_load_of_another_schedule_refuses(runner, tmp_path):
    """The old tables cannot slip in: their names are not the program's."""
    path = _checkpoint_of(tmp_path, runner, OLD, runs=2)
    resumed = runner(lambda: paddle_lr.exponential_with_warmup_decay(**NEW, impl="branchless"))
    with paddle.static.scope_guard(resumed.scope), pytest.raises(Exception, match=tables.PREFIX):
        paddle.static.load(resumed.main, path)


def test_state_without_tables_then_reload_follows_the_new_schedule(runner, tmp_path):
    """Restoring everything but the tables, then reload_tables: the program's own schedule applies."""
    path = _checkpoint_of(tmp_path, runner, OLD, runs=2)
    resumed = runner(lambda: paddle_lr.exponential_with_warmup_decay(**NEW, impl="branchless"))
    state = {k: v for k, v in paddle.static.load_program_state(path).items() if not tables.is_table(k)}
    with paddle.static.scope_guard(resumed.scope):
        paddle.static.set_program_state(resumed.main, state)
        assert schedule.reload_tables(resumed.main, resumed.scope) == tables.names(resumed.main)
    for step in range(2, 14):
        got = resumed.run([resumed.outputs])[0][0]
        expected = paddle_lr.lr_at(step, **NEW)
        assert got.view(np.uint32) == expected.view(np.uint32), f"step {step}: {got!r} != {expected!r}"
