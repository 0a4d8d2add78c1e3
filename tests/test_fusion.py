"""``linear_lr_warmup`` over a branch-free lookup is one lookup: bit for bit the unfused graph's values.

The unfused graph (the ramp's table with the inner lr appended by ``concat``,
then a second lookup) is built by the same code with the merge turned off
(``tables.prepend`` returning None); both run side by side, step by step,
over the warmup, around every boundary and far past them.
"""
import numpy as np
import paddle
import pytest

from paddle_lr.graph import ir, tables
from paddle_lr.schedules.registry import REGISTRY, build, reference_values
from conftest import StaticRunner, first_mismatch


def _pw(boundaries, values):
    return {"fn": "piecewise_decay", "args": {"boundaries": boundaries, "values": values}}


def _warm(inner, warmup_steps, start_lr=0.01 / 3, end_lr=0.01):
    return {"fn": "linear_lr_warmup",
            "args": {"learning_rate": inner, "warmup_steps": warmup_steps, "start_lr": start_lr, "end_lr": end_lr}}


_SEED = {"fn": "exponential_with_warmup_decay",
         "args": {"learning_rate": 0.01, "boundaries": [6, 9], "values": [0.01, 0.001, 0.0001], "warmup_iter": 3,
                  "warmup_factor": 1 / 3}}
_BIG = 2 ** 24  # past it neighbouring counters share a float32: boundaries fire early and may merge

CASES = {
    "rcnn-1x": _warm(_pw([60000, 80000], [0.02, 0.002, 0.0002]), 500, 0.02 / 3, 0.02),
    "warmup-before-boundaries": _warm(_pw([6, 9], [0.01, 0.001, 0.0001]), 4),
    "warmup-on-a-boundary": _warm(_pw([4, 9], [0.01, 0.001, 0.0001]), 4),
    "warmup-covers-boundaries": _warm(_pw([2, 3, 9], [0.04, 0.03, 0.02, 0.01]), 5),
    "warmup-covers-all": _warm(_pw([2, 3], [0.03, 0.02, 0.01]), 7),
    "fractional-warmup": _warm(_pw([3, 5], [0.01, 0.001, 0.0001]), 2.5),
    "one-step-warmup": _warm(_pw([3], [0.01, 0.001]), 1),
    "boundaries-past-2**24": _warm(_pw([_BIG + 1, _BIG + 2, _BIG + 3, _BIG + 5], [0.5, 0.4, 0.3, 0.2, 0.1]), 3),
    "over-the-seed": _warm(_SEED, 5, 0.0, 0.02),
    "over-a-warmup": _warm(_warm(_pw([8, 12], [0.01, 0.001, 0.0001]), 6, 0.001, 0.01), 3, 0.0, 0.001),
}


def _edges(spec):
    """The steps where a lookup row changes: warmups and boundaries, nested ones included."""
    args = spec["args"]
    edges = [args.get("warmup_steps", args.get("warmup_iter", 0)), *args.get("boundaries", [])]
    inner = args.get("learning_rate")
    return edges + (_edges(inner) if isinstance(inner, dict) else [])


def _schedules(spec):
    """How many schedules ``spec`` nests (itself included)."""
    inner = spec["args"].get("learning_rate")
    return 1 + (_schedules(inner) if isinstance(inner, dict) else 0)


def _steps(spec):
    near = {int(np.floor(e)) + d for e in _edges(spec) for d in range(-3, 4)}
    far = {10 ** 6, _BIG - 1, _BIG, _BIG + 7, 2 ** 31 + 1, 2 ** 40}
    return sorted(s for s in near | far | set(range(8)) if s >= 0)


def _api(spec):
    """Built as user code builds it: the inner schedule first, by its public function, kept by the caller."""
    args = dict(spec["args"])
    inner = args["learning_rate"]
    if isinstance(inner, dict):
        inner = _api(inner)[0] if inner["fn"] == "linear_lr_warmup" else REGISTRY[inner["fn"]].build(**inner["args"])
    return REGISTRY[spec["fn"]].build(**{**args, "learning_rate": inner}), inner


def _values(r, fetch, steps):
    got = []
    for step in steps:
        r.jump_to(step)
        got.append([v[0] for v in r.run(fetch)])
    return np.asarray(got, dtype=np.float32).T


def _computed_ops(program):
    return [n.split(".")[-1].rstrip("_") for n in ir.op_names(program, nested=True, computed=True)]


@pytest.fixture
def unfused(static_mode, monkeypatch):
    """Build ``spec`` with the merge turned off: the ramp's table and the inner lr through ``concat``."""
    def make(spec):
        with monkeypatch.context() as patch:
            patch.setattr(tables, "prepend", lambda value, head: None)
            return StaticRunner(lambda: _api(spec))
    return make


@pytest.mark.parametrize("name", list(CASES))
def test_fused_is_the_unfused_graph_bit_for_bit(unfused, name):
    spec = CASES[name]
    steps = _steps(spec)
    before = unfused(spec)
    assert "concat" in _computed_ops(before.main)
    want_outer, want_inner = _values(before, before.outputs, steps)
    fused = StaticRunner(lambda: _api(spec))
    got_outer, got_inner = _values(fused, fused.outputs, steps)
    assert first_mismatch(steps, got_outer, want_outer.view(np.uint32)) is None, \
        first_mismatch(steps, got_outer, want_outer.view(np.uint32))
    # the inner lr the caller holds keeps its own values
    assert first_mismatch(steps, got_inner, want_inner.view(np.uint32)) is None, \
        first_mismatch(steps, got_inner, want_inner.view(np.uint32))
    from_spec = StaticRunner(lambda: build(spec))
    (got_spec,) = _values(from_spec, [from_spec.outputs], steps)
    assert first_mismatch(steps, got_spec, want_outer.view(np.uint32)) is None, \
        first_mismatch(steps, got_spec, want_outer.view(np.uint32))


@pytest.mark.parametrize("name", ["rcnn-1x", "boundaries-past-2**24"])
def test_fused_is_the_reference(static_mode, name):
    """Both against the float32 reference (fluid's ops in numpy), where the step is exact as a float32."""
    spec = CASES[name]
    steps = [s for s in _steps(spec) if s < _BIG]
    r = StaticRunner(lambda: build(spec))
    (got,) = _values(r, [r.outputs], steps)
    expected = reference_values(spec, steps).astype(np.float32).view(np.uint32)
    assert first_mismatch(steps, got, expected) is None, first_mismatch(steps, got, expected)


@pytest.mark.parametrize("name", list(CASES))
def test_one_lookup_per_run(static_mode, name):
    """Built by the registry (configs): one search, one select. By user code: each inner lr the caller holds
    keeps a select of its own (of the same row)."""
    spec = CASES[name]
    assert _computed_ops(StaticRunner(lambda: build(spec)).main) == ["increment", "searchsorted", "index_select"]
    assert _computed_ops(StaticRunner(lambda: _api(spec)).main) == [
        "increment", "searchsorted"] + ["index_select"] * _schedules(spec)


def test_released_tables_leave_the_program(static_mode):
    """The inner's own tables are not persistables of the registry's program (not saved, not rewritten)."""
    spec = CASES["warmup-before-boundaries"]
    r = StaticRunner(lambda: build(spec))
    assert len(tables.names(r.main)) == 2  # the merged thresholds and values
    assert sorted(tables.rewrite(r.main, r.scope)) == tables.names(r.main)


def test_no_warmup_is_the_inner_lr(static_mode):
    """warmup_steps=0 returns the inner lr itself: built from a spec it is kept, not released."""
    spec = _warm(_pw([3, 6], [0.1, 0.01, 0.001]), 0)
    r = StaticRunner(lambda: build(spec))
    steps = [0, 2, 3, 5, 6, 9]
    (got,) = _values(r, [r.outputs], steps)
    expected = reference_values(spec, steps).astype(np.float32).view(np.uint32)
    assert first_mismatch(steps, got, expected) is None, first_mismatch(steps, got, expected)
    assert _computed_ops(r.main) == ["increment", "searchsorted", "index_select"]


@pytest.mark.parametrize("inner", [
    pytest.param({"fn": "cosine_decay", "args": {"learning_rate": 0.1, "step_each_epoch": 2, "epochs": 5}},
                 id="cosine"),
    pytest.param({"fn": "piecewise_decay", "args": {"boundaries": [6, 9], "values": [0.01, 0.001, 0.0001],
                                                    "impl": "switch"}}, id="piecewise-switch"),
])
def test_other_lrs_are_appended(static_mode, inner):
    """An lr that is not a lookup is appended to the ramp's table, as before."""
    r = StaticRunner(lambda: build(_warm(inner, 4)))
    assert "concat" in _computed_ops(r.main)


def test_a_lookup_read_elsewhere_is_not_merged(static_mode):
    """When the inner's row has a reader other than selects the merge would change it: the ramp is appended."""
    def twice():
        inner = REGISTRY["piecewise_decay"].build([6, 9], [0.01, 0.001, 0.0001])
        row = ir.find_lookup(inner).row_value
        extra = paddle.cast(row, "float32")
        return REGISTRY["linear_lr_warmup"].build(inner, 4, 0.0, 0.01), extra
    r = StaticRunner(twice)
    assert "concat" in _computed_ops(r.main)
