"""Snapshots: atomic writes, manifest checks, the newest complete one, and the log cut on resume."""
import contextlib
import hashlib
import json

import paddle
import pytest

from paddle_lr.demo import snapshot, train_log
from paddle_lr.demo.snapshot import SnapshotError, SnapshotWarning
from paddle_lr.tools import train as train_tool

import trainkit

CONFIG = {"max_iter": 8, "lr_steps": [5, 7]}


def save_two_files(directory):
    (directory / "model.pdparams").write_bytes(bytes(range(256)) * 4)
    (directory / "model.pdopt").write_bytes(b"optimizer state")


def write(output, iteration, name=None):
    target = output / (name or f"snapshot_{iteration}")
    return snapshot.write_snapshot(target, iteration, CONFIG, "static", save_two_files)


def test_manifest_records_iteration_cfg_and_checksums(tmp_path):
    directory = write(tmp_path, 4)
    manifest = snapshot.verify_snapshot(directory)
    assert (manifest["iteration"], manifest["mode"], manifest["config"]) == (4, "static", CONFIG)
    assert manifest["paddle_version"] == paddle.__version__
    assert manifest["ir"] == {"2": "legacy", "3": "pir"}[paddle.__version__.split(".")[0]]
    assert manifest["files"]["model.pdopt"] == {
        "bytes": 15, "sha256": hashlib.sha256(b"optimizer state").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot_4"]


def test_rewrite_replaces_and_leaves_no_temporaries(tmp_path):
    write(tmp_path, 4)
    (tmp_path / ".snapshot_4.tmp").mkdir()  # left by a crash during an earlier write
    write(tmp_path, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot_4"]
    assert snapshot.verify_snapshot(tmp_path / "snapshot_4")["iteration"] == 4


def truncate(directory):
    path = directory / "model.pdparams"
    path.write_bytes(path.read_bytes()[:100])


def flip_a_byte(directory):
    path = directory / "model.pdparams"
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))


def drop_manifest(directory):
    (directory / "manifest.json").unlink()


def drop_file(directory):
    (directory / "model.pdopt").unlink()


def garble_manifest(directory):
    (directory / "manifest.json").write_text('{"format": 1, "iteration": ')


def unknown_format(directory):
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps(dict(manifest, format=9)))


DAMAGE = [
    pytest.param(truncate, "model.pdparams has 100 bytes, the manifest says 1024 (truncated or damaged)",
                 id="truncated-file"),
    pytest.param(flip_a_byte, "model.pdparams fails its sha256 check (manifest ", id="bad-checksum"),
    pytest.param(drop_manifest, "no manifest.json (partial or not a snapshot)", id="missing-manifest"),
    pytest.param(drop_file, "model.pdopt is missing", id="missing-file"),
    pytest.param(garble_manifest, "manifest.json is unreadable: ", id="unreadable-manifest"),
    pytest.param(unknown_format, "manifest.json format must be 1, got 9", id="unknown-format"),
]


@pytest.mark.parametrize("damage, message", DAMAGE)
def test_damaged_snapshot_is_refused(tmp_path, damage, message):
    directory = write(tmp_path, 4)
    damage(directory)
    with pytest.raises(SnapshotError) as info:
        snapshot.find_snapshot(directory)
    text = str(info.value)
    assert text.startswith(f"snapshot {directory}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("damage, message", DAMAGE)
def test_newest_complete_snapshot_is_picked(tmp_path, damage, message):
    for iteration in (2, 4, 6):
        write(tmp_path, iteration)
    damage(tmp_path / "snapshot_6")
    (tmp_path / ".snapshot_8.tmp").mkdir()  # an interrupted write
    with pytest.warns(SnapshotWarning) as caught:
        directory, manifest = snapshot.find_snapshot(tmp_path)
    assert (directory, manifest["iteration"]) == (tmp_path / "snapshot_4", 4)
    assert [str(w.message) for w in caught] == [f"resume: skipping snapshot {tmp_path / 'snapshot_6'}: " +
                                                str(_error_of(tmp_path / "snapshot_6"))]
    assert message in str(caught[0].message)


def _error_of(directory):
    with pytest.raises(SnapshotError) as info:
        snapshot.verify_snapshot(directory)
    return str(info.value).split(": ", 1)[1]


def test_numeric_order_not_text_order(tmp_path):
    for iteration in (9, 10, 100):
        write(tmp_path, iteration)
    assert snapshot.find_snapshot(tmp_path)[1]["iteration"] == 100


@pytest.mark.parametrize("layout, message", [
    ("missing", "resume: {path} does not exist"),
    ("empty", "snapshot {path}: no manifest.json (partial or not a snapshot)"),
    ("all-damaged", "resume: {path} holds no complete snapshot_* directory"),
])
def test_nothing_to_resume(tmp_path, layout, message):
    path = tmp_path / "out"
    if layout != "missing":
        path.mkdir()
    if layout == "all-damaged":
        drop_manifest(write(path, 2))
        truncate(write(path, 4))
    with pytest.warns(SnapshotWarning) if layout == "all-damaged" else contextlib.nullcontext():
        with pytest.raises(SnapshotError) as info:
            snapshot.find_snapshot(path)
    assert str(info.value) == message.format(path=path)


def test_train_refuses_a_damaged_snapshot_with_one_line(tmp_path, capsys):
    directory = write(tmp_path / "out", 4)
    flip_a_byte(directory)
    argv = trainkit.train_args(tmp_path / "data", tmp_path / "out", "--resume", str(directory))
    assert train_tool.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: snapshot {directory}: model.pdparams fails its sha256 check")
    assert err.count("\n") == 1


@pytest.mark.parametrize("tail, kept", [
    ("", 4),
    ('{"iter": 4, "lr": 0.01, "lo', 4),  # a line cut short by a crash
    ('{"iter": 4, "lr": 0.01, "loss": 1.0}\n{"iter": 5, "lr": 0.01, "loss": 1.0}\n', 4),
])
def test_log_is_cut_back_to_the_snapshot(tmp_path, tail, kept):
    path = tmp_path / "train_log.jsonl"
    head = "".join(json.dumps({"iter": i, "lr": 0.01, "loss": 1.0}) + "\n" for i in range(4))
    path.write_text(head + tail)
    with train_log.TrainLog(path, 4) as log:
        log.write(4, 0.5, 2.0)
    assert path.read_text() == head + '{"iter": 4, "lr": 0.5, "loss": 2.0}\n'
    assert len(train_log.read_log(path)) == kept + 1
