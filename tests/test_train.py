"""tools/train.py: reproducible logs, the logged lr is lr_at, exact resume, data parallel, errors."""
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from paddle_lr.demo import training
from paddle_lr.tools import train as train_tool

import trainkit

MODES = [pytest.param([], id="static"), pytest.param(["--dygraph"], id="dygraph")]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data") / "shapes"


@pytest.fixture(scope="module")
def reference(dataset_dir, tmp_path_factory):
    """One uninterrupted tiny run per mode, by mode flag."""
    runs = {}
    for flags in ([], ["--dygraph"]):
        output = tmp_path_factory.mktemp("ref")
        assert train_tool.main(trainkit.train_args(dataset_dir, output, *flags)) == 0
        runs[tuple(flags)] = output
    return runs


@pytest.mark.parametrize("flags", MODES)
def test_logged_lr_is_lr_at(reference, dataset_dir, flags):
    records = [json.loads(line) for line in trainkit.read_lines(reference[tuple(flags)] / "train_log.jsonl")]
    assert [r["iter"] for r in records] == list(range(8))
    config = trainkit.tiny_config(dataset_dir)
    assert [r["lr"] for r in records] == trainkit.expected_lrs(config, range(8))


def test_static_and_dygraph_log_the_same_lr(reference):
    static, dygraph = ([json.loads(line)["lr"] for line in trainkit.read_lines(reference[k] / "train_log.jsonl")]
                       for k in ((), ("--dygraph",)))
    assert static == dygraph


@pytest.mark.parametrize("flags", MODES)
def test_two_runs_give_identical_logs_and_parameters(reference, dataset_dir, tmp_path, flags):
    assert train_tool.main(trainkit.train_args(dataset_dir, tmp_path, *flags)) == 0
    ref = reference[tuple(flags)]
    assert trainkit.read_lines(tmp_path / "train_log.jsonl") == trainkit.read_lines(ref / "train_log.jsonl")
    assert trainkit.same_state(trainkit.load_state(tmp_path / "final"), trainkit.load_state(ref / "final")) == []


@pytest.mark.parametrize("flags", MODES)
def test_snapshots_and_eval_are_written(reference, flags):
    out = reference[tuple(flags)]
    found = sorted(p.name for p in out.iterdir())
    assert found == ["eval.json", "final", "snapshot_2", "snapshot_4", "snapshot_6", "snapshot_8",
                     "train_log.jsonl"]
    mode = "dygraph" if flags else "static"
    for name, iteration in [("snapshot_2", 2), ("snapshot_6", 6), ("final", 8)]:
        m = trainkit.manifest(out / name)
        assert (m["iteration"], m["mode"], m["config"]["max_iter"]) == (iteration, mode, 8)
    result = json.loads((out / "eval.json").read_text())
    assert result["iteration"] == 8 and 0.0 <= result["AP50"] <= 1.0 and len(result["stats"]) == 12


# snapshot_2 is inside the warmup (iterations 0-3); snapshot_6 is past the boundary at 5.
@pytest.mark.parametrize("snapshot", ["snapshot_2", "snapshot_6"])
@pytest.mark.parametrize("flags", MODES)
def test_resume_continues_bit_for_bit(reference, dataset_dir, tmp_path, flags, snapshot):
    ref = reference[tuple(flags)]
    assert train_tool.main(trainkit.train_args(dataset_dir, tmp_path, *flags, "--resume", str(ref / snapshot))) == 0
    start = int(snapshot.split("_")[1])
    assert trainkit.read_lines(tmp_path / "train_log.jsonl") == trainkit.read_lines(ref / "train_log.jsonl")[start:]
    assert trainkit.same_state(trainkit.load_state(tmp_path / "final"), trainkit.load_state(ref / "final")) == []


@pytest.mark.parametrize("flags", MODES)
def test_resume_in_place_truncates_the_log(reference, dataset_dir, tmp_path, flags):
    """Resuming a finished output from its snapshot_4 rewrites iterations 4-7 once, not twice."""
    out = tmp_path / "out"
    shutil.copytree(reference[tuple(flags)], out)
    resumed = training.train(trainkit.tiny_config(dataset_dir), out, resume=out / "snapshot_4", dygraph=bool(flags))
    assert (resumed.resumed_from, resumed.start, len(resumed.lrs)) == (out / "snapshot_4", 4, 4)
    assert trainkit.read_lines(out / "train_log.jsonl") == trainkit.read_lines(reference[tuple(flags)] / "train_log.jsonl")


def test_resume_with_the_other_mode_is_refused(reference, dataset_dir, tmp_path, capsys):
    snapshot = reference[()] / "snapshot_4"
    assert train_tool.main(trainkit.train_args(dataset_dir, tmp_path, "--dygraph", "--resume", str(snapshot))) == 2
    err = capsys.readouterr().err
    assert err == f"error: resume: {snapshot} is a static snapshot, this run is dygraph (add or drop --dygraph)\n"


def test_static_data_parallel_without_gpu_exits_at_start(dataset_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PADDLE_TRAINERS_NUM", "2")
    monkeypatch.setenv("PADDLE_TRAINER_ID", "0")
    assert train_tool.main(trainkit.train_args(dataset_dir, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert err == ("error: paddle-lr-train: static data parallel (world size 2) needs a GPU build of Paddle "
                   "(fleet collective); use --dygraph for CPU data parallel\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("override, message", [
    ("image_size=34", "image_size: must be a multiple of 4, got 34"),
    ("snapshot_iter=0", "snapshot_iter: must be >= 1, got 0"),
])
def test_bad_cfg_exits_2_with_one_line(dataset_dir, tmp_path, capsys, override, message):
    assert train_tool.main(trainkit.train_args(dataset_dir, tmp_path, extra=[override])) == 2
    err = capsys.readouterr().err
    assert err == f"error: {message}\n"


# Runs under the launcher: each replica trains and writes its TrainRecord's digests as JSON.
REPLICA_SCRIPT = """
import json, sys
import paddle_lr.demo.training as training
from paddle_lr.demo.keys import load_config
config = load_config(sys.argv[1], sys.argv[3:])
record = training.train(config, sys.argv[2], dygraph=True)
with open(f"{sys.argv[2]}.replica{record.rank}.json", "w") as f:
    json.dump(dict(world_size=record.world_size, lr_digest=record.lr_digest, digest=record.digest), f)
"""


def test_dygraph_data_parallel_two_processes(reference, dataset_dir, tmp_path):
    """Two CPU replicas under paddle.distributed.launch: same lr, same final parameters."""
    script = tmp_path / "replica.py"
    script.write_text(REPLICA_SCRIPT)
    output = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir",
         str(tmp_path / "log"), str(script), str(trainkit.CONFIG), str(output),
         *trainkit.tiny_overrides(dataset_dir)],
        env=trainkit.subprocess_env(), capture_output=True, text=True, timeout=300, cwd=trainkit.REPO,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    replicas = [json.loads(pathlib.Path(f"{output}.replica{rank}.json").read_text()) for rank in (0, 1)]
    assert replicas[0]["world_size"] == 2
    assert replicas[0] == replicas[1]
    records = [json.loads(line) for line in trainkit.read_lines(output / "train_log.jsonl")]
    # The total batch is 2 processes x 2 images; the schedule itself does not change.
    config = trainkit.tiny_config(dataset_dir)
    assert [r["lr"] for r in records] == trainkit.expected_lrs(config, range(8))
    assert trainkit.manifest(output / "final")["config"]["num_devices"] == 2


def files_and_times(output):
    return {str(p.relative_to(output)): p.stat().st_mtime_ns for p in output.rglob("*") if p.name != "eval.json"}


def test_record_of_a_run_and_of_a_finished_resume(reference, dataset_dir, tmp_path):
    """train() returns what it did; resuming a finished run trains nothing and keeps its files."""
    config = trainkit.tiny_config(dataset_dir)
    record = training.train(config, tmp_path / "out")
    logged = [json.loads(line) for line in trainkit.read_lines(tmp_path / "out" / "train_log.jsonl")]
    assert (record.mode, record.start, record.stop, record.resumed_from) == ("static", 0, 8, None)
    assert record.lrs == [r["lr"] for r in logged] and record.losses == [r["loss"] for r in logged]
    saved = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert {k: record.eval[k] for k in saved} == saved
    before = files_and_times(tmp_path / "out")
    again = training.train(config, tmp_path / "out", resume=tmp_path / "out" / "final")
    assert (again.start, again.lrs, again.digest) == (8, [], record.digest)
    assert again.eval["iteration"] == 8 and again.eval["AP"] == record.eval["AP"]
    assert files_and_times(tmp_path / "out") == before
