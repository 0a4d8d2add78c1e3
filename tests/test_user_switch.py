"""Fluid-era hand-written Switch schedules, ported by changing names alone, give fluid's values.

The schedules (docs/porting.md's example and tests/data/fluid_bodies/*.txt) are kept in
fluid 1.x spelling; the test ports them with the name table of docs/porting.md
and runs them. On paddlepaddle 2.6.2 the fluid spelling also runs as written,
with ``fluid`` bound to Paddle 2.6.2's own implementations (the originals),
and both must agree bit for bit. On both versions the port must match the
values recorded from the originals (tests/data/user_switch_traces.json): bit
for bit, or within 1 ulp where the body calls ``cos``/``pow`` (3.x's kernels).
The published repositories' bodies are ported by paddle-lr-port and compared with fluid 1.8.5
itself in tests/test_port_published.py.
"""
import numpy as np
import paddle
import pytest

import paddle_lr
import userswitchkit as kit

GOLDEN = {case["name"]: case for case in kit.load_golden()["cases"]}
ON_2X = paddle.__version__.startswith("2.")


def values(name, ported):
    if name == "docs_linear_warmup_decay":
        return kit.doc_values(ported)
    return kit.trace(name, ported)


def ulps(a, b):
    """Distance in float32 units in the last place (same-sign finite values)."""
    a, b = np.asarray(a, np.float32).view(np.int32), np.asarray(b, np.float32).view(np.int32)
    return np.abs(a.astype(np.int64) - b.astype(np.int64))


def first_difference(got, expected, what):
    bad = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    if bad.size == 0:
        return None
    i = bad[0]
    return (f"{what}: {bad.size} of {got.size} steps differ; first at step {i}: got {got[i]!r} "
            f"(0x{got.view(np.uint32)[i]:08x}), expected {expected[i]!r} (0x{expected.view(np.uint32)[i]:08x})")


CASE_IDS = list(GOLDEN)


def test_the_docs_after_is_the_port_of_the_before():
    before, after = kit.doc_block("before"), kit.doc_block("after")
    assert kit.port(before) == after, "docs/porting.md: the after block is not the before block with names replaced"
    assert "fluid" not in after


def test_every_fluid_name_of_the_examples_is_in_the_table():
    ported = kit.port("\n".join(kit.sources().values()))
    left = sorted({line.strip() for line in ported.splitlines() if "fluid." in line})
    assert left == [], f"fluid names the table does not port: {left}"


@pytest.mark.parametrize("name", CASE_IDS)
def test_golden_was_recorded_from_these_sources(name):
    assert GOLDEN[name]["digest"] == kit.digest(kit.sources()[name]), (
        f"{name}: its fluid source changed since tests/data/user_switch_traces.json was recorded; "
        "re-record with, in a paddlepaddle 2.6.2 environment: GLOG_minloglevel=2 python tools/record_user_switch_golden.py")


@pytest.mark.parametrize("name", CASE_IDS)
def test_ported_schedule_gives_fluids_values(name):
    case = GOLDEN[name]
    expected = kit.decode(case["trace"], case["steps"])
    got = values(name, ported=True)
    assert got.shape == expected.shape
    if ON_2X or not case["pow_cos"]:
        problem = first_difference(got, expected, f"{name} ported vs fluid (recorded on 2.6.2)")
        assert problem is None, problem
    else:
        # Bit for bit before the cos/pow branch runs; after it, 3.x's kernel may be one ulp off
        # (an ulp of at most 2**-23 once the body adds 1, as cosine decay does), times the lr.
        head = case["kernel_from"]
        problem = first_difference(got[:head], expected[:head], f"{name} before its {case['pow_cos']} steps")
        assert problem is None, problem
        bound = case["learning_rate"] * 2.0 ** -23
        error = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        step = int(error.argmax())
        assert error[step] <= bound, (
            f"{name}: step {step}: got {got[step]!r}, fluid's {expected[step]!r}, off by {error[step]:.3g} "
            f"({int(ulps(got, expected)[step])} ulp) > learning_rate * 2**-23 = {bound:.3g}")
    assert len(set(got.tolist())) > 2, f"{name}: the schedule hardly changes; the case tests little"


@pytest.mark.skipif(not ON_2X, reason="the originals are Paddle 2.6.2's (fluid's names are gone from 3.x)")
@pytest.mark.parametrize("name", CASE_IDS)
def test_ported_schedule_equals_the_original_built_now(name):
    original = values(name, ported=False)
    ported = values(name, ported=True)
    problem = first_difference(ported, original, f"{name} ported vs the original (paddle {paddle.__version__})")
    assert problem is None, problem


def test_ported_schedule_keeps_fluids_persistables():
    """The ported BERT schedule saves its lr under fluid's name, beside the decay counter."""
    paddle.enable_static()
    try:
        namespace = {}
        exec(compile(kit.port(kit.doc_block("before")).split("\nmain, startup")[0], "<ported>", "exec"), namespace)
        main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
            namespace["linear_warmup_decay"](0.1, 4, 10)
        saved = paddle_lr.graph.ir.persistables(main)
    finally:
        paddle.disable_static()
    assert saved["scheduled_learning_rate"] == ((1,), "float32"), saved
    assert saved["@LR_DECAY_COUNTER@"] == ((1,), "int64"), saved
