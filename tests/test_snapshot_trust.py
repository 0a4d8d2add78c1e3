"""A snapshot cannot lie: its manifest's structure, its iteration against the directory and the saved
counter, another run's snapshot into an output with its own log, and final/ after a kill while it was written.

Every refusal is ``tools/train.py --resume`` on a copy of a finished run, resumed in place: exit status
2, one line, and every file of the output byte for byte as it was (the log equal to the uninterrupted run's).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from paddle_lr import rules
from paddle_lr.demo import fault, snapshot
from paddle_lr.tools import train as train_tool

import trainkit

MODES = [pytest.param((), id="static"), pytest.param(("--dygraph",), id="dygraph")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One uninterrupted tiny run per mode, by mode flags, and the dataset directory."""
    return trainkit.reference_runs(tmp_path_factory)


def contents(directory):
    """Every file under ``directory``: relative path -> bytes (FIFOs by their kind)."""
    found = {}
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_fifo():
            found[str(path.relative_to(directory))] = "fifo"
        elif path.is_file():
            found[str(path.relative_to(directory))] = path.read_bytes()
    return found


def edit_manifest(change):
    def damage(directory):
        path = directory / snapshot.MANIFEST
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))
    return damage


def set_key(key, value):
    return edit_manifest(lambda m: m.__setitem__(key, value))


def set_file(change):
    return edit_manifest(lambda m: change(m["files"]))


def write_manifest(text):
    def damage(directory):
        (directory / snapshot.MANIFEST).write_bytes(text)
    return damage


def big_manifest(directory):
    os.truncate(directory / snapshot.MANIFEST, rules.MAX_TEXT_BYTES + 1)


def fifo(name):
    def damage(directory):
        os.unlink(directory / name)
        os.mkfifo(directory / name)
    return damage


M = "snapshot {snap}: manifest.json"
PDPARAMS = "model.pdparams"
# id -> (damage of out/snapshot_4, the one line after "error: ")
CASES = {
    "iteration-negative": (set_key("iteration", -5), M + " iteration must be an integer >= 0, got -5"),
    "iteration-text": (set_key("iteration", "4"), M + " iteration must be an integer >= 0, got '4'"),
    "iteration-null": (set_key("iteration", None), M + " iteration must be an integer >= 0, got None"),
    "iteration-float": (set_key("iteration", 4.5), M + " iteration must be an integer >= 0, got 4.5"),
    "iteration-true": (set_key("iteration", True), M + " iteration must be an integer >= 0, got True"),
    "iteration-not-the-name": (set_key("iteration", 2),
                               M + " says iteration 2, the directory's name 4 (a damaged or moved snapshot)"),
    "iteration-missing": (edit_manifest(lambda m: m.pop("iteration")), M + " lacks iteration"),
    "format-true": (set_key("format", True), M + " format must be 1, got True"),
    "format-2": (set_key("format", 2), M + " format must be 1, got 2"),
    "mode-other": (set_key("mode", "tpu"), M + " mode must be one of static, dygraph, got 'tpu'"),
    "config-null": (set_key("config", None), M + " config must be a mapping, got None"),
    "config-list": (set_key("config", [1]), M + " config must be a mapping, got [1]"),
    "version-number": (set_key("paddle_version", 3), M + " paddle_version must be a string, got 3"),
    "files-list": (set_key("files", []), M + " files must be a non-empty mapping of file name to {bytes, sha256}, "
                                             "got []"),
    "files-empty": (set_key("files", {}), M + " files must be a non-empty mapping of file name to {bytes, sha256}, "
                                              "got {}"),
    "file-entry-list": (set_file(lambda f: f.__setitem__(PDPARAMS, [])),
                        M + " files['model.pdparams'] must be {bytes, sha256}, got []"),
    "file-bytes-text": (set_file(lambda f: f[PDPARAMS].__setitem__("bytes", "12")),
                        M + " files['model.pdparams'].bytes must be an integer >= 0, got '12'"),
    "file-bytes-negative": (set_file(lambda f: f[PDPARAMS].__setitem__("bytes", -1)),
                            M + " files['model.pdparams'].bytes must be an integer >= 0, got -1"),
    "file-sha-short": (set_file(lambda f: f[PDPARAMS].__setitem__("sha256", "abc")),
                       M + " files['model.pdparams'].sha256 must be 64 hex digits, got 'abc'"),
    "file-outside": (set_file(lambda f: f.__setitem__("../train_log.jsonl", f.pop(PDPARAMS))),
                     M + " files names '../train_log.jsonl', not a file of the snapshot directory"),
    "file-absolute": (set_file(lambda f: f.__setitem__("/etc/passwd", f.pop(PDPARAMS))),
                      M + " files names '/etc/passwd', not a file of the snapshot directory"),
    "top-level-list": (write_manifest(b"[1, 2]"), M + " must be a JSON object, got list"),
    "not-json": (write_manifest(b"{\"iteration\": "), M + " is unreadable: Expecting value: line 1 column 15 "
                                                         "(char 14)"),
    "not-utf8": (write_manifest(b"\xff\xfe"), M + " is unreadable: 'utf-8' codec can't decode byte 0xff in "
                                                  "position 0: invalid start byte"),
    "deep-nesting": (write_manifest(b"[" * 100000 + b"]" * 100000), M + " is unreadable: nested too deeply"),
    "too-big": (big_manifest, M + f": must be at most {rules.MAX_TEXT_BYTES} bytes, got '{{snap}}/manifest.json' "
                                  f"of {rules.MAX_TEXT_BYTES + 1} bytes"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lying_manifest_is_refused_with_nothing_touched(runs, tmp_path, capsys, case):
    dataset, ref = runs
    damage, message = CASES[case]
    out = tmp_path / "out"
    shutil.copytree(ref[()], out)
    snap = out / "snapshot_4"
    damage(snap)
    before = contents(out)
    assert train_tool.main(trainkit.train_args(dataset, out, "--resume", str(snap))) == 2
    assert capsys.readouterr().err == f"error: {message.replace('{snap}', str(snap))}\n"
    assert contents(out) == before
    assert trainkit.read_lines(out / "train_log.jsonl") == trainkit.read_lines(ref[()] / "train_log.jsonl")


@pytest.mark.parametrize("flags", MODES)
def test_a_manifest_moved_with_its_name_is_refused_by_the_counter(runs, tmp_path, capsys, flags):
    """snapshot_4's files under the name snapshot_6 with iteration 6: the name agrees, the saved counter does not."""
    dataset, ref = runs
    out = tmp_path / "out"
    shutil.copytree(ref[flags], out)
    shutil.rmtree(out / "snapshot_6")
    shutil.copytree(out / "snapshot_4", out / "snapshot_6")
    set_key("iteration", 6)(out / "snapshot_6")
    before = contents(out)
    assert train_tool.main(trainkit.train_args(dataset, out, *flags, "--resume", str(out / "snapshot_6"))) == 2
    assert capsys.readouterr().err == (f"error: snapshot {out / 'snapshot_6'}: manifest.json says iteration 6, "
                                       "the state saved in it 4 (a damaged or rewritten manifest)\n")
    assert contents(out) == before


def run_tool(args, timeout=120, **env):
    return subprocess.run([sys.executable, str(trainkit.TRAIN_PY), *args], capture_output=True, text=True,
                          env=trainkit.subprocess_env(**env), timeout=timeout)


@pytest.mark.parametrize("name", ["manifest.json", "model.pdopt"])
def test_a_fifo_in_a_snapshot_is_refused_without_blocking(runs, tmp_path, name):
    dataset, ref = runs
    out = tmp_path / "out"
    shutil.copytree(ref[()], out)
    snap = out / "snapshot_4"
    fifo(name)(snap)
    before = contents(out)
    done = run_tool(trainkit.train_args(dataset, out, "--resume", str(snap)))
    assert (done.returncode, done.stderr) == (
        2, f"error: snapshot {snap}: {name}: must be a regular file, got '{snap / name}' (a FIFO)\n")
    assert contents(out) == before


def test_another_runs_snapshot_into_an_output_with_its_own_log(runs, tmp_path, capsys):
    dataset, ref = runs
    other = tmp_path / "other"
    shutil.copytree(ref[()], other)
    (other / "train_log.jsonl").write_text('{"iter": 0, "lr": 1.0, "loss": 1.0}\n')  # a run of its own
    before = contents(other)
    snap = ref[()] / "snapshot_4"
    argv = trainkit.train_args(dataset, other, "--resume", str(snap))
    assert train_tool.main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: resume: {snap} is another run's snapshot and {other / 'train_log.jsonl'} is this output's own "
        "log: resuming would replace its lines from the snapshot's iteration on (and final/, eval.json); "
        "add --replace-log to do that, or give a new --output\n")
    assert contents(other) == before
    assert train_tool.main(argv + ["--replace-log"]) == 0
    # asked for: its own line of iteration 0 kept, 4-7 the snapshot's run's
    assert trainkit.read_lines(other / "train_log.jsonl") == \
        ['{"iter": 0, "lr": 1.0, "loss": 1.0}\n'] + trainkit.read_lines(ref[()] / "train_log.jsonl")[4:]


@pytest.mark.parametrize("flag", ["--trust-checkpoint", "--replace-log"])
def test_resume_flags_need_resume(tmp_path, capsys, flag):
    assert train_tool.main(trainkit.train_args(tmp_path / "data", tmp_path / "out", flag)) == 2
    assert capsys.readouterr().err == f"error: paddle-lr-train: {flag} needs --resume\n"


@pytest.mark.parametrize("option", ["--output", "--resume"])
def test_an_empty_path_is_refused(tmp_path, capsys, option):
    argv = trainkit.train_args(tmp_path / "data", tmp_path / "out") + [option, ""]
    assert train_tool.main(argv) == 2
    assert capsys.readouterr().err == f"error: {option}: must be a non-empty path, got ''\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags", MODES)
def test_a_kill_while_final_is_written_is_completed_by_the_resume(runs, tmp_path, flags):
    dataset, ref = runs
    out = tmp_path / "out"
    killed = run_tool(trainkit.train_args(dataset, out, *flags), timeout=300, **{fault.ENV: "final:8"})
    assert killed.returncode == -9, killed.stderr
    assert (out / ".final.tmp").is_dir() and not (out / "final").exists()
    done = run_tool(trainkit.train_args(dataset, out, *flags, "--resume", str(out)), timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"completed {out / 'final'} from {out / 'snapshot_8'}\n" in done.stdout
    assert not (out / ".final.tmp").exists()
    assert snapshot.verify_snapshot(out / "final")["iteration"] == 8
    assert trainkit.same_state(trainkit.load_state(out / "final"), trainkit.load_state(ref[flags] / "final")) == []
    assert trainkit.read_lines(out / "train_log.jsonl") == trainkit.read_lines(ref[flags] / "train_log.jsonl")
