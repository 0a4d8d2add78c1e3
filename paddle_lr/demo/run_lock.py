"""One trainer per output directory: an advisory ``flock`` on the directory itself.

A second trainer started on the same ``--output`` while the first runs would
interleave its log lines and snapshots with the first's. :func:`output_lock`
takes an exclusive, non-blocking ``fcntl.flock`` on the output directory before
anything else is written there, and the second trainer gets
:class:`OutputBusyError` (one line; ``tools/train.py`` exits 2) without touching
the first one's files. The lock is on the directory, so no lock file is left
in it; the kernel drops the lock when the holder exits, however it exits
(SIGKILL included), so a crashed run never leaves a stale lock.
"""
import contextlib
import fcntl
import os
import pathlib
from typing import Iterator, Union

from .. import rules

__all__ = ["OutputBusyError", "output_lock"]


class OutputBusyError(rules.ConfigError):
    """Another trainer holds the output directory; the message is one line."""


@contextlib.contextmanager
def output_lock(output: Union[str, os.PathLike], take: bool = True) -> Iterator[pathlib.Path]:
    """Hold an exclusive lock on the output directory for the duration of a run.

    Args:
        output (str or Path): the run's output directory (created when missing).
        take (bool): False on processes that do not write there (ranks > 0): then
            nothing is locked or created.

    Yields:
        pathlib.Path: the output directory.

    Raises:
        OutputBusyError: another process holds the lock; nothing was written.
        ConfigError: the directory cannot be created or opened.
    """
    output = pathlib.Path(output)
    if not take:
        yield output
        return
    try:
        output.mkdir(parents=True, exist_ok=True)
        # Not inherited by child processes: a child outliving the trainer must not keep the lock.
        fd = os.open(output, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise rules.ConfigError(f"--output: cannot use {output}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusyError(
                f"--output: {output} is in use by another trainer; "
                "give another --output, or wait for that run to end"
            ) from None
        try:
            yield output
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
