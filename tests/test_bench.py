"""paddle-lr-bench: the record schema and the target arithmetic (never the times)."""
import json
import math

import pytest

from paddle_lr.tools import bench

KEYS = {"impl", "workload", "boundaries", "step_us", "build_ms", "first_run_ms", "ops", "runs", "isolated"}


def test_quick_json_records(capsys):
    assert bench.main(["--json", "--repeats", "2", "--boundaries", "2", "--quick"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {(r["impl"], r["workload"], r["boundaries"]) for r in records} == {
        (impl, workload, 0 if impl == "floor" else 2)
        for impl in bench.IMPLS
        for workload in bench.WORKLOADS
    }
    for r in records:
        assert set(r) == KEYS
        assert r["step_us"] > 0 and math.isfinite(r["step_us"])
        assert r["build_ms"] >= 0 and r["first_run_ms"] >= 0
        assert isinstance(r["ops"], int) and r["ops"] >= 0  # 2.6: lrscheduler bare has none
        assert 2 <= r["runs"] <= 2 * 5  # two rounds of at most five runs (quick)
    ops = {(r["impl"], r["workload"]): r["ops"] for r in records}
    assert ops[("branchless", "bare")] < ops[("switch", "bare")]


def test_large_programs_are_timed_on_their_own(monkeypatch):
    monkeypatch.setattr(bench, "ISOLATE_OPS", 40)
    records = bench.measure(["floor", "switch"], ["bare", "train"], [2], repeats=1, runs=2,
                            warmup_runs=1, round_budget_s=1.0)
    for r in records:
        assert r["isolated"] == (r["ops"] > 40)
        assert r["runs"] >= 1
    assert {r["isolated"] for r in records} == {False, True}


def _rec(impl, workload, boundaries, step_us):
    return dict(impl=impl, workload=workload, boundaries=boundaries, step_us=step_us)


def test_targets_are_ratios_of_the_records():
    records = [
        _rec("floor", "bare", 0, 100.0),
        _rec("switch", "bare", 2, 500.0),
        _rec("branchless", "bare", 2, 200.0),
        _rec("floor", "train", 0, 1000.0),
        _rec("branchless", "train", 2, 1200.0),
        _rec("lrscheduler", "train", 2, 1000.0),
    ]
    overhead, flat, train = bench.evaluate_targets(records)
    assert overhead[2:] == (pytest.approx(0.25), 0.25, True)
    assert flat[2:] == (None, 1.1, None)  # branchless at 1000 boundaries was not measured
    assert train[2:] == (pytest.approx(1.2), 1.1, False)


def test_table_names_every_target(capsys):
    records = [_rec("floor", "bare", 0, 100.0), _rec("branchless", "bare", 2, 120.0)]
    for r in records:
        r.update(build_ms=1.0, first_run_ms=1.0, ops=3, runs=1)
    table = bench.format_table(records, expected_runs=4)
    assert "(capped by the round budget)" in table
    assert table.count("n/a (not measured)") == len(bench.TARGETS)


def test_bad_arguments_exit_2(capsys):
    assert bench.main(["--repeats", "0"]) == 2
    assert bench.main(["--impls", "fast"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: paddle-lr-bench: ") for line in err)
