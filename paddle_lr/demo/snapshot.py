"""Training snapshots that are either complete or absent, and checked before use.

A snapshot is a directory of state files (written by Paddle's own
``paddle.static.save`` or ``paddle.save``) and a ``manifest.json`` naming the
iteration, the run's cfg, the Paddle version, the IR and the size and sha256
of every file. :func:`write_snapshot` writes it into a temporary sibling,
fsyncs the files and the directory, then renames it into place, so a crash
leaves either the old state or the new one. :func:`verify_snapshot` refuses a
snapshot whose manifest is missing or unreadable or whose files do not match
it; :func:`find_snapshot` resolves ``--resume`` (one snapshot, or the newest
complete ``snapshot_*`` in a directory).
"""
import hashlib
import json
import os
import pathlib
import re
import shutil
import warnings

import paddle

from .. import pickles, rules
from ..graph import ir
from . import fault

__all__ = [
    "MANIFEST",
    "SnapshotError",
    "SnapshotWarning",
    "snapshot_dir",
    "write_snapshot",
    "verify_snapshot",
    "find_snapshot",
    "warn_other_version",
    "load_dygraph_state",
]

MANIFEST = "manifest.json"
_FORMAT = 1
_NAME = re.compile(r"^snapshot_(\d+)$")
_CHUNK = 1 << 20


class SnapshotError(rules.ConfigError):
    """A snapshot is missing, partial or damaged; the message is one line."""


class SnapshotWarning(UserWarning):
    """A resume to know about: a damaged snapshot skipped, another cfg, another Paddle version."""


def snapshot_dir(output, iteration):
    """The directory of the periodic snapshot after ``iteration`` iterations.

    Args:
        output (str or Path): the run's output directory.
        iteration (int): iterations done.

    Returns:
        pathlib.Path: ``<output>/snapshot_<iteration>``.
    """
    return pathlib.Path(output) / f"snapshot_{iteration}"


def _sha256(file):
    """The sha256 of a path or of an open binary file (read from where it is)."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return _sha256(f)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_snapshot(directory, iteration, config, mode, save, point="snapshot"):
    """Write a snapshot atomically: temporary sibling, fsync, rename.

    An existing snapshot at ``directory`` is replaced.

    Args:
        directory (str or Path): where the snapshot ends up.
        iteration (int): iterations done (the iteration a resumed run starts at).
        config (dict): the run's cfg, recorded in the manifest.
        mode (str): ``"static"`` or ``"dygraph"``: who can load the state files.
        save (callable): ``save(tmp_dir)`` writes the state files into ``tmp_dir``.
        point (str): its fault-injection point (:mod:`.fault`): ``snapshot``, or
            ``final`` for the run's last one.

    Returns:
        pathlib.Path: ``directory``.
    """
    directory = pathlib.Path(directory)
    tmp = directory.with_name(f".{directory.name}.tmp")
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save(tmp)
    fault.point(point, iteration)
    files = {}
    for path in sorted(tmp.iterdir()):
        _fsync_file(path)
        files[path.name] = dict(bytes=path.stat().st_size, sha256=_sha256(path))
    manifest = dict(
        format=_FORMAT,
        iteration=iteration,
        mode=mode,
        paddle_version=paddle.__version__,
        ir=ir.ir_name(),
        config=dict(config),
        files=files,
    )
    with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.rename(directory, old)
    os.rename(tmp, directory)
    _fsync_dir(directory.parent)
    shutil.rmtree(old, ignore_errors=True)
    return directory


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
    if type(manifest["format"]) is not int or manifest["format"] != _FORMAT:
        return f"format must be {_FORMAT}, got {rules.shown(manifest['format'])}"
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
    numbered = _NAME.match(directory.name)
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
        digest = _sha256(f)
        if digest != expected["sha256"]:
            raise SnapshotError(
                f"snapshot {directory}: {name} fails its sha256 check "
                f"(manifest {expected['sha256'][:12]}..., file {digest[:12]}...; damaged)"
            )


def find_snapshot(path):
    """Resolve ``--resume``: one snapshot, or the newest complete ``snapshot_*`` in a directory.

    A directory with a manifest is one snapshot and must be complete. Otherwise its
    ``snapshot_<N>`` subdirectories are tried from the largest ``N`` down; damaged
    ones are skipped with a :class:`SnapshotWarning`.

    Args:
        path (str or Path): a snapshot directory or a directory holding ``snapshot_*``.

    Returns:
        tuple: ``(pathlib.Path, dict)``, the snapshot directory and its manifest.

    Raises:
        SnapshotError: ``path`` is missing, the snapshot is damaged, or no
            ``snapshot_*`` in it is complete.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise SnapshotError(f"resume: {path} does not exist")
    candidates = sorted(
        (int(m.group(1)), child)
        for child in (path.iterdir() if path.is_dir() else ())
        if child.is_dir() and (m := _NAME.match(child.name))
    )
    if (path / MANIFEST).exists() or not candidates:
        return path, verify_snapshot(path)
    for _, child in reversed(candidates):
        try:
            return child, verify_snapshot(child)
        except SnapshotError as exc:
            warnings.warn(f"resume: skipping {exc}", SnapshotWarning, stacklevel=2)
    raise SnapshotError(f"resume: {path} holds no complete snapshot_* directory")


def warn_other_version(directory, manifest):
    """Warn in one line when a snapshot was written by another Paddle version.

    The lr schedule, the counter and every saved tensor carry over exactly;
    Paddle's float kernels differ between versions, so the losses differ in
    the last bits from the first step and drift apart from there, as two
    uninterrupted runs on the two versions do (docs/checkpoints.md measures it).

    Args:
        directory (str or Path): the snapshot, for the message.
        manifest (dict): its manifest (``paddle_version``, ``ir``).

    Returns:
        bool: whether it warned.
    """
    written = manifest.get("paddle_version")
    if written is None or written == paddle.__version__:
        return False
    warnings.warn(
        f"resume: {directory} was written by paddlepaddle {written} ({manifest.get('ir', 'unknown')} IR), "
        f"this is {paddle.__version__} ({ir.ir_name()} IR): the state and the lr carry over exactly; "
        "the losses differ in the last bits at first and drift from there (docs/checkpoints.md)",
        SnapshotWarning,
        stacklevel=3,
    )
    return True


def _meta(value):
    from paddle.base.data_feeder import convert_dtype

    return tuple(int(d) for d in value.shape), convert_dtype(value.dtype)


def _paddle_load(directory, name, trusted):
    try:
        return pickles.paddle_load(pathlib.Path(directory) / name, trusted, f"snapshot {directory}: {name}")
    except rules.ConfigError:  # refused (a global Paddle never writes, a FIFO): its own line
        raise
    except Exception as exc:  # pickle, EOF, Paddle's own errors: all mean unreadable
        text = " ".join(str(exc).split())[:160]
        raise SnapshotError(f"snapshot {directory}: {name} is unreadable ({type(exc).__name__}: {text})") from None


def load_dygraph_state(directory, layer, optimizer, prefix="model", trusted=False):
    """Restore a dygraph snapshot's layer and optimizer state, checked before anything is set.

    ``<prefix>.pdparams`` must hold exactly the layer's state-dict entries with
    their shapes and dtypes; ``<prefix>.pdopt`` the scheduler's state
    (``LR_Scheduler``) and accumulators named after the layer's parameters, of
    their shapes. Otherwise nothing is set.

    Args:
        directory (str or Path): the snapshot directory.
        layer (paddle.nn.Layer): the model.
        optimizer (paddle.optimizer.Optimizer): its optimizer.
        prefix (str): the state files' name.
        trusted (bool): read the pickles with Paddle's own loader, which runs
            whatever code they name; by default only what Paddle's save writes
            is admitted (:mod:`paddle_lr.pickles`).

    Returns:
        None.

    Raises:
        SnapshotError: one line naming every entry that does not fit, or the
            file that cannot be read.
        UntrustedPickleError: a file asks for a global Paddle's save never
            writes; nothing was loaded.
    """
    from ..checkpoint import misfit

    params = _paddle_load(directory, f"{prefix}.pdparams", trusted)
    opt = _paddle_load(directory, f"{prefix}.pdopt", trusted)
    if not isinstance(params, dict) or not isinstance(opt, dict):
        raise SnapshotError(f"snapshot {directory}: {prefix}.pdparams/.pdopt do not hold state dicts")
    own = {name: _meta(value) for name, value in layer.state_dict().items()}
    saved = {name: _meta(value) for name, value in params.items() if hasattr(value, "shape")}
    saved.update({name: ((), type(value).__name__) for name, value in params.items() if not hasattr(value, "shape")})
    parts = misfit(saved, own)
    by_param = {p.name: _meta(p) for p in layer.parameters()}
    strays = []
    for name, value in opt.items():
        if name == "LR_Scheduler":
            continue
        owner = next((p for p in by_param if name.startswith(p + "_")), None)
        if owner is None or not hasattr(value, "shape") or _meta(value)[0] != by_param[owner][0]:
            strays.append(name)
    if strays and not parts:  # a layer that does not fit has no accumulators to speak of
        parts.append(f"optimizer state of no parameter {', '.join(sorted(strays)[:8])}"
                     + (f", ... ({len(strays) - 8} more)" if len(strays) > 8 else ""))
    if not isinstance(opt.get("LR_Scheduler"), dict):
        parts.append("no LR_Scheduler state in the optimizer file")
    if parts:
        raise SnapshotError(f"snapshot {directory}: does not fit the model: {'; '.join(parts)}")
    layer.set_state_dict(params)
    optimizer.set_state_dict(opt)
