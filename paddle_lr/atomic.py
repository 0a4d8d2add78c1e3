"""Replacing a set of files (a checkpoint prefix's ``.pdparams``, ``.pdopt``, program file) as one.

No file system renames several files at once, so :func:`replace_set` commits
through a marker, as a journal does:

1. ``write(tmp_prefix)`` writes the new files in ``.<name>.saving/`` next to
   the prefix; each is checked (not empty, a pickle ends with its STOP
   opcode, since a writer on a full disk can return normally with a short
   file) and fsynced, then the directory;
2. the marker ``.<name>.commit`` (the list of the files) is written to a
   temporary name, fsynced and renamed into place: this is the commit;
3. each file is renamed over its old one, then the marker and the temporary
   directory are removed.

A kill before 2 leaves the old files untouched (the next save removes the
temporary directory); a kill after it leaves a commit that :func:`settle`
completes (the next save or load calls it first), so a reader through
:func:`settle` sees either the old set or the new one, whole.
"""
import json
import os
import pathlib
import shutil
from typing import Callable, List

__all__ = ["replace_set", "settle", "saving_dir", "commit_marker"]

_PICKLE_SUFFIXES = (".pdparams", ".pdopt")
_STOP = b"."


def saving_dir(prefix) -> pathlib.Path:
    """The temporary directory a save of ``prefix`` writes into."""
    prefix = pathlib.Path(prefix)
    return prefix.with_name(f".{prefix.name}.saving")


def commit_marker(prefix) -> pathlib.Path:
    """The marker that commits a save of ``prefix``."""
    prefix = pathlib.Path(prefix)
    return prefix.with_name(f".{prefix.name}.commit")


def _fsync_path(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_written(path):
    size = path.stat().st_size
    if size == 0:
        raise OSError(28, "0 bytes written (no space left on the device?)", str(path))
    if path.suffix in _PICKLE_SUFFIXES:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != _STOP:
                raise OSError(28, "the pickle is cut short (no space left on the device?)", str(path))


def settle(prefix) -> bool:
    """Complete a committed save of ``prefix`` that a kill interrupted.

    Args:
        prefix (str or Path): the checkpoint prefix.

    Returns:
        bool: whether there was one to complete.
    """
    marker, tmp = commit_marker(prefix), saving_dir(prefix)
    if not marker.is_file():
        return False
    names = json.loads(marker.read_text(encoding="utf-8"))
    for name in names:
        if (tmp / name).exists():
            os.replace(tmp / name, marker.parent / name)
    _fsync_path(marker.parent, directory=True)
    os.unlink(marker)
    shutil.rmtree(tmp, ignore_errors=True)
    _fsync_path(marker.parent, directory=True)
    return True


def replace_set(prefix, write: Callable[[pathlib.Path], None]) -> List[str]:
    """Write a prefix's files with ``write`` and replace the old ones as a set.

    Args:
        prefix (str or Path): the prefix (``dir/model``).
        write (callable): ``write(tmp_prefix)`` writes ``tmp_prefix.<suffix>`` files.

    Returns:
        list[str]: the names of the files written.

    Raises:
        OSError: a write failed or left a short file; the temporary directory
            is removed and the old files are untouched.
    """
    prefix = pathlib.Path(prefix)
    settle(prefix)
    tmp, marker = saving_dir(prefix), commit_marker(prefix)
    pending = marker.with_name(marker.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp / prefix.name)
        names = sorted(p.name for p in tmp.iterdir())
        for name in names:
            _check_written(tmp / name)
            _fsync_path(tmp / name)
        _fsync_path(tmp, directory=True)
        with open(pending, "w", encoding="utf-8") as f:
            json.dump(names, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, marker)
    _fsync_path(prefix.parent, directory=True)
    settle(prefix)
    return names
