"""Property-based: every registered schedule's graph against its reference, over random arguments and steps.

Each schedule of a drawn spec (an inner one of a composition too) is checked
as in the golden test (``familykit.check_nodes``): bit for bit where it calls
no exp/cos/pow; otherwise bit for bit against its own ops run eagerly and
against the reference with the running Paddle's kernels, and those kernels
within 1 ulp of the C library's on 3.x (0 on 2.x). The probes include the
steps around every boundary, warmup end and period.
"""
import os
import warnings

import numpy as np
import paddle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paddle_lr
from conftest import StaticRunner
from familykit import check_nodes, run_graph, twin_of
from paddle_lr.schedules.registry import REGISTRY, counter_begin, reference_values

# Small in the default run; FAMILY_EXAMPLES=200 python -m pytest tests/test_family_properties.py for a sweep.
EXAMPLES_PER_SCHEDULE = int(os.environ.get("FAMILY_EXAMPLES", "8"))

lr = st.floats(1e-5, 1.0)
steps_count = st.one_of(st.integers(1, 100_000), st.floats(0.5, 100_000.0))


def spec(fn, **args):
    return st.fixed_dictionaries(args).map(lambda a: {"fn": fn, "args": a})


boundaries = st.lists(st.integers(1, 2 ** 22), min_size=1, max_size=5, unique=True).map(sorted)

STRATEGIES = {
    "piecewise_decay": boundaries.flatmap(lambda b: spec(
        "piecewise_decay", boundaries=st.just(b),
        values=st.lists(st.floats(0.0, 1.0), min_size=len(b) + 1, max_size=len(b) + 1))),
    "exponential_decay": spec("exponential_decay", learning_rate=lr, decay_steps=steps_count,
                              decay_rate=st.floats(0.01, 2.0), staircase=st.booleans()),
    "natural_exp_decay": spec("natural_exp_decay", learning_rate=lr, decay_steps=steps_count,
                              decay_rate=st.floats(0.0, 2.0), staircase=st.booleans()),
    "inverse_time_decay": spec("inverse_time_decay", learning_rate=lr, decay_steps=steps_count,
                               decay_rate=st.floats(0.0, 5.0), staircase=st.booleans()),
    "polynomial_decay": spec("polynomial_decay", learning_rate=lr, decay_steps=st.integers(1, 100_000),
                             end_learning_rate=st.floats(0.0, 1e-3), power=st.floats(0.0, 3.0),
                             cycle=st.booleans()),
    "cosine_decay": spec("cosine_decay", learning_rate=lr, step_each_epoch=st.integers(1, 5000),
                         epochs=st.integers(1, 300)),
    "noam_decay": spec("noam_decay", d_model=st.integers(1, 4096), warmup_steps=st.integers(1, 100_000),
                       learning_rate=st.floats(1e-3, 10.0)),
    "exponential_with_warmup_decay": boundaries.flatmap(lambda b: spec(
        "exponential_with_warmup_decay", learning_rate=lr, boundaries=st.just(b),
        values=st.lists(st.floats(0.0, 1.0), min_size=len(b) + 1, max_size=len(b) + 1),
        warmup_iter=st.one_of(st.just(0), st.integers(1, 5000)), warmup_factor=st.floats(0.0, 1.0))),
    "cosine_decay_with_skip": st.integers(1, 2 ** 22).flatmap(lambda total: spec(
        "cosine_decay_with_skip", learning_rate=lr, total_steps=st.just(total),
        skip_steps=st.one_of(st.none(), st.integers(0, total - 1)))),
}
# The warmup, over a number or over any other schedule (fluid's composition: absolute steps).
_inner = st.one_of(lr, *(STRATEGIES[name] for name in STRATEGIES if name != "exponential_with_warmup_decay"))
STRATEGIES["linear_lr_warmup"] = spec("linear_lr_warmup", learning_rate=_inner,
                                      warmup_steps=st.one_of(st.just(0), st.integers(1, 100_000)),
                                      start_lr=st.floats(0.0, 1.0), end_lr=st.floats(0.0, 1.0))


def edges(spec):
    """Steps where a lowering would go wrong first: boundaries, warmup ends, periods, and their neighbours."""
    args = spec["args"]
    points = list(args.get("boundaries", []))
    for key in ("warmup_steps", "warmup_iter", "decay_steps", "step_each_epoch", "total_steps", "skip_steps"):
        if args.get(key) is not None:
            points += [int(args[key]), int(2 * args[key]), int(np.ceil(args[key]))]
    inner = args.get("learning_rate")
    if isinstance(inner, dict):
        points += edges(inner)
    return [p + d for p in points for d in (-1, 0, 1)]


def test_every_schedule_has_a_strategy():
    assert set(STRATEGIES) == set(REGISTRY)


@pytest.mark.parametrize("name", list(REGISTRY))
@settings(max_examples=EXAMPLES_PER_SCHEDULE, deadline=None)
@given(data=st.data())
def test_graph_equals_reference(name, data):
    spec = data.draw(STRATEGIES[name], label="spec")
    probes = data.draw(st.lists(st.integers(0, 2 ** 22), min_size=1, max_size=6), label="probes")
    begin = counter_begin(spec)
    steps = np.array(sorted({s for s in [begin, begin + 1, *probes, *edges(spec)] if s >= begin}))
    paddle.enable_static()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)
            nodes, values = run_graph(StaticRunner, spec, steps)
        errors = check_nodes(name, nodes, values, steps)
    finally:
        paddle.disable_static()
    assert not errors, "\n".join(errors) + f"\nspec: {spec}"


@pytest.mark.parametrize("name", list(REGISTRY))
@settings(max_examples=EXAMPLES_PER_SCHEDULE, deadline=None)
@given(data=st.data())
def test_twin_is_the_reference_run_by_run(name, data):
    """The dygraph twin after k steps is the reference at begin + k (jumping with step(epoch) too)."""
    spec = data.draw(STRATEGIES[name], label="spec")
    jump = data.draw(st.integers(0, 2 ** 20), label="jump")
    twin = twin_of(spec)
    begin = counter_begin(spec)
    got = [twin()]
    twin.step()
    got.append(twin())
    twin.step(jump)
    got.append(twin())
    expected = reference_values(spec, [begin, begin + 1, begin + jump])
    assert np.asarray(got, np.float32).view(np.uint32).tolist() == expected.view(np.uint32).tolist(), spec
