"""Property-based: every registered schedule's graph against its reference, over random arguments and steps.

The arguments are drawn by their kind (each record's ``kinds``: a learning rate,
steps, boundaries and one value per piece, a real, a flag); a draw the
schedule's own check refuses is rejected, and ``learning_rate`` is at times
another schedule (fluid's composition: absolute steps) where the check takes one.
Each schedule of a drawn spec (an inner one of a composition too) is checked
as in the golden test (``familykit.check_nodes``): bit for bit where it calls
no exp/cos/pow; otherwise bit for bit against its own ops run eagerly and
against the reference with the running Paddle's kernels, and those kernels
within 1 ulp of the C library's on 3.x (0 on 2.x). A schedule with lowerings
runs under each of them (``switch``, ``branchless``), bit for bit the same
reference. The probes include the steps around every boundary, warmup end and
period, and steps past 2**24 (float32's comparison quirks).
"""
import inspect
import os
import warnings

import numpy as np
import paddle
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import paddle_lr
from conftest import StaticRunner
from familykit import check_nodes, composes, run_graph, twin_of, with_impl
from paddle_lr.schedules.lowerings import IMPLS
from paddle_lr.schedules.registry import ARG_KINDS, REGISTRY, check_spec, counter_begin, reference_values

# Small in the default run; FAMILY_EXAMPLES=200 python -m pytest tests/test_family_properties.py for a sweep.
EXAMPLES_PER_SCHEDULE = int(os.environ.get("FAMILY_EXAMPLES", "8"))
LOWERINGS = [impl for impl in IMPLS if impl != "auto"]
MAX_PROBE = 2 ** 25 + 8

# One strategy per argument kind (registry.ARG_KINDS) but "impl", which is not drawn (every lowering
# runs); "values" are drawn one per piece of the boundaries.
KINDS = {
    "lr": st.one_of(st.just(0.0), st.floats(1e-5, 1.0)),
    "steps": st.one_of(st.integers(0, 100_000), st.floats(0.5, 100_000.0)),
    "real": st.floats(0.0, 3.0, allow_subnormal=False),
    "flag": st.booleans(),
    "boundaries": st.lists(st.integers(1, 2 ** 25), min_size=0, max_size=5, unique=True).map(sorted),
    "values": st.floats(0.0, 1.0, allow_subnormal=False),
}


@st.composite
def specs(draw, name, inner=None):
    """A spec of ``name`` with valid arguments drawn by kind; ``inner``: a strategy for ``learning_rate``."""
    schedule = REGISTRY[name]
    defaults = inspect.signature(schedule.build).parameters
    args = {}
    for arg in schedule.args_of_kind("boundaries"):
        args[arg] = draw(KINDS["boundaries"], label=arg)
    pieces = len(next(iter(args.values()), [])) + 1
    for arg, kind in schedule.kinds.items():
        if kind in ("boundaries", "impl"):
            continue
        if kind == "values":
            drawn = st.lists(KINDS["values"], min_size=pieces, max_size=pieces)
        elif arg == "learning_rate" and inner is not None and composes(name):
            drawn = st.one_of(KINDS[kind], inner)
        else:
            drawn = KINDS[kind]
        if defaults[arg].default is None:
            drawn = st.one_of(st.none(), drawn)
        args[arg] = draw(drawn, label=arg)
    spec = {"fn": name, "args": args}
    try:
        check_spec(spec)
    except paddle_lr.ConfigError:
        reject()
    return spec


def strategy(name):
    """Specs of ``name``: at times over another schedule (one level) where ``learning_rate`` may be one."""
    return specs(name, st.one_of(*(specs(other) for other in REGISTRY)))


def edges(spec):
    """Steps where a lowering would go wrong first: boundaries, warmup ends, periods, and their neighbours."""
    args = spec["args"]
    schedule = REGISTRY[spec["fn"]]
    points = [b for arg in schedule.args_of_kind("boundaries") for b in args[arg]]
    for arg in schedule.args_of_kind("steps"):
        if args.get(arg) is not None:
            points += [int(args[arg]), int(2 * args[arg]), int(np.ceil(args[arg]))]
    inner = args.get("learning_rate")
    if isinstance(inner, dict):
        points += edges(inner)
    return [p + d for p in points for d in (-1, 0, 1)]


def test_every_kind_has_a_strategy():
    assert set(KINDS) | {"impl"} == set(ARG_KINDS)


_SETTINGS = settings(max_examples=EXAMPLES_PER_SCHEDULE, deadline=None,
                     suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@pytest.mark.parametrize("name", list(REGISTRY))
@_SETTINGS
@given(data=st.data())
def test_graph_equals_reference(name, data):
    spec = data.draw(strategy(name), label="spec")
    probes = data.draw(st.lists(st.integers(0, MAX_PROBE), min_size=1, max_size=6), label="probes")
    begin = counter_begin(spec)
    steps = np.array(sorted({s for s in [begin, begin + 1, *probes, *edges(spec)] if s >= begin}))
    errors = []
    paddle.enable_static()
    try:
        for impl in LOWERINGS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)
                nodes, values = run_graph(StaticRunner, with_impl(spec, impl), steps)
            errors += check_nodes(f"{name} ({impl})", nodes, values, steps)
            if spec == with_impl(spec, impl):  # no schedule of the spec has lowerings: one run
                break
    finally:
        paddle.disable_static()
    assert not errors, "\n".join(errors) + f"\nspec: {spec}"


@pytest.mark.parametrize("name", list(REGISTRY))
@_SETTINGS
@given(data=st.data())
def test_twin_is_the_reference_run_by_run(name, data):
    """The dygraph twin after k steps is the reference at begin + k (jumping with step(epoch) too)."""
    spec = data.draw(strategy(name), label="spec")
    jump = data.draw(st.integers(0, 2 ** 20), label="jump")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", paddle_lr.ScheduleWarning)  # a drawn warmup may cover boundaries
        twin = twin_of(spec)
    begin = counter_begin(spec)
    got = [twin()]
    twin.step()
    got.append(twin())
    twin.step(jump)
    got.append(twin())
    expected = reference_values(spec, [begin, begin + 1, begin + jump])
    assert np.asarray(got, np.float32).view(np.uint32).tolist() == expected.view(np.uint32).tolist(), spec
