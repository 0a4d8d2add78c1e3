"""Two trainers on one --output: the second refuses at start-up in one line (exit 2); the first's files stay."""
import subprocess
import sys
import time

import pytest

import trainkit
from paddle_lr.demo import run_lock
from paddle_lr.tools import train as train_tool

BUSY = "is in use by another trainer; give another --output, or wait for that run to end"


def _files(directory):
    """Every file under ``directory`` with its bytes and modification time."""
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _check_refused(status, err, output):
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert lines == [f"error: --output: {output} {BUSY}"], err


@pytest.mark.parametrize("flags", [[], ["--dygraph"], ["--eval-only"]], ids=["static", "dygraph", "eval-only"])
def test_second_trainer_refuses_and_touches_nothing(tmp_path, capfd, flags):
    output = tmp_path / "run"
    output.mkdir()
    (output / "train_log.jsonl").write_text('{"iter": 0}\n')
    (output / "snapshot_2").mkdir()
    (output / "snapshot_2" / "manifest.json").write_text("{}")
    before = _files(output)
    dataset = tmp_path / "data" / "shapes"
    with run_lock.output_lock(output):  # the first trainer, as far as the lock can tell
        status = train_tool.main(trainkit.train_args(dataset, output, *flags))
    out, err = capfd.readouterr()
    _check_refused(status, err, output)
    assert out == ""
    assert _files(output) == before
    assert sorted(p.name for p in output.iterdir()) == ["snapshot_2", "train_log.jsonl"]
    assert not dataset.exists(), "the refused trainer must not generate the dataset either"


def test_lock_is_free_again_after_a_run(tmp_path):
    with run_lock.output_lock(tmp_path / "run"):
        pass
    with run_lock.output_lock(tmp_path / "run"):
        with pytest.raises(run_lock.OutputBusyError, match=BUSY):
            with run_lock.output_lock(tmp_path / "run"):
                pass
    assert list((tmp_path / "run").iterdir()) == [], "no lock file is left in the output"


def test_ranks_above_0_take_nothing(tmp_path):
    with run_lock.output_lock(tmp_path / "run"):
        with run_lock.output_lock(tmp_path / "run", take=False) as path:
            assert path == tmp_path / "run"
    with run_lock.output_lock(tmp_path / "other", take=False):
        assert not (tmp_path / "other").exists()


HOLDER = """
import sys, time
from paddle_lr.demo import run_lock
with run_lock.output_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path):
    output = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(output)], stdout=subprocess.PIPE, text=True,
                              env=trainkit.subprocess_env())
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(run_lock.OutputBusyError, match=BUSY):
            with run_lock.output_lock(output):
                pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock.output_lock(output):  # SIGKILL dropped the lock
        pass


def test_unusable_output_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(run_lock.rules.ConfigError, match=r"^--output: cannot use .*file/run: Not a directory$"):
        with run_lock.output_lock(tmp_path / "file" / "run"):
            pass


@pytest.mark.slow
def test_two_real_trainers(tmp_path, capfd):
    """A real first trainer in a subprocess; the second, started while it trains, refuses."""
    dataset, output = tmp_path / "data" / "shapes", tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, str(trainkit.TRAIN_PY),
         *trainkit.train_args(dataset, output, extra=["max_iter=40", "snapshot_iter=10"])],
        env=trainkit.subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = output / "train_log.jsonl"
        deadline = time.monotonic() + 300
        while not (log.exists() and log.read_text()) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, "the first trainer ended before the second could start: " + first.stderr.read()
        status = train_tool.main(trainkit.train_args(dataset, output, extra=["max_iter=40", "snapshot_iter=10"]))
        _, err = capfd.readouterr()
        _check_refused(status, err, output)
    finally:
        _, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    lines = trainkit.read_lines(output / "train_log.jsonl")
    assert len(lines) == 40 and [trainkit.manifest(output / f"snapshot_{i}")["iteration"] for i in (10, 40)] == [10, 40]
