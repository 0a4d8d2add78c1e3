"""paddle-lr-bench: the record schema, the watched child processes and the target arithmetic (never the times)."""
import json
import math
import os
import pathlib
import sys

import pytest

from paddle_lr.bench import cases, harness, report
from paddle_lr.graph import ir
from paddle_lr.tools import bench

KEYS = {"impl", "workload", "boundaries", "step_us", "build_ms", "first_run_ms", "ops", "key_us", "runs", "isolated",
        "instance_step_us", "place", "profile", "paddle", "process_peak_mb"}
SCALE_KEYS = KEYS - {"instance_step_us", "profile", "process_peak_mb"} | {"peak_rss_mb", "watched_peak_mb", "threads",
                                                                          "killed", "wall_s"}


def test_quick_json_records(capsys):
    assert bench.main(["--json", "--repeats", "2", "--boundaries", "2", "--quick"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {(r["impl"], r["workload"], r["boundaries"]) for r in records} == {
        (impl, workload, 0 if cases.boundless(impl) else 2)
        for impl in bench.IMPLS
        if cases.available(impl)
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
    assert ops[("pw_branchless", "bare")] < ops[("pw_switch", "bare")]
    assert ops[("auto", "bare")] == ops[("branchless", "bare")]  # the default is the lookup
    assert ops[("wpw_auto", "bare")] == ops[("wpw_branchless", "bare")]
    keys = {(r["impl"], r["workload"]): r["key_us"] for r in records}
    assert all(k > 0 for k in keys.values()), keys
    if ir.is_pir():  # the program printed every run: the Switch's text costs more than the lookup's
        assert keys[("switch", "bare")] > keys[("branchless", "bare")], keys


def test_fluid_originals_only_where_they_build():
    from paddle_lr.graph import ir

    assert cases.available("pw_fluid") is not ir.is_pir()
    assert all(cases.available(impl) for impl in cases.IMPLS if not impl.endswith("_fluid"))


def test_instances_pool_their_runs(capsys):
    assert bench.main(["--json", "--impls", "floor", "pw_branchless", "--workloads", "bare", "--boundaries", "2",
                       "--instances", "3", "--repeats", "2", "--runs", "2"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["impl"], r["boundaries"]) for r in records] == [("floor", 0), ("pw_branchless", 2)]
    for r in records:
        assert len(r["instance_step_us"]) == 3 and r["runs"] == 3 * 2 * 2, r
        assert min(r["instance_step_us"]) <= r["step_us"] <= max(r["instance_step_us"])
    records[1].update(instance_step_us=[90.0, 100.0, 110.0], step_us=100.0)
    table = report.format_table(records, expected_runs=12)
    assert table.splitlines()[1].endswith(" spread") and " 20.0%" in table.splitlines()[3], table


def test_profile_counts_what_the_executor_runs(capsys):
    assert bench.main(["--json", "--impls", "floor", "branchless", "pw_switch", "pw_branchless", "--workloads", "bare",
                       "--boundaries", "2", "--repeats", "1", "--runs", "2", "--profile", "4"]) == 0
    prof = {r["impl"]: r["profile"] for r in json.loads(capsys.readouterr().out)}
    # increment + cast, and increment + searchsorted + index_select, each with the fetch
    assert (prof["floor"]["ops"], prof["branchless"]["ops"], prof["pw_branchless"]["ops"]) == (3.0, 4.0, 4.0)
    assert prof["pw_switch"]["ops"] > prof["pw_branchless"]["ops"]
    for p in prof.values():
        assert p["runs"] == 4 and p["kernels"] == 0.0 and p["copies"] == {}, p  # the CPU place: no device
        assert sum(p["ops_by_type"].values()) == p["ops"], p
    assert sorted(n.split(".")[-1].rstrip("_") for n in prof["pw_branchless"]["ops_by_type"]) == [
        "fetch" if ir.is_pir() else "fetch_v2", "increment", "index_select", "searchsorted"]


def test_a_profile_child_that_is_stopped_is_reported():
    prof = harness.profile_one("floor", "bare", 0, runs=2, memory_limit_mb=20)
    assert prof == {"error": "resident memory past 20 MB"}
    record = dict(_rec("floor", "bare", 0, 100.0), build_ms=1.0, first_run_ms=1.0, ops=3, runs=1, profile=prof)
    assert "(profile: resident memory past 20 MB)" in report.format_table([record], expected_runs=1)


def test_place_gpu_needs_a_cuda_build(capsys):
    import paddle

    if paddle.is_compiled_with_cuda():
        pytest.skip("a CUDA build: --place gpu is available")
    assert bench.main(["--place", "gpu"]) == 2
    assert capsys.readouterr().err == (
        "error: --place: gpu needs a CUDA build of Paddle and a visible GPU; this Paddle is a CPU build\n")


def test_large_programs_are_timed_on_their_own(monkeypatch):
    monkeypatch.setattr(harness, "ISOLATE_OPS", 40)
    records = harness.measure(["floor", "switch"], ["bare", "train"], [2], repeats=1, runs=2,
                              warmup_runs=1, round_budget_s=1.0)
    for r in records:
        assert r["isolated"] == (r["ops"] > 40)
        assert r["runs"] >= 1
    assert {r["isolated"] for r in records} == {False, True}


def test_scale_runs_each_case_in_a_watched_child():
    records = harness.scale(["branchless", "pw_switch"], [3, 5], memory_limit_mb=4000, timeout_s=300, timed_runs=2)
    assert [(r["impl"], r["boundaries"]) for r in records] == [
        ("branchless", 3), ("branchless", 5), ("pw_switch", 3), ("pw_switch", 5)]
    for r in records:
        assert set(r) == SCALE_KEYS, set(r) ^ SCALE_KEYS
        assert r["killed"] is None, r["killed"]
        assert r["peak_rss_mb"] > 50 and r["watched_peak_mb"] <= r["peak_rss_mb"] + 1
        assert r["runs"] == 2 and r["first_run_ms"] > 0 and r["threads"] >= 1
    assert records[0]["ops"] == records[1]["ops"], "branch-free: the same ops at any count"
    assert records[2]["ops"] < records[3]["ops"], "switch: ops grow with the cases"


def test_scale_runs_a_schedule_without_boundaries_once():
    records = harness.scale(["cosine_decay"], [3, 5], memory_limit_mb=4000, timeout_s=300, timed_runs=2)
    assert [(r["impl"], r["boundaries"], r["killed"]) for r in records] == [("cosine_decay", 0, None)]
    assert "cosine_decay" in bench.SCALE_IMPLS and "cosine_decay_fluid" in bench.SCALE_IMPLS


def test_scale_kills_a_child_past_the_memory_limit_and_skips_larger_counts():
    records = harness.scale(["branchless"], [3, 5], memory_limit_mb=20, timeout_s=300, timed_runs=1)
    first, second = records
    assert first["killed"] == "resident memory past 20 MB", first
    assert first["step_us"] is None and first["watched_peak_mb"] > 20
    assert second["killed"].startswith("not run (3 was stopped: resident memory past 20 MB")
    table = report.format_scale(records)
    assert "resident memory past 20 MB (at" in table and table.count("\n") == 2


def _rec(impl, workload, boundaries, step_us):
    return dict(impl=impl, workload=workload, boundaries=boundaries, step_us=step_us)


def test_targets_are_ratios_of_the_records():
    records = [
        _rec("floor", "bare", 0, 100.0),
        _rec("switch", "bare", 2, 500.0),
        _rec("branchless", "bare", 2, 120.0),
        _rec("floor", "train", 0, 1000.0),
        _rec("branchless", "train", 2, 1200.0),
        _rec("lrscheduler", "train", 2, 1000.0),
        _rec("pw_fluid", "bare", 2, 600.0),
        _rec("pw_auto", "bare", 2, 540.0),
        _rec("pw_branchless", "bare", 2, 260.0),
    ]
    got = {name: (ratio, bound, passed) for name, _, ratio, bound, passed in bench.evaluate_targets(records)}
    assert got["overhead(branchless) / overhead(switch) @2"] == (pytest.approx(0.05), 0.10, True)
    assert got["step(branchless@1000) / step(branchless@2)"] == (None, 1.1, None)  # not measured
    assert got["step(branchless) / step(lrscheduler) @2"] == (pytest.approx(1.2), 1.1, False)
    assert got["step(pw_auto) / step(pw_fluid) @2"] == (pytest.approx(0.9), 1.0, True)
    assert got["overhead(pw_branchless) / overhead(pw_fluid) @2"] == (pytest.approx(0.32), 0.3, False)
    assert got["step(wpw_auto) / step(wpw_fluid) @2"][0] is None
    assert len(got) == len(bench.TARGETS)


@pytest.mark.parametrize("name", sorted(cases.ARITHMETIC))
def test_arithmetic_schedules_compare_with_paddles_own(name):
    records = [_rec("floor", "bare", 0, 100.0), _rec(name, "bare", 0, 150.0), _rec(f"{name}_fluid", "bare", 0, 200.0)]
    assert report.evaluate_comparisons(records) == [
        (f"step({name}) / step({name}_fluid)", "bare", pytest.approx(0.75), None, None)]
    for r in records:
        r.update(build_ms=1.0, first_run_ms=1.0, ops=7, runs=4)
    table = report.format_table(records, expected_runs=4)
    assert table.endswith(f"step({name}) / step({name}_fluid)  0.750"), table


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


@pytest.mark.parametrize("argv, message", [
    (["--boundaries", "0"], "--boundaries: must be >= 1, got 0"),
    (["--boundaries", "100000000"], "--boundaries: must be <= 10000, got 100000000"),
    (["--scale", "--boundaries", "20000"], "--boundaries: must be <= 10000, got 20000"),
    (["--instances", "0"], "--instances: must be >= 1, got 0"),
    (["--instances", "1000000"], "--instances: must be <= 100, got 1000000"),
    (["--profile", "-1"], "--profile: must be >= 0, got -1"),
    (["--scale", "--memory-limit-mb", "0"], "--memory-limit-mb: must be > 0, got 0.0"),
    (["--scale", "--timeout-s", "nan"], "--timeout-s: must be finite, got nan"),
    (["--scale", "--timeout-s", "inf"], "--timeout-s: must be finite, got inf"),
], ids=["boundaries-0", "boundaries-1e8", "scale-boundaries-2e4", "instances-0", "instances-1e6", "profile-negative",
        "memory-limit-0", "timeout-nan", "timeout-inf"])
def test_counts_out_of_range_exit_2_before_building(capsys, argv, message):
    assert bench.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n" and "building" not in captured.err


# -- --fluid: the same configurations on fluid 1.8.5, in a child process ----------------------------

def _fluid_python():
    """fluid 1.8.5's Python: $PADDLE_LR_FLUID_PYTHON, or CI's .ci/venv-fluid185; None when neither is there."""
    candidates = [os.environ.get("PADDLE_LR_FLUID_PYTHON"), pathlib.Path(__file__).parents[1] / ".ci/venv-fluid185/bin/python"]
    return next((str(c) for c in candidates if c and pathlib.Path(c).is_file()), None)


FLUID_PY = _fluid_python()
needs_fluid = pytest.mark.skipif(FLUID_PY is None, reason="no fluid 1.8.5 Python ($PADDLE_LR_FLUID_PYTHON, .ci/venv-fluid185)")


@needs_fluid
def test_fluid_records_follow_in_the_same_run(capsys):
    assert bench.main(["--json", "--impls", "floor", "auto", "switch", "pw_auto", "wpw_auto", "cosine_decay",
                       "lrscheduler", "--workloads", "bare", "--boundaries", "2", "--repeats", "2", "--runs", "3",
                       "--fluid", FLUID_PY, "--profile", "4"]) == 0
    records = json.loads(capsys.readouterr().out)
    fluid = {r["impl"]: r for r in records if r["impl"].startswith("fluid185_")}
    assert list(fluid) == ["fluid185_floor", "fluid185_seed", "fluid185_pw", "fluid185_wpw", "fluid185_cosine_decay"]
    for r in records:
        assert set(r) == KEYS, set(r) ^ KEYS
    for r in fluid.values():
        assert r["paddle"] == "1.8.5" and r["workload"] == "bare" and r["place"] == "cpu"
        assert 2 <= r["runs"] <= 2 * 3 and r["step_us"] > 0 and len(r["instance_step_us"]) == 1
    assert [fluid[k]["boundaries"] for k in fluid] == [0, 2, 2, 2, 0]
    # fluid 1.8.5's own graphs, sub-blocks included: piecewise_decay at 2 boundaries is increment, cast,
    # 5 fill_constant, 2 less_than, 2 logical_not, 2 logical_and, 3 conditional_block, 3 assign
    assert fluid["fluid185_pw"]["ops"] == 19
    prof = fluid["fluid185_pw"]["profile"]
    # per run: one of the three assigns, and the fetch
    assert prof["ops"] == 18.0 and prof["copies"] == {} and prof["ops_by_type"]["assign"] == 1.0, prof
    assert fluid["fluid185_floor"]["profile"]["ops_by_type"] == {"increment": 1.0, "cast": 1.0, "fetch": 1.0}
    rows = {r["impl"]: r for r in report.fluid_ratios(records)}
    assert set(rows) == {"auto", "switch", "pw_auto", "wpw_auto", "cosine_decay"}  # lrscheduler has no fluid twin
    assert [k for k, r in rows.items() if r["default"]] == ["auto", "pw_auto", "wpw_auto", "cosine_decay"]


def test_a_fluid_python_that_is_not_fluid_is_one_line(capsys):
    """This very Python has no paddle.fluid: the child exits, and the bench says so in one line (exit 2)."""
    assert bench.main(["--impls", "floor", "--workloads", "bare", "--repeats", "1", "--runs", "1",
                       "--fluid", sys.executable]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[:-1] == [f"building fluid 1.8.5's configurations with {sys.executable}"], err
    assert err.splitlines()[-1].startswith("error: --fluid: the fluid child exited with status 1 ("), err
    assert "No module named 'paddle.fluid'" in err, err


def test_a_fluid_python_that_is_not_there_is_one_line(capsys, tmp_path):
    assert bench.main(["--impls", "floor", "--repeats", "1", "--fluid", str(tmp_path / "python3.8")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: --fluid: cannot run {tmp_path / 'python3.8'}: No such file or directory")


def test_fluid_does_not_apply_to_scale(capsys):
    assert bench.main(["--scale", "--fluid", sys.executable]) == 2
    assert capsys.readouterr().err == "error: --fluid: compares the timing mode's overheads; it does not apply to --scale\n"


@needs_fluid
def test_a_fluid_child_past_the_memory_limit_is_stopped():
    from paddle_lr.bench import fluid

    with pytest.raises(fluid.FluidError, match=r"^--fluid: the fluid child passed 20 MB resident and was stopped"):
        fluid.FluidChild(FLUID_PY, fluid.specs(["floor"], ["bare"], [2]), 1, 1, 0.1, 1, memory_limit_mb=20)


def test_fluid_specs_are_the_bench_schedules():
    from paddle_lr.bench import fluid

    specs = fluid.specs(["floor", "switch", "auto", "pw_branchless", "wpw_auto", "lrscheduler", "pw_fluid", "noam_decay"],
                        ["bare", "train"], [2, 10])
    assert [(s["impl"], s["workload"], s["boundaries"]) for s in specs][:7] == [
        ("fluid185_floor", "bare", 0), ("fluid185_seed", "bare", 2), ("fluid185_seed", "bare", 10),
        ("fluid185_pw", "bare", 2), ("fluid185_pw", "bare", 10), ("fluid185_wpw", "bare", 2),
        ("fluid185_wpw", "bare", 10)]
    seed = specs[1]
    bounds, values = cases.schedule(2)
    assert seed["schedule"] == "seed" and seed["args"] == dict(
        learning_rate=cases.LR, boundaries=bounds, values=[float(v) for v in values], warmup_iter=cases.WARMUP,
        warmup_factor=cases.WARMUP_FACTOR)
    assert specs[7] == dict(impl="fluid185_noam_decay", workload="bare", boundaries=0, schedule="noam_decay",
                            args=cases.ARITHMETIC["noam_decay"], train=None)
    train = next(s for s in specs if s["workload"] == "train")
    x, label = cases.train_feed()
    assert train["train"]["x"] == x.tolist() and train["train"]["label"] == label.tolist()
    json.dumps(specs)  # plain data for the child


def _fluid_rec(impl, step_us):
    return dict(_rec(impl, "bare", 0 if impl.endswith(("floor", "cosine_decay")) else 2, step_us))


def test_ratios_to_fluid_and_the_check():
    records = [_rec("floor", "bare", 0, 200.0), _rec("auto", "bare", 2, 220.0), _rec("switch", "bare", 2, 800.0),
               _rec("cosine_decay", "bare", 0, 400.0),
               _fluid_rec("fluid185_floor", 50.0), _fluid_rec("fluid185_seed", 150.0),
               _fluid_rec("fluid185_cosine_decay", 60.0)]
    rows = {r["impl"]: r for r in report.fluid_ratios(records)}
    assert rows["auto"]["ratio"] == pytest.approx(0.2) and rows["auto"]["default"]
    assert rows["switch"]["ratio"] == pytest.approx(6.0) and not rows["switch"]["default"]
    assert rows["cosine_decay"]["ratio"] == pytest.approx(20.0)
    assert report.fluid_check(list(rows.values())) is False
    assert report.fluid_check([rows["auto"], rows["switch"]]) is True
    assert report.fluid_check([rows["switch"]]) is None  # no default compared
    table = report.format_fluid(records)
    assert table.splitlines()[-1] == "check: default ratio <= 1.0 for every schedule: FAIL (bare cosine_decay@0)"
    assert " 0.200  (default)" in table and " 6.000\n" in table


def test_apart_runs_each_configuration_beside_its_own_floor(capsys):
    assert bench.main(["--json", "--apart", "--impls", "pw_branchless", "exponential_decay", "--workloads", "bare",
                       "--boundaries", "2", "--repeats", "2", "--runs", "2", "--quick"]) == 0
    records = json.loads(capsys.readouterr().out)
    by_group = {}
    for r in records:
        by_group.setdefault(r["group"], []).append((r["impl"], r["boundaries"]))
    assert by_group == {"pw_branchless@2/bare": [("floor", 0), ("pw_branchless", 2)],
                        "exponential_decay@0/bare": [("floor", 0), ("exponential_decay", 0)]}
    assert [len(g) for g in report.groups(records)] == [2, 2]
