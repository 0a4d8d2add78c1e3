"""Training snapshots that are either complete or absent, and checked before use.

A snapshot is a directory of state files (written by Paddle's own
``paddle.static.save`` or ``paddle.save``) and a ``manifest.json`` naming the
iteration, the run's cfg, the Paddle version, the IR and the size and sha256
of every file. :func:`write_snapshot` writes it into a temporary sibling,
fsyncs the files and the directory, then renames it into place, so a crash
leaves either the old state or the new one. :func:`verify_snapshot`
(:mod:`paddle_lr.manifest`, the format the library reads) refuses a
snapshot whose manifest is missing or unreadable or whose files do not match
it; :func:`find_snapshot` resolves ``--resume`` (one snapshot, or the newest
complete ``snapshot_*`` in a directory).
"""
import json
import os
import pathlib
import shutil
import warnings

from .. import pickles, rules
from ..checkpoint import misfit
from ..manifest import FORMAT, MANIFEST, SNAPSHOT_NAME, SnapshotError, runtime, sha256, verify_snapshot
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
    try:
        save(tmp)
        fault.point(point, iteration)
        _write_manifest(tmp, iteration, config, mode)
    except BaseException as exc:  # a full disk, Ctrl-C: no temporary directory is left behind
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.filename is None:  # a write that failed says where
            raise OSError(exc.errno, exc.strerror or str(exc), str(tmp)) from None
        raise
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.rename(directory, old)
    os.rename(tmp, directory)
    _fsync_dir(directory.parent)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def _write_manifest(tmp, iteration, config, mode):
    files = {}
    for path in sorted(tmp.iterdir()):
        _fsync_file(path)
        size = path.stat().st_size
        if size == 0:  # 3.3.1's program writer returns normally on a full disk, leaving 0 bytes
            raise OSError(28, "0 bytes written (no space left on the device?)", str(path))
        files[path.name] = dict(bytes=size, sha256=sha256(path))
    manifest = dict(
        format=FORMAT,
        iteration=iteration,
        mode=mode,
        **runtime(),
        config=dict(config),
        files=files,
    )
    with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(tmp)


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
        if child.is_dir() and (m := SNAPSHOT_NAME.match(child.name))
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
    written, this = manifest.get("paddle_version"), runtime()
    if written is None or written == this["paddle_version"]:
        return False
    warnings.warn(
        f"resume: {directory} was written by paddlepaddle {written} ({manifest.get('ir', 'unknown')} IR), "
        f"this is {this['paddle_version']} ({this['ir']} IR): the state and the lr carry over exactly; "
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
