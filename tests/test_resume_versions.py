"""tools/train.py --resume of snapshots recorded on every Paddle version (tests/data/checkpoints).

The runs train checkpointkit's narrowed detector (the recorded snapshots are of
that model) with tools/train.py's main, in this process; one runs it in a
subprocess to see the version warning on stderr as a user does.
"""
import contextlib
import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import paddle
import pytest

from paddle_lr.demo.snapshot import SnapshotWarning
from paddle_lr.tools import train as train_tool

import checkpointkit as kit
import trainkit

VERSIONS = kit.versions()
MODES = {"static": [], "dygraph": ["--dygraph"]}

_RUN = """
import sys
sys.path[:0] = [{tests!r}]
import paddle_lr  # first: it quiets Paddle's import-time noise
import checkpointkit
from paddle_lr.tools import train
with checkpointkit.small_detector():
    status = train.main(sys.argv[1:])
raise SystemExit(status)
"""


def train_subprocess(cwd, *args):
    """Run tools/train.py (narrowed detector) in a subprocess in ``cwd``; the completed process."""
    script = _RUN.format(tests=str(kit.REPO / "tests"))
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=trainkit.subprocess_env(), timeout=600)


def train(cwd, monkeypatch, capsys, *args, narrow=True):
    """Run tools/train.py's main in this process in ``cwd``: ``(status, stderr, snapshot warnings)``."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught, (kit.small_detector() if narrow else contextlib.nullcontext()):
        warnings.simplefilter("always")
        status = train_tool.main([str(a) for a in args])
    return status, capsys.readouterr().err, [str(w.message) for w in caught if w.category is SnapshotWarning]


def version_warning(snapshot, version):
    ir = kit.manifest(version)["ir"]
    here = "pir" if paddle.__version__.startswith("3") else "legacy"
    return (f"resume: {snapshot} was written by paddlepaddle {version} ({ir} IR), this is {paddle.__version__} "
            f"({here} IR): the state and the lr carry over exactly; the losses differ in the last bits at first "
            "and drift from there (docs/checkpoints.md)")


def resume_args(output, snapshot, mode, *extra, version=None):
    """tools/train.py arguments resuming ``snapshot`` with the overrides its run was recorded with."""
    overrides = kit.manifest(version or paddle.__version__)["train_overrides"]
    return ["-c", str(trainkit.CONFIG), "-o", *overrides, *extra, "--output", str(output), *MODES[mode],
            "--resume", str(snapshot)]


def bits(value):
    return f"{np.float32(value).view(np.uint32):08x}"


# The static snapshots were recorded with the Switch (the former default, lr_impl: auto, at 2 lr_steps):
# resumed with today's default (the branch-free lookup) and with lr_impl=switch.
RESUMES = [pytest.param("static", (), id="static-default"),
           pytest.param("static", ("lr_impl=switch",), id="static-switch"),
           pytest.param("dygraph", (), id="dygraph")]


@pytest.mark.parametrize("mode, extra", RESUMES)
@pytest.mark.parametrize("version", VERSIONS)
def test_resume_logs_the_uninterrupted_lr(tmp_path, monkeypatch, capsys, version, mode, extra):
    snapshot = kit.FIXTURES / version / f"snapshot_{mode}"
    status, err, caught = train(tmp_path, monkeypatch, capsys,
                                *resume_args(tmp_path / "out", snapshot, mode, *extra, version=version))
    assert status == 0, err
    # (a "cfg differs" warning may come too, when cfg keys were added since the recording)
    about_version = [m for m in caught if "was written by paddlepaddle" in m]
    assert about_version == ([] if version == paddle.__version__ else [version_warning(snapshot, version)])
    logged = [json.loads(line) for line in trainkit.read_lines(tmp_path / "out" / "train_log.jsonl")]
    uninterrupted = kit.manifest(version)["train_logs"][mode][kit.SNAPSHOT_AT:]
    assert [r["iter"] for r in logged] == [r["iter"] for r in uninterrupted] == list(range(kit.SNAPSHOT_AT, 8))
    for got, want in zip(logged, uninterrupted):
        assert bits(got["lr"]) == want["lr_bits"], (
            f"iteration {got['iter']}: lr {got['lr']!r} ({bits(got['lr'])}), uninterrupted run on {version} "
            f"{want['lr']!r} ({want['lr_bits']})")
        assert np.isfinite(got["loss"]), f"iteration {got['iter']}: loss {got['loss']!r}"


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != paddle.__version__][:1])
def test_the_version_warning_is_one_stderr_line(tmp_path, version):
    """As a user sees it: tools/train.py in a subprocess, another version's static snapshot."""
    snapshot = kit.FIXTURES / version / "snapshot_static"
    done = train_subprocess(tmp_path, *resume_args(tmp_path / "out", snapshot, "static", version=version))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "was written by paddlepaddle" in line]
    assert lines == [f"warning: {version_warning(snapshot, version)}"], done.stderr


def flip_a_byte_and_reseal(directory):
    """Damage model.pdparams and rewrite the manifest to match: only the loader can tell."""
    from paddle_lr.demo import snapshot

    manifest = snapshot.verify_snapshot(directory)
    data = bytearray((directory / "model.pdparams").read_bytes())
    data[:16] = b"\x00" * 16

    def save(tmp):
        (tmp / "model.pdparams").write_bytes(bytes(data))
        shutil.copy2(directory / "model.pdopt", tmp / "model.pdopt")

    snapshot.write_snapshot(directory, manifest["iteration"], manifest["config"], manifest["mode"], save)


def truncate(directory):
    path = directory / "model.pdopt"
    path.write_bytes(path.read_bytes()[:100])


REFUSALS = [
    pytest.param("static", (), truncate, "model.pdopt has 100 bytes, the manifest says ", id="static-truncated"),
    pytest.param("dygraph", (), truncate, "model.pdopt has 100 bytes, the manifest says ", id="dygraph-truncated"),
    pytest.param("static", (), flip_a_byte_and_reseal, "model.pdparams/.pdopt is unreadable (",
                 id="static-unreadable"),
    pytest.param("dygraph", (), flip_a_byte_and_reseal, "model.pdparams is unreadable (", id="dygraph-unreadable"),
    pytest.param("static", ("image_size=48",), None, None, id="static-another-input-size-resumes"),
]


@pytest.mark.parametrize("mode, extra, damage, message", REFUSALS)
def test_what_cannot_be_resumed_is_one_line_exit_2(tmp_path, monkeypatch, capsys, recorded_here, mode, extra, damage,
                                                   message):
    snapshot = tmp_path / "snap"
    shutil.copytree(recorded_here / f"snapshot_{mode}", snapshot)
    if damage is not None:
        damage(snapshot)
    status, err, caught = train(tmp_path, monkeypatch, capsys, *resume_args(tmp_path / "out", snapshot, mode, *extra))
    if message is None:  # the same parameters fit another input size: that resumes
        assert status == 0, err
        return
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert caught == []  # no warning before the refusal


@pytest.mark.parametrize("mode", list(MODES))
def test_another_model_is_refused_in_one_line(tmp_path, monkeypatch, capsys, recorded_here, mode):
    """The full-width detector cannot take the narrow one's snapshot."""
    snapshot = recorded_here / f"snapshot_{mode}"
    status, err, caught = train(tmp_path, monkeypatch, capsys, *resume_args(tmp_path / "out", snapshot, mode),
                                narrow=False)
    assert status == 2, err
    first = {"static": "does not fit the program: shape mismatch conv2d_0.w_0 saved [2, 3, 3, 3], expected [16, 3, 3, 3]",
             "dygraph": "does not fit the model: shape mismatch heat.weight saved [3, 8, 1, 1], expected [3, 64, 1, 1]"}
    assert err.count("\n") == 1 and err.startswith("error: ") and first[mode] in err, err
    assert err.rstrip().endswith(" more)"), err  # the list is cut short
    assert caught == []
