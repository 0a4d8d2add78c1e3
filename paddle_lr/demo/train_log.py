"""The per-iteration training log, ``train_log.jsonl``: one JSON object a line.

Lines are appended and flushed one iteration at a time, so after a crash the
file may hold iterations past the last snapshot, and its last line may be cut
short. :class:`TrainLog` therefore first cuts the file back to the iteration a
run starts from, dropping any unfinished line, so a resumed run never writes
an iteration twice.
"""
import json
import os
import pathlib

from .. import rules
from . import fault

__all__ = ["read_log", "truncate_log", "TrainLog"]


def read_log(path):
    """The complete records of a log; an unfinished last line is left out.

    Args:
        path (str or Path): a ``train_log.jsonl``.

    Returns:
        list[dict]: the records in file order (empty when the file is missing).
    """
    path = pathlib.Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return records


def truncate_log(path, iteration):
    """Keep only the records of iterations before ``iteration``, replacing the file atomically.

    Args:
        path (str or Path): a ``train_log.jsonl`` (may be missing).
        iteration (int): the first iteration to drop (0 empties the log).

    Returns:
        int: the number of records kept.
    """
    path = pathlib.Path(path)
    kept = [r for r in read_log(path) if r["iter"] < iteration]
    tmp = path.with_name(path.name + ".tmp")
    try:
        with rules.naming(tmp), open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in kept)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk: the log as it was, no temporary file
        tmp.unlink(missing_ok=True)
        raise
    return len(kept)


class TrainLog:
    """Append-only writer of ``train_log.jsonl`` for a run starting at ``start``.

    Args:
        path (str or Path): the log file.
        start (int): the first iteration this run will write; earlier records are
            kept, later ones (and a cut-short last line) are dropped.
    """

    def __init__(self, path, start):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        truncate_log(self.path, start)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, iteration, lr, loss):
        """Append and flush one record.

        Args:
            iteration (int): the iteration, counted from 0.
            lr (float): the learning rate the step used.
            loss (float): the step's loss.

        Returns:
            None.
        """
        line = json.dumps({"iter": iteration, "lr": lr, "loss": loss}) + "\n"
        if fault.armed("log", iteration):
            self._file.write(line[: len(line) // 2])
            self._file.flush()
            fault.kill()
        with rules.naming(self.path):
            self._file.write(line)
            self._file.flush()

    def close(self):
        """Close the file.

        Returns:
            None.
        """
        with rules.naming(self.path):  # the last buffered bytes, on a full disk
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
