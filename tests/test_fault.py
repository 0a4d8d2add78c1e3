"""Crash tests: tools/train.py is SIGKILLed at chosen points, resumed, and must match an uninterrupted run.

The kill is real: ``PADDLE_LR_FAULT_AT=<point>:<iteration>`` makes the
training process send itself SIGKILL at that exact point (see
:mod:`paddle_lr.fault`), so the files are left as a crash leaves them. The
tiny run has warmup iterations 0-3, boundaries at 5 and 7 and snapshots every
2 iterations. tools/fault_soak.py runs many more points.
"""
import json
import signal
import subprocess
import sys

import pytest

from paddle_lr.demo import fault, training
from paddle_lr.tools import train as train_tool

import trainkit

# point, the snapshot the resume must pick, what the crash must have left behind
CASES = [
    pytest.param("iter:3", 2, "log past the snapshot", id="mid-warmup"),
    pytest.param("iter:6", 4, "log past the snapshot", id="across-boundary-5"),
    pytest.param("snapshot:6", 4, "partial snapshot", id="during-snapshot-write"),
    pytest.param("log:5", 4, "half-written line", id="mid-log-line"),
]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data") / "shapes"


@pytest.fixture(scope="module")
def reference(dataset_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("reference")
    assert train_tool.main(trainkit.train_args(dataset_dir, output)) == 0
    return output


@pytest.fixture(scope="module")
def crashed(reference, dataset_dir, tmp_path_factory):
    """Every case's killed run, started together: output directory and return code by point."""
    procs = {}
    for case in CASES:
        point = case.values[0]
        output = tmp_path_factory.mktemp("crash")
        procs[point] = output, subprocess.Popen(
            [sys.executable, str(trainkit.TRAIN_PY), *trainkit.train_args(dataset_dir, output)],
            env=trainkit.subprocess_env(**{fault.ENV: point}), cwd=trainkit.REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
    return {point: (output, proc.wait(timeout=300), proc.stderr.read()) for point, (output, proc) in procs.items()}


def check_leftovers(output, point, leftover):
    lines = trainkit.read_lines(output / "train_log.jsonl")
    done = int(point.split(":")[1])
    if leftover == "log past the snapshot":
        assert [json.loads(line)["iter"] for line in lines] == list(range(done))
        assert not (output / f"snapshot_{done}").exists()
    elif leftover == "partial snapshot":
        assert sorted(p.name for p in (output / f".snapshot_{done}.tmp").iterdir()) != []
        assert not (output / f".snapshot_{done}.tmp" / "manifest.json").exists()
        assert not (output / f"snapshot_{done}").exists()
    else:
        assert len(lines) == done + 1 and not lines[-1].endswith("\n")
    assert not (output / "final").exists()


@pytest.mark.parametrize("point, picked, leftover", CASES)
def test_killed_run_resumes_bit_for_bit(crashed, reference, dataset_dir, point, picked, leftover):
    output, returncode, stderr = crashed[point]
    assert returncode == -signal.SIGKILL, stderr[-2000:]
    check_leftovers(output, point, leftover)
    record = training.train(trainkit.tiny_config(dataset_dir), output, resume=output)
    assert (record.resumed_from, record.start) == (output / f"snapshot_{picked}", picked)
    assert trainkit.read_lines(output / "train_log.jsonl") == trainkit.read_lines(reference / "train_log.jsonl")
    assert trainkit.same_state(trainkit.load_state(output / "final"), trainkit.load_state(reference / "final")) == []
