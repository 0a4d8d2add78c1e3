"""``registry.build(spec, horizon=N)``: the whole schedule as one ``index_select`` of the counter, up to ``N``.

Every golden case is built twice in one program, as its ops (or its default
lookup) and with a horizon, and the two are read at the same counters: they
must give the same bits at every sampled step up to the horizon (on 2.x also
fluid 1.8.5's recording), and a run past the horizon must stop rather than
give a value.
"""
import numpy as np
import paddle
import pytest

from familykit import KERNEL_ULP
from paddle_lr.graph import ir
from paddle_lr.rules import ConfigError
from paddle_lr.schedules.lowerings import MAX_TABULATED_COUNTERS
from paddle_lr.schedules.registry import REGISTRY, build
from test_family_golden import FAMILY, sample

def _horizon(case):
    """The case's last step: every golden case ends within the most a horizon may hold."""
    last = int(case["steps"][-1])
    assert last <= MAX_TABULATED_COUNTERS, f"{case['name']}: ends at step {last}, past a horizon's table"
    return last


def _bits(values):
    return np.asarray(values, dtype=np.float32).reshape(-1).view(np.uint32)


@pytest.mark.parametrize("case", FAMILY, ids=lambda c: c["name"])
def test_the_table_is_the_ops_at_every_step(runner, case):
    horizon = _horizon(case)
    r = runner(lambda: (build(case["spec"]), build(case["spec"], horizon=horizon)))
    steps = [int(s) for s in sample(case)]
    start = int(case["steps"][0])
    for step in steps:
        r.jump_to(step)
        ops, table = (_bits(v)[0] for v in r.run(r.outputs))
        assert table == ops, (f"{case['name']}: step {step}: horizon table 0x{table:08x}, "
                              f"its graph without 0x{ops:08x}")
        if KERNEL_ULP == 0:
            fluid = int(case["expected"][step - start])
            assert table == fluid, f"{case['name']}: step {step}: horizon table 0x{table:08x}, fluid 0x{fluid:08x}"


ARITHMETIC = [pytest.param(name, id=name) for name, s in REGISTRY.items() if s.ops is not None and not s.impls]


@pytest.mark.parametrize("name", ARITHMETIC)
def test_one_op_and_the_run_past_the_horizon_stops(runner, name):
    spec = {"fn": name, "args": dict(REGISTRY[name].typical)}
    horizon = 50
    r = runner(lambda: build(spec, horizon=horizon))
    ops = [n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)]
    assert sorted(ops) == ["increment", "index_select"], f"{name}: expected the counter and one select, got {ops}"
    r.jump_to(horizon)
    r.run([r.outputs])
    r.jump_to(horizon + 1)
    with pytest.raises(Exception, match="index_select") as caught:
        r.run([r.outputs])
    assert f"< {horizon + 1}" in str(caught.value), f"{name}: past the horizon: {str(caught.value)[-300:]}"


BAD = [
    pytest.param(-1, "horizon: must be >= 0, got -1", id="negative"),
    pytest.param(1.5, "horizon: must be a whole number, got 1.5", id="fraction"),
    pytest.param("100", "horizon: must be a whole number, got '100'", id="string"),
    pytest.param(MAX_TABULATED_COUNTERS + 1, f"horizon: must be <= {MAX_TABULATED_COUNTERS}, "
                                             f"got {MAX_TABULATED_COUNTERS + 1}", id="past-the-table"),
]


@pytest.mark.parametrize("horizon, message", BAD)
def test_a_bad_horizon_is_one_line_before_any_op(static_mode, horizon, message):
    main, startup = paddle.static.Program(), paddle.static.Program()
    spec = {"fn": "cosine_decay", "args": dict(REGISTRY["cosine_decay"].typical)}
    with paddle.static.program_guard(main, startup), pytest.raises(ConfigError) as caught:
        build(spec, horizon=horizon)
    assert str(caught.value) == message
    assert ir.op_names(main) == [] and ir.op_names(startup) == []


def test_noam_begins_at_one():
    spec = {"fn": "noam_decay", "args": dict(REGISTRY["noam_decay"].typical)}
    with pytest.raises(ConfigError, match=r"^horizon: must be >= 1, got 0$"):
        build(spec, horizon=0)


def test_dygraph_twin_ignores_the_horizon():
    spec = {"fn": "cosine_decay", "args": dict(REGISTRY["cosine_decay"].typical)}
    with_horizon, without = build(spec, horizon=3), build(spec)
    assert type(with_horizon) is type(without)
    for _ in range(6):  # past the horizon too: the twin computes every step
        assert with_horizon() == without(), f"step {with_horizon.last_epoch}"
        with_horizon.step()
        without.step()
