"""Signals and the operating system: Ctrl-C and SIGTERM end the trainer in one line naming what is left to
resume from (exit 130 and 143, no traceback); operating-system errors are one line naming the path, with no
temporary file left; the run resumes to the uninterrupted run's log.

The signal is sent by the process itself at an exact point (``PADDLE_LR_FAULT_AT`` with
``PADDLE_LR_FAULT_SIGNAL``, :mod:`paddle_lr.demo.fault`), as Ctrl-C or a scheduler would send it there.
"""
import resource
import signal
import subprocess
import sys

import pytest

from paddle_lr.demo import fault
from paddle_lr.tools import train as train_tool

import trainkit


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One uninterrupted tiny run per mode, by mode flags, and the dataset directory."""
    return trainkit.reference_runs(tmp_path_factory)


def run_tool(args, preexec_fn=None, **env):
    """The trainer in a child, as started from a terminal: SIGINT at its default whatever this process inherited.

    A shell starts background jobs (``.ci/run &``) with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler, so the child would rightly not stop on Ctrl-C.
    """
    def start():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if preexec_fn is not None:
            preexec_fn()
    return subprocess.run([sys.executable, str(trainkit.TRAIN_PY), *args], capture_output=True, text=True,
                          env=trainkit.subprocess_env(**env), timeout=300, preexec_fn=start)


def last_line(stderr):
    """The tool's own last line (tqdm's bar draws on stderr too, with carriage returns)."""
    return stderr.replace("\r", "\n").splitlines(keepends=True)[-1]


def temporaries(directory):
    return sorted(p.name for p in directory.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp"))


# signal, the point it arrives at, the exit status, the snapshot left to resume from
SIGNALS = [
    pytest.param("INT", "iter:5", 130, 4, id="ctrl-c-after-iteration-5"),
    pytest.param("TERM", "iter:5", 143, 4, id="sigterm-after-iteration-5"),
    pytest.param("INT", "snapshot:6", 130, 4, id="ctrl-c-while-snapshot-6-is-written"),
    pytest.param("TERM", "snapshot:6", 143, 4, id="sigterm-while-snapshot-6-is-written"),
    pytest.param("TERM", "iter:1", 143, None, id="sigterm-before-any-snapshot"),
]


@pytest.mark.parametrize("name, point, status, left", SIGNALS)
@pytest.mark.parametrize("flags", [pytest.param((), id="static"), pytest.param(("--dygraph",), id="dygraph")])
def test_a_signal_is_one_line_and_the_resume_matches(runs, tmp_path, flags, name, point, status, left):
    dataset, ref = runs
    out = tmp_path / "out"
    done = run_tool(trainkit.train_args(dataset, out, *flags), **{fault.ENV: point, fault.SIGNAL_ENV: name})
    if left is None:
        note = f"no complete snapshot in {out}"
    else:
        note = f"the last complete snapshot is {out / f'snapshot_{left}'} (iteration {left}); resume with --resume {out}"
    assert (done.returncode, last_line(done.stderr)) == (status, f"error: interrupted by SIG{name}; {note}\n")
    assert "Traceback" not in done.stderr, done.stderr
    assert temporaries(out) == []
    resume = ("--resume", str(out)) if left is not None else ()
    assert run_tool(trainkit.train_args(dataset, out, *flags, *resume)).returncode == 0
    assert trainkit.read_lines(out / "train_log.jsonl") == trainkit.read_lines(ref[flags] / "train_log.jsonl")


def _file_size_limit(limit):
    def set_limit():
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


def test_a_full_disk_while_a_snapshot_is_written_is_one_line(runs, tmp_path):
    """A file-size limit stands in for a full disk: the first snapshot's model.pdparams cannot be written."""
    dataset, ref = runs
    out = tmp_path / "out"
    done = run_tool(trainkit.train_args(dataset, out), preexec_fn=_file_size_limit(4096))
    assert done.returncode == 2, done.stderr
    assert last_line(done.stderr).startswith(f"error: {out / '.snapshot_2.tmp'}"), done.stderr
    assert last_line(done.stderr).endswith(": File too large\n") and "Traceback" not in done.stderr, done.stderr
    assert temporaries(out) == []


@pytest.mark.parametrize("layout, message", [
    pytest.param("file", "error: --output: cannot use {out}: File exists\n", id="output-is-a-file"),
    pytest.param("parent-file", "error: --output: cannot use {out}: Not a directory\n", id="output-under-a-file"),
])
def test_an_output_that_cannot_be_made_is_one_line(tmp_path, capsys, layout, message):
    out = tmp_path / "out"
    if layout == "file":
        out.write_text("x")
    else:
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    assert train_tool.main(trainkit.train_args(tmp_path / "data", out)) == 2
    assert capsys.readouterr().err == message.format(out=out)
