"""save_checkpoint is atomic: a SIGKILL at any file-system step leaves the previous checkpoint or the new one, whole.

A child process saves state A, trains 3 more runs (state B) and saves B over A,
counting every file-system call of the save that Python makes: those its audit
events show (``sys.addaudithook``: ``open`` and ``os.open`` for writing,
``os.rename``/``os.replace``, ``os.unlink``, ``os.rmdir``, ``os.mkdir``,
``shutil.rmtree`` and each unlink and rmdir inside it), each ``write`` to a
file open for writing and each ``os.fsync``; armed with ``K``, it kills
itself with SIGKILL right before the K-th. The parent then loads the prefix
(``load_checkpoint`` completes a committed save) and the state must be
exactly A or exactly B, with B from the commit on. The default run kills at
a handful of points, ``slow`` at every one. A write that fails (a file-size
limit here; a real full disk in tests/test_os_errors.py) is one line, with A
kept and no temporary file left.
"""
import json
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import paddle_lr
from paddle_lr import atomic

import checkpointkit as kit
import trainkit

CHILD = r'''
import builtins, json, os, resource, signal, sys
sys.path.insert(0, sys.argv[1])
import numpy as np, paddle
import paddle_lr
import checkpointkit as kit
paddle.enable_static()
prefix, kill_at, fsize = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
program = kit.Program("switch")
for step in range(kit.SAVED_AFTER):
    program.run(step)
paddle_lr.save_checkpoint(program.main, prefix, scope=program.scope)
np.savez(prefix + ".A.npz", **{k.replace("@", "_at_"): v for k, v in program.state().items()})
for step in range(kit.SAVED_AFTER, 2 * kit.SAVED_AFTER):
    program.run(step)
np.savez(prefix + ".B.npz", **{k.replace("@", "_at_"): v for k, v in program.state().items()})
calls = []
counting = False

def count(name):
    if counting:
        calls.append(name)
        if len(calls) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

# what Python's own audit events show: opening for writing (open() and os.open), rename and replace,
# unlink, rmdir, mkdir, rmtree (and each unlink and rmdir inside it)
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
EVENTS = {"os.rename": "rename", "os.remove": "unlink", "os.rmdir": "rmdir", "os.mkdir": "mkdir",
          "shutil.rmtree": "rmtree"}

def audit(event, args):
    if event == "open":
        path, mode, flags = args
        if (mode is not None and any(m in mode for m in "wax+")) or (mode is None and flags & WRITING):
            count("open")
    elif event in EVENTS:
        count(EVENTS[event])

sys.addaudithook(audit)

class Written:
    """A file open for writing whose every write() is a call of its own (no audit event shows them)."""

    def __init__(self, file):
        self._file = file

    def write(self, data):
        count("write")
        return self._file.write(data)

    def __enter__(self):
        self._file.__enter__()
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)

real_open, real_fsync = builtins.open, os.fsync

def opened(file, mode="r", *args, **kwargs):
    f = real_open(file, mode, *args, **kwargs)
    return Written(f) if any(m in mode for m in "wax+") else f

def fsync(fd):
    count("fsync")
    return real_fsync(fd)

builtins.open, os.fsync = opened, fsync
counting = True
if fsize:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
try:
    paddle_lr.save_checkpoint(program.main, prefix, scope=program.scope)
except paddle_lr.CheckpointError as exc:
    print(f"error: {exc}")
    sys.exit(2)
print(json.dumps(calls))
'''


def run_child(prefix, kill_at=0, fsize=0):
    return subprocess.run([sys.executable, "-c", CHILD, str(kit.REPO / "tests"), str(prefix), str(kill_at), str(fsize)],
                          capture_output=True, text=True, env=trainkit.subprocess_env(), timeout=300)


def states(prefix):
    return [{k.replace("_at_", "@"): v for k, v in np.load(f"{prefix}.{which}.npz").items()} for which in "AB"]


def loaded(prefix):
    program = kit.Program("switch")
    return paddle_lr.load_checkpoint(program.main, prefix, program.exe, program.scope).state


def which(state, a, b):
    for label, expected in (("A", a), ("B", b)):
        if sorted(state) == sorted(expected) and all(
                state[k].dtype == expected[k].dtype and state[k].tobytes() == expected[k].tobytes() for k in expected):
            return label
    return "mixed"


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """The file-system calls of the second save, in order (a run that is not killed)."""
    prefix = tmp_path_factory.mktemp("count") / "model"
    done = run_child(prefix)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def commit_index(calls):
    """The call that commits: the os.replace of the marker (the first rename)."""
    return calls.index("rename") + 1


def sweep(calls, every):
    n = len(calls)
    points = range(1, n + 1) if every else sorted({1, commit_index(calls) - 1, commit_index(calls),
                                                   commit_index(calls) + 1, n // 2, n})
    return [k for k in points if 1 <= k <= n]


def expected(calls, kill_at):
    """What a kill right before call ``kill_at`` must leave: the new state from the commit on."""
    return "B" if kill_at > commit_index(calls) else "A"


def outcome(tmp_path, calls, kill_at):
    """What a kill right before call ``kill_at`` left: ``A``, ``B``, ``mixed`` or why it does not load."""
    prefix = tmp_path / "model"
    done = run_child(prefix, kill_at)
    assert done.returncode == -signal.SIGKILL, f"kill at {kill_at} ({calls[kill_at - 1]}): {done.stderr[-400:]}"
    a, b = states(prefix)
    try:
        got = which(loaded(prefix), a, b)
    except paddle_lr.CheckpointError as exc:
        return f"unloadable ({exc})"
    return f"{got}, its commit marker left" if atomic.commit_marker(prefix).exists() else got


def test_the_sweep_covers_the_commit(calls):
    assert calls.count("rename") >= 3 and {"fsync", "open", "write", "unlink", "rmtree"} <= set(calls), calls


@pytest.mark.parametrize("index", range(6))
def test_a_kill_at_a_point_of_the_save_leaves_a_or_b(static_mode, tmp_path, calls, index):
    points = sweep(calls, every=False)
    if index >= len(points):
        pytest.skip(f"{len(points)} points in this save")
    kill_at = points[index]
    got = outcome(tmp_path, calls, kill_at)
    assert got == expected(calls, kill_at), (
        f"kill before call {kill_at} ({calls[kill_at - 1]}): loaded {got}, expected {expected(calls, kill_at)}")


@pytest.mark.slow
def test_a_kill_at_every_point_of_the_save_leaves_a_or_b(static_mode, tmp_path_factory, calls):
    got = {k: outcome(tmp_path_factory.mktemp(f"kill{k}"), calls, k) for k in sweep(calls, every=True)}
    left = [v if v in ("A", "B") else "neither" for v in got.values()]
    print(f"\n{len(got)} kill points: {left.count('A')} left the previous checkpoint, {left.count('B')} the new one, "
          f"{left.count('neither')} neither")
    wrong = {f"{k} ({calls[k - 1]})": v for k, v in got.items() if v != expected(calls, k)}
    assert wrong == {}, f"kills that left the wrong state (commit at call {commit_index(calls)}): {wrong}"


def test_a_failed_write_is_one_line_and_keeps_the_previous_checkpoint(static_mode, tmp_path):
    prefix = tmp_path / "model"
    done = run_child(prefix, fsize=200)  # the pickles are a few hundred bytes: the second save cannot finish
    assert done.returncode == 2, done.stderr
    assert re.match(rf"^error: checkpoint {re.escape(str(prefix))}: cannot write \S+: File too large\n$",
                    done.stdout), done.stdout
    a, b = states(prefix)
    assert which(loaded(prefix), a, b) == "A"
    assert not atomic.saving_dir(prefix).exists() and not atomic.commit_marker(prefix).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_empty_path_is_refused(static_mode):
    program = kit.Program("switch")
    for call in (lambda: paddle_lr.save_checkpoint(program.main, "", scope=program.scope),
                 lambda: paddle_lr.load_checkpoint(program.main, "", program.exe, program.scope)):
        with pytest.raises(paddle_lr.ConfigError, match="^checkpoint path: must be a non-empty path, got ''$"):
            call()
