"""The branchless lowering's two forms: the tabulated lookup and the computed long warmup."""
import numpy as np
import paddle
import pytest

import paddle_lr
import paddle_lr.schedules.warmup_piecewise as schedule
from paddle_lr.graph import ir as ir
from conftest import first_mismatch, golden_params

ARGS = dict(learning_rate=0.01, warmup_iter=500, warmup_factor=1 / 3)


@pytest.mark.parametrize("count", [0, 2, 1000])
def test_one_lookup_whatever_the_boundaries(runner, count):
    bounds = [1000 * (i + 1) for i in range(count)]
    values = paddle_lr.boundary_values(0.01, 0.1, count)
    r = runner(lambda: paddle_lr.exponential_with_warmup_decay(
        boundaries=bounds, values=values, **ARGS, impl="branchless"))
    names = [n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True)]
    computed = [n for n in names if n != "parameter"]
    assert computed == ["increment", "cast", "searchsorted", "index_select"]


@pytest.mark.parametrize("case", golden_params())
def test_untabulated_warmup_matches_golden(runner, monkeypatch, case):
    # Warmups longer than the table limit compute the ramp in the graph instead.
    monkeypatch.setattr(schedule, "_MAX_TABULATED_WARMUP", 0)
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


@pytest.mark.parametrize("reload", [False, True], ids=["plain_load", "reload_tables"])
def test_resume_with_another_schedule(runner, tmp_path, reload):
    """A checkpoint restores the tables; reload_tables makes the new schedule apply."""
    old = dict(learning_rate=0.01, boundaries=[6, 9], values=[0.01, 0.001, 0.0001],
               warmup_iter=4, warmup_factor=1 / 3)
    new = dict(old, boundaries=[12, 20], warmup_iter=3)
    first = runner(lambda: paddle_lr.exponential_with_warmup_decay(**old, impl="branchless"))
    for _ in range(2):
        first.run([first.outputs])
    with paddle.static.scope_guard(first.scope):
        paddle.static.save(first.main, str(tmp_path / "ckpt"))

    resumed = runner(lambda: paddle_lr.exponential_with_warmup_decay(**new, impl="branchless"))
    with paddle.static.scope_guard(resumed.scope):
        paddle.static.load(resumed.main, str(tmp_path / "ckpt"))
        if reload:
            assert len(schedule.reload_tables(resumed.main)) == 2
    expected_args = new if reload else old
    for step in range(2, 14):
        got = resumed.run([resumed.outputs])[0][0]
        expected = paddle_lr.lr_at(step, **expected_args)
        assert got.view(np.uint32) == expected.view(np.uint32), f"step {step}: {got!r} != {expected!r}"
