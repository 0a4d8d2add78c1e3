"""Operating-system refusals are one line naming the path, exit 2, with nothing lost and no temporary file left.

Each case runs a tool (``tools/train.py``, ``tools/make_shapes_dataset.py``,
``tools/fault_soak.py``) or ``save_checkpoint``/``load_checkpoint`` in a child
that the operating system really refuses (:mod:`oskit`): mode bits obeyed
even by root (permission), a read-only bind mount (``EROFS``), a tmpfs of a
few pages (``ENOSPC``: empty, or given a copy of a run or a checkpoint and
then filled to the last byte). The child must exit 2 with one stderr line
that names the path and the system's reason, no traceback; the directory
must hold no hidden temporary entry afterwards, and what was there before (a
run's log, a checkpoint) must be as it was.
"""
import contextlib
import dataclasses
import pathlib
import re
import shutil
import sys
from typing import Dict, Optional

import numpy as np
import paddle
import pytest

import paddle_lr

import checkpointkit
import oskit
import trainkit

#: tqdm's progress lines on stderr (a run that fails after it started), besides the one error line.
PROGRESS = re.compile(r"[\w ]+: +\d+%\|")
DENIED, READ_ONLY, FULL = "Permission denied", "Read-only file system", "No space left on device"
#: A tmpfs that holds a run's log but not its first snapshot, nor a dataset.
SMALL = 64 * 1024
#: A tmpfs that holds a copy of a finished tiny run (about 5 MB), filled to the last byte before the child runs.
ROOMY = 16 * 1024 * 1024

CHILD = r'''
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.filterwarnings("ignore", message="No ccache found")  # paddle 3.x's import noise, not paddle_lr's
import paddle
import paddle_lr
import checkpointkit as kit
paddle.enable_static()
action, prefix, runs = sys.argv[2], sys.argv[3], int(sys.argv[4])
program = kit.Program("switch")
for step in range(runs):
    program.run(step)
try:
    if action == "save":
        paddle_lr.save_checkpoint(program.main, prefix, scope=program.scope)
    else:
        paddle_lr.load_checkpoint(program.main, prefix, program.exe, program.scope)
except paddle_lr.CheckpointError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
'''


@dataclasses.dataclass
class Setup:
    """What a case has: a dataset, finished tiny runs (static, dygraph) and a checkpoint to copy, its own directory."""

    tmp: pathlib.Path
    dataset: pathlib.Path
    run: pathlib.Path
    dygraph_run: pathlib.Path
    checkpoint: pathlib.Path

    def directory(self, name, copy=None):
        path = self.tmp / name
        if copy is None:
            path.mkdir()
        else:
            shutil.copytree(copy, path, symlinks=True)
        return path


@dataclasses.dataclass
class Child:
    """A case's child: its command, its confinement, the path its line must name and what must be kept."""

    argv: list
    named: pathlib.Path
    reason: str
    #: the directory whose hidden entries must be gone (on a tmpfs: where its content is copied out)
    clean: pathlib.Path
    confinement: dict = dataclasses.field(default_factory=dict)
    locks: Dict[pathlib.Path, int] = dataclasses.field(default_factory=dict)
    #: after the child: files (there, or in the copy out) whose bytes must be unchanged
    kept: Dict[pathlib.Path, pathlib.Path] = dataclasses.field(default_factory=dict)
    #: a checkpoint prefix (in the copy out) and the one whose state it must still hold
    checkpoint: Optional[tuple] = None


def train(s, output, *flags):
    return [sys.executable, str(trainkit.TRAIN_PY), *trainkit.train_args(s.dataset, output, *flags)]


def shapes(out):
    return [sys.executable, str(trainkit.REPO / "tools" / "make_shapes_dataset.py"), "--out", str(out),
            "--train", "40", "--val", "4", "--size", "64"]


def soak(work):
    return [sys.executable, str(trainkit.REPO / "tools" / "fault_soak.py"), "-c", str(trainkit.CONFIG),
            "--work", str(work), "--points", "iter:2"]


def api(action, prefix, runs=checkpointkit.SAVED_AFTER):
    return [sys.executable, "-c", CHILD, str(trainkit.REPO / "tests"), action, str(prefix), str(runs)]


def _output_unwritable(s):
    out = s.directory("out")
    return Child(train(s, out), out / "train_log.jsonl.tmp", DENIED, locks={out: 0o555}, clean=out)


def _output_parent_unwritable(s):
    parent = s.directory("parent")
    return Child(train(s, parent / "run"), parent / "run", DENIED, locks={parent: 0o555}, clean=parent)


def _output_read_only(s):
    out = s.directory("out")
    return Child(train(s, out), out / "train_log.jsonl.tmp", READ_ONLY, confinement=dict(readonly=[out]), clean=out)


def _output_full(s):
    mount = s.directory("mnt")
    return Child(train(s, mount / "run"), mount / "run" / ".snapshot_2.tmp", FULL,
                 confinement=dict(full=(mount, SMALL), copy_out=s.tmp / "after"), clean=s.tmp / "after")


def _dygraph_output_full(s):
    mount = s.directory("mnt")
    return Child(train(s, mount / "run", "--dygraph"), mount / "run" / ".snapshot_2.tmp", FULL,
                 confinement=dict(full=(mount, SMALL), copy_out=s.tmp / "after"), clean=s.tmp / "after")


def _resume_snapshot_unreadable(s):
    run = s.directory("run", copy=s.run)
    return Child(train(s, run, "--resume", str(run / "snapshot_4")), run / "snapshot_4" / "model.pdparams", DENIED,
                 locks={run / "snapshot_4" / "model.pdparams": 0o000}, clean=run,
                 kept={run / "train_log.jsonl": s.run / "train_log.jsonl"})


def _resume_dygraph_snapshot_unreadable(s):
    run = s.directory("run", copy=s.dygraph_run)
    return Child(train(s, run, "--dygraph", "--resume", str(run / "snapshot_4")), run / "snapshot_4" / "model.pdopt",
                 DENIED, locks={run / "snapshot_4" / "model.pdopt": 0o000}, clean=run,
                 kept={run / "train_log.jsonl": s.dygraph_run / "train_log.jsonl"})


def _resume_full(s):
    source = s.directory("source")
    shutil.copytree(s.run, source / "run", symlinks=True)
    mount, after = s.directory("mnt"), s.tmp / "after"
    return Child(train(s, mount / "run", "--resume", str(mount / "run" / "snapshot_4")),
                 mount / "run" / "train_log.jsonl.tmp", FULL,
                 confinement=dict(full=(mount, ROOMY), copy_in=source, fill=True, copy_out=after), clean=after,
                 kept={after / "run" / "train_log.jsonl": s.run / "train_log.jsonl"})


def _load_directory_not_searchable(s):
    directory = s.directory("ck", copy=s.checkpoint)
    return Child(api("load", directory / "model"), directory, DENIED,
                 locks={directory: 0o600}, clean=directory)


def _load_variable_directory_unlistable(s):
    directory = s.directory("vars", copy=checkpointkit.per_variable_fixture())
    return Child(api("load", directory), directory, DENIED, locks={directory: 0o311}, clean=directory)


def _save_unwritable(s):
    directory = s.directory("ck", copy=s.checkpoint)
    return Child(api("save", directory / "model", 2 * checkpointkit.SAVED_AFTER), directory / ".model.saving",
                 DENIED, locks={directory: 0o555}, clean=directory,
                 checkpoint=(directory / "model", s.checkpoint / "model"))


def _save_read_only(s):
    directory = s.directory("ck", copy=s.checkpoint)
    return Child(api("save", directory / "model", 2 * checkpointkit.SAVED_AFTER), directory / ".model.saving",
                 READ_ONLY, confinement=dict(readonly=[directory]), clean=directory,
                 checkpoint=(directory / "model", s.checkpoint / "model"))


def _save_full(s):
    mount, after = s.directory("mnt"), s.tmp / "after"
    return Child(api("save", mount / "model", 2 * checkpointkit.SAVED_AFTER), mount / ".model.saving", FULL,
                 confinement=dict(full=(mount, ROOMY), copy_in=s.checkpoint, fill=True, copy_out=after), clean=after,
                 checkpoint=(after / "model", s.checkpoint / "model"))


def _shapes_unwritable(s):
    parent = s.directory("parent")
    return Child(shapes(parent / "shapes"), parent, DENIED, locks={parent: 0o555}, clean=parent)


def _shapes_read_only(s):
    parent = s.directory("parent")
    return Child(shapes(parent / "shapes"), parent, READ_ONLY, confinement=dict(readonly=[parent]), clean=parent)


def _shapes_full(s):
    mount, after = s.directory("mnt"), s.tmp / "after"
    return Child(shapes(mount / "shapes"), mount, FULL, confinement=dict(full=(mount, SMALL), copy_out=after),
                 clean=after)


def _soak_unwritable(s):
    parent = s.directory("parent")
    return Child(soak(parent / "soak"), parent / "soak", DENIED, locks={parent: 0o555}, clean=parent)


def _soak_read_only(s):
    parent = s.directory("parent")
    return Child(soak(parent / "soak"), parent / "soak", READ_ONLY, confinement=dict(readonly=[parent]), clean=parent)


def _soak_full(s):
    mount, after = s.directory("mnt"), s.tmp / "after"
    return Child(soak(mount / "soak"), mount / "soak", FULL, confinement=dict(full=(mount, SMALL), copy_out=after),
                 clean=after)


CASES = [pytest.param(build, id=name) for name, build in [
    ("train-output-unwritable", _output_unwritable),
    ("train-output-parent-unwritable", _output_parent_unwritable),
    ("train-output-read-only", _output_read_only),
    ("train-output-full", _output_full),
    ("train-dygraph-output-full", _dygraph_output_full),
    ("train-resume-snapshot-unreadable", _resume_snapshot_unreadable),
    ("train-resume-dygraph-snapshot-unreadable", _resume_dygraph_snapshot_unreadable),
    ("train-resume-full", _resume_full),
    ("load-directory-not-searchable", _load_directory_not_searchable),
    ("load-variable-directory-unlistable", _load_variable_directory_unlistable),
    ("save-unwritable", _save_unwritable),
    ("save-read-only", _save_read_only),
    ("save-full", _save_full),
    ("shapes-unwritable", _shapes_unwritable),
    ("shapes-read-only", _shapes_read_only),
    ("shapes-full", _shapes_full),
    ("soak-unwritable", _soak_unwritable),
    ("soak-read-only", _soak_read_only),
    ("soak-full", _soak_full),
]]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A dataset, finished tiny static and dygraph runs, and a checkpoint of the test program after SAVED_AFTER runs."""
    oskit.require()
    dataset, runs = trainkit.reference_runs(tmp_path_factory)
    checkpoint = tmp_path_factory.mktemp("checkpoint")
    paddle.enable_static()
    try:
        program = checkpointkit.Program("switch")
        for step in range(checkpointkit.SAVED_AFTER):
            program.run(step)
        paddle_lr.save_checkpoint(program.main, checkpoint / "model", scope=program.scope)
    finally:
        paddle.disable_static()
    return dataset, runs[()], runs[("--dygraph",)], checkpoint


def _same_state(prefix, expected):
    got, want = paddle_lr.checkpoint.read_checkpoint(prefix)[2], paddle_lr.checkpoint.read_checkpoint(expected)[2]
    assert sorted(got) == sorted(want), f"{prefix}: holds {sorted(got)}, expected {sorted(want)}"
    differ = [name for name in want if got[name].dtype != want[name].dtype
              or not np.array_equal(got[name], want[name])]
    assert differ == [], f"{prefix}: {differ} differ from the checkpoint before the failed save"


@pytest.mark.parametrize("build", CASES)
def test_an_os_refusal_is_one_line_with_nothing_lost(finished, tmp_path, build):
    child = build(Setup(tmp_path, *finished))
    with contextlib.ExitStack() as stack:
        for path, mode in child.locks.items():
            stack.enter_context(oskit.locked(path, mode))
        done = oskit.run(child.argv, trainkit.subprocess_env(), **child.confinement)
    lines = [line for line in done.stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    assert done.returncode == 2 and "Traceback" not in done.stderr, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert len(lines) == 1, f"not one line: {lines}"
    assert re.fullmatch(rf"error: .*{re.escape(str(child.named))}\S*: {child.reason}", lines[-1]), (
        f"the line does not name {child.named} and {child.reason!r}: {lines[-1]!r}")
    assert oskit.leftovers(child.clean) == [], f"left in {child.clean}: {oskit.leftovers(child.clean)}"
    for path, before in child.kept.items():
        assert path.read_bytes() == before.read_bytes(), f"{path} changed"
    if child.checkpoint is not None:
        _same_state(*child.checkpoint)
