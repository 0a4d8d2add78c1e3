"""Property-based: lr_at equals both graph lowerings for random valid schedules and steps."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paddle_lr
from conftest import StaticRunner

schedules = st.fixed_dictionaries(
    dict(
        learning_rate=st.floats(1e-5, 1.0),
        boundaries=st.lists(st.integers(1, 2 ** 25), min_size=0, max_size=5, unique=True).map(sorted),
        lr_gamma=st.floats(0.01, 1.0),
        warmup_iter=st.one_of(st.just(0), st.integers(1, 5000), st.floats(0.5, 5000.0)),
        warmup_factor=st.floats(0.0, 1.0),
    )
)


@pytest.mark.usefixtures("static_mode")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=schedules, probes=st.lists(st.integers(0, 2 ** 25 + 8), min_size=1, max_size=6))
def test_graph_equals_lr_at(schedule, probes):
    args = dict(schedule)
    gamma = args.pop("lr_gamma")
    args["values"] = paddle_lr.boundary_values(args["learning_rate"], gamma, len(args["boundaries"]))
    # Aim some probes at the edges, where a lowering would go wrong first.
    edges = [int(args["warmup_iter"]), *args["boundaries"]]
    steps = sorted(set(probes) | {max(0, e + d) for e in edges for d in (-1, 0, 1)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)
        r = StaticRunner(lambda: [paddle_lr.exponential_with_warmup_decay(**args, impl=impl)
                                  for impl in ("switch", "branchless")])
    for step in steps:
        r.jump_to(step)
        switch, branchless = (v[0] for v in r.run(r.outputs))
        expected = paddle_lr.lr_at(step, **args)
        for name, got in (("switch", switch), ("branchless", branchless)):
            assert got.view(np.uint32) == expected.view(np.uint32), (
                f"{name} at step {step}: graph {got!r} != lr_at {expected!r} for {args}")
