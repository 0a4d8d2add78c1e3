"""The snapshot manifest: what makes a directory of state files a complete, undamaged snapshot.

A snapshot (written by the demo trainer, :mod:`paddle_lr.demo.snapshot`) is a
directory of state files and a ``manifest.json`` naming the iteration, the
run's cfg, the Paddle version, the IR and the size and sha256 of every file.
:func:`paddle_lr.load_checkpoint` reads static snapshots, so the format and
its check live here, in the library; writing one is the trainer's.
"""
import hashlib
import json
import os
import pathlib
import re

import paddle

from . import rules
from .graph import ir

__all__ = ["MANIFEST", "FORMAT", "SNAPSHOT_NAME", "SnapshotError", "sha256", "runtime", "verify_snapshot"]

MANIFEST = "manifest.json"
FORMAT = 1
"""The manifest's ``format``; a manifest of another format is refused."""
SNAPSHOT_NAME = re.compile(r"^snapshot_(\d+)$")
"""A periodic snapshot's directory name; its number must be the manifest's iteration."""
_CHUNK = 1 << 20


class SnapshotError(rules.ConfigError):
    """A snapshot is missing, partial or damaged; the message is one line."""


def sha256(file) -> str:
    """The sha256 of a path or of an open binary file (read from where it is)."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return sha256(f)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def runtime() -> dict:
    """What a manifest records of the Paddle that writes it: ``paddle_version`` and ``ir``."""
    return dict(paddle_version=paddle.__version__, ir=ir.ir_name())


_KEYS = ("format", "iteration", "mode", "config", "files")
_MODES = ("static", "dygraph")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _count(value):
    """A count the manifest records: a non-negative int, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _manifest_problem(manifest):
    """What is wrong with a manifest's structure, or None: one phrase for the message."""
    if not isinstance(manifest, dict):
        return f"must be a JSON object, got {type(manifest).__name__}"
    missing = [k for k in _KEYS if k not in manifest]
    if missing:
        return f"lacks {', '.join(missing)}"
    if type(manifest["format"]) is not int or manifest["format"] != FORMAT:
        return f"format must be {FORMAT}, got {rules.shown(manifest['format'])}"
    if not _count(manifest["iteration"]):
        return f"iteration must be an integer >= 0, got {rules.shown(manifest['iteration'])}"
    if manifest["mode"] not in _MODES:
        return f"mode must be one of {', '.join(_MODES)}, got {rules.shown(manifest['mode'])}"
    if not isinstance(manifest["config"], dict):
        return f"config must be a mapping, got {rules.shown(manifest['config'])}"
    for key in ("paddle_version", "ir"):
        if key in manifest and not isinstance(manifest[key], str):
            return f"{key} must be a string, got {rules.shown(manifest[key])}"
    files = manifest["files"]
    if not isinstance(files, dict) or not files:
        return f"files must be a non-empty mapping of file name to {{bytes, sha256}}, got {rules.shown(files)}"
    for name, entry in files.items():
        if name in ("", ".", "..", MANIFEST) or "/" in name or "\\" in name or "\0" in name:
            return f"files names {rules.shown(name)}, not a file of the snapshot directory"
        if not isinstance(entry, dict) or set(entry) != {"bytes", "sha256"}:
            return f"files[{rules.shown(name)}] must be {{bytes, sha256}}, got {rules.shown(entry)}"
        if not _count(entry["bytes"]):
            return f"files[{rules.shown(name)}].bytes must be an integer >= 0, got {rules.shown(entry['bytes'])}"
        if not isinstance(entry["sha256"], str) or not _SHA256.match(entry["sha256"]):
            return f"files[{rules.shown(name)}].sha256 must be 64 hex digits, got {rules.shown(entry['sha256'])}"
    return None


def _read_manifest(directory):
    path = directory / MANIFEST
    if not directory.is_dir():
        raise SnapshotError(f"snapshot {directory}: not a directory")
    if not os.path.lexists(path):
        raise SnapshotError(f"snapshot {directory}: no {MANIFEST} (partial or not a snapshot)")
    data = rules.read_regular(f"snapshot {directory}: {MANIFEST}", path, max_bytes=rules.MAX_TEXT_BYTES)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested past the parser's depth
        text = "nested too deeply" if isinstance(exc, RecursionError) else rules.one_line(exc)
        raise SnapshotError(f"snapshot {directory}: {MANIFEST} is unreadable: {text}") from None
    problem = _manifest_problem(manifest)
    if problem is not None:
        raise SnapshotError(f"snapshot {directory}: {MANIFEST} {problem}")
    numbered = SNAPSHOT_NAME.match(directory.name)
    if numbered is not None and int(numbered.group(1)) != manifest["iteration"]:
        raise SnapshotError(
            f"snapshot {directory}: {MANIFEST} says iteration {manifest['iteration']}, "
            f"the directory's name {numbered.group(1)} (a damaged or moved snapshot)"
        )
    return manifest


def verify_snapshot(directory):
    """The manifest of a complete, undamaged snapshot.

    Args:
        directory (str or Path): a snapshot directory.

    Returns:
        dict: its manifest (``iteration``, ``mode``, ``config``, ``files``, ...).

    Raises:
        SnapshotError: (a :class:`~paddle_lr.rules.ConfigError`) one line naming
            the snapshot and what is wrong: no manifest, an unreadable manifest, a
            missing file, a file of the wrong size or checksum.
    """
    directory = pathlib.Path(directory)
    try:
        manifest = _read_manifest(directory)
        for name, expected in sorted(manifest["files"].items()):
            _verify_file(directory, name, expected)
    except OSError as exc:  # a file or directory that cannot be read or searched
        raise SnapshotError(f"snapshot {directory}: cannot read {exc.filename or directory}: "
                            f"{exc.strerror or exc}") from None
    return manifest


def _verify_file(directory, name, expected):
    path = directory / name
    if not os.path.lexists(path):
        raise SnapshotError(f"snapshot {directory}: {name} is missing")
    # a FIFO or a device is refused before it is read (it would block or never end)
    with rules.open_regular(f"snapshot {directory}: {name}", path) as f:
        size = os.fstat(f.fileno()).st_size
        if size != expected["bytes"]:
            raise SnapshotError(
                f"snapshot {directory}: {name} has {size} bytes, the manifest says "
                f"{expected['bytes']} (truncated or damaged)"
            )
        digest = sha256(f)
        if digest != expected["sha256"]:
            raise SnapshotError(
                f"snapshot {directory}: {name} fails its sha256 check "
                f"(manifest {expected['sha256'][:12]}..., file {digest[:12]}...; damaged)"
            )
